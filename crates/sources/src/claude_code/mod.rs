//! Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl` and its subagent
//! files). `wire` holds the on-disk shapes, `parse` maps them to the model.

mod ambient;
mod parse;
mod wire;

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use sessiontrail_model::Session;

use crate::lines::{Line, LineReader};
use crate::report::{Issue, IssueKind, Report};
use crate::{ParseOptions, SessionFiles};
use parse::{Builder, Origin};

/// Record types only Claude Code writes; used to recognise its files by content.
const RECORD_TYPES: &[&str] = &[
    "user",
    "assistant",
    "system",
    "progress",
    "attachment",
    "summary",
    "file-history-snapshot",
    "queue-operation",
    "last-prompt",
    "custom-title",
    "ai-title",
    "permission-mode",
];

/// What the first records of a file say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peek {
    pub session_id: Option<String>,
    /// The subagent id, when the file is a subagent's transcript.
    pub agent_id: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "wire::opt_str")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "wire::opt_str")]
    session_id: Option<Cow<'a, str>>,
    is_sidechain: Option<bool>,
    #[serde(borrow, default, deserialize_with = "wire::opt_str")]
    agent_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "wire::opt_str")]
    uuid: Option<Cow<'a, str>>,
}

/// Whether one parsed line looks like a Claude Code record, and what it tells.
pub(crate) fn recognise(bytes: &[u8]) -> Option<Peek> {
    let head: Head<'_> = serde_json::from_slice(bytes).ok()?;
    let kind = head.kind.as_deref()?;
    if !RECORD_TYPES.contains(&kind) {
        return None;
    }
    // Conversation records carry a uuid; the bookkeeping ones carry neither.
    if head.uuid.is_none()
        && head.session_id.is_none()
        && !matches!(kind, "summary" | "file-history-snapshot")
    {
        return None;
    }
    Some(Peek {
        session_id: head.session_id.map(Cow::into_owned),
        agent_id: head
            .agent_id
            .filter(|_| head.is_sidechain == Some(true))
            .map(Cow::into_owned),
    })
}

/// Reads every file of one session and builds it. Bad lines and unreadable files are in the
/// report; everything good is in the session.
pub fn parse_session(files: &SessionFiles, opts: &ParseOptions) -> (Option<Session>, Report) {
    let mut b = Builder::new(&files.session_id, opts.content.clone());
    for (path, shown) in files.files.iter().zip(&files.names) {
        read_file(&mut b, path, shown, opts);
    }
    let (mut session, report) = b.finish();
    if let Some(s) = session.as_mut() {
        let home = opts.home.as_deref().map(Path::new);
        let config = opts
            .claude_config_dir
            .clone()
            .or_else(|| home.map(|h| h.join(".claude")));
        let seen_in_dumps = std::mem::take(&mut s.ambient.secret_env_names);
        s.ambient = ambient::read(config.as_deref(), home, s.cwd.as_deref(), &files.files);
        if !seen_in_dumps.is_empty() {
            s.ambient.secret_env_names = seen_in_dumps;
            s.ambient
                .sources
                .push("environment dumps in the transcript".into());
        }
    }
    (session, report)
}

fn read_file(b: &mut Builder, path: &Path, shown: &str, opts: &ParseOptions) {
    let shown = shown.to_owned();
    let file_issue = |b: &mut Builder, kind, detail: String| {
        b.report_mut().issues.push(Issue {
            path: shown.clone(),
            line: None,
            kind,
            detail,
        });
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            file_issue(
                b,
                IssueKind::Unreadable,
                format!("cannot open: {}", io_reason(&e)),
            );
            return;
        }
    };
    b.add_source(&shown);
    let mut reader = LineReader::new(
        BufReader::with_capacity(256 * 1024, file),
        opts.max_line_bytes,
    );
    let mut lines = 0u64;
    loop {
        let line = match reader.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                file_issue(
                    b,
                    IssueKind::Unreadable,
                    format!("read failed after line {lines}: {}", io_reason(&e)),
                );
                break;
            }
        };
        match line {
            Line::Complete {
                number,
                bytes,
                terminated,
            } => {
                lines = number;
                b.line(
                    bytes,
                    terminated,
                    Origin {
                        path: &shown,
                        line: number,
                        agent: None,
                    },
                );
            }
            Line::TooLong { number, len } => {
                lines = number;
                b.report_mut().issues.push(Issue {
                    path: shown.clone(),
                    line: Some(number),
                    kind: IssueKind::LineTooLong,
                    detail: format!(
                        "line of {len} bytes is over the {} byte limit",
                        opts.max_line_bytes
                    ),
                });
            }
        }
    }
    let report = b.report_mut();
    report.lines += lines;
    report.bytes += reader.offset();
    if reader.offset() == 0 {
        file_issue(b, IssueKind::EmptyFile, "empty file".into());
    }
}

/// An I/O error without the path (the caller names it).
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file (it may have been deleted)".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}
