//! A commit made now, linked to the sessions that were working on its repository: what
//! the post-commit hook feeds.

use std::path::Path;

use sessiontrail_model::{AgentKind, LinkMethod};
use sessiontrail_store::{CommitRow, Store};

use crate::PipelineError;

/// How long after a session's last record a commit is still taken as its.
const ACTIVE_SECS: i64 = 30 * 60;

/// A link [`link_head`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The commit's full SHA.
    pub sha: String,
    /// The agent's session id.
    pub session_id: String,
}

/// Links HEAD of the repository at `dir` to the stored sessions of that repository whose
/// last record is at most 30 minutes before the commit: a `git commit` span in their trace
/// and a commit row, then (once the store has committed them) a note on the commit.
/// `trace_url`: where a trace is seen, `{trace_id}` replaced. Nothing to do outside a
/// repository.
pub fn link_head(
    dir: &Path,
    store: &mut Store,
    trace_url: Option<&str>,
) -> Result<Vec<Linked>, PipelineError> {
    let Some(facts) = sessiontrail_git::facts(dir)? else {
        return Ok(Vec::new());
    };
    let mut commit = sessiontrail_git::commit_details(dir, "HEAD")?;
    commit.method = LinkMethod::Hook;
    let root = facts.root.canonicalize().unwrap_or(facts.root.clone());
    let t = commit.time.0;
    let err = PipelineError::store;
    let active: Vec<_> = store
        .sessions_active(t - ACTIVE_SECS * 1_000_000_000, t)
        .map_err(err(store))?
        .into_iter()
        .filter(|s| {
            s.project.as_deref().is_some_and(|p| {
                Path::new(p)
                    .canonicalize()
                    .is_ok_and(|p| p.starts_with(&root))
            })
        })
        .collect();
    let mut linked = Vec::new();
    for s in active {
        // A link the export found from the agent's own `git commit` is stronger evidence.
        if store
            .commits_of(&s.trace_id)
            .map_err(err(store))?
            .iter()
            .any(|l| {
                l.commit.sha == commit.sha
                    && LinkMethod::parse(&l.commit.method) != LinkMethod::FileOverlap
            })
        {
            continue;
        }
        let Some(agent) = AgentKind::from_name(&s.agent) else {
            continue;
        };
        let span = sessiontrail_trace::commit_span(agent, &s.session_id, &commit, &[]);
        let mut row = crate::encode::span_row(&span);
        row.start_ns = t;
        row.end_ns = t;
        row.error = false;
        let link = CommitRow {
            sha: commit.sha.clone(),
            span_id: row.span_id,
            method: LinkMethod::Hook.as_str().to_owned(),
            time_ns: t,
            branch: commit.branch.clone(),
            files: commit.files.clone(),
            tools: Vec::new(),
        };
        store
            .add_commit_link(&s.trace_id, &link, &row)
            .map_err(err(store))?;
        let hex = sessiontrail_trace::hex(&s.trace_id);
        let entry = sessiontrail_git::NoteEntry {
            agent: s.agent.clone(),
            session_id: s.session_id.clone(),
            trace_id: hex.clone(),
            tool_call_ids: Vec::new(),
            link_method: LinkMethod::Hook,
            backend_url: trace_url.map(|u| u.replace("{trace_id}", &hex)),
        };
        sessiontrail_git::add_note(dir, &commit.sha, entry)?;
        linked.push(Linked {
            sha: commit.sha.clone(),
            session_id: s.session_id,
        });
    }
    Ok(linked)
}
