//! `sessiontrail query --commit REV` and `--session ID`: commits and sessions, both ways.

use std::io::Write;

use anyhow::Context;
use prost::Message;
use serde::Serialize;
use sessiontrail_export::lookup::{self, Backend};
use sessiontrail_model::AgentKind;
use sessiontrail_store::{CommitLink, Store};
use sessiontrail_trace::Span;
use sessiontrail_trace::tree::{CommitPrompt, commit_context};

use crate::args::QueryArgs;
use crate::{exit, format};

#[derive(Serialize)]
struct ToolLine {
    id: String,
    name: String,
    target: Option<String>,
}

#[derive(Serialize)]
struct SessionOfCommit {
    #[serde(rename = "type")]
    kind: &'static str,
    commit: String,
    branch: Option<String>,
    link_method: String,
    agent: String,
    session_id: String,
    trace_id: String,
    trace_url: Option<String>,
    project: Option<String>,
    start: Option<String>,
    end: Option<String>,
    prompts: Vec<String>,
    tool_calls: Vec<ToolLine>,
    source: &'static str,
}

pub fn by_commit(
    q: &QueryArgs,
    rev: &str,
    store: Option<&Store>,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let dir = match &q.repo {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current folder")?,
    };
    let sha = sessiontrail_git::resolve(&dir, rev)?;
    let mut lines = Vec::new();
    if let Some(store) = store {
        for link in store.commit_links(&sha)? {
            lines.push(describe(&link, store, q.trace_url.as_deref())?);
        }
    }
    // Sessions known only from the repository's notes (exported elsewhere).
    for note in sessiontrail_git::read_note(&dir, &sha).unwrap_or_default() {
        if lines
            .iter()
            .any(|l: &SessionOfCommit| l.session_id == note.session_id && l.agent == note.agent)
        {
            continue;
        }
        lines.push(SessionOfCommit {
            kind: "commit_session",
            commit: sha.clone(),
            branch: None,
            link_method: note.link_method.to_string(),
            agent: note.agent,
            session_id: note.session_id,
            trace_url: note.backend_url.or_else(|| {
                q.trace_url
                    .as_ref()
                    .map(|u| u.replace("{trace_id}", &note.trace_id))
            }),
            trace_id: note.trace_id,
            project: None,
            start: None,
            end: None,
            prompts: Vec::new(),
            tool_calls: note
                .tool_call_ids
                .into_iter()
                .map(|id| ToolLine {
                    id,
                    name: String::new(),
                    target: None,
                })
                .collect(),
            source: "git note",
        });
    }
    let status = match &q.backend {
        Some(spec) => add_backend_answer(q, spec, &dir, &sha, &mut lines)?,
        None => exit::OK,
    };
    if q.json {
        for l in &lines {
            serde_json::to_writer(&mut *out, l)?;
            writeln!(out)?;
        }
        return Ok(status);
    }
    if lines.is_empty() {
        writeln!(out, "commit {sha}: no session is linked to it")?;
        return Ok(status);
    }
    writeln!(out, "commit {sha}: {} session(s)", lines.len())?;
    for l in &lines {
        writeln!(
            out,
            "  {} session {} ({}){}  [{}, from {}]",
            l.agent,
            l.session_id,
            l.project.as_deref().unwrap_or("-"),
            l.start
                .as_deref()
                .map(|s| format!(" from {s}"))
                .unwrap_or_default(),
            l.link_method,
            l.source
        )?;
        writeln!(
            out,
            "    trace {}",
            l.trace_url.as_deref().unwrap_or(&l.trace_id)
        )?;
        for p in &l.prompts {
            writeln!(out, "    prompt: {p}")?;
        }
        for t in &l.tool_calls {
            writeln!(
                out,
                "    tool call {} {}{}",
                t.id,
                t.name,
                t.target
                    .as_deref()
                    .map(|x| format!(" {x}"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(status)
}

/// Adds what the backend knows of `sha` to `lines`: traces not known locally become lines,
/// known ones get the backend's link. A backend that cannot answer is reported, and the
/// answer is marked partial.
fn add_backend_answer(
    q: &QueryArgs,
    spec: &str,
    dir: &std::path::Path,
    sha: &str,
    lines: &mut Vec<SessionOfCommit>,
) -> anyhow::Result<u8> {
    let mut b = Backend::parse(spec).map_err(|e| anyhow::anyhow!("--backend {e}"))?;
    b.services = AgentKind::ALL.iter().map(|a| a.name().to_owned()).collect();
    b.project = q.backend_project.clone();
    // Spans keep their historical times, but a backend may index them by arrival
    // (Tempo): search from a week before the commit until now.
    let committed = sessiontrail_git::commit_details(dir, sha)?.time.0 / 1_000_000_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(committed, |d| d.as_secs() as i64);
    let found = match lookup::find_by_revision(
        &b,
        sha,
        committed - 7 * 86_400,
        now.max(committed) + 3600,
    ) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("sessiontrail: {e}; answering from the store and the git notes only");
            return Ok(exit::SKIPPED_INPUT);
        }
    };
    for f in found {
        if let Some(l) = lines.iter_mut().find(|l| l.trace_id == f.trace_id) {
            l.trace_url = l.trace_url.take().or(Some(f.url));
            continue;
        }
        lines.push(SessionOfCommit {
            kind: "commit_session",
            commit: sha.to_owned(),
            branch: None,
            // Spans that ran at the commit without producing it say so.
            link_method: f.link_method.unwrap_or_else(|| "ran_at_revision".into()),
            agent: f.agent.unwrap_or_default(),
            session_id: f.session_id.unwrap_or_default(),
            trace_url: Some(
                q.trace_url
                    .as_ref()
                    .map_or(f.url, |u| u.replace("{trace_id}", &f.trace_id)),
            ),
            trace_id: f.trace_id,
            project: None,
            start: f.start_ns.map(format::rfc3339_ns),
            end: None,
            prompts: Vec::new(),
            tool_calls: Vec::new(),
            source: b.kind.name(),
        });
    }
    Ok(exit::OK)
}

/// A linked session with the prompts that led to the change and the tool calls involved,
/// read from its stored spans (at the content level they were exported with).
fn describe(
    link: &CommitLink,
    store: &Store,
    trace_url: Option<&str>,
) -> anyhow::Result<SessionOfCommit> {
    let s = &link.session;
    let spans: Vec<Span> = store
        .spans(&s.trace_id)?
        .iter()
        .filter_map(|r| Span::decode(&r.body[..]).ok())
        .collect();
    let (tools, prompts) = commit_context(&spans, &link.commit.tools);
    let tools = tools
        .into_iter()
        .map(|t| ToolLine {
            id: t.id,
            name: t.name,
            target: t.target,
        })
        .collect();
    let prompts = prompts
        .into_iter()
        .map(|p| match p {
            CommitPrompt::Kept(p) => p,
            CommitPrompt::Withheld { kind, size } => format!(
                "({} prompt of {}, not kept at this content level)",
                kind.as_deref().unwrap_or("a"),
                format::bytes(size)
            ),
        })
        .collect();
    let trace_id = sessiontrail_trace::hex(&s.trace_id);
    Ok(SessionOfCommit {
        kind: "commit_session",
        commit: link.commit.sha.clone(),
        branch: link.commit.branch.clone(),
        link_method: link.commit.method.clone(),
        agent: s.agent.clone(),
        session_id: s.session_id.clone(),
        trace_url: trace_url.map(|u| u.replace("{trace_id}", &trace_id)),
        trace_id,
        project: s.project.clone(),
        start: Some(format::rfc3339_ns(s.start_ns)),
        end: Some(format::rfc3339_ns(s.end_ns)),
        prompts,
        tool_calls: tools,
        source: "store",
    })
}

#[derive(Serialize)]
struct CommitOfSession<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    session_id: &'a str,
    commit: &'a str,
    branch: Option<&'a str>,
    time: String,
    link_method: &'a str,
    files: &'a [String],
}

pub fn by_session(
    q: &QueryArgs,
    session: &str,
    store: &Store,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let row = store.find_session(session)?;
    let links = store.commits_of(&row.trace_id)?;
    if q.json {
        for l in &links {
            let line = CommitOfSession {
                kind: "session_commit",
                session_id: &row.session_id,
                commit: &l.commit.sha,
                branch: l.commit.branch.as_deref(),
                time: format::rfc3339_ns(l.commit.time_ns),
                link_method: &l.commit.method,
                files: &l.commit.files,
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
        return Ok(exit::OK);
    }
    if links.is_empty() {
        writeln!(out, "session {}: no commit is linked to it", row.session_id)?;
        return Ok(exit::OK);
    }
    for l in &links {
        writeln!(
            out,
            "{}  {}  {}  [{}]  {} file(s): {}",
            &l.commit.sha[..l.commit.sha.len().min(12)],
            format::time_ns(l.commit.time_ns),
            l.commit.branch.as_deref().unwrap_or("-"),
            l.commit.method,
            l.commit.files.len(),
            l.commit.files.join(", ")
        )?;
    }
    Ok(exit::OK)
}
