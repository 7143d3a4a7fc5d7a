//! A built trace in the store's form.

use prost::Message;
use sessiontrail_store::{CheckpointRow, CommitRow, NewSession, SensitiveRow, SessionRow, SpanRow};
use sessiontrail_trace::SessionTrace;

/// The store's form of a trace: encoded spans with the columns queries need, and how far
/// its files were read.
pub fn encode(t: &SessionTrace, checkpoints: Vec<CheckpointRow>) -> NewSession {
    let s = &t.summary;
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
            errors: s.errors,
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
                method: c.commit.method.as_str().to_owned(),
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
        spans: t.spans.iter().map(span_row).collect(),
        partial: false,
        checkpoints,
    }
}

/// A span as the store keeps it.
pub(crate) fn span_row(sp: &sessiontrail_trace::Span) -> SpanRow {
    SpanRow {
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
    }
}
