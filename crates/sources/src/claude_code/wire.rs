//! Claude Code's on-disk records, as serde reads them (FORMATS.md 1.2-1.5).
//!
//! Every struct borrows from the line and ignores fields it does not name, so a new field in
//! a new agent version costs nothing. Payloads whose shape varies (`content`, `toolUseResult`,
//! `data`) stay raw JSON until a handler needs them.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// One line of a transcript.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub uuid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub cwd: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub git_branch: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub version: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub entrypoint: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub permission_mode: Option<Cow<'a, str>>,
    pub is_sidechain: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub agent_id: Option<Cow<'a, str>>,
    pub is_meta: Option<bool>,
    pub is_compact_summary: Option<bool>,
    pub is_api_error_message: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub message: Option<Message<'a>>,
    #[serde(borrow)]
    pub tool_use_result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub subtype: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub content: Option<&'a RawValue>,
    pub compact_metadata: Option<CompactMetadata<'a>>,
    pub duration_ms: Option<f64>,
    pub hook_count: Option<u64>,
    #[serde(borrow)]
    pub hook_errors: Option<&'a RawValue>,
    pub prevented_continuation: Option<bool>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    #[serde(rename = "toolUseID", borrow, default, deserialize_with = "opt_str")]
    pub tool_use_id: Option<Cow<'a, str>>,
    #[serde(
        rename = "parentToolUseID",
        borrow,
        default,
        deserialize_with = "opt_str"
    )]
    pub parent_tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub attachment: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub summary: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub custom_title: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub ai_title: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub operation: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub agent_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub pr_url: Option<Cow<'a, str>>,
    pub pr_number: Option<u64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub pr_repository: Option<Cow<'a, str>>,
}

/// `message` of a `user` or `assistant` record.
#[derive(Debug, Deserialize)]
pub(crate) struct Message<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub id: Option<Cow<'a, str>>,
    /// A string (typed prompt) or an array of [`Block`]s.
    #[serde(borrow)]
    pub content: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub stop_reason: Option<Cow<'a, str>>,
    pub usage: Option<WireUsage>,
}

/// `message.usage`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
}

/// A content block. One flat struct rather than a tagged enum: serde cannot borrow raw
/// JSON through an internally tagged enum, and unknown block types must not fail the line.
#[derive(Debug, Deserialize)]
pub(crate) struct Block<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub input: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub tool_use_id: Option<Cow<'a, str>>,
    /// A string or an array of blocks.
    #[serde(borrow)]
    pub content: Option<&'a RawValue>,
    pub is_error: Option<bool>,
}

/// `compactMetadata` of a `compact_boundary` record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CompactMetadata<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub trigger: Option<Cow<'a, str>>,
    pub pre_tokens: Option<u64>,
}

/// `data` of a `progress` record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProgressData<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub agent_id: Option<Cow<'a, str>>,
    /// A nested subagent record (`agent_progress`).
    #[serde(borrow)]
    pub message: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub hook_event: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub hook_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub command: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub status: Option<Cow<'a, str>>,
}

/// `attachment` of an `attachment` record (2.1.2xx).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attachment<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub hook_event: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub hook_name: Option<Cow<'a, str>>,
    #[serde(rename = "toolUseID", borrow, default, deserialize_with = "opt_str")]
    pub tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub command: Option<Cow<'a, str>>,
    pub exit_code: Option<i64>,
}

/// The parts of `toolUseResult` (an object for most tools) that matter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseResult<'a> {
    pub interrupted: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub agent_id: Option<Cow<'a, str>>,
    pub total_tokens: Option<u64>,
    pub total_tool_use_count: Option<u64>,
    pub total_duration_ms: Option<u64>,
    pub exit_code: Option<i64>,
}

/// An optional string borrowed from the line unless it has escapes: serde's own `Cow`
/// impl copies every string inside an `Option` (serde-rs/serde#1497), one allocation per
/// field per line.
pub(crate) fn opt_str<'de, D>(d: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Str<'de>(Cow<'de, str>);
    impl<'de> Deserialize<'de> for Str<'de> {
        fn deserialize<E: serde::Deserializer<'de>>(d: E) -> Result<Self, E::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Cow<'de, str>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Cow::Borrowed(v))
                }
                fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(v.to_owned()))
                }
                fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(v))
                }
            }
            d.deserialize_str(V).map(Str)
        }
    }
    Ok(Option::<Str<'de>>::deserialize(d)?.map(|s| s.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let r: Record<'_> =
            serde_json::from_slice(br#"{"type":"user","uuid":"a\"b","cwd":null}"#).unwrap();
        assert!(matches!(r.kind, Some(Cow::Borrowed("user"))));
        assert!(matches!(r.uuid.as_deref(), Some("a\"b")));
        assert!(matches!(r.uuid, Some(Cow::Owned(_))));
        assert!(r.cwd.is_none() && r.version.is_none());
        assert!(serde_json::from_slice::<Record<'_>>(br#"{"uuid":7}"#).is_err());
    }
}
