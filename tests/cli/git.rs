//! Sessions in a repository of this machine carry its facts: the remote (without
//! credentials), the repository name, and HEAD at the start and at each tool call,
//! reconstructed from the reflog.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::util::*;

fn git(dir: &Path, args: &[&str], date: &str) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ana")
        .env("GIT_AUTHOR_EMAIL", "ana@example.com")
        .env("GIT_COMMITTER_NAME", "Ana")
        .env("GIT_COMMITTER_EMAIL", "ana@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

#[test]
fn spans_carry_the_head_they_ran_at() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"], "2026-03-01T09:00:00Z");
    git(
        &repo,
        &[
            "remote",
            "add",
            "origin",
            "https://bot:ghp_notreal@github.com/acme/shop.git",
        ],
        "2026-03-01T09:00:00Z",
    );
    std::fs::write(repo.join("a.txt"), "1\n").unwrap();
    git(&repo, &["add", "a.txt"], "2026-03-01T09:00:00Z");
    git(
        &repo,
        &["commit", "-q", "-m", "first"],
        "2026-03-01T09:00:00Z",
    );
    let first = git(&repo, &["rev-parse", "HEAD"], "2026-03-01T09:00:00Z");
    std::fs::write(repo.join("a.txt"), "2\n").unwrap();
    git(
        &repo,
        &["commit", "-q", "-am", "second"],
        "2026-03-01T10:30:00Z",
    );
    let second = git(&repo, &["rev-parse", "HEAD"], "2026-03-01T10:30:00Z");

    let cwd = repo.display().to_string();
    let line = |v: serde_json::Value| {
        let mut base = json!({"sessionId": "9a7e0000-0000-4000-8000-000000000001", "cwd": cwd, "version": "2.1.40", "gitBranch": "main"});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        base.to_string()
    };
    let lines = [
        line(
            json!({"type": "user", "uuid": "u1", "timestamp": "2026-03-01T10:00:00.000Z", "message": {"role": "user", "content": "edit"}}),
        ),
        line(
            json!({"type": "assistant", "uuid": "a1", "timestamp": "2026-03-01T10:00:05.000Z", "requestId": "r1", "message": {"model": "m", "id": "m1", "role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": format!("{cwd}/a.txt")}}]}}),
        ),
        line(
            json!({"type": "user", "uuid": "r1", "timestamp": "2026-03-01T10:00:06.000Z", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "1"}]}}),
        ),
        line(
            json!({"type": "assistant", "uuid": "a2", "timestamp": "2026-03-01T11:00:00.000Z", "requestId": "r2", "message": {"model": "m", "id": "m2", "role": "assistant", "content": [{"type": "tool_use", "id": "t2", "name": "Read", "input": {"file_path": format!("{cwd}/a.txt")}}]}}),
        ),
        line(
            json!({"type": "user", "uuid": "r2", "timestamp": "2026-03-01T11:00:01.000Z", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "content": "2"}]}}),
        ),
    ];
    let t = env.path("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("s.jsonl"), lines.join("\n") + "\n").unwrap();
    let out = env.path("out.jsonl");
    env.run(
        &[
            "export",
            t.to_str().unwrap(),
            "--otlp-file",
            out.to_str().unwrap(),
        ],
        0,
    );
    let spans = read_otlp_json(&out);
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(
        root.str("vcs.repository.url.full"),
        Some("https://github.com/acme/shop")
    );
    assert_eq!(root.str("vcs.repository.name"), Some("shop"));
    assert_eq!(root.str("vcs.ref.head.revision"), Some(first.as_str()));
    assert_eq!(root.attrs["sessiontrail.vcs.reconstructed"], true);
    let head_of = |id: &str| {
        spans
            .iter()
            .find(|s| s.str("gen_ai.tool.call.id") == Some(id))
            .unwrap()
            .str("vcs.ref.head.revision")
            .map(str::to_owned)
    };
    assert_eq!(head_of("t1").as_deref(), Some(first.as_str()));
    assert_eq!(head_of("t2").as_deref(), Some(second.as_str()));
    assert!(
        !std::fs::read_to_string(&out)
            .unwrap()
            .contains("ghp_notreal")
    );
}
