//! `watch --on-sensitive CMD` and `--webhook URL`: each sensitive access read live becomes
//! one JSON document (never a secret: targets are redacted like every attribute), given to
//! the command on stdin and posted to the URL, from a thread of its own so that a slow
//! command or URL never delays reading.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sessiontrail_pipeline::Access;

/// How long a command or a post may take before it is given up.
const ACTION_TIMEOUT: Duration = Duration::from_secs(10);
/// Alerts waiting for the actions; past it, alerts are counted and dropped, not queued.
const QUEUE: usize = 256;

/// The JSON of an access, as every alert channel sends it.
pub fn document(a: &Access, trace_url: Option<&str>) -> serde_json::Value {
    let trace = sessiontrail_trace::hex(&a.trace_id);
    serde_json::json!({
        "type": "sensitive_access",
        "time": crate::format::rfc3339_ns(a.time.0),
        "agent": a.agent,
        "session": a.session_id,
        "repo": a.repo,
        "trace_id": trace,
        "span_id": sessiontrail_trace::hex(&a.span_id),
        "tool": a.tool,
        "rule": a.rule,
        "severity": a.severity,
        "category": a.category,
        "target": a.target,
        "trace_url": trace_url.map(|u| u.replace("{trace_id}", &trace)),
    })
}

/// The actions asked for, run in order for each alert.
pub struct Actions {
    tx: mpsc::SyncSender<serde_json::Value>,
}

impl Actions {
    /// Starts the thread, or `None` when no action was asked for.
    pub fn start(
        command: Option<String>,
        webhook: Option<&str>,
    ) -> anyhow::Result<Option<Actions>> {
        if command.is_none() && webhook.is_none() {
            return Ok(None);
        }
        let hook = match webhook {
            Some(url) => Some(
                sessiontrail_export::webhook::Webhook::new(url, ACTION_TIMEOUT)
                    .map_err(|e| anyhow::anyhow!("--webhook {url}: {e}"))?,
            ),
            None => None,
        };
        let (tx, rx) = mpsc::sync_channel::<serde_json::Value>(QUEUE);
        std::thread::Builder::new()
            .name("alerts".into())
            .spawn(move || {
                for doc in rx {
                    let body = serde_json::to_vec(&doc).unwrap_or_default();
                    if let Some(cmd) = &command
                        && let Err(e) = run(cmd, &body, &doc)
                    {
                        eprintln!("sessiontrail: --on-sensitive: {e}");
                    }
                    if let Some(h) = &hook
                        && let Err(e) = h.post(body)
                    {
                        eprintln!("sessiontrail: --webhook {}: {e}", h.display());
                    }
                }
            })
            .context("cannot start the alert thread")?;
        Ok(Some(Actions { tx }))
    }

    /// Queues an alert; false when the queue is full (the alert is dropped, the access
    /// stays counted and stored).
    pub fn send(&self, doc: serde_json::Value) -> bool {
        self.tx.try_send(doc).is_ok()
    }
}

/// Runs `sh -c CMD` with the document on stdin and its main fields in the environment.
fn run(cmd: &str, body: &[u8], doc: &serde_json::Value) -> Result<(), String> {
    let field = |k: &str| doc[k].as_str().unwrap_or_default().to_owned();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("SESSIONTRAIL_RULE", field("rule"))
        .env("SESSIONTRAIL_SEVERITY", field("severity"))
        .env("SESSIONTRAIL_AGENT", field("agent"))
        .env("SESSIONTRAIL_SESSION", field("session"))
        .env("SESSIONTRAIL_REPO", field("repo"))
        .env("SESSIONTRAIL_TRACE_ID", field("trace_id"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is fine.
        let _ = stdin.write_all(body);
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("'{cmd}' exited with {status}")),
            Ok(None) if started.elapsed() > ACTION_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "'{cmd}' ran longer than {}s and was stopped",
                    ACTION_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}
