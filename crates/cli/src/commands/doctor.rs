//! `sessiontrail doctor`: what is configured, what would be watched, whether the backend
//! answers, what waits in the outbox and the last delivery error. Each check is a line (or a
//! JSON object); a failed check makes the exit code 4.

use std::io::Write;
use std::time::Instant;

use serde_json::json;
use sessiontrail_store::Store;

use crate::args::DoctorArgs;
use crate::{exit, format, settings};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

struct Check {
    name: &'static str,
    status: Status,
    detail: String,
}

fn check(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
    }
}

pub fn run(
    a: &DoctorArgs,
    store_path: &std::path::Path,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let mut checks = Vec::new();
    checks.push(check(
        "version",
        Status::Ok,
        format!("sessiontrail {}", env!("CARGO_PKG_VERSION")),
    ));

    let store = if store_path.exists() {
        match Store::open(store_path) {
            Ok(st) => {
                let sessions = st.sessions().map(|s| s.len()).unwrap_or(0);
                let size = std::fs::metadata(store_path).map_or(0, |m| m.len());
                checks.push(check(
                    "store",
                    Status::Ok,
                    format!(
                        "{} ({}, {})",
                        store_path.display(),
                        format::counted(sessions as u64, "session"),
                        format::bytes(size)
                    ),
                ));
                Some(st)
            }
            Err(e) => {
                checks.push(check(
                    "store",
                    Status::Fail,
                    format!("{}: {e}", store_path.display()),
                ));
                None
            }
        }
    } else {
        checks.push(check(
            "store",
            Status::Warn,
            format!(
                "{} does not exist yet (export or watch creates it)",
                store_path.display()
            ),
        ));
        None
    };

    let spool = settings::spool_path(store_path);
    checks.push(match std::fs::metadata(&spool) {
        Ok(m) => check(
            "hook spool",
            Status::Ok,
            format!("{} ({})", spool.display(), format::bytes(m.len())),
        ),
        Err(_) => check(
            "hook spool",
            Status::Ok,
            format!("{} (no hook event yet)", spool.display()),
        ),
    });

    let projects = settings::claude_projects()?;
    checks.push(if projects.is_dir() {
        let files = sessiontrail_sources::listing(std::slice::from_ref(&projects));
        check(
            "claude code sessions",
            Status::Ok,
            format!(
                "{}: {} watched by `watch`",
                projects.display(),
                format::counted(files.len() as u64, "session file")
            ),
        )
    } else {
        check(
            "claude code sessions",
            Status::Warn,
            format!("{} does not exist (watch waits for it)", projects.display()),
        )
    });

    let user_settings = settings::claude_config_dir()
        .map(|d| d.join("settings.json"))
        .or_else(|| settings::home().map(|h| h.join(".claude/settings.json")));
    if let Some(p) = user_settings {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        checks.push(if text.contains("hook --agent claude") {
            check(
                "claude code hooks",
                Status::Ok,
                format!("installed in {}", p.display()),
            )
        } else {
            check(
                "claude code hooks",
                Status::Warn,
                format!(
                    "not in {} (run `sessiontrail hook install`: `watch` then ends a session at its SessionEnd, not after the idle timeout)",
                    p.display()
                ),
            )
        });
    }

    checks.push(match settings::rules(a.policy.as_deref()) {
        Ok(r) => check(
            "policy",
            Status::Ok,
            format!(
                "{} ({})",
                settings::policy_path(a.policy.as_deref())
                    .map_or("built-in rules".into(), |p| p.display().to_string()),
                format::counted(r.rules().len() as u64, "rule")
            ),
        ),
        Err(e) => check("policy", Status::Fail, format::error_chain(&e)),
    });

    let mut outboxes = Vec::new();
    match super::export::otlp_config(&a.otlp) {
        Ok(None) => checks.push(check(
            "backend",
            Status::Ok,
            "no OTLP endpoint configured: the store is the only sink",
        )),
        Ok(Some(cfg)) => {
            let shown = format!(
                "{} ({})",
                sessiontrail_export::display_url(&cfg.endpoint),
                cfg.protocol.as_str()
            );
            let started = Instant::now();
            let probe = sessiontrail_export::OtlpSender::new(cfg.clone())
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    s.with_backoff(sessiontrail_export::retry::Backoff {
                        max_attempts: 1,
                        ..Default::default()
                    })
                    .probe()
                    .map_err(|f| f.reason)
                });
            checks.push(match probe {
                Ok(_) => check(
                    "backend",
                    Status::Ok,
                    format!(
                        "{shown} answers an empty export in {} ms",
                        started.elapsed().as_millis()
                    ),
                ),
                Err(e) => check("backend", Status::Fail, format!("{shown}: {e}")),
            });
        }
        Err(e) => checks.push(check("backend", Status::Fail, format::error_chain(&e))),
    }

    if let Some(st) = &store {
        for sink in st.sinks()? {
            let s = st.outbox_stats(&sink)?;
            let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
            let mut detail = format!("{sink}: {} waiting", format::counted(s.spans, "span"));
            if let Some(t) = s.oldest_queued_ns {
                detail.push_str(&format!(
                    ", the oldest for {}",
                    format::duration_ns(u64::try_from(now - t).unwrap_or(0))
                ));
            }
            if s.set_aside > 0 {
                detail.push_str(&format!(
                    "; {} refused for good ({})",
                    format::counted(s.set_aside, "span"),
                    s.set_aside_reason.as_deref().unwrap_or("")
                ));
            }
            if s.dropped_spans > 0 {
                detail.push_str(&format!(
                    "; {} given up past the cap",
                    format::counted(s.dropped_spans, "span")
                ));
            }
            let failing = match (s.last_error.as_ref(), s.last_ok_ns) {
                (Some((_, at)), Some(ok)) => *at > ok,
                (Some(_), None) => true,
                _ => false,
            };
            if let Some((e, at)) = &s.last_error {
                detail.push_str(&format!("; last error at {}: {e}", format::rfc3339_ns(*at)));
            }
            let status = if failing || s.set_aside > 0 || s.dropped_spans > 0 {
                Status::Warn
            } else {
                Status::Ok
            };
            checks.push(check("outbox", status, detail));
            outboxes.push(json!({
                "sink": sink,
                "waiting_spans": s.spans,
                "waiting_traces": s.traces,
                "oldest_queued": s.oldest_queued_ns.map(format::rfc3339_ns),
                "set_aside_spans": s.set_aside,
                "set_aside_reason": s.set_aside_reason,
                "dropped_spans": s.dropped_spans,
                "dropped_traces": s.dropped_traces,
                "last_ok": s.last_ok_ns.map(format::rfc3339_ns),
                "last_error": s.last_error.as_ref().map(|(e, _)| e),
                "last_error_at": s.last_error.as_ref().map(|(_, t)| format::rfc3339_ns(*t)),
            }));
        }
    }

    let failed = checks.iter().any(|c| c.status == Status::Fail);
    let name = |s: Status| match s {
        Status::Ok => "ok",
        Status::Warn => "warn",
        Status::Fail => "fail",
    };
    if a.json {
        let v = json!({
            "ok": !failed,
            "checks": checks.iter().map(|c| json!({"name": c.name, "status": name(c.status), "detail": c.detail})).collect::<Vec<_>>(),
            "outboxes": outboxes,
        });
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
    } else {
        for c in &checks {
            writeln!(out, "{:<4}  {}: {}", name(c.status), c.name, c.detail)?;
        }
    }
    Ok(if failed { exit::PROBLEMS } else { exit::OK })
}
