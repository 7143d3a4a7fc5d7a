//! `export` on bad input, twice in a row, with each content level, from the default
//! folders; and what it prints where.

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::Value;

use crate::util::*;

fn issues(summary: &Value) -> Vec<(String, Option<u64>, String)> {
    summary["skipped"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let path = i["path"].as_str().unwrap();
            let file = std::path::Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                file,
                i["line"].as_u64(),
                i["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn bad_lines_and_files_are_reported_and_skipped_and_the_rest_is_exported() {
    let env = TestEnv::new();
    let dir = env.path("in");
    std::fs::create_dir_all(&dir).unwrap();
    let src =
        std::fs::read_to_string(claude_fixtures().join("marot-spotter/tool_heavy.jsonl")).unwrap();
    let good: Vec<&str> = src.lines().collect();
    let sid = "d6e0bada-1959-4eec-a9d2-0bfade768d8f";
    // Bad lines at known places: 6 not JSON, 8 not UTF-8, 10 an unknown record type, and a
    // last line cut in the middle.
    let mut f = std::fs::File::create(dir.join("damaged.jsonl")).unwrap();
    let mut n = 0;
    for (i, l) in good.iter().enumerate() {
        match n + 1 {
            6 => {
                writeln!(f, "{{\"type\":\"user\",\"oops").unwrap();
                n += 1;
            }
            8 => {
                f.write_all(b"{\"type\":\"user\",\"message\":{\"content\":\"\xff\xfe secret\"}}\n")
                    .unwrap();
                n += 1;
            }
            10 => {
                writeln!(f, "{{\"type\":\"brand-new-record\",\"uuid\":\"u-new\",\"timestamp\":\"2026-02-10T22:58:00.000Z\",\"sessionId\":\"{sid}\"}}").unwrap();
                n += 1;
            }
            _ => {}
        }
        writeln!(f, "{l}").unwrap();
        n += 1;
        let _ = i;
    }
    let cut = &good[5][..good[5].len() / 2];
    write!(f, "{cut}").unwrap();
    drop(f);
    let truncated_line = n + 1;

    // A 50 MB line (valid JSON) in another session.
    let short =
        std::fs::read_to_string(claude_fixtures().join("marot-spotter/short.jsonl")).unwrap();
    let mut f = std::fs::File::create(dir.join("huge.jsonl")).unwrap();
    let mut lines = short.lines();
    writeln!(f, "{}", lines.next().unwrap()).unwrap();
    let big = "x".repeat(50 << 20);
    writeln!(f, "{{\"type\":\"user\",\"sessionId\":\"55604662-cf2a-4331-851a-ec234028f8ca\",\"message\":{{\"content\":\"{big}\"}}}}").unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    std::fs::File::create(dir.join("empty.jsonl")).unwrap();
    std::fs::write(dir.join("other.jsonl"), "{\"a\":1}\n{\"b\":2}\n").unwrap();

    let out = env.path("out.jsonl");
    let o = env.run(
        &[
            "export",
            dir.to_str().unwrap(),
            "--json",
            "--otlp-file",
            out.to_str().unwrap(),
        ],
        1,
    );
    let summary = &json_lines(&o)[0];
    // Listed by file and line, the same way every run, whichever parser finished first.
    let paths: Vec<(String, Option<u64>)> = summary["skipped"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap().to_owned(), i["line"].as_u64()))
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let found: BTreeSet<_> = issues(summary).into_iter().collect();
    let want: BTreeSet<_> = [
        (
            "damaged.jsonl".to_owned(),
            Some(6),
            "invalid_json".to_owned(),
        ),
        (
            "damaged.jsonl".to_owned(),
            Some(8),
            "invalid_utf8".to_owned(),
        ),
        (
            "damaged.jsonl".to_owned(),
            Some(truncated_line as u64),
            "truncated_line".to_owned(),
        ),
        ("huge.jsonl".to_owned(), Some(2), "line_too_long".to_owned()),
        ("empty.jsonl".to_owned(), None, "empty_file".to_owned()),
        ("other.jsonl".to_owned(), None, "unknown_format".to_owned()),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, want);
    assert_eq!(summary["unmapped"]["unknown type brand-new-record"], 1);
    assert_eq!(summary["sessions"], 2);
    // Nothing of the bad lines' content is echoed.
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains("secret") && !text.contains("xxxxxxxx") && !text.contains("oops"),
        "{text}"
    );

    // Everything good is there: every tool call of the damaged copy.
    let spans = read_otlp_json(&out);
    let tools: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.str("session.id") == Some(sid))
        .filter_map(|s| s.str("gen_ai.tool.call.id"))
        .collect();
    let expected: BTreeSet<&str> = src
        .split("\"type\":\"tool_use\",\"id\":\"")
        .skip(1)
        .map(|r| &r[..r.find('"').unwrap()])
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(tools, expected);
    for t in by_trace(&spans).values() {
        assert_well_formed(t);
    }

    // People get the same facts, with file:line.
    let o = env.run(&["export", dir.to_str().unwrap()], 1);
    let text = stdout(&o);
    assert!(
        text.contains("damaged.jsonl:6: invalid JSON at column"),
        "{text}"
    );
    assert!(text.contains("huge.jsonl:2: line of 52428"), "{text}");
    assert!(text.contains("empty.jsonl: empty file"), "{text}");
}

#[test]
fn a_missing_path_is_reported_and_the_others_exported() {
    let env = TestEnv::new();
    let missing = env.path("nope.jsonl");
    let o = env.run(
        &[
            "export",
            missing.to_str().unwrap(),
            claude_fixtures().join("git-ai").to_str().unwrap(),
            "--json",
        ],
        1,
    );
    let s = &json_lines(&o)[0];
    assert_eq!(s["sessions"], 1);
    assert_eq!(
        issues(s),
        vec![("nope.jsonl".to_owned(), None, "unreadable".to_owned())]
    );
}

/// Parsers finish in any order; what a run writes does not depend on it: one thread or
/// several, the OTLP file has the same bytes and the stores list the same sessions.
#[test]
fn one_thread_or_several_write_the_same_bytes() {
    let env = TestEnv::new();
    let fixtures = claude_fixtures();
    let run = |jobs: &str| {
        let (file, store) = (
            env.path(&format!("j{jobs}.jsonl")),
            env.path(&format!("j{jobs}.db")),
        );
        let args = [
            "export",
            fixtures.to_str().unwrap(),
            "--json",
            "--no-notes",
            "-j",
            jobs,
            "--store",
            store.to_str().unwrap(),
            "--otlp-file",
            file.to_str().unwrap(),
        ];
        let summary = json_lines(&env.run(&args, 0))[0].clone();
        let sessions = stdout(&env.run(
            &["sessions", "--json", "--store", store.to_str().unwrap()],
            0,
        ));
        (std::fs::read(&file).unwrap(), sessions, summary)
    };
    let one = run("1");
    assert!(one.2["sessions"].as_u64().unwrap() >= 10, "{}", one.2);
    for jobs in ["2", "3"] {
        let many = run(jobs);
        assert!(
            many.0 == one.0,
            "-j {jobs} wrote other OTLP bytes than -j 1"
        );
        assert_eq!(many.1, one.1);
        assert_eq!(many.2["spans"], one.2["spans"]);
    }
}

#[test]
fn exporting_twice_changes_nothing() {
    let env = TestEnv::new();
    let (a, b) = (env.path("a.jsonl"), env.path("b.jsonl"));
    let fixtures = claude_fixtures();
    let first = env.run(
        &[
            "export",
            fixtures.to_str().unwrap(),
            "--json",
            "--otlp-file",
            a.to_str().unwrap(),
        ],
        0,
    );
    let first = &json_lines(&first)[0];
    let sessions_before = stdout(&env.run(&["sessions", "--json"], 0));
    let second = env.run(
        &[
            "export",
            fixtures.to_str().unwrap(),
            "--json",
            "--otlp-file",
            b.to_str().unwrap(),
        ],
        0,
    );
    let second = &json_lines(&second)[0];
    assert!(first["spans_new"].as_u64().unwrap() > 500);
    assert_eq!(second["spans_new"], 0);
    assert_eq!(second["spans_changed"], 0);
    assert_eq!(second["spans_removed"], 0);
    assert_eq!(second["spans_unchanged"], first["spans_new"]);
    assert_eq!(
        stdout(&env.run(&["sessions", "--json"], 0)),
        sessions_before
    );
    // Same ids, same bytes.
    let (a, b) = (
        std::fs::read_to_string(&a).unwrap(),
        std::fs::read_to_string(&b).unwrap(),
    );
    assert!(a == b, "the OTLP output of both runs is identical");
}

#[test]
fn stdout_holds_only_data_whatever_the_verbosity() {
    let env = TestEnv::new();
    let o = env.run(
        &[
            "-vv",
            "export",
            claude_fixtures().join("git-ai").to_str().unwrap(),
            "--json",
        ],
        0,
    );
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(json_lines(&o)[0]["type"], "summary");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("DEBUG") || err.contains("INFO"),
        "diagnostics went to stderr: {err}"
    );
    let mut c = env.cmd(&["sessions", "--json"]);
    c.env("RUST_LOG", "trace");
    let o = env.run_cmd(c, 0);
    assert_eq!(json_lines(&o).len(), 1);
}

#[test]
fn content_none_keeps_text_out_and_full_puts_it_in_capped() {
    let env = TestEnv::new();
    let src = claude_fixtures().join("git-ai");
    let none = env.path("none.jsonl");
    env.run(
        &[
            "export",
            src.to_str().unwrap(),
            "--otlp-file",
            none.to_str().unwrap(),
            "--content",
            "none",
        ],
        0,
    );
    let full = env.path("full.jsonl");
    env.run(
        &[
            "export",
            src.to_str().unwrap(),
            "--otlp-file",
            full.to_str().unwrap(),
            "--content",
            "full",
            "--max-attribute-bytes",
            "200",
        ],
        0,
    );
    let prompt = "Make the colors green and yellow";
    let none_bytes = std::fs::read_to_string(&none).unwrap();
    let full_bytes = std::fs::read_to_string(&full).unwrap();
    assert!(!none_bytes.contains(prompt));
    assert!(full_bytes.contains(prompt));
    let none_spans = read_otlp_json(&none);
    let full_spans = read_otlp_json(&full);
    for s in &none_spans {
        for k in [
            "sessiontrail.turn.prompt",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
            "process.command_line",
            "url.full",
            "gen_ai.output.messages",
        ] {
            assert!(!s.attrs.contains_key(k), "{k} at level none");
        }
    }
    let turn = full_spans.iter().find(|s| s.name == "turn 1").unwrap();
    assert_eq!(turn.str("sessiontrail.turn.prompt"), Some(prompt));
    let args: Vec<&str> = full_spans
        .iter()
        .filter_map(|s| s.str("gen_ai.tool.call.arguments"))
        .collect();
    assert!(!args.is_empty());
    for s in &full_spans {
        for (k, v) in &s.attrs {
            if let Some(v) = v.as_str() {
                let body = v.split("...[truncated ").next().unwrap();
                assert!(
                    body.len() <= 200
                        || k == "gen_ai.output.messages"
                        || k == "sessiontrail.source.files",
                    "{k} is {} bytes",
                    body.len()
                );
            }
        }
    }
    assert!(full_spans.iter().any(|s| {
        s.attrs
            .values()
            .any(|v| v.as_str().is_some_and(|v| v.contains("...[truncated ")))
    }));
    // Hashes are the same at both levels: the same sighting can be matched.
    let hash = |spans: &[JSpan]| {
        spans
            .iter()
            .find(|s| s.name == "turn 1")
            .unwrap()
            .str("sessiontrail.turn.prompt.sha256")
            .unwrap()
            .to_owned()
    };
    assert_eq!(hash(&none_spans), hash(&full_spans));
}

#[test]
fn default_folder_is_claude_projects_or_claude_config_dir() {
    let env = TestEnv::new();
    let projects = env.path("home/.claude/projects/-home-ana-proj");
    std::fs::create_dir_all(&projects).unwrap();
    std::fs::copy(
        claude_fixtures().join("marot-spotter/short.jsonl"),
        projects.join("55604662-cf2a-4331-851a-ec234028f8ca.jsonl"),
    )
    .unwrap();
    let o = env.run(&["export", "--json"], 0);
    assert_eq!(json_lines(&o)[0]["sessions"], 1);

    let mut c = env.cmd(&["export", "--json"]);
    c.env("CLAUDE_CONFIG_DIR", env.path("elsewhere"));
    let o = env.run_cmd(c, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no Claude Code sessions at") && err.contains("elsewhere/projects"),
        "{err}"
    );
}

#[test]
fn bad_settings_stop_before_any_work() {
    let env = TestEnv::new();
    let mut c = env.cmd(&[
        "export",
        claude_fixtures().to_str().unwrap(),
        "--endpoint",
        "http://127.0.0.1:9",
    ]);
    c.env("OTEL_EXPORTER_OTLP_PROTOCOL", "smoke-signals");
    let o = env.run_cmd(c, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && err.contains("smoke-signals"),
        "{err}"
    );
    assert!(!env.store.exists(), "nothing was written");
    let o = env.run(
        &[
            "export",
            "--endpoint",
            "not a url",
            claude_fixtures().to_str().unwrap(),
        ],
        2,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--endpoint"));
}

#[test]
fn sessions_and_show() {
    let env = TestEnv::new();
    let o = env.run(&["sessions"], 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no store at"),
        "reading does not create a store"
    );
    assert!(!env.store.exists());
    env.run(&["export", claude_fixtures().to_str().unwrap()], 0);
    let rows = json_lines(&env.run(&["sessions", "--json"], 0));
    assert_eq!(rows.len(), 12);
    let spotter = rows
        .iter()
        .find(|r| r["session_id"] == "4d5611e5-241a-462a-8d15-5122611a9569")
        .unwrap();
    assert_eq!(spotter["agent"], "claude-code");
    assert_eq!(spotter["turns"], 5);
    assert_eq!(spotter["tool_calls"], 183);
    assert_eq!(spotter["model_calls"], 152);
    assert_eq!(
        spotter["project"],
        "/home/USER/projects/spotter-worktrees/spotter-dov"
    );
    assert_eq!(spotter["start"], "2026-02-12T16:02:23.545Z");
    let table = stdout(&env.run(&["sessions"], 0));
    assert_eq!(table.lines().count(), 13);
    assert!(table.lines().next().unwrap().starts_with("AGENT"));

    let tree = stdout(&env.run(&["show", "4d5611e5"], 0));
    assert!(
        tree.starts_with("session 4d5611e5-241a-462a-8d15-5122611a9569 (claude-code)"),
        "{tree}"
    );
    assert!(tree.contains("tool calls, "), "{tree}");
    assert!(
        tree.lines()
            .nth(2)
            .unwrap()
            .starts_with("each span: +when it started"),
        "the time columns are explained: {tree}"
    );
    let task = tree
        .lines()
        .position(|l| l.contains("execute_tool Task"))
        .expect("the Task call");
    assert!(
        tree.lines()
            .nth(task + 1)
            .unwrap()
            .contains("└─ invoke_agent Explore"),
        "{tree}"
    );
    let spans = json_lines(&env.run(&["show", "4d5611e5", "--json"], 0));
    assert_eq!(spans.len() as u64, spotter["spans"].as_u64().unwrap());
    assert_eq!(spans[0]["depth"], 0);
    assert_eq!(spans[0]["name"], "invoke_agent claude-code");
    // By trace id prefix too.
    let trace = spotter["trace_id"].as_str().unwrap();
    assert!(stdout(&env.run(&["show", &trace[..10]], 0)).contains("4d5611e5"));

    let o = env.run(&["show", "zzz"], 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no stored session matches 'zzz'"));
}

/// The README's first command, on the sessions shipped in the repository.
#[test]
fn the_readme_demo_runs_on_the_shipped_sessions() {
    let env = TestEnv::new();
    let o = env.run(
        &[
            "export",
            repo_fixtures().join("claude").to_str().unwrap(),
            "--json",
        ],
        0,
    );
    assert_eq!(json_lines(&o)[0]["sessions"], 2);
    let tree = stdout(&env.run(&["show", "491e"], 0));
    assert!(
        tree.contains("execute_tool Task") && tree.contains("invoke_agent Plan"),
        "{tree}"
    );
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .unwrap();
    assert!(readme.contains("export tests/fixtures/claude") && readme.contains("show 491e"));
}

/// `n` copies of a real session, each under its own session id, in `dir`.
fn copies_of_a_session(dir: &std::path::Path, n: usize) {
    let src = claude_fixtures().join("marot-spotter/tool_heavy.jsonl");
    let text = std::fs::read_to_string(src).unwrap();
    let sid = "d6e0bada-1959-4eec-a9d2-0bfade768d8f";
    assert!(text.contains(sid));
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let id = format!("d6e0bada-1959-4eec-a9d2-{i:012}");
        std::fs::write(dir.join(format!("{id}.jsonl")), text.replace(sid, &id)).unwrap();
    }
}

/// A store that refuses writes in the middle of an export (its files may not grow, as on
/// a full disk) ends the run at once: exit 2, the store named, the cause said once, and
/// what the store held before still there. It used to hang forever, parsers blocked on a
/// writer that had given up.
#[test]
fn a_store_that_cannot_be_written_ends_the_export_at_once() {
    let env = TestEnv::new();
    let short = claude_fixtures().join("marot-spotter/short.jsonl");
    env.run(&["export", short.to_str().unwrap(), "--no-notes"], 0);
    let many = env.path("many");
    copies_of_a_session(&many, 40);
    // Files may grow to 32 KB: the store opens, and its first transaction cannot be written.
    let out = env.run_with_file_limit(&["export", many.to_str().unwrap(), "-j", "2"], 64);
    let status = out.status;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot write to the store {}",
            env.store.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.matches("disk I/O error").count(), 1, "{stderr}");
    let sessions = stdout(&env.run(&["sessions"], 0));
    assert!(sessions.contains("55604662-cf2a"), "{sessions}");
    assert!(!sessions.contains("d6e0bada"), "{sessions}");
}

/// Records of newer Claude Code releases (2.1.22x) that sessiontrail does not map, some
/// without a timestamp and before any record that has one, are counted and skipped: the file
/// exports with exit 0. A `pr-link` (the pull request the session opened, written again on
/// each resume) is kept once on the root; `agent-name` names a session that has no title.
#[test]
fn records_of_newer_agent_versions_are_counted_and_a_pull_request_is_kept() {
    let env = TestEnv::new();
    let sid = "7d1f0000-0000-4000-8000-0000000000aa";
    let pr = "https://github.com/acme/shop/pull/42";
    let timed = |t: &str, uuid: &str, second: u32, extra: serde_json::Value| {
        let mut v = serde_json::json!({
            "type": t, "uuid": uuid, "sessionId": sid, "cwd": "/home/ana/shop",
            "version": "2.1.225", "timestamp": format!("2026-09-01T10:00:{second:02}.000Z"),
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v.to_string()
    };
    let lines = [
        serde_json::json!({"type": "bridge-session", "sessionId": sid, "bridgeId": "b1"}).to_string(),
        serde_json::json!({"type": "agent-name", "agentName": "shop-fixer", "sessionId": sid}).to_string(),
        serde_json::json!({"type": "file-history-delta", "messageId": "u1", "delta": {}}).to_string(),
        serde_json::json!({"type": "teleported-from", "remoteSessionId": "r1", "branch": "main"}).to_string(),
        timed("user", "u1", 1, serde_json::json!({"message": {"role": "user", "content": "open a PR"}})),
        serde_json::json!({"type": "pr-link", "sessionId": sid, "prNumber": 42, "prUrl": pr, "prRepository": "acme/shop", "timestamp": "2026-09-01T10:00:05.000Z"}).to_string(),
        timed("assistant", "a1", 6, serde_json::json!({"requestId": "r1", "message": {"model": "m", "id": "m1", "role": "assistant", "content": [{"type": "text", "text": "done"}]}})),
        serde_json::json!({"type": "pr-link", "sessionId": sid, "prNumber": 42, "prUrl": pr, "prRepository": "acme/shop", "timestamp": "2026-09-01T11:00:00.000Z"}).to_string(),
        serde_json::json!({"type": "pr-link", "sessionId": sid, "prNumber": 7, "prRepository": "acme/docs"}).to_string(),
    ];
    let dir = env.path("s");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{sid}.jsonl")), lines.join("\n") + "\n").unwrap();
    let out = env.path("out.jsonl");
    let o = env.run(
        &[
            "export",
            dir.to_str().unwrap(),
            "--json",
            "--otlp-file",
            out.to_str().unwrap(),
        ],
        0,
    );
    let summary = &json_lines(&o)[0];
    assert_eq!(summary["skipped"]["lines"], 0, "{summary}");
    assert_eq!(summary["lines"], 9);
    assert_eq!(summary["unmapped"]["bridge-session"], 1, "{summary}");
    assert_eq!(summary["unmapped"]["file-history-delta"], 1, "{summary}");
    assert_eq!(
        summary["unmapped"]["unknown type teleported-from"], 1,
        "{summary}"
    );
    assert_eq!(summary["events"]["pr-link"], 3, "{summary}");
    let spans = read_otlp_json(&out);
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(
        root.attrs["sessiontrail.pull_requests"],
        serde_json::json!([pr, "acme/docs#7"])
    );
    assert_eq!(root.str("sessiontrail.session.title"), Some("shop-fixer"));
}

/// Another process holding the store's write lock: export waits for it (a bounded time),
/// then stops with exit 2 and says which process holds it.
#[test]
fn a_store_locked_by_another_process_is_waited_for_then_named() {
    let env = TestEnv::new();
    let short = claude_fixtures().join("marot-spotter/short.jsonl");
    env.run(&["export", short.to_str().unwrap(), "--no-notes"], 0);
    let holder = rusqlite::Connection::open(&env.store).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let many = env.path("many");
    copies_of_a_session(&many, 3);
    let started = std::time::Instant::now();
    let o = env.run(&["export", many.to_str().unwrap(), "--no-notes"], 2);
    let waited = started.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(waited >= std::time::Duration::from_secs(9), "{waited:?}");
    let me = std::process::id();
    assert!(
        stderr.contains(&format!(
            "the store {} is locked: process {me} (",
            env.store.display()
        )) && stderr.contains("has held it for more than 10 s"),
        "{stderr}"
    );
    let store = env.store.display().to_string();
    assert_eq!(stderr.matches(store.as_str()).count(), 1, "{stderr}");
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    env.run(&["export", many.to_str().unwrap(), "--no-notes"], 0);
}

/// Three exports creating the same new store at once all succeed.
#[test]
fn exports_creating_one_store_at_once_all_succeed() {
    let short = claude_fixtures().join("marot-spotter/short.jsonl");
    for _ in 0..8 {
        let env = TestEnv::new();
        let children: Vec<_> = (0..3)
            .map(|_| {
                env.cmd(&["export", short.to_str().unwrap(), "--no-notes"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
}

/// Waits for `c` at most a minute.
fn output_within_a_minute(mut c: std::process::Command) -> std::process::Output {
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{c:?} still running after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A FIFO in a scanned folder is skipped and named (opening it would wait for a writer
/// forever); a FIFO named on the command line is read as a stream, and named as given.
#[test]
fn fifos_are_skipped_in_folders_and_read_when_named() {
    let env = TestEnv::new();
    let dir = env.path("projects/p");
    std::fs::create_dir_all(&dir).unwrap();
    let short = claude_fixtures().join("marot-spotter/short.jsonl");
    std::fs::copy(&short, dir.join("short.jsonl")).unwrap();
    let fifo = dir.join("pipe.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let o = output_within_a_minute(env.cmd(&["export", dir.to_str().unwrap(), "--json"]));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = &json_lines(&o)[0];
    assert_eq!(summary["sessions"], 1);
    let issues = issues(summary);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0], ("pipe.jsonl".into(), None, "unreadable".into()));
    let message = summary["skipped"]["issues"][0]["message"].as_str().unwrap();
    assert!(message.contains("not a regular file"), "{message}");

    let other = TestEnv::new();
    let writer = {
        let (fifo, short) = (fifo.clone(), short.clone());
        std::thread::spawn(move || {
            let text = std::fs::read(short).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .unwrap()
                .write_all(&text)
                .unwrap();
        })
    };
    let out = other.path("out.jsonl");
    let o = output_within_a_minute(other.cmd(&[
        "export",
        fifo.to_str().unwrap(),
        "--json",
        "--otlp-file",
        out.to_str().unwrap(),
    ]));
    writer.join().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary = &json_lines(&o)[0];
    assert_eq!(summary["sessions"], 1);
    assert!(summary["lines"].as_u64().unwrap() > 5);
    let spans = read_otlp_json(&out);
    let root = spans.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(
        root.attrs["sessiontrail.source.files"],
        serde_json::json!([fifo.display().to_string()])
    );
}

/// `--otlp-file -` writes the OTLP lines to stdout (the summary goes to stderr), a sink that
/// cannot be synced (`/dev/null`) is no error, and a setting the transport refuses stops the
/// run before the store is touched.
#[test]
fn every_sink_is_checked_before_the_store_is_written() {
    let env = TestEnv::new();
    let short = claude_fixtures().join("marot-spotter/short.jsonl");
    let s = short.to_str().unwrap();
    let o = env.run(&["export", s, "--no-notes", "--otlp-file", "-"], 0);
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0]["resourceSpans"].is_array(),
        "stdout holds only OTLP: {lines:?}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("exported 1 session (5 spans: 5 new)")
            && err.contains("to standard output in 1 line"),
        "{err}"
    );
    assert!(!env.path("-").exists());
    let o = env.run(&["export", s, "--no-notes", "--otlp-file", "/dev/null"], 0);
    assert!(
        stdout(&o).contains("wrote 5 spans to /dev/null"),
        "{}",
        stdout(&o)
    );

    let fresh = TestEnv::new();
    let o = fresh.run(
        &[
            "export",
            s,
            "--no-notes",
            "--endpoint",
            "http://127.0.0.1:9",
            "--header",
            "x-bad=a\u{1}b",
        ],
        2,
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("header 'x-bad'"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !fresh.store.exists(),
        "the store was written before the header was refused"
    );
}

/// The store records, with each session's spans, how far each of its files was read: a
/// reader that stops resumes there.
#[test]
fn export_records_how_far_each_file_was_read() {
    let env = TestEnv::new();
    let dir = claude_fixtures().join("marot-spotter");
    let o = env.run(
        &["export", dir.to_str().unwrap(), "--json", "--no-notes"],
        0,
    );
    let summary = &json_lines(&o)[0];
    let conn = rusqlite::Connection::open(&env.store).unwrap();
    let mut st = conn
        .prepare("SELECT path, offset, line FROM checkpoints ORDER BY path")
        .unwrap();
    let marks: Vec<(String, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(marks.len() >= 5, "{marks:?}");
    let mut lines = 0;
    for (path, offset, line) in &marks {
        let text = std::fs::read(path).unwrap();
        assert_eq!(*offset as usize, text.len(), "{path}");
        assert_eq!(
            *line as usize,
            text.split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
            "{path}"
        );
        lines += line;
    }
    assert_eq!(summary["lines"].as_i64().unwrap(), lines);
}

/// `tests/fixtures/store/schema4.db` was written by the release before checkpoints (schema
/// 4: `sessiontrail export tests/fixtures/claude` at 514f8e7), with what that release's
/// `sessions --json` and `show d6e0bada --json` printed. Opened now, it is migrated, answers
/// the same, and takes new exports.
#[test]
fn a_store_of_the_previous_release_is_migrated_and_answers_as_it_did() {
    let env = TestEnv::new();
    let fixtures = repo_fixtures().join("store");
    std::fs::create_dir_all(env.store.parent().unwrap()).unwrap();
    std::fs::copy(fixtures.join("schema4.db"), &env.store).unwrap();
    let version = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&env.store), 4);
    let sessions = env.run(&["sessions", "--json"], 0);
    assert_eq!(
        stdout(&sessions),
        std::fs::read_to_string(fixtures.join("schema4.sessions.json")).unwrap()
    );
    // Migrated to the current schema (9: the outbox's times, set-aside spans, drops,
    // delivery status, HEAD read live, and the hooks' facts) on open.
    assert_eq!(version(&env.store), 9, "migrated on open");
    let show = env.run(&["show", "d6e0bada", "--json"], 0);
    assert_eq!(
        stdout(&show),
        std::fs::read_to_string(fixtures.join("schema4.show-d6e0bada.json")).unwrap()
    );
    // A new export of the same sessions: nothing lost, and now their files' checkpoints.
    let fx = repo_fixtures().join("claude");
    let out = env.run(&["export", fx.to_str().unwrap(), "--json"], 0);
    let summary = json_lines(&out).pop().unwrap();
    assert_eq!(summary["sessions"], 2, "{summary}");
    assert_eq!(json_lines(&env.run(&["sessions", "--json"], 0)).len(), 2);
    let marks: i64 = rusqlite::Connection::open(&env.store)
        .unwrap()
        .query_row("SELECT count(*) FROM checkpoints", [], |r| r.get(0))
        .unwrap();
    assert_eq!(marks, 2);
}
