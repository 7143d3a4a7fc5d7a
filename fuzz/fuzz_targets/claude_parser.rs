//! The Claude Code parser and the policy stage on one transcript file.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sessiontrail_fuzz::claude_checks::{claude_parser, options};

/// One scratch folder per process; the transcript in it is rewritten for every input.
fn scratch() -> &'static tempfile::TempDir {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(|| tempfile::tempdir().expect("a scratch folder"))
}

fuzz_target!(
    init: {
        let _ = options();
        let _ = scratch();
    },
    |data: &[u8]| claude_parser(scratch().path(), data)
);
