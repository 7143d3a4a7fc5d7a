//! The git room (DESIGN.md 4), on `git2`: what a session's working directory tells about its
//! repository, the commits an agent's `git commit` output names, revisions resolved the way
//! git resolves them, and the notes under `refs/notes/sessiontrail` that tie commits to
//! sessions.
//!
//! Owns: repository discovery (worktrees and nested repositories included), remote URLs
//! normalised without credentials, HEAD and branch, parsing of `git commit` output, revision
//! resolution, and note reading and merging.
//!
//! Must not: know about agents, spans or the store. Callers give it paths, text and ids.
//!
//! ```
//! assert_eq!(
//!     sessiontrail_git::normalize_remote("git@github.com:acme/shop.git").as_deref(),
//!     Some("https://github.com/acme/shop")
//! );
//! ```

#![warn(missing_docs)]

mod notes;

use std::path::{Path, PathBuf};

pub use notes::{NOTES_REF, NoteEntry, add_note, read_note};

/// What went wrong talking to git.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// The folder is not inside a git repository.
    #[error("{} is not inside a git repository", .0.display())]
    NotARepository(PathBuf),
    /// A revision does not name a commit.
    #[error("'{rev}' does not name a commit in {}", repo.display())]
    UnknownRevision {
        /// What was asked.
        rev: String,
        /// The repository.
        repo: PathBuf,
    },
    /// A note is not sessiontrail's JSON.
    #[error("the sessiontrail note on {commit} is not valid JSON")]
    BadNote {
        /// The commit.
        commit: String,
    },
    /// libgit2 failed.
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
}

/// What a working directory tells about its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFacts {
    /// Top of the working tree.
    pub root: PathBuf,
    /// Whether the working tree is a linked worktree (`git worktree add`).
    pub worktree: bool,
    /// `origin`'s URL (or the first remote's), normalised, credentials stripped.
    pub remote_url: Option<String>,
    /// The repository's name (last path component of the remote, else of the root).
    pub name: String,
    /// Current branch; `None` when HEAD is detached.
    pub branch: Option<String>,
    /// HEAD's commit, when there is one.
    pub head: Option<String>,
}

/// The repository `cwd` is in, or `None` outside any.
pub fn facts(cwd: &Path) -> Result<Option<RepoFacts>, GitError> {
    let repo = match git2::Repository::discover(cwd) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let remote_url = remote(&repo);
    let name = remote_url
        .as_deref()
        .and_then(|u| u.rsplit('/').next().map(str::to_owned))
        .filter(|n| !n.is_empty())
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let head = repo.head().ok();
    let branch = head
        .as_ref()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().ok().map(str::to_owned));
    let head_sha = head
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    Ok(Some(RepoFacts {
        root,
        worktree: repo.is_worktree(),
        remote_url,
        name,
        branch,
        head: head_sha,
    }))
}

fn remote(repo: &git2::Repository) -> Option<String> {
    let names = repo.remotes().ok()?;
    let names: Vec<&str> = names.iter().filter_map(|n| n.ok().flatten()).collect();
    let pick = names.iter().find(|n| **n == "origin").or(names.first())?;
    let r = repo.find_remote(pick).ok()?;
    r.url().ok().and_then(normalize_remote)
}

/// A remote URL as `https://host/owner/repo`: scp-like and `ssh://` forms become https, user
/// info (tokens included) and a trailing `.git` are dropped. Local paths stay as they are.
pub fn normalize_remote(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let (host, path) = if let Some((scheme, _)) = raw.split_once("://") {
        if scheme == "file" {
            return Some(raw.trim_end_matches(".git").to_owned());
        }
        let u = url::Url::parse(raw).ok()?;
        (u.host_str()?.to_owned(), u.path().to_owned())
    } else if let Some((left, path)) = raw
        .split_once(':')
        .filter(|(l, _)| !l.contains('/') && l.len() > 1)
    {
        // scp-like: `user@host:owner/repo.git`.
        (
            left.rsplit('@').next()?.to_owned(),
            format!("/{}", path.trim_start_matches('/')),
        )
    } else {
        return Some(
            raw.trim_end_matches('/')
                .trim_end_matches(".git")
                .to_owned(),
        );
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    Some(format!("https://{}{}", host.to_ascii_lowercase(), path))
}

/// A commit as `git commit` reported it: `[main 1a2b3c4] message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedCommit {
    /// Branch, or `detached HEAD`.
    pub branch: String,
    /// The abbreviated SHA printed.
    pub short_sha: String,
    /// Whether it was the repository's first commit.
    pub root: bool,
}

/// The commits `git commit` output names (its summary lines; `-q` prints none). The SHAs
/// must still be checked against the repository: output can be faked or quoted.
pub fn commits_in_output(text: &str) -> Vec<ReportedCommit> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix('[') else {
            continue;
        };
        let Some((inside, _)) = rest.split_once(']') else {
            continue;
        };
        let mut words: Vec<&str> = inside.split(' ').collect();
        let Some(sha) = words.pop() else { continue };
        if sha.len() < 7
            || sha.len() > 40
            || !sha
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            continue;
        }
        let root = words.last() == Some(&"(root-commit)");
        if root {
            words.pop();
        }
        let branch = words.join(" ");
        if branch.is_empty() || branch.contains(char::is_control) {
            continue;
        }
        out.push(ReportedCommit {
            branch,
            short_sha: sha.to_owned(),
            root,
        });
    }
    out
}

/// Resolves any revision git understands (SHA or prefix, `HEAD~2`, a branch, a tag) to a
/// full commit SHA.
pub fn resolve(repo_dir: &Path, rev: &str) -> Result<String, GitError> {
    let repo = git2::Repository::discover(repo_dir)
        .map_err(|_| GitError::NotARepository(repo_dir.to_owned()))?;
    let obj = repo
        .revparse_single(rev)
        .map_err(|_| GitError::UnknownRevision {
            rev: rev.to_owned(),
            repo: repo_dir.to_owned(),
        })?;
    let commit = obj
        .peel_to_commit()
        .map_err(|_| GitError::UnknownRevision {
            rev: rev.to_owned(),
            repo: repo_dir.to_owned(),
        })?;
    Ok(commit.id().to_string())
}

#[cfg(test)]
mod tests;

/// What HEAD was at given times, from the HEAD reflog: the newest entry at or before each
/// time (before the first entry, the commit it moved from). Reconstructed, since a backfill
/// runs after the fact; `None` where the reflog does not reach.
pub struct HeadHistory {
    /// (time in Unix seconds, commit) for each move of HEAD, oldest first.
    moves: Vec<(i64, String)>,
    /// HEAD before the first recorded move.
    before: Option<String>,
}

impl HeadHistory {
    /// Reads the HEAD reflog of the repository at `root`.
    pub fn read(root: &Path) -> Result<HeadHistory, GitError> {
        let repo = git2::Repository::open(root)?;
        let log = repo.reflog("HEAD")?;
        let mut moves: Vec<(i64, String)> = log
            .iter()
            .map(|e| (e.committer().when().seconds(), e.id_new().to_string()))
            .collect();
        // The reflog lists newest first.
        moves.reverse();
        let before = log
            .iter()
            .next_back()
            .map(|e| e.id_old())
            .filter(|o| !o.is_zero())
            .map(|o| o.to_string());
        Ok(HeadHistory { moves, before })
    }

    /// HEAD at `unix_seconds`.
    pub fn at(&self, unix_seconds: i64) -> Option<&str> {
        match self.moves.partition_point(|(t, _)| *t <= unix_seconds) {
            0 => self.before.as_deref(),
            i => Some(self.moves[i - 1].1.as_str()),
        }
    }
}

/// Adds what git knows to a session whose working directory is a repository here: the
/// repository, and HEAD at the session's start and at each tool call (from the reflog,
/// marked reconstructed). Sessions from elsewhere are left as they are.
pub fn enrich(s: &mut sessiontrail_model::Session) {
    let Some(cwd) = s.cwd.as_deref() else { return };
    let Ok(Some(f)) = facts(Path::new(cwd)) else {
        return;
    };
    let history = HeadHistory::read(&f.root).ok();
    let at = |t: sessiontrail_model::Timestamp| {
        history
            .as_ref()
            .and_then(|h| h.at(t.0.div_euclid(1_000_000_000)))
            .map(str::to_owned)
    };
    s.vcs = Some(sessiontrail_model::Vcs {
        url: f.remote_url,
        name: f.name,
        branch: f.branch,
        head_at_start: at(s.start),
        reconstructed: true,
    });
    for t in &mut s.tools {
        t.head = at(t.start);
    }
}
