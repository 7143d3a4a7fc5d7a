//! `sessiontrail export`: discover, parse in parallel, store, then ship.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use prost::Message;
use serde::Serialize;
use sessiontrail_export::{
    Compression, Delivery, OtlpConfig, OtlpJsonFile, OtlpSender, Overrides, Protocol,
};
use sessiontrail_model::{ContentOptions, LinkedCommit, Timestamp};
use sessiontrail_sources::{Issue, ParseOptions, Report, SessionFiles};
use sessiontrail_store::{
    CommitRow, NewSession, PutStats, SensitiveRow, SessionRow, SpanRow, Store,
};
use sessiontrail_trace::{SessionTrace, TraceOptions};

use crate::args::ExportArgs;
use crate::{exit, format, settings};

/// Issues listed in the human summary; `--json` lists them all.
const SHOWN_ISSUES: usize = 20;

pub fn run(a: ExportArgs, store_path: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    let content = settings::content(a.content, a.max_attribute_bytes)?;
    let scrub = content.clone();
    run_with(a, content, store_path, out).map_err(|e| redact_error(e, &scrub))
}

/// An error names files and folders, which may be named after a secret: below `full`, its
/// message goes through the redactor (an error with nothing to redact is kept as it is).
fn redact_error(e: anyhow::Error, content: &ContentOptions) -> anyhow::Error {
    let text = format!("{e:#}");
    match content.scrub(&text) {
        std::borrow::Cow::Borrowed(_) => e,
        std::borrow::Cow::Owned(r) => anyhow::anyhow!(r),
    }
}

/// What the summary prints of a name or path: redacted below `full`.
fn scrubber(content: &ContentOptions) -> impl Fn(&str) -> String + '_ {
    move |s: &str| content.scrub(s).into_owned()
}

fn run_with(
    a: ExportArgs,
    content: ContentOptions,
    store_path: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    // Every setting is checked before any work starts.
    let otlp = otlp_config(&a)?;
    if a.max_request_bytes < 1024 {
        anyhow::bail!(
            "--max-request-bytes must be at least 1024, not {}",
            a.max_request_bytes
        );
    }
    let trace_opts = TraceOptions {
        content: content.clone(),
        host_name: Some(gethostname::gethostname().to_string_lossy().into_owned())
            .filter(|h| !h.is_empty()),
        user_name: std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .ok()
            .filter(|u| !u.is_empty()),
        resource_attributes: settings::resource_attributes()?,
    };
    if content.full() {
        tracing::warn!(
            "content level 'full': prompts, tool arguments and outputs are exported as they are (capped at {} bytes each)",
            content.max_attribute_bytes
        );
    }
    let parse_opts = ParseOptions {
        content: content.clone(),
        max_line_bytes: a.max_line_bytes.max(1024),
        rules: std::sync::Arc::new(settings::rules(a.policy.as_deref())?),
        home: settings::home().map(|h| h.display().to_string()),
        claude_config_dir: std::env::var_os("CLAUDE_CONFIG_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    let roots = roots(&a.paths)?;
    let mut store = Store::open(store_path)?;

    let discovery = sessiontrail_sources::discover(&roots, parse_opts.max_line_bytes);
    tracing::info!(
        sessions = discovery.sessions.len(),
        files = discovery
            .sessions
            .iter()
            .map(|s| s.files.len())
            .sum::<usize>(),
        skipped = discovery.issues.len(),
        "discovered session files"
    );
    let total_bytes: u64 = discovery.sessions.iter().map(|s| s.bytes).sum();
    let bar = progress_bar(!a.json && !a.quiet, total_bytes);
    let scrub = scrubber(&content);
    let mut summary = Summary {
        store: scrub(&store_path.display().to_string()),
        ..Summary::default()
    };
    summary
        .issues
        .extend(discovery.issues.into_iter().map(|i| i.scrubbed(&scrub)));
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, 64);
    let hooked = store.hook_links()?;
    let pipeline = Pipeline {
        parse: &parse_opts,
        trace: &trace_opts,
        jobs,
        notes: !a.no_notes,
        trace_url: a.trace_url.as_deref(),
        hooked: &hooked,
    };
    let mut traces = parse_and_store(
        &discovery.sessions,
        &pipeline,
        &mut store,
        &bar,
        &mut summary,
    )?;
    // Parsers finish in any order; outputs follow one.
    traces.sort_unstable();

    if let Some(cfg) = otlp {
        let mut o = ship(&mut store, cfg, &traces, &a, &bar)?;
        o.endpoint = scrub(&o.endpoint);
        o.rejection = o.rejection.map(|r| scrub(&r));
        o.error = o.error.map(|e| scrub(&e));
        summary.otlp = Some(o);
    }
    if let Some(path) = &a.otlp_file {
        let mut file = OtlpJsonFile::create(path)?;
        let d = sessiontrail_export::write_traces(&store, &traces, &mut file, a.max_request_bytes)?;
        file.finish()?;
        summary.otlp_file = Some(FileSummary {
            path: scrub(&path.display().to_string()),
            spans: d.spans,
            lines: d.requests,
            bytes: d.bytes,
        });
    }
    bar.finish_and_clear();
    summary.duration_ms = started.elapsed().as_millis() as u64;

    if a.json {
        serde_json::to_writer(&mut *out, &summary.json())?;
        writeln!(out)?;
    } else {
        summary.human(out)?;
    }
    Ok(summary.exit_code())
}

fn otlp_config(a: &ExportArgs) -> anyhow::Result<Option<OtlpConfig>> {
    let mut headers = Vec::new();
    for h in &a.headers {
        let (k, v) = h.split_once('=').with_context(|| {
            format!(
                "--header expects KEY=VALUE, got a value without '=' (key '{}')",
                h.chars().take(40).collect::<String>()
            )
        })?;
        headers.push((k.trim().to_owned(), v.to_owned()));
    }
    let o = Overrides {
        endpoint: a.endpoint.clone(),
        protocol: a.protocol.as_deref().and_then(Protocol::parse),
        headers,
        timeout: a.timeout_ms.map(Duration::from_millis),
        compression: a.compression.as_deref().map(|c| {
            if c == "gzip" {
                Compression::Gzip
            } else {
                Compression::None
            }
        }),
    };
    Ok(sessiontrail_export::config::resolve(&o, &|k| {
        std::env::var(k).ok()
    })?)
}

/// The folders to read: the arguments, or Claude Code's projects folder.
fn roots(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !paths.is_empty() {
        return Ok(paths.to_vec());
    }
    let config = std::env::var_os("CLAUDE_CONFIG_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let dir = sessiontrail_sources::claude_projects_dir(config.as_deref(), settings::home().as_deref())
        .context("cannot find Claude Code sessions: neither CLAUDE_CONFIG_DIR nor HOME is set (pass files or folders instead)")?;
    if !dir.is_dir() {
        anyhow::bail!(
            "no Claude Code sessions at {} (set CLAUDE_CONFIG_DIR, or pass session files or folders)",
            dir.display()
        );
    }
    Ok(vec![dir])
}

fn progress_bar(wanted: bool, total: u64) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message("reading");
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// What a parser thread hands to the writer.
struct Parsed {
    bytes: u64,
    report: Report,
    trace: Option<Box<NewSession>>,
}

/// A commit link the store kept, as the session model holds it (its tool calls are found
/// again from the session).
fn linked_commit(c: &CommitRow) -> LinkedCommit {
    LinkedCommit {
        sha: c.sha.clone(),
        branch: c.branch.clone(),
        time: Timestamp(c.time_ns),
        files: c.files.clone(),
        method: c.method.clone(),
        reported_by: None,
        writers: Vec::new(),
        repo: String::new(),
    }
}

/// How each session goes from files to a stored trace.
struct Pipeline<'a> {
    parse: &'a ParseOptions,
    trace: &'a TraceOptions,
    jobs: usize,
    /// Whether linked commits get git notes.
    notes: bool,
    /// Where a trace is seen, `{trace_id}` replaced; written into the notes.
    trace_url: Option<&'a str>,
    /// The commits the post-commit hook linked, by trace.
    hooked: &'a HashMap<[u8; 16], Vec<CommitRow>>,
}

/// Parses sessions on `jobs` threads; the calling thread writes them to the store as they
/// come, so memory holds only a few sessions at a time. Returns the trace ids written.
fn parse_and_store(
    sessions: &[SessionFiles],
    pipeline: &Pipeline<'_>,
    store: &mut Store,
    bar: &ProgressBar,
    summary: &mut Summary,
) -> anyhow::Result<Vec<[u8; 16]>> {
    let Pipeline {
        parse,
        trace,
        jobs,
        notes,
        trace_url,
        hooked,
    } = *pipeline;
    let next = AtomicUsize::new(0);
    let notes_lock = std::sync::Mutex::new(());
    let notes_lock = &notes_lock;
    let (tx, rx) = mpsc::sync_channel::<Parsed>(jobs * 2);
    let mut written = Vec::with_capacity(sessions.len());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..jobs.min(sessions.len()) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                while let Some(files) = sessions.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let (session, report) = sessiontrail_sources::parse_session(files, parse);
                    tracing::debug!(session = %files.session_id, files = files.files.len(), lines = report.lines, issues = report.issues.len(), "parsed");
                    let trace = session.map(|mut s| {
                        sessiontrail_git::enrich(&mut s);
                        let id = sessiontrail_trace::trace_id(s.agent.name(), &s.id);
                        if let Some(rows) = hooked.get(&id) {
                            sessiontrail_git::add_hook_links(&mut s, rows.iter().map(linked_commit).collect());
                        }
                        let t = sessiontrail_trace::build(&s, trace);
                        if notes && !s.commits.is_empty() {
                            let hex = sessiontrail_trace::hex(&t.trace_id);
                            // One writer at a time per process: notes are refs.
                            let _guard = notes_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            if let Err(e) = sessiontrail_git::write_notes(&s, &hex, trace_url.map(|u| u.replace("{trace_id}", &hex)).as_deref()) {
                                tracing::warn!(session = %parse.content.scrub(&s.id), "cannot write the git notes of its commits: {}", parse.content.scrub(&format!("{e:#}")));
                            }
                        }
                        // Encoded here, where the trace was built: freeing it on the
                        // writing thread made the two threads contend for the allocator.
                        Box::new(encode(t))
                    });
                    if tx
                        .send(Parsed {
                            bytes: files.bytes,
                            report,
                            trace,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut batch: Vec<NewSession> = Vec::new();
        let mut pending_bytes = 0usize;
        let mut flush =
            |batch: &mut Vec<NewSession>, summary: &mut Summary| -> anyhow::Result<()> {
                if batch.is_empty() {
                    return Ok(());
                }
                let stats = store.put_sessions(batch)?;
                for (s, st) in batch.iter().zip(stats) {
                    summary.add_put(st, s.spans.len() as u64);
                    written.push(s.row.trace_id);
                }
                batch.clear();
                Ok(())
            };
        loop {
            // Write what has arrived, in one transaction, before waiting for more.
            let msg = match rx.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::TryRecvError::Empty) => {
                    flush(&mut batch, summary)?;
                    pending_bytes = 0;
                    rx.recv().ok()
                }
                Err(mpsc::TryRecvError::Disconnected) => None,
            };
            let Some(p) = msg else { break };
            bar.inc(p.bytes);
            let mut report = p.report;
            report.scrub_names(&scrubber(&parse.content));
            summary.add_report(report);
            if let Some(b) = p.trace {
                let s = *b;
                summary.sessions += 1;
                pending_bytes += s.spans.iter().map(|sp| sp.body.len()).sum::<usize>();
                batch.push(s);
            }
            if batch.len() >= 64 || pending_bytes > 16 << 20 {
                flush(&mut batch, summary)?;
                pending_bytes = 0;
            }
        }
        flush(&mut batch, summary)
    })?;
    Ok(written)
}

/// The store's form of a trace: encoded spans with the columns queries need.
fn encode(t: SessionTrace) -> NewSession {
    let s = &t.summary;
    let errors = s.errors;
    NewSession {
        row: SessionRow {
            trace_id: t.trace_id,
            agent: s.agent.clone(),
            session_id: s.session_id.clone(),
            project: s.project.clone(),
            start_ns: s.start.0,
            end_ns: s.end.0,
            turns: s.turns,
            model_calls: s.model_calls,
            tool_calls: s.tool_calls,
            errors,
            spans: t.spans.len() as u64,
            input_tokens: s.usage.all_input(),
            output_tokens: s.usage.output,
        },
        resource: t.resource.encode_to_vec(),
        origin: "transcript",
        commits: t
            .commits
            .iter()
            .map(|c| CommitRow {
                sha: c.commit.sha.clone(),
                span_id: c.span_id,
                method: c.commit.method.clone(),
                time_ns: c.commit.time.0,
                branch: c.commit.branch.clone(),
                files: c.commit.files.clone(),
                tools: c.tools.clone(),
            })
            .collect(),
        sensitive: t
            .sensitive
            .iter()
            .map(|h| SensitiveRow {
                span_id: h.span_id,
                time_ns: h.time.0,
                tool: h.tool.clone(),
                rules: h.rules.clone(),
                severity: h.severity.clone(),
                targets: h.targets.clone(),
            })
            .collect(),
        spans: t
            .spans
            .iter()
            .map(|sp| SpanRow {
                span_id: sp
                    .span_id
                    .as_slice()
                    .try_into()
                    .expect("span ids are 8 bytes"),
                parent_span_id: sp.parent_span_id.as_slice().try_into().ok(),
                name: sp.name.clone(),
                start_ns: i64::try_from(sp.start_time_unix_nano).unwrap_or(i64::MAX),
                end_ns: i64::try_from(sp.end_time_unix_nano).unwrap_or(i64::MAX),
                error: sessiontrail_trace::tree::is_error(sp),
                body: sp.encode_to_vec(),
            })
            .collect(),
    }
}

fn ship(
    store: &mut Store,
    cfg: OtlpConfig,
    traces: &[[u8; 16]],
    a: &ExportArgs,
    bar: &ProgressBar,
) -> anyhow::Result<OtlpSummary> {
    let sink = cfg.sink_key();
    if a.resend {
        store.forget_deliveries(&sink, traces)?;
    }
    store.enqueue(&sink, traces)?;
    let endpoint = sessiontrail_export::display_url(&cfg.endpoint);
    let protocol = cfg.protocol.as_str();
    tracing::info!(%endpoint, protocol, "delivering to OTLP endpoint");
    let backoff = sessiontrail_export::retry::Backoff {
        max_attempts: a.max_attempts,
        ..Default::default()
    };
    let mut sender = OtlpSender::new(cfg)?.with_backoff(backoff);
    bar.set_message("sending");
    bar.set_position(0);
    bar.set_length(store.queued(&sink)?.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:10} {pos} spans sent")
            .expect("static template"),
    );
    let d: Delivery =
        sessiontrail_export::deliver_outbox(store, &mut sender, a.max_request_bytes, &mut |n| {
            bar.set_position(n)
        })?;
    Ok(OtlpSummary {
        endpoint,
        protocol: protocol.into(),
        spans: d.spans,
        requests: d.requests,
        bytes: d.bytes,
        max_request_bytes: d.max_request_bytes,
        rejected_spans: d.rejected_spans,
        rejection: d.rejection,
        pending_spans: d.pending_spans,
        error: d.failure.map(|f| f.reason),
    })
}

#[derive(Debug, Default)]
struct Summary {
    store: String,
    sessions: u64,
    spans: u64,
    put: PutStats,
    lines: u64,
    bytes: u64,
    issues: Vec<Issue>,
    unmapped: BTreeMap<String, u64>,
    events: BTreeMap<String, u64>,
    duplicates: u64,
    otlp: Option<OtlpSummary>,
    otlp_file: Option<FileSummary>,
    duration_ms: u64,
}

#[derive(Debug, Serialize)]
struct OtlpSummary {
    endpoint: String,
    protocol: String,
    spans: u64,
    requests: u64,
    bytes: u64,
    max_request_bytes: u64,
    rejected_spans: u64,
    rejection: Option<String>,
    pending_spans: u64,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct FileSummary {
    path: String,
    spans: u64,
    lines: u64,
    bytes: u64,
}

impl Summary {
    fn add_report(&mut self, r: Report) {
        self.lines += r.lines;
        self.bytes += r.bytes;
        self.duplicates += r.duplicates;
        self.issues.extend(r.issues);
        for (k, v) in r.unmapped {
            *self.unmapped.entry(k).or_default() += v;
        }
        for (k, v) in r.events {
            *self.events.entry(k).or_default() += v;
        }
    }

    fn add_put(&mut self, st: PutStats, spans: u64) {
        self.spans += spans;
        self.put.inserted += st.inserted;
        self.put.updated += st.updated;
        self.put.unchanged += st.unchanged;
        self.put.removed += st.removed;
    }

    fn skipped_lines(&self) -> usize {
        self.issues.iter().filter(|i| i.line.is_some()).count()
    }

    fn skipped_files(&self) -> usize {
        self.issues.iter().filter(|i| i.line.is_none()).count()
    }

    fn exit_code(&self) -> u8 {
        if self
            .otlp
            .as_ref()
            .is_some_and(|o| o.error.is_some() || o.pending_spans > 0)
        {
            exit::DELIVERY_INCOMPLETE
        } else if !self.issues.is_empty() {
            exit::SKIPPED_INPUT
        } else {
            exit::OK
        }
    }

    fn json(&self) -> serde_json::Value {
        let issues: Vec<_> = self
            .issues
            .iter()
            .map(|i| serde_json::json!({"path": i.path, "line": i.line, "code": i.kind.code(), "message": i.detail}))
            .collect();
        serde_json::json!({
            "type": "summary",
            "store": self.store,
            "sessions": self.sessions,
            "spans": self.spans,
            "spans_new": self.put.inserted,
            "spans_changed": self.put.updated,
            "spans_unchanged": self.put.unchanged,
            "spans_removed": self.put.removed,
            "lines": self.lines,
            "bytes": self.bytes,
            "skipped": {"lines": self.skipped_lines(), "files": self.skipped_files(), "issues": issues},
            "unmapped": self.unmapped,
            "events": self.events,
            "duplicates": self.duplicates,
            "otlp": self.otlp,
            "otlp_file": self.otlp_file,
            "duration_ms": self.duration_ms,
        })
    }

    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let p = &self.put;
        let mut changes = Vec::new();
        for (n, what) in [
            (p.inserted, "new"),
            (p.updated, "changed"),
            (p.unchanged, "unchanged"),
            (p.removed, "removed"),
        ] {
            if n > 0 {
                changes.push(format!("{} {what}", format::count(n)));
            }
        }
        writeln!(
            out,
            "exported {} sessions ({} spans{}) from {} lines ({}) into {}",
            format::count(self.sessions),
            format::count(self.spans),
            if changes.is_empty() {
                String::new()
            } else {
                format!(": {}", changes.join(", "))
            },
            format::count(self.lines),
            format::bytes(self.bytes),
            self.store
        )?;
        if !self.issues.is_empty() {
            writeln!(
                out,
                "skipped {} lines and {} files:",
                self.skipped_lines(),
                self.skipped_files()
            )?;
            for i in self.issues.iter().take(SHOWN_ISSUES) {
                writeln!(out, "  {i}")?;
            }
            if self.issues.len() > SHOWN_ISSUES {
                writeln!(
                    out,
                    "  ... and {} more (--json lists them all)",
                    self.issues.len() - SHOWN_ISSUES
                )?;
            }
        }
        let list = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {}", format::count(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.events.is_empty() {
            writeln!(
                out,
                "kept as span events or attributes: {}",
                list(&self.events)
            )?;
        }
        if !self.unmapped.is_empty() {
            writeln!(
                out,
                "not mapped to spans (by design): {}",
                list(&self.unmapped)
            )?;
        }
        if self.duplicates > 0 {
            writeln!(
                out,
                "records present twice, counted once: {}",
                format::count(self.duplicates)
            )?;
        }
        if let Some(o) = &self.otlp {
            writeln!(
                out,
                "sent {} spans to {} ({}) in {} requests (largest {})",
                format::count(o.spans),
                o.endpoint,
                o.protocol,
                format::count(o.requests),
                format::bytes(o.max_request_bytes)
            )?;
            if o.rejected_spans > 0 {
                writeln!(
                    out,
                    "the endpoint rejected {} spans: {}",
                    format::count(o.rejected_spans),
                    o.rejection.as_deref().unwrap_or("no reason given")
                )?;
            }
            if let Some(e) = &o.error {
                writeln!(out, "delivery stopped: {e}")?;
            }
            if o.pending_spans > 0 {
                writeln!(
                    out,
                    "{} spans are kept in the store and will be sent by the next export",
                    format::count(o.pending_spans)
                )?;
            }
        }
        if let Some(f) = &self.otlp_file {
            writeln!(
                out,
                "wrote {} spans to {} in {} lines ({})",
                format::count(f.spans),
                f.path,
                format::count(f.lines),
                format::bytes(f.bytes)
            )?;
        }
        Ok(())
    }
}
