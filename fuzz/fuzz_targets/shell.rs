//! The shell splitter on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sessiontrail_fuzz::policy_checks::shell(data));
