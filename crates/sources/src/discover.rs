//! Finding session files and grouping them into sessions, by content rather than by name.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use sessiontrail_model::AgentKind;

use crate::adapter::{ADAPTERS, Recognised};
use crate::claude_code;
use crate::lines::{Line, LineReader};
use crate::report::{Issue, IssueKind};

/// Lines read from the head of a file to recognise it.
const PEEK_LINES: u64 = 256;

/// The files of one session, in the order they are read: subagent files first, so that the
/// complete copy of a subagent's records is seen before the partial one in its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFiles {
    /// The agent that wrote them.
    pub agent: AgentKind,
    /// The agent's session id.
    pub session_id: String,
    /// Files to read.
    pub files: Vec<PathBuf>,
    /// How each of `files` is named to the user: its path, or the stream it was copied
    /// from (`/dev/fd/63` for `<(cat s.jsonl)`).
    pub names: Vec<String>,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Sessions, largest first (so parallel workers finish together).
    pub sessions: Vec<SessionFiles>,
    /// Files that could not be used.
    pub issues: Vec<Issue>,
    /// Where streams named on the command line were copied to be read (removed when the
    /// discovery is dropped).
    pub spool: Option<tempfile::TempDir>,
}

/// Where Claude Code keeps its projects: `$CLAUDE_CONFIG_DIR/projects` or
/// `~/.claude/projects`.
pub fn claude_projects_dir(
    claude_config_dir: Option<&Path>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    match claude_config_dir {
        Some(d) => Some(d.join("projects")),
        None => home.map(|h| h.join(".claude").join("projects")),
    }
}

/// Finds the session files under `roots` (files are taken as given, folders are searched for
/// regular `*.jsonl` files), recognises each by its records and groups them into sessions. A
/// file named directly brings its subagent files along; a stream named directly (a pipe,
/// `<(cat s.jsonl)`) is copied once to a temporary file and read from there.
pub fn discover(roots: &[PathBuf], max_line_bytes: usize) -> Discovery {
    let mut found = Discovery::default();
    let mut candidates = BTreeSet::new();
    let mut explicit = Vec::new();
    let mut names: BTreeMap<PathBuf, String> = BTreeMap::new();
    for root in roots {
        match fs::metadata(root) {
            Ok(m) if m.is_dir() => walk(root, &mut candidates, &mut found.issues),
            Ok(m) if m.is_file() => {
                candidates.insert(root.clone());
                explicit.push(root.clone());
            }
            Ok(_) => match spool(root, &mut found.spool, names.len()) {
                Ok(copy) => {
                    names.insert(copy.clone(), root.display().to_string());
                    candidates.insert(copy);
                }
                Err(e) => found.issues.push(Issue {
                    path: root.display().to_string(),
                    line: None,
                    kind: IssueKind::Unreadable,
                    detail: format!("cannot read the stream: {}", claude_code::io_reason(&e)),
                }),
            },
            Err(e) => found.issues.push(Issue {
                path: root.display().to_string(),
                line: None,
                kind: IssueKind::Unreadable,
                detail: format!("cannot read: {}", claude_code::io_reason(&e)),
            }),
        }
    }
    // Files of explicitly named transcripts that sit elsewhere (subagents), as their agent
    // lays them out (kept only if their session id matches, below).
    let mut companions = BTreeSet::new();
    for file in &explicit {
        let Ok((agent, _)) = peek(file, "", max_line_bytes) else {
            continue;
        };
        for p in crate::adapter::adapter(agent).companions(file) {
            if !candidates.contains(&p) {
                companions.insert(p);
            }
        }
    }
    // Per agent and session: subagent files, main files, bytes.
    type Groups = BTreeMap<(AgentKind, String), (Vec<PathBuf>, Vec<PathBuf>, u64)>;
    let mut groups = Groups::new();
    let mut seen = BTreeSet::new();
    let all = candidates
        .iter()
        .map(|p| (p, false))
        .chain(companions.iter().map(|p| (p, true)));
    let mut companion_peeks = Vec::new();
    for (path, companion) in all {
        // The same file reached twice (a folder and a file in it) is read once.
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            continue;
        }
        let shown = names
            .get(path)
            .cloned()
            .unwrap_or_else(|| path.display().to_string());
        match peek(path, &shown, max_line_bytes) {
            Ok((agent, (p, size))) => {
                let id = (agent, p.session_id.clone().unwrap_or_else(|| stem(path)));
                if companion {
                    companion_peeks.push((path.clone(), id, p.subagent.is_some(), size));
                    continue;
                }
                let g = groups.entry(id).or_default();
                if p.subagent.is_some() {
                    g.0.push(path.clone())
                } else {
                    g.1.push(path.clone())
                }
                g.2 += size;
            }
            Err(issue) => {
                if !companion {
                    found.issues.push(issue);
                }
            }
        }
    }
    for (path, id, sub, size) in companion_peeks {
        if let Some(g) = groups.get_mut(&id) {
            if sub {
                g.0.push(path)
            } else {
                g.1.push(path)
            }
            g.2 += size;
        }
    }
    found.sessions = groups
        .into_iter()
        .map(|((agent, session_id), (subs, mains, bytes))| {
            let files: Vec<PathBuf> = subs.into_iter().chain(mains).collect();
            SessionFiles {
                agent,
                session_id,
                names: files
                    .iter()
                    .map(|p| {
                        names
                            .get(p)
                            .cloned()
                            .unwrap_or_else(|| p.display().to_string())
                    })
                    .collect(),
                files,
                bytes,
            }
        })
        .collect();
    found.sessions.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    found
}

/// Copies the stream at `path` into a file of the spool folder (made on first use).
fn spool(path: &Path, dir: &mut Option<tempfile::TempDir>, n: usize) -> std::io::Result<PathBuf> {
    let d = match dir {
        Some(d) => d,
        None => dir.insert(tempfile::Builder::new().prefix("sessiontrail-").tempdir()?),
    };
    let copy = d.path().join(format!("stream-{n}.jsonl"));
    std::io::copy(&mut File::open(path)?, &mut File::create(&copy)?)?;
    Ok(copy)
}

fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// The session files under the folders `roots` (as [`discover`] would search them), with
/// their sizes, sorted: a cheap way to tell that nothing appeared or grew.
pub fn listing(roots: &[PathBuf]) -> Vec<(PathBuf, u64)> {
    let mut files = BTreeSet::new();
    let mut issues = Vec::new();
    for r in roots {
        if r.is_dir() {
            walk(r, &mut files, &mut issues);
        }
    }
    files
        .into_iter()
        .map(|p| {
            let len = fs::metadata(&p).map_or(0, |m| m.len());
            (p, len)
        })
        .collect()
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>, issues: &mut Vec<Issue>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            issues.push(Issue {
                path: dir.display().to_string(),
                line: None,
                kind: IssueKind::Unreadable,
                detail: format!("cannot list folder: {}", claude_code::io_reason(&e)),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // Symlinked folders are not followed: they can loop.
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, out, issues);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            // A FIFO would block the open until someone writes to it.
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => {
                    out.insert(path);
                }
                Ok(_) => issues.push(Issue {
                    path: path.display().to_string(),
                    line: None,
                    kind: IssueKind::Unreadable,
                    detail: "not a regular file (a FIFO, socket or device): name it on the command line to read it as a stream".into(),
                }),
                Err(e) => issues.push(Issue {
                    path: path.display().to_string(),
                    line: None,
                    kind: IssueKind::Unreadable,
                    detail: format!("cannot read: {}", claude_code::io_reason(&e)),
                }),
            }
        }
    }
}

/// Recognises a file from its first records, by asking every adapter.
#[allow(clippy::type_complexity)]
fn peek(
    path: &Path,
    shown: &str,
    max_line_bytes: usize,
) -> Result<(AgentKind, (Recognised, u64)), Issue> {
    let issue = |kind, detail: String| Issue {
        path: shown.to_owned(),
        line: None,
        kind,
        detail,
    };
    let file = File::open(path).map_err(|e| {
        issue(
            IssueKind::Unreadable,
            format!("cannot open: {}", claude_code::io_reason(&e)),
        )
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(issue(IssueKind::EmptyFile, "empty file".into()));
    }
    let mut reader = LineReader::new(BufReader::new(file), max_line_bytes);
    let mut recognised: Option<(AgentKind, Recognised)> = None;
    while let Ok(Some(line)) = reader.next_line() {
        let Line::Complete { number, bytes, .. } = line else {
            continue;
        };
        for a in ADAPTERS {
            if let Some(r) = a.recognise(bytes) {
                if r.session_id.is_some() {
                    return Ok((a.agent(), (r, size)));
                }
                recognised.get_or_insert((a.agent(), r));
            }
        }
        if number >= PEEK_LINES {
            break;
        }
    }
    recognised.map(|(a, r)| (a, (r, size))).ok_or_else(|| {
        issue(
            IssueKind::UnknownFormat,
            "not a session transcript of a known agent".into(),
        )
    })
}
