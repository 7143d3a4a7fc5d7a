//! Sessions in a repository of this machine carry its facts: the remote (without
//! credentials), the repository name, and HEAD at the start and at each tool call,
//! reconstructed from the reflog.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::util::*;

/// git as Ana at `date`, with no user or system config.
fn git_command(dir: &Path, args: &[&str], date: &str) -> Command {
    let mut c = Command::new("git");
    c.args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ana")
        .env("GIT_AUTHOR_EMAIL", "ana@example.com")
        .env("GIT_COMMITTER_NAME", "Ana")
        .env("GIT_COMMITTER_EMAIL", "ana@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    c
}

/// Runs git and returns its trimmed stdout, failing with its stderr.
fn run_git(mut c: Command, args: &[&str]) -> String {
    let o = c.output().expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

pub fn git(dir: &Path, args: &[&str], date: &str) -> String {
    run_git(git_command(dir, args, date), args)
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
    let spans = export_spans(&env, &t);
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
    // Every span carries the HEAD it started at: turns and model calls too.
    for s in &spans {
        assert!(
            s.str("vcs.ref.head.revision").is_some(),
            "{} has no HEAD",
            s.name
        );
    }
    let chat_at_11 = spans
        .iter()
        .find(|s| s.name.starts_with("chat ") && s.str("gen_ai.response.id") == Some("m2"))
        .unwrap();
    // The call started when the first tool result came back (10:00:06), before 10:30.
    let second_at = 1_772_361_000_000_000_000u64;
    assert!(chat_at_11.start < second_at);
    assert_eq!(
        chat_at_11.str("vcs.ref.head.revision"),
        Some(first.as_str())
    );
    assert!(
        !std::fs::read_to_string(env.path("out.jsonl"))
            .unwrap()
            .contains("ghp_notreal")
    );
}

/// The agent ran `git commit` (plainly, with `-C`, and with `--amend`): each reported commit
/// found in the repository, made around the call, and still reachable becomes a
/// `git commit <sha7>` span linked to the calls that wrote its files. A faked report, a
/// commit from long before, and the commit an amend replaced are not linked.
#[test]
fn commits_the_agent_ran_become_linked_spans() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    let old = git(&repo, &["rev-parse", "--short", "HEAD"], &at("08:00:00"));
    // The agent writes a.txt and commits it at 10:00:10.
    std::fs::write(repo.join("a.txt"), "agent\n").unwrap();
    git(&repo, &["add", "a.txt"], &at("10:00:10"));
    git(
        &repo,
        &["commit", "-q", "-m", "agent work"],
        &at("10:00:10"),
    );
    let first = git(&repo, &["rev-parse", "HEAD"], &at("10:00:10"));
    // Then amends it at 10:05:10, with -C from elsewhere.
    std::fs::write(repo.join("b.txt"), "more\n").unwrap();
    git(&repo, &["add", "b.txt"], &at("10:05:10"));
    git(
        &repo,
        &["commit", "-q", "--amend", "-m", "agent work, amended"],
        &at("10:05:10"),
    );
    let amended = git(&repo, &["rev-parse", "HEAD"], &at("10:05:10"));

    let cwd = repo.display().to_string();
    let sid = "9a7e0000-0000-4000-8000-000000000002";
    let line = |v: serde_json::Value| {
        let mut base =
            json!({"sessionId": sid, "cwd": cwd, "version": "2.1.40", "gitBranch": "main"});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        base.to_string()
    };
    let bash = |uuid: &str, t: &str, id: &str, cmd: &str| {
        line(
            json!({"type": "assistant", "uuid": uuid, "timestamp": at(t), "requestId": format!("r{uuid}"), "message": {"model": "m", "id": format!("m{uuid}"), "role": "assistant", "content": [{"type": "tool_use", "id": id, "name": "Bash", "input": {"command": cmd}}]}}),
        )
    };
    let result = |uuid: &str, t: &str, id: &str, out: &str| {
        line(
            json!({"type": "user", "uuid": uuid, "timestamp": at(t), "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": out}]}, "toolUseResult": {"stdout": out, "stderr": ""}}),
        )
    };
    let lines = [
        line(
            json!({"type": "user", "uuid": "u1", "timestamp": at("10:00:00.000"), "message": {"role": "user", "content": "commit it"}}),
        ),
        line(
            json!({"type": "assistant", "uuid": "a1", "timestamp": at("10:00:02.000"), "requestId": "r1", "message": {"model": "m", "id": "m1", "role": "assistant", "content": [{"type": "tool_use", "id": "w1", "name": "Write", "input": {"file_path": format!("{cwd}/a.txt"), "content": "agent\n"}}]}}),
        ),
        result("w1r", "10:00:03.000", "w1", "File created"),
        bash(
            "a2",
            "10:00:09.000",
            "c1",
            "git add a.txt && git commit -m 'agent work'",
        ),
        result(
            "c1r",
            "10:00:11.000",
            "c1",
            &format!("[main {}] agent work\n 1 file changed", &first[..7]),
        ),
        bash(
            "a3",
            "10:05:09.000",
            "c2",
            &format!("git -C {cwd} commit --amend -m 'agent work, amended'"),
        ),
        result(
            "c2r",
            "10:05:11.000",
            "c2",
            &format!("[main {}] agent work, amended\n Date: ...", &amended[..7]),
        ),
        // Quoted or invented output: no such commit, or one from hours before.
        bash("a4", "10:06:00.000", "c3", "git commit --allow-empty -m x"),
        result(
            "c3r",
            "10:06:01.000",
            "c3",
            &format!("[main deadbee] nothing\n[main {old}] from the log"),
        ),
        bash(
            "a5",
            "10:07:00.000",
            "c4",
            "echo '[main 1234567] not a commit'",
        ),
        result(
            "c4r",
            "10:07:01.000",
            "c4",
            &format!("[main {}] echoed", &amended[..7]),
        ),
    ];
    let t = env.path("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("s.jsonl"), lines.join("\n") + "\n").unwrap();
    // A store that cannot take the session: no note may name a trace it does not hold.
    let full = TestEnv::new();
    let short = claude_fixtures().join("marot-spotter/short.jsonl");
    full.run(&["export", short.to_str().unwrap(), "--no-notes"], 0);
    let o = full.run_with_file_limit(&["export", t.to_str().unwrap()], 64);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let refs = git(&repo, &["for-each-ref", "refs/notes/"], &at("11:00:00"));
    assert_eq!(
        refs, "",
        "a note was written for spans that were never stored"
    );
    let spans = export_spans(&env, &t);
    // A re-export changes nothing, notes included: no new commit on the notes ref.
    let notes_log = || {
        git(
            &repo,
            &["rev-list", "refs/notes/sessiontrail"],
            &at("11:00:00"),
        )
    };
    let before = notes_log();
    export_spans(&env, &t);
    assert_eq!(notes_log(), before, "a re-export wrote notes again");
    assert_well_formed(&spans);
    let commits: Vec<&JSpan> = spans
        .iter()
        .filter(|s| s.name.starts_with("git commit "))
        .collect();
    assert_eq!(
        commits.len(),
        1,
        "only the amended commit: {:?}",
        commits.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    let c = commits[0];
    assert_eq!(c.name, format!("git commit {}", &amended[..7]));
    assert_eq!(c.str("vcs.ref.head.revision"), Some(amended.as_str()));
    assert_eq!(c.str("vcs.ref.head.name"), Some("main"));
    assert_eq!(c.str("sessiontrail.link.method"), Some("agent_ran_commit"));
    assert_eq!(
        c.attrs["sessiontrail.commit.files"],
        json!(["a.txt", "b.txt"])
    );
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(root.attrs["sessiontrail.commit.shas"], json!([amended]));
    assert!(first != amended);
    // Its links point at the Write that produced a.txt and the call that reported it.
    let raw: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(env.path("out.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let span_json = raw["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("git commit"))
        .unwrap()
        .clone();
    let linked: Vec<String> = span_json["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["spanId"].as_str().unwrap().to_owned())
        .collect();
    let id_of = |tool: &str| {
        spans
            .iter()
            .find(|s| s.str("gen_ai.tool.call.id") == Some(tool))
            .unwrap()
            .span_id
            .clone()
    };
    assert!(
        linked.contains(&id_of("w1")) && linked.contains(&id_of("c2")),
        "{linked:?}"
    );

    // Which session wrote HEAD? Asked by any revision git understands.
    for rev in ["HEAD", &amended[..9], "main"] {
        let o = env.run(
            &[
                "query",
                "--commit",
                rev,
                "--repo",
                repo.to_str().unwrap(),
                "--json",
            ],
            0,
        );
        let lines = json_lines(&o);
        assert_eq!(lines.len(), 1, "{rev}");
        let l = &lines[0];
        assert_eq!(l["session_id"], sid);
        assert_eq!(l["commit"], amended.as_str());
        assert_eq!(l["link_method"], "agent_ran_commit");
        assert_eq!(l["prompts"], json!(["commit it"]));
        let tools: Vec<&str> = l["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert!(tools.contains(&"w1") && tools.contains(&"c2"), "{tools:?}");
    }
    let mut c = env.cmd(&[
        "query",
        "--commit",
        "HEAD",
        "--repo",
        repo.to_str().unwrap(),
    ]);
    c.env(
        "SESSIONTRAIL_TRACE_URL",
        "http://jaeger:16686/trace/{trace_id}",
    );
    let text = stdout(&env.run_cmd(c, 0));
    assert!(
        text.contains(&format!("session {sid}")) && text.contains("http://jaeger:16686/trace/"),
        "{text}"
    );
    let none = stdout(&env.run(
        &["query", "--commit", &old, "--repo", repo.to_str().unwrap()],
        0,
    ));
    assert!(none.contains("no session is linked"), "{none}");
    let o = env.run(
        &[
            "query",
            "--commit",
            "nope",
            "--repo",
            repo.to_str().unwrap(),
        ],
        2,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("'nope' does not name a commit"));
    // The git side: a note on the commit names the session and the calls.
    let note = git(
        &repo,
        &[
            "notes",
            "--ref",
            "refs/notes/sessiontrail",
            "show",
            &amended,
        ],
        &at("11:00:00"),
    );
    let note: serde_json::Value = serde_json::from_str(&note).unwrap();
    assert_eq!(note[0]["session_id"], sid);
    assert_eq!(note[0]["agent"], "claude-code");
    assert_eq!(note[0]["link_method"], "agent_ran_commit");
    assert_eq!(note[0]["trace_id"], root.trace_id.as_str());
    // Another store learns it from the note alone.
    let other = TestEnv::new();
    other.run(
        &[
            "export",
            claude_fixtures().join("git-ai").to_str().unwrap(),
            "--no-notes",
        ],
        0,
    );
    let from_note = json_lines(&other.run(
        &[
            "query",
            "--commit",
            "HEAD",
            "--repo",
            repo.to_str().unwrap(),
            "--json",
        ],
        0,
    ));
    assert_eq!(from_note.len(), 1);
    assert_eq!(from_note[0]["source"], "git note");
    assert_eq!(from_note[0]["session_id"], sid);
    // And the other way round.
    let commits = json_lines(&env.run(&["query", "--session", &sid[..8], "--json"], 0));
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0]["commit"], amended.as_str());
    assert_eq!(commits[0]["files"], json!(["a.txt", "b.txt"]));
}

/// A human commits what the agents wrote: commits made during a session or within an hour
/// after it that change files it wrote are linked by overlap, when the committed content is
/// what the agent wrote (where a Write carried it). Unrelated, rewritten and late commits
/// are not. Two sessions can share one commit.
#[test]
fn a_human_committing_the_agents_work_is_linked_by_overlap() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    let commit = |file: &str, content: &str, t: &str| {
        std::fs::write(repo.join(file), content).unwrap();
        git(&repo, &["add", file], &at(t));
        git(
            &repo,
            &["commit", "-q", "-m", &format!("{file} at {t}")],
            &at(t),
        );
        git(&repo, &["rev-parse", "HEAD"], &at(t))
    };
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    commit("old.txt", "old\n", "08:00:00");
    let cwd = repo.display().to_string();
    let session = |sid: &str, tools: &[(&str, &str, serde_json::Value)]| {
        let line = |v: serde_json::Value| {
            let mut base = json!({"sessionId": sid, "cwd": cwd, "version": "2.1.40"});
            for (k, x) in v.as_object().unwrap() {
                base[k] = x.clone();
            }
            base.to_string()
        };
        let mut lines = vec![line(
            json!({"type": "user", "uuid": format!("{sid}-u"), "timestamp": at("10:00:00.000"), "message": {"role": "user", "content": "write it"}}),
        )];
        for (i, (id, name, input)) in tools.iter().enumerate() {
            lines.push(line(json!({"type": "assistant", "uuid": format!("{sid}-a{i}"), "timestamp": at(&format!("10:0{}:00.000", i + 1)), "requestId": format!("{sid}-r{i}"), "message": {"model": "m", "id": format!("{sid}-m{i}"), "role": "assistant", "content": [{"type": "tool_use", "id": id, "name": name, "input": input}]}})));
            lines.push(line(json!({"type": "user", "uuid": format!("{sid}-t{i}"), "timestamp": at(&format!("10:0{}:01.000", i + 1)), "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "ok"}]}})));
        }
        lines.push(line(json!({"type": "user", "uuid": format!("{sid}-end"), "timestamp": at("10:10:00.000"), "message": {"role": "user", "content": "thanks"}})));
        lines.join("\n") + "\n"
    };
    let s1 = "0ve71a90-0000-4000-8000-000000000001";
    let s2 = "0ve71a90-0000-4000-8000-000000000002";
    let t = env.path("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("one.jsonl"),
        session(s1, &[("w1", "Write", json!({"file_path": format!("{cwd}/a.txt"), "content": "agent\n"})), ("e1", "Edit", json!({"file_path": format!("{cwd}/b.txt"), "old_string": "x", "new_string": "y"}))]),
    )
    .unwrap();
    std::fs::write(
        t.join("two.jsonl"),
        session(
            s2,
            &[(
                "w2",
                "Write",
                json!({"file_path": format!("{cwd}/a.txt"), "content": "agent\n"}),
            )],
        ),
    )
    .unwrap();
    // What the human committed afterwards.
    let shared = commit("a.txt", "agent\n", "10:30:00");
    let unrelated = commit("c.txt", "c\n", "10:40:00");
    let rewritten = commit("a.txt", "human rewrite\n", "10:45:00");
    let edited = commit("b.txt", "y\n", "10:50:00");
    let late = commit("b.txt", "later\n", "12:00:00");

    env.run(&["export", t.to_str().unwrap(), "--no-notes"], 0);
    let sessions_of = |sha: &str| -> Vec<String> {
        json_lines(&env.run(
            &[
                "query",
                "--commit",
                sha,
                "--repo",
                repo.to_str().unwrap(),
                "--json",
            ],
            0,
        ))
        .iter()
        .map(|l| l["session_id"].as_str().unwrap().to_owned())
        .collect()
    };
    let mut both = sessions_of(&shared);
    both.sort();
    assert_eq!(both, [s1, s2], "two sessions on one commit");
    assert_eq!(sessions_of(&edited), [s1]);
    for (what, sha) in [
        ("unrelated", &unrelated),
        ("rewritten", &rewritten),
        ("late", &late),
    ] {
        assert!(sessions_of(sha).is_empty(), "{what} commit linked");
    }
    let l = &json_lines(&env.run(
        &[
            "query",
            "--commit",
            &shared,
            "--repo",
            repo.to_str().unwrap(),
            "--json",
        ],
        0,
    ))[0];
    assert_eq!(l["link_method"], "file_overlap");
    // No remote: the repository is named after its folder.
    let spans = json_lines(&env.run(&["show", s1, "--json"], 0));
    assert_eq!(spans[0]["attributes"]["vcs.repository.name"], "shop");
    assert!(
        spans[0]["attributes"]
            .get("vcs.repository.url.full")
            .is_none()
    );
}

/// `git install` adds a post-commit hook that chains the hook already there: a commit made
/// within half an hour of a stored session's end is linked to it by the hook (span, store
/// row, note); a commit long after is not; `git uninstall` puts the old hook back.
#[test]
fn the_post_commit_hook_links_commits_made_while_a_session_is_active() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    let hooks = repo.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let marker = env.path("existing-hook-ran");
    std::fs::write(
        hooks.join("post-commit"),
        format!("#!/bin/sh\necho ran >> '{}'\n", marker.display()),
    )
    .unwrap();
    make_executable(&hooks.join("post-commit"));

    let cwd = repo.display().to_string();
    let sid = "400c0000-0000-4000-8000-000000000001";
    let line = |v: serde_json::Value| {
        let mut base = json!({"sessionId": sid, "cwd": cwd, "version": "2.1.40"});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        base.to_string()
    };
    let lines = [
        line(
            json!({"type": "user", "uuid": "u1", "timestamp": at("10:00:00.000"), "message": {"role": "user", "content": "plan it"}}),
        ),
        line(
            json!({"type": "assistant", "uuid": "a1", "timestamp": at("10:10:00.000"), "requestId": "r1", "message": {"model": "m", "id": "m1", "role": "assistant", "content": [{"type": "text", "text": "done"}]}}),
        ),
    ];
    let t = env.path("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("s.jsonl"), lines.join("\n") + "\n").unwrap();
    env.run(&["export", t.to_str().unwrap()], 0);

    let installed = stdout(&env.run(&["git", "install", "--repo", repo.to_str().unwrap()], 0));
    assert!(
        installed.contains("runs the existing hook first"),
        "{installed}"
    );
    let again = stdout(&env.run(&["git", "install", "--repo", repo.to_str().unwrap()], 0));
    assert!(again.contains("already installed"), "{again}");

    let commit = |file: &str, t: &str| {
        std::fs::write(repo.join(file), format!("{t}\n")).unwrap();
        git(&repo, &["add", file], &at(t));
        git_hooked(&env, &repo, &["commit", "-q", "-m", file], &at(t));
        git(&repo, &["rev-parse", "HEAD"], &at(t))
    };
    let during = commit("plan.md", "10:20:00");
    let later = commit("later.md", "12:00:00");
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().lines().count(),
        2,
        "the existing hook runs on every commit"
    );

    let query = |sha: &str| sessions_of_commit(&env, &repo, sha);
    let linked = query(&during);
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["session_id"], sid);
    assert_eq!(linked[0]["link_method"], "hook");
    assert!(
        query(&later).is_empty(),
        "a commit 110 minutes after the session is linked"
    );
    let note = git(
        &repo,
        &["notes", "--ref", "sessiontrail", "show", &during],
        &at("12:00:00"),
    );
    assert!(note.contains(sid) && note.contains("hook"), "{note}");
    // The trace now holds the commit span.
    let spans = json_lines(&env.run(&["show", sid, "--json"], 0));
    let short = &during[..7];
    assert!(
        spans
            .iter()
            .any(|s| s["name"] == format!("git commit {short}")),
        "{spans:?}"
    );

    // A re-export of the unchanged session changes nothing: the root, shipped before the
    // commit was made, does not list it; its `git commit` span does.
    let again = json_lines(&env.run(&["export", t.to_str().unwrap(), "--json"], 0));
    assert_eq!(again[0]["spans_changed"], 0, "{:?}", again[0]);
    assert_eq!(again[0]["spans_new"], 0, "{:?}", again[0]);
    assert!(
        spans[0]["attributes"]
            .get("sessiontrail.commit.shas")
            .is_none()
    );

    // The session goes on and writes the file that was committed: a re-export keeps the
    // hook's link (stronger than the overlap it now also shows) and links the commit span
    // to the call that wrote the file; the root lists the commits made while it ran, and
    // this one came after its last record.
    let more = [
        line(
            json!({"type": "assistant", "uuid": "a2", "timestamp": at("10:15:00.000"), "requestId": "r2", "message": {"model": "m", "id": "m2", "role": "assistant", "content": [{"type": "tool_use", "id": "w1", "name": "Edit", "input": {"file_path": format!("{cwd}/plan.md"), "old_string": "a", "new_string": "b"}}]}}),
        ),
        line(
            json!({"type": "user", "uuid": "w1r", "timestamp": at("10:15:01.000"), "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "w1", "content": "ok"}]}}),
        ),
    ];
    std::fs::write(
        t.join("s.jsonl"),
        lines
            .iter()
            .chain(&more)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
            + "\n",
    )
    .unwrap();
    env.run(&["export", t.to_str().unwrap()], 0);
    let linked = query(&during);
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["link_method"], "hook");
    assert_eq!(linked[0]["tool_calls"][0]["id"], "w1", "{linked:?}");
    let spans = json_lines(&env.run(&["show", sid, "--json"], 0));
    assert!(
        spans[0]["attributes"]
            .get("sessiontrail.commit.shas")
            .is_none(),
        "{:?}",
        spans[0]
    );
    assert_eq!(
        spans
            .iter()
            .filter(|s| s["name"] == format!("git commit {short}"))
            .count(),
        1
    );

    env.run(&["git", "uninstall", "--repo", repo.to_str().unwrap()], 0);
    let hook = std::fs::read_to_string(hooks.join("post-commit")).unwrap();
    assert!(
        hook.contains("existing-hook-ran") && !hook.contains("sessiontrail"),
        "{hook}"
    );
}

/// `git` run the way a user's shell runs it once `git install` put the hook in: HOME and the
/// store are the test's, so the hook never reaches the real ones.
pub fn git_hooked(env: &TestEnv, dir: &Path, args: &[&str], date: &str) -> String {
    let mut c = git_command(dir, args, date);
    c.env("HOME", env.path("home"))
        .env("SESSIONTRAIL_STORE", &env.store);
    run_git(c, args)
}

/// A synthetic Claude Code transcript of one session: each line carries the session id, the
/// working directory and (when given) the branch Claude Code recorded.
pub struct Transcript {
    sid: String,
    cwd: String,
    branch: Option<String>,
    lines: Vec<String>,
}

impl Transcript {
    pub fn new(sid: &str, cwd: &Path, branch: Option<&str>) -> Transcript {
        Transcript {
            sid: sid.to_owned(),
            cwd: cwd.display().to_string(),
            branch: branch.map(str::to_owned),
            lines: Vec::new(),
        }
    }

    fn push(&mut self, v: serde_json::Value) {
        let mut base = json!({"sessionId": self.sid, "cwd": self.cwd, "version": "2.1.40"});
        if let Some(b) = &self.branch {
            base["gitBranch"] = json!(b);
        }
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        self.lines.push(base.to_string());
    }

    /// A prompt at `hms` on 2026-03-01.
    pub fn prompt(&mut self, uuid: &str, hms: &str, text: &str) {
        self.push(json!({"type": "user", "uuid": uuid, "timestamp": format!("2026-03-01T{hms}.000Z"), "message": {"role": "user", "content": text}}));
    }

    /// A tool call at `hms` (on 2026-03-01) and its result (`out`) a second later.
    pub fn call(&mut self, id: &str, hms: &str, name: &str, input: serde_json::Value, out: &str) {
        let secs = |t: &str| -> u32 {
            t.split(':')
                .fold(0, |a, p| a * 60 + p.parse::<u32>().unwrap())
        };
        let at = |s: u32| {
            format!(
                "2026-03-01T{:02}:{:02}:{:02}.000Z",
                s / 3600,
                s / 60 % 60,
                s % 60
            )
        };
        let t = secs(hms);
        self.push(json!({"type": "assistant", "uuid": format!("{id}-a"), "timestamp": at(t), "requestId": format!("{id}-r"), "message": {"model": "m", "id": format!("{id}-m"), "role": "assistant", "content": [{"type": "tool_use", "id": id, "name": name, "input": input}]}}));
        self.push(json!({"type": "user", "uuid": format!("{id}-u"), "timestamp": at(t + 1), "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": out}]}, "toolUseResult": {"stdout": out, "stderr": ""}}));
    }

    pub fn write_to(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join(format!("{}.jsonl", self.sid)),
            self.lines.join("\n") + "\n",
        )
        .unwrap();
    }
}

/// Exports the sessions under `dir` and returns the spans shipped to the OTLP/JSON file
/// `out.jsonl` of the test folder.
fn export_spans(env: &TestEnv, dir: &Path) -> Vec<JSpan> {
    let out = env.path("out.jsonl");
    env.run(
        &[
            "export",
            dir.to_str().unwrap(),
            "--otlp-file",
            out.to_str().unwrap(),
        ],
        0,
    );
    read_otlp_json(&out)
}

/// `query --commit REV --repo DIR --json`, one value per linked session.
pub fn sessions_of_commit(env: &TestEnv, repo: &Path, rev: &str) -> Vec<serde_json::Value> {
    json_lines(&env.run(
        &[
            "query",
            "--commit",
            rev,
            "--repo",
            repo.to_str().unwrap(),
            "--json",
        ],
        0,
    ))
}

fn make_executable(p: &Path) {
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(p, perm).unwrap();
}

/// The agent's commit is linked whatever the shape of the command: plain in a repository
/// whose `commit-msg` hook rewrites the message (the summary line shows the new message), and
/// with its output redirected to a file the agent then prints. `git commit -q` prints no
/// summary line: the commit HEAD's reflog records during the call is the one.
#[test]
fn the_agents_commit_is_linked_through_hooks_and_redirected_output() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    let hook = repo.join(".git/hooks/commit-msg");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(
        &hook,
        "#!/bin/sh\nmsg=$(cat \"$1\")\nprintf 'JIRA-7 %s\\n' \"$msg\" > \"$1\"\n",
    )
    .unwrap();
    make_executable(&hook);
    // What the agent did, replayed on the repository at the times the transcript says.
    let commit = |file: &str, content: &str, msg: &str, t: &str| {
        std::fs::write(repo.join(file), content).unwrap();
        git(&repo, &["add", file], &at(t));
        git(&repo, &["commit", "-q", "-m", msg], &at(t));
        let sha = git(&repo, &["rev-parse", "HEAD"], &at(t));
        let subject = git(&repo, &["log", "-1", "--format=%s"], &at(t));
        (sha, subject)
    };
    let (a, a_subject) = commit("a.txt", "a\n", "add a", "10:01:10");
    assert_eq!(a_subject, "JIRA-7 add a", "the hook rewrote the message");
    let (b, b_subject) = commit("b.txt", "b\n", "add b", "10:02:10");
    let (c, _) = commit("c.txt", "c\n", "add c", "10:03:10");

    let sid = "c0de0000-0000-4000-8000-000000000001";
    let mut s = Transcript::new(sid, &repo, Some("main"));
    let cwd = repo.display().to_string();
    let write =
        |f: &str, content: &str| json!({"file_path": format!("{cwd}/{f}"), "content": content});
    let bash = |cmd: &str| json!({"command": cmd});
    s.prompt("u1", "10:00:00", "commit each file");
    s.call(
        "wa",
        "10:01:00",
        "Write",
        write("a.txt", "a\n"),
        "File created",
    );
    s.call(
        "ca",
        "10:01:09",
        "Bash",
        bash("git add a.txt && git commit -m 'add a'"),
        &format!(
            "[main {}] {a_subject}\n 1 file changed, 1 insertion(+)",
            &a[..7]
        ),
    );
    s.call(
        "wb",
        "10:02:00",
        "Write",
        write("b.txt", "b\n"),
        "File created",
    );
    s.call(
        "cb",
        "10:02:09",
        "Bash",
        bash("git add b.txt && git commit -m 'add b' > /tmp/commit.log 2>&1; cat /tmp/commit.log"),
        &format!(
            "[main {}] {b_subject}\n 1 file changed, 1 insertion(+)\n create mode 100644 b.txt",
            &b[..7]
        ),
    );
    s.call(
        "wc",
        "10:03:00",
        "Write",
        write("c.txt", "c\n"),
        "File created",
    );
    s.call(
        "cc",
        "10:03:09",
        "Bash",
        bash("git add c.txt && git commit -q -m 'add c'"),
        "",
    );
    s.prompt("u2", "10:05:00", "thanks");
    let t = env.path("t");
    s.write_to(&t);
    let spans = export_spans(&env, &t);
    assert_well_formed(&spans);

    for (sha, writer, runner) in [(&a, "wa", "ca"), (&b, "wb", "cb")] {
        let linked = sessions_of_commit(&env, &repo, sha);
        assert_eq!(linked.len(), 1, "{sha}: {linked:?}");
        assert_eq!(linked[0]["session_id"], sid);
        assert_eq!(linked[0]["link_method"], "agent_ran_commit", "{sha}");
        let tools: Vec<&str> = linked[0]["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert!(
            tools.contains(&writer) && tools.contains(&runner),
            "{sha}: {tools:?}"
        );
        let span = spans
            .iter()
            .find(|s| s.name == format!("git commit {}", &sha[..7]))
            .unwrap_or_else(|| panic!("no span for {sha}"));
        assert_eq!(
            span.str("sessiontrail.link.method"),
            Some("agent_ran_commit")
        );
    }
    // `-q`: no SHA in the output; HEAD's reflog names the commit made during the call.
    let quiet = sessions_of_commit(&env, &repo, &c);
    assert_eq!(quiet.len(), 1, "{quiet:?}");
    assert_eq!(quiet[0]["session_id"], sid);
    assert_eq!(quiet[0]["link_method"], "agent_ran_commit");

    let commits = json_lines(&env.run(&["query", "--session", sid, "--json"], 0));
    let mut shas: Vec<&str> = commits
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    shas.sort();
    let mut want = [a.as_str(), b.as_str(), c.as_str()];
    want.sort();
    assert_eq!(shas, want);
}

/// After `git install`, rewriting the agent's commit keeps it answerable: git carries the
/// note to the amended commit and again to the rebased one (`notes.rewriteRef`), so
/// `query --commit` on the new SHA still names the session.
#[test]
fn notes_follow_the_agents_commit_through_amend_and_rebase() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    let old = git(&repo, &["rev-parse", "HEAD"], &at("08:00:00"));
    std::fs::write(repo.join("a.txt"), "agent\n").unwrap();
    git(&repo, &["add", "a.txt"], &at("10:00:10"));
    git(
        &repo,
        &["commit", "-q", "-m", "agent work"],
        &at("10:00:10"),
    );
    let first = git(&repo, &["rev-parse", "HEAD"], &at("10:00:10"));

    let sid = "4e3a0000-0000-4000-8000-000000000001";
    let cwd = repo.display().to_string();
    let mut s = Transcript::new(sid, &repo, Some("main"));
    s.prompt("u1", "10:00:00", "commit it");
    s.call(
        "w1",
        "10:00:02",
        "Write",
        json!({"file_path": format!("{cwd}/a.txt"), "content": "agent\n"}),
        "File created",
    );
    s.call(
        "c1",
        "10:00:09",
        "Bash",
        json!({"command": "git add a.txt && git commit -m 'agent work'"}),
        &format!("[main {}] agent work\n 1 file changed", &first[..7]),
    );
    let t = env.path("t");
    s.write_to(&t);
    env.run(&["export", t.to_str().unwrap()], 0);
    let before = sessions_of_commit(&env, &repo, &first);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["link_method"], "agent_ran_commit");

    env.run(&["git", "install", "--repo", repo.to_str().unwrap()], 0);
    let rewrite_ref = git(
        &repo,
        &["config", "--get-all", "notes.rewriteRef"],
        &at("12:00:00"),
    );
    assert_eq!(rewrite_ref, "refs/notes/sessiontrail");

    // Long after the session: reword the commit, then rebase it onto new upstream work.
    git_hooked(
        &env,
        &repo,
        &["commit", "-q", "--amend", "-m", "agent work, reworded"],
        &at("12:00:00"),
    );
    let amended = git(&repo, &["rev-parse", "HEAD"], &at("12:00:00"));
    git_hooked(
        &env,
        &repo,
        &["checkout", "-q", "-b", "upstream", &old],
        &at("12:10:00"),
    );
    std::fs::write(repo.join("up.txt"), "up\n").unwrap();
    git_hooked(&env, &repo, &["add", "up.txt"], &at("12:10:00"));
    git_hooked(
        &env,
        &repo,
        &["commit", "-q", "-m", "upstream"],
        &at("12:10:00"),
    );
    let upstream = git(&repo, &["rev-parse", "HEAD"], &at("12:10:00"));
    git_hooked(&env, &repo, &["checkout", "-q", "main"], &at("12:20:00"));
    git_hooked(&env, &repo, &["rebase", "-q", "upstream"], &at("12:20:00"));
    let rebased = git(&repo, &["rev-parse", "HEAD"], &at("12:20:00"));
    assert_eq!(
        git(&repo, &["rev-parse", "HEAD~1"], &at("12:20:00")),
        upstream
    );
    assert!(first != amended && amended != rebased);

    for (what, sha) in [("amended", &amended), ("rebased", &rebased)] {
        let note = git(
            &repo,
            &["notes", "--ref", "sessiontrail", "show", sha],
            &at("12:30:00"),
        );
        let note: serde_json::Value = serde_json::from_str(&note)
            .unwrap_or_else(|e| panic!("{what}: the note is not JSON ({e}): {note}"));
        assert_eq!(note.as_array().unwrap().len(), 1, "{what}: {note}");
        assert_eq!(note[0]["session_id"], sid, "{what}");
        let linked = sessions_of_commit(&env, &repo, sha);
        assert_eq!(linked.len(), 1, "{what}: {linked:?}");
        assert_eq!(linked[0]["session_id"], sid, "{what}");
        assert_eq!(linked[0]["commit"], sha.as_str(), "{what}");
        assert_eq!(linked[0]["link_method"], "agent_ran_commit", "{what}");
        assert_eq!(linked[0]["source"], "git note", "{what}");
        let tools: Vec<&str> = linked[0]["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert!(
            tools.contains(&"w1") && tools.contains(&"c1"),
            "{what}: {tools:?}"
        );
    }
    // The new upstream commit is nobody's.
    assert!(sessions_of_commit(&env, &repo, &upstream).is_empty());
}

/// Amending the agent's commit while its session is still active: the hook links the new
/// commit and git appends the carried note to the one the hook wrote; `query --commit` still
/// reads one entry for the session from it, with or without the store.
#[test]
fn amending_during_the_session_keeps_one_readable_note() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    std::fs::write(repo.join("a.txt"), "agent\n").unwrap();
    git(&repo, &["add", "a.txt"], &at("10:00:10"));
    git(
        &repo,
        &["commit", "-q", "-m", "agent work"],
        &at("10:00:10"),
    );
    let first = git(&repo, &["rev-parse", "HEAD"], &at("10:00:10"));

    let sid = "4e3a0000-0000-4000-8000-000000000002";
    let mut s = Transcript::new(sid, &repo, Some("main"));
    s.prompt("u1", "10:00:00", "commit it");
    s.call(
        "c1",
        "10:00:09",
        "Bash",
        json!({"command": "git add a.txt && git commit -m 'agent work'"}),
        &format!("[main {}] agent work\n 1 file changed", &first[..7]),
    );
    let t = env.path("t");
    s.write_to(&t);
    env.run(&["export", t.to_str().unwrap()], 0);
    env.run(&["git", "install", "--repo", repo.to_str().unwrap()], 0);

    git_hooked(
        &env,
        &repo,
        &["commit", "-q", "--amend", "-m", "agent work, reworded"],
        &at("10:05:00"),
    );
    let amended = git(&repo, &["rev-parse", "HEAD"], &at("10:05:00"));
    let note = git(
        &repo,
        &["notes", "--ref", "sessiontrail", "show", &amended],
        &at("10:06:00"),
    );
    assert!(note.contains(sid), "{note}");
    let linked = sessions_of_commit(&env, &repo, &amended);
    assert_eq!(linked.len(), 1, "{linked:?}\nnote: {note}");
    assert_eq!(linked[0]["session_id"], sid);
    // A store that never saw the session reads the note git assembled: one entry, the
    // strongest link, the calls involved.
    let other = TestEnv::new();
    other.run(
        &[
            "export",
            claude_fixtures().join("git-ai").to_str().unwrap(),
            "--no-notes",
        ],
        0,
    );
    let from_note = sessions_of_commit(&other, &repo, &amended);
    assert_eq!(from_note.len(), 1, "{from_note:?}\nnote: {note}");
    assert_eq!(from_note[0]["session_id"], sid);
    assert_eq!(from_note[0]["source"], "git note");
    assert_eq!(from_note[0]["link_method"], "agent_ran_commit");
    assert_eq!(from_note[0]["tool_calls"][0]["id"], "c1");
}

/// A session on a detached HEAD (Claude Code records the branch as `HEAD`): the spans carry
/// the revisions HEAD was at, the agent's `[detached HEAD abc1234]` commit is linked, and no
/// branch is made up for it.
#[test]
fn a_session_on_a_detached_head_links_its_commit_without_a_branch() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    let old = git(&repo, &["rev-parse", "HEAD"], &at("08:00:00"));
    git(&repo, &["checkout", "-q", "--detach"], &at("09:00:00"));
    std::fs::write(repo.join("a.txt"), "agent\n").unwrap();
    git(&repo, &["add", "a.txt"], &at("10:01:10"));
    git(&repo, &["commit", "-q", "-m", "wip"], &at("10:01:10"));
    let wip = git(&repo, &["rev-parse", "HEAD"], &at("10:01:10"));
    assert_eq!(
        git(
            &repo,
            &["rev-parse", "--abbrev-ref", "HEAD"],
            &at("10:01:10")
        ),
        "HEAD"
    );

    let sid = "de7a0000-0000-4000-8000-000000000001";
    let cwd = repo.display().to_string();
    let mut s = Transcript::new(sid, &repo, Some("HEAD"));
    s.prompt("u1", "10:00:00", "try it out");
    s.call(
        "r1",
        "10:00:30",
        "Read",
        json!({"file_path": format!("{cwd}/old.txt")}),
        "old",
    );
    s.call(
        "w1",
        "10:01:00",
        "Write",
        json!({"file_path": format!("{cwd}/a.txt"), "content": "agent\n"}),
        "File created",
    );
    s.call(
        "c1",
        "10:01:09",
        "Bash",
        json!({"command": "git add a.txt && git commit -m wip"}),
        &format!("[detached HEAD {}] wip\n 1 file changed", &wip[..7]),
    );
    s.call(
        "r2",
        "10:02:00",
        "Read",
        json!({"file_path": format!("{cwd}/a.txt")}),
        "agent",
    );
    let t = env.path("t");
    s.write_to(&t);
    let spans = export_spans(&env, &t);
    assert_well_formed(&spans);
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(root.str("vcs.ref.head.revision"), Some(old.as_str()));
    assert_eq!(root.str("vcs.repository.name"), Some("shop"));
    let tool = |id: &str| {
        spans
            .iter()
            .find(|s| s.str("gen_ai.tool.call.id") == Some(id))
            .unwrap()
    };
    assert_eq!(tool("r1").str("vcs.ref.head.revision"), Some(old.as_str()));
    assert_eq!(tool("r2").str("vcs.ref.head.revision"), Some(wip.as_str()));
    let commit = spans
        .iter()
        .find(|s| s.name == format!("git commit {}", &wip[..7]))
        .expect("the detached commit has its span");
    assert_eq!(commit.str("vcs.ref.head.revision"), Some(wip.as_str()));
    assert_eq!(
        commit.str("sessiontrail.link.method"),
        Some("agent_ran_commit")
    );
    // No branch on any span: not `HEAD`, not `main` (which does not hold the commit).
    for s in &spans {
        assert_eq!(s.str("vcs.ref.head.name"), None, "{}", s.name);
    }

    let linked = sessions_of_commit(&env, &repo, "HEAD");
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["session_id"], sid);
    assert_eq!(linked[0]["commit"], wip.as_str());
    assert_eq!(linked[0]["link_method"], "agent_ran_commit");
    assert_eq!(linked[0]["branch"], serde_json::Value::Null);
    // The same from the stored trace.
    let shown = json_lines(&env.run(&["show", sid, "--json"], 0));
    let stored = shown
        .iter()
        .find(|s| s["name"] == format!("git commit {}", &wip[..7]))
        .expect("stored commit span");
    assert_eq!(stored["attributes"]["vcs.ref.head.revision"], wip.as_str());
    assert!(stored["attributes"].get("vcs.ref.head.name").is_none());
}

/// A session in a linked worktree (`git worktree add ../wt -b feature`): the root span names
/// the repository the worktree belongs to and the worktree's branch, tool spans carry the
/// worktree's HEAD (not the main checkout's), and the agent's commit there is linked, asked
/// from either checkout.
#[test]
fn a_session_in_a_worktree_carries_the_repository_and_its_own_head() {
    let env = TestEnv::new();
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("old.txt"), "old\n").unwrap();
    git(&repo, &["add", "old.txt"], &at("08:00:00"));
    git(&repo, &["commit", "-q", "-m", "old"], &at("08:00:00"));
    let old = git(&repo, &["rev-parse", "HEAD"], &at("08:00:00"));
    git(
        &repo,
        &["worktree", "add", "-q", "../wt", "-b", "feature"],
        &at("09:00:00"),
    );
    let wt = env.path("wt");
    // The main checkout moves on meanwhile.
    std::fs::write(repo.join("main.txt"), "main\n").unwrap();
    git(&repo, &["add", "main.txt"], &at("10:00:20"));
    git(&repo, &["commit", "-q", "-m", "on main"], &at("10:00:20"));
    let on_main = git(&repo, &["rev-parse", "HEAD"], &at("10:00:20"));
    // The agent's commit in the worktree.
    std::fs::write(wt.join("f.txt"), "feature\n").unwrap();
    git(&wt, &["add", "f.txt"], &at("10:01:10"));
    git(
        &wt,
        &["commit", "-q", "-m", "feature work"],
        &at("10:01:10"),
    );
    let feature = git(&wt, &["rev-parse", "HEAD"], &at("10:01:10"));

    let sid = "3070e000-0000-4000-8000-000000000001";
    let cwd = wt.display().to_string();
    let mut s = Transcript::new(sid, &wt, Some("feature"));
    s.prompt("u1", "10:00:00", "build the feature");
    s.call(
        "r1",
        "10:00:30",
        "Read",
        json!({"file_path": format!("{cwd}/old.txt")}),
        "old",
    );
    s.call(
        "w1",
        "10:01:00",
        "Write",
        json!({"file_path": format!("{cwd}/f.txt"), "content": "feature\n"}),
        "File created",
    );
    s.call(
        "c1",
        "10:01:09",
        "Bash",
        json!({"command": "git add f.txt && git commit -m 'feature work'"}),
        &format!("[feature {}] feature work\n 1 file changed", &feature[..7]),
    );
    s.call(
        "r2",
        "10:02:00",
        "Read",
        json!({"file_path": format!("{cwd}/f.txt")}),
        "feature",
    );
    let t = env.path("t");
    s.write_to(&t);
    let spans = export_spans(&env, &t);
    assert_well_formed(&spans);
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(root.str("vcs.repository.name"), Some("shop"));
    assert_eq!(root.str("vcs.ref.head.name"), Some("feature"));
    assert_eq!(root.str("vcs.ref.head.revision"), Some(old.as_str()));
    let head_of = |id: &str| {
        spans
            .iter()
            .find(|s| s.str("gen_ai.tool.call.id") == Some(id))
            .unwrap()
            .str("vcs.ref.head.revision")
            .map(str::to_owned)
    };
    assert_eq!(
        head_of("r1").as_deref(),
        Some(old.as_str()),
        "the worktree's HEAD, not main's {on_main}"
    );
    assert_eq!(head_of("r2").as_deref(), Some(feature.as_str()));
    let commit = spans
        .iter()
        .find(|s| s.name == format!("git commit {}", &feature[..7]))
        .expect("the worktree commit has its span");
    assert_eq!(commit.str("vcs.ref.head.name"), Some("feature"));
    assert_eq!(
        commit.str("sessiontrail.link.method"),
        Some("agent_ran_commit")
    );
    assert_eq!(commit.attrs["sessiontrail.commit.files"], json!(["f.txt"]));

    for dir in [&wt, &repo] {
        let linked = sessions_of_commit(&env, dir, "feature");
        assert_eq!(linked.len(), 1, "from {}: {linked:?}", dir.display());
        assert_eq!(linked[0]["session_id"], sid);
        assert_eq!(linked[0]["commit"], feature.as_str());
        assert_eq!(linked[0]["link_method"], "agent_ran_commit");
    }
    assert!(sessions_of_commit(&env, &repo, &on_main).is_empty());
    // The note lives in the shared repository, visible from the main checkout.
    let note = git(
        &repo,
        &["notes", "--ref", "sessiontrail", "show", &feature],
        &at("11:00:00"),
    );
    assert!(note.contains(sid), "{note}");
}
