//! What `watch --metrics-addr` serves: its own counters in the Prometheus text format
//! (OpenMetrics), for scraping and for the alert rules in `dashboards/prometheus/`.
//! Labels never carry a secret: rules, severities, agents and repository names only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// The sidecar's metrics, updated by the reading and the delivery threads.
pub struct Metrics {
    registry: Registry,
    /// Complete lines read from session files.
    pub lines_read: Counter,
    /// Spans written to the store (final spans, and whole traces at a session's end).
    pub spans_stored: Counter,
    /// Spans the backend acknowledged.
    pub spans_exported: Counter,
    /// Delivery rounds that failed and will be retried.
    pub export_retries: Counter,
    /// Spans the backend refused for good, set aside.
    pub spans_rejected: Counter,
    /// Spans given up past the outbox's cap.
    pub spans_dropped: Counter,
    /// Spans waiting in the outbox.
    pub outbox_spans: Gauge,
    /// Age of the oldest trace waiting in the outbox.
    pub outbox_age: Gauge<f64, AtomicU64>,
    /// How long a delivery round that sent spans took.
    pub export_seconds: Histogram,
    /// Sessions followed now.
    pub sessions_open: Gauge,
    /// Sessions finished, by reason.
    pub sessions_finished: Family<Labels, Counter>,
    /// Sensitive accesses read live.
    pub sensitive: Family<Labels, Counter>,
    /// Input skipped (lines that are not records...).
    pub input_skipped: Counter,
    /// Files or spool lines that could not be used.
    pub problems: Counter,
    /// Rounds of reading: one per change notified, at least one per polling interval.
    pub ticks: Counter,
}

impl Metrics {
    /// Registers every metric under the `sessiontrail_` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sessiontrail");
        let m = Metrics {
            lines_read: Counter::default(),
            spans_stored: Counter::default(),
            spans_exported: Counter::default(),
            export_retries: Counter::default(),
            spans_rejected: Counter::default(),
            spans_dropped: Counter::default(),
            outbox_spans: Gauge::default(),
            outbox_age: Gauge::default(),
            export_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            sessions_open: Gauge::default(),
            sessions_finished: Family::default(),
            sensitive: Family::default(),
            input_skipped: Counter::default(),
            problems: Counter::default(),
            ticks: Counter::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "lines_read",
            "Complete lines read from session files",
            m.lines_read.clone(),
        );
        r.register(
            "spans_stored",
            "Spans written to the store",
            m.spans_stored.clone(),
        );
        r.register(
            "spans_exported",
            "Spans the OTLP backend acknowledged",
            m.spans_exported.clone(),
        );
        r.register(
            "export_retries",
            "Delivery rounds that failed and are retried with backoff",
            m.export_retries.clone(),
        );
        r.register(
            "spans_rejected",
            "Spans the backend refused for good, set aside until the next start",
            m.spans_rejected.clone(),
        );
        r.register(
            "outbox_dropped_spans",
            "Spans given up for the backend past the outbox cap (the store keeps them)",
            m.spans_dropped.clone(),
        );
        r.register(
            "outbox_spans",
            "Spans waiting in the outbox",
            m.outbox_spans.clone(),
        );
        r.register(
            "outbox_age_seconds",
            "Age of the oldest trace waiting in the outbox",
            m.outbox_age.clone(),
        );
        r.register(
            "export_duration_seconds",
            "Duration of a delivery round that sent spans",
            m.export_seconds.clone(),
        );
        r.register(
            "sessions_open",
            "Sessions followed now",
            m.sessions_open.clone(),
        );
        r.register(
            "sessions_finished",
            "Sessions finished, by reason (ended, idle)",
            m.sessions_finished.clone(),
        );
        // `sessiontrail_` + this + `_total`: the name the alert rules use.
        debug_assert_eq!(
            sessiontrail_policy::SENSITIVE_ACCESS_METRIC,
            "sessiontrail_sensitive_access_total"
        );
        r.register(
            "sensitive_access",
            "Sensitive accesses by coding agents, read live (rule, severity, agent, repo)",
            m.sensitive.clone(),
        );
        r.register(
            "input_skipped",
            "Input skipped in session files (each line once)",
            m.input_skipped.clone(),
        );
        r.register(
            "problems",
            "Session files or spool lines that could not be used",
            m.problems.clone(),
        );
        r.register(
            "ticks",
            "Rounds of reading (one per change notified, at least one per polling interval)",
            m.ticks.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts one sensitive access.
    pub fn access(&self, a: &sessiontrail_pipeline::Access) {
        let values = [
            a.rule.clone(),
            a.severity.clone(),
            a.agent.clone(),
            a.repo.clone().unwrap_or_default(),
        ];
        let labels: Labels = sessiontrail_policy::SENSITIVE_ACCESS_LABELS
            .into_iter()
            .zip(values)
            .collect();
        self.sensitive.get_or_create(&labels).inc();
    }

    /// Counts a finished session.
    pub fn finished(&self, reason: &'static str) {
        self.sessions_finished
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        encode(&mut s, &self.registry).expect("writing to a String cannot fail");
        s
    }
}

/// Serves `GET /metrics` on `addr` from a thread of its own (it ends with the process).
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> anyhow::Result<SocketAddr> {
    let server = tiny_http::Server::http(addr)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("--metrics-addr {addr}: cannot listen"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .context("--metrics-addr: not an IP address")?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for req in server.incoming_requests() {
                let path = req.url().split('?').next().unwrap_or("");
                let resp = match (req.method(), path) {
                    (tiny_http::Method::Get, "/metrics") => {
                        tiny_http::Response::from_string(metrics.render()).with_header(
                            tiny_http::Header::from_bytes(
                                &b"Content-Type"[..],
                                &b"application/openmetrics-text; version=1.0.0; charset=utf-8"[..],
                            )
                            .expect("a valid header"),
                        )
                    }
                    _ => tiny_http::Response::from_string("sessiontrail serves /metrics only\n")
                        .with_status_code(404),
                };
                // A scraper that hung up is its own problem.
                let _ = req.respond(resp);
            }
        })
        .context("cannot start the metrics thread")?;
    Ok(bound)
}
