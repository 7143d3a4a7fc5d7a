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
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub uuid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub git_branch: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub entrypoint: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub permission_mode: Option<Cow<'a, str>>,
    pub is_sidechain: Option<bool>,
    #[serde(borrow)]
    pub agent_id: Option<Cow<'a, str>>,
    pub is_meta: Option<bool>,
    pub is_compact_summary: Option<bool>,
    pub is_api_error_message: Option<bool>,
    #[serde(borrow)]
    pub request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub message: Option<Message<'a>>,
    #[serde(borrow)]
    pub tool_use_result: Option<&'a RawValue>,
    #[serde(borrow)]
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
    #[serde(rename = "toolUseID", borrow)]
    pub tool_use_id: Option<Cow<'a, str>>,
    #[serde(rename = "parentToolUseID", borrow)]
    pub parent_tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub attachment: Option<&'a RawValue>,
    #[serde(borrow)]
    pub summary: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub custom_title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub ai_title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub operation: Option<Cow<'a, str>>,
}

/// `message` of a `user` or `assistant` record.
#[derive(Debug, Deserialize)]
pub(crate) struct Message<'a> {
    #[serde(borrow)]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    /// A string (typed prompt) or an array of [`Block`]s.
    #[serde(borrow)]
    pub content: Option<&'a RawValue>,
    #[serde(borrow)]
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
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub input: Option<&'a RawValue>,
    #[serde(borrow)]
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
    #[serde(borrow)]
    pub trigger: Option<Cow<'a, str>>,
    pub pre_tokens: Option<u64>,
}

/// `data` of a `progress` record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProgressData<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub agent_id: Option<Cow<'a, str>>,
    /// A nested subagent record (`agent_progress`).
    #[serde(borrow)]
    pub message: Option<&'a RawValue>,
    #[serde(borrow)]
    pub hook_event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub hook_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub command: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
}

/// `attachment` of an `attachment` record (2.1.2xx).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Attachment<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub hook_event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub hook_name: Option<Cow<'a, str>>,
    #[serde(rename = "toolUseID", borrow)]
    pub tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub command: Option<Cow<'a, str>>,
    pub exit_code: Option<i64>,
}

/// The parts of `toolUseResult` (an object for most tools) that matter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseResult<'a> {
    pub interrupted: Option<bool>,
    #[serde(borrow)]
    pub agent_id: Option<Cow<'a, str>>,
    pub total_tokens: Option<u64>,
    pub total_tool_use_count: Option<u64>,
    pub total_duration_ms: Option<u64>,
    pub exit_code: Option<i64>,
}
