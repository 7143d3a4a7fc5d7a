//! Span forests: ordering a trace's spans for display and checking its shape.

use std::collections::HashMap;

use AnyValueKind as Value;
pub use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValueKind;
use opentelemetry_proto::tonic::trace::v1::Span;

/// Spans of one trace in display order (depth-first, children by start time), each with
/// its depth. Spans whose parent is missing are shown as extra roots, after the real ones.
pub fn depth_first(spans: &[Span]) -> Vec<(usize, &Span)> {
    let ids: HashMap<&[u8], usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id.as_slice(), i))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match ids
            .get(s.parent_span_id.as_slice())
            .filter(|_| !s.parent_span_id.is_empty())
        {
            Some(&p) if p != i => children.entry(p).or_default().push(i),
            _ => roots.push(i),
        }
    }
    let order = |v: &mut Vec<usize>| {
        v.sort_by(|&a, &b| {
            let (a, b) = (&spans[a], &spans[b]);
            a.start_time_unix_nano
                .cmp(&b.start_time_unix_nano)
                .then_with(|| a.name.cmp(&b.name))
        });
    };
    // True roots (no parent id) before orphans.
    roots.sort_by_key(|&i| {
        (
            !spans[i].parent_span_id.is_empty(),
            spans[i].start_time_unix_nano,
        )
    });
    let mut out = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|r| (0, r)).collect();
    let mut visited = vec![false; spans.len()];
    while let Some((depth, i)) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        out.push((depth, &spans[i]));
        if let Some(mut kids) = children.remove(&i) {
            order(&mut kids);
            stack.extend(kids.into_iter().rev().map(|k| (depth + 1, k)));
        }
    }
    out
}

/// Whether the span's status is ERROR.
pub fn is_error(span: &Span) -> bool {
    span.status.as_ref().is_some_and(|st| {
        st.code == opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32
    })
}

/// The value of a string attribute.
pub fn attr_str<'s>(span: &'s Span, key: &str) -> Option<&'s str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

/// The value of an integer attribute.
pub fn attr_int(span: &Span, key: &str) -> Option<i64> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::IntValue(i) => Some(*i),
            _ => None,
        })
}
