//! Every attribute, span and event name sessiontrail writes, in one place (DESIGN.md 3).
//!
//! GenAI names follow the OpenTelemetry GenAI conventions (semantic-conventions-genai,
//! Development status); `vcs.*`, `file.*`, `process.*`, `url.*`, `server.*`, `session.id`
//! and `error.type` come from core semconv v1.42.0. Our own names live under
//! `sessiontrail.*`.

// Resource.
pub const SERVICE_NAME: &str = "service.name";
pub const SERVICE_VERSION: &str = "service.version";
pub const HOST_NAME: &str = "host.name";
pub const USER_NAME: &str = "user.name";

// Every span.
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
pub const SESSION_ID: &str = "session.id";

// GenAI.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";
pub const GEN_AI_AGENT_ID: &str = "gen_ai.agent.id";
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
pub const MCP_METHOD_NAME: &str = "mcp.method.name";

// Core semconv.
pub const ERROR_TYPE: &str = "error.type";
pub const FILE_PATH: &str = "file.path";
pub const FILE_DIRECTORY: &str = "file.directory";
pub const PROCESS_COMMAND_LINE: &str = "process.command_line";
pub const PROCESS_EXECUTABLE_NAME: &str = "process.executable.name";
pub const PROCESS_EXIT_CODE: &str = "process.exit.code";
pub const PROCESS_WORKING_DIRECTORY: &str = "process.working_directory";
pub const URL_FULL: &str = "url.full";
pub const URL_SCHEME: &str = "url.scheme";
pub const SERVER_ADDRESS: &str = "server.address";
pub const VCS_REF_HEAD_NAME: &str = "vcs.ref.head.name";
pub const VCS_REF_HEAD_REVISION: &str = "vcs.ref.head.revision";
pub const VCS_REPOSITORY_URL_FULL: &str = "vcs.repository.url.full";
pub const VCS_REPOSITORY_NAME: &str = "vcs.repository.name";
pub const VCS_RECONSTRUCTED: &str = "sessiontrail.vcs.reconstructed";
pub const COMMIT_SHAS: &str = "sessiontrail.commit.shas";
pub const PULL_REQUESTS: &str = "sessiontrail.pull_requests";
pub const COMMIT_FILES: &str = "sessiontrail.commit.files";
pub const LINK_METHOD: &str = "sessiontrail.link.method";

// sessiontrail.
pub const CONTENT_LEVEL: &str = "sessiontrail.content.level";
pub const PERMISSION_MODE: &str = "sessiontrail.permission_mode";
pub const PERMISSION_DECISION: &str = "sessiontrail.permission.decision";
pub const PERMISSION_ASKED: &str = "sessiontrail.permission.asked";
pub const PERMISSION_REASON: &str = "sessiontrail.permission.reason";
pub const SESSION_START_SOURCE: &str = "sessiontrail.session.start_source";
pub const SESSION_END_REASON: &str = "sessiontrail.session.end_reason";
pub const ENTRYPOINT: &str = "sessiontrail.entrypoint";
pub const SESSION_TITLE: &str = "sessiontrail.session.title";
pub const SOURCE_FILES: &str = "sessiontrail.source.files";
pub const TURN_COUNT: &str = "sessiontrail.turn.count";
pub const MODEL_CALL_COUNT: &str = "sessiontrail.model_call.count";
pub const TOOL_CALL_COUNT: &str = "sessiontrail.tool_call.count";
pub const ERROR_COUNT: &str = "sessiontrail.error.count";
pub const SUBAGENT_COUNT: &str = "sessiontrail.subagent.count";
pub const TURN_INDEX: &str = "sessiontrail.turn.index";
pub const TURN_PROMPT: &str = "sessiontrail.turn.prompt";
pub const TURN_PROMPT_KIND: &str = "sessiontrail.turn.prompt.kind";
pub const TURN_PROMPT_SIZE: &str = "sessiontrail.turn.prompt.size";
pub const TURN_PROMPT_SHA256: &str = "sessiontrail.turn.prompt.sha256";
pub const TURN_DURATION_MS: &str = "sessiontrail.turn.duration_ms";
pub const REQUEST_ID: &str = "sessiontrail.request.id";
pub const CHAT_OUTPUT_SIZE: &str = "sessiontrail.chat.output.size";
pub const CHAT_THINKING_SIZE: &str = "sessiontrail.chat.thinking.size";
pub const CHAT_TOOL_CALLS: &str = "sessiontrail.chat.tool_calls";
pub const TOOL_OUTCOME: &str = "sessiontrail.tool.outcome";
pub const TOOL_ARGUMENTS_SIZE: &str = "sessiontrail.tool.arguments.size";
pub const TOOL_ARGUMENTS_SHA256: &str = "sessiontrail.tool.arguments.sha256";
pub const TOOL_RESULT_SIZE: &str = "sessiontrail.tool.result.size";
pub const TOOL_RESULT_SHA256: &str = "sessiontrail.tool.result.sha256";
pub const MCP_SERVER: &str = "sessiontrail.mcp.server";
pub const MCP_TOOL: &str = "sessiontrail.mcp.tool";
pub const WEB_SEARCH_QUERY: &str = "sessiontrail.web_search.query";
pub const SUBAGENT_TYPE: &str = "sessiontrail.subagent.type";
pub const SUBAGENT_DESCRIPTION: &str = "sessiontrail.subagent.description";
pub const SUBAGENT_REPORTED_TOKENS: &str = "sessiontrail.subagent.reported.total_tokens";
pub const SUBAGENT_REPORTED_TOOL_CALLS: &str = "sessiontrail.subagent.reported.tool_calls";
pub const SUBAGENT_REPORTED_DURATION_MS: &str = "sessiontrail.subagent.reported.duration_ms";

pub const AMBIENT_TOOLS_ALLOWED: &str = "sessiontrail.ambient.tools.allowed";
pub const AMBIENT_TOOLS_DENIED: &str = "sessiontrail.ambient.tools.denied";
pub const AMBIENT_MCP_SERVERS: &str = "sessiontrail.ambient.mcp_servers";
pub const AMBIENT_SECRET_ENV_NAMES: &str = "sessiontrail.ambient.secret_env_names";
pub const AMBIENT_SOURCES: &str = "sessiontrail.ambient.sources";
pub const SENSITIVE: &str = "sessiontrail.sensitive";
pub const SENSITIVE_RULES: &str = "sessiontrail.sensitive.rules";
pub const SENSITIVE_SEVERITY: &str = "sessiontrail.sensitive.severity";
pub const SENSITIVE_CATEGORIES: &str = "sessiontrail.sensitive.categories";
pub const SENSITIVE_COUNT: &str = "sessiontrail.sensitive.count";

// Event names and their attributes.
pub const EVENT_SENSITIVE_ACCESS: &str = "sessiontrail.sensitive_access";
pub const SENSITIVE_RULE: &str = "sessiontrail.sensitive.rule";
pub const SENSITIVE_CATEGORY: &str = "sessiontrail.sensitive.category";
pub const SENSITIVE_TARGET: &str = "sessiontrail.sensitive.target";
pub const EVENT_COMPACTION: &str = "sessiontrail.compaction";
pub const EVENT_COMPACTION_SUMMARY: &str = "sessiontrail.compaction.summary";
pub const EVENT_HOOK: &str = "sessiontrail.hook";
pub const EVENT_INTERRUPTED: &str = "sessiontrail.interrupted";
pub const EVENT_LOCAL_COMMAND: &str = "sessiontrail.local_command";
pub const EVENT_SYNTHETIC_MESSAGE: &str = "sessiontrail.synthetic_message";
pub const EVENT_MCP_PROGRESS: &str = "sessiontrail.mcp.progress";
pub const EVENT_QUEUE: &str = "sessiontrail.queue";
pub const COMPACTION_TRIGGER: &str = "sessiontrail.compaction.trigger";
pub const COMPACTION_PRE_TOKENS: &str = "sessiontrail.compaction.pre_tokens";
pub const HOOK_EVENT: &str = "sessiontrail.hook.event";
pub const HOOK_NAME: &str = "sessiontrail.hook.name";
pub const HOOK_COMMAND: &str = "sessiontrail.hook.command";
pub const HOOK_ERROR: &str = "sessiontrail.hook.error";
pub const TEXT: &str = "sessiontrail.text";
pub const TEXT_SIZE: &str = "sessiontrail.text.size";
pub const TEXT_SHA256: &str = "sessiontrail.text.sha256";
pub const API_ERROR: &str = "sessiontrail.api_error";
pub const MCP_PROGRESS_STATUS: &str = "sessiontrail.mcp.progress.status";
pub const QUEUE_OPERATION: &str = "sessiontrail.queue.operation";
