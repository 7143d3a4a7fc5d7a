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

use crate::args::WatchArgs;
use crate::{exit, settings};

/// How long a stop waits for the last delivery.
const DRAIN: Duration = Duration::from_secs(5);

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
            woken,
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
                WatchEvent::Stored { .. } => {}
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

    let mut watcher = Watcher::new(
        roots,
        opts,
        idle_timeout,
        Some(settings::spool_path(store_path)),
    );
    let tick = Duration::from_millis(a.poll_ms);
    let mut failing = false;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        match watcher.tick(&mut store) {
            Ok(events) => {
                failing = false;
                let mut traces = Vec::new();
                for e in &events {
                    report(out, e)?;
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
        if let Some(left) = tick.checked_sub(started.elapsed()) {
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

fn reason_name(r: Finish) -> &'static str {
    match r {
        Finish::EndSignal => "ended",
        Finish::IdleTimeout => "idle",
        Finish::EndOfInput => "end of input",
    }
}

/// Ships the outbox on its own thread: after each store commit (a wake-up) and every
/// second, with exponential backoff and jitter while the backend fails. Returns the
/// thread and the outbox's sink key.
fn ship_thread(
    cfg: OtlpConfig,
    store_path: PathBuf,
    max_bytes: usize,
    woken: mpsc::Receiver<()>,
) -> anyhow::Result<(std::thread::JoinHandle<()>, String)> {
    let sink = cfg.sink_key();
    let endpoint = sessiontrail_export::display_url(&cfg.endpoint);
    // One attempt per round: the waiting happens here, between rounds, never in a send.
    let mut sender = OtlpSender::new(cfg)?.with_backoff(sessiontrail_export::retry::Backoff {
        max_attempts: 1,
        ..Default::default()
    });
    let mut store = Store::open(&store_path)?;
    let backoff = sessiontrail_export::retry::Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(60),
        ..Default::default()
    };
    let handle = std::thread::Builder::new()
        .name("ship".into())
        .spawn(move || {
            let mut failures = 0u32;
            let mut wait = Duration::ZERO;
            loop {
                let last = match woken.recv_timeout(wait) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => false,
                    Err(mpsc::RecvTimeoutError::Disconnected) => true,
                };
                // A wake-up during a backoff does not cut it short.
                while woken.try_recv().is_ok() {}
                match sessiontrail_export::deliver_outbox(&mut store, &mut sender, max_bytes, &mut |_| {}) {
                    Ok(d) if d.failure.is_none() => {
                        if failures > 0 {
                            eprintln!("sessiontrail: {endpoint} answers again; the backlog was sent");
                        }
                        failures = 0;
                        wait = Duration::from_secs(1);
                    }
                    Ok(d) => {
                        let f = d.failure.expect("checked");
                        if failures == 0 {
                            eprintln!(
                                "sessiontrail: cannot deliver to {endpoint}: {} ({} spans kept in the store, retrying with backoff)",
                                f.reason, d.pending_spans
                            );
                        }
                        failures += 1;
                        wait = backoff.delay(failures.min(16), jitter());
                    }
                    Err(e) => {
                        eprintln!("sessiontrail: delivery: {e}");
                        failures += 1;
                        wait = backoff.delay(failures.min(16), jitter());
                    }
                }
                if last {
                    break;
                }
            }
        })
        .context("cannot start the delivery thread")?;
    Ok((handle, sink))
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
