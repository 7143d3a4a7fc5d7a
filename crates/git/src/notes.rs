//! Notes under `refs/notes/sessiontrail`: on each linked commit, a JSON array with one entry
//! per session. Several sessions on one commit merge; an entry is never overwritten by
//! another session's.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sessiontrail_model::LinkMethod;

use crate::GitError;

/// The notes ref sessiontrail writes.
pub const NOTES_REF: &str = "refs/notes/sessiontrail";

/// One session's link to a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEntry {
    /// Agent name (`claude-code`...).
    pub agent: String,
    /// The agent's session id.
    pub session_id: String,
    /// Trace id, hex.
    pub trace_id: String,
    /// Tool calls that touched the commit's files.
    #[serde(default)]
    pub tool_call_ids: Vec<String>,
    /// How the commit was linked.
    pub link_method: LinkMethod,
    /// Where the trace can be seen, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_url: Option<String>,
}

/// The entries of the note on `commit` (none when there is no note).
pub fn read_note(repo_dir: &Path, commit: &str) -> Result<Vec<NoteEntry>, GitError> {
    let repo = git2::Repository::discover(repo_dir)
        .map_err(|_| GitError::NotARepository(repo_dir.to_owned()))?;
    let oid = git2::Oid::from_str(commit)?;
    let note = match repo.find_note(Some(NOTES_REF), oid) {
        Ok(n) => n,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    // Git appends the note of a rewritten commit to the one already there (amend or rebase
    // with `notes.rewriteRef`, `notes.rewriteMode=concatenate`): read every array and merge.
    let mut entries: Vec<NoteEntry> = Vec::new();
    for part in serde_json::Deserializer::from_str(note.message().ok().unwrap_or("[]"))
        .into_iter::<Vec<NoteEntry>>()
    {
        let part = part.map_err(|_| GitError::BadNote {
            commit: commit.to_owned(),
        })?;
        for entry in part {
            merge(&mut entries, entry);
        }
    }
    Ok(entries)
}

/// Adds `entry` to `entries`, or merges it into the same session's entry: tool-call ids
/// united, the stronger link method kept.
fn merge(entries: &mut Vec<NoteEntry>, entry: NoteEntry) {
    match entries
        .iter_mut()
        .find(|e| e.agent == entry.agent && e.session_id == entry.session_id)
    {
        Some(e) => {
            for id in entry.tool_call_ids {
                if !e.tool_call_ids.contains(&id) {
                    e.tool_call_ids.push(id);
                }
            }
            if e.backend_url.is_none() {
                e.backend_url = entry.backend_url;
            }
            if entry.link_method.strength() > e.link_method.strength() {
                e.link_method = entry.link_method;
            }
        }
        None => entries.push(entry),
    }
}

/// Adds (or updates) `entry` in the note on `commit`: entries of other sessions are kept, the
/// same session's entry is merged (tool-call ids united, the stronger link method kept).
/// Whether the note changed: one that already says all of it is left alone, so that a
/// re-export adds no commit to the notes ref.
pub fn add_note(repo_dir: &Path, commit: &str, entry: NoteEntry) -> Result<bool, GitError> {
    let repo = git2::Repository::discover(repo_dir)
        .map_err(|_| GitError::NotARepository(repo_dir.to_owned()))?;
    let oid = git2::Oid::from_str(commit)?;
    let before = read_note(repo_dir, commit)?;
    let mut entries = before.clone();
    merge(&mut entries, entry);
    if entries == before && !before.is_empty() {
        return Ok(false);
    }
    let text = serde_json::to_string_pretty(&entries).expect("note entries serialize");
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("sessiontrail", "sessiontrail@localhost"))?;
    repo.note(&sig, &sig, Some(NOTES_REF), oid, &text, true)?;
    Ok(true)
}
