//! Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl` and its subagent
//! files). `wire` holds the on-disk shapes, `parse` maps them to the model.

mod ambient;
mod parse;
mod wire;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sessiontrail_model::{AgentKind, Session};

use crate::ParseOptions;
use crate::adapter::{Adapter, Environment, Finish, Recognised, SessionParser};
use crate::report::Report;
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

/// Claude Code's adapter.
pub struct ClaudeCode;

impl Adapter for ClaudeCode {
    fn agent(&self) -> AgentKind {
        AgentKind::ClaudeCode
    }

    fn recognise(&self, line: &[u8]) -> Option<Recognised> {
        recognise(line).map(|p| Recognised {
            session_id: p.session_id,
            subagent: p.agent_id,
        })
    }

    fn default_roots(&self, env: &Environment) -> Vec<PathBuf> {
        crate::claude_projects_dir(env.claude_config_dir.as_deref(), env.home.as_deref())
            .into_iter()
            .collect()
    }

    /// `<stem>/subagents/*.jsonl` and, from older versions, `agent-*.jsonl` beside it (the
    /// caller keeps those of the same session).
    fn companions(&self, file: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let (Some(dir), Some(stem)) = (file.parent(), file.file_stem()) else {
            return out;
        };
        if let Ok(entries) = std::fs::read_dir(dir.join(stem).join("subagents")) {
            out.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "jsonl") && p.is_file()),
            );
        }
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with("agent-") && name.ends_with(".jsonl") && e.path().is_file() {
                    out.push(e.path());
                }
            }
        }
        out.sort();
        out
    }

    fn parser(
        &self,
        session_id: &str,
        files: &[PathBuf],
        opts: &ParseOptions,
    ) -> Box<dyn SessionParser> {
        Box::new(Parser {
            b: Builder::new(session_id, opts.content.clone()),
            files: files.to_vec(),
            opts: opts.clone(),
        })
    }
}

/// Claude Code's records of one session, fed line by line.
struct Parser {
    b: Builder,
    files: Vec<PathBuf>,
    opts: ParseOptions,
}

/// What a session of this machine working in `cwd` could reach now, by its settings files:
/// read when its `SessionStart` hook is read, so that the trace keeps them as they were.
pub fn settings_now(opts: &ParseOptions, cwd: Option<&str>) -> sessiontrail_model::Ambient {
    let home = opts.home.as_deref().map(Path::new);
    ambient::read_now(config_dir(opts).as_deref(), home, cwd)
}

/// Claude Code's configuration folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
fn config_dir(opts: &ParseOptions) -> Option<PathBuf> {
    opts.claude_config_dir
        .clone()
        .or_else(|| opts.home.as_deref().map(|h| Path::new(h).join(".claude")))
}

/// What `Ambient::sources` says of names read in the transcript's environment dumps.
pub(crate) const DUMPS_SOURCE: &str = "environment dumps in the transcript";

/// The built session with what lives outside the transcript: the settings it ran with.
fn with_ambient(
    opts: &ParseOptions,
    files: &[PathBuf],
    built: (Option<Session>, Report),
) -> (Option<Session>, Report) {
    let (mut session, report) = built;
    if let Some(s) = session.as_mut() {
        let home = opts.home.as_deref().map(Path::new);
        let config = config_dir(opts);
        let seen_in_dumps = std::mem::take(&mut s.ambient.secret_env_names);
        s.ambient = ambient::read(config.as_deref(), home, s.cwd.as_deref(), files);
        if !seen_in_dumps.is_empty() {
            s.ambient.secret_env_names = seen_in_dumps;
            s.ambient.sources.push(DUMPS_SOURCE.into());
        }
    }
    (session, report)
}

impl SessionParser for Parser {
    fn file(&mut self, shown: &str) {
        self.b.add_source(shown);
    }

    fn line(&mut self, bytes: &[u8], terminated: bool, shown: &str, number: u64) {
        self.b.line(
            bytes,
            terminated,
            Origin {
                path: shown,
                line: number,
                agent: None,
            },
        );
    }

    fn report_mut(&mut self) -> &mut Report {
        self.b.report_mut()
    }

    fn snapshot(&self) -> (Option<Session>, Report) {
        with_ambient(&self.opts, &self.files, self.b.clone().finish(false))
    }

    /// Whatever the reason: a session is complete when its records stop, and a call left
    /// open is open in the transcript too.
    fn finish(self: Box<Self>, _reason: Finish) -> (Option<Session>, Report) {
        let Parser { b, files, opts } = *self;
        with_ambient(&opts, &files, b.finish(true))
    }
}

pub(crate) use crate::read::io_reason;
