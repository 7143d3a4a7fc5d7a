//! The policy room (DESIGN.md 5): what counts as sensitive, and what must never leave.
//!
//! Owns: secret redaction ([`SecretRedactor`]), the sensitive-access rules (a built-in pack
//! plus a user TOML file) and their evaluation on a session's tool calls, and the content
//! gate applied to every string a session carries.
//!
//! Must not: do I/O beyond reading its rule file, or know any agent's format: it works on
//! the normalized [`Session`](sessiontrail_model::Session), so every agent gets it.

#![warn(missing_docs)]

mod redact;
mod rules;
mod scrub;
pub mod shell;

pub use redact::{SecretRedactor, entropy, fingerprint};
pub use rules::{AccessKind, BUILTIN, Rule, RuleError, RuleSet};
pub use scrub::{apply, scrub_session};
