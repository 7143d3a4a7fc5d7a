//! `sessiontrail show SESSION`: a stored session's span tree.

use std::io::Write;

use prost::Message;
use sessiontrail_store::Store;
use sessiontrail_trace::Span;
use sessiontrail_trace::attr as a;
use sessiontrail_trace::tree::{AnyValueKind, attr_int, attr_str, depth_first, is_error};

use crate::args::ShowArgs;
use crate::{exit, format};

pub fn run(a: &ShowArgs, store: &Store, out: &mut dyn Write) -> anyhow::Result<u8> {
    let row = store.find_session(&a.session)?;
    let spans: Vec<Span> = store
        .spans(&row.trace_id)?
        .iter()
        .map(|r| Span::decode(&r.body[..]))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            anyhow::anyhow!(
                "the store holds a span of session {} that does not decode; re-run the export",
                row.session_id
            )
        })?;
    let tree = depth_first(&spans);
    let origin = spans
        .iter()
        .map(|s| s.start_time_unix_nano)
        .min()
        .unwrap_or(0);
    if a.json {
        for (depth, s) in &tree {
            let attributes: serde_json::Map<String, serde_json::Value> = s
                .attributes
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        json_value(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                    )
                })
                .collect();
            let line = serde_json::json!({
                "type": "span",
                "depth": depth,
                "trace_id": sessiontrail_trace::hex(&s.trace_id),
                "span_id": sessiontrail_trace::hex(&s.span_id),
                "parent_span_id": (!s.parent_span_id.is_empty()).then(|| sessiontrail_trace::hex(&s.parent_span_id)),
                "name": s.name,
                "start": format::rfc3339_ns(i64::try_from(s.start_time_unix_nano).unwrap_or(i64::MAX)),
                "end": format::rfc3339_ns(i64::try_from(s.end_time_unix_nano).unwrap_or(i64::MAX)),
                "duration_ms": s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano) / 1_000_000,
                "error": is_error(s),
                "events": s.events.len(),
                "attributes": attributes,
            });
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        }
        return Ok(exit::OK);
    }
    writeln!(
        out,
        "session {} ({})  trace {}",
        row.session_id,
        row.agent,
        sessiontrail_trace::hex(&row.trace_id)
    )?;
    writeln!(
        out,
        "{}  {}  {}, {}, {}, {}",
        row.project.as_deref().unwrap_or("-"),
        format::time_ns(row.start_ns),
        format::counted(row.turns, "turn"),
        format::counted(row.model_calls, "model call"),
        format::counted(row.tool_calls, "tool call"),
        format::counted(row.errors, "error")
    )?;
    writeln!(
        out,
        "each span: +when it started after the session did, then how long it took"
    )?;
    let depths: Vec<usize> = tree.iter().map(|(d, _)| *d).collect();
    for (i, (_, s)) in tree.iter().enumerate() {
        let prefix = branch_prefix(&depths, i);
        let offset = format::duration_ns(s.start_time_unix_nano.saturating_sub(origin));
        let took = format::duration_ns(s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano));
        let detail = detail(s);
        writeln!(
            out,
            "{prefix}{}  +{offset} {took}{}{}",
            s.name,
            if detail.is_empty() { "" } else { "  " },
            detail
        )?;
    }
    Ok(exit::OK)
}

/// Box-drawing prefix for tree line `i`, from the depth of every line.
fn branch_prefix(depths: &[usize], i: usize) -> String {
    let d = depths[i];
    if d == 0 {
        return String::new();
    }
    // Whether the ancestor (or the node itself) at `level` has a later sibling.
    let has_next = |level: usize| {
        depths[i + 1..]
            .iter()
            .take_while(|&&x| x >= level)
            .any(|&x| x == level)
    };
    let mut s = String::new();
    for level in 1..d {
        s.push_str(if has_next(level) { "│  " } else { "   " });
    }
    s.push_str(if has_next(d) { "├─ " } else { "└─ " });
    s
}

/// The one or two facts worth a glance, per kind of span.
fn detail(s: &Span) -> String {
    let mut parts: Vec<String> = Vec::new();
    match attr_str(s, a::GEN_AI_OPERATION_NAME) {
        Some("chat") => {
            if let (Some(i), Some(o)) = (
                attr_int(s, a::GEN_AI_USAGE_INPUT_TOKENS),
                attr_int(s, a::GEN_AI_USAGE_OUTPUT_TOKENS),
            ) {
                parts.push(format!(
                    "tokens in {} out {}",
                    format::count(i as u64),
                    format::count(o as u64)
                ));
            }
        }
        Some("execute_tool") => {
            for key in [
                a::FILE_PATH,
                a::FILE_DIRECTORY,
                a::PROCESS_COMMAND_LINE,
                a::URL_FULL,
                a::SERVER_ADDRESS,
            ] {
                if let Some(v) = attr_str(s, key) {
                    parts.push(one_line(v, 80));
                    break;
                }
            }
            if let Some(exe) = attr_str(s, a::PROCESS_EXECUTABLE_NAME)
                .filter(|_| attr_str(s, a::PROCESS_COMMAND_LINE).is_none())
            {
                parts.push(format!("({exe})"));
            }
            if let Some(o) = attr_str(s, a::TOOL_OUTCOME).filter(|o| *o != "ok") {
                parts.push(format!("[{o}]"));
            }
        }
        _ => {
            if let Some(p) = attr_str(s, a::TURN_PROMPT) {
                parts.push(format!("\"{}\"", one_line(p, 80)));
            } else if let Some(kind) = attr_str(s, a::TURN_PROMPT_KIND) {
                let size = attr_int(s, a::TURN_PROMPT_SIZE).unwrap_or(0);
                parts.push(format!("{kind} prompt, {}", format::bytes(size as u64)));
            }
        }
    }
    if !s.events.is_empty() {
        parts.push(format::counted(s.events.len() as u64, "event"));
    }
    parts.join("  ")
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

fn json_value(v: Option<&AnyValueKind>) -> serde_json::Value {
    match v {
        Some(AnyValueKind::StringValue(s)) => s.clone().into(),
        Some(AnyValueKind::IntValue(i)) => (*i).into(),
        Some(AnyValueKind::BoolValue(b)) => (*b).into(),
        Some(AnyValueKind::DoubleValue(d)) => (*d).into(),
        Some(AnyValueKind::ArrayValue(arr)) => arr
            .values
            .iter()
            .map(|v| json_value(v.value.as_ref()))
            .collect::<Vec<_>>()
            .into(),
        _ => serde_json::Value::Null,
    }
}
