//! The normalized session every agent adapter produces and every later stage consumes.
//!
//! Owns: [`Session`] and its parts ([`AgentRun`], [`Turn`], [`ModelCall`], [`ToolCall`],
//! [`Event`]), what a tool call touched ([`Access`]), captured text ([`Text`]) under a
//! [`ContentOptions`] level, and [`Timestamp`].
//!
//! Must not: do I/O, know any agent's file format, or know OpenTelemetry. Adapters in
//! `sessiontrail-sources` build these values; `sessiontrail-trace` maps them to spans.
//!
//! Items refer to each other by index into the session's vectors (`run`, `turn`, ...), so a
//! session is one plain value that can be built incrementally and moved between threads.
//!
//! ```
//! use sessiontrail_model::{ContentLevel, ContentOptions, Text};
//! let opts = ContentOptions { level: ContentLevel::None, ..Default::default() };
//! let t = Text::capture("secret prompt", &opts);
//! assert_eq!(t.size, 13);
//! assert!(t.content.is_none());
//! ```

#![warn(missing_docs)]

mod content;
mod session;
mod time;
mod vcs;

pub use content::{
    ContentLevel, ContentOptions, Redactor, SecretFinding, SecretSpan, Text, TextBuilder, cap,
    redact_with, redaction_marker,
};
pub use session::*;
pub use time::Timestamp;
pub use vcs::{LinkMethod, LinkedCommit, ReportedCommit, reported_commits};
