//! Fuzz check of the Claude Code parser: the input is one transcript file, read the way an
//! export reads it (discovery, then `parse_session` with a real redactor at the default
//! content level, then the policy stage `parse_session` applies). It must never panic.
//!
//! Shared by the fuzz target (`fuzz/fuzz_targets/claude_parser.rs`) and the stable corpus
//! replay (`crates/sources/tests/fuzz_corpus.rs`, which includes this file by path).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use sessiontrail_model::{AgentKind, ContentOptions};
use sessiontrail_policy::SecretRedactor;
use sessiontrail_sources::{ParseOptions, SessionFiles, discover, parse_session};

/// Longest line read: inputs are at most a few hundred KiB, so this also exercises the
/// too-long path.
const MAX_LINE_BYTES: usize = 1 << 16;

/// Parse options with a real redactor and the built-in rules, built once per process.
pub fn options() -> &'static ParseOptions {
    static O: OnceLock<ParseOptions> = OnceLock::new();
    O.get_or_init(|| ParseOptions {
        content: ContentOptions {
            redactor: Some(Arc::new({
                // Every format compiled now, not on the first input that needs it.
                let r = SecretRedactor::new();
                let _ = r.compile_all();
                r
            })),
            ..Default::default()
        },
        max_line_bytes: MAX_LINE_BYTES,
        home: Some("/home/fuzz".into()),
        // Nothing of this machine's Claude settings is read.
        claude_config_dir: Some("/nonexistent/sessiontrail-fuzz".into()),
        ..Default::default()
    })
}

/// Writes `data` as `dir/session.jsonl` and parses it: as discovery groups it when it
/// recognises it, else as a Claude Code session of that one file.
pub fn claude_parser(dir: &Path, data: &[u8]) {
    let path = dir.join("session.jsonl");
    std::fs::write(&path, data).expect("write the transcript");
    let opts = options();
    let found = discover(std::slice::from_ref(&path), opts.max_line_bytes);
    let sessions = if found.sessions.is_empty() {
        vec![SessionFiles {
            agent: AgentKind::ClaudeCode,
            session_id: "fuzz".into(),
            files: vec![path.clone()],
            names: vec![path.display().to_string()],
            bytes: data.len() as u64,
        }]
    } else {
        found.sessions
    };
    for files in &sessions {
        let (session, report) = parse_session(files, opts);
        for issue in &report.issues {
            assert!(issue.line.is_none_or(|l| l >= 1), "line 0 in {issue:?}");
        }
        if let Some(s) = session {
            assert_eq!(s.agent, AgentKind::ClaudeCode);
        }
    }
}
