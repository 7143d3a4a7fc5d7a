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

/// A tool call that wrote or reported a commit, as `query --commit` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitTool {
    /// `gen_ai.tool.call.id`.
    pub id: String,
    /// `gen_ai.tool.name`.
    pub name: String,
    /// What it acted on: its file path, command line or executable.
    pub target: Option<String>,
}

/// The prompt of a turn that led to a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitPrompt {
    /// The prompt, as kept at the content level of the export.
    Kept(String),
    /// Not kept at that level: what kind of prompt it was and its size in bytes.
    Withheld {
        /// `sessiontrail.turn.prompt.kind` (`user`, `command`...), when known.
        kind: Option<String>,
        /// Its size in bytes.
        size: u64,
    },
}

/// The tool calls `tool_span_ids` name (those missing from `spans` skipped) and the prompts
/// of the turns they belong to, in the order the turns started.
pub fn commit_context(
    spans: &[Span],
    tool_span_ids: &[[u8; 8]],
) -> (Vec<CommitTool>, Vec<CommitPrompt>) {
    use crate::attr as a;
    let by_id: std::collections::HashMap<&[u8], &Span> =
        spans.iter().map(|sp| (sp.span_id.as_slice(), sp)).collect();
    let mut tools = Vec::new();
    let mut turns: Vec<&Span> = Vec::new();
    for id in tool_span_ids {
        let Some(sp) = by_id.get(&id[..]) else {
            continue;
        };
        let target = [
            a::FILE_PATH,
            a::PROCESS_COMMAND_LINE,
            a::PROCESS_EXECUTABLE_NAME,
        ]
        .iter()
        .find_map(|k| attr_str(sp, k))
        .map(str::to_owned);
        tools.push(CommitTool {
            id: attr_str(sp, a::GEN_AI_TOOL_CALL_ID)
                .unwrap_or_default()
                .to_owned(),
            name: attr_str(sp, a::GEN_AI_TOOL_NAME)
                .unwrap_or_default()
                .to_owned(),
            target,
        });
        // The turn the call belongs to; the walk is bounded by the number of spans, so a
        // parent cycle in a damaged store cannot loop.
        let mut p = by_id.get(sp.parent_span_id.as_slice()).copied();
        for _ in 0..spans.len() {
            let Some(up) = p else { break };
            if attr_int(up, a::TURN_INDEX).is_some() {
                if !turns.iter().any(|t| t.span_id == up.span_id) {
                    turns.push(up);
                }
                break;
            }
            p = by_id.get(up.parent_span_id.as_slice()).copied();
        }
    }
    turns.sort_by_key(|t| t.start_time_unix_nano);
    let prompts = turns
        .iter()
        .map(|t| match attr_str(t, a::TURN_PROMPT) {
            Some(p) => CommitPrompt::Kept(p.to_owned()),
            None => CommitPrompt::Withheld {
                kind: attr_str(t, a::TURN_PROMPT_KIND).map(str::to_owned),
                size: attr_int(t, a::TURN_PROMPT_SIZE).unwrap_or(0).max(0) as u64,
            },
        })
        .collect();
    (tools, prompts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr as a;
    use crate::build::kv_str;

    fn span(id: u8, parent: u8, start: u64, attrs: Vec<KeyValueAlias>) -> Span {
        Span {
            span_id: vec![id; 8],
            parent_span_id: if parent == 0 {
                Vec::new()
            } else {
                vec![parent; 8]
            },
            start_time_unix_nano: start,
            attributes: attrs,
            ..Default::default()
        }
    }
    type KeyValueAlias = opentelemetry_proto::tonic::common::v1::KeyValue;

    fn int(key: &str, v: i64) -> KeyValueAlias {
        crate::build::kv_int(key, v)
    }

    #[test]
    fn a_commit_names_its_tools_and_the_prompts_of_their_turns_in_order() {
        let spans = vec![
            span(1, 0, 0, vec![]),
            span(
                3,
                1,
                30,
                vec![int(a::TURN_INDEX, 2), int(a::TURN_PROMPT_SIZE, 5000)],
            ),
            span(
                2,
                1,
                10,
                vec![int(a::TURN_INDEX, 1), kv_str(a::TURN_PROMPT, "fix it")],
            ),
            span(
                4,
                2,
                11,
                vec![
                    kv_str(a::GEN_AI_TOOL_NAME, "Edit"),
                    kv_str(a::FILE_PATH, "a.rs"),
                ],
            ),
            span(5, 3, 31, vec![kv_str(a::GEN_AI_TOOL_NAME, "Bash")]),
            // A parent cycle (a damaged store) ends the walk.
            span(6, 7, 40, vec![]),
            span(7, 6, 40, vec![]),
        ];
        let (tools, prompts) = commit_context(&spans, &[[5; 8], [4; 8], [9; 8], [6; 8]]);
        assert_eq!(
            tools
                .iter()
                .map(|t| (t.name.as_str(), t.target.as_deref()))
                .collect::<Vec<_>>(),
            [("Bash", None), ("Edit", Some("a.rs")), ("", None)]
        );
        assert_eq!(
            prompts,
            [
                CommitPrompt::Kept("fix it".into()),
                CommitPrompt::Withheld {
                    kind: None,
                    size: 5000
                }
            ]
        );
    }
}
