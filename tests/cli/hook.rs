//! `sessiontrail hook`: the agent's event lands whole in the spool and the hook exits 0
//! whatever happens; `hook install|uninstall` edit the agent's settings surgically.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::util::*;

fn hook(env: &TestEnv, args: &[&str], stdin: &[u8]) -> Output {
    let mut c = env.cmd(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn spool(env: &TestEnv) -> Vec<Value> {
    let mut p = env.store.clone().into_os_string();
    p.push("-hooks.jsonl");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hook_appends_the_event_whole_and_prints_nothing() {
    let env = TestEnv::new();
    let event = r#"{"session_id":"7c9e","transcript_path":"/home/ana/.claude/projects/-p/7c9e.jsonl","cwd":"/p","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"cat .env"},"tool_response":{"stdout":"AWS_SECRET_ACCESS_KEY=abc\nline2"}}"#;
    let o = hook(&env, &["hook"], event.as_bytes());
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty(), "a hook's stdout is read by the agent");
    let o = hook(
        &env,
        &["hook", "Stop"],
        b"{\n  \"session_id\": \"7c9e\"\n}\n",
    );
    assert_eq!(o.status.code(), Some(0));
    let lines = spool(&env);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["agent"], "claude");
    assert_eq!(
        lines[0]["payload"],
        serde_json::from_str::<Value>(event).unwrap()
    );
    assert!(lines[0]["received_ns"].as_i64().unwrap() > 1_700_000_000_000_000_000);
    assert_eq!(lines[1]["event"], "Stop");
    assert_eq!(lines[1]["payload"]["session_id"], "7c9e");
}

#[test]
fn hook_exits_0_when_it_cannot_write_or_read() {
    let env = TestEnv::new();
    // The store's folder is a file: the spool cannot be created.
    std::fs::write(env.path("store"), "").unwrap();
    let o = hook(&env, &["hook"], b"{\"session_id\":\"s\"}");
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot append to"));
    assert!(o.stdout.is_empty());
    // Not JSON: kept as text, still exit 0.
    let env = TestEnv::new();
    let o = hook(&env, &["hook"], b"{\"session_id\": \"s\", cut");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(spool(&env)[0]["invalid"], "{\"session_id\": \"s\", cut");
}

fn settings(env: &TestEnv) -> std::path::PathBuf {
    env.path("home/.claude/settings.json")
}

#[test]
fn install_is_surgical_idempotent_and_reversible() {
    let env = TestEnv::new();
    let original = "{\n  \"model\": \"opus\",\n  \"hooks\": {\n    \"Stop\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"notify-send done\"\n          }\n        ]\n      }\n    ]\n  },\n  \"env\": {\"A\": \"1\"}\n}\n";
    std::fs::create_dir_all(env.path("home/.claude")).unwrap();
    std::fs::write(settings(&env), original).unwrap();
    let o = env.run(&["hook", "install", "--json"], 0);
    let done: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(done["installed"].as_array().unwrap().len(), 12);
    let command = done["command"].as_str().unwrap().to_owned();
    assert!(
        command.contains(" hook --agent claude --store "),
        "{command}"
    );
    let backup = done["backup"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(backup).unwrap(), original);
    let once = std::fs::read_to_string(settings(&env)).unwrap();
    let v: Value = serde_json::from_str(&once).unwrap();
    assert_eq!(v["model"], "opus");
    assert_eq!(v["env"]["A"], "1");
    assert_eq!(
        v["hooks"]["Stop"][0]["hooks"][0]["command"],
        "notify-send done"
    );
    assert_eq!(
        v["hooks"]["Stop"][1]["hooks"][0]["command"],
        command.as_str()
    );
    assert_eq!(v["hooks"]["PreToolUse"][0]["matcher"], "*");
    assert_eq!(v["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"], 1);
    assert!(once.starts_with("{\n  \"model\": \"opus\",\n  \"hooks\": {\n    \"Stop\": [\n      {\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"notify-send done\"\n"));

    let o = env.run(&["hook", "install"], 0);
    assert!(
        stdout(&o).starts_with("already installed"),
        "{}",
        stdout(&o)
    );
    assert_eq!(std::fs::read_to_string(settings(&env)).unwrap(), once);

    // The command installed runs the hook into the same spool.
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("echo '{{\"session_id\":\"x\"}}' | {command}"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(spool(&env)[0]["payload"]["session_id"], "x");

    env.run(&["hook", "uninstall"], 0);
    assert_eq!(std::fs::read_to_string(settings(&env)).unwrap(), original);
    let o = env.run(&["hook", "uninstall"], 0);
    assert!(stdout(&o).starts_with("nothing to remove"));
}

#[test]
fn a_malformed_settings_file_is_named_with_its_line_and_left_alone() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path("home/.claude")).unwrap();
    let bad = "{\n  \"model\": \"opus\"\n  \"hooks\": {}\n}\n";
    std::fs::write(settings(&env), bad).unwrap();
    let o = env.run(&["hook", "install"], 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("settings.json:3:3: not valid JSON"), "{err}");
    assert_eq!(std::fs::read_to_string(settings(&env)).unwrap(), bad);
}

#[test]
fn project_scope_writes_the_project_settings() {
    let env = TestEnv::new();
    let project = env.path("proj");
    std::fs::create_dir_all(&project).unwrap();
    env.run(
        &[
            "hook",
            "install",
            "--scope",
            "project",
            "--project-dir",
            project.to_str().unwrap(),
        ],
        0,
    );
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join(".claude/settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["hooks"].as_object().unwrap().len(), 12);
    assert!(!settings(&env).exists());
}
