//! Session -> spans.
//!
//! Deviation from the GenAI conventions: `turn N` spans (one per user prompt) have no GenAI
//! operation; the conventions have no notion of a turn, and a turn is what engineers look
//! for. Tool spans are children of their turn, not of the `chat` span that requested them,
//! as in the conventions' examples.

use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event as SpanEvent, Link as SpanLink, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, status::StatusCode};
use sessiontrail_model::{
    Access, ContentOptions, EventKind, LinkedCommit, ModelCall, Owner, Session, Text, Timestamp,
    ToolCall, ToolKind, ToolOutcome, Turn, Usage, cap,
};

use crate::attr as a;
use crate::ids::{hex, span_id, trace_id};

/// Most events kept on one span; the rest are counted in `dropped_events_count`.
pub const MAX_EVENTS_PER_SPAN: usize = 128;

/// What goes into every trace besides the session.
#[derive(Debug, Clone, Default)]
pub struct TraceOptions {
    /// Content level and attribute cap.
    pub content: ContentOptions,
    /// `host.name` of the resource.
    pub host_name: Option<String>,
    /// `user.name` of the resource.
    pub user_name: Option<String>,
    /// More resource attributes (from `OTEL_RESOURCE_ATTRIBUTES`); they never replace ours.
    pub resource_attributes: Vec<(String, String)>,
}

/// The trace of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTrace {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// Resource of every span.
    pub resource: Resource,
    /// Spans, root first.
    pub spans: Vec<Span>,
    /// What each span of `spans` stands for, in the same order.
    pub keys: Vec<SpanKey>,
    /// Figures for listings.
    pub summary: SessionSummary,
    /// Tool calls that matched sensitive-access rules.
    pub sensitive: Vec<SensitiveHit>,
    /// Commits linked to the session, with their spans.
    pub commits: Vec<CommitSpan>,
}

/// The part of the session a span stands for: indices into the session's lists, so that
/// the pipeline can tell from the session whether the span is final (DESIGN.md 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKey {
    /// The session (`invoke_agent`, the root).
    Root,
    /// A subagent run, by its index in `Session::runs` (never 0: that is the root).
    Run(usize),
    /// A turn, by its index in `Session::turns`.
    Turn(usize),
    /// A model call, by its index in `Session::calls`.
    Call(usize),
    /// A tool call, by its index in `Session::tools`.
    Tool(usize),
    /// A linked commit, by its index in `Session::commits`.
    Commit(usize),
}

/// A linked commit and the spans that stand for it, for the store's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSpan {
    /// The commit.
    pub commit: LinkedCommit,
    /// Its `git commit` span.
    pub span_id: [u8; 8],
    /// The tool spans it links to.
    pub tools: Vec<[u8; 8]>,
}

/// A tool call that matched sensitive-access rules, for the store's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveHit {
    /// Its span.
    pub span_id: [u8; 8],
    /// When it started.
    pub time: Timestamp,
    /// The tool.
    pub tool: String,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Highest severity.
    pub severity: String,
    /// What matched, per rule (redacted like the rest).
    pub targets: Vec<String>,
}

/// What a listing of sessions shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// Agent name.
    pub agent: String,
    /// Agent's session id.
    pub session_id: String,
    /// Working directory.
    pub project: Option<String>,
    /// First record.
    pub start: Timestamp,
    /// Last record.
    pub end: Timestamp,
    /// Turns across runs.
    pub turns: u64,
    /// Model calls.
    pub model_calls: u64,
    /// Tool calls.
    pub tool_calls: u64,
    /// Spans with status ERROR.
    pub errors: u64,
    /// Token totals.
    pub usage: Usage,
}

/// The `git commit` span of a commit linked to a session after its trace was built (by the
/// post-commit hook): same id and shape as the ones [`build`] makes, linked to `tools`.
pub fn commit_span(
    agent: sessiontrail_model::AgentKind,
    session_id: &str,
    c: &LinkedCommit,
    tools: &[[u8; 8]],
) -> Span {
    let s = Session::new(agent, session_id);
    let opts = TraceOptions::default();
    Builder::new(&s, &opts).commit_span(c, tools)
}

/// Maps a session to its trace.
pub fn build(session: &Session, opts: &TraceOptions) -> SessionTrace {
    Builder::new(session, opts).build()
}

struct Builder<'s> {
    s: &'s Session,
    opts: &'s TraceOptions,
    trace_id: [u8; 16],
    root: [u8; 8],
    runs: Vec<[u8; 8]>,
    turns: Vec<[u8; 8]>,
    tools: Vec<[u8; 8]>,
}

impl<'s> Builder<'s> {
    fn new(s: &'s Session, opts: &'s TraceOptions) -> Self {
        let tid = trace_id(s.agent.name(), &s.id);
        let root = span_id(&tid, "session");
        let runs = s
            .runs
            .iter()
            .map(|r| {
                if r.is_main() {
                    root
                } else {
                    span_id(&tid, &format!("agent:{}", r.key))
                }
            })
            .collect();
        let turns = s
            .turns
            .iter()
            .map(|t| span_id(&tid, &format!("turn:{}", t.key)))
            .collect();
        let tools = s
            .tools
            .iter()
            .map(|t| span_id(&tid, &format!("tool:{}", t.id)))
            .collect();
        Builder {
            s,
            opts,
            trace_id: tid,
            root,
            runs,
            turns,
            tools,
        }
    }

    fn content(&self) -> &ContentOptions {
        &self.opts.content
    }

    fn build(self) -> SessionTrace {
        let s = self.s;
        let mut spans =
            Vec::with_capacity(1 + s.runs.len() + s.turns.len() + s.calls.len() + s.tools.len());
        let mut keys = Vec::with_capacity(spans.capacity() + s.commits.len());
        keys.push(SpanKey::Root);
        keys.extend((1..s.runs.len()).map(SpanKey::Run));
        keys.extend((0..s.turns.len()).map(SpanKey::Turn));
        keys.extend((0..s.calls.len()).map(SpanKey::Call));
        keys.extend((0..s.tools.len()).map(SpanKey::Tool));
        keys.extend((0..s.commits.len()).map(SpanKey::Commit));
        spans.push(self.root_span());
        for r in 1..s.runs.len() {
            spans.push(self.run_span(r));
        }
        for (i, t) in s.turns.iter().enumerate() {
            spans.push(self.turn_span(i, t));
        }
        for c in &s.calls {
            spans.push(self.chat_span(c));
        }
        for (i, t) in s.tools.iter().enumerate() {
            spans.push(self.tool_span(i, t));
        }
        self.attach_events(&mut spans);
        for c in &s.commits {
            let tools: Vec<[u8; 8]> = c
                .writers
                .iter()
                .chain(c.reported_by.iter())
                .map(|&t| self.tools[t])
                .collect();
            spans.push(self.commit_span(c, &tools));
        }
        // The root covers every span, whatever the records said, but for commits made after
        // the session's last record: a late link must not edit a root already shipped.
        let late = |sp: &Span| {
            sp.name.starts_with("git commit ") && sp.start_time_unix_nano > s.end.unix_nanos()
        };
        let (lo, hi) = spans
            .iter()
            .filter(|sp| !late(sp))
            .fold((u64::MAX, 0), |(lo, hi), sp| {
                (
                    lo.min(sp.start_time_unix_nano),
                    hi.max(sp.end_time_unix_nano),
                )
            });
        spans[0].start_time_unix_nano = spans[0].start_time_unix_nano.min(lo);
        spans[0].end_time_unix_nano = spans[0].end_time_unix_nano.max(hi);
        let errors = spans
            .iter()
            .filter(|sp| {
                sp.status
                    .as_ref()
                    .is_some_and(|st| st.code == StatusCode::Error as i32)
            })
            .count() as u64;
        let sensitive = s
            .tools
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.sensitive.is_empty())
            .map(|(i, t)| SensitiveHit {
                span_id: self.tools[i],
                time: t.start,
                tool: t.name.clone(),
                rules: t.sensitive.iter().map(|m| m.rule.clone()).collect(),
                severity: t
                    .sensitive
                    .iter()
                    .map(|m| m.severity)
                    .max()
                    .map_or("low", |v| v.as_str())
                    .to_owned(),
                targets: t.sensitive.iter().map(|m| m.target.clone()).collect(),
            })
            .collect();
        let commits = s
            .commits
            .iter()
            .map(|c| CommitSpan {
                commit: c.clone(),
                span_id: span_id(&self.trace_id, &format!("commit:{}", c.sha)),
                tools: c
                    .writers
                    .iter()
                    .chain(c.reported_by.iter())
                    .map(|&t| self.tools[t])
                    .collect(),
            })
            .collect();
        debug_assert_eq!(keys.len(), spans.len());
        SessionTrace {
            commits,
            sensitive,
            trace_id: self.trace_id,
            resource: self.resource(),
            summary: SessionSummary {
                agent: s.agent.name().to_owned(),
                session_id: s.id.clone(),
                project: s.cwd.clone(),
                start: s.start,
                end: s.end,
                turns: s.turns.len() as u64,
                model_calls: s.calls.len() as u64,
                tool_calls: s.tools.len() as u64,
                errors,
                usage: s.total_usage(),
            },
            keys,
            spans,
        }
    }

    fn resource(&self) -> Resource {
        let s = self.s;
        let mut attrs = vec![kv_str(a::SERVICE_NAME, s.agent.name())];
        if let Some(v) = &s.agent_version {
            attrs.push(kv_str(a::SERVICE_VERSION, v));
        }
        if let Some(h) = &self.opts.host_name {
            attrs.push(kv_str(a::HOST_NAME, h));
        }
        if let Some(u) = &self.opts.user_name {
            attrs.push(kv_str(a::USER_NAME, u));
        }
        for (k, v) in &self.opts.resource_attributes {
            if !attrs.iter().any(|kv| &kv.key == k) {
                attrs.push(kv_str(k, v));
            }
        }
        Resource {
            attributes: attrs,
            dropped_attributes_count: 0,
            entity_refs: Vec::new(),
        }
    }

    fn span(
        &self,
        id: [u8; 8],
        parent: Option<[u8; 8]>,
        name: String,
        kind: SpanKind,
        start: Timestamp,
        end: Timestamp,
    ) -> Span {
        let head = self.s.vcs.as_ref().and_then(|v| v.head_at(start));
        let start = start.unix_nanos();
        let mut attributes = vec![
            kv_str(a::GEN_AI_CONVERSATION_ID, &self.s.id),
            kv_str(a::SESSION_ID, &self.s.id),
        ];
        // Every span carries the HEAD it started at (DESIGN.md 4).
        opt_str(&mut attributes, a::VCS_REF_HEAD_REVISION, head);
        Span {
            trace_id: self.trace_id.to_vec(),
            span_id: id.to_vec(),
            trace_state: String::new(),
            parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
            // Bit 0x100: the parent, when there is one, is local to this trace's producer.
            flags: 0x100 | 1,
            name,
            kind: kind as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: end.unix_nanos().max(start),
            attributes,
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            // Always present: OTLP/JSON readers get `{"code":0}` rather than `null`.
            status: Some(Status::default()),
        }
    }

    fn root_span(&self) -> Span {
        let s = self.s;
        let name = format!("invoke_agent {}", s.agent.name());
        let mut sp = self.span(self.root, None, name, SpanKind::Internal, s.start, s.end);
        let at = &mut sp.attributes;
        at.push(kv_str(a::GEN_AI_OPERATION_NAME, "invoke_agent"));
        at.push(kv_str(a::GEN_AI_AGENT_NAME, s.agent.name()));
        at.push(kv_str(a::GEN_AI_PROVIDER_NAME, s.agent.provider()));
        at.push(kv_str(a::CONTENT_LEVEL, self.content().level.as_str()));
        opt_str(at, a::PROCESS_WORKING_DIRECTORY, s.cwd.as_deref());
        opt_str(at, a::VCS_REF_HEAD_NAME, s.git_branch.as_deref());
        if let Some(v) = &s.vcs {
            opt_str(at, a::VCS_REPOSITORY_URL_FULL, v.url.as_deref());
            at.push(kv_str(a::VCS_REPOSITORY_NAME, &v.name));
            at.push(kv_bool(a::VCS_RECONSTRUCTED, v.reconstructed));
        }
        opt_str(at, a::PERMISSION_MODE, s.permission_mode.as_deref());
        opt_str(at, a::ENTRYPOINT, s.entrypoint.as_deref());
        opt_str(at, a::SESSION_START_SOURCE, s.start_source.as_deref());
        opt_str(at, a::SESSION_END_REASON, s.end_reason.as_deref());
        if let Some(t) = s.title.as_ref().and_then(|t| t.content.as_deref()) {
            at.push(kv_str(a::SESSION_TITLE, t));
        }
        at.push(kv_strs(a::SOURCE_FILES, &s.sources));
        let amb = &s.ambient;
        for (key, list) in [
            (a::AMBIENT_TOOLS_ALLOWED, &amb.allowed_tools),
            (a::AMBIENT_TOOLS_DENIED, &amb.denied_tools),
            (a::AMBIENT_MCP_SERVERS, &amb.mcp_servers),
            (a::AMBIENT_SECRET_ENV_NAMES, &amb.secret_env_names),
            (a::AMBIENT_SOURCES, &amb.sources),
        ] {
            if !list.is_empty() {
                let capped: Vec<String> = list.iter().take(256).map(|v| cap(v, 256)).collect();
                at.push(kv_strs(key, &capped));
            }
        }
        usage_attrs(at, &s.total_usage());
        at.push(kv_int(a::TURN_COUNT, s.turns.len() as i64));
        at.push(kv_int(a::MODEL_CALL_COUNT, s.calls.len() as i64));
        at.push(kv_int(a::TOOL_CALL_COUNT, s.tools.len() as i64));
        at.push(kv_int(a::ERROR_COUNT, s.failed_tool_calls() as i64));
        at.push(kv_int(a::SUBAGENT_COUNT, (s.runs.len() - 1) as i64));
        let flagged: Vec<&ToolCall> = s.tools.iter().filter(|t| !t.sensitive.is_empty()).collect();
        at.push(kv_int(a::SENSITIVE_COUNT, flagged.len() as i64));
        // The commits made while the session ran: one linked later (the post-commit hook,
        // a human committing the agent's work) gets its `git commit` span and leaves a
        // root that was shipped as it was (DESIGN.md 3).
        let shas: Vec<String> = s
            .commits
            .iter()
            .filter(|c| c.time <= s.end)
            .map(|c| c.sha.clone())
            .collect();
        if !shas.is_empty() {
            at.push(kv_strs(a::COMMIT_SHAS, &shas));
        }
        if !s.pull_requests.is_empty() {
            let capped: Vec<String> = s
                .pull_requests
                .iter()
                .take(256)
                .map(|v| cap(v, 1024))
                .collect();
            at.push(kv_strs(a::PULL_REQUESTS, &capped));
        }
        if let Some(severity) = flagged
            .iter()
            .flat_map(|t| t.sensitive.iter().map(|m| m.severity))
            .max()
        {
            let mut rules: Vec<String> = flagged
                .iter()
                .flat_map(|t| t.sensitive.iter().map(|m| m.rule.clone()))
                .collect();
            rules.sort();
            rules.dedup();
            at.push(kv_bool(a::SENSITIVE, true));
            at.push(kv_strs(a::SENSITIVE_RULES, &rules));
            at.push(kv_str(a::SENSITIVE_SEVERITY, severity.as_str()));
        }
        sp
    }

    fn run_span(&self, r: usize) -> Span {
        let run = &self.s.runs[r];
        let agent = run.agent_type.as_deref().unwrap_or("subagent");
        let parent = match (run.parent_tool, run.parent_turn) {
            (Some(t), _) => self.tools[t],
            (None, Some(t)) => self.turns[t],
            (None, None) => self.root,
        };
        let mut sp = self.span(
            self.runs[r],
            Some(parent),
            format!("invoke_agent {agent}"),
            SpanKind::Internal,
            run.start,
            run.end,
        );
        let at = &mut sp.attributes;
        at.push(kv_str(a::GEN_AI_OPERATION_NAME, "invoke_agent"));
        at.push(kv_str(a::GEN_AI_AGENT_NAME, agent));
        at.push(kv_str(a::GEN_AI_AGENT_ID, &run.key));
        at.push(kv_str(a::GEN_AI_PROVIDER_NAME, self.s.agent.provider()));
        let mut usage = Usage::default();
        for c in self.s.calls.iter().filter(|c| c.run == r) {
            usage.add(&c.usage);
        }
        usage_attrs(at, &usage);
        if let Some(rep) = run.reported {
            opt_int(at, a::SUBAGENT_REPORTED_TOKENS, rep.total_tokens);
            opt_int(at, a::SUBAGENT_REPORTED_TOOL_CALLS, rep.tool_calls);
            opt_int(at, a::SUBAGENT_REPORTED_DURATION_MS, rep.duration_ms);
        }
        sp
    }

    fn parent_of(&self, run: usize, turn: Option<usize>) -> [u8; 8] {
        turn.map_or(self.runs[run], |t| self.turns[t])
    }

    fn turn_span(&self, i: usize, t: &Turn) -> Span {
        let mut sp = self.span(
            self.turns[i],
            Some(self.runs[t.run]),
            format!("turn {}", t.index),
            SpanKind::Internal,
            t.start,
            t.end,
        );
        let at = &mut sp.attributes;
        at.push(kv_int(a::TURN_INDEX, i64::from(t.index)));
        at.push(kv_str(a::TURN_PROMPT_KIND, t.kind.as_str()));
        text_attrs(
            at,
            &t.prompt,
            a::TURN_PROMPT,
            a::TURN_PROMPT_SIZE,
            a::TURN_PROMPT_SHA256,
        );
        opt_int(at, a::TURN_DURATION_MS, t.duration_ms);
        sp
    }

    fn chat_span(&self, c: &ModelCall) -> Span {
        let id = span_id(&self.trace_id, &format!("chat:{}", c.key));
        let mut sp = self.span(
            id,
            Some(self.parent_of(c.run, c.turn)),
            format!("chat {}", c.model),
            SpanKind::Client,
            c.start,
            c.end,
        );
        let at = &mut sp.attributes;
        at.push(kv_str(a::GEN_AI_OPERATION_NAME, "chat"));
        at.push(kv_str(a::GEN_AI_PROVIDER_NAME, self.s.agent.provider()));
        at.push(kv_str(a::GEN_AI_REQUEST_MODEL, &c.model));
        at.push(kv_str(a::GEN_AI_RESPONSE_MODEL, &c.model));
        opt_str(at, a::GEN_AI_RESPONSE_ID, c.response_id.as_deref());
        opt_str(at, a::REQUEST_ID, c.request_id.as_deref());
        usage_attrs(at, &c.usage);
        if let Some(r) = &c.finish_reason {
            at.push(kv_strs(
                a::GEN_AI_RESPONSE_FINISH_REASONS,
                std::slice::from_ref(r),
            ));
        }
        at.push(kv_int(a::CHAT_OUTPUT_SIZE, c.output.size as i64));
        at.push(kv_int(a::CHAT_THINKING_SIZE, c.thinking_bytes as i64));
        at.push(kv_int(a::CHAT_TOOL_CALLS, i64::from(c.tool_calls)));
        if let Some(text) = c.output.content.as_deref().filter(|t| !t.is_empty()) {
            let mut msg = serde_json::json!({"role": "assistant", "parts": [{"type": "text", "content": text}]});
            if let Some(r) = &c.finish_reason {
                msg["finish_reason"] = r.as_str().into();
            }
            at.push(kv_str(
                a::GEN_AI_OUTPUT_MESSAGES,
                &serde_json::Value::Array(vec![msg]).to_string(),
            ));
        }
        sp
    }

    fn tool_span(&self, i: usize, t: &ToolCall) -> Span {
        let end = t.end.unwrap_or(self.s.end);
        let mut sp = self.span(
            self.tools[i],
            Some(self.parent_of(t.run, t.turn)),
            format!("execute_tool {}", t.name),
            SpanKind::Internal,
            t.start,
            end,
        );
        let text = self.content().keeps_text();
        let max = self.content().max_attribute_bytes;
        let at = &mut sp.attributes;
        at.push(kv_str(a::GEN_AI_OPERATION_NAME, "execute_tool"));
        at.push(kv_str(a::GEN_AI_TOOL_NAME, &t.name));
        at.push(kv_str(a::GEN_AI_TOOL_CALL_ID, &t.id));
        let tool_type = if matches!(t.kind, ToolKind::Mcp { .. }) {
            "extension"
        } else {
            "function"
        };
        at.push(kv_str(a::GEN_AI_TOOL_TYPE, tool_type));
        at.push(kv_str(a::TOOL_OUTCOME, t.outcome.as_str()));
        text_attrs(
            at,
            &t.input,
            a::GEN_AI_TOOL_CALL_ARGUMENTS,
            a::TOOL_ARGUMENTS_SIZE,
            a::TOOL_ARGUMENTS_SHA256,
        );
        if let Some(r) = &t.result {
            text_attrs(
                at,
                r,
                a::GEN_AI_TOOL_CALL_RESULT,
                a::TOOL_RESULT_SIZE,
                a::TOOL_RESULT_SHA256,
            );
        }
        match &t.kind {
            ToolKind::Mcp { server, tool } => {
                at.push(kv_str(a::MCP_METHOD_NAME, "tools/call"));
                at.push(kv_str(a::MCP_SERVER, server));
                at.push(kv_str(a::MCP_TOOL, tool));
            }
            ToolKind::Subagent { agent_type } => {
                opt_str(at, a::SUBAGENT_TYPE, agent_type.as_deref());
                if let Some(d) = t.description.as_ref().and_then(|d| d.content.as_deref()) {
                    at.push(kv_str(a::SUBAGENT_DESCRIPTION, d));
                }
            }
            ToolKind::Builtin => {}
        }
        for acc in &t.access {
            access_attrs(at, acc, text, max);
        }
        if let Some(code) = t.exit_code {
            at.push(kv_int(a::PROCESS_EXIT_CODE, code));
        }
        if let Some(p) = &t.permission {
            at.push(kv_str(a::PERMISSION_DECISION, p.decision.as_str()));
            at.push(kv_bool(a::PERMISSION_ASKED, p.asked));
            opt_str(at, a::PERMISSION_MODE, p.mode.as_deref());
            if let (Some(r), true) = (&p.reason, text) {
                at.push(kv_str(a::PERMISSION_REASON, &cap(r, max)));
            }
        }
        if let Some(h) = &t.head {
            set_str(at, a::VCS_REF_HEAD_REVISION, h);
        }
        if let Some(severity) = t.sensitive.iter().map(|m| m.severity).max() {
            let rules: Vec<String> = t.sensitive.iter().map(|m| m.rule.clone()).collect();
            let mut categories: Vec<String> =
                t.sensitive.iter().map(|m| m.category.clone()).collect();
            categories.dedup();
            // One rule as a plain string too: metric pipelines (the collector's spanmetrics)
            // label by scalar attributes.
            let primary = t
                .sensitive
                .iter()
                .find(|m| m.severity == severity)
                .map_or("", |m| m.rule.as_str());
            at.push(kv_bool(a::SENSITIVE, true));
            at.push(kv_strs(a::SENSITIVE_RULES, &rules));
            at.push(kv_str(a::SENSITIVE_RULE, primary));
            at.push(kv_str(a::SENSITIVE_SEVERITY, severity.as_str()));
            at.push(kv_strs(a::SENSITIVE_CATEGORIES, &categories));
            for m in &t.sensitive {
                sp.events.push(SpanEvent {
                    time_unix_nano: t.start.unix_nanos(),
                    name: a::EVENT_SENSITIVE_ACCESS.into(),
                    attributes: vec![
                        kv_str(a::SENSITIVE_RULE, &m.rule),
                        kv_str(a::SENSITIVE_SEVERITY, m.severity.as_str()),
                        kv_str(a::SENSITIVE_CATEGORY, &m.category),
                        kv_str(a::SENSITIVE_TARGET, &cap(&m.target, max)),
                    ],
                    dropped_attributes_count: 0,
                });
            }
        }
        let (error_type, message) = match t.outcome {
            ToolOutcome::Ok | ToolOutcome::Rejected => (None, ""),
            ToolOutcome::Error => (Some("tool_error"), "the tool returned an error"),
            ToolOutcome::Interrupted => (Some("interrupted"), "interrupted by the user"),
            ToolOutcome::NoResult => (Some("no_result"), "no result was recorded"),
        };
        if let Some(e) = error_type {
            at.push(kv_str(a::ERROR_TYPE, e));
            sp.status = Some(Status {
                message: message.into(),
                code: StatusCode::Error as i32,
            });
        }
        sp
    }

    /// `git commit <sha7>`: a commit linked to the session, with links to the tool calls that
    /// wrote its files.
    fn commit_span(&self, c: &LinkedCommit, tools: &[[u8; 8]]) -> Span {
        let id = span_id(&self.trace_id, &format!("commit:{}", c.sha));
        let short = &c.sha[..c.sha.len().min(7)];
        let mut sp = self.span(
            id,
            Some(self.root),
            format!("git commit {short}"),
            SpanKind::Internal,
            c.time,
            c.time,
        );
        let at = &mut sp.attributes;
        set_str(at, a::VCS_REF_HEAD_REVISION, &c.sha);
        opt_str(at, a::VCS_REF_HEAD_NAME, c.branch.as_deref());
        at.push(kv_strs(a::COMMIT_FILES, &c.files));
        at.push(kv_str(a::LINK_METHOD, c.method.as_str()));
        sp.links = tools
            .iter()
            .map(|t| SpanLink {
                trace_id: self.trace_id.to_vec(),
                span_id: t.to_vec(),
                trace_state: String::new(),
                attributes: Vec::new(),
                dropped_attributes_count: 0,
                flags: 0x100 | 1,
            })
            .collect();
        sp
    }

    fn attach_events(&self, spans: &mut [Span]) {
        let s = self.s;
        // Span order in `spans`: root, runs 1.., turns, calls, tools.
        let turn_base = s.runs.len();
        let tool_base = turn_base + s.turns.len() + s.calls.len();
        for e in &s.events {
            let idx = match e.owner {
                Owner::Session => 0,
                Owner::Run(r) => r,
                Owner::Turn(t) => turn_base + t,
                Owner::Tool(t) => tool_base + t,
            };
            let Some(span) = spans.get_mut(idx) else {
                continue;
            };
            if span.events.len() >= MAX_EVENTS_PER_SPAN {
                span.dropped_events_count += 1;
                continue;
            }
            span.events.push(self.event(e.time, &e.kind));
        }
    }

    fn event(&self, time: Timestamp, kind: &EventKind) -> SpanEvent {
        let mut at = Vec::new();
        let name = match kind {
            EventKind::Compaction {
                trigger,
                pre_tokens,
            } => {
                opt_str(&mut at, a::COMPACTION_TRIGGER, trigger.as_deref());
                opt_int(&mut at, a::COMPACTION_PRE_TOKENS, *pre_tokens);
                a::EVENT_COMPACTION
            }
            EventKind::CompactionSummary { summary } => {
                text_attrs(&mut at, summary, a::TEXT, a::TEXT_SIZE, a::TEXT_SHA256);
                a::EVENT_COMPACTION_SUMMARY
            }
            EventKind::Hook {
                event,
                name,
                command,
                exit_code,
                error,
            } => {
                opt_str(&mut at, a::HOOK_EVENT, event.as_deref());
                opt_str(&mut at, a::HOOK_NAME, name.as_deref());
                if let Some(c) = command.as_ref().and_then(|c| c.content.as_deref()) {
                    at.push(kv_str(a::HOOK_COMMAND, c));
                }
                if let Some(code) = exit_code {
                    at.push(kv_int(a::PROCESS_EXIT_CODE, *code));
                }
                if *error {
                    at.push(kv_bool(a::HOOK_ERROR, true));
                }
                a::EVENT_HOOK
            }
            EventKind::Interrupted => a::EVENT_INTERRUPTED,
            EventKind::LocalCommand { text } => {
                text_attrs(&mut at, text, a::TEXT, a::TEXT_SIZE, a::TEXT_SHA256);
                a::EVENT_LOCAL_COMMAND
            }
            EventKind::SyntheticMessage { api_error, text } => {
                at.push(kv_bool(a::API_ERROR, *api_error));
                text_attrs(&mut at, text, a::TEXT, a::TEXT_SIZE, a::TEXT_SHA256);
                a::EVENT_SYNTHETIC_MESSAGE
            }
            EventKind::McpProgress { status } => {
                at.push(kv_str(a::MCP_PROGRESS_STATUS, status));
                a::EVENT_MCP_PROGRESS
            }
            EventKind::Queue { operation } => {
                at.push(kv_str(a::QUEUE_OPERATION, operation));
                a::EVENT_QUEUE
            }
            _ => "sessiontrail.event",
        };
        SpanEvent {
            time_unix_nano: time.unix_nanos(),
            name: name.into(),
            attributes: at,
            dropped_attributes_count: 0,
        }
    }
}

fn usage_attrs(at: &mut Vec<KeyValue>, u: &Usage) {
    at.push(kv_int(a::GEN_AI_USAGE_INPUT_TOKENS, u.all_input() as i64));
    at.push(kv_int(a::GEN_AI_USAGE_OUTPUT_TOKENS, u.output as i64));
    at.push(kv_int(
        a::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        u.cache_read as i64,
    ));
    at.push(kv_int(
        a::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        u.cache_creation as i64,
    ));
}

fn text_attrs(at: &mut Vec<KeyValue>, t: &Text, content_key: &str, size_key: &str, sha_key: &str) {
    at.push(kv_int(size_key, t.size as i64));
    at.push(kv_str(sha_key, &hex(&t.sha256)));
    if let Some(c) = &t.content {
        at.push(kv_str(content_key, c));
    }
}

/// What a tool touched. Paths and names go out at every level; command lines, URLs and
/// queries are argument text and go out only at levels that keep text (redacted upstream
/// unless the level is `full`).
fn access_attrs(at: &mut Vec<KeyValue>, acc: &Access, text: bool, max: usize) {
    match acc {
        Access::FileRead(p) | Access::FileWrite(p) => at.push(kv_str(a::FILE_PATH, &cap(p, max))),
        Access::Search(p) => at.push(kv_str(a::FILE_DIRECTORY, &cap(p, max))),
        Access::Command(c) => {
            if text {
                at.push(kv_str(a::PROCESS_COMMAND_LINE, &cap(c, max)));
            }
            if let Some(exe) = executable(c) {
                at.push(kv_str(a::PROCESS_EXECUTABLE_NAME, &cap(&exe, 256)));
            }
        }
        Access::Url(u) => {
            if text {
                at.push(kv_str(a::URL_FULL, &cap(u, max)));
            }
            if let Some((scheme, host)) = url_host(u) {
                at.push(kv_str(a::URL_SCHEME, scheme));
                at.push(kv_str(a::SERVER_ADDRESS, host));
            }
        }
        Access::WebSearch(q) => {
            if text {
                at.push(kv_str(a::WEB_SEARCH_QUERY, &cap(q, max)));
            }
        }
    }
}

/// The program a command line starts, without its directory: the shell parser's, so that
/// quoted assignments (`A="x y" ./run`) and wrappers (`sudo`, `env`) are not taken for it.
fn executable(command: &str) -> Option<String> {
    let words = sessiontrail_policy::shell::simple_commands(command)
        .into_iter()
        .next()?;
    let name = sessiontrail_policy::shell::basename(words.first()?);
    (!name.is_empty()).then(|| name.to_owned())
}

/// Scheme and host of a URL, without user info, port, path or query.
fn url_host(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..])?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
    .then_some((scheme, host))
}

pub(crate) fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

pub(crate) fn kv_str(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.to_owned()))
}

pub(crate) fn kv_int(key: &str, value: i64) -> KeyValue {
    kv(key, Value::IntValue(value))
}

fn kv_bool(key: &str, value: bool) -> KeyValue {
    kv(key, Value::BoolValue(value))
}

fn kv_strs(key: &str, values: &[String]) -> KeyValue {
    let values = values
        .iter()
        .map(|v| AnyValue {
            value: Some(Value::StringValue(v.clone())),
        })
        .collect();
    kv(key, Value::ArrayValue(ArrayValue { values }))
}

fn opt_str(at: &mut Vec<KeyValue>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        at.push(kv_str(key, v));
    }
}

/// Sets `key`, replacing a value already there.
fn set_str(at: &mut Vec<KeyValue>, key: &str, value: &str) {
    at.retain(|kv| kv.key != key);
    at.push(kv_str(key, value));
}

fn opt_int(at: &mut Vec<KeyValue>, key: &str, value: Option<u64>) {
    if let Some(v) = value {
        at.push(kv_int(key, i64::try_from(v).unwrap_or(i64::MAX)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_skips_assignments_and_directories() {
        assert_eq!(
            executable("FOO=1 BAR=2 /usr/bin/git commit -m x").as_deref(),
            Some("git")
        );
        assert_eq!(executable("cat .env").as_deref(), Some("cat"));
        assert_eq!(executable("   "), None);
        assert_eq!(
            executable(r#"DB_PASSWORD="velvet mango quartz 42" ./run"#).as_deref(),
            Some("run")
        );
        assert_eq!(
            executable(r#"env A=1 B="x y" /usr/bin/git status"#).as_deref(),
            Some("git")
        );
        assert_eq!(executable("sudo -u root cat x").as_deref(), Some("cat"));
        assert_eq!(executable("bash -c 'cat x'").as_deref(), Some("bash"));
    }

    #[test]
    fn url_host_drops_credentials_and_query() {
        assert_eq!(
            url_host("https://user:pw@example.com:8443/a?token=x"),
            Some(("https", "example.com"))
        );
        assert_eq!(url_host("http://[::1]:80/"), Some(("http", "::1")));
        assert_eq!(url_host("not a url"), None);
    }
}
