//! Whole sessions at once: what `export` feeds.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use sessiontrail_git::PendingNote;
use sessiontrail_model::{LinkMethod, LinkedCommit, Timestamp};
use sessiontrail_sources::{ParseOptions, Report, SessionFiles};
use sessiontrail_store::{CheckpointRow, CommitRow, NewSession, PutStats, Store};
use sessiontrail_trace::TraceOptions;

use crate::PipelineError;

/// How sessions go from files to stored traces.
#[derive(Debug, Clone)]
pub struct Options {
    /// How files are read, and the policy applied to what they hold.
    pub parse: ParseOptions,
    /// What goes into every trace.
    pub trace: TraceOptions,
    /// Parser threads (at least one); with one, everything runs on the calling thread.
    pub jobs: usize,
    /// Whether linked commits get git notes.
    pub notes: bool,
    /// Where a trace is seen, `{trace_id}` replaced; written into the notes.
    pub trace_url: Option<String>,
    /// Whether each trace a backfill stores is handed, whole, with its [`Event::Stored`]
    /// (for a sink that encodes spans its own way: the OTLP/JSON of an `--otlp-file`).
    /// A live session has no whole trace until it finishes: unused there.
    pub keep_spans: bool,
}

/// What the driver hears as sessions go through, in the writer's order.
#[derive(Debug)]
pub enum Event {
    /// A session's files were read: `bytes` of them, and the report of what they held and
    /// what was skipped (names in it already redacted below `full`).
    Read {
        /// Bytes of the session's files.
        bytes: u64,
        /// Lines, skipped input, unmapped records.
        report: Report,
    },
    /// The store committed a session's trace.
    Stored {
        /// Its trace id.
        trace_id: [u8; 16],
        /// Its spans.
        spans: u64,
        /// What the write changed.
        put: PutStats,
        /// Its resource and spans, with [`Options::keep_spans`].
        spans_kept: Option<Box<Spans>>,
    },
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Backfill {
    /// The traces stored, sorted.
    pub traces: Vec<[u8; 16]>,
    /// Git notes that changed.
    pub notes_written: u64,
    /// Git notes that could not be written (each is logged).
    pub notes_failed: u64,
}

/// Sessions per store transaction, and the bytes of spans that close one sooner.
const BATCH_SESSIONS: usize = 64;
const BATCH_BYTES: usize = 4 << 20;

/// What a parser thread hands to the writer.
struct Parsed {
    bytes: u64,
    report: Report,
    trace: Option<Box<Built>>,
}

/// A session's trace as the store takes it, the notes it needs, its spans when kept.
struct Built(NewSession, Vec<PendingNote>, Option<Box<Spans>>);

/// A trace's resource and spans.
#[derive(Debug)]
pub struct Spans {
    /// The resource of every span.
    pub resource: sessiontrail_trace::Resource,
    /// The spans, root first.
    pub spans: Vec<sessiontrail_trace::Span>,
}

/// Runs every session through the stages: parsed on `opts.jobs` threads (with one job,
/// on the calling thread, between writes), written to `store` by the calling thread as
/// they come (so memory holds a few sessions at a time, a
/// batch per transaction), their git notes written once the transaction holding their
/// spans has committed. A failed stage stops every thread promptly and is returned; what
/// the store committed before stays.
pub fn backfill(
    sessions: &[SessionFiles],
    opts: &Options,
    store: &mut Store,
    on: &mut dyn FnMut(Event),
) -> Result<Backfill, PipelineError> {
    let hooked = Known {
        links: store.hook_links().map_err(PipelineError::store(store))?,
        heads: store
            .all_heads()
            .map_err(PipelineError::store(store))?
            .into_iter()
            .map(|(t, h)| {
                let h = h
                    .into_iter()
                    .map(|(at, sha)| (sessiontrail_model::Timestamp(at), sha))
                    .collect();
                (t, h)
            })
            .collect(),
        facts: store
            .all_hook_facts()
            .map_err(PipelineError::store(store))?
            .into_iter()
            .map(|(t, f)| (t, crate::facts_of(&f)))
            .collect(),
    };
    store
        .checkpoint_in_background()
        .map_err(PipelineError::store(store))?;
    let jobs = opts.jobs.max(1);
    let mut done = Backfill::default();
    let mut w = Writer {
        opts,
        store,
        on,
        done: &mut done,
        batch: Vec::new(),
        kept: Vec::new(),
        notes: Vec::new(),
        pending_bytes: 0,
    };
    if jobs == 1 {
        // One job is one thread: parsing and writing take turns, as on one core.
        for files in sessions {
            w.push(parse(files, opts, &hooked))?;
        }
        w.flush()?;
    } else {
        threaded(sessions, jobs, &hooked, &mut w)?;
    }
    // By id, whatever order the sessions were found in.
    done.traces.sort_unstable();
    Ok(done)
}

/// Parsers on `jobs` threads, the writer on the calling one. Sessions are written in
/// their given order whatever order the parsers finish in (a run's outputs do not depend on
/// the threads' timing), and a parser starts a session only within a window of the one
/// the writer waits for (memory holds a few sessions, even behind a slow one).
fn threaded(
    sessions: &[SessionFiles],
    jobs: usize,
    hooked: &Known,
    w: &mut Writer<'_>,
) -> Result<(), PipelineError> {
    let opts = w.opts;
    let window = jobs * 2;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // How many sessions the writer has taken, and a wake-up for parsers waiting on it.
    let taken = (Mutex::new(0usize), Condvar::new());
    let (tx, rx) = mpsc::sync_channel::<(usize, Parsed)>(window);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(sessions.len()) {
            let tx = tx.clone();
            let (next, stop, taken) = (&next, &stop, &taken);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(files) = sessions.get(i) else { break };
                    let mut t = taken.0.lock().unwrap_or_else(|e| e.into_inner());
                    while i >= *t + window && !stop.load(Ordering::Relaxed) {
                        t = taken.1.wait(t).unwrap_or_else(|e| e.into_inner());
                    }
                    drop(t);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let parsed = parse(files, opts, hooked);
                    // The writer has stopped: nothing more is wanted.
                    if tx.send((i, parsed)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let r = w.drain(rx, &taken);
        if r.is_err() {
            // The receiver is gone with `drain`'s return: a parser blocked on the channel
            // wakes with an error, one waiting for its turn wakes here, and none starts
            // another session.
            stop.store(true, Ordering::Relaxed);
            let _t = taken.0.lock().unwrap_or_else(|e| e.into_inner());
            taken.1.notify_all();
        }
        r
    })
}

/// What the store held before the run that the stages use: the post-commit hook's links
/// and HEAD as `watch` read it, per trace.
struct Known {
    links: HashMap<[u8; 16], Vec<CommitRow>>,
    heads: HashMap<[u8; 16], Vec<(sessiontrail_model::Timestamp, String)>>,
    facts: HashMap<[u8; 16], Vec<sessiontrail_model::HookFact>>,
}

/// One session through the stages before the store: parse (with the policy), git
/// enrichment, the hook's links, the trace, its encoding, and the notes it will need.
fn parse(files: &SessionFiles, opts: &Options, known: &Known) -> Parsed {
    let (session, mut report, marks) = sessiontrail_sources::Tail::new(files.clone(), &opts.parse)
        .finish_with_checkpoints(sessiontrail_sources::Finish::EndOfInput);
    let checkpoints = checkpoint_rows(files, &marks);
    tracing::debug!(session = %opts.parse.content.scrub(&files.session_id), files = files.files.len(), lines = report.lines, issues = report.issues.len(), "parsed");
    report.scrub_names(&|s: &str| opts.parse.content.scrub(s).into_owned());
    let trace = session.map(|mut s| {
        let id = sessiontrail_trace::trace_id(s.agent.name(), &s.id);
        let hooked = known.links.get(&id).map_or(&[][..], Vec::as_slice);
        let heads = known.heads.get(&id).map_or(&[][..], Vec::as_slice);
        let facts = known.facts.get(&id).map_or(&[][..], Vec::as_slice);
        let t = trace_of(&mut s, opts, hooked, heads, facts);
        let notes = notes_of(&s, &t, opts);
        // Encoded here, where the trace was built: freeing it on the writing thread made
        // the two threads contend for the allocator.
        let row = crate::encode(&t, checkpoints);
        let spans = opts.keep_spans.then(|| {
            Box::new(Spans {
                resource: t.resource,
                spans: t.spans,
            })
        });
        Box::new(Built(row, notes, spans))
    });
    Parsed {
        bytes: files.bytes,
        report,
        trace,
    }
}

/// The stages between a parsed session (the policy applied) and the store: git
/// enrichment, the links the post-commit hook stored (`hooked`), the trace.
pub(crate) fn trace_of(
    s: &mut sessiontrail_model::Session,
    opts: &Options,
    hooked: &[CommitRow],
    heads: &[(sessiontrail_model::Timestamp, String)],
    facts: &[sessiontrail_model::HookFact],
) -> sessiontrail_trace::SessionTrace {
    sessiontrail_sources::hooks::apply(s, facts);
    sessiontrail_git::enrich_observed(s, heads);
    if !hooked.is_empty() {
        sessiontrail_git::add_hook_links(s, hooked.iter().map(linked_commit).collect());
    }
    sessiontrail_trace::build(s, &opts.trace)
}

/// The notes the commits of trace `t` of session `s` will get, when notes are wanted.
pub(crate) fn notes_of(
    s: &sessiontrail_model::Session,
    t: &sessiontrail_trace::SessionTrace,
    opts: &Options,
) -> Vec<PendingNote> {
    if !opts.notes {
        return Vec::new();
    }
    let hex = sessiontrail_trace::hex(&t.trace_id);
    let url = opts
        .trace_url
        .as_deref()
        .map(|u| u.replace("{trace_id}", &hex));
    sessiontrail_git::notes_of(s, &hex, url.as_deref())
}

/// The checkpoints of `files` read up to `marks`, as the store keeps them.
pub(crate) fn checkpoint_rows(
    files: &SessionFiles,
    marks: &[sessiontrail_sources::Checkpoint],
) -> Vec<CheckpointRow> {
    let now = now_ns();
    files
        .names
        .iter()
        .zip(marks)
        .filter(|(_, m)| m.identity.is_some())
        .map(|(name, m)| CheckpointRow {
            path: name.clone(),
            identity: m.identity.map(|i| (i.dev, i.ino)),
            offset: m.offset,
            line: m.line,
            updated_ns: now,
        })
        .collect()
}

/// Writes `notes` (those of traces the store has just committed); how many changed and
/// how many failed (each failure is logged).
pub(crate) fn write_notes(notes: Vec<PendingNote>, opts: &Options) -> (u64, u64) {
    let (mut written, mut failed) = (0, 0);
    for n in notes {
        let commit = n.commit.clone();
        match n.write() {
            Ok(true) => written += 1,
            Ok(false) => {}
            Err(e) => {
                failed += 1;
                let scrub = |s: &str| opts.parse.content.scrub(s).into_owned();
                tracing::warn!(
                    commit = %commit,
                    "cannot write the git note of a linked commit: {}",
                    scrub(&format!("{e:#}"))
                );
            }
        }
    }
    (written, failed)
}

/// The writer: batches parsed sessions into transactions, then writes each batch's notes.
struct Writer<'a> {
    opts: &'a Options,
    store: &'a mut Store,
    on: &'a mut dyn FnMut(Event),
    done: &'a mut Backfill,
    batch: Vec<NewSession>,
    kept: Vec<Option<Box<Spans>>>,
    notes: Vec<PendingNote>,
    pending_bytes: usize,
}

impl Writer<'_> {
    /// Takes one parsed session; writes the batch when it is full.
    fn push(&mut self, p: Parsed) -> Result<(), PipelineError> {
        (self.on)(Event::Read {
            bytes: p.bytes,
            report: p.report,
        });
        if let Some(b) = p.trace {
            let Built(s, n, spans) = *b;
            let bytes = s.spans.iter().map(|sp| sp.body.len()).sum::<usize>();
            // Kept spans take about what their encoding does.
            self.pending_bytes += if spans.is_some() { 2 * bytes } else { bytes };
            self.batch.push(s);
            self.kept.push(spans);
            self.notes.extend(n);
        }
        if self.batch.len() >= BATCH_SESSIONS || self.pending_bytes > BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the batch in one transaction, then its notes.
    fn flush(&mut self) -> Result<(), PipelineError> {
        self.pending_bytes = 0;
        if self.batch.is_empty() {
            return Ok(());
        }
        let stats = self
            .store
            .put_sessions(&self.batch)
            .map_err(PipelineError::store(self.store))?;
        for ((s, put), spans) in self.batch.iter().zip(stats).zip(self.kept.drain(..)) {
            self.done.traces.push(s.row.trace_id);
            (self.on)(Event::Stored {
                trace_id: s.row.trace_id,
                spans: s.spans.len() as u64,
                put,
                spans_kept: spans,
            });
        }
        self.batch.clear();
        // Only now: a note must never name a trace the store does not hold.
        let (written, failed) = write_notes(std::mem::take(&mut self.notes), self.opts);
        self.done.notes_written += written;
        self.done.notes_failed += failed;
        Ok(())
    }

    /// Writes what `rx` brings, in the sessions' order, until every parser is done: what
    /// has arrived goes in one transaction before waiting for more. `taken` counts the
    /// sessions written (parsers wait on it).
    fn drain(
        &mut self,
        rx: mpsc::Receiver<(usize, Parsed)>,
        taken: &(Mutex<usize>, Condvar),
    ) -> Result<(), PipelineError> {
        let mut early: BTreeMap<usize, Parsed> = BTreeMap::new();
        let mut next = 0;
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::TryRecvError::Empty) => {
                    self.flush()?;
                    rx.recv().ok()
                }
                Err(mpsc::TryRecvError::Disconnected) => None,
            };
            let Some((i, p)) = msg else { break };
            early.insert(i, p);
            let before = next;
            while let Some(p) = early.remove(&next) {
                self.push(p)?;
                next += 1;
            }
            if next > before {
                *taken.0.lock().unwrap_or_else(|e| e.into_inner()) = next;
                taken.1.notify_all();
            }
        }
        self.flush()
    }
}

/// A commit link the store kept, as the session model holds it (its tool calls are found
/// again from the session).
fn linked_commit(c: &CommitRow) -> LinkedCommit {
    LinkedCommit {
        sha: c.sha.clone(),
        branch: c.branch.clone(),
        time: Timestamp(c.time_ns),
        files: c.files.clone(),
        method: LinkMethod::parse(&c.method),
        reported_by: None,
        writers: Vec::new(),
        repo: String::new(),
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
