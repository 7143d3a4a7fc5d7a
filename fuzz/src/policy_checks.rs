//! Fuzz checks of the policy crate: the shell splitter, the secret redactor and the rule
//! loader. Each takes the raw input bytes and panics when an invariant does not hold.
//!
//! Shared by the fuzz targets (`fuzz/fuzz_targets/`) and the stable corpus replay
//! (`crates/policy/tests/fuzz_corpus.rs`, which includes this file by path).

use std::sync::OnceLock;

use sessiontrail_policy::{RuleSet, SecretRedactor, shell};

/// The redactor, built once per process with every format compiled (its regexes compile on
/// first use otherwise, which would count against the first input that needs each).
pub fn redactor_instance() -> &'static SecretRedactor {
    static R: OnceLock<SecretRedactor> = OnceLock::new();
    R.get_or_init(|| {
        let r = SecretRedactor::new();
        let failed = r.compile_all();
        assert!(failed.is_empty(), "formats that do not compile: {failed:?}");
        r
    })
}

/// `shell::commands` and `shell::simple_commands` on any text: they never panic and agree.
pub fn shell(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let cmds = shell::commands(&line);
    let simple = shell::simple_commands(&line);
    assert_eq!(
        cmds.len(),
        simple.len(),
        "commands and simple_commands disagree"
    );
    for (c, s) in cmds.iter().zip(&simple) {
        assert_eq!(
            s.len(),
            c.words.len() + c.redirects.len(),
            "simple_commands is words then redirection targets"
        );
        for w in &c.words {
            let _ = shell::basename(w);
        }
        let _ = shell::inline_code(c);
    }
}

/// `SecretRedactor::find` and `redact_str`: spans sorted, not overlapping, inside the text
/// and on char boundaries; redacting the redacted text again changes nothing.
pub fn redactor(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let r = redactor_instance();
    let spans = r.find(&text);
    let mut prev_end = 0;
    for &(start, end, kind) in &spans {
        assert!(
            start < end,
            "empty span {start}..{end} ({kind}) in {text:?}"
        );
        assert!(
            end <= text.len(),
            "span {start}..{end} ({kind}) outside the text of {} bytes",
            text.len()
        );
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "span {start}..{end} ({kind}) not on char boundaries in {text:?}"
        );
        assert!(
            start >= prev_end,
            "span {start}..{end} ({kind}) overlaps or precedes the one ending at {prev_end} in {spans:?}"
        );
        prev_end = end;
    }
    let (out, findings) = r.redact_str(&text);
    assert_eq!(
        findings.len(),
        spans.len(),
        "find and redact_str disagree on {text:?}"
    );
    if spans.is_empty() {
        assert_eq!(out, text, "nothing found but the text changed");
    }
    let (again, _) = r.redact_str(&out);
    assert_eq!(
        again, out,
        "redaction is not idempotent on input {text:?} (first output {out:?})"
    );
}

/// `RuleSet::with_file` on any text: it never panics, and each error names a line and a
/// column, both 1-based.
pub fn policy_loader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = RuleSet::with_file("fuzz.toml", &text) {
        assert!(!errors.is_empty(), "an error without a problem");
        for e in &errors {
            assert!(e.line >= 1, "line < 1: {e:?}");
            assert!(e.column >= 1, "column < 1: {e:?}");
        }
    }
}
