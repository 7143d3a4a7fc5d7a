//! The command line, as clap reads it. Nothing here opens a file or a socket.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Coding-agent sessions as OpenTelemetry traces, tied to the commits they produced.
#[derive(Debug, Parser)]
#[command(name = "sessiontrail", version, about, max_term_width = 100)]
pub struct Cli {
    /// The embedded store [default: $XDG_DATA_HOME/sessiontrail/sessiontrail.db]
    #[arg(long, global = true, env = "SESSIONTRAIL_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,

    /// More diagnostics on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read agent sessions, store one trace per session, and optionally ship them over OTLP
    Export(ExportArgs),
    /// List the stored sessions
    Sessions(SessionsArgs),
    /// Print the span tree of a stored session
    Show(ShowArgs),
    /// Ask the store, the git notes and a backend: which sessions wrote a commit, which commits a session made, which tool calls touched sensitive resources
    Query(QueryArgs),
    /// Sensitive-access rules: list those in force, check a policy file
    Policy(PolicyArgs),
    /// The git side: install or remove the post-commit hook that links commits to sessions
    Git(GitArgs),
    /// What the agent runs on each hook event: appends the event's JSON (stdin) to the spool
    /// `watch` reads, and exits 0 at once whatever happens; `hook install` registers it
    Hook(HookArgs),
    /// The sidecar: follow every session as it is written, store its spans as they become
    /// final, finish sessions at the agent's end signal or when idle, and ship from the
    /// store's outbox, retrying with backoff while the backend is away
    Watch(WatchArgs),
    /// What is configured and watched, whether the backend answers, what waits in the
    /// outbox and the last delivery error
    Doctor(DoctorArgs),
    /// Run `watch` as a user service: a systemd user unit or a launchd agent
    Service(ServiceArgs),
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub command: ServiceCommand,
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the unit (or agent) that runs `sessiontrail watch ARGS...` at login, and start it
    Install(ServiceInstallArgs),
    /// Stop the service and remove its file
    Uninstall(ServiceInstallArgs),
}

#[derive(Debug, Args)]
pub struct ServiceInstallArgs {
    /// systemd (a user unit) or launchd (a user agent) [default: launchd on macOS, else systemd]
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,

    /// Write or remove the file only: do not ask systemctl or launchctl to start or stop it
    #[arg(long)]
    pub no_start: bool,

    /// Arguments for `watch` (after `--`), e.g. `-- --endpoint http://collector:4317 --protocol grpc`
    #[arg(last = true, value_name = "WATCH_ARGS")]
    pub watch_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    Systemd,
    Launchd,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub otlp: OtlpArgs,

    /// Sensitive-access rules over the built-in pack [default:
    /// $XDG_CONFIG_HOME/sessiontrail/policy.toml when it exists]
    #[arg(long, value_name = "FILE", env = "SESSIONTRAIL_POLICY")]
    pub policy: Option<PathBuf>,

    /// Print the checks as one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Folders to watch [default: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects, waited
    /// for if missing]
    #[arg(value_name = "DIR")]
    pub paths: Vec<PathBuf>,

    /// A session with no new line for this long is finished (30s, 10m, 1h)
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub idle_timeout: String,

    /// How often files are checked for new lines, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    pub poll_ms: u64,

    #[command(flatten)]
    pub otlp: OtlpArgs,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Largest OTLP request, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = sessiontrail_export::DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,

    /// Also send sessiontrail's own spans (deliveries, stores, finished sessions) to the
    /// endpoint, under service.name `sessiontrail`, apart from the session traces
    #[arg(long, env = "SESSIONTRAIL_SELF_TRACES")]
    pub self_traces: bool,

    /// Do not write git notes on the commits linked to sessions
    #[arg(long)]
    pub no_notes: bool,

    /// Where a trace is seen in the backend, a URL with {trace_id} in it
    #[arg(long, value_name = "URL", env = "SESSIONTRAIL_TRACE_URL")]
    pub trace_url: Option<String>,

    /// Most spans waiting for the backend; past it, the traces waiting longest are given
    /// up for it (counted; the store keeps them)
    #[arg(long, value_name = "SPANS", default_value_t = 1_000_000)]
    pub max_outbox_spans: u64,

    /// Serve Prometheus metrics on this address (GET /metrics), e.g. 127.0.0.1:9464
    #[arg(long, value_name = "ADDR", value_parser = socket_addr)]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// Run this shell command at each sensitive access, the access's JSON on stdin
    #[arg(long, value_name = "CMD")]
    pub on_sensitive: Option<String>,

    /// POST each sensitive access's JSON to this URL
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,

    /// Report what happens as JSON lines on stdout
    #[arg(long)]
    pub json: bool,
}

/// How session files are read, and the policy applied to what they hold.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    /// What text leaves the parser: none (names, paths, sizes, hashes), redacted (prompts,
    /// tool arguments and commands with every secret found replaced, capped; outputs as at
    /// none) or full (everything, outputs included, unredacted, capped)
    #[arg(long, value_enum, default_value_t = ContentArg::Redacted, env = "SESSIONTRAIL_CONTENT")]
    pub content: ContentArg,

    /// Sensitive-access rules over the built-in pack [default:
    /// $XDG_CONFIG_HOME/sessiontrail/policy.toml when it exists]
    #[arg(long, value_name = "FILE", env = "SESSIONTRAIL_POLICY")]
    pub policy: Option<PathBuf>,

    /// Cap on each text attribute, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub max_attribute_bytes: usize,

    /// Longest transcript line read; longer lines are reported and skipped
    #[arg(long, value_name = "BYTES", default_value_t = sessiontrail_sources::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
}

/// Where and how spans are shipped.
#[derive(Debug, Args, Clone, Default)]
pub struct OtlpArgs {
    /// Send the traces to this OTLP endpoint [env: OTEL_EXPORTER_OTLP_ENDPOINT,
    /// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// OTLP transport [env: OTEL_EXPORTER_OTLP_PROTOCOL; default: http/protobuf]
    #[arg(long, value_name = "PROTOCOL", value_parser = ["grpc", "http/protobuf", "http/json"])]
    pub protocol: Option<String>,

    /// Extra OTLP request header, KEY=VALUE; repeatable [env: OTEL_EXPORTER_OTLP_HEADERS]
    #[arg(long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,

    /// Deadline of one OTLP request in milliseconds [env: OTEL_EXPORTER_OTLP_TIMEOUT;
    /// default: 10000]
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,

    /// OTLP request compression [env: OTEL_EXPORTER_OTLP_COMPRESSION; default: none]
    #[arg(long, value_name = "ALGO", value_parser = ["gzip", "none"])]
    pub compression: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: Option<HookCommand>,

    /// The agent that runs the hook
    #[arg(long, value_enum, default_value_t = AgentArg::Claude)]
    pub agent: AgentArg,

    /// The hook's event, when the agent does not put it in the JSON
    #[arg(value_name = "EVENT")]
    pub event: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Register `sessiontrail hook` for every event in the agent's settings (other settings
    /// are kept as they are; running it again changes nothing; a backup is written)
    Install(HookInstallArgs),
    /// Remove exactly the handlers install added
    Uninstall(HookInstallArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// The agent whose settings are edited
    #[arg(long, value_enum, default_value_t = AgentArg::Claude)]
    pub agent: AgentArg,

    /// user: ~/.claude/settings.json (or $CLAUDE_CONFIG_DIR/settings.json); project:
    /// .claude/settings.json in --project-dir
    #[arg(long, value_enum, default_value_t = ScopeArg::User)]
    pub scope: ScopeArg,

    /// The project for --scope project [default: the current folder]
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,

    /// Print what changed as one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgentArg {
    Claude,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    User,
    Project,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    #[command(subcommand)]
    pub command: GitCommand,
}

#[derive(Debug, Subcommand)]
pub enum GitCommand {
    /// Add a post-commit hook (chaining any hook already there), notes.rewriteRef so notes
    /// follow amend and rebase, and refspecs that fetch and push refs/notes/sessiontrail
    Install {
        /// The repository [default: the current folder]
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
    /// Remove exactly what install added
    Uninstall {
        /// The repository [default: the current folder]
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
    /// Run by the hook: link HEAD to the sessions of this repository active when it was made
    PostCommit {
        /// The repository [default: the current folder]
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("question").required(true).args(["sensitive", "commit", "session"])))]
pub struct QueryArgs {
    /// Tool calls that matched sensitive-access rules
    #[arg(long)]
    pub sensitive: bool,

    /// The sessions, and the tool calls, that produced a commit: any revision git
    /// understands (SHA or prefix, HEAD~2, a branch, a tag)
    #[arg(long, value_name = "REV")]
    pub commit: Option<String>,

    /// The commits a session produced (session id or trace id, or a prefix)
    #[arg(long, value_name = "SESSION")]
    pub session: Option<String>,

    /// The repository --commit is resolved in [default: the current folder]
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// How to link to a trace: a URL with {trace_id} in it (e.g.
    /// http://jaeger:16686/trace/{trace_id})
    #[arg(long, value_name = "URL", env = "SESSIONTRAIL_TRACE_URL")]
    pub trace_url: Option<String>,

    /// Also ask a trace backend for --commit: jaeger=URL (its HTTP API, e.g.
    /// http://jaeger:16686), tempo=URL (http://tempo:3200) or phoenix=URL (http://phoenix:6006)
    #[arg(long, value_name = "KIND=URL", env = "SESSIONTRAIL_BACKEND")]
    pub backend: Option<String>,

    /// The Phoenix project the traces were sent to
    #[arg(
        long,
        value_name = "NAME",
        env = "SESSIONTRAIL_BACKEND_PROJECT",
        default_value = "default"
    )]
    pub backend_project: String,

    /// Only since then: a duration back from now (30m, 24h, 7d) or a date (2026-02-01,
    /// 2026-02-01T12:00:00Z)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the rules in force (the built-in pack with the policy file over it)
    List {
        /// Policy file [default: $XDG_CONFIG_HOME/sessiontrail/policy.toml when it exists]
        #[arg(long, value_name = "FILE", env = "SESSIONTRAIL_POLICY")]
        policy: Option<PathBuf>,
        /// One JSON object per rule, one per line
        #[arg(long)]
        json: bool,
    },
    /// Check a policy file; problems are listed with their line
    Check {
        /// The file
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Session files or folders [default: every Claude Code session under
    /// $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub otlp: OtlpArgs,

    /// Do not write git notes (refs/notes/sessiontrail) on the commits linked to sessions
    #[arg(long)]
    pub no_notes: bool,

    /// Where a trace is seen in the backend, a URL with {trace_id} in it (e.g.
    /// http://jaeger:16686/trace/{trace_id}); written into the git notes
    #[arg(long, value_name = "URL", env = "SESSIONTRAIL_TRACE_URL")]
    pub trace_url: Option<String>,

    /// Attempts per OTLP request before delivery stops (retries back off exponentially,
    /// with jitter, for at most a minute)
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,

    /// Send every span again, even those the endpoint already acknowledged
    #[arg(long)]
    pub resend: bool,

    /// Also write the traces as OTLP/JSON lines (one ExportTraceServiceRequest per line)
    #[arg(long, value_name = "FILE")]
    pub otlp_file: Option<PathBuf>,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Largest OTLP request (and OTLP/JSON line), in bytes
    #[arg(long, value_name = "BYTES", default_value_t = sessiontrail_export::DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,

    /// Sessions parsed at once, each on its own thread; with 1, one thread parses and
    /// writes the store in turn [default: the number of cores]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Print the summary as one JSON object
    #[arg(long)]
    pub json: bool,

    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContentArg {
    None,
    Redacted,
    Full,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// One JSON object per session, one per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Session id or trace id, or a prefix of either
    #[arg(value_name = "SESSION")]
    pub session: String,

    /// One JSON object per span, one per line, in tree order
    #[arg(long)]
    pub json: bool,
}

/// `127.0.0.1:9464`, `[::1]:9464` or `localhost:9464`.
fn socket_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    s.to_socket_addrs()
        .map_err(|e| format!("expected HOST:PORT such as 127.0.0.1:9464 ({e})"))?
        .next()
        .ok_or_else(|| format!("{s} names no address"))
}
