//! The Claude Code adapter on hand-made transcripts, one quirk per test, and on files that
//! change under it.

use std::path::{Path, PathBuf};

use sessiontrail_model::{
    ContentLevel, ContentOptions, EventKind, Owner, PromptKind, ToolKind, ToolOutcome,
};
use sessiontrail_sources::{IssueKind, ParseOptions, discover, parse_session};

const SID: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

fn line(kind: &str, uuid: &str, ts: &str, rest: &str) -> String {
    format!(
        r#"{{"type":"{kind}","uuid":"{uuid}","sessionId":"{SID}","timestamp":"2026-02-12T16:{ts}Z","cwd":"/home/ana/proj","version":"2.1.219","gitBranch":"main"{rest}}}"#
    )
}

fn prompt(uuid: &str, ts: &str, text: &str) -> String {
    line(
        "user",
        uuid,
        ts,
        &format!(r#","message":{{"role":"user","content":"{text}"}}"#),
    )
}

fn assistant(uuid: &str, ts: &str, msg: &str, req: &str, blocks: &str, out_tokens: u64) -> String {
    line(
        "assistant",
        uuid,
        ts,
        &format!(
            r#","requestId":"{req}","message":{{"model":"claude-opus-4-6","id":"{msg}","role":"assistant","content":[{blocks}],"stop_reason":"tool_use","usage":{{"input_tokens":3,"cache_read_input_tokens":100,"cache_creation_input_tokens":10,"output_tokens":{out_tokens}}}}}"#
        ),
    )
}

fn tool_use(id: &str, name: &str, input: &str) -> String {
    format!(r#"{{"type":"tool_use","id":"{id}","name":"{name}","input":{input}}}"#)
}

fn result(uuid: &str, ts: &str, id: &str, content: &str, is_error: bool, tur: &str) -> String {
    line(
        "user",
        uuid,
        ts,
        &format!(
            r#","message":{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"{id}","content":"{content}","is_error":{is_error}}}]}},"toolUseResult":{tur}"#
        ),
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn parse(
    dir: &Path,
    level: ContentLevel,
) -> (sessiontrail_model::Session, sessiontrail_sources::Report) {
    let d = discover(&[dir.to_owned()], 1 << 20);
    assert_eq!(d.sessions.len(), 1, "{:?}", d.issues);
    let opts = ParseOptions {
        content: ContentOptions {
            level,
            max_attribute_bytes: 64,
            redactor: Some(std::sync::Arc::new(
                sessiontrail_policy::SecretRedactor::new(),
            )),
        },
        max_line_bytes: 1 << 20,
        ..Default::default()
    };
    let (s, r) = parse_session(&d.sessions[0], &opts);
    (s.expect("a session"), r)
}

#[test]
fn one_response_written_as_several_lines_is_one_call_with_merged_usage() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.jsonl",
        &[
            prompt("u1", "00:00.000", "add a flag"),
            assistant(
                "a1",
                "00:02.000",
                "msg_1",
                "req_1",
                r#"{"type":"thinking","thinking":"hmm","signature":"x"}"#,
                9,
            ),
            assistant(
                "a2",
                "00:03.000",
                "msg_1",
                "req_1",
                r#"{"type":"text","text":"Sure."}"#,
                9,
            ),
            assistant(
                "a3",
                "00:04.000",
                "msg_1",
                "req_1",
                &tool_use(
                    "toolu_1",
                    "Read",
                    r#"{"file_path":"/home/ana/proj/src/main.rs"}"#,
                ),
                159,
            ),
            result(
                "r1",
                "00:05.000",
                "toolu_1",
                "fn main() {}",
                false,
                r#"{"type":"text"}"#,
            ),
            assistant(
                "a4",
                "00:06.000",
                "msg_2",
                "req_2",
                r#"{"type":"text","text":"Done."}"#,
                5,
            ),
        ],
    );
    let (s, r) = parse(dir.path(), ContentLevel::None);
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!(s.calls.len(), 2);
    let c = &s.calls[0];
    assert_eq!(
        (
            c.usage.input,
            c.usage.output,
            c.usage.cache_read,
            c.usage.cache_creation
        ),
        (3, 159, 100, 10)
    );
    assert_eq!(
        c.start, s.turns[0].start,
        "the call was sent when the prompt was written"
    );
    assert_eq!(c.tool_calls, 1);
    assert_eq!(c.output.size, 5);
    assert_eq!(c.thinking_bytes, 3);
    assert_eq!(
        s.calls[1].start,
        s.tools[0].end.unwrap(),
        "the next call starts at the result"
    );
    assert_eq!(s.total_usage().output, 164);
    assert_eq!(
        s.tools[0].access,
        vec![sessiontrail_model::Access::FileRead(
            "/home/ana/proj/src/main.rs".into()
        )]
    );
    assert_eq!(s.turns[0].prompt.content, None, "no text at level none");
}

#[test]
fn outcomes_rejected_interrupted_error_and_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let all = [
        tool_use("t_rej", "Edit", r#"{"file_path":"/p/a"}"#),
        tool_use("t_err", "Bash", r#"{"command":"false"}"#),
        tool_use("t_int", "Bash", r#"{"command":"sleep 100"}"#),
        tool_use("t_cut", "Bash", r#"{"command":"sleep 200"}"#),
    ]
    .join(",");
    write(
        dir.path(),
        "s.jsonl",
        &[
            prompt("u1", "00:00.000", "go"),
            assistant("a1", "00:01.000", "msg_1", "req_1", &all, 5),
            result(
                "r1",
                "00:02.000",
                "t_rej",
                "The user doesn't want to proceed with this tool use. The tool use was rejected.",
                true,
                r#""User rejected tool use""#,
            ),
            result(
                "r2",
                "00:03.000",
                "t_err",
                "Exit code 1",
                true,
                r#""Error: Exit code 1""#,
            ),
            result(
                "r3",
                "00:04.000",
                "t_int",
                "",
                false,
                r#"{"stdout":"","stderr":"","interrupted":true}"#,
            ),
            line(
                "user",
                "u2",
                "00:05.000",
                r#","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user for tool use]"}]}"#,
            ),
            prompt("u3", "00:09.000", "next"),
            assistant(
                "a2",
                "00:10.000",
                "msg_2",
                "req_2",
                &tool_use("t_lost", "Read", r#"{"file_path":"/p/b"}"#),
                5,
            ),
        ],
    );
    let (s, _) = parse(dir.path(), ContentLevel::None);
    let by = |id: &str| s.tools.iter().find(|t| t.id == id).unwrap();
    assert_eq!(by("t_rej").outcome, ToolOutcome::Rejected);
    assert_eq!(by("t_err").outcome, ToolOutcome::Error);
    assert_eq!(by("t_err").exit_code, Some(1));
    assert_eq!(by("t_int").outcome, ToolOutcome::Interrupted);
    // No result, but the user interrupted: it ends at the interruption.
    assert_eq!(by("t_cut").outcome, ToolOutcome::Interrupted);
    assert_eq!(by("t_cut").end, Some(s.turns[0].end));
    // No result at all: it ends with the session.
    assert_eq!(by("t_lost").outcome, ToolOutcome::NoResult);
    assert_eq!(by("t_lost").end, Some(s.end));
    assert_eq!(s.turns.len(), 2);
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Interrupted))
    );
}

#[test]
fn subagents_from_their_file_from_progress_copies_and_inline_sidechains() {
    let dir = tempfile::tempdir().unwrap();
    let sub = |uuid: &str, ts: &str, rest: &str| {
        line(
            "user",
            uuid,
            ts,
            &format!(r#","isSidechain":true,"agentId":"a77",{rest}"#),
        )
        .replace(",,", ",")
    };
    write(
        dir.path(),
        &format!("{SID}.jsonl"),
        &[
            prompt("u1", "00:00.000", "explore"),
            assistant(
                "a1",
                "00:01.000",
                "msg_1",
                "req_1",
                &tool_use(
                    "toolu_task",
                    "Agent",
                    r#"{"subagent_type":"Explore","description":"look","prompt":"look around"}"#,
                ),
                5,
            ),
            // The parent's copy of the subagent's first message.
            line(
                "progress",
                "p1",
                "00:02.000",
                &format!(
                    r#","parentToolUseID":"toolu_task","data":{{"type":"agent_progress","agentId":"a77","message":{}}}"#,
                    sub(
                        "s1",
                        "00:02.000",
                        r#""message":{"role":"user","content":"look around"}"#
                    )
                ),
            ),
            result(
                "r1",
                "00:09.000",
                "toolu_task",
                "found it",
                false,
                r#"{"status":"completed","agentId":"a77","totalTokens":500,"totalToolUseCount":1,"totalDurationMs":7000}"#,
            ),
        ],
    );
    write(
        dir.path(),
        &format!("{SID}/subagents/agent-a77.jsonl"),
        &[
            sub(
                "s1",
                "00:02.000",
                r#""message":{"role":"user","content":"look around"}"#,
            ),
            assistant(
                "s2",
                "00:03.000",
                "msg_s",
                "req_s",
                &tool_use("toolu_glob", "Glob", r#"{"pattern":"**/*.rs","path":"/p"}"#),
                7,
            )
            .replace(
                r#""type":"assistant""#,
                r#""type":"assistant","isSidechain":true,"agentId":"a77""#,
            ),
            result(
                "s3",
                "00:04.000",
                "toolu_glob",
                "a.rs",
                false,
                r#"{"numFiles":1}"#,
            )
            .replace(
                r#""type":"user""#,
                r#""type":"user","isSidechain":true,"agentId":"a77""#,
            ),
        ],
    );
    let (s, r) = parse(dir.path(), ContentLevel::None);
    assert_eq!(r.duplicates, 1, "the progress copy of s1 counts once");
    assert_eq!(s.runs.len(), 2);
    let run = &s.runs[1];
    assert_eq!(run.key, "a77");
    assert_eq!(run.agent_type.as_deref(), Some("Explore"));
    assert_eq!(s.tools[run.parent_tool.unwrap()].id, "toolu_task");
    assert_eq!(run.reported.unwrap().total_tokens, Some(500));
    let glob = s.tools.iter().find(|t| t.id == "toolu_glob").unwrap();
    assert_eq!(glob.run, 1);
    assert_eq!(s.turns.iter().filter(|t| t.run == 1).count(), 1);
    assert_eq!(
        s.turns.iter().find(|t| t.run == 1).unwrap().kind,
        PromptKind::Delegated
    );
    assert!(matches!(
        s.tools.iter().find(|t| t.id == "toolu_task").unwrap().kind,
        ToolKind::Subagent { .. }
    ));
}

#[test]
fn newer_records_attachments_titles_and_synthetic_messages() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.jsonl",
        &[
            r#"{"type":"custom-title","customTitle":"flag work","sessionId":"7c9e6679-7425-40de-944b-e07fc1f90ae7"}"#.to_owned(),
            prompt("u1", "00:00.000", "go"),
            assistant("a1", "00:01.000", "msg_1", "req_1", &tool_use("toolu_m", "mcp__linear-server__get_issue", r#"{"id":"ENT-1"}"#), 5),
            line("attachment", "h1", "00:01.500", r#","attachment":{"type":"hook_success","hookName":"PreToolUse:mcp","hookEvent":"PreToolUse","toolUseID":"toolu_m","exitCode":0,"command":"audit.sh"}"#),
            line("attachment", "h2", "00:01.600", r#","attachment":{"type":"skill_listing","content":"..."}"#),
            result("r1", "00:02.000", "toolu_m", "issue", false, "null"),
            line("assistant", "a2", "00:03.000", r#","isApiErrorMessage":true,"message":{"model":"<synthetic>","id":"x","role":"assistant","content":[{"type":"text","text":"API Error: overloaded"}]}"#),
            line("system", "c1", "00:04.000", r#","subtype":"compact_boundary","compactMetadata":{"trigger":"auto","preTokens":170251}"#),
            line("brand-new", "n1", "00:05.000", ""),
        ],
    );
    let (s, r) = parse(dir.path(), ContentLevel::Full);
    assert_eq!(
        s.title.as_ref().unwrap().content.as_deref(),
        Some("flag work")
    );
    assert_eq!(s.agent_version.as_deref(), Some("2.1.219"));
    assert_eq!(s.calls.len(), 1, "a synthetic message is not a model call");
    assert!(
        matches!(&s.tools[0].kind, ToolKind::Mcp { server, tool } if server == "linear-server" && tool == "get_issue")
    );
    let hook = s
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Hook { .. }))
        .unwrap();
    assert_eq!(hook.owner, Owner::Tool(0));
    assert!(s.events.iter().any(|e| matches!(
        e.kind,
        EventKind::SyntheticMessage {
            api_error: true,
            ..
        }
    )));
    assert!(s.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Compaction {
            pre_tokens: Some(170251),
            ..
        }
    )));
    assert_eq!(r.unmapped.get("attachment/skill_listing"), Some(&1));
    assert_eq!(r.unmapped.get("unknown type brand-new"), Some(&1));
    assert_eq!(s.turns[0].prompt.content.as_deref(), Some("go"));
}

#[test]
fn a_file_deleted_after_discovery_is_reported_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        &format!("{SID}.jsonl"),
        &[
            prompt("u1", "00:00.000", "go"),
            assistant(
                "a1",
                "00:01.000",
                "m",
                "r",
                r#"{"type":"text","text":"ok"}"#,
                1,
            ),
        ],
    );
    let sub = write(
        dir.path(),
        &format!("{SID}/subagents/agent-a1.jsonl"),
        &[line(
            "user",
            "s1",
            "00:00.500",
            r#","isSidechain":true,"agentId":"a1","message":{"role":"user","content":"x"}"#,
        )],
    );
    let d = discover(std::slice::from_ref(&main), 1 << 20);
    assert_eq!(
        d.sessions[0].files.len(),
        2,
        "a named transcript brings its subagent files"
    );
    std::fs::remove_file(&sub).unwrap();
    let (s, r) = parse_session(&d.sessions[0], &ParseOptions::default());
    assert_eq!(s.unwrap().calls.len(), 1);
    assert_eq!(r.issues.len(), 1);
    assert_eq!(r.issues[0].kind, IssueKind::Unreadable);
    assert!(
        r.issues[0].detail.contains("deleted"),
        "{}",
        r.issues[0].detail
    );
}

#[test]
fn content_full_caps_each_text() {
    let dir = tempfile::tempdir().unwrap();
    let long = "y".repeat(1000);
    write(dir.path(), "s.jsonl", &[prompt("u1", "00:00.000", &long)]);
    let (s, _) = parse(dir.path(), ContentLevel::Full);
    let p = &s.turns[0].prompt;
    assert_eq!(p.size, 1000);
    assert_eq!(
        p.content.as_deref(),
        Some(format!("{}...[truncated 936 bytes]", "y".repeat(64)).as_str())
    );
}

#[test]
fn ambient_authority_comes_from_the_settings_that_applied() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("claude");
    let project = dir.path().join("proj");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::create_dir_all(config.join("projects/p")).unwrap();
    std::fs::write(config.join("settings.json"), r#"{"permissions":{"allow":["Bash(git status)","Read"],"deny":["Bash(curl:*)"]},"mcpServers":{"linear":{}}}"#).unwrap();
    std::fs::write(
        project.join(".claude/settings.local.json"),
        r#"{"permissions":{"allow":["Edit"]}}"#,
    )
    .unwrap();
    std::fs::write(project.join(".mcp.json"), r#"{"mcpServers":{"vault":{"command":"vault-mcp","env":{"VAULT_TOKEN":"s.should-not-leak"}}}}"#).unwrap();
    let cwd = project.display().to_string();
    let line = |uuid: &str| {
        format!(
            r#"{{"type":"user","uuid":"{uuid}","sessionId":"{SID}","timestamp":"2026-02-12T16:00:00.000Z","cwd":"{cwd}","message":{{"role":"user","content":"hi"}}}}"#
        )
    };
    write(&config.join("projects/p"), "s.jsonl", &[line("u1")]);
    let d = discover(&[config.join("projects")], 1 << 20);
    let opts = ParseOptions {
        claude_config_dir: Some(config.clone()),
        ..Default::default()
    };
    let (s, _) = parse_session(&d.sessions[0], &opts);
    let a = s.unwrap().ambient;
    assert_eq!(a.allowed_tools, ["Bash(git status)", "Edit", "Read"]);
    assert_eq!(a.denied_tools, ["Bash(curl:*)"]);
    assert_eq!(a.mcp_servers, ["linear", "vault"]);
    assert_eq!(a.sources.len(), 3);
    // A copy of someone else's session: only its project's files, when they exist here.
    let elsewhere = tempfile::tempdir().unwrap();
    write(elsewhere.path(), "s.jsonl", &[line("u1")]);
    let d = discover(&[elsewhere.path().to_owned()], 1 << 20);
    let (s, _) = parse_session(&d.sessions[0], &opts);
    assert_eq!(s.unwrap().ambient.mcp_servers, ["vault"]);
}
