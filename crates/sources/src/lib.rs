//! Agent adapters: find session files, read them without trusting them, and parse them into
//! [`sessiontrail_model::Session`]s.
//!
//! Owns: discovery ([`discover`]), the bounded line reader ([`lines`]), per-agent parsing
//! ([`claude_code`]), the hook spool ([`spool`]) and what its events add to a session
//! ([`hooks`]), and the [`Report`] of what was skipped and why.
//!
//! Must not: know about OpenTelemetry, git, the store or the network. Text the agent saw is
//! captured here under the [`ParseOptions`] content level, so nothing leaves a parser that
//! the user did not ask for.
//!
//! Every bad input (a line that is not JSON, not UTF-8, too long, cut short; a file that
//! vanished or is empty) becomes an [`Issue`] naming the file and line; the rest of the
//! session is still built.

#![warn(missing_docs)]

mod adapter;
pub mod claude_code;
mod discover;
pub mod hook_config;
pub mod hooks;
pub mod lines;
mod read;
mod report;
pub mod spool;
mod tail;

pub use adapter::{ADAPTERS, Adapter, Environment, Finish, Recognised, SessionParser, adapter};
pub use discover::{Discovery, SessionFiles, claude_projects_dir, discover, listing};
pub use read::{Changed, Checkpoint, FileIdentity, LastLine, read_lines};
pub use report::{Issue, IssueKind, Report};
pub use tail::{FileChanged, Tail};

use std::sync::Arc;

use sessiontrail_model::{ContentOptions, Session};
use sessiontrail_policy::RuleSet;

/// Default cap on one line: longer lines are reported and skipped without being buffered.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// How sessions are read.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// What text is kept.
    pub content: ContentOptions,
    /// Longest line accepted, in bytes.
    pub max_line_bytes: usize,
    /// Sensitive-access rules evaluated on every tool call.
    pub rules: Arc<RuleSet>,
    /// The home folder `~` stands for in paths.
    pub home: Option<String>,
    /// Claude Code's configuration folder (`$CLAUDE_CONFIG_DIR`, else `~/.claude`).
    pub claude_config_dir: Option<std::path::PathBuf>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            content: ContentOptions::default(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            rules: Arc::new(RuleSet::builtin()),
            home: None,
            claude_config_dir: None,
        }
    }
}

/// Reads one session's files whole with the adapter of its agent, then applies the policy
/// to what the adapter built, whatever the agent: no string leaves unredacted below `full`.
pub fn parse_session(files: &SessionFiles, opts: &ParseOptions) -> (Option<Session>, Report) {
    Tail::new(files.clone(), opts).finish(Finish::EndOfInput)
}

/// The policy stage every adapter's session goes through before anything else sees it.
fn apply_policy(s: &mut Session, opts: &ParseOptions) {
    sessiontrail_policy::apply(s, &opts.rules, &opts.content, opts.home.as_deref());
}
