//! `sessiontrail sessions`: the stored sessions, latest first.

use std::io::Write;

use serde::Serialize;
use sessiontrail_store::Store;

use crate::args::SessionsArgs;
use crate::{exit, format};

/// One line of `sessions --json`.
#[derive(Serialize)]
struct SessionLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    agent: &'a str,
    session_id: &'a str,
    trace_id: String,
    project: Option<&'a str>,
    start: String,
    end: String,
    duration_ms: u64,
    turns: u64,
    model_calls: u64,
    tool_calls: u64,
    errors: u64,
    spans: u64,
    input_tokens: u64,
    output_tokens: u64,
}

pub fn run(a: &SessionsArgs, store: &Store, out: &mut dyn Write) -> anyhow::Result<u8> {
    let rows = store.sessions()?;
    if a.json {
        for r in &rows {
            let line = SessionLine {
                kind: "session",
                agent: &r.agent,
                session_id: &r.session_id,
                trace_id: sessiontrail_trace::hex(&r.trace_id),
                project: r.project.as_deref(),
                start: format::rfc3339_ns(r.start_ns),
                end: format::rfc3339_ns(r.end_ns),
                duration_ms: u64::try_from(r.end_ns.saturating_sub(r.start_ns) / 1_000_000)
                    .unwrap_or(0),
                turns: r.turns,
                model_calls: r.model_calls,
                tool_calls: r.tool_calls,
                errors: r.errors,
                spans: r.spans,
                input_tokens: r.input_tokens,
                output_tokens: r.output_tokens,
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
        return Ok(exit::OK);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no sessions stored in {} yet (run `sessiontrail export`)",
            store.path().display()
        )?;
        return Ok(exit::OK);
    }
    let header = [
        "AGENT",
        "SESSION",
        "PROJECT",
        "START",
        "DURATION",
        "TURNS",
        "MODEL CALLS",
        "TOOL CALLS",
        "ERRORS",
    ];
    let mut table: Vec<[String; 9]> = vec![header.map(str::to_owned)];
    for r in &rows {
        table.push([
            r.agent.clone(),
            r.session_id.clone(),
            r.project.clone().unwrap_or_else(|| "-".into()),
            format::time_ns(r.start_ns),
            format::duration_ns(u64::try_from(r.end_ns.saturating_sub(r.start_ns)).unwrap_or(0)),
            format::count(r.turns),
            format::count(r.model_calls),
            format::count(r.tool_calls),
            format::count(r.errors),
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|c| {
            table
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            // Numbers right-aligned, text left-aligned.
            if c >= 5 {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if c < 8 {
                    line.push_str(&" ".repeat(pad));
                }
            }
            if c < 8 {
                line.push_str("  ");
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(exit::OK)
}
