//! Every session under a set of folders, followed as it is written: what `watch` drives.
//! Each [`Watcher::tick`] finds the sessions that appeared, reads the hook spool (its facts
//! stored with its checkpoint and given to their sessions), polls every open one (its
//! final spans stored with its checkpoints), and finishes the sessions the agent ended or
//! that stayed idle past the timeout. A finished
//! session whose files grow again is followed again: what is already stored is not written
//! twice, and its root is written again once it finishes.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sessiontrail_model::{HookFact, Timestamp};
use sessiontrail_sources::{FileIdentity, Finish, Issue, SessionFiles, hooks, spool};
use sessiontrail_store::Store;

use crate::{Access, Live, Options, PipelineError};

/// How often the folders are searched for new session files.
const RESCAN: Duration = Duration::from_secs(1);

/// What a tick saw, for the driver to report and act on.
#[derive(Debug)]
pub enum WatchEvent {
    /// A session is followed (new, or grown again after it finished).
    Opened {
        /// Its id.
        session_id: String,
        /// Its main file.
        path: PathBuf,
    },
    /// Spans of a session became final and were stored.
    Stored {
        /// The session's trace.
        trace_id: [u8; 16],
        /// Spans stored by this tick.
        spans: u64,
    },
    /// A session was finished and its whole trace stored.
    Finished {
        /// Its id.
        session_id: String,
        /// The trace, when the files held a session.
        trace_id: Option<[u8; 16]>,
        /// Why.
        reason: Finish,
        /// Spans of the whole trace.
        spans: u64,
    },
    /// Complete lines read from session files.
    Read {
        /// How many.
        lines: u64,
    },
    /// A sensitive access read live: reported once, when its record is read, if it
    /// happened within the idle timeout (older ones are history: `query --sensitive`).
    Sensitive(Access),
    /// A session file or spool line that cannot be used (the rest goes on).
    Problem(String),
    /// Input skipped inside a session's files (a line that is not JSON...), once each.
    Skipped(Issue),
}

/// The sessions under some folders, each followed by a [`Live`].
pub struct Watcher {
    roots: Vec<PathBuf>,
    opts: Options,
    idle_timeout: Duration,
    open: BTreeMap<String, Live>,
    /// Sessions finished, or whose files cannot be followed (replaced or cut), with the
    /// size of their files then: files that change bring them back.
    waiting: HashMap<String, u64>,
    spool: Option<SpoolTail>,
    /// A session's spans wait for the next read of the spool.
    soon: bool,
    last_scan: Option<Instant>,
    /// The session files and their sizes at the last search: unchanged, nothing is
    /// recognised again (reading the heads of every file each second is not idle).
    listing: Vec<(PathBuf, u64)>,
}

/// The hook spool, read from the store's checkpoint of it (from its start the first time).
/// Past [`SPOOL_ROTATE_BYTES`] read, it is renamed to `<spool>.1` and a hook's next append
/// starts a new one; the renamed file is read on for [`SPOOL_GRACE`] (a hook that opened it
/// before the rename still writes there), then deleted: the spool never grows without end.
struct SpoolTail {
    main: SpoolFile,
    /// Whether the checkpoints were read.
    loaded: bool,
    rotate_past: u64,
    /// The renamed spool still read, and since when.
    old: Option<(SpoolFile, Instant)>,
}

/// One spool file: how far it was read, the start of a line not yet complete, and the
/// offset the store holds.
struct SpoolFile {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    saved: u64,
}

/// How much of the spool is read before it is renamed and started over.
pub const SPOOL_ROTATE_BYTES: u64 = 64 << 20;

/// How long a renamed spool is read on before it is deleted.
const SPOOL_GRACE: Duration = Duration::from_secs(10);

impl SpoolFile {
    fn new(path: PathBuf) -> SpoolFile {
        SpoolFile {
            path,
            offset: 0,
            partial: Vec::new(),
            saved: 0,
        }
    }

    /// Where the next line starts.
    fn done(&self) -> u64 {
        self.offset - self.partial.len() as u64
    }

    fn identity(&self) -> Option<(u64, u64)> {
        FileIdentity::of_path(&self.path).map(|i| (i.dev, i.ino))
    }

    /// Its checkpoint row, when it moved since the last one stored.
    fn row(&self) -> Option<sessiontrail_store::CheckpointRow> {
        (self.done() != self.saved).then(|| sessiontrail_store::CheckpointRow {
            path: self.path.display().to_string(),
            identity: self.identity(),
            offset: self.done(),
            line: 0,
            updated_ns: now_ns(),
        })
    }

    /// Reads on from the store's checkpoint of this file (found by its identity if it was
    /// renamed), else from its start.
    fn load(&mut self, store: &Store) -> Result<(), PipelineError> {
        let identity = self.identity();
        let mark = store
            .checkpoint(&self.path.display().to_string(), identity)
            .map_err(PipelineError::store(store))?;
        self.offset = match mark {
            Some((_, row)) if row.identity == identity => row.offset,
            _ => 0,
        };
        self.saved = self.offset;
        Ok(())
    }
}

impl Watcher {
    /// Follows every session under `roots`; `spool`: the hook spool, read from where the
    /// store's checkpoint says the last watcher stopped (so an agent's `SessionEnd` written
    /// while nothing watched still ends its session), or from its start the first time (the
    /// facts of sessions hooked before any watcher ran are kept too).
    pub fn new(
        roots: Vec<PathBuf>,
        opts: Options,
        idle_timeout: Duration,
        spool: Option<PathBuf>,
    ) -> Watcher {
        let spool = spool.map(|path| SpoolTail {
            main: SpoolFile::new(path),
            loaded: false,
            rotate_past: SPOOL_ROTATE_BYTES,
            old: None,
        });
        Watcher {
            roots,
            opts,
            idle_timeout,
            open: BTreeMap::new(),
            waiting: HashMap::new(),
            spool,
            soon: false,
            last_scan: None,
            listing: Vec::new(),
        }
    }

    /// Searches the folders at the next tick, not up to a second later: for a driver told
    /// by the file system that a file appeared or moved.
    pub fn rescan(&mut self) {
        self.last_scan = None;
    }

    /// Sessions being followed.
    pub fn open_sessions(&self) -> usize {
        self.open.len()
    }

    /// One round: new sessions, new lines, end signals, idle sessions. A store failure
    /// stops the round (what was committed stays; the next round starts from there).
    pub fn tick(&mut self, store: &mut Store) -> Result<Vec<WatchEvent>, PipelineError> {
        let mut events = Vec::new();
        if self.last_scan.is_none_or(|t| t.elapsed() >= RESCAN) {
            self.last_scan = Some(Instant::now());
            self.scan(store, &mut events)?;
        }
        // The spool first: a fact it holds about a record is read before the record.
        let ended = self.read_spool(store, &mut events)?;
        self.soon = false;
        let ids: Vec<String> = self.open.keys().cloned().collect();
        for id in &ids {
            let Some(live) = self.open.get_mut(id) else {
                continue;
            };
            match live.poll(store) {
                Ok(p) => {
                    self.soon |= p.held;
                    if p.lines > 0 {
                        events.push(WatchEvent::Read { lines: p.lines });
                    }
                    self.alert(p.accesses, &mut events);
                    if let (Some(t), true) = (p.trace_id, p.stored > 0) {
                        events.push(WatchEvent::Stored {
                            trace_id: t,
                            spans: p.stored,
                        });
                    }
                }
                Err(PipelineError::Changed(e)) => {
                    events.push(WatchEvent::Problem(format!("{e}: no longer followed")));
                    let live = self.open.remove(id).expect("present");
                    self.waiting.insert(id.clone(), size(live.files()));
                }
                Err(e) => return Err(e),
            }
        }
        for id in ended {
            self.finish(&id, Finish::EndSignal, store, &mut events)?;
        }
        let idle: Vec<String> = self
            .open
            .iter()
            .filter(|(_, l)| idle(l) >= self.idle_timeout)
            .map(|(id, _)| id.clone())
            .collect();
        for id in idle {
            self.finish(&id, Finish::IdleTimeout, store, &mut events)?;
        }
        Ok(events)
    }

    fn scan(&mut self, store: &Store, events: &mut Vec<WatchEvent>) -> Result<(), PipelineError> {
        let roots: Vec<PathBuf> = self.roots.iter().filter(|r| r.exists()).cloned().collect();
        if roots.is_empty() {
            return Ok(());
        }
        let listing = sessiontrail_sources::listing(&roots);
        if listing == self.listing {
            return Ok(());
        }
        let found = sessiontrail_sources::discover(&roots, self.opts.parse.max_line_bytes);
        for files in found.sessions {
            let id = files.session_id.clone();
            let now = size(&files);
            if let Some(open) = self.open.get(&id) {
                if open.files().files == files.files {
                    continue;
                }
                // A file joined the session (a subagent's): follow all of them, from the
                // checkpoints of those already read.
                self.open.remove(&id);
            } else if self.waiting.get(&id) == Some(&now) {
                // Finished, or not followable: until its files change.
                continue;
            }
            self.waiting.remove(&id);
            let path = files.files.last().cloned().unwrap_or_default();
            match Live::open(files, &self.opts, store) {
                Ok(live) => {
                    events.push(WatchEvent::Opened {
                        session_id: id.clone(),
                        path,
                    });
                    self.open.insert(id, live);
                }
                Err(PipelineError::Changed(e)) => {
                    events.push(WatchEvent::Problem(format!("{e}: not followed")));
                    self.waiting.insert(id, now);
                }
                Err(e) => return Err(e),
            }
        }
        // Only once every session found is followed: a failed round searches again.
        self.listing = listing;
        Ok(())
    }

    /// The accesses recent enough to alert on.
    fn alert(&self, accesses: Vec<Access>, events: &mut Vec<WatchEvent>) {
        let now = now_ns();
        let window = self.idle_timeout.as_nanos() as i64;
        for a in accesses {
            if now.saturating_sub(a.time.0) <= window {
                events.push(WatchEvent::Sensitive(a));
            }
        }
    }

    /// Whether a session's spans wait for the spool to be read past them: the driver ticks
    /// again soon rather than at its polling interval.
    pub fn wants_tick_soon(&self) -> bool {
        self.soon
    }

    /// Reads the spool's new lines: their facts are stored with the spool's checkpoint and
    /// given to the sessions they are about; returns the sessions the agent ended.
    fn read_spool(
        &mut self,
        store: &mut Store,
        events: &mut Vec<WatchEvent>,
    ) -> Result<Vec<String>, PipelineError> {
        let Some(sp) = &mut self.spool else {
            return Ok(Vec::new());
        };
        // Taken before the read: every hook line written before this time is read now.
        let read_at = now_ns();
        if !sp.loaded {
            sp.main.load(store)?;
            let mut old = SpoolFile::new(rotated(&sp.main.path));
            if old.path.exists() {
                old.load(store)?;
                sp.old = Some((old, Instant::now()));
            }
            sp.loaded = true;
        }
        let (mut ended, mut facts) = (Vec::new(), Vec::new());
        if let Some((old, _)) = &mut sp.old {
            Self::spool_lines(old, &self.opts.parse, events, &mut ended, &mut facts);
        }
        Self::spool_lines(
            &mut sp.main,
            &self.opts.parse,
            events,
            &mut ended,
            &mut facts,
        );
        let marks: Vec<sessiontrail_store::CheckpointRow> = std::iter::once(&sp.main)
            .chain(sp.old.as_ref().map(|(o, _)| o))
            .filter_map(SpoolFile::row)
            .collect();
        if !marks.is_empty() || !facts.is_empty() {
            let rows: Vec<([u8; 16], i64, String)> = facts
                .iter()
                .map(|(t, f)| {
                    let json = serde_json::to_string(f).expect("a fact is plain data");
                    (*t, f.at, json)
                })
                .collect();
            store
                .add_hook_facts(&rows, &marks)
                .map_err(PipelineError::store(store))?;
            sp.main.saved = sp.main.done();
            if let Some((old, _)) = &mut sp.old {
                old.saved = old.done();
            }
        }
        Self::rotate(sp, events);
        for live in self.open.values_mut() {
            if let Some(t) = live.trace_id() {
                let mine: Vec<HookFact> = facts
                    .iter()
                    .filter(|(ft, _)| *ft == t)
                    .map(|(_, f)| f.clone())
                    .collect();
                live.add_facts(&mine);
            }
            live.facts_read_until(Timestamp(read_at));
        }
        Ok(ended)
    }

    /// Deletes the renamed spool once it is read and its grace is over; renames the spool
    /// once enough of it was read (its last line complete and nothing written since).
    fn rotate(sp: &mut SpoolTail, events: &mut Vec<WatchEvent>) {
        if let Some((old, since)) = &sp.old
            && since.elapsed() >= SPOOL_GRACE
            && old.partial.is_empty()
        {
            match std::fs::remove_file(&old.path) {
                Ok(()) => sp.old = None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => sp.old = None,
                Err(e) => events.push(WatchEvent::Problem(format!(
                    "cannot delete the read hook spool {}: {e}",
                    old.path.display()
                ))),
            }
        }
        let m = &sp.main;
        // Its size is asked for only once there is enough to rotate.
        if sp.old.is_some()
            || m.offset < sp.rotate_past
            || !m.partial.is_empty()
            || std::fs::metadata(&m.path).map_or(true, |md| md.len() != m.offset)
        {
            return;
        }
        let to = rotated(&m.path);
        if let Err(e) = std::fs::rename(&m.path, &to) {
            events.push(WatchEvent::Problem(format!(
                "cannot rename the hook spool {} to {}: {e}",
                m.path.display(),
                to.display()
            )));
            return;
        }
        let mut old = SpoolFile::new(to);
        old.offset = m.offset;
        old.saved = m.saved;
        sp.old = Some((old, Instant::now()));
        sp.main = SpoolFile::new(m.path.clone());
    }

    /// Reads a spool file's new complete lines: the sessions they end go to `ended`, the
    /// facts they give to `facts`.
    fn spool_lines(
        sp: &mut SpoolFile,
        opts: &sessiontrail_sources::ParseOptions,
        events: &mut Vec<WatchEvent>,
        ended: &mut Vec<String>,
        facts: &mut Vec<([u8; 16], HookFact)>,
    ) {
        let mut buf = Vec::new();
        let read = std::fs::File::open(&sp.path).and_then(|mut f| {
            let len = f.metadata()?.len();
            if len < sp.offset {
                // Replaced or cut: read the new one from its start.
                sp.offset = 0;
                sp.partial.clear();
            }
            f.seek(SeekFrom::Start(sp.offset))?;
            f.take(64 << 20).read_to_end(&mut buf)
        });
        match read {
            Ok(n) => sp.offset += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                events.push(WatchEvent::Problem(format!(
                    "cannot read the hook spool {}: {e}",
                    sp.path.display()
                )));
                return;
            }
        }
        sp.partial.extend_from_slice(&buf);
        let Some(last) = sp.partial.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = sp.partial.drain(..=last).collect();
        let now = now_ns();
        for line in complete.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let Some(e) = spool::parse_line(line) else {
                events.push(WatchEvent::Problem(format!(
                    "{}: a line that is not a spool record was skipped",
                    sp.path.display()
                )));
                continue;
            };
            let fresh = now.saturating_sub(e.received_ns) <= crate::FRESH_NS;
            if let Some((agent, session, fact)) = hooks::fact_of(&e, opts, fresh) {
                let t = sessiontrail_trace::trace_id(agent.name(), &session);
                facts.push((t, fact));
            }
            if e.event.as_deref() == Some("SessionEnd")
                && let Some(id) = e.session_id
            {
                ended.push(id);
            }
        }
    }

    fn finish(
        &mut self,
        id: &str,
        reason: Finish,
        store: &mut Store,
        events: &mut Vec<WatchEvent>,
    ) -> Result<(), PipelineError> {
        let Some(live) = self.open.remove(id) else {
            return Ok(());
        };
        let was = size(live.files());
        let done = live.finish(reason, store)?;
        for i in done.report.issues {
            events.push(WatchEvent::Skipped(i));
        }
        self.alert(done.accesses, events);
        events.push(WatchEvent::Finished {
            session_id: id.to_owned(),
            trace_id: done.trace_id,
            reason,
            spans: done.spans,
        });
        self.waiting.insert(id.to_owned(), was);
        Ok(())
    }
}

/// Where a spool is renamed to when it is started over.
fn rotated(path: &std::path::Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

/// How long a session's files have not been written: their newest modification time (a
/// session found long after its last line is idle at once), else the time since they grew.
fn idle(l: &Live) -> Duration {
    let newest = l
        .files()
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max();
    match newest.and_then(|t| t.elapsed().ok()) {
        Some(age) => age,
        None => l.idle(),
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The files' total size now.
fn size(files: &SessionFiles) -> u64 {
    files
        .files
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            parse: sessiontrail_sources::ParseOptions::default(),
            trace: sessiontrail_trace::TraceOptions::default(),
            jobs: 1,
            notes: false,
            trace_url: None,
            keep_spans: false,
        }
    }

    fn hook(path: &std::path::Path, session: &str, id: &str) {
        let payload = format!(
            r#"{{"session_id":"{session}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"{id}","tool_input":{{"command":"ls"}}}}"#
        );
        spool::append(path, "claude", None, payload.as_bytes(), now_ns(), Vec::new).unwrap();
    }

    fn calls(store: &Store, session: &str) -> Vec<String> {
        let t = sessiontrail_trace::trace_id("claude-code", session);
        crate::facts_of(&store.hook_facts(&t).unwrap())
            .into_iter()
            .filter_map(|f| f.tool_use_id)
            .collect()
    }

    /// Past its size the spool is renamed and started over; what a hook still writes to
    /// the renamed file is read, a restart reads it on from its checkpoint, and it is
    /// deleted after its grace: nothing is lost, nothing read twice, nothing kept forever.
    #[test]
    fn the_spool_is_started_over_and_nothing_in_it_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("st.db")).unwrap();
        let path = dir.path().join("st.db-hooks.jsonl");
        let old = rotated(&path);
        let watcher = |rotate_past| {
            let mut w = Watcher::new(
                vec![dir.path().join("projects")],
                opts(),
                Duration::from_secs(3600),
                Some(path.clone()),
            );
            w.spool.as_mut().unwrap().rotate_past = rotate_past;
            w
        };
        let mut w = watcher(200);
        hook(&path, "s1", "t1");
        hook(&path, "s1", "t2");
        w.tick(&mut store).unwrap();
        assert!(
            old.exists() && !path.exists(),
            "renamed once read past 200 bytes"
        );
        assert_eq!(calls(&store, "s1"), ["t1", "t2"]);
        // A hook that opened the spool before the rename writes to the renamed file; the
        // next one starts a new spool.
        hook(&old, "s1", "t3");
        hook(&path, "s2", "u1");
        w.tick(&mut store).unwrap();
        assert_eq!(calls(&store, "s1"), ["t1", "t2", "t3"]);
        assert_eq!(calls(&store, "s2"), ["u1"]);
        // Stopped, then a late line in the renamed file: the next watcher reads it on from
        // where the store says, without reading the rest again.
        drop(w);
        hook(&old, "s1", "t4");
        let mut w = watcher(1 << 30);
        w.tick(&mut store).unwrap();
        assert_eq!(calls(&store, "s1"), ["t1", "t2", "t3", "t4"]);
        let len = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
        for p in [&old, &path] {
            let (_, row) = store
                .checkpoint(&p.display().to_string(), None)
                .unwrap()
                .unwrap();
            assert_eq!(row.offset, len(p), "{} read to its end", p.display());
        }
        // After its grace, the renamed file goes.
        let sp = w.spool.as_mut().unwrap();
        sp.old.as_mut().unwrap().1 = Instant::now().checked_sub(SPOOL_GRACE).unwrap();
        w.tick(&mut store).unwrap();
        assert!(!old.exists(), "the renamed spool was deleted");
        assert!(path.exists());
        hook(&path, "s2", "u2");
        w.tick(&mut store).unwrap();
        assert_eq!(calls(&store, "s2"), ["u1", "u2"]);
    }
}
