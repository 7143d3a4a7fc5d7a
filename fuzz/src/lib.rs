//! The checks the fuzz targets run. The same files are compiled into the stable tests that
//! replay the committed corpora (`crates/policy/tests/fuzz_corpus.rs`,
//! `crates/sources/tests/fuzz_corpus.rs`), so CI checks the corpora without nightly.

pub mod claude_checks;
pub mod policy_checks;
