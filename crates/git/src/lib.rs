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

mod hooks;
mod notes;

use sessiontrail_model::LinkMethod;
use std::path::{Path, PathBuf};

pub use hooks::{Installed, install, uninstall};
pub use notes::{NOTES_REF, NoteEntry, add_note, read_note};
pub use sessiontrail_model::{ReportedCommit, reported_commits};

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
    /// A file could not be read or written.
    #[error("cannot write {what}")]
    Io {
        /// The file.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
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
    // A linked worktree is named after the repository it belongs to: the folder holding the
    // shared `.git` (or the bare `name.git`), not the worktree's own folder.
    let named_after = if repo.is_worktree() {
        let common = repo.commondir();
        match common.file_name() {
            Some(n) if n == ".git" => common.parent().unwrap_or(common).to_path_buf(),
            _ => PathBuf::from(
                common
                    .to_string_lossy()
                    .trim_end_matches(['/', '\\'])
                    .trim_end_matches(".git"),
            ),
        }
    } else {
        root.clone()
    };
    let name = remote_url
        .as_deref()
        .and_then(|u| u.rsplit('/').next().map(str::to_owned))
        .filter(|n| !n.is_empty())
        .or_else(|| {
            named_after
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
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

    /// The moves of HEAD after `from` up to `to` (Unix seconds), oldest first.
    pub fn moves_between(&self, from: i64, to: i64) -> Vec<(i64, String)> {
        self.moves
            .iter()
            .filter(|(t, _)| *t > from && *t <= to)
            .cloned()
            .collect()
    }

    /// HEAD at `unix_seconds`.
    pub fn at(&self, unix_seconds: i64) -> Option<&str> {
        match self.moves.partition_point(|(t, _)| *t <= unix_seconds) {
            0 => self.before.as_deref(),
            i => Some(self.moves[i - 1].1.as_str()),
        }
    }
}

/// The git side of a session's commit links, to write once its spans are stored: a note
/// on each linked commit naming the session, its trace, the tool calls involved and, when
/// known, where to see the trace.
pub fn notes_of(
    s: &sessiontrail_model::Session,
    trace_id: &str,
    backend_url: Option<&str>,
) -> Vec<PendingNote> {
    s.commits
        .iter()
        .filter(|c| !c.repo.is_empty())
        .map(|c| PendingNote {
            repo: PathBuf::from(&c.repo),
            commit: c.sha.clone(),
            entry: NoteEntry {
                agent: s.agent.name().to_owned(),
                session_id: s.id.clone(),
                trace_id: trace_id.to_owned(),
                tool_call_ids: c
                    .writers
                    .iter()
                    .chain(c.reported_by.iter())
                    .map(|&t| s.tools[t].id.clone())
                    .collect(),
                link_method: c.method.clone(),
                backend_url: backend_url.map(str::to_owned),
            },
        })
        .collect()
}

/// A note to add to a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNote {
    /// A folder of the repository.
    pub repo: PathBuf,
    /// The commit's full SHA.
    pub commit: String,
    /// This session's entry.
    pub entry: NoteEntry,
}

impl PendingNote {
    /// Adds the entry to the commit's note (see [`add_note`]); whether the note changed.
    pub fn write(self) -> Result<bool, GitError> {
        add_note(&self.repo, &self.commit, self.entry)
    }
}

/// How far a commit's time may be from the tool call that reported it (clock skew, hooks).
const COMMIT_SLACK_SECS: i64 = 600;

/// Adds what git knows to a session whose working directory is a repository here: the
/// repository, HEAD at the session's start and at each tool call (from the reflog, marked
/// reconstructed), and the commits the agent's own `git commit` calls made. Sessions from
/// elsewhere are left as they are, but for a branch recorded as `HEAD`, which is git's
/// word for a detached HEAD (what `git rev-parse --abbrev-ref HEAD` prints), not a branch.
pub fn enrich(s: &mut sessiontrail_model::Session) {
    enrich_observed(s, &[]);
}

/// How late after a session's first record HEAD may first be read and still count as its
/// HEAD at the start.
const LIVE_SLACK_NS: i64 = 60_000_000_000;

/// [`enrich`], with HEAD as it was read while the session was written (`observed`: when it
/// was first seen at each commit, oldest first, from `watch`). When those reads began with
/// the session, they are HEAD at the start and its moves, and nothing is reconstructed from
/// the reflog.
pub fn enrich_observed(
    s: &mut sessiontrail_model::Session,
    observed: &[(sessiontrail_model::Timestamp, String)],
) {
    enrich_reflog(s);
    if let (Some(v), Some(((first, sha), moves))) = (s.vcs.as_mut(), observed.split_first())
        && first.0 <= s.start.0.saturating_add(LIVE_SLACK_NS)
    {
        v.head_at_start = Some(sha.clone());
        v.head_moves = moves.to_vec();
        v.reconstructed = false;
        let v = v.clone();
        for t in &mut s.tools {
            t.head = v.head_at(t.start).map(str::to_owned);
        }
    }
}

/// Repository facts, HEADs from the reflog, commit links.
fn enrich_reflog(s: &mut sessiontrail_model::Session) {
    if s.git_branch.as_deref() == Some("HEAD") {
        s.git_branch = None;
    }
    let Some(cwd) = s.cwd.clone() else { return };
    let Ok(Some(f)) = facts(Path::new(&cwd)) else {
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
        branch: f.branch.clone(),
        head_at_start: at(s.start),
        head_moves: history
            .as_ref()
            .map(|h| {
                h.moves_between(
                    s.start.0.div_euclid(1_000_000_000),
                    s.end.0.div_euclid(1_000_000_000),
                )
                .into_iter()
                .map(|(t, sha)| {
                    (
                        sessiontrail_model::Timestamp(t.saturating_mul(1_000_000_000)),
                        sha,
                    )
                })
                .collect()
            })
            .unwrap_or_default(),
        reconstructed: true,
    });
    for t in &mut s.tools {
        t.head = at(t.start);
    }
    link_reported_commits(s, &cwd);
    link_overlapping_commits(s, &f.root);
}

/// Adds the commits the post-commit hook linked to this session before (the store keeps
/// them), so a re-export lists them at the root and keeps their spans, now linked to the calls
/// that wrote their files. A link found now by the agent's own `git commit` stays; one found
/// by file overlap yields to the hook's, which is stronger evidence.
pub fn add_hook_links(
    s: &mut sessiontrail_model::Session,
    hooked: Vec<sessiontrail_model::LinkedCommit>,
) {
    if hooked.is_empty() {
        return;
    }
    let root = s
        .cwd
        .as_deref()
        .and_then(|c| facts(Path::new(c)).ok().flatten())
        .map(|f| f.root);
    for mut h in hooked {
        match s.commits.iter_mut().find(|c| c.sha == h.sha) {
            Some(c) if c.method == LinkMethod::FileOverlap => c.method = LinkMethod::Hook,
            Some(_) => {}
            None => {
                h.method = LinkMethod::Hook;
                h.writers = writers_of(s, root.as_deref(), &h.files);
                if let Some(r) = &root {
                    h.repo = r.display().to_string();
                }
                s.commits.push(h);
            }
        }
    }
    s.commits.sort_by_key(|c| c.time);
}

/// How long after its last record a session's work may still be committed by someone else.
const OVERLAP_AFTER_SECS: i64 = 3600;

/// Links commits made during the session (or within an hour after it) that change files the
/// session wrote, when the committed content matches what the agent wrote where that can be
/// checked (a Write carries the whole content; an edit cannot be checked and is taken).
fn link_overlapping_commits(s: &mut sessiontrail_model::Session, root: &Path) {
    let Ok(repo) = git2::Repository::open(root) else {
        return;
    };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let written: Vec<(usize, String)> = s
        .tools
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.access.iter().filter_map(move |a| match a {
                sessiontrail_model::Access::FileWrite(p) => Some((i, p.clone())),
                _ => None,
            })
        })
        .filter_map(|(i, p)| {
            let p = Path::new(&p);
            let abs = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            abs.strip_prefix(&root)
                .ok()
                .map(|rel| (i, rel.to_string_lossy().into_owned()))
        })
        .collect();
    if written.is_empty() {
        return;
    }
    let (from, to) = (
        s.start.0.div_euclid(1_000_000_000),
        s.end.0.div_euclid(1_000_000_000) + OVERLAP_AFTER_SECS,
    );
    let Ok(mut walk) = repo.revwalk() else { return };
    let _ = walk.set_sorting(git2::Sort::TIME);
    let _ = walk.push_head();
    let _ = walk.push_glob("refs/heads/*");
    for id in walk.flatten() {
        let Ok(commit) = repo.find_commit(id) else {
            continue;
        };
        let time = commit.committer().when().seconds();
        if time < from {
            break;
        }
        if time > to || s.commits.iter().any(|c| c.sha == id.to_string()) {
            continue;
        }
        let files = changed_files(&repo, &commit);
        let writers: Vec<usize> = written
            .iter()
            .filter(|(_, f)| files.contains(f))
            .map(|(i, _)| *i)
            .collect();
        if writers.is_empty() || !content_matches(&repo, &commit, s, &written, &writers) {
            continue;
        }
        let mut writers = writers;
        writers.dedup();
        s.commits.push(sessiontrail_model::LinkedCommit {
            sha: id.to_string(),
            branch: branch_of(&repo, id),
            time: sessiontrail_model::Timestamp(time.saturating_mul(1_000_000_000)),
            files,
            method: LinkMethod::FileOverlap,
            reported_by: None,
            writers,
            repo: root.display().to_string(),
        });
    }
}

/// Whether, for each overlapping file whose last write carried its whole content, the commit
/// holds that content; files only edited cannot be checked and count as matching.
fn content_matches(
    repo: &git2::Repository,
    commit: &git2::Commit<'_>,
    s: &sessiontrail_model::Session,
    written: &[(usize, String)],
    writers: &[usize],
) -> bool {
    let sha256 = |b: &[u8]| -> [u8; 32] {
        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(b)).into()
    };
    let Ok(tree) = commit.tree() else {
        return false;
    };
    let mut checked_any = false;
    let mut matched_any = false;
    for (i, file) in written.iter().filter(|(i, _)| writers.contains(i)) {
        let Some(want) = s.tools[*i].written_sha256 else {
            continue;
        };
        // Only the session's last write of a file can match the committed content.
        if written.iter().any(|(j, f)| f == file && j > i) {
            continue;
        }
        checked_any = true;
        let blob = tree
            .get_path(Path::new(file))
            .ok()
            .and_then(|e| e.to_object(repo).ok())
            .and_then(|o| o.into_blob().ok());
        if blob.is_some_and(|b| sha256(b.content()) == want) {
            matched_any = true;
        }
    }
    !checked_any || matched_any
}

/// Links the commits the agent reported making, once each is found in the repository, made
/// around the call that reported it, and still reachable (an amended-away commit is not).
fn link_reported_commits(s: &mut sessiontrail_model::Session, cwd: &str) {
    for i in 0..s.tools.len() {
        let t = &s.tools[i];
        if !t.ran_commit {
            continue;
        }
        let dir = match &t.commit_dir {
            Some(d) if Path::new(d).is_absolute() => PathBuf::from(d),
            Some(d) => Path::new(cwd).join(d),
            None => PathBuf::from(cwd),
        };
        let Ok(repo) = git2::Repository::discover(&dir) else {
            continue;
        };
        let window = (
            t.start.0.div_euclid(1_000_000_000) - COMMIT_SLACK_SECS,
            t.end.unwrap_or(t.start).0.div_euclid(1_000_000_000) + COMMIT_SLACK_SECS,
        );
        let mut candidates: Vec<git2::Oid> = t
            .commits_reported
            .iter()
            .filter_map(|short| repo.revparse_single(short).ok().map(|o| o.id()))
            .collect();
        if t.commits_reported.is_empty() {
            // `-q` or output not shown: the commits HEAD's reflog records during the call.
            candidates = commits_during(&repo, t.start.0, t.end.unwrap_or(t.start).0);
        }
        for id in candidates {
            let Some(commit) = repo
                .find_object(id, None)
                .ok()
                .and_then(|o| o.peel_to_commit().ok())
            else {
                continue;
            };
            let time = commit.committer().when().seconds();
            if time < window.0
                || time > window.1
                || !reachable(&repo, commit.id())
                || s.commits.iter().any(|c| c.sha == commit.id().to_string())
            {
                continue;
            }
            let files = changed_files(&repo, &commit);
            let root = repo.workdir().map(Path::to_path_buf);
            let writers = writers_of(s, root.as_deref(), &files);
            s.commits.push(sessiontrail_model::LinkedCommit {
                sha: commit.id().to_string(),
                branch: branch_of(&repo, commit.id()),
                time: sessiontrail_model::Timestamp(time.saturating_mul(1_000_000_000)),
                files,
                method: LinkMethod::AgentRanCommit,
                reported_by: Some(i),
                writers,
                repo: root
                    .as_deref()
                    .map(|r| r.display().to_string())
                    .unwrap_or_default(),
            });
        }
    }
}

/// Commits HEAD's reflog records as made (`commit:`, `commit (amend):`...) between `from_ns`
/// and `to_ns`, with a second of slack for the reflog's whole seconds.
fn commits_during(repo: &git2::Repository, from_ns: i64, to_ns: i64) -> Vec<git2::Oid> {
    let (from, to) = (
        from_ns.div_euclid(1_000_000_000) - 1,
        to_ns.div_euclid(1_000_000_000) + 1,
    );
    let Ok(log) = repo.reflog("HEAD") else {
        return Vec::new();
    };
    log.iter()
        .filter(|e| {
            e.message()
                .ok()
                .flatten()
                .is_some_and(|m| m.starts_with("commit"))
        })
        .filter(|e| (from..=to).contains(&e.committer().when().seconds()))
        .map(|e| e.id_new())
        .collect()
}

/// Whether a branch or HEAD reaches `id`.
fn reachable(repo: &git2::Repository, id: git2::Oid) -> bool {
    let mut tips: Vec<git2::Oid> = repo
        .head()
        .ok()
        .and_then(|h| h.target())
        .into_iter()
        .collect();
    if let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) {
        tips.extend(branches.flatten().filter_map(|(b, _)| b.get().target()));
    }
    tips.iter()
        .any(|&tip| tip == id || repo.graph_descendant_of(tip, id).unwrap_or(false))
}

/// The branch whose tip is `id` or descends from it, preferring HEAD's.
fn branch_of(repo: &git2::Repository, id: git2::Oid) -> Option<String> {
    let head = repo.head().ok()?;
    if head.is_branch()
        && head
            .target()
            .is_some_and(|t| t == id || repo.graph_descendant_of(t, id).unwrap_or(false))
    {
        return head.shorthand().ok().map(str::to_owned);
    }
    let branches = repo.branches(Some(git2::BranchType::Local)).ok()?;
    branches.flatten().find_map(|(b, _)| {
        let t = b.get().target()?;
        (t == id || repo.graph_descendant_of(t, id).unwrap_or(false))
            .then(|| b.name().ok().flatten().map(str::to_owned))
            .flatten()
    })
}

/// Paths a commit changed against its first parent, relative to the repository root.
fn changed_files(repo: &git2::Repository, commit: &git2::Commit<'_>) -> Vec<String> {
    let tree = commit.tree().ok();
    let parent = commit.parent(0).ok().and_then(|p| p.tree().ok());
    let Ok(diff) = repo.diff_tree_to_tree(parent.as_ref(), tree.as_ref(), None) else {
        return Vec::new();
    };
    let mut files: Vec<String> = diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Tool calls of the session that wrote one of `files`.
fn writers_of(
    s: &sessiontrail_model::Session,
    root: Option<&Path>,
    files: &[String],
) -> Vec<usize> {
    let Some(root) = root else { return Vec::new() };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    s.tools
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.access.iter().any(|a| match a {
                sessiontrail_model::Access::FileWrite(p) => {
                    let p = Path::new(p);
                    let abs = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
                    abs.strip_prefix(&root)
                        .ok()
                        .is_some_and(|rel| files.iter().any(|f| Path::new(f) == rel))
                }
                _ => false,
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// A commit as a link needs it: time, files changed, branch; `None` when `rev` is no commit.
pub fn commit_details(dir: &Path, rev: &str) -> Result<sessiontrail_model::LinkedCommit, GitError> {
    let repo =
        git2::Repository::discover(dir).map_err(|_| GitError::NotARepository(dir.to_owned()))?;
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| GitError::UnknownRevision {
            rev: rev.to_owned(),
            repo: dir.to_owned(),
        })?;
    Ok(sessiontrail_model::LinkedCommit {
        sha: commit.id().to_string(),
        branch: branch_of(&repo, commit.id()),
        time: sessiontrail_model::Timestamp(
            commit
                .committer()
                .when()
                .seconds()
                .saturating_mul(1_000_000_000),
        ),
        files: changed_files(&repo, &commit),
        method: LinkMethod::Hook,
        reported_by: None,
        writers: Vec::new(),
        repo: repo
            .workdir()
            .map(|w| w.display().to_string())
            .unwrap_or_default(),
    })
}
