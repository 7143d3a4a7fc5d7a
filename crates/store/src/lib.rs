//! The embedded store (DESIGN.md 6): one SQLite file in WAL mode that is the default sink,
//! the query index and the durable outbox. No server.
//!
//! Owns: the schema and its numbered migrations, writes of sessions and their spans, the
//! lookups behind `sessions` and `show`, and delivery bookkeeping (which span, in which
//! version, reached which sink; what a sink refused for good and is set aside; what the
//! outbox's cap gave up; how the last delivery went), how far each file was read
//! (session files and the hook spool), and what `watch` observed beside the files (HEAD as
//! it moved, the hooks' facts as redacted JSON) for every later build of a trace to use.
//!
//! Must not: speak OTLP or know span attributes. Spans arrive as encoded bytes with the few
//! columns queries need; the store keeps them byte for byte.
//!
//! Writing the same session twice changes nothing: rows are keyed by trace and span id, and
//! a span is rewritten only when its bytes differ.

#![warn(missing_docs)]

mod schema;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the store {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was written by a newer sessiontrail.
    #[error("the store {} has schema version {found}; this sessiontrail knows up to {known}", path.display())]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// A query failed.
    #[error("store query failed")]
    Sql(#[from] rusqlite::Error),
    /// No stored session matches.
    #[error("no stored session matches '{0}'")]
    NotFound(String),
    /// Several stored sessions match.
    #[error("'{prefix}' matches {} sessions: {}", candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// What was asked.
        prefix: String,
        /// Session ids that match.
        candidates: Vec<String>,
    },
    /// Another process held the store's write lock for longer than we wait.
    #[error("the store {} is locked: {holders} has held it for more than {} s", path.display(), LOCK_WAIT.as_secs())]
    Locked {
        /// The file.
        path: PathBuf,
        /// Who holds it, as far as the system says (`process 4242 (sessiontrail)`).
        holders: String,
    },
}

/// How long a writer waits for another's lock on the store before it gives up.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One session's row: what a listing shows without reading spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Trace id.
    pub trace_id: [u8; 16],
    /// Agent name.
    pub agent: String,
    /// Agent's session id.
    pub session_id: String,
    /// Working directory.
    pub project: Option<String>,
    /// First record, Unix nanoseconds.
    pub start_ns: i64,
    /// Last record, Unix nanoseconds.
    pub end_ns: i64,
    /// Turns.
    pub turns: u64,
    /// Model calls.
    pub model_calls: u64,
    /// Tool calls.
    pub tool_calls: u64,
    /// Spans with status ERROR.
    pub errors: u64,
    /// Spans stored.
    pub spans: u64,
    /// Input tokens, cached or not.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

/// A span as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRow {
    /// Span id.
    pub span_id: [u8; 8],
    /// Parent span id, if any.
    pub parent_span_id: Option<[u8; 8]>,
    /// Span name.
    pub name: String,
    /// Start, Unix nanoseconds.
    pub start_ns: i64,
    /// End, Unix nanoseconds.
    pub end_ns: i64,
    /// Whether its status is ERROR.
    pub error: bool,
    /// The encoded span.
    pub body: Vec<u8>,
}

/// A session to write: its row, its encoded resource, and every span of one origin.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The row.
    pub row: SessionRow,
    /// The encoded resource of its spans.
    pub resource: Vec<u8>,
    /// Where the spans come from (`transcript`, later `git`); spans of this origin that are
    /// no longer produced are removed, others are left alone.
    pub origin: &'static str,
    /// The spans.
    pub spans: Vec<SpanRow>,
    /// Whether `spans` is only part of the session's spans (a live session's final ones):
    /// then none already stored is removed.
    pub partial: bool,
    /// Tool calls of this session that matched sensitive-access rules (replaces the
    /// session's previous list).
    pub sensitive: Vec<SensitiveRow>,
    /// Commits linked to this session (replaces the session's previous list).
    pub commits: Vec<CommitRow>,
    /// How far each of its files was read (replaces the checkpoints of those files).
    pub checkpoints: Vec<CheckpointRow>,
}

/// How far a session file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    /// The file, as it was named when read.
    pub path: String,
    /// Its device and inode: the same file after a rename, another one under its name.
    pub identity: Option<(u64, u64)>,
    /// Bytes read: every line before it is in the session's spans.
    pub offset: u64,
    /// Lines read.
    pub line: u64,
    /// When it was written, Unix nanoseconds.
    pub updated_ns: i64,
}

/// A commit linked to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRow {
    /// Full SHA.
    pub sha: String,
    /// The `git commit` span.
    pub span_id: [u8; 8],
    /// How it was linked.
    pub method: String,
    /// Committer time, Unix nanoseconds.
    pub time_ns: i64,
    /// Branch, when known.
    pub branch: Option<String>,
    /// Files it changed.
    pub files: Vec<String>,
    /// Span ids of the tool calls that wrote its files or reported it.
    pub tools: Vec<[u8; 8]>,
}

/// A commit with the session it is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLink {
    /// The session.
    pub session: SessionRow,
    /// The link.
    pub commit: CommitRow,
}

/// A tool call that matched sensitive-access rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveRow {
    /// Its span.
    pub span_id: [u8; 8],
    /// When it started, Unix nanoseconds.
    pub time_ns: i64,
    /// The tool.
    pub tool: String,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Highest severity.
    pub severity: String,
    /// What matched, per rule.
    pub targets: Vec<String>,
}

/// A sensitive access as listed, with its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveAccess {
    /// The session.
    pub session: SessionRow,
    /// The access.
    pub access: SensitiveRow,
}

/// What a write changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutStats {
    /// Spans new to the store.
    pub inserted: u64,
    /// Spans whose bytes changed.
    pub updated: u64,
    /// Spans already stored as they are.
    pub unchanged: u64,
    /// Spans of the same origin no longer produced.
    pub removed: u64,
}

impl PutStats {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        self.inserted + self.updated + self.removed > 0
    }
}

/// A span waiting for a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Span id.
    pub span_id: [u8; 8],
    /// Digest of the bytes being sent, recorded on delivery.
    pub digest: [u8; 16],
    /// The encoded span.
    pub body: Vec<u8>,
}

/// The store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    checkpoints: Option<Checkpointer>,
}

/// Bytes written between two background checkpoints: about a thousand pages, SQLite's own
/// interval.
const CHECKPOINT_BYTES: usize = 16 << 20;

/// Copies the log into the database on a thread of its own, so that a writer never waits
/// for the copy or its syncs (a slow disk made a sync take a second).
struct Checkpointer {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Bytes written since the last wake.
    written: usize,
}

impl Checkpointer {
    fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(LOCK_WAIT)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::spawn(move || {
            for () in rx {
                // Passive: copies what no reader needs and never blocks the writer.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!("background checkpoint: {e}");
                }
            }
        });
        Ok(Checkpointer {
            wake: Some(tx),
            thread: Some(thread),
            written: 0,
        })
    }

    /// Counts `bytes` just committed; wakes the thread when enough have been.
    fn wrote(&mut self, bytes: usize) {
        self.written += bytes;
        if self.written >= CHECKPOINT_BYTES {
            self.written = 0;
            // One pending wake is enough: a checkpoint copies everything committed so far.
            if let Some(w) = &self.wake {
                let _ = w.try_send(());
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`, and its parent folders.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: path.to_owned(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(Box::new(e)))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_err(Box::new(e)))?;
        conn.busy_timeout(LOCK_WAIT)
            .map_err(|e| open_err(Box::new(e)))?;
        // Switching a new store to WAL takes a lock that SQLite does not wait for: two
        // processes creating the same store at once retry until the first has done it.
        let started = std::time::Instant::now();
        loop {
            match setup(&conn) {
                Ok(()) => break,
                Err(e) if is_busy(&e) && started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) if is_busy(&e) => return Err(locked(path)),
                Err(e) => return Err(open_err(Box::new(e))),
            }
        }
        schema::migrate(&mut conn, path).map_err(|e| match e {
            StoreError::Sql(e) if is_busy(&e) => locked(path),
            e => e,
        })?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            checkpoints: None,
        })
    }

    /// From now on the log is copied into the database by a thread of this store's, not by
    /// the writes (for a long run of writes: an export, a sidecar).
    pub fn checkpoint_in_background(&mut self) -> Result<(), StoreError> {
        if self.checkpoints.is_none() {
            self.checkpoints = Some(Checkpointer::start(&self.path)?);
            // The writes still checkpoint past four times the thread's interval: the log
            // restarts only once a checkpoint has caught up before a write begins, which a
            // writer that never pauses would not let the thread do.
            self.conn
                .pragma_update(None, "wal_autocheckpoint", 4 * CHECKPOINT_BYTES / 16384)?;
        }
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes sessions in one transaction.
    pub fn put_sessions(&mut self, sessions: &[NewSession]) -> Result<Vec<PutStats>, StoreError> {
        let path = self.path.clone();
        let mut write = || -> Result<Vec<PutStats>, StoreError> {
            // Immediate: the write lock is waited for here, not refused mid-transaction.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut out = Vec::with_capacity(sessions.len());
            for s in sessions {
                out.push(put_session(&tx, s)?);
            }
            tx.commit()?;
            Ok(out)
        };
        let r = write();
        if let (Some(c), Ok(_)) = (&mut self.checkpoints, &r) {
            c.wrote(
                sessions
                    .iter()
                    .flat_map(|s| &s.spans)
                    .map(|s| s.body.len())
                    .sum(),
            );
            // The thread fell behind (a loaded machine starves it): the writer copies the
            // log itself and waits, so the log stays bounded whatever the load.
            let mut wal = self.path.clone().into_os_string();
            wal.push("-wal");
            let big =
                || std::fs::metadata(&wal).is_ok_and(|m| m.len() >= 6 * CHECKPOINT_BYTES as u64);
            if big() {
                self.restart_log();
            }
        }
        r.map_err(|e| match e {
            StoreError::Sql(e) if is_busy(&e) => locked(&path),
            e => e,
        })
    }

    /// Copies the whole log into the database and has the next write start it over,
    /// waiting (up to 5 s) for the checkpoint thread when it is copying: SQLite refuses a
    /// second checkpoint at once rather than wait for the first.
    fn restart_log(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let busy = self
                .conn
                .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
            match busy {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if is_busy(&e) => {}
                Err(e) => {
                    tracing::debug!("the writer's checkpoint failed: {e}");
                    return;
                }
            }
            if std::time::Instant::now() >= deadline {
                tracing::debug!("the log could not be restarted within 5 s");
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The checkpoints of a trace's files, by path.
    pub fn checkpoints_of(&self, trace_id: &[u8; 16]) -> Result<Vec<CheckpointRow>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT path, dev, ino, offset, line, updated_ns FROM checkpoints WHERE trace_id = ?1 ORDER BY path",
        )?;
        let rows = st.query_map([&trace_id[..]], checkpoint_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The checkpoint of the file at `path`, or of the file with `identity` (a file renamed
    /// since it was read), and the trace it belongs to.
    pub fn checkpoint(
        &self,
        path: &str,
        identity: Option<(u64, u64)>,
    ) -> Result<Option<([u8; 16], CheckpointRow)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT path, dev, ino, offset, line, updated_ns, trace_id FROM checkpoints WHERE path = ?1
             UNION ALL
             SELECT path, dev, ino, offset, line, updated_ns, trace_id FROM checkpoints WHERE dev = ?2 AND ino = ?3
             LIMIT 1",
        )?;
        let (dev, ino) = identity.map_or((None, None), |(d, i)| (Some(d as i64), Some(i as i64)));
        let mut rows = st.query_map(params![path, dev, ino], |r| {
            Ok((fixed(r.get::<_, Vec<u8>>(6)?), checkpoint_row(r)?))
        })?;
        Ok(rows.next().transpose()?)
    }

    /// Records HEAD as it was read live for a trace: `(time_ns, sha)`, each a move.
    pub fn add_heads(
        &mut self,
        trace_id: &[u8; 16],
        heads: &[(i64, String)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO heads (trace_id, time_ns, sha) VALUES (?1, ?2, ?3)",
            )?;
            for (t, sha) in heads {
                st.execute(params![&trace_id[..], t, sha])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// HEAD as read live for a trace, oldest first.
    pub fn heads(&self, trace_id: &[u8; 16]) -> Result<Vec<(i64, String)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT time_ns, sha FROM heads WHERE trace_id = ?1 ORDER BY time_ns",
        )?;
        let rows = st.query_map([&trace_id[..]], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// HEAD as read live, for every trace that has it.
    pub fn all_heads(&self) -> Result<HashMap<[u8; 16], Heads>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT trace_id, time_ns, sha FROM heads ORDER BY trace_id, time_ns",
        )?;
        let mut out: HashMap<[u8; 16], Heads> = HashMap::new();
        for r in st.query_map([], |r| {
            Ok((fixed(r.get::<_, Vec<u8>>(0)?), r.get(1)?, r.get(2)?))
        })? {
            let (t, time, sha) = r?;
            out.entry(t).or_default().push((time, sha));
        }
        Ok(out)
    }

    /// Records hook facts `(trace, time_ns, fact)` and how far the spool files they came
    /// from were read, together: a restart reads each line once. A fact recorded twice is
    /// kept once.
    pub fn add_hook_facts(
        &mut self,
        facts: &[([u8; 16], i64, String)],
        spool: &[CheckpointRow],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO hook_facts (trace_id, time_ns, fact) VALUES (?1, ?2, ?3)",
            )?;
            for (t, at, fact) in facts {
                st.execute(params![&t[..], at, fact])?;
            }
        }
        for c in spool {
            put_checkpoint(&tx, &NO_TRACE, c)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The hook facts of a trace, oldest first.
    pub fn hook_facts(&self, trace_id: &[u8; 16]) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT fact FROM hook_facts WHERE trace_id = ?1 ORDER BY time_ns, fact",
        )?;
        let rows = st.query_map([&trace_id[..]], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The hook facts of every trace that has some, oldest first.
    pub fn all_hook_facts(&self) -> Result<HashMap<[u8; 16], Vec<String>>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT trace_id, fact FROM hook_facts ORDER BY trace_id, time_ns, fact",
        )?;
        let mut out: HashMap<[u8; 16], Vec<String>> = HashMap::new();
        for r in st.query_map([], |r| Ok((fixed(r.get::<_, Vec<u8>>(0)?), r.get(1)?)))? {
            let (t, fact) = r?;
            out.entry(t).or_default().push(fact);
        }
        Ok(out)
    }

    /// Every stored session, latest first.
    pub fn sessions(&self) -> Result<Vec<SessionRow>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions ORDER BY start_ns DESC, session_id"
        ))?;
        let rows = st.query_map([], session_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sessions whose last record is at or after `end_ns` and whose first is at or before
    /// `start_ns`.
    pub fn sessions_active(
        &self,
        end_ns: i64,
        start_ns: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE end_ns >= ?1 AND start_ns <= ?2 ORDER BY start_ns DESC, session_id"
        ))?;
        let rows = st.query_map([end_ns, start_ns], session_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The session whose session id or trace id (hex) starts with `prefix`.
    pub fn find_session(&self, prefix: &str) -> Result<SessionRow, StoreError> {
        let prefix = prefix.trim();
        if prefix.is_empty() {
            return Err(StoreError::NotFound(prefix.to_owned()));
        }
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE substr(session_id, 1, length(?1)) = ?1 OR substr(lower(hex(trace_id)), 1, length(?1)) = lower(?1) ORDER BY session_id LIMIT 11"
        ))?;
        let mut rows: Vec<SessionRow> = st
            .query_map([prefix], session_row)?
            .collect::<Result<_, _>>()?;
        if let Some(exact) = rows.iter().position(|r| r.session_id == prefix) {
            return Ok(rows.swap_remove(exact));
        }
        match rows.len() {
            0 => Err(StoreError::NotFound(prefix.to_owned())),
            1 => Ok(rows.remove(0)),
            _ => Err(StoreError::Ambiguous {
                prefix: prefix.to_owned(),
                candidates: rows.into_iter().map(|r| r.session_id).collect(),
            }),
        }
    }

    /// The spans of a trace.
    pub fn spans(&self, trace_id: &[u8; 16]) -> Result<Vec<SpanRow>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT span_id, parent_span_id, name, start_ns, end_ns, error, body FROM spans WHERE trace_id = ?1 ORDER BY start_ns, parent_span_id IS NOT NULL, span_id",
        )?;
        let rows = st.query_map([&trace_id[..]], |r| {
            Ok(SpanRow {
                span_id: fixed(r.get::<_, Vec<u8>>(0)?),
                parent_span_id: r.get::<_, Option<Vec<u8>>>(1)?.map(fixed),
                name: r.get(2)?,
                start_ns: r.get(3)?,
                end_ns: r.get(4)?,
                error: r.get(5)?,
                body: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sensitive accesses since `since_ns` (Unix nanoseconds), latest first.
    pub fn sensitive(&self, since_ns: i64) -> Result<Vec<SensitiveAccess>, StoreError> {
        let cols: String = SESSION_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {cols}, h.span_id, h.time_ns, h.tool, h.rules, h.severity, h.targets FROM sensitive h JOIN sessions s ON s.trace_id = h.trace_id
             WHERE h.time_ns >= ?1 ORDER BY h.time_ns DESC, h.span_id"
        ))?;
        let rows = st.query_map([since_ns], |r| {
            let split = |s: String| {
                if s.is_empty() {
                    Vec::new()
                } else {
                    s.split('\n').map(str::to_owned).collect()
                }
            };
            Ok(SensitiveAccess {
                session: session_row(r)?,
                access: SensitiveRow {
                    span_id: fixed(r.get::<_, Vec<u8>>(13)?),
                    time_ns: r.get(14)?,
                    tool: r.get(15)?,
                    rules: split(r.get(16)?),
                    severity: r.get(17)?,
                    targets: split(r.get(18)?),
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Links a commit to a stored session after the fact (the post-commit hook), with the
    /// commit's span (origin `git`, left alone when the transcript is exported again). The
    /// span is queued for every sink the session already went to.
    pub fn add_commit_link(
        &mut self,
        trace_id: &[u8; 16],
        commit: &CommitRow,
        span: &SpanRow,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let t = &trace_id[..];
        let d = digest(&span.body);
        tx.prepare_cached(
            "INSERT INTO spans (trace_id, span_id, parent_span_id, name, start_ns, end_ns, error, origin, digest, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'git', ?8, ?9)
             ON CONFLICT (trace_id, span_id) DO UPDATE SET body = excluded.body, digest = excluded.digest",
        )?
        .execute(params![t, &span.span_id[..], span.parent_span_id.as_ref().map(|p| &p[..]), span.name, span.start_ns, span.end_ns, span.error, &d[..], span.body])?;
        let tools: Vec<u8> = commit.tools.iter().flatten().copied().collect();
        tx.prepare_cached("INSERT OR REPLACE INTO commits (sha, trace_id, span_id, method, time_ns, branch, files, tools) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?
            .execute(params![commit.sha, t, &commit.span_id[..], commit.method, commit.time_ns, commit.branch, commit.files.join("\n"), tools])?;
        tx.prepare_cached("INSERT OR IGNORE INTO outbox (sink, trace_id, queued_ns) SELECT DISTINCT sink, ?1, ?2 FROM deliveries WHERE trace_id = ?1")?.execute(params![t, now_ns()])?;
        tx.commit()?;
        Ok(())
    }

    /// Sessions linked to the commit `sha` (full), latest first.
    pub fn commit_links(&self, sha: &str) -> Result<Vec<CommitLink>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {} FROM commits c JOIN sessions s ON s.trace_id = c.trace_id WHERE c.sha = ?1 ORDER BY s.start_ns DESC", link_columns()))?;
        let rows = st.query_map([sha], commit_link)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The links the post-commit hook made, by trace: an export keeps them.
    pub fn hook_links(&self) -> Result<HashMap<[u8; 16], Vec<CommitRow>>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {} FROM commits c JOIN sessions s ON s.trace_id = c.trace_id WHERE c.method = 'hook'", link_columns()))?;
        let mut out: HashMap<[u8; 16], Vec<CommitRow>> = HashMap::new();
        for l in st.query_map([], commit_link)? {
            let l = l?;
            out.entry(l.session.trace_id).or_default().push(l.commit);
        }
        Ok(out)
    }

    /// Commits linked to a trace, latest first.
    pub fn commits_of(&self, trace_id: &[u8; 16]) -> Result<Vec<CommitLink>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("SELECT {} FROM commits c JOIN sessions s ON s.trace_id = c.trace_id WHERE c.trace_id = ?1 ORDER BY c.time_ns DESC", link_columns()))?;
        let rows = st.query_map([&trace_id[..]], commit_link)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The encoded resource of a trace's spans.
    pub fn resource(&self, trace_id: &[u8; 16]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT resource FROM sessions WHERE trace_id = ?1")?;
        Ok(st.query_row([&trace_id[..]], |r| r.get(0)).optional()?)
    }

    /// Queues traces for a sink: their spans will be delivered there.
    pub fn enqueue(&mut self, sink: &str, trace_ids: &[[u8; 16]]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO outbox (sink, trace_id, queued_ns) VALUES (?1, ?2, ?3)",
            )?;
            let now = now_ns();
            for t in trace_ids {
                st.execute(params![sink, &t[..], now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets what reached `sink` for these traces, so that everything is sent again.
    pub fn forget_deliveries(
        &mut self,
        sink: &str,
        trace_ids: &[[u8; 16]],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut st =
                tx.prepare_cached("DELETE FROM deliveries WHERE sink = ?1 AND trace_id = ?2")?;
            for t in trace_ids {
                st.execute(params![sink, &t[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Traces queued for a sink, in a stable order.
    pub fn queued(&self, sink: &str) -> Result<Vec<[u8; 16]>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT trace_id FROM outbox WHERE sink = ?1 ORDER BY trace_id")?;
        let rows = st.query_map([sink], |r| r.get::<_, Vec<u8>>(0).map(fixed))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Spans of a queued trace not yet delivered to `sink` in their current version.
    pub fn undelivered(&self, sink: &str, trace_id: &[u8; 16]) -> Result<Vec<Pending>, StoreError> {
        let mut st = self.conn.prepare_cached(concat!(
            "SELECT s.span_id, s.digest, s.body FROM spans s
             LEFT JOIN deliveries d ON d.sink = ?1 AND d.trace_id = s.trace_id AND d.span_id = s.span_id
             WHERE s.trace_id = ?2 AND ", pending!(), "
             ORDER BY s.start_ns, s.parent_span_id IS NOT NULL, s.span_id",
        ))?;
        let rows = st.query_map(params![sink, &trace_id[..]], |r| {
            Ok(Pending {
                span_id: fixed(r.get::<_, Vec<u8>>(0)?),
                digest: fixed(r.get::<_, Vec<u8>>(1)?),
                body: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many spans of the traces queued for `sink` it has not acknowledged yet.
    pub fn count_undelivered(&self, sink: &str) -> Result<u64, StoreError> {
        let mut st = self.conn.prepare_cached(concat!(
            "SELECT count(*) FROM outbox o JOIN spans s ON s.trace_id = o.trace_id
             LEFT JOIN deliveries d ON d.sink = o.sink AND d.trace_id = s.trace_id AND d.span_id = s.span_id
             WHERE o.sink = ?1 AND ",
            pending!()
        ))?;
        Ok(st.query_row([sink], |r| r.get(0))?)
    }

    /// Records that spans reached `sink` (only after the sink acknowledged them), and
    /// removes from its queue the traces that have nothing left to send.
    pub fn mark_delivered(
        &mut self,
        sink: &str,
        delivered: &[([u8; 16], [u8; 8], [u8; 16])],
        now_ns: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO deliveries (sink, trace_id, span_id, digest, delivered_ns) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (sink, trace_id, span_id) DO UPDATE SET digest = excluded.digest, delivered_ns = excluded.delivered_ns",
            )?;
            for (t, s, d) in delivered {
                st.execute(params![sink, &t[..], &s[..], &d[..], now_ns])?;
            }
            let traces: HashSet<[u8; 16]> = delivered.iter().map(|(t, _, _)| *t).collect();
            let mut done = tx.prepare_cached(OUTBOX_DONE)?;
            for t in traces {
                done.execute(params![sink, &t[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Whether span `s` (joined with its delivery `d` to sink `?1`) still waits: not
/// acknowledged in its current version, and not set aside.
macro_rules! pending {
    () => {
        "(d.digest IS NULL OR d.digest != s.digest) AND NOT EXISTS (SELECT 1 FROM set_aside a WHERE a.sink = ?1 AND a.trace_id = s.trace_id AND a.span_id = s.span_id AND a.digest = s.digest)"
    };
}
use pending;

/// HEAD as read live for one trace: `(time_ns, sha)` of each move, oldest first.
pub type Heads = Vec<(i64, String)>;

/// What waits for one sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Traces queued.
    pub traces: u64,
    /// Their spans not acknowledged yet (set-aside ones excluded).
    pub spans: u64,
    /// When the longest-waiting trace was queued.
    pub oldest_queued_ns: Option<i64>,
    /// Spans the sink refused for good, set aside.
    pub set_aside: u64,
    /// The first reason of those refusals.
    pub set_aside_reason: Option<String>,
    /// Spans and traces ever given up past the outbox cap.
    pub dropped_spans: u64,
    /// See `dropped_spans`.
    pub dropped_traces: u64,
    /// When a delivery last succeeded.
    pub last_ok_ns: Option<i64>,
    /// The last delivery failure and when it happened.
    pub last_error: Option<(String, i64)>,
}

impl Store {
    /// Sets aside spans `sink` refused for good: they are not sent again in their
    /// current version until [`Store::retry_set_aside`].
    pub fn set_aside(
        &mut self,
        sink: &str,
        spans: &[([u8; 16], [u8; 8], [u8; 16])],
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = now_ns();
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO set_aside (sink, trace_id, span_id, digest, reason, time_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (t, sp, d) in spans {
                st.execute(params![sink, &t[..], &sp[..], &d[..], reason, now])?;
            }
            let traces: HashSet<[u8; 16]> = spans.iter().map(|(t, _, _)| *t).collect();
            let mut done = tx.prepare_cached(OUTBOX_DONE)?;
            for t in traces {
                done.execute(params![sink, &t[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Queues again what `sink` refused: a new process tries it once more (a fixed
    /// configuration gets it through; a refusal sets it aside again). Returns the spans.
    pub fn retry_set_aside(&mut self, sink: &str) -> Result<u64, StoreError> {
        let now = now_ns();
        let tx = self.conn.transaction()?;
        let n: u64 = tx.query_row(
            "SELECT count(*) FROM set_aside WHERE sink = ?1",
            [sink],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO outbox (sink, trace_id, queued_ns) SELECT DISTINCT sink, trace_id, ?2 FROM set_aside WHERE sink = ?1",
            params![sink, now],
        )?;
        tx.execute("DELETE FROM set_aside WHERE sink = ?1", [sink])?;
        tx.commit()?;
        Ok(n)
    }

    /// Keeps the outbox of `sink` under `max_spans` waiting spans by giving up the traces
    /// that have waited longest (the store keeps their spans: `export` can send them
    /// again). Returns the spans and traces given up now.
    pub fn trim_outbox(&mut self, sink: &str, max_spans: u64) -> Result<(u64, u64), StoreError> {
        let mut total = self.count_undelivered(sink)?;
        if total <= max_spans {
            return Ok((0, 0));
        }
        let tx = self.conn.transaction()?;
        let (mut spans, mut traces) = (0u64, 0u64);
        {
            let oldest: Vec<Vec<u8>> = tx
                .prepare_cached(
                    "SELECT trace_id FROM outbox WHERE sink = ?1 ORDER BY queued_ns, trace_id",
                )?
                .query_map([sink], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut pending = tx.prepare_cached(concat!(
                "SELECT count(*) FROM spans s
                 LEFT JOIN deliveries d ON d.sink = ?1 AND d.trace_id = s.trace_id AND d.span_id = s.span_id
                 WHERE s.trace_id = ?2 AND ",
                pending!()
            ))?;
            let mut drop =
                tx.prepare_cached("DELETE FROM outbox WHERE sink = ?1 AND trace_id = ?2")?;
            for t in oldest {
                if total <= max_spans {
                    break;
                }
                let n: u64 = pending.query_row(params![sink, &t], |r| r.get(0))?;
                drop.execute(params![sink, &t])?;
                total = total.saturating_sub(n);
                spans += n;
                traces += 1;
            }
        }
        tx.execute(
            "INSERT INTO outbox_drops (sink, spans, traces, last_ns) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sink) DO UPDATE SET spans = spans + excluded.spans, traces = traces + excluded.traces, last_ns = excluded.last_ns",
            params![sink, spans, traces, now_ns()],
        )?;
        tx.commit()?;
        Ok((spans, traces))
    }

    /// What waits for `sink`.
    pub fn outbox_stats(&self, sink: &str) -> Result<OutboxStats, StoreError> {
        let (traces, oldest): (u64, Option<i64>) = self.conn.query_row(
            "SELECT count(*), min(queued_ns) FROM outbox WHERE sink = ?1",
            [sink],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (set_aside, reason): (u64, Option<String>) = self.conn.query_row(
            "SELECT count(*), min(reason) FROM set_aside WHERE sink = ?1",
            [sink],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (dropped_spans, dropped_traces): (u64, u64) = self
            .conn
            .query_row(
                "SELECT spans, traces FROM outbox_drops WHERE sink = ?1",
                [sink],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or_default();
        let (last_ok_ns, error, error_ns): (Option<i64>, Option<String>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT ok_ns, error, error_ns FROM sink_status WHERE sink = ?1",
                [sink],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .unwrap_or_default();
        Ok(OutboxStats {
            last_ok_ns,
            last_error: error.zip(error_ns),
            traces,
            spans: self.count_undelivered(sink)?,
            oldest_queued_ns: oldest,
            set_aside,
            set_aside_reason: reason,
            dropped_spans,
            dropped_traces,
        })
    }

    /// Records how a delivery to `sink` went: `None` for a success.
    pub fn record_delivery(&mut self, sink: &str, error: Option<&str>) -> Result<(), StoreError> {
        let now = now_ns();
        match error {
            None => self.conn.execute(
                "INSERT INTO sink_status (sink, ok_ns) VALUES (?1, ?2) ON CONFLICT (sink) DO UPDATE SET ok_ns = excluded.ok_ns",
                params![sink, now],
            )?,
            Some(e) => self.conn.execute(
                "INSERT INTO sink_status (sink, error, error_ns) VALUES (?1, ?2, ?3) ON CONFLICT (sink) DO UPDATE SET error = excluded.error, error_ns = excluded.error_ns",
                params![sink, e, now],
            )?,
        };
        Ok(())
    }

    /// The sinks the outbox or its records know.
    pub fn sinks(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT sink FROM outbox UNION SELECT sink FROM deliveries UNION SELECT sink FROM set_aside UNION SELECT sink FROM outbox_drops UNION SELECT sink FROM sink_status ORDER BY 1",
        )?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The trace of checkpoints that belong to no session.
const NO_TRACE: [u8; 16] = [0; 16];

/// Removes from `sink`'s queue (?1) a trace (?2) with nothing left to send.
const OUTBOX_DONE: &str = concat!("DELETE FROM outbox WHERE sink = ?1 AND trace_id = ?2 AND NOT EXISTS (
   SELECT 1 FROM spans s LEFT JOIN deliveries d ON d.sink = ?1 AND d.trace_id = s.trace_id AND d.span_id = s.span_id
   WHERE s.trace_id = ?2 AND ",
    pending!(),
    ")"
);

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

const SESSION_COLUMNS: &str = "trace_id, agent, session_id, project, start_ns, end_ns, turns, model_calls, tool_calls, errors, spans, input_tokens, output_tokens";

fn link_columns() -> String {
    let session: Vec<String> = SESSION_COLUMNS
        .split(", ")
        .map(|c| format!("s.{c}"))
        .collect();
    format!(
        "{}, c.sha, c.span_id, c.method, c.time_ns, c.branch, c.files, c.tools",
        session.join(", ")
    )
}

fn commit_link(r: &rusqlite::Row<'_>) -> rusqlite::Result<CommitLink> {
    let files: String = r.get(18)?;
    let tools: Vec<u8> = r.get(19)?;
    Ok(CommitLink {
        session: session_row(r)?,
        commit: CommitRow {
            sha: r.get(13)?,
            span_id: fixed(r.get::<_, Vec<u8>>(14)?),
            method: r.get(15)?,
            time_ns: r.get(16)?,
            branch: r.get(17)?,
            files: if files.is_empty() {
                Vec::new()
            } else {
                files.split('\n').map(str::to_owned).collect()
            },
            tools: tools.chunks_exact(8).map(|c| fixed(c.to_vec())).collect(),
        },
    })
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        trace_id: fixed(r.get::<_, Vec<u8>>(0)?),
        agent: r.get(1)?,
        session_id: r.get(2)?,
        project: r.get(3)?,
        start_ns: r.get(4)?,
        end_ns: r.get(5)?,
        turns: r.get(6)?,
        model_calls: r.get(7)?,
        tool_calls: r.get(8)?,
        errors: r.get(9)?,
        spans: r.get(10)?,
        input_tokens: r.get(11)?,
        output_tokens: r.get(12)?,
    })
}

/// Copies a stored id into a fixed array (ids are written by us, always of the right size).
fn fixed<const N: usize>(v: Vec<u8>) -> [u8; N] {
    let mut out = [0u8; N];
    let n = v.len().min(N);
    out[..n].copy_from_slice(&v[..n]);
    out
}

/// What tells two versions of a span apart. Not a security boundary (the bytes are ours),
/// so a fast 128-bit hash rather than SHA-256: every stored byte goes through it.
fn digest(body: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(body).to_le_bytes()
}

fn put_session(tx: &rusqlite::Transaction<'_>, s: &NewSession) -> Result<PutStats, StoreError> {
    let r = &s.row;
    let t = &r.trace_id[..];
    tx.prepare_cached(
        "INSERT INTO sessions (trace_id, agent, session_id, project, start_ns, end_ns, turns, model_calls, tool_calls, errors, spans, input_tokens, output_tokens, resource)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (trace_id) DO UPDATE SET agent = excluded.agent, session_id = excluded.session_id, project = excluded.project,
           start_ns = excluded.start_ns, end_ns = excluded.end_ns, turns = excluded.turns, model_calls = excluded.model_calls,
           tool_calls = excluded.tool_calls, errors = excluded.errors, spans = excluded.spans, input_tokens = excluded.input_tokens,
           output_tokens = excluded.output_tokens, resource = excluded.resource",
    )?
    .execute(params![
        t,
        r.agent,
        r.session_id,
        r.project,
        r.start_ns,
        r.end_ns,
        r.turns,
        r.model_calls,
        r.tool_calls,
        r.errors,
        r.spans,
        r.input_tokens,
        r.output_tokens,
        s.resource
    ])?;
    let mut stats = PutStats::default();
    // A partial write removes nothing: what is stored already need not be read.
    let existing: HashSet<[u8; 8]> = if s.partial {
        HashSet::new()
    } else {
        let mut st =
            tx.prepare_cached("SELECT span_id FROM spans WHERE trace_id = ?1 AND origin = ?2")?;
        st.query_map(params![t, s.origin], |row| {
            row.get::<_, Vec<u8>>(0).map(fixed)
        })?
        .collect::<Result<_, _>>()?
    };
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, name, start_ns, end_ns, error, origin, digest, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE spans SET parent_span_id = ?3, name = ?4, start_ns = ?5, end_ns = ?6, error = ?7, origin = ?8, digest = ?9, body = ?10
         WHERE trace_id = ?1 AND span_id = ?2 AND digest != ?9",
    )?;
    let mut produced = HashSet::with_capacity(s.spans.len());
    for sp in &s.spans {
        produced.insert(sp.span_id);
        let d = digest(&sp.body);
        let values = params![
            t,
            &sp.span_id[..],
            sp.parent_span_id.as_ref().map(|p| &p[..]),
            sp.name,
            sp.start_ns,
            sp.end_ns,
            sp.error,
            s.origin,
            &d[..],
            sp.body
        ];
        if insert.execute(values)? == 1 {
            stats.inserted += 1;
        } else if update.execute(values)? == 1 {
            stats.updated += 1;
        } else {
            stats.unchanged += 1;
        }
    }
    tx.prepare_cached("DELETE FROM sensitive WHERE trace_id = ?1")?
        .execute([t])?;
    let mut hit = tx.prepare_cached("INSERT INTO sensitive (trace_id, span_id, time_ns, tool, rules, severity, targets) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
    for h in &s.sensitive {
        hit.execute(params![
            t,
            &h.span_id[..],
            h.time_ns,
            h.tool,
            h.rules.join("\n"),
            h.severity,
            h.targets.join("\n")
        ])?;
    }
    // Links the hook made are not the transcript's to remove.
    tx.prepare_cached("DELETE FROM commits WHERE trace_id = ?1 AND method != 'hook'")?
        .execute([t])?;
    let mut link = tx.prepare_cached(
        "INSERT OR REPLACE INTO commits (sha, trace_id, span_id, method, time_ns, branch, files, tools) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for c in &s.commits {
        let tools: Vec<u8> = c.tools.iter().flatten().copied().collect();
        link.execute(params![
            c.sha,
            t,
            &c.span_id[..],
            c.method,
            c.time_ns,
            c.branch,
            c.files.join("\n"),
            tools
        ])?;
    }
    let mut delete = tx.prepare_cached("DELETE FROM spans WHERE trace_id = ?1 AND span_id = ?2")?;
    for gone in existing.difference(&produced) {
        delete.execute(params![t, &gone[..]])?;
        stats.removed += 1;
    }
    for c in &s.checkpoints {
        put_checkpoint(tx, t, c)?;
    }
    Ok(stats)
}

fn put_checkpoint(conn: &Connection, trace_id: &[u8], c: &CheckpointRow) -> rusqlite::Result<()> {
    // SQLite integers are signed: identities and offsets are stored as their bits.
    let (dev, ino) = c
        .identity
        .map_or((None, None), |(d, i)| (Some(d as i64), Some(i as i64)));
    conn.prepare_cached(
        "INSERT INTO checkpoints (path, trace_id, dev, ino, offset, line, updated_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (path) DO UPDATE SET trace_id = excluded.trace_id, dev = excluded.dev, ino = excluded.ino,
           offset = excluded.offset, line = excluded.line, updated_ns = excluded.updated_ns",
    )?
    .execute(params![
        c.path,
        trace_id,
        dev,
        ino,
        c.offset as i64,
        c.line as i64,
        c.updated_ns
    ])?;
    Ok(())
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CheckpointRow> {
    let dev: Option<i64> = r.get(1)?;
    let ino: Option<i64> = r.get(2)?;
    Ok(CheckpointRow {
        path: r.get(0)?,
        identity: dev.zip(ino).map(|(d, i)| (d as u64, i as u64)),
        offset: r.get::<_, i64>(3)? as u64,
        line: r.get::<_, i64>(4)? as u64,
        updated_ns: r.get(5)?,
    })
}

#[cfg(test)]
mod tests;

/// What every connection sets before the schema: 16 KB pages (a span is a few KB: they hold
/// several, and an export makes a quarter of the write calls; a no-op on an existing
/// store), WAL, and syncs at checkpoints only.
fn setup(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "page_size", 16384)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn locked(path: &Path) -> StoreError {
    StoreError::Locked {
        path: path.to_owned(),
        holders: lock_holders(path),
    }
}

/// The processes that hold a lock on the store's files, from `/proc/locks` (SQLite locks
/// with `fcntl`): `process 4242 (sessiontrail)`.
fn lock_holders(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut inodes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(m) = std::fs::metadata(&p) {
            inodes.push(m.ino());
        }
    }
    let me = std::process::id();
    let mut pids: Vec<u32> = std::fs::read_to_string("/proc/locks")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // `1: POSIX  ADVISORY  WRITE 4242 08:01:1234 0 EOF`; a waiter's line has `->`.
            let f = if f.get(1) == Some(&"->") {
                return None;
            } else {
                f
            };
            let pid: u32 = f.get(4)?.parse().ok()?;
            let ino: u64 = f.get(5)?.rsplit(':').next()?.parse().ok()?;
            (inodes.contains(&ino) && pid != me).then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    if pids.is_empty() {
        return "another process".to_owned();
    }
    pids.iter()
        .map(
            |pid| match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
                Ok(c) => format!("process {pid} ({})", c.trim()),
                Err(_) => format!("process {pid}"),
            },
        )
        .collect::<Vec<_>>()
        .join(", ")
}
