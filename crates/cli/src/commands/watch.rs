//! `sessiontrail watch`: the sidecar. This thread follows the sessions (the pipeline's
//! [`Watcher`](sessiontrail_pipeline::Watcher)) and commits their spans with the outbox
//! rows; a second thread ships the outbox, so a backend that is down or slow never delays
//! reading, and reading never waits on the network.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sessiontrail_export::{OtlpConfig, OtlpSender};
use sessiontrail_model::ContentOptions;
use sessiontrail_pipeline::{WatchEvent, Watcher};
use sessiontrail_sources::Finish;
use sessiontrail_store::Store;

use crate::alert::Actions;
use crate::args::WatchArgs;
use crate::metrics::Metrics;
use crate::{exit, settings};

/// How long a stop waits for the last delivery.
const DRAIN: Duration = Duration::from_secs(5);
/// Shortest time between two ticks, however often the files change.
const MIN_TICK: Duration = Duration::from_millis(20);

/// File-system notifications (inotify, FSEvents...) for the watched folders and the
/// spool's folder: each says whether files appeared, went or moved (`true`) or only grew.
/// Folders that do not exist yet are watched once they appear; without notifications the
/// polling interval is the fallback.
struct FsEvents {
    watcher: Option<notify::RecommendedWatcher>,
    pending: Vec<(PathBuf, notify::RecursiveMode)>,
}

impl FsEvents {
    fn start(roots: &[PathBuf], store: &Path) -> (FsEvents, mpsc::Receiver<bool>) {
        use notify::{EventKind, event::ModifyKind};
        let (tx, rx) = mpsc::channel();
        let spool = settings::spool_path(store);
        let under: Vec<PathBuf> = roots.to_vec();
        let watcher = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
            if let Ok(e) = r {
                // Our own reads open and close the files: those events would wake us in a loop.
                if matches!(e.kind, EventKind::Access(_)) {
                    return;
                }
                // The spool's folder holds the store too, whose writes are ours.
                let ours = e
                    .paths
                    .iter()
                    .any(|p| *p == spool || under.iter().any(|r| p.starts_with(r)));
                if !ours {
                    return;
                }
                let structural = matches!(
                    e.kind,
                    EventKind::Create(_)
                        | EventKind::Remove(_)
                        | EventKind::Modify(ModifyKind::Name(_))
                );
                let _ = tx.send(structural);
            }
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("sessiontrail: no file-system notifications ({e}); polling instead");
                None
            }
        };
        let mut pending: Vec<(PathBuf, notify::RecursiveMode)> = roots
            .iter()
            .map(|r| (r.clone(), notify::RecursiveMode::Recursive))
            .collect();
        if let Some(dir) = settings::spool_path(store).parent() {
            pending.push((dir.to_owned(), notify::RecursiveMode::NonRecursive));
        }
        let mut fs = FsEvents { watcher, pending };
        fs.follow_new_roots();
        (fs, rx)
    }

    /// Starts watching the folders that now exist.
    fn follow_new_roots(&mut self) {
        use notify::Watcher as _;
        let Some(w) = &mut self.watcher else { return };
        self.pending.retain(|(path, mode)| {
            if !path.is_dir() {
                return true;
            }
            if let Err(e) = w.watch(path, *mode) {
                // inotify's watch limit, most often: polling still sees everything.
                eprintln!(
                    "sessiontrail: cannot watch {} for changes ({e}); polling it",
                    path.display()
                );
            }
            false
        });
    }
}

pub fn run(a: WatchArgs, store_path: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    let content = settings::content(a.read.content, a.read.max_attribute_bytes)?;
    let idle_timeout = parse_duration(&a.idle_timeout).with_context(|| {
        format!(
            "--idle-timeout '{}': expected a duration such as 30s, 10m or 1h",
            a.idle_timeout
        )
    })?;
    let otlp = super::export::otlp_config(&a.otlp)?;
    settings::max_request_bytes(a.max_request_bytes)?;
    let roots = if a.paths.is_empty() {
        vec![settings::claude_projects()?]
    } else {
        a.paths.clone()
    };
    let opts = options(&a, content.clone())?;
    let metrics = Arc::new(Metrics::new());
    if let Some(addr) = a.metrics_addr {
        let bound = crate::metrics::serve(addr, metrics.clone())?;
        let url = format!("http://{bound}/metrics");
        if a.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"type": "metrics", "url": url})
            )?;
        } else {
            writeln!(out, "metrics on {url}")?;
        }
    }
    let actions = Actions::start(a.on_sensitive.clone(), a.webhook.as_deref())?;
    let mut store = Store::open(store_path)?;
    store.checkpoint_in_background()?;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("cannot handle signals")?;
    }
    let (wake, woken) = mpsc::channel::<()>();
    let shipper = match otlp {
        Some(cfg) => Some(ship_thread(
            cfg,
            store_path.to_owned(),
            a.max_request_bytes,
            a.max_outbox_spans,
            woken,
            metrics.clone(),
        )?),
        None => None,
    };
    let sink = shipper.as_ref().map(|s| s.1.clone());

    let scrub = |s: &str| content.scrub(s).into_owned();
    let report = |out: &mut dyn Write, e: &WatchEvent| -> std::io::Result<()> {
        if a.json {
            let v = match e {
                WatchEvent::Opened { session_id, path } => {
                    serde_json::json!({"type": "opened", "session": scrub(session_id), "path": scrub(&path.display().to_string())})
                }
                WatchEvent::Stored { trace_id, spans } => {
                    serde_json::json!({"type": "stored", "trace_id": sessiontrail_trace::hex(trace_id), "spans": spans})
                }
                WatchEvent::Finished {
                    session_id,
                    trace_id,
                    reason,
                    spans,
                } => {
                    serde_json::json!({"type": "finished", "session": scrub(session_id), "trace_id": trace_id.map(|t| sessiontrail_trace::hex(&t)), "reason": reason_name(*reason), "spans": spans})
                }
                WatchEvent::Problem(p) => {
                    serde_json::json!({"type": "problem", "message": scrub(p)})
                }
                WatchEvent::Read { lines } => serde_json::json!({"type": "read", "lines": lines}),
                WatchEvent::Sensitive(x) => crate::alert::document(x, a.trace_url.as_deref()),
                WatchEvent::Skipped(i) => {
                    serde_json::json!({"type": "skipped", "path": scrub(&i.path), "line": i.line, "code": i.kind.code(), "message": i.detail})
                }
            };
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        } else {
            match e {
                WatchEvent::Opened { session_id, path } => writeln!(
                    out,
                    "following {} ({})",
                    scrub(session_id),
                    scrub(&path.display().to_string())
                )?,
                WatchEvent::Stored { .. } | WatchEvent::Read { .. } => {}
                WatchEvent::Sensitive(x) => writeln!(
                    out,
                    "sensitive access: {} {} by {} in {} ({}: {})",
                    x.severity,
                    x.rule,
                    x.agent,
                    x.repo.as_deref().unwrap_or("no repository"),
                    x.tool,
                    x.target
                )?,
                WatchEvent::Finished {
                    session_id,
                    spans,
                    reason,
                    ..
                } => writeln!(
                    out,
                    "finished {} ({}): {spans} spans",
                    scrub(session_id),
                    reason_name(*reason)
                )?,
                WatchEvent::Problem(p) => eprintln!("sessiontrail: {}", scrub(p)),
                WatchEvent::Skipped(i) => {
                    eprintln!("sessiontrail: skipped {}", i.clone().scrubbed(&scrub))
                }
            }
        }
        out.flush()
    };

    let roots_for_events = roots.clone();
    let mut watcher = Watcher::new(
        roots,
        opts,
        idle_timeout,
        Some(settings::spool_path(store_path)),
    );
    let tick = Duration::from_millis(a.poll_ms);
    let (fs, changed) = FsEvents::start(&roots_for_events, store_path);
    let mut fs = fs;
    let mut failing = false;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        metrics.ticks.inc();
        fs.follow_new_roots();
        match watcher.tick(&mut store) {
            Ok(events) => {
                failing = false;
                let mut traces = Vec::new();
                for e in &events {
                    report(out, e)?;
                    count(&metrics, e);
                    if let (WatchEvent::Sensitive(x), Some(act)) = (e, &actions)
                        && !act.send(crate::alert::document(x, a.trace_url.as_deref()))
                    {
                        eprintln!(
                            "sessiontrail: too many alerts waiting; one was not sent (the access is stored and counted)"
                        );
                    }
                    match e {
                        WatchEvent::Stored { trace_id, .. } => traces.push(*trace_id),
                        WatchEvent::Finished {
                            trace_id: Some(t), ..
                        } => traces.push(*t),
                        _ => {}
                    }
                }
                if let (Some(sink), false) = (&sink, traces.is_empty()) {
                    store.enqueue(sink, &traces)?;
                    let _ = wake.send(());
                }
            }
            // The store may be locked or full for a while: say so once, keep trying.
            Err(e) => {
                if !failing {
                    eprintln!(
                        "sessiontrail: {} (retrying)",
                        crate::format::error_chain(&e.into())
                    );
                }
                failing = true;
            }
        }
        metrics.sessions_open.set(watcher.open_sessions() as i64);
        // Until the file system says something changed, or the polling interval (the
        // fallback where notifications are unavailable or lost) has passed.
        let wait = if watcher.wants_tick_soon() {
            MIN_TICK
        } else {
            tick.saturating_sub(started.elapsed())
        };
        let mut structural: bool = changed.recv_timeout(wait).unwrap_or_default();
        while let Ok(s) = changed.try_recv() {
            structural |= s;
        }
        if structural {
            watcher.rescan();
        }
        // A burst of writes is read in one tick, not one per line.
        if let Some(left) = MIN_TICK.checked_sub(started.elapsed()) {
            std::thread::sleep(left);
        }
    }
    let open = watcher.open_sessions();
    drop(wake);
    if let Some((handle, _)) = shipper {
        let deadline = Instant::now() + DRAIN;
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    if !a.json {
        writeln!(
            out,
            "stopped: {open} open sessions resume where they are at the next start"
        )?;
    }
    Ok(exit::OK)
}

fn count(m: &Metrics, e: &WatchEvent) {
    match e {
        WatchEvent::Read { lines } => {
            m.lines_read.inc_by(*lines);
        }
        WatchEvent::Stored { spans, .. } => {
            m.spans_stored.inc_by(*spans);
        }
        WatchEvent::Finished { spans, reason, .. } => {
            m.spans_stored.inc_by(*spans);
            m.finished(reason_name(*reason));
        }
        WatchEvent::Sensitive(x) => m.access(x),
        WatchEvent::Skipped(_) => {
            m.input_skipped.inc();
        }
        WatchEvent::Problem(_) => {
            m.problems.inc();
        }
        WatchEvent::Opened { .. } => {}
    }
}

fn reason_name(r: Finish) -> &'static str {
    match r {
        Finish::EndSignal => "ended",
        Finish::IdleTimeout => "idle",
        Finish::EndOfInput => "end of input",
    }
}

/// Ships the outbox on its own thread: after each store commit (a wake-up) and every
/// second, with exponential backoff and jitter while the backend fails (longer when it asks
/// for longer). Spans the backend refuses for good are set aside (tried once more at the
/// next start); past `max_outbox` waiting spans, the traces waiting longest are given up
/// and counted. Returns the thread and the outbox's sink key.
fn ship_thread(
    cfg: OtlpConfig,
    store_path: PathBuf,
    max_bytes: usize,
    max_outbox: u64,
    woken: mpsc::Receiver<()>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<(std::thread::JoinHandle<()>, String)> {
    let sink = cfg.sink_key();
    let endpoint = sessiontrail_export::display_url(&cfg.endpoint);
    // One attempt per round: the waiting happens here, between rounds, never in a send.
    let mut sender = OtlpSender::new(cfg)?.with_backoff(sessiontrail_export::retry::Backoff {
        max_attempts: 1,
        ..Default::default()
    });
    let mut store = Store::open(&store_path)?;
    let again = store.retry_set_aside(&sink)?;
    if again > 0 {
        eprintln!(
            "sessiontrail: {} that {endpoint} refused before are tried once more",
            crate::format::counted(again, "span")
        );
    }
    let backoff = sessiontrail_export::retry::Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(60),
        ..Default::default()
    };
    let key = sink.clone();
    let handle = std::thread::Builder::new()
        .name("ship".into())
        .spawn(move || {
            let mut failures = 0u32;
            let mut wait = Duration::ZERO;
            let mut waiting = 0u64;
            loop {
                // A wake-up (new spans) ends the wait between rounds, never a backoff.
                let until = Instant::now() + wait;
                let mut woke = false;
                let last = loop {
                    let left = until.saturating_duration_since(Instant::now());
                    match woken.recv_timeout(left) {
                        Ok(()) if failures == 0 => break false,
                        Ok(()) => woke = true,
                        Err(mpsc::RecvTimeoutError::Timeout) => break false,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break true,
                    }
                };
                while woken.try_recv().is_ok() {
                    woke = true;
                }
                // A span of sessiontrail's own (`--self-traces`) for rounds with work, not
                // for the idle round each second.
                let span = if woke || failures > 0 || waiting > 0 || last {
                    tracing::info_span!(
                        "sessiontrail.deliver",
                        sink = %endpoint,
                        spans = tracing::field::Empty,
                        pending = tracing::field::Empty,
                        error = tracing::field::Empty,
                        otel.status_code = tracing::field::Empty,
                    )
                } else {
                    tracing::Span::none()
                };
                let _entered = span.enter();
                let round = Instant::now();
                let result = sessiontrail_export::deliver_outbox(
                    &mut store,
                    &mut sender,
                    max_bytes,
                    sessiontrail_export::Refused::SetAside,
                    &mut |_| {},
                );
                let mut asked = None;
                match result {
                    Ok(d) => {
                        metrics.spans_exported.inc_by(d.spans);
                        metrics.spans_rejected.inc_by(d.set_aside + d.rejected_spans);
                        if d.rejected_spans > 0 {
                            // Acknowledged (not sent again): the backend chose to drop them.
                            eprintln!(
                                "sessiontrail: {endpoint} accepted the requests but rejected {}: {}",
                                crate::format::counted(d.rejected_spans, "span"),
                                d.rejection.as_deref().unwrap_or("no reason given")
                            );
                        }
                        if d.spans > 0 {
                            metrics.export_seconds.observe(round.elapsed().as_secs_f64());
                        }
                        if d.set_aside > 0 {
                            eprintln!(
                                "sessiontrail: {endpoint} refused {} for good: {} (set aside; tried once more at the next start)",
                                crate::format::counted(d.set_aside, "span"),
                                d.set_aside_reason.as_deref().unwrap_or("no reason given")
                            );
                        }
                        // Written when something happened, not every idle second.
                        if let Some(f) = &d.failure {
                            let _ = store.record_delivery(&sink, Some(&f.reason));
                        } else if d.spans > 0 {
                            let _ = store.record_delivery(&sink, None);
                        }
                        span.record("spans", d.spans);
                        span.record("pending", d.pending_spans);
                        if let Some(f) = &d.failure {
                            span.record("error", f.reason.as_str());
                            span.record("otel.status_code", "ERROR");
                        }
                        match d.failure {
                            None => {
                                if failures > 0 {
                                    eprintln!("sessiontrail: {endpoint} answers again; the backlog was sent");
                                }
                                failures = 0;
                            }
                            Some(f) => {
                                if failures == 0 {
                                    eprintln!(
                                        "sessiontrail: cannot deliver to {endpoint}: {} ({} kept in the store, retrying with backoff)",
                                        f.reason,
                                        crate::format::counted(d.pending_spans, "span")
                                    );
                                }
                                failures += 1;
                                asked = f.retry_after;
                            }
                        }
                    }
                    Err(e) => {
                        span.record("error", e.to_string().as_str());
                        span.record("otel.status_code", "ERROR");
                        eprintln!("sessiontrail: delivery: {e}");
                        let _ = store.record_delivery(&sink, Some(&e.to_string()));
                        failures += 1;
                    }
                }
                if failures > 0 {
                    metrics.export_retries.inc();
                    match store.trim_outbox(&sink, max_outbox) {
                        Ok((0, _)) => {}
                        Ok((spans, traces)) => {
                            metrics.spans_dropped.inc_by(spans);
                            eprintln!(
                                "sessiontrail: the outbox for {endpoint} passed {max_outbox} spans: the {} waiting longest were given up ({}; the store keeps them, `export` can send them)",
                                crate::format::counted(traces, "trace"),
                                crate::format::counted(spans, "span")
                            );
                        }
                        Err(e) => eprintln!("sessiontrail: outbox: {e}"),
                    }
                    wait = backoff.delay(failures.min(16), jitter()).max(asked.unwrap_or_default());
                } else {
                    wait = Duration::from_secs(1);
                }
                if let Ok(st) = store.outbox_stats(&sink) {
                    waiting = st.spans;
                    metrics.outbox_spans.set(st.spans as i64);
                    let age = st.oldest_queued_ns.map_or(0.0, |t| {
                        (chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) - t).max(0) as f64 / 1e9
                    });
                    metrics.outbox_age.set(age);
                }
                if last {
                    break;
                }
            }
        })
        .context("cannot start the delivery thread")?;
    Ok((handle, key))
}

fn jitter() -> f64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(n % 1000) / 1000.0
}

fn options(
    a: &WatchArgs,
    content: ContentOptions,
) -> anyhow::Result<sessiontrail_pipeline::Options> {
    Ok(sessiontrail_pipeline::Options {
        parse: settings::parse_options(&a.read, content.clone())?,
        trace: settings::trace_options(content)?,
        jobs: 1,
        notes: !a.no_notes,
        trace_url: a.trace_url.clone(),
        keep_spans: false,
    })
}

/// `30s`, `10m`, `1h`, `2d`.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(super::parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(super::parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(
            super::parse_duration("1500ms"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(super::parse_duration("10"), None);
        assert_eq!(super::parse_duration("m"), None);
        assert_eq!(super::parse_duration("5y"), None);
    }
}
