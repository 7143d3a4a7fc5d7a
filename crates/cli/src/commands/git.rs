//! `sessiontrail git install|uninstall|post-commit`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use prost::Message;
use sessiontrail_model::AgentKind;
use sessiontrail_store::{CommitRow, SpanRow, Store};

use crate::args::{GitArgs, GitCommand};
use crate::exit;

/// How long after a session's last record a commit is still taken as its (the hook's link).
const ACTIVE_SECS: i64 = 30 * 60;

fn dir(repo: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match repo {
        Some(d) => Ok(d),
        None => std::env::current_dir().context("cannot read the current folder"),
    }
}

pub fn run(a: GitArgs, store: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    match a.command {
        GitCommand::Install { repo } => {
            let exe = std::env::current_exe().context("cannot find the sessiontrail binary")?;
            let done = sessiontrail_git::install(&dir(repo)?, &exe)?;
            if done.already {
                writeln!(out, "already installed: {}", done.hook.display())?;
            } else {
                writeln!(
                    out,
                    "installed {}{}",
                    done.hook.display(),
                    done.chained
                        .map(|c| format!(" (runs the existing hook first, now {})", c.display()))
                        .unwrap_or_default()
                )?;
            }
            Ok(exit::OK)
        }
        GitCommand::Uninstall { repo } => {
            let removed = sessiontrail_git::uninstall(&dir(repo)?)?;
            writeln!(
                out,
                "{}",
                if removed {
                    "removed the sessiontrail hook and settings"
                } else {
                    "nothing to remove"
                }
            )?;
            Ok(exit::OK)
        }
        GitCommand::PostCommit { repo } => {
            // A hook must never disturb git: report and succeed.
            if let Err(e) = post_commit(&dir(repo)?, store, out) {
                tracing::warn!("post-commit: {e:#}");
            }
            Ok(exit::OK)
        }
    }
}

/// Links HEAD to the stored sessions of this repository whose last record is at most
/// [`ACTIVE_SECS`] before the commit: a `git commit` span in their trace, a commit row, and
/// a note.
fn post_commit(dir: &Path, store_path: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(facts) = sessiontrail_git::facts(dir)? else {
        return Ok(());
    };
    if !store_path.exists() {
        return Ok(());
    }
    let mut commit = sessiontrail_git::commit_details(dir, "HEAD")?;
    commit.method = "hook".into();
    let mut store = Store::open(store_path)?;
    let root = facts.root.canonicalize().unwrap_or(facts.root.clone());
    let t = commit.time.0;
    let active: Vec<_> = store
        .sessions_active(t - ACTIVE_SECS * 1_000_000_000, t)?
        .into_iter()
        .filter(|s| {
            s.project.as_deref().is_some_and(|p| {
                Path::new(p)
                    .canonicalize()
                    .is_ok_and(|p| p.starts_with(&root))
            })
        })
        .collect();
    for s in active {
        // A link the export found from the agent's own `git commit` is stronger evidence.
        if store
            .commits_of(&s.trace_id)?
            .iter()
            .any(|l| l.commit.sha == commit.sha && l.commit.method != "file_overlap")
        {
            continue;
        }
        let Some(agent) = AgentKind::from_name(&s.agent) else {
            continue;
        };
        let span = sessiontrail_trace::commit_span(agent, &s.session_id, &commit, &[]);
        let span_id: [u8; 8] = span
            .span_id
            .as_slice()
            .try_into()
            .context("span ids are 8 bytes")?;
        let row = SpanRow {
            span_id,
            parent_span_id: span.parent_span_id.as_slice().try_into().ok(),
            name: span.name.clone(),
            start_ns: t,
            end_ns: t,
            error: false,
            body: span.encode_to_vec(),
        };
        let link = CommitRow {
            sha: commit.sha.clone(),
            span_id,
            method: "hook".into(),
            time_ns: t,
            branch: commit.branch.clone(),
            files: commit.files.clone(),
            tools: Vec::new(),
        };
        store.add_commit_link(&s.trace_id, &link, &row)?;
        let entry = sessiontrail_git::NoteEntry {
            agent: s.agent.clone(),
            session_id: s.session_id.clone(),
            trace_id: sessiontrail_trace::hex(&s.trace_id),
            tool_call_ids: Vec::new(),
            link_method: "hook".into(),
            backend_url: std::env::var("SESSIONTRAIL_TRACE_URL")
                .ok()
                .map(|u| u.replace("{trace_id}", &sessiontrail_trace::hex(&s.trace_id))),
        };
        sessiontrail_git::add_note(dir, &commit.sha, entry)?;
        writeln!(
            out,
            "linked {} to session {}",
            &commit.sha[..12],
            s.session_id
        )?;
    }
    Ok(())
}
