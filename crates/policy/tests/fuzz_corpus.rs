//! Replays the committed fuzz corpora (`fuzz/corpus/{shell,redactor,policy_loader}`) through
//! the checks the fuzz targets run, on stable: CI checks every input without nightly.

#[path = "../../../fuzz/src/policy_checks.rs"]
mod checks;

use std::path::PathBuf;

/// The inputs of one target's corpus, by file name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

fn replay(target: &str, check: fn(&[u8])) {
    for (name, data) in corpus(target) {
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("fuzz/corpus/{target}/{name} fails its check");
        }
    }
}

#[test]
fn shell_corpus() {
    replay("shell", checks::shell);
}

#[test]
fn redactor_corpus() {
    replay("redactor", checks::redactor);
}

#[test]
fn policy_loader_corpus() {
    replay("policy_loader", checks::policy_loader);
}
