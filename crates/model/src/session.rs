//! The session and its parts.

use crate::{Text, Timestamp};

/// The coding agent that wrote a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentKind {
    /// Anthropic's Claude Code.
    ClaudeCode,
}

impl AgentKind {
    /// Every agent sessiontrail reads.
    pub const ALL: &'static [AgentKind] = &[AgentKind::ClaudeCode];

    /// The agent's name as it calls itself; also `service.name` and part of the trace id.
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::ClaudeCode => "claude-code",
        }
    }

    /// The model provider the agent talks to (`gen_ai.provider.name`).
    pub fn provider(self) -> &'static str {
        match self {
            AgentKind::ClaudeCode => "anthropic",
        }
    }

    /// Parses [`AgentKind::name`].
    pub fn from_name(name: &str) -> Option<AgentKind> {
        match name {
            "claude-code" => Some(AgentKind::ClaudeCode),
            _ => None,
        }
    }
}

/// One agent session: the main agent's run, its subagents' runs, and everything they did.
///
/// `runs[0]` is always the main agent. Every other item names its run, turn, model call or
/// tool call by index into the vectors here.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The agent that wrote the session.
    pub agent: AgentKind,
    /// The agent's own session id.
    pub id: String,
    /// Version of the agent that wrote the session (the latest seen).
    pub agent_version: Option<String>,
    /// Working directory, from the records (never from a folder name).
    pub cwd: Option<String>,
    /// Git branch at the start, as the agent reported it.
    pub git_branch: Option<String>,
    /// Permission mode the agent ran in, when recorded.
    pub permission_mode: Option<String>,
    /// How the agent was started (`cli`, `claude-desktop`, ...), when recorded.
    pub entrypoint: Option<String>,
    /// Title the agent or the user gave the session.
    pub title: Option<Text>,
    /// First record.
    pub start: Timestamp,
    /// Last record.
    pub end: Timestamp,
    /// Agent runs: `[0]` is the main agent, the rest are subagents.
    pub runs: Vec<AgentRun>,
    /// User prompts, in order, across all runs.
    pub turns: Vec<Turn>,
    /// Model calls (one per API response).
    pub calls: Vec<ModelCall>,
    /// Tool calls.
    pub tools: Vec<ToolCall>,
    /// Things that happened that are not calls: compaction, hooks, interruptions...
    pub events: Vec<Event>,
    /// Files the session was read from.
    pub sources: Vec<String>,
    /// What the agent could reach, beyond what it used.
    pub ambient: Ambient,
    /// The repository of the working directory, when it is one on this machine.
    pub vcs: Option<Vcs>,
    /// Commits linked to the session.
    pub commits: Vec<crate::LinkedCommit>,
    /// Pull requests the agent recorded the session opened or worked on (their URLs, or
    /// `owner/name#number` where it gave no URL), first seen first.
    pub pull_requests: Vec<String>,
    /// How the agent said the session started (`startup`, `resume`...), from its hooks.
    pub start_source: Option<String>,
    /// Why the agent said the session ended (`clear`, `logout`...), from its hooks.
    pub end_reason: Option<String>,
}

/// The repository a session worked in (DESIGN.md 4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vcs {
    /// Remote URL, normalised, without credentials.
    pub url: Option<String>,
    /// Repository name.
    pub name: String,
    /// Branch checked out when the session was read.
    pub branch: Option<String>,
    /// HEAD when the session started.
    pub head_at_start: Option<String>,
    /// Where HEAD moved during the session, oldest first.
    pub head_moves: Vec<(Timestamp, String)>,
    /// Whether HEADs were reconstructed from the reflog (a backfill) rather than read live.
    pub reconstructed: bool,
}

impl Vcs {
    /// HEAD at `t`: the last move at or before it, else HEAD at the start.
    pub fn head_at(&self, t: Timestamp) -> Option<&str> {
        match self.head_moves.partition_point(|(at, _)| *at <= t) {
            0 => self.head_at_start.as_deref(),
            i => Some(self.head_moves[i - 1].1.as_str()),
        }
    }
}

/// What an agent could reach at session start (DESIGN.md 5): names only, never values.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Ambient {
    /// Tool permission rules that allow without asking.
    pub allowed_tools: Vec<String>,
    /// Tool permission rules that deny.
    pub denied_tools: Vec<String>,
    /// Configured MCP servers.
    pub mcp_servers: Vec<String>,
    /// Names of secret-looking environment variables the agent could read.
    pub secret_env_names: Vec<String>,
    /// Where these were read from (settings files; `hook` for a live session's environment).
    pub sources: Vec<String>,
}

impl Session {
    /// An empty session of `agent` with id `id`.
    pub fn new(agent: AgentKind, id: impl Into<String>) -> Session {
        Session {
            agent,
            id: id.into(),
            agent_version: None,
            cwd: None,
            git_branch: None,
            permission_mode: None,
            entrypoint: None,
            title: None,
            start: Timestamp::default(),
            end: Timestamp::default(),
            runs: vec![AgentRun::main()],
            turns: Vec::new(),
            calls: Vec::new(),
            tools: Vec::new(),
            events: Vec::new(),
            sources: Vec::new(),
            ambient: Ambient::default(),
            vcs: None,
            commits: Vec::new(),
            pull_requests: Vec::new(),
            start_source: None,
            end_reason: None,
        }
    }

    /// Sum of the usage of every model call.
    pub fn total_usage(&self) -> Usage {
        let mut total = Usage::default();
        for c in &self.calls {
            total.add(&c.usage);
        }
        total
    }

    /// Tool calls that did not succeed (error, interrupted, no result); rejections are the
    /// user's choice, not failures.
    pub fn failed_tool_calls(&self) -> usize {
        self.tools.iter().filter(|t| t.outcome.is_failure()).count()
    }
}

/// One agent's run inside a session: the main agent, or a subagent it launched.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRun {
    /// Stable id: `main` for the main agent, the agent id for a subagent.
    pub key: String,
    /// Subagent type (`Explore`, `Plan`, `general-purpose`, `compact`...); `None` for main.
    pub agent_type: Option<String>,
    /// Index of the tool call that launched this run.
    pub parent_tool: Option<usize>,
    /// Turn this run belongs to when no tool launched it (compaction runs).
    pub parent_turn: Option<usize>,
    /// First record of the run (or its launching call when it left no records).
    pub start: Timestamp,
    /// Last record of the run.
    pub end: Timestamp,
    /// Figures the parent reported when the run finished.
    pub reported: Option<RunReport>,
    /// Records that belong to this run.
    pub records: u64,
}

impl AgentRun {
    /// The main agent's run.
    pub fn main() -> AgentRun {
        AgentRun::new("main")
    }

    /// An empty run with key `key`.
    pub fn new(key: impl Into<String>) -> AgentRun {
        AgentRun {
            key: key.into(),
            agent_type: None,
            parent_tool: None,
            parent_turn: None,
            start: Timestamp::default(),
            end: Timestamp::default(),
            reported: None,
            records: 0,
        }
    }

    /// Whether this is the main agent.
    pub fn is_main(&self) -> bool {
        self.key == "main"
    }
}

/// What the parent agent was told when a subagent finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunReport {
    /// Total tokens the subagent used.
    pub total_tokens: Option<u64>,
    /// Tool calls the subagent made.
    pub tool_calls: Option<u64>,
    /// Wall time of the subagent in milliseconds.
    pub duration_ms: Option<u64>,
}

/// Where a turn's prompt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// Typed by the user.
    Typed,
    /// A slash command.
    Command,
    /// Injected by the agent (a background task finished, ...).
    Notification,
    /// Given by the parent agent to a subagent.
    Delegated,
}

impl PromptKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            PromptKind::Typed => "typed",
            PromptKind::Command => "command",
            PromptKind::Notification => "notification",
            PromptKind::Delegated => "delegated",
        }
    }
}

/// One user prompt and everything the agent did about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Run the prompt was given to.
    pub run: usize,
    /// 1-based position among the run's turns.
    pub index: u32,
    /// Stable id of the prompt record.
    pub key: String,
    /// When the prompt was written.
    pub start: Timestamp,
    /// Last record of the turn.
    pub end: Timestamp,
    /// The prompt.
    pub prompt: Text,
    /// Where the prompt came from.
    pub kind: PromptKind,
    /// Wall time the agent reported for the turn.
    pub duration_ms: Option<u64>,
}

impl Turn {
    /// The `index`-th turn of run `run`, prompted at `start`; it ends there until later
    /// records extend it.
    pub fn new(
        run: usize,
        index: u32,
        key: impl Into<String>,
        start: Timestamp,
        prompt: Text,
        kind: PromptKind,
    ) -> Turn {
        Turn {
            run,
            index,
            key: key.into(),
            start,
            end: start,
            prompt,
            kind,
            duration_ms: None,
        }
    }
}

/// Token counts of a model call, as the provider reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Input tokens read from the cache.
    pub cache_read: u64,
    /// Input tokens written to the cache.
    pub cache_creation: u64,
}

impl Usage {
    /// Merges another report of the same call: the largest value per counter, never a sum
    /// (the agent repeats a call's usage on every line it writes for it).
    pub fn merge_max(&mut self, other: &Usage) {
        self.input = self.input.max(other.input);
        self.output = self.output.max(other.output);
        self.cache_read = self.cache_read.max(other.cache_read);
        self.cache_creation = self.cache_creation.max(other.cache_creation);
    }

    /// Adds the usage of a different call.
    pub fn add(&mut self, other: &Usage) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_creation += other.cache_creation;
    }

    /// All input tokens, cached or not (what `gen_ai.usage.input_tokens` means).
    pub fn all_input(&self) -> u64 {
        self.input + self.cache_read + self.cache_creation
    }
}

/// One model call: one API response, however many records the agent wrote for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCall {
    /// Stable id: the response id and request id.
    pub key: String,
    /// Run that made the call.
    pub run: usize,
    /// Turn the call belongs to.
    pub turn: Option<usize>,
    /// Model name.
    pub model: String,
    /// Provider's response id (`msg_...`).
    pub response_id: Option<String>,
    /// Provider's request id (`req_...`).
    pub request_id: Option<String>,
    /// When the request was sent: the record that prompted it.
    pub start: Timestamp,
    /// Last record of the response.
    pub end: Timestamp,
    /// Merged token counts.
    pub usage: Usage,
    /// Why the model stopped (`end_turn`, `tool_use`...).
    pub finish_reason: Option<String>,
    /// Text the model wrote (not its thinking).
    pub output: Text,
    /// Bytes of thinking the model wrote.
    pub thinking_bytes: u64,
    /// Tool calls the response asked for.
    pub tool_calls: u32,
}

impl ModelCall {
    /// A call to `model` by run `run` whose request was sent at `start`, with nothing of
    /// its response recorded yet.
    pub fn new(
        key: impl Into<String>,
        run: usize,
        model: impl Into<String>,
        start: Timestamp,
    ) -> ModelCall {
        ModelCall {
            key: key.into(),
            run,
            turn: None,
            model: model.into(),
            response_id: None,
            request_id: None,
            start,
            end: start,
            usage: Usage::default(),
            finish_reason: None,
            output: Text::default(),
            thinking_bytes: 0,
            tool_calls: 0,
        }
    }
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolOutcome {
    /// It ran and succeeded.
    Ok,
    /// It ran and failed.
    Error,
    /// The user refused it.
    Rejected,
    /// The user interrupted it.
    Interrupted,
    /// No result was ever recorded.
    NoResult,
}

impl ToolOutcome {
    /// The value of `sessiontrail.tool.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolOutcome::Ok => "ok",
            ToolOutcome::Error => "error",
            ToolOutcome::Rejected => "rejected",
            ToolOutcome::Interrupted => "interrupted",
            ToolOutcome::NoResult => "no_result",
        }
    }

    /// Whether the call failed (a rejection is a decision, not a failure).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            ToolOutcome::Error | ToolOutcome::Interrupted | ToolOutcome::NoResult
        )
    }
}

/// What kind of tool was called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolKind {
    /// A tool built into the agent.
    Builtin,
    /// A tool of an MCP server.
    Mcp {
        /// Server name as configured.
        server: String,
        /// Tool name on that server.
        tool: String,
    },
    /// A call that launches a subagent.
    Subagent {
        /// Requested subagent type.
        agent_type: Option<String>,
    },
}

/// What a tool call touched, as the agent asked for it. These are raw values: the trace
/// stage decides what leaves, by content level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A file read.
    FileRead(String),
    /// A file written or edited.
    FileWrite(String),
    /// A directory or pattern searched.
    Search(String),
    /// A shell command.
    Command(String),
    /// A URL fetched.
    Url(String),
    /// A web search query.
    WebSearch(String),
}

/// One tool call, from its request to its result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The agent's call id (`toolu_...`).
    pub id: String,
    /// Tool name as the agent calls it.
    pub name: String,
    /// Kind of tool.
    pub kind: ToolKind,
    /// Run that made the call.
    pub run: usize,
    /// Turn the call belongs to.
    pub turn: Option<usize>,
    /// Model call that requested it.
    pub call: Option<usize>,
    /// When it was requested.
    pub start: Timestamp,
    /// When its result was written; `None` when there was none.
    pub end: Option<Timestamp>,
    /// Its arguments as JSON.
    pub input: Text,
    /// Its result, when there was one.
    pub result: Option<Text>,
    /// How it ended.
    pub outcome: ToolOutcome,
    /// What it touched.
    pub access: Vec<Access>,
    /// Subagent description given to a subagent call.
    pub description: Option<Text>,
    /// Exit code of a shell command, when the agent reported one.
    pub exit_code: Option<i64>,
    /// Sensitive-access rules the call matched.
    pub sensitive: Vec<SensitiveMatch>,
    /// HEAD of the repository when the call ran.
    pub head: Option<String>,
    /// Whether the call ran `git commit`.
    pub ran_commit: bool,
    /// Abbreviated SHAs this call's `git commit` reported, unchecked.
    pub commits_reported: Vec<String>,
    /// The folder `git -C` pointed that commit at, if any.
    pub commit_dir: Option<String>,
    /// SHA-256 of the whole content a file-writing call wrote, when the call carried it.
    pub written_sha256: Option<[u8; 32]>,
    /// What the agent's permission check decided, when its hooks said.
    pub permission: Option<Permission>,
}

/// The permission check of one tool call, as the agent's hooks reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// What was decided.
    pub decision: PermissionDecision,
    /// Whether the user was asked (a permission dialog was shown).
    pub asked: bool,
    /// Why it was denied, redacted, when the agent said.
    pub reason: Option<String>,
    /// The permission mode the call was checked under.
    pub mode: Option<String>,
}

/// A permission decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionDecision {
    /// The call ran (by a rule, the mode, or the user's answer).
    Allowed,
    /// A rule, the mode, a hook or the user refused it.
    Denied,
    /// The user was asked and no answer is known yet.
    Asked,
}

impl PermissionDecision {
    /// The value of `sessiontrail.permission.decision`.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionDecision::Allowed => "allowed",
            PermissionDecision::Denied => "denied",
            PermissionDecision::Asked => "asked",
        }
    }
}

/// One thing an agent's hook said about a session while it ran (DESIGN.md 5, 6), kept
/// with its trace: what the transcript lacks (permission checks, the environment and
/// settings at the start, why it ended). Never a secret: texts are redacted when read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HookFact {
    /// When the hook received it (Unix nanoseconds).
    pub at: i64,
    /// The hook's event (`SessionStart`, `PreToolUse`, `PermissionRequest`...).
    pub event: String,
    /// The tool call it is about, when the agent named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
    /// The tool it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// A digest of the tool's input: ties an event that names no call to the call whose
    /// `PreToolUse` had the same input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_digest: Option<String>,
    /// The permission mode then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<String>,
    /// The event's reason or source (a denial's reason, `SessionEnd`'s reason,
    /// `SessionStart`'s source), redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// At `SessionStart`: the secret-looking variable names of the agent's environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_names: Option<Vec<String>>,
    /// At `SessionStart`: the permission rules and MCP servers its settings files gave,
    /// read as the event was received (absent when it was read too late to say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Ambient>,
}

impl ToolCall {
    /// A built-in tool call requested at `start` by run `run`, with no result yet: an
    /// adapter sets what its records say and leaves the rest.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        run: usize,
        start: Timestamp,
    ) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            kind: ToolKind::Builtin,
            run,
            turn: None,
            call: None,
            start,
            end: None,
            input: Text::default(),
            result: None,
            outcome: ToolOutcome::NoResult,
            access: Vec::new(),
            description: None,
            exit_code: None,
            sensitive: Vec::new(),
            head: None,
            ran_commit: false,
            commits_reported: Vec::new(),
            commit_dir: None,
            written_sha256: None,
            permission: None,
        }
    }
}

/// How serious a sensitive access is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Worth a look.
    Medium,
    /// Credentials were likely exposed.
    High,
    /// Keys to everything (private keys, keychains).
    Critical,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses [`Severity::as_str`].
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// A sensitive-access rule a tool call matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveMatch {
    /// Rule id.
    pub rule: String,
    /// Rule severity.
    pub severity: Severity,
    /// Rule category (`credentials`, `ssh`, `cloud`, `env`...).
    pub category: String,
    /// What matched: a path, a program, a host, a tool, a secret kind (redacted like the rest).
    pub target: String,
}

/// Something that happened in a session that is not a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When.
    pub time: Timestamp,
    /// Which item it belongs to.
    pub owner: Owner,
    /// What happened.
    pub kind: EventKind,
}

/// The item an event is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The whole session.
    Session,
    /// A run (by index).
    Run(usize),
    /// A turn (by index).
    Turn(usize),
    /// A tool call (by index).
    Tool(usize),
}

/// The kinds of events.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// The conversation was compacted (summarized to free context).
    Compaction {
        /// `auto` or `manual`.
        trigger: Option<String>,
        /// Tokens in context before compaction.
        pre_tokens: Option<u64>,
    },
    /// The summary that replaced the conversation after compaction.
    CompactionSummary {
        /// The summary.
        summary: Text,
    },
    /// A hook ran.
    Hook {
        /// Hook event (`PreToolUse`, `Stop`...).
        event: Option<String>,
        /// Hook name.
        name: Option<String>,
        /// Command it ran.
        command: Option<Text>,
        /// Exit code, when known.
        exit_code: Option<i64>,
        /// Whether it reported an error.
        error: bool,
    },
    /// The user interrupted the agent.
    Interrupted,
    /// A local (slash) command ran or printed output.
    LocalCommand {
        /// Its text.
        text: Text,
    },
    /// The agent wrote a message itself (an API error or a placeholder), not a model.
    SyntheticMessage {
        /// Whether the agent marked it as an API error.
        api_error: bool,
        /// Its text.
        text: Text,
    },
    /// Progress of an MCP tool call.
    McpProgress {
        /// `started`, `completed`, `failed`...
        status: String,
    },
    /// A prompt was queued, dequeued or removed while the agent was busy.
    Queue {
        /// The operation.
        operation: String,
    },
}
