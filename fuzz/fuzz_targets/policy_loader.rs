//! The rule loader on any policy file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sessiontrail_fuzz::policy_checks::policy_loader(data));
