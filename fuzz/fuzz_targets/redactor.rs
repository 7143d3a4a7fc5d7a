//! The secret redactor's spans and idempotence on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiontrail_fuzz::policy_checks::{redactor, redactor_instance};

fuzz_target!(
    init: {
        let _ = redactor_instance();
    },
    |data: &[u8]| redactor(data)
);
