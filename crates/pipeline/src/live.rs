//! A session fed as its files grow: what `watch` and `hook` drive. Each poll reads what
//! was added, runs the session so far through the same stages as a backfill, and stores
//! the spans that became final (DESIGN.md 3) with the checkpoints of what was read, in one
//! transaction. Spans still open (a tool call without its result, the turn and the model
//! call being written, the root) wait; [`Live::finish`] stores the whole trace, which is
//! the trace a backfill of the same files stores.
//!
//! The parser's state is not stored: a process that resumes reads the files again up to
//! their checkpoints (a local read costs less than a copy of the state per checkpoint),
//! and the spans already stored are known from the store.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sessiontrail_model::{HookFact, LinkMethod, Session, Timestamp};
use sessiontrail_sources::{Checkpoint, FileIdentity, Finish, Report, SessionFiles, Tail};
use sessiontrail_store::{CommitRow, PutStats, Store};
use sessiontrail_trace::SpanKey;

use crate::backfill::{checkpoint_rows, notes_of, trace_of, write_notes};
use crate::{Options, PipelineError};

/// One session being followed.
pub struct Live {
    tail: Tail,
    opts: Options,
    trace_id: Option<[u8; 16]>,
    /// Spans the store holds for the trace: final ones, never written again.
    stored: HashSet<[u8; 8]>,
    /// Tool spans whose sensitive accesses were returned (or were stored by an earlier
    /// process, which returned them then): each access is reported once.
    alerted: HashSet<[u8; 8]>,
    /// HEAD of the session's repository as read while it was written: when each commit
    /// was first seen (stored, so that a resumed process and a later backfill use it).
    heads: Vec<(Timestamp, String)>,
    /// The newest record's time at the last poll: a HEAD read now was HEAD since then.
    seen_end: Option<Timestamp>,
    /// What the agent's hooks said of the session (stored, like `heads`).
    facts: Vec<HookFact>,
    /// How far the hook spool was read: a tool call whose result came later may still get
    /// a fact from it (its permission check), so its span waits.
    facts_until: Option<Timestamp>,
    /// What was read and not yet run through the stages.
    dirty: bool,
    grew: Instant,
}

/// What a poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Polled {
    /// Whether the files had new complete lines.
    pub read: bool,
    /// The session's trace, once its first record was read.
    pub trace_id: Option<[u8; 16]>,
    /// Spans that became final and were stored.
    pub stored: u64,
    /// Complete lines read by this poll.
    pub lines: u64,
    /// Sensitive accesses read for the first time, whether or not their spans are final:
    /// an alert cannot wait for the tool's result.
    pub accesses: Vec<Access>,
    /// Spans final but for the hook spool, which must be read past them: poll again soon.
    pub held: bool,
}

/// A sensitive access (DESIGN.md 5): one rule a tool call matched, with what an alert
/// names. Nothing in it is a secret: the target is redacted like every attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The session's trace.
    pub trace_id: [u8; 16],
    /// The tool call's span.
    pub span_id: [u8; 8],
    /// The agent (`claude-code`...).
    pub agent: String,
    /// The agent's session id.
    pub session_id: String,
    /// The repository's name, when the session worked in one.
    pub repo: Option<String>,
    /// When the tool call started.
    pub time: Timestamp,
    /// The tool.
    pub tool: String,
    /// Rule id.
    pub rule: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The rule's category.
    pub category: String,
    /// What matched (redacted).
    pub target: String,
}

/// What finishing a session did.
#[derive(Debug)]
pub struct Finished {
    /// The session's trace, if its files held a session.
    pub trace_id: Option<[u8; 16]>,
    /// Its spans.
    pub spans: u64,
    /// What the last write changed.
    pub put: PutStats,
    /// Lines, skipped input, unmapped records of the whole session.
    pub report: Report,
    /// Sensitive accesses read for the first time (in the last lines).
    pub accesses: Vec<Access>,
    /// Git notes that changed, and those that could not be written (each is logged).
    pub notes_written: u64,
    /// See `notes_written`.
    pub notes_failed: u64,
}

impl Live {
    /// Follows the session of `files`, from where `store`'s checkpoints say an earlier
    /// process stopped (a file renamed since is found by its identity), or from the start.
    /// A file replaced or cut since its checkpoint is an error that names it.
    pub fn open(files: SessionFiles, opts: &Options, store: &Store) -> Result<Live, PipelineError> {
        let mut marks = Vec::with_capacity(files.files.len());
        let mut trace_id = None;
        for (path, name) in files.files.iter().zip(&files.names) {
            let identity = FileIdentity::of_path(path).map(|i| (i.dev, i.ino));
            let found = store
                .checkpoint(name, identity)
                .map_err(PipelineError::store(store))?;
            marks.push(match found {
                Some((trace, row)) => {
                    trace_id = Some(trace);
                    Checkpoint {
                        identity: row.identity.map(|(dev, ino)| FileIdentity { dev, ino }),
                        offset: row.offset,
                        line: row.line,
                    }
                }
                None => Checkpoint::default(),
            });
        }
        let tail = if trace_id.is_some() {
            Tail::resume(files, &opts.parse, &marks)?
        } else {
            Tail::new(files, &opts.parse)
        };
        let mut live = Live {
            tail,
            opts: opts.clone(),
            trace_id: None,
            stored: HashSet::new(),
            alerted: HashSet::new(),
            heads: Vec::new(),
            seen_end: None,
            facts: Vec::new(),
            facts_until: None,
            dirty: trace_id.is_some(),
            grew: Instant::now(),
        };
        if let Some(t) = trace_id {
            live.know(t, store)?;
        }
        Ok(live)
    }

    /// Reads what was added since the last poll and stores the spans that became final.
    pub fn poll(&mut self, store: &mut Store) -> Result<Polled, PipelineError> {
        let before = lines(self.tail.checkpoints());
        let read = self.tail.poll()?;
        if read {
            self.grew = Instant::now();
        }
        let mut polled = Polled {
            read,
            trace_id: self.trace_id,
            lines: lines(self.tail.checkpoints()).saturating_sub(before),
            ..Polled::default()
        };
        if !read && !self.dirty {
            return Ok(polled);
        }
        let (session, _) = self.tail.session();
        let Some(mut s) = session else {
            return Ok(polled);
        };
        self.dirty = false;
        let id = sessiontrail_trace::trace_id(s.agent.name(), &s.id);
        if self.trace_id != Some(id) {
            self.know(id, store)?;
        }
        if read {
            self.observe_head(&s, &id, store)?;
        }
        self.seen_end = Some(s.end);
        // No hook links and no notes: they only make commit spans, which wait for the end.
        let t = trace_of(&mut s, &self.opts, &[], &self.heads, &self.facts);
        polled.accesses = accesses(&s, &t, &mut self.alerted);
        let finality = Finality::of(&s);
        let mut new = Vec::new();
        for (sp, key) in t.spans.iter().zip(&t.keys) {
            let span_id: [u8; 8] = sp.span_id.as_slice().try_into().unwrap_or_default();
            if !finality.is_final(*key) || self.stored.contains(&span_id) {
                continue;
            }
            // A result dated well after the spool's read is not one the spool lags behind
            // (a clock ahead, a file copied from elsewhere): waiting would never end.
            let spooled = match (key, self.facts_until) {
                (SpanKey::Tool(i), Some(until)) => s.tools[*i]
                    .end
                    .is_some_and(|e| e < until || e.0 > until.0.saturating_add(SKEW_NS)),
                _ => true,
            };
            if spooled {
                new.push(crate::encode::span_row(sp));
            } else {
                polled.held = true;
            }
        }
        // Built again at the next poll, new lines or not.
        self.dirty = polled.held;
        let marks = checkpoint_rows(self.tail.files(), self.tail.checkpoints());
        let mut row = crate::encode(&t, marks);
        row.row.spans = (self.stored.len() + new.len()) as u64;
        row.spans = new;
        row.partial = true;
        // Commits are linked when the session is finished: their spans and notes go
        // together, after the store has the trace.
        row.commits = Vec::new();
        let span = if row.spans.is_empty() {
            tracing::Span::none()
        } else {
            tracing::info_span!("sessiontrail.store", trace_id = %sessiontrail_trace::hex(&id), spans = row.spans.len())
        };
        let _entered = span.enter();
        store
            .put_sessions(std::slice::from_ref(&row))
            .map_err(PipelineError::store(store))?;
        self.stored.extend(row.spans.iter().map(|r| r.span_id));
        polled.trace_id = Some(id);
        polled.stored = row.spans.len() as u64;
        Ok(polled)
    }

    /// How long the files have not grown: the driver finishes the session with
    /// [`Finish::IdleTimeout`] past its timeout.
    pub fn idle(&self) -> Duration {
        self.grew.elapsed()
    }

    /// The session's files.
    pub fn files(&self) -> &SessionFiles {
        self.tail.files()
    }

    /// Reads what is left (a last line without newline included), closes the session for
    /// `reason` (calls still open get no result) and stores the whole trace, then writes
    /// the notes of its commits.
    pub fn finish(self, reason: Finish, store: &mut Store) -> Result<Finished, PipelineError> {
        let _entered = tracing::info_span!("sessiontrail.finish", reason = ?reason).entered();
        let files = self.tail.files().clone();
        let (session, report, marks) = self.tail.finish_with_checkpoints(reason);
        let mut done = Finished {
            trace_id: None,
            spans: 0,
            put: PutStats::default(),
            report,
            accesses: Vec::new(),
            notes_written: 0,
            notes_failed: 0,
        };
        let opts = &self.opts;
        let mut alerted = self.alerted;
        done.report
            .scrub_names(&|s: &str| opts.parse.content.scrub(s).into_owned());
        let Some(mut s) = session else {
            return Ok(done);
        };
        let id = sessiontrail_trace::trace_id(s.agent.name(), &s.id);
        let hooked = hook_links(store, &id)?;
        let t = trace_of(&mut s, opts, &hooked, &self.heads, &self.facts);
        done.accesses = accesses(&s, &t, &mut alerted);
        let notes = notes_of(&s, &t, opts);
        let row = crate::encode(&t, checkpoint_rows(&files, &marks));
        let put = store
            .put_sessions(std::slice::from_ref(&row))
            .map_err(PipelineError::store(store))?;
        done.trace_id = Some(id);
        done.spans = row.spans.len() as u64;
        done.put = put.into_iter().next().unwrap_or_default();
        (done.notes_written, done.notes_failed) = write_notes(notes, opts);
        Ok(done)
    }

    /// The session's trace, once its first record was read.
    pub fn trace_id(&self) -> Option<[u8; 16]> {
        self.trace_id
    }

    /// Facts the agent's hooks gave the session since it was opened (the store holds
    /// them): the next poll builds it again with them.
    pub fn add_facts(&mut self, facts: &[HookFact]) {
        for f in facts {
            if !self.facts.contains(f) {
                self.facts.push(f.clone());
                self.dirty = true;
            }
        }
    }

    /// The hook spool was read up to `t`: tool calls whose results are older have all the
    /// facts their spans take.
    pub fn facts_read_until(&mut self, t: Timestamp) {
        self.facts_until = Some(t);
    }

    /// Learns the session's trace id and the spans the store already holds for it.
    fn know(&mut self, id: [u8; 16], store: &Store) -> Result<(), PipelineError> {
        self.trace_id = Some(id);
        self.stored = store
            .spans(&id)
            .map_err(PipelineError::store(store))?
            .into_iter()
            .map(|r| r.span_id)
            .collect();
        self.alerted.clone_from(&self.stored);
        self.heads = store
            .heads(&id)
            .map_err(PipelineError::store(store))?
            .into_iter()
            .map(|(t, sha)| (Timestamp(t), sha))
            .collect();
        let stored = crate::facts_of(&store.hook_facts(&id).map_err(PipelineError::store(store))?);
        self.facts.clear();
        self.add_facts(&stored);
        Ok(())
    }

    /// Reads HEAD now, for records written just now (a file found long after it was
    /// written says nothing of HEAD then), and stores it when it moved.
    fn observe_head(
        &mut self,
        s: &Session,
        id: &[u8; 16],
        store: &mut Store,
    ) -> Result<(), PipelineError> {
        let now = now();
        if now.0.saturating_sub(s.end.0) > crate::FRESH_NS {
            return Ok(());
        }
        let Some(cwd) = s.cwd.as_deref() else {
            return Ok(());
        };
        let Ok(Some(f)) = sessiontrail_git::facts(std::path::Path::new(cwd)) else {
            return Ok(());
        };
        let Some(sha) = f.head else { return Ok(()) };
        if self.heads.last().is_some_and(|(_, h)| *h == sha) {
            return Ok(());
        }
        // Read after the records of this poll, before none of them: HEAD at their time,
        // placed just after those of the last poll (the session's start for the first read).
        let at = match self.seen_end {
            Some(e) => Timestamp(e.0 + 1),
            None if self.heads.is_empty() => s.start,
            None => s.end,
        };
        let at = self
            .heads
            .last()
            .map_or(at, |(t, _)| at.max(Timestamp(t.0 + 1)));
        store
            .add_heads(id, &[(at.0, sha.clone())])
            .map_err(PipelineError::store(store))?;
        self.heads.push((at, sha));
        Ok(())
    }
}

/// How far past the spool's read a tool result may be dated and still be waited for.
const SKEW_NS: i64 = 2_000_000_000;

fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
    )
}

/// Lines the checkpoints say were read.
fn lines(marks: &[Checkpoint]) -> u64 {
    marks.iter().map(|m| m.line).sum()
}

/// The accesses of `t`'s tool calls not in `alerted`, which learns them.
fn accesses(
    s: &Session,
    t: &sessiontrail_trace::SessionTrace,
    alerted: &mut HashSet<[u8; 8]>,
) -> Vec<Access> {
    let flagged = s.tools.iter().filter(|c| !c.sensitive.is_empty());
    let mut out = Vec::new();
    // `t.sensitive` holds the flagged calls in the session's order.
    for (call, hit) in flagged.zip(&t.sensitive) {
        if !alerted.insert(hit.span_id) {
            continue;
        }
        for m in &call.sensitive {
            out.push(Access {
                trace_id: t.trace_id,
                span_id: hit.span_id,
                agent: t.summary.agent.clone(),
                session_id: t.summary.session_id.clone(),
                repo: s.vcs.as_ref().map(|v| v.name.clone()),
                time: call.start,
                tool: call.name.clone(),
                rule: m.rule.clone(),
                severity: m.severity.as_str().to_owned(),
                category: m.category.clone(),
                target: m.target.clone(),
            });
        }
    }
    out
}

/// The links the post-commit hook stored for a trace.
fn hook_links(store: &Store, id: &[u8; 16]) -> Result<Vec<CommitRow>, PipelineError> {
    Ok(store
        .commits_of(id)
        .map_err(PipelineError::store(store))?
        .into_iter()
        .map(|l| l.commit)
        .filter(|c| LinkMethod::parse(&c.method) == LinkMethod::Hook)
        .collect())
}

/// Which spans of a session, as read so far, can change no more while it goes on
/// (DESIGN.md 3): a tool call has its result and its run went on (the hooks that run after
/// a tool write their records after its result, and they belong to its span); a turn is
/// followed by the next turn of its run; a model call by the next call of its run; a
/// subagent's run by the result of the call that launched it. Any of them once its run is
/// over. The root and the commits wait for the session's end. Built once per state, so
/// that each span's answer costs no scan of the session.
pub struct Finality<'s> {
    s: &'s Session,
    /// Per run: its calls' indices, ascending, and the latest end among each suffix.
    calls: Vec<Vec<usize>>,
    later_end: Vec<Vec<Timestamp>>,
    /// Per run: its last turn's index and its latest turn start.
    last_turn: Vec<Option<usize>>,
    latest_prompt: Vec<Option<Timestamp>>,
}

impl<'s> Finality<'s> {
    /// The finality of the spans of `s`.
    pub fn of(s: &'s Session) -> Finality<'s> {
        let runs = s.runs.len();
        let mut calls = vec![Vec::new(); runs];
        for (i, c) in s.calls.iter().enumerate() {
            calls[c.run].push(i);
        }
        let later_end = calls
            .iter()
            .map(|idx: &Vec<usize>| {
                let mut ends: Vec<Timestamp> = idx.iter().map(|&i| s.calls[i].end).collect();
                for k in (0..ends.len().saturating_sub(1)).rev() {
                    ends[k] = ends[k].max(ends[k + 1]);
                }
                ends
            })
            .collect();
        let mut last_turn = vec![None; runs];
        let mut latest_prompt: Vec<Option<Timestamp>> = vec![None; runs];
        for (i, t) in s.turns.iter().enumerate() {
            last_turn[t.run] = Some(i);
            latest_prompt[t.run] = Some(latest_prompt[t.run].map_or(t.start, |p| p.max(t.start)));
        }
        Finality {
            s,
            calls,
            later_end,
            last_turn,
            latest_prompt,
        }
    }

    /// Whether the span of `key` is final.
    pub fn is_final(&self, key: SpanKey) -> bool {
        let s = self.s;
        match key {
            SpanKey::Root | SpanKey::Commit(_) => false,
            SpanKey::Tool(i) => {
                let t = &s.tools[i];
                let Some(end) = t.end else { return false };
                // A response of its run written after the result, among the calls after
                // the one that asked for it.
                let after = t.call.map_or(0, |c| c + 1);
                let k = self.calls[t.run].partition_point(|&j| j < after);
                self.later_end[t.run].get(k).is_some_and(|&e| e > end)
                    || self.latest_prompt[t.run].is_some_and(|p| p > end)
                    || self.run_done(t.run)
            }
            SpanKey::Turn(i) => {
                let run = s.turns[i].run;
                self.last_turn[run].is_some_and(|l| l > i) || self.run_done(run)
            }
            SpanKey::Call(i) => {
                let run = s.calls[i].run;
                self.calls[run].last().is_some_and(|&l| l > i) || self.run_done(run)
            }
            SpanKey::Run(r) => self.run_done(r),
        }
    }

    /// A subagent's run is over once the call that launched it has its result.
    fn run_done(&self, run: usize) -> bool {
        self.s.runs[run]
            .parent_tool
            .is_some_and(|t| self.s.tools[t].end.is_some())
    }
}
