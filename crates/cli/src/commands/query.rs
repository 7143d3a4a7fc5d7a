//! `sessiontrail query --sensitive`: tool calls that touched sensitive resources.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;
use sessiontrail_store::Store;

use crate::args::QueryArgs;
use crate::{exit, format};

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    severity: &'a str,
    rules: &'a [String],
    targets: &'a [String],
    tool: &'a str,
    agent: &'a str,
    session_id: &'a str,
    trace_id: String,
    span_id: String,
    project: Option<&'a str>,
}

pub fn run(a: &QueryArgs, store: &Store, out: &mut dyn Write) -> anyhow::Result<u8> {
    if let Some(rev) = &a.commit {
        return super::commits::by_commit(a, rev, Some(store), out);
    }
    if let Some(session) = &a.session {
        return super::commits::by_session(a, session, store, out);
    }
    let since = match &a.since {
        Some(s) => parse_since(s, chrono::Utc::now()).with_context(|| {
            format!("--since '{s}': expected a duration (30m, 24h, 7d) or a date (2026-02-01)")
        })?,
        None => i64::MIN,
    };
    let mut hits = store.sensitive(since)?;
    // Stores written before targets were shown as `~/` hold the matching form.
    for h in &mut hits {
        for t in &mut h.access.targets {
            if let Some(rest) = t.strip_prefix("/home/~/") {
                *t = format!("~/{rest}");
            }
        }
    }
    if a.json {
        for h in &hits {
            let line = Line {
                kind: "sensitive_access",
                time: format::rfc3339_ns(h.access.time_ns),
                severity: &h.access.severity,
                rules: &h.access.rules,
                targets: &h.access.targets,
                tool: &h.access.tool,
                agent: &h.session.agent,
                session_id: &h.session.session_id,
                trace_id: sessiontrail_trace::hex(&h.session.trace_id),
                span_id: sessiontrail_trace::hex(&h.access.span_id),
                project: h.session.project.as_deref(),
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
        return Ok(exit::OK);
    }
    if hits.is_empty() {
        writeln!(
            out,
            "no sensitive access recorded{}",
            if a.since.is_some() {
                " in that time"
            } else {
                ""
            }
        )?;
        return Ok(exit::OK);
    }
    for h in &hits {
        writeln!(
            out,
            "{}  {:<8}  {:<28}  {:<10}  {}  session {} ({})",
            format::time_ns(h.access.time_ns),
            h.access.severity,
            h.access.rules.join(","),
            h.access.tool,
            h.access.targets.first().map_or("-", String::as_str),
            h.session.session_id,
            h.session.project.as_deref().unwrap_or("-"),
        )?;
    }
    Ok(exit::OK)
}

/// `30m`, `24h`, `7d`, `2w` back from `now`, or an RFC 3339 time or a date (UTC midnight).
fn parse_since(s: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last().filter(char::is_ascii_alphabetic);
    if let Some(unit) = unit
        && let Ok(n) = s[..s.len() - 1].parse::<i64>()
    {
        let secs = match unit {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86_400,
            'w' => n * 604_800,
            _ => return None,
        };
        return (now - chrono::Duration::seconds(secs)).timestamp_nanos_opt();
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .to_utc();
        let at = |s: &str| {
            chrono::DateTime::from_timestamp_nanos(parse_since(s, now).unwrap()).to_rfc3339()
        };
        assert_eq!(at("24h"), "2026-11-25T12:00:00+00:00");
        assert_eq!(at("7d"), "2026-11-19T12:00:00+00:00");
        assert_eq!(at("2026-02-01"), "2026-02-01T00:00:00+00:00");
        assert_eq!(at("2026-02-01T10:00:00+02:00"), "2026-02-01T08:00:00+00:00");
        assert!(parse_since("yesterday", now).is_none());
        assert!(parse_since("5y", now).is_none());
    }
}
