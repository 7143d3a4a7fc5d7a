//! Whole sessions at once: what `export` feeds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

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
    /// Parser threads (at least one).
    pub jobs: usize,
    /// Whether linked commits get git notes.
    pub notes: bool,
    /// Where a trace is seen, `{trace_id}` replaced; written into the notes.
    pub trace_url: Option<String>,
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
const BATCH_BYTES: usize = 16 << 20;

/// What a parser thread hands to the writer.
struct Parsed {
    bytes: u64,
    report: Report,
    trace: Option<Box<(NewSession, Vec<PendingNote>)>>,
}

/// Runs every session through the stages: parsed on `opts.jobs` threads, written to
/// `store` by the calling thread as they come (so memory holds a few sessions at a time, a
/// batch per transaction), their git notes written once the transaction holding their
/// spans has committed. A failed stage stops every thread promptly and is returned; what
/// the store committed before stays.
pub fn backfill(
    sessions: &[SessionFiles],
    opts: &Options,
    store: &mut Store,
    on: &mut dyn FnMut(Event),
) -> Result<Backfill, PipelineError> {
    let hooked = store.hook_links().map_err(PipelineError::store(store))?;
    let jobs = opts.jobs.max(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<Parsed>(jobs * 2);
    let mut done = Backfill::default();
    let result = std::thread::scope(|scope| {
        for _ in 0..jobs.min(sessions.len()) {
            let tx = tx.clone();
            let (next, stop, hooked) = (&next, &stop, &hooked);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(files) = sessions.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let parsed = parse(files, opts, hooked);
                    // The writer has stopped: nothing more is wanted.
                    if tx.send(parsed).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let r = write(rx, opts, store, on, &mut done);
        if r.is_err() {
            // The receiver is gone with `write`'s return: a parser blocked on the channel
            // wakes with an error, and none starts another session.
            stop.store(true, Ordering::Relaxed);
        }
        r
    });
    result?;
    // Parsers finish in any order; outputs follow one.
    done.traces.sort_unstable();
    Ok(done)
}

/// One session through the stages before the store: parse (with the policy), git
/// enrichment, the hook's links, the trace, its encoding, and the notes it will need.
fn parse(
    files: &SessionFiles,
    opts: &Options,
    hooked: &HashMap<[u8; 16], Vec<CommitRow>>,
) -> Parsed {
    let (session, mut report, marks) = sessiontrail_sources::Tail::new(files.clone(), &opts.parse)
        .finish_with_checkpoints(sessiontrail_sources::Finish::EndOfInput);
    let checkpoints = checkpoint_rows(files, &marks);
    tracing::debug!(session = %opts.parse.content.scrub(&files.session_id), files = files.files.len(), lines = report.lines, issues = report.issues.len(), "parsed");
    report.scrub_names(&|s: &str| opts.parse.content.scrub(s).into_owned());
    let trace = session.map(|mut s| {
        let id = sessiontrail_trace::trace_id(s.agent.name(), &s.id);
        let hooked = hooked.get(&id).map_or(&[][..], Vec::as_slice);
        let t = trace_of(&mut s, opts, hooked);
        let notes = notes_of(&s, &t, opts);
        // Encoded here, where the trace was built: freeing it on the writing thread made
        // the two threads contend for the allocator.
        Box::new((crate::encode(t, checkpoints), notes))
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
) -> sessiontrail_trace::SessionTrace {
    sessiontrail_git::enrich(s);
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

/// The writer: batches what arrives into transactions, then writes the batch's notes.
fn write(
    rx: mpsc::Receiver<Parsed>,
    opts: &Options,
    store: &mut Store,
    on: &mut dyn FnMut(Event),
    done: &mut Backfill,
) -> Result<(), PipelineError> {
    let mut batch: Vec<NewSession> = Vec::new();
    let mut notes: Vec<PendingNote> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut flush = |batch: &mut Vec<NewSession>,
                     notes: &mut Vec<PendingNote>,
                     on: &mut dyn FnMut(Event)|
     -> Result<(), PipelineError> {
        if batch.is_empty() {
            return Ok(());
        }
        let stats = store
            .put_sessions(batch)
            .map_err(PipelineError::store(store))?;
        for (s, put) in batch.iter().zip(stats) {
            done.traces.push(s.row.trace_id);
            on(Event::Stored {
                trace_id: s.row.trace_id,
                spans: s.spans.len() as u64,
                put,
            });
        }
        batch.clear();
        // Only now: a note must never name a trace the store does not hold.
        let (written, failed) = write_notes(std::mem::take(notes), opts);
        done.notes_written += written;
        done.notes_failed += failed;
        Ok(())
    };
    loop {
        // Write what has arrived, in one transaction, before waiting for more.
        let msg = match rx.try_recv() {
            Ok(m) => Some(m),
            Err(mpsc::TryRecvError::Empty) => {
                flush(&mut batch, &mut notes, on)?;
                pending_bytes = 0;
                rx.recv().ok()
            }
            Err(mpsc::TryRecvError::Disconnected) => None,
        };
        let Some(p) = msg else { break };
        on(Event::Read {
            bytes: p.bytes,
            report: p.report,
        });
        if let Some(b) = p.trace {
            let (s, n) = *b;
            pending_bytes += s.spans.iter().map(|sp| sp.body.len()).sum::<usize>();
            batch.push(s);
            notes.extend(n);
        }
        if batch.len() >= BATCH_SESSIONS || pending_bytes > BATCH_BYTES {
            flush(&mut batch, &mut notes, on)?;
            pending_bytes = 0;
        }
    }
    flush(&mut batch, &mut notes, on)
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
