//! Claude Code records to a [`Session`] (FORMATS.md 1, DESIGN.md 2).
//!
//! A [`Builder`] takes the records of every file of one session, in any order of files,
//! and merges them by their stable ids: a record seen twice (a subagent's message copied into
//! the parent's `agent_progress`, two copies of one file) counts once, and the several
//! `assistant` lines of one API response are one [`ModelCall`] whose usage is merged.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::value::RawValue;
use sessiontrail_model::{
    Access, AgentKind, AgentRun, ContentOptions, Event, EventKind, ModelCall, Owner, PromptKind,
    RunReport, Session, Text, TextBuilder, Timestamp, ToolCall, ToolKind, ToolOutcome, Turn, Usage,
};

use super::wire::{Attachment, Block, Message, ProgressData, Record, ToolUseResult};
use crate::report::{Issue, IssueKind, Report};

/// The builder's maps, hashed with foldhash: keys are ids from the transcript, looked up
/// several times per line, where SipHash was a measurable share of the parse.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<T> = HashSet<T, foldhash::fast::RandomState>;

/// Where a record came from, for messages and for run assignment.
#[derive(Clone, Copy)]
pub(crate) struct Origin<'p> {
    pub path: &'p str,
    pub line: u64,
    /// Set for records nested in an `agent_progress` record: the subagent they belong to.
    pub agent: Option<&'p str>,
}

#[derive(Default, Clone)]
struct RunState {
    turn: Option<usize>,
    /// Time of the run's last conversation record: when its next model call was sent.
    prev: Option<Timestamp>,
    turns: u32,
}

/// A tool result waiting for its tool call (results can precede calls across files).
#[derive(Clone)]
struct Outcome {
    time: Timestamp,
    outcome: ToolOutcome,
    result: Text,
    exit_code: Option<i64>,
    agent: Option<String>,
    report: Option<RunReport>,
}

/// Builds one session from its records. Cloned, it gives the session so far while reading
/// goes on.
#[derive(Clone)]
pub(crate) struct Builder {
    opts: ContentOptions,
    /// For what tools and the model returned: text is kept only at `full` (DESIGN.md 3 and 5:
    /// outputs are not attached by default).
    out_opts: ContentOptions,
    /// For what the model and the agent said (replies, summaries, command output): kept only
    /// at `full`, and not scanned, since no rule reads them.
    said_opts: ContentOptions,
    session: Session,
    report: Report,
    run_index: Map<String, usize>,
    runs: Vec<RunState>,
    calls: Map<String, usize>,
    tools: Map<String, usize>,
    call_text: Vec<TextBuilder>,
    /// Hashes of the record uuids seen (64 bits: a collision among a session's records is
    /// beyond reach, and no string is kept per record).
    seen: Set<u64>,
    pending: Map<String, Outcome>,
    /// Subagent id -> the tool call that launched it.
    links: Vec<(String, String)>,
    reports: Map<String, RunReport>,
    hook_commands: Map<String, Text>,
    /// Secret-looking variable names seen in environment dumps.
    env_names: std::collections::BTreeSet<String>,
    /// Tool calls the user interrupted before they returned, with when.
    interrupted: Map<usize, Timestamp>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Builder {
    pub(crate) fn new(session_id: &str, opts: ContentOptions) -> Builder {
        Builder {
            out_opts: opts.for_outputs(),
            said_opts: ContentOptions {
                redactor: None,
                ..opts.for_outputs()
            },
            opts,
            session: Session::new(AgentKind::ClaudeCode, session_id),
            report: Report::default(),
            run_index: Map::from_iter([("main".to_owned(), 0)]),
            runs: vec![RunState::default()],
            calls: Map::default(),
            tools: Map::default(),
            call_text: Vec::new(),
            seen: Set::default(),
            pending: Map::default(),
            links: Vec::new(),
            reports: Map::default(),
            interrupted: Map::default(),
            hook_commands: Map::default(),
            env_names: std::collections::BTreeSet::new(),
            first: None,
            last: None,
        }
    }

    pub(crate) fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    pub(crate) fn add_source(&mut self, path: &str) {
        self.session.sources.push(path.to_owned());
    }

    /// Parses and applies one line.
    pub(crate) fn line(&mut self, bytes: &[u8], terminated: bool, origin: Origin<'_>) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        // Checked as UTF-8 once, a line is read as `str`: serde_json then skips its check
        // of every string and raw payload. Invalid bytes get the byte reader's error.
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str::<Record<'_>>(text),
            Err(_) => serde_json::from_slice::<Record<'_>>(bytes),
        };
        match parsed {
            Ok(rec) => self.record(rec, origin),
            Err(e) => {
                let (kind, detail) = describe_json_error(&e, bytes, terminated);
                self.issue(origin, kind, detail);
            }
        }
    }

    fn issue(&mut self, origin: Origin<'_>, kind: IssueKind, detail: String) {
        self.report.issues.push(Issue {
            path: origin.path.to_owned(),
            line: Some(origin.line),
            kind,
            detail,
        });
    }

    fn record(&mut self, rec: Record<'_>, origin: Origin<'_>) {
        if let Some(uuid) = rec.uuid.as_deref()
            && !self.seen.insert(hash_str(uuid))
        {
            self.report.duplicates += 1;
            return;
        }
        let kind = rec.kind.as_deref().unwrap_or("");
        let time = rec.timestamp.as_deref().and_then(Timestamp::parse_rfc3339);
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        self.metadata(&rec);
        let run = match origin.agent {
            Some(agent) => self.run(agent),
            None if rec.is_sidechain == Some(true) => {
                let key = rec.agent_id.as_deref().unwrap_or("sidechain").to_owned();
                self.run(&key)
            }
            None => 0,
        };
        // Bookkeeping records carry no time of their own.
        match kind {
            "summary" | "custom-title" | "ai-title" | "agent-name" => {
                let title = rec
                    .custom_title
                    .as_deref()
                    .or(rec.ai_title.as_deref())
                    .or(rec.agent_name.as_deref())
                    .or(rec.summary.as_deref());
                if let Some(title) = title {
                    // A title the user chose wins over one the agent generated.
                    if kind == "custom-title" || self.session.title.is_none() {
                        self.session.title = Some(Text::capture(title, &self.opts));
                    }
                }
                self.report.event(kind);
                return;
            }
            "pr-link" => {
                // Written again on every resume: one entry per pull request.
                let pr = rec.pr_url.as_deref().map(str::to_owned).or_else(|| {
                    let n = rec.pr_number?;
                    Some(match rec.pr_repository.as_deref() {
                        Some(r) => format!("{r}#{n}"),
                        None => format!("#{n}"),
                    })
                });
                if let Some(pr) = pr
                    && !self.session.pull_requests.contains(&pr)
                {
                    self.session.pull_requests.push(pr);
                }
                self.report.event(kind);
                return;
            }
            "permission-mode" => {
                if self.session.permission_mode.is_none() {
                    self.session.permission_mode =
                        rec.permission_mode.as_deref().map(str::to_owned);
                }
                self.report.event(kind);
                return;
            }
            "file-history-snapshot"
            | "file-history-delta"
            | "last-prompt"
            | "mode"
            | "bridge-session" => {
                self.report.unmapped(kind);
                return;
            }
            "" => {
                self.issue(
                    origin,
                    IssueKind::InvalidRecord,
                    "record without a type".into(),
                );
                return;
            }
            "user" | "assistant" | "system" | "progress" | "attachment" | "queue-operation" => {}
            // Formats drift (`bridge-session`, `file-history-delta`...): a type we do not
            // map is counted, never an error, whether or not it has a time.
            other => {
                self.report
                    .unmapped(&format!("unknown type {}", short(other)));
                return;
            }
        }
        let Some(time) = time.or(self.runs[run].prev).or(self.last) else {
            self.issue(
                origin,
                IssueKind::InvalidRecord,
                format!("{} record without a valid timestamp", short(kind)),
            );
            return;
        };
        self.dispatch(&rec, kind, run, time, origin);
        // After the record: a prompt has opened its own turn by now, and does not extend
        // the one before.
        if let Some(t) = self.runs[run].turn {
            let turn = &mut self.session.turns[t];
            turn.end = turn.end.max(time);
        }
    }

    fn dispatch(
        &mut self,
        rec: &Record<'_>,
        kind: &str,
        run: usize,
        time: Timestamp,
        origin: Origin<'_>,
    ) {
        match kind {
            "user" => self.user(rec, run, time, origin),
            "assistant" => self.assistant(rec, run, time, origin),
            "system" => self.system(rec, run, time),
            "progress" => self.progress(rec, run, time, origin),
            "attachment" => self.attachment(rec, run, time),
            "queue-operation" => {
                let operation = rec.operation.as_deref().unwrap_or("unknown").to_owned();
                let owner = self.owner(run, None);
                self.event(
                    time,
                    owner,
                    EventKind::Queue { operation },
                    "queue-operation",
                );
            }
            other => self
                .report
                .unmapped(&format!("unknown type {}", short(other))),
        }
    }

    fn metadata(&mut self, rec: &Record<'_>) {
        let s = &mut self.session;
        if let Some(v) = rec.version.as_deref()
            && s.agent_version.as_deref() != Some(v)
        {
            s.agent_version = Some(v.to_owned());
        }
        if s.cwd.is_none() {
            s.cwd = rec.cwd.as_deref().map(str::to_owned);
        }
        if s.git_branch.is_none() {
            s.git_branch = rec
                .git_branch
                .as_deref()
                .filter(|b| !b.is_empty())
                .map(str::to_owned);
        }
        if s.entrypoint.is_none() {
            s.entrypoint = rec.entrypoint.as_deref().map(str::to_owned);
        }
        if s.permission_mode.is_none() {
            s.permission_mode = rec.permission_mode.as_deref().map(str::to_owned);
        }
    }

    fn run(&mut self, key: &str) -> usize {
        if let Some(&i) = self.run_index.get(key) {
            return i;
        }
        let i = self.session.runs.len();
        self.session.runs.push(AgentRun::new(key));
        self.runs.push(RunState::default());
        self.run_index.insert(key.to_owned(), i);
        i
    }

    /// Marks that `run` did something at `time`.
    fn touch(&mut self, run: usize, time: Timestamp) {
        let r = &mut self.session.runs[run];
        if r.records == 0 {
            r.start = time;
            r.end = time;
        } else {
            r.start = r.start.min(time);
            r.end = r.end.max(time);
        }
        r.records += 1;
    }

    fn owner(&self, run: usize, tool: Option<&str>) -> Owner {
        if let Some(&i) = tool.and_then(|id| self.tools.get(id)) {
            return Owner::Tool(i);
        }
        match self.runs[run].turn {
            Some(t) => Owner::Turn(t),
            None if run == 0 => Owner::Session,
            None => Owner::Run(run),
        }
    }

    fn event(&mut self, time: Timestamp, owner: Owner, kind: EventKind, counted_as: &str) {
        self.session.events.push(Event { time, owner, kind });
        self.report.event(counted_as);
    }

    fn user(&mut self, rec: &Record<'_>, run: usize, time: Timestamp, origin: Origin<'_>) {
        let Some(content) = rec.message.as_ref().and_then(|m| m.content) else {
            self.issue(
                origin,
                IssueKind::InvalidRecord,
                "user record without message content".into(),
            );
            return;
        };
        self.touch(run, time);
        let blocks = match content_blocks(content) {
            Ok(b) => b,
            Err(()) => {
                self.issue(
                    origin,
                    IssueKind::InvalidRecord,
                    "user message content is neither text nor blocks".into(),
                );
                return;
            }
        };
        if rec.is_compact_summary == Some(true) {
            let summary = Text::capture_parts(blocks.texts(), &self.said_opts);
            let owner = self.owner(run, None);
            self.event(
                time,
                owner,
                EventKind::CompactionSummary { summary },
                "user/compact_summary",
            );
            return;
        }
        let mut has_result = false;
        if let Blocks::List(list) = &blocks {
            for b in list
                .iter()
                .filter(|b| b.kind.as_deref() == Some("tool_result"))
            {
                has_result = true;
                self.tool_result(b, rec.tool_use_result, time);
            }
        }
        let first = blocks.texts().next().map(str::trim_start);
        if let Some(first) = first {
            if first.starts_with("[Request interrupted by user") {
                self.interrupt(run, time);
            } else if has_result {
                // Text sent along with tool results (hook feedback): part of the turn.
                self.report.unmapped("user/text beside tool results");
            } else if rec.is_meta == Some(true) {
                self.report.unmapped("user/meta");
            } else if first.starts_with("<local-command-") {
                let text = Text::capture_parts(blocks.texts(), &self.said_opts);
                let owner = self.owner(run, None);
                self.event(
                    time,
                    owner,
                    EventKind::LocalCommand { text },
                    "user/local_command",
                );
            } else {
                let kind = if run != 0 {
                    PromptKind::Delegated
                } else if first.starts_with("<command-") {
                    PromptKind::Command
                } else if first.starts_with("<task-notification>") {
                    PromptKind::Notification
                } else {
                    PromptKind::Typed
                };
                let key = rec
                    .uuid
                    .as_deref()
                    .map_or_else(|| format!("{}:{}", origin.path, origin.line), str::to_owned);
                let prompt = Text::capture_parts(blocks.texts_joined(), &self.opts);
                self.turn(run, key, time, prompt, kind);
            }
        } else if !has_result {
            self.report.unmapped("user/empty");
        }
        self.runs[run].prev = Some(time);
    }

    fn turn(&mut self, run: usize, key: String, time: Timestamp, prompt: Text, kind: PromptKind) {
        let state = &mut self.runs[run];
        state.turns += 1;
        let index = state.turns;
        state.turn = Some(self.session.turns.len());
        self.session
            .turns
            .push(Turn::new(run, index, key, time, prompt, kind));
    }

    fn interrupt(&mut self, run: usize, time: Timestamp) {
        for (i, t) in self.session.tools.iter().enumerate() {
            if t.run == run && t.end.is_none() && t.start <= time {
                self.interrupted.entry(i).or_insert(time);
            }
        }
        let owner = self.owner(run, None);
        self.event(time, owner, EventKind::Interrupted, "user/interrupt");
    }

    fn assistant(&mut self, rec: &Record<'_>, run: usize, time: Timestamp, origin: Origin<'_>) {
        let Some(msg) = rec.message.as_ref() else {
            self.issue(
                origin,
                IssueKind::InvalidRecord,
                "assistant record without message".into(),
            );
            return;
        };
        self.touch(run, time);
        let blocks = match msg.content.map(content_blocks) {
            Some(Ok(b)) => b,
            None => Blocks::List(Vec::new()),
            Some(Err(())) => {
                self.issue(
                    origin,
                    IssueKind::InvalidRecord,
                    "assistant message content is neither text nor blocks".into(),
                );
                return;
            }
        };
        let model = msg.model.as_deref().unwrap_or("unknown");
        if model == "<synthetic>" {
            let text = Text::capture_parts(blocks.texts(), &self.said_opts);
            let api_error = rec.is_api_error_message == Some(true);
            let owner = self.owner(run, None);
            self.event(
                time,
                owner,
                EventKind::SyntheticMessage { api_error, text },
                "assistant/synthetic",
            );
            return;
        }
        let call = self.model_call(rec, msg, run, time, model);
        if let Blocks::List(list) = &blocks {
            for b in list {
                match b.kind.as_deref() {
                    Some("text") => self.call_text[call].push(b.text.as_deref().unwrap_or("")),
                    Some("thinking") => {
                        self.session.calls[call].thinking_bytes +=
                            b.thinking.as_deref().map_or(0, str::len) as u64;
                    }
                    Some("tool_use") => self.tool_use(b, run, call, time, origin),
                    _ => {}
                }
            }
        } else if let Blocks::Text(t) = &blocks {
            self.call_text[call].push(t);
        }
        self.runs[run].prev = Some(time);
    }

    fn model_call(
        &mut self,
        rec: &Record<'_>,
        msg: &Message<'_>,
        run: usize,
        time: Timestamp,
        model: &str,
    ) -> usize {
        let key = match (msg.id.as_deref(), rec.request_id.as_deref()) {
            (None, None) => rec.uuid.as_deref().unwrap_or("").to_owned(),
            (id, req) => format!("{}|{}", id.unwrap_or(""), req.unwrap_or("")),
        };
        let usage = msg.usage.as_ref().map(|u| Usage {
            input: u.input_tokens.unwrap_or(0),
            output: u.output_tokens.unwrap_or(0),
            cache_read: u.cache_read_input_tokens.unwrap_or(0),
            cache_creation: u.cache_creation_input_tokens.unwrap_or(0),
        });
        let i = match self.calls.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.session.calls.len();
                let start = self.runs[run].prev.map_or(time, |p| p.min(time));
                self.session.calls.push(ModelCall {
                    turn: self.runs[run].turn,
                    response_id: msg.id.as_deref().map(str::to_owned),
                    request_id: rec.request_id.as_deref().map(str::to_owned),
                    end: time,
                    ..ModelCall::new(key.clone(), run, model, start)
                });
                self.call_text.push(TextBuilder::new(&self.said_opts));
                self.calls.insert(key, i);
                i
            }
        };
        let call = &mut self.session.calls[i];
        call.end = call.end.max(time);
        if let Some(u) = usage {
            call.usage.merge_max(&u);
        }
        if let Some(r) = msg.stop_reason.as_deref() {
            call.finish_reason = Some(r.to_owned());
        }
        i
    }

    fn tool_use(
        &mut self,
        b: &Block<'_>,
        run: usize,
        call: usize,
        time: Timestamp,
        origin: Origin<'_>,
    ) {
        let Some(id) = b.id.as_deref() else {
            self.issue(
                origin,
                IssueKind::InvalidRecord,
                "tool_use block without an id".into(),
            );
            return;
        };
        if self.tools.contains_key(id) {
            return;
        }
        let name = b.name.as_deref().unwrap_or("unknown");
        let raw_input = b.input.map_or("{}", RawValue::get);
        let input: ToolInput<'_> = serde_json::from_str(raw_input).unwrap_or_default();
        let kind = tool_kind(name, &input);
        let i = self.session.tools.len();
        self.session.tools.push(ToolCall {
            access: access(name, &input),
            written_sha256: input
                .content
                .as_deref()
                .filter(|_| name == "Write")
                .map(|c| {
                    Text::capture(
                        c,
                        &ContentOptions {
                            level: sessiontrail_model::ContentLevel::None,
                            max_attribute_bytes: 0,
                            redactor: None,
                        },
                    )
                    .sha256
                }),
            description: input
                .description
                .as_deref()
                .filter(|_| matches!(kind, ToolKind::Subagent { .. }))
                .map(|d| Text::capture(d, &self.opts)),
            kind,
            turn: self.runs[run].turn,
            call: Some(call),
            input: Text::capture(raw_input, &self.opts),
            ..ToolCall::new(id, name, run, time)
        });
        self.session.calls[call].tool_calls += 1;
        self.tools.insert(id.to_owned(), i);
        if let Some(o) = self.pending.remove(id) {
            self.apply(i, o);
        }
    }

    fn tool_result(&mut self, b: &Block<'_>, tur: Option<&RawValue>, time: Timestamp) {
        let Some(id) = b.tool_use_id.as_deref() else {
            self.report.unmapped("tool_result without tool_use_id");
            return;
        };
        let blocks = b.content.map(content_blocks).and_then(Result::ok);
        let texts: Vec<&str> = blocks
            .as_ref()
            .map(|b| b.texts().collect())
            .unwrap_or_default();
        let first = texts.first().copied().unwrap_or("");
        if let Some(&t) = self.tools.get(id) {
            self.note_env_dump(t, &texts);
            self.note_commit(t, &texts);
        }
        let result_obj = tur
            .filter(|r| r.get().starts_with('{'))
            .and_then(|r| serde_json::from_str::<ToolUseResult<'_>>(r.get()).ok());
        let result_str = tur
            .filter(|r| r.get().starts_with('"'))
            .and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok());
        let outcome = if first.starts_with("The user doesn't want to proceed with this tool use")
            || result_str.as_deref() == Some("User rejected tool use")
        {
            ToolOutcome::Rejected
        } else if result_obj.as_ref().and_then(|r| r.interrupted) == Some(true)
            || first.contains("[Request interrupted by user")
        {
            ToolOutcome::Interrupted
        } else if b.is_error == Some(true) {
            ToolOutcome::Error
        } else {
            ToolOutcome::Ok
        };
        let exit_code = result_obj.as_ref().and_then(|r| r.exit_code).or_else(|| {
            let rest = first.strip_prefix("Exit code ")?;
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        });
        let agent = result_obj
            .as_ref()
            .and_then(|r| r.agent_id.as_deref().map(str::to_owned))
            .or_else(|| texts.iter().find_map(|t| trailer_agent_id(t)));
        let report = result_obj
            .as_ref()
            .filter(|r| r.total_tokens.is_some() || r.total_tool_use_count.is_some())
            .map(|r| RunReport {
                total_tokens: r.total_tokens,
                tool_calls: r.total_tool_use_count,
                duration_ms: r.total_duration_ms,
            });
        let o = Outcome {
            time,
            outcome,
            result: Text::capture_parts(texts, &self.out_opts),
            exit_code,
            agent,
            report,
        };
        match self.tools.get(id) {
            Some(&i) => self.apply(i, o),
            None => {
                self.pending.entry(id.to_owned()).or_insert(o);
            }
        }
    }

    /// A `git commit` the agent ran names its commit in its output: keep the abbreviated SHAs
    /// (claims, checked against the repository later) and the `-C` folder.
    fn note_commit(&mut self, tool: usize, texts: &[&str]) {
        let t = &self.session.tools[tool];
        let mut dir = None;
        let ran_commit = t.access.iter().any(|a| match a {
            Access::Command(c) => sessiontrail_policy::shell::simple_commands(c)
                .iter()
                .any(|w| {
                    if sessiontrail_policy::shell::basename(&w[0]) != "git" {
                        return false;
                    }
                    let mut i = 1;
                    while let Some(word) = w.get(i) {
                        match word.as_str() {
                            "-C" => {
                                dir = w.get(i + 1).cloned();
                                i += 2;
                            }
                            "-c" | "--git-dir" | "--work-tree" | "--namespace" => i += 2,
                            o if o.starts_with('-') => i += 1,
                            sub => return sub == "commit",
                        }
                    }
                    false
                }),
            _ => false,
        });
        if !ran_commit {
            return;
        }
        let shas: Vec<String> = texts
            .iter()
            .flat_map(|x| sessiontrail_model::reported_commits(x))
            .map(|c| c.short_sha)
            .collect();
        let t = &mut self.session.tools[tool];
        t.ran_commit = true;
        t.commits_reported = shas;
        t.commit_dir = dir;
    }

    /// An environment dump shows what the agent could read: keep the names of the
    /// secret-looking variables in it (names only; values never leave this function).
    fn note_env_dump(&mut self, tool: usize, texts: &[&str]) {
        let dump = self.session.tools[tool].access.iter().any(|a| match a {
            Access::Command(c) => sessiontrail_policy::shell::simple_commands(c)
                .iter()
                .any(|w| {
                    let args: Vec<&str> = w[1..]
                        .iter()
                        .map(String::as_str)
                        .filter(|a| !a.starts_with('-'))
                        .collect();
                    match sessiontrail_policy::shell::basename(&w[0]) {
                        "printenv" => true,
                        "env" | "set" => args.is_empty(),
                        "export" | "declare" => w.len() > 1 && args.is_empty(),
                        _ => w
                            .iter()
                            .any(|x| x.contains("/proc/") && x.ends_with("/environ")),
                    }
                }),
            _ => false,
        });
        if !dump {
            return;
        }
        for line in texts.iter().flat_map(|t| t.split(['\n', '\0'])) {
            let line = line
                .trim_start_matches("declare -x ")
                .trim_start_matches("export ");
            let Some((name, _)) = line.split_once('=') else {
                continue;
            };
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if valid && sessiontrail_policy::is_secret_env_name(name) {
                self.env_names.insert(name.to_owned());
            }
        }
    }

    fn apply(&mut self, i: usize, o: Outcome) {
        let t = &mut self.session.tools[i];
        if t.end.is_some() {
            return;
        }
        t.end = Some(o.time.max(t.start));
        t.outcome = o.outcome;
        t.result = Some(o.result);
        t.exit_code = o.exit_code;
        if let Some(agent) = o.agent {
            if let Some(r) = o.report {
                self.reports.insert(agent.clone(), r);
            }
            let id = t.id.clone();
            self.links.push((agent, id));
        }
    }

    fn system(&mut self, rec: &Record<'_>, run: usize, time: Timestamp) {
        let subtype = rec.subtype.as_deref().unwrap_or("");
        let owner = self.owner(run, None);
        match subtype {
            "compact_boundary" => {
                let meta = rec.compact_metadata.as_ref();
                let kind = EventKind::Compaction {
                    trigger: meta.and_then(|m| m.trigger.as_deref()).map(str::to_owned),
                    pre_tokens: meta.and_then(|m| m.pre_tokens),
                };
                self.event(time, owner, kind, "system/compact_boundary");
            }
            "turn_duration" => {
                if let (Some(t), Some(ms)) = (self.runs[run].turn, rec.duration_ms) {
                    self.session.turns[t].duration_ms = Some(ms.max(0.0) as u64);
                }
                self.report.event("system/turn_duration");
            }
            "stop_hook_summary" => {
                let error = rec
                    .hook_errors
                    .is_some_and(|e| e.get() != "[]" && e.get() != "null");
                let kind = EventKind::Hook {
                    event: Some("Stop".into()),
                    name: rec.hook_count.map(|n| format!("{n} hook(s)")),
                    command: None,
                    exit_code: None,
                    error: error || rec.prevented_continuation == Some(true),
                };
                self.event(time, owner, kind, "system/stop_hook_summary");
            }
            "local_command" => {
                let text = rec
                    .content
                    .and_then(|c| serde_json::from_str::<Cow<'_, str>>(c.get()).ok())
                    .unwrap_or_default();
                let text = Text::capture(&text, &self.said_opts);
                self.event(
                    time,
                    owner,
                    EventKind::LocalCommand { text },
                    "system/local_command",
                );
            }
            other => self.report.unmapped(&format!("system/{}", short(other))),
        }
    }

    fn progress(&mut self, rec: &Record<'_>, run: usize, time: Timestamp, origin: Origin<'_>) {
        let Some(data) = rec
            .data
            .and_then(|d| serde_json::from_str::<ProgressData<'_>>(d.get()).ok())
        else {
            self.issue(
                origin,
                IssueKind::InvalidRecord,
                "progress record without data".into(),
            );
            return;
        };
        let kind = data.kind.as_deref().unwrap_or("");
        let tool = rec
            .parent_tool_use_id
            .as_deref()
            .or(rec.tool_use_id.as_deref());
        match kind {
            "agent_progress" => {
                let (Some(agent), Some(message)) = (data.agent_id.as_deref(), data.message) else {
                    self.report
                        .unmapped("progress/agent_progress without message");
                    return;
                };
                if let Some(tool) = rec.parent_tool_use_id.as_deref()
                    && !self.links.iter().any(|(a, t)| a == agent && t == tool)
                {
                    self.links.push((agent.to_owned(), tool.to_owned()));
                }
                match serde_json::from_str::<Record<'_>>(message.get()) {
                    Ok(nested) => self.record(
                        nested,
                        Origin {
                            agent: Some(agent),
                            ..origin
                        },
                    ),
                    Err(e) => {
                        let (kind, detail) =
                            describe_json_error(&e, message.get().as_bytes(), true);
                        self.issue(origin, kind, format!("agent_progress message: {detail}"));
                    }
                }
            }
            "hook_progress" => {
                let kind = EventKind::Hook {
                    event: data.hook_event.as_deref().map(str::to_owned),
                    name: data.hook_name.as_deref().map(str::to_owned),
                    command: data.command.as_deref().map(|c| self.hook_command(c)),
                    exit_code: None,
                    error: false,
                };
                let owner = self.owner(run, tool);
                self.event(time, owner, kind, "progress/hook_progress");
            }
            "mcp_progress" => {
                let status = data.status.as_deref().unwrap_or("unknown").to_owned();
                let owner = self.owner(run, tool);
                self.event(
                    time,
                    owner,
                    EventKind::McpProgress { status },
                    "progress/mcp_progress",
                );
            }
            other => self.report.unmapped(&format!("progress/{}", short(other))),
        }
    }

    /// The same few hook commands run on every tool call: capture each once.
    fn hook_command(&mut self, command: &str) -> Text {
        if let Some(t) = self.hook_commands.get(command) {
            return t.clone();
        }
        let t = Text::capture(command, &self.opts);
        if self.hook_commands.len() < 256 {
            self.hook_commands.insert(command.to_owned(), t.clone());
        }
        t
    }

    fn attachment(&mut self, rec: &Record<'_>, run: usize, time: Timestamp) {
        let att = rec
            .attachment
            .and_then(|a| serde_json::from_str::<Attachment<'_>>(a.get()).ok());
        let kind = att.as_ref().and_then(|a| a.kind.as_deref()).unwrap_or("");
        let Some(att) = att.as_ref().filter(|_| kind.starts_with("hook_")) else {
            self.report.unmapped(&format!("attachment/{}", short(kind)));
            return;
        };
        let event = EventKind::Hook {
            event: att.hook_event.as_deref().map(str::to_owned),
            name: att.hook_name.as_deref().map(str::to_owned),
            command: att.command.as_deref().map(|c| self.hook_command(c)),
            exit_code: att.exit_code,
            error: kind.contains("error") || att.exit_code.is_some_and(|c| c != 0),
        };
        let owner = self.owner(run, att.tool_use_id.as_deref());
        self.event(time, owner, event, &format!("attachment/{kind}"));
    }

    /// Resolves what only the whole session tells: which tool launched each subagent, how
    /// unanswered tool calls ended (when `close`: else they stay open, `end` unset, as in a
    /// live view), and the session's time span.
    pub(crate) fn finish(mut self, close: bool) -> (Option<Session>, Report) {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return (None, self.report);
        };
        let s = &mut self.session;
        s.start = first;
        s.end = last;
        s.ambient.secret_env_names = std::mem::take(&mut self.env_names).into_iter().collect();
        for (i, b) in std::mem::take(&mut self.call_text).into_iter().enumerate() {
            s.calls[i].output = b.finish();
        }
        if !self.pending.is_empty() {
            *self
                .report
                .unmapped
                .entry("tool_result without tool_use".into())
                .or_default() += self.pending.len() as u64;
        }
        // Subagents: link each to the tool call that launched it.
        for (agent, tool) in std::mem::take(&mut self.links) {
            let Some(&t) = self.tools.get(&tool) else {
                continue;
            };
            let run = match self.run_index.get(&agent) {
                Some(&r) => r,
                None => {
                    // A subagent known only from its result: it left no records here.
                    let r = self.session.runs.len();
                    let tc = &self.session.tools[t];
                    let mut run = AgentRun::new(agent.clone());
                    run.start = tc.start;
                    run.end = tc.end.unwrap_or(tc.start);
                    self.session.runs.push(run);
                    self.run_index.insert(agent.clone(), r);
                    r
                }
            };
            if run != 0 && self.session.runs[run].parent_tool.is_none() {
                self.session.runs[run].parent_tool = Some(t);
            }
        }
        let s = &mut self.session;
        for r in 1..s.runs.len() {
            if let Some(report) = self.reports.get(&s.runs[r].key) {
                s.runs[r].reported = Some(*report);
            }
            if s.runs[r].parent_tool.is_none() {
                link_by_time(s, r);
            }
            s.runs[r].agent_type = match s.runs[r].parent_tool.map(|t| &s.tools[t].kind) {
                Some(ToolKind::Subagent { agent_type }) => agent_type.clone(),
                _ if s.runs[r].key.starts_with("acompact") => Some("compact".into()),
                _ => None,
            };
        }
        // Tool calls that never got a result.
        for (i, t) in s.tools.iter_mut().enumerate() {
            if t.end.is_none() && close {
                match self.interrupted.get(&i) {
                    Some(&at) => {
                        t.outcome = ToolOutcome::Interrupted;
                        t.end = Some(at.max(t.start));
                    }
                    None => {
                        t.outcome = ToolOutcome::NoResult;
                        t.end = Some(last.max(t.start));
                    }
                }
            }
        }
        (Some(self.session), self.report)
    }
}

/// Gives a subagent run with no known launcher the subagent call running when it started,
/// or (for compaction runs) the main-agent turn it happened in.
fn link_by_time(s: &mut Session, r: usize) {
    let start = s.runs[r].start;
    let taken: HashSet<usize> = s.runs.iter().filter_map(|r| r.parent_tool).collect();
    let launcher = s.tools.iter().enumerate().find(|(i, t)| {
        matches!(t.kind, ToolKind::Subagent { .. })
            && !taken.contains(i)
            && t.start <= start
            && t.end.is_none_or(|e| e >= start)
    });
    if let Some((i, _)) = launcher {
        s.runs[r].parent_tool = Some(i);
        return;
    }
    s.runs[r].parent_turn = s.turns.iter().rposition(|t| t.run == 0 && t.start <= start);
}

/// Message content: a plain string or a list of blocks.
enum Blocks<'a> {
    Text(Cow<'a, str>),
    List(Vec<Block<'a>>),
}

impl<'a> Blocks<'a> {
    /// The text parts, in order.
    fn texts(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Blocks::Text(t) => (Some(t.as_ref()), None),
            Blocks::List(l) => (None, Some(l.iter().filter_map(|b| b.text.as_deref()))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// The text parts separated by newlines.
    fn texts_joined(&self) -> impl Iterator<Item = &str> {
        self.texts()
            .enumerate()
            .flat_map(|(i, t)| [if i > 0 { "\n" } else { "" }, t])
    }
}

fn content_blocks(raw: &RawValue) -> Result<Blocks<'_>, ()> {
    let s = raw.get();
    if s.starts_with('"') {
        serde_json::from_str::<Cow<'_, str>>(s)
            .map(Blocks::Text)
            .map_err(drop)
    } else if s.starts_with('[') {
        serde_json::from_str::<Vec<Block<'_>>>(s)
            .map(Blocks::List)
            .map_err(drop)
    } else if s == "null" {
        Ok(Blocks::List(Vec::new()))
    } else {
        Err(())
    }
}

/// The input fields that tell what a tool touched.
#[derive(Default, serde::Deserialize)]
struct ToolInput<'a> {
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    file_path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    notebook_path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    command: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    url: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    query: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    subagent_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    description: Option<Cow<'a, str>>,
    /// What a Write wrote: its hash lets a commit be checked against it.
    #[serde(borrow, default, deserialize_with = "super::wire::opt_str")]
    content: Option<Cow<'a, str>>,
}

fn tool_kind(name: &str, input: &ToolInput<'_>) -> ToolKind {
    if let Some((server, tool)) = mcp_name(name) {
        return ToolKind::Mcp {
            server: server.to_owned(),
            tool: tool.to_owned(),
        };
    }
    if matches!(name, "Task" | "Agent") {
        return ToolKind::Subagent {
            agent_type: input.subagent_type.as_deref().map(str::to_owned),
        };
    }
    ToolKind::Builtin
}

/// `mcp__<server>__<tool>`: split on the first two `__` (FORMATS.md 1.9).
fn mcp_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("mcp__")?;
    let (server, tool) = rest.split_once("__")?;
    (!server.is_empty() && !tool.is_empty()).then_some((server, tool))
}

fn access(name: &str, input: &ToolInput<'_>) -> Vec<Access> {
    let file = input
        .file_path
        .as_deref()
        .or(input.notebook_path.as_deref())
        .map(str::to_owned);
    let one = match name {
        "Read" | "NotebookRead" => file.map(Access::FileRead),
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => file.map(Access::FileWrite),
        "Glob" | "Grep" | "LS" => input.path.as_deref().map(|p| Access::Search(p.to_owned())),
        "Bash" | "PowerShell" => input
            .command
            .as_deref()
            .map(|c| Access::Command(c.to_owned())),
        "WebFetch" => input.url.as_deref().map(|u| Access::Url(u.to_owned())),
        "WebSearch" => input
            .query
            .as_deref()
            .map(|q| Access::WebSearch(q.to_owned())),
        _ => file.map(Access::FileRead),
    };
    one.into_iter().collect()
}

/// The `agentId: <id>` trailer of a subagent call's result text.
fn trailer_agent_id(text: &str) -> Option<String> {
    let at = text.find("agentId: ")?;
    let id: String = text[at + 9..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!id.is_empty()).then_some(id)
}

fn hash_str(s: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(s)
}

/// Keeps record kinds from the file short in reports: long enough that a token among them
/// is still whole when the report is redacted (the longest formats are under 256 bytes).
fn short(s: &str) -> &str {
    let mut end = s.len().min(256);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Turns a serde error into an issue that names the position, never the content.
pub(crate) fn describe_json_error(
    e: &serde_json::Error,
    bytes: &[u8],
    terminated: bool,
) -> (IssueKind, String) {
    use serde_json::error::Category;
    let column = e.column();
    match e.classify() {
        Category::Eof if !terminated => (
            IssueKind::TruncatedLine,
            format!(
                "truncated last line ({} bytes, no newline): the file was cut or is still being written",
                bytes.len()
            ),
        ),
        _ if std::str::from_utf8(bytes).is_err() => {
            let at = std::str::from_utf8(bytes)
                .err()
                .map_or(0, |u| u.valid_up_to());
            (
                IssueKind::InvalidUtf8,
                format!("invalid UTF-8 at byte {at}"),
            )
        }
        Category::Data => (
            IssueKind::InvalidRecord,
            format!("not a record of the expected shape (column {column})"),
        ),
        Category::Io => (IssueKind::InvalidJson, "read error".into()),
        Category::Syntax | Category::Eof => {
            // serde_json's syntax messages are fixed phrases; drop its position suffix.
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            (
                IssueKind::InvalidJson,
                format!("invalid JSON at column {column}: {msg}"),
            )
        }
    }
}
