//! One adapter per agent behind one trait (DESIGN.md 2), and the registry of them.
//!
//! Adding an agent is a module that implements [`Adapter`] and a line in [`ADAPTERS`]:
//! discovery, the read loop, checkpoints, incremental reading and the policy are shared.

use std::path::{Path, PathBuf};

use sessiontrail_model::{AgentKind, Session};

use crate::ParseOptions;
use crate::report::Report;

/// What an adapter reads in one line of a file it recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// The session the file belongs to, when the line says.
    pub session_id: Option<String>,
    /// The subagent whose transcript this is, when it is one.
    pub subagent: Option<String>,
}

/// Where an adapter looks by default: the environment that decides it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The home folder.
    pub home: Option<PathBuf>,
    /// `$CLAUDE_CONFIG_DIR`.
    pub claude_config_dir: Option<PathBuf>,
}

/// Why a session is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// A backfill read everything there is.
    EndOfInput,
    /// The agent said the session ended (its `SessionEnd` hook).
    EndSignal,
    /// Nothing was written for longer than the idle timeout.
    IdleTimeout,
}

/// An agent's on-disk format.
pub trait Adapter: Sync {
    /// The agent.
    fn agent(&self) -> AgentKind;

    /// Whether one line of a file is a record of this agent, and what it tells. Files are
    /// recognised by content, never by name.
    fn recognise(&self, line: &[u8]) -> Option<Recognised>;

    /// Folders where the agent keeps its sessions on this machine.
    fn default_roots(&self, env: &Environment) -> Vec<PathBuf>;

    /// Files of the session of `file` that sit elsewhere (subagent transcripts), for a file
    /// named on its own.
    fn companions(&self, file: &Path) -> Vec<PathBuf>;

    /// A parser for one session's records, fed line by line from any of its files.
    fn parser(
        &self,
        session_id: &str,
        files: &[PathBuf],
        opts: &ParseOptions,
    ) -> Box<dyn SessionParser>;
}

/// Builds one session from the lines of its files, in the order they are read.
pub trait SessionParser: Send {
    /// A file starts (or goes on after a pause): `shown` is how it is named to the user.
    fn file(&mut self, shown: &str);

    /// One line of the current file (without its newline); `terminated`: it had one.
    fn line(&mut self, bytes: &[u8], terminated: bool, shown: &str, number: u64);

    /// What was read so far and skipped.
    fn report_mut(&mut self) -> &mut Report;

    /// The session as the lines read so far make it, the parser left as it is. Calls
    /// still open stay open (`ToolCall::end` unset): only `finish` closes them.
    fn snapshot(&self) -> (Option<Session>, Report);

    /// The session, closed.
    fn finish(self: Box<Self>, reason: Finish) -> (Option<Session>, Report);
}

/// Every agent sessiontrail reads.
pub static ADAPTERS: &[&dyn Adapter] = &[&crate::claude_code::ClaudeCode];

/// The adapter of `agent`.
pub fn adapter(agent: AgentKind) -> &'static dyn Adapter {
    *ADAPTERS
        .iter()
        .find(|a| a.agent() == agent)
        .expect("every agent kind has an adapter")
}
