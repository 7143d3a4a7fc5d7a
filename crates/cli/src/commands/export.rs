//! `sessiontrail export`: discover, parse in parallel, store, then ship.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use sessiontrail_export::{
    Compression, Delivery, JsonLines, OtlpConfig, OtlpJsonFile, OtlpSender, Overrides, Protocol,
};
use sessiontrail_model::ContentOptions;
use sessiontrail_sources::{Issue, Report};
use sessiontrail_store::{PutStats, Store};

use crate::args::ExportArgs;
use crate::{exit, format, settings};

/// Issues listed in the human summary; `--json` lists them all.
const SHOWN_ISSUES: usize = 20;

pub fn run(a: ExportArgs, store_path: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    let content = settings::content(a.read.content, a.read.max_attribute_bytes)?;
    let scrub = content.clone();
    run_with(a, content, store_path, out).map_err(|e| redact_error(e, &scrub))
}

/// An error names files and folders, which may be named after a secret: below `full`, its
/// message goes through the redactor (an error with nothing to redact is kept as it is).
fn redact_error(e: anyhow::Error, content: &ContentOptions) -> anyhow::Error {
    let text = format::error_chain(&e);
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
    let otlp = otlp_config(&a.otlp)?;
    settings::max_request_bytes(a.max_request_bytes)?;
    let trace_opts = settings::trace_options(content.clone())?;
    if content.full() {
        tracing::warn!(
            "content level 'full': prompts, tool arguments and outputs are exported as they are (capped at {} bytes each)",
            content.max_attribute_bytes
        );
    }
    let parse_opts = settings::parse_options(&a.read, content.clone())?;
    let roots = roots(&a.paths)?;
    // Every sink is made ready before the first write: a header the transport refuses or
    // an OTLP file that cannot be created stops the run before the store changes.
    let shipping = otlp.map(Shipping::new).transpose()?;
    // The file's lines are written as sessions are stored, from their traces as built.
    let mut otlp_file = a
        .otlp_file
        .as_deref()
        .map(OtlpJsonFile::create)
        .transpose()?
        .map(|f| JsonLines::new(f, a.max_request_bytes));
    let mut file_error = None;
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
    let opts = sessiontrail_pipeline::Options {
        parse: parse_opts,
        trace: trace_opts,
        jobs,
        notes: !a.no_notes,
        trace_url: a.trace_url.clone(),
        keep_spans: otlp_file.is_some(),
    };
    let done =
        sessiontrail_pipeline::backfill(
            &discovery.sessions,
            &opts,
            &mut store,
            &mut |e| match e {
                sessiontrail_pipeline::Event::Read { bytes, report } => {
                    bar.inc(bytes);
                    summary.add_report(report);
                }
                sessiontrail_pipeline::Event::Stored {
                    spans,
                    put,
                    spans_kept,
                    ..
                } => {
                    summary.sessions += 1;
                    summary.add_put(put, spans);
                    if let (Some(lines), None, Some(t)) = (&mut otlp_file, &file_error, spans_kept)
                        && let Err(e) = lines.push(t.resource, t.spans)
                    {
                        file_error = Some(e);
                    }
                }
            },
        )?;
    let traces = done.traces;

    if let Some(sh) = shipping {
        let mut o = ship(&mut store, sh, &traces, &a, &bar)?;
        o.endpoint = scrub(&o.endpoint);
        o.rejection = o.rejection.map(|r| scrub(&r));
        o.error = o.error.map(|e| scrub(&e));
        summary.otlp = Some(o);
    }
    // With `--otlp-file -` the lines are stdout's data; the summary goes to stderr.
    let mut stderr = std::io::stderr();
    let mut out = out;
    if let Some(e) = file_error {
        return Err(e.into());
    }
    if let (Some(lines), Some(path)) = (otlp_file.take(), &a.otlp_file) {
        let (file, d) = lines.finish()?;
        let file_is_stdout = file.is_stdout();
        if file_is_stdout {
            out = &mut stderr;
        }
        file.finish()?;
        summary.otlp_file = Some(FileSummary {
            path: if file_is_stdout {
                "standard output".into()
            } else {
                scrub(&path.display().to_string())
            },
            spans: d.spans,
            lines: d.requests,
            bytes: d.bytes,
        });
    }
    bar.finish_and_clear();
    summary.duration_ms = started.elapsed().as_millis() as u64;
    // Parsers finish in any order: the list of what was skipped follows the files.
    summary
        .issues
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));

    if a.json {
        serde_json::to_writer(&mut *out, &summary.json())?;
        writeln!(out)?;
    } else {
        summary.human(out)?;
    }
    Ok(summary.exit_code())
}

pub fn otlp_config(a: &crate::args::OtlpArgs) -> anyhow::Result<Option<OtlpConfig>> {
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
    let dir = settings::claude_projects()?;
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
            "{spinner} {msg:10} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message("reading");
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// An OTLP endpoint, its transport made before any work.
struct Shipping {
    sender: OtlpSender,
    sink: String,
    endpoint: String,
    protocol: &'static str,
}

impl Shipping {
    fn new(cfg: OtlpConfig) -> anyhow::Result<Shipping> {
        Ok(Shipping {
            sink: cfg.sink_key(),
            endpoint: sessiontrail_export::display_url(&cfg.endpoint),
            protocol: cfg.protocol.as_str(),
            sender: OtlpSender::new(cfg)?,
        })
    }
}

fn ship(
    store: &mut Store,
    sh: Shipping,
    traces: &[[u8; 16]],
    a: &ExportArgs,
    bar: &ProgressBar,
) -> anyhow::Result<OtlpSummary> {
    let Shipping {
        sender,
        sink,
        endpoint,
        protocol,
    } = sh;
    if a.resend {
        store.forget_deliveries(&sink, traces)?;
    }
    store.enqueue(&sink, traces)?;
    tracing::info!(%endpoint, protocol, "delivering to OTLP endpoint");
    let backoff = sessiontrail_export::retry::Backoff {
        max_attempts: a.max_attempts,
        ..Default::default()
    };
    let mut sender = sender.with_backoff(backoff);
    bar.set_message("sending");
    bar.set_position(0);
    bar.set_length(store.queued(&sink)?.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:10} {pos} spans sent")
            .expect("static template"),
    );
    let d: Delivery = sessiontrail_export::deliver_outbox(
        store,
        &mut sender,
        a.max_request_bytes,
        sessiontrail_export::Refused::Stop,
        &mut |n| bar.set_position(n),
    )?;
    // For `doctor`; a store that cannot say so does not fail the export.
    if let Some(f) = &d.failure {
        let _ = store.record_delivery(&sink, Some(&f.reason));
    } else if d.spans > 0 {
        let _ = store.record_delivery(&sink, None);
    }
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
            "exported {} ({}{}) from {} ({}) into {}",
            format::counted(self.sessions, "session"),
            format::counted(self.spans, "span"),
            if changes.is_empty() {
                String::new()
            } else {
                format!(": {}", changes.join(", "))
            },
            format::counted(self.lines, "line"),
            format::bytes(self.bytes),
            self.store
        )?;
        if !self.issues.is_empty() {
            writeln!(
                out,
                "skipped {} and {}:",
                format::counted(self.skipped_lines() as u64, "line"),
                format::counted(self.skipped_files() as u64, "file")
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
                "sent {} to {} ({}) in {} (largest {})",
                format::counted(o.spans, "span"),
                o.endpoint,
                o.protocol,
                format::counted(o.requests, "request"),
                format::bytes(o.max_request_bytes)
            )?;
            if o.rejected_spans > 0 {
                writeln!(
                    out,
                    "the endpoint rejected {}: {}",
                    format::counted(o.rejected_spans, "span"),
                    o.rejection.as_deref().unwrap_or("no reason given")
                )?;
            }
            if let Some(e) = &o.error {
                writeln!(out, "delivery stopped: {e}")?;
            }
            if o.pending_spans > 0 {
                writeln!(
                    out,
                    "{} kept in the store, to be sent by the next export",
                    format::counted(o.pending_spans, "span")
                )?;
            }
        }
        if let Some(f) = &self.otlp_file {
            writeln!(
                out,
                "wrote {} to {} in {} ({})",
                format::counted(f.spans, "span"),
                f.path,
                format::counted(f.lines, "line"),
                format::bytes(f.bytes)
            )?;
        }
        Ok(())
    }
}
