//! Replays the committed `fuzz/corpus/claude_parser` inputs through the check the fuzz target
//! runs (the parser, then the policy stage), on stable: CI checks every input without
//! nightly.

#[path = "../../../fuzz/src/claude_checks.rs"]
mod checks;

use std::path::PathBuf;

#[test]
fn claude_parser_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/claude_parser");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    let scratch = tempfile::tempdir().unwrap();
    for p in inputs {
        let data = std::fs::read(&p).unwrap();
        if std::panic::catch_unwind(|| checks::claude_parser(scratch.path(), &data)).is_err() {
            panic!("{} fails its check", p.display());
        }
    }
}
