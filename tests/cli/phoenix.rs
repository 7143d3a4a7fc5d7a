//! A real OTLP backend: Arize Phoenix, started by `.ci/run` (OTEL.md 4.2). Every span of
//! every real session must arrive, over gRPC and over HTTP, with its parent and its
//! historical times, and be found by the backend's own query API.
//!
//! Ignored by a plain `cargo test`; run with `--ignored` once `SESSIONTRAIL_TEST_PHOENIX`
//! (its HTTP base URL) and `SESSIONTRAIL_TEST_PHOENIX_GRPC` are set, as `.ci/run` does.
//! Asked to run without them, they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

struct Phoenix {
    http: String,
    grpc: String,
}

/// The Phoenix the tests ship to. They are `#[ignore]`d so that a run without one says
/// so (`ignored`) instead of passing; `.ci/run` starts Phoenix and runs them with `--ignored`.
fn phoenix() -> Phoenix {
    match (
        std::env::var("SESSIONTRAIL_TEST_PHOENIX"),
        std::env::var("SESSIONTRAIL_TEST_PHOENIX_GRPC"),
    ) {
        (Ok(http), Ok(grpc)) => Phoenix {
            http: http.trim_end_matches('/').to_owned(),
            grpc,
        },
        _ => panic!(
            "the Phoenix tests need SESSIONTRAIL_TEST_PHOENIX (its HTTP address) and SESSIONTRAIL_TEST_PHOENIX_GRPC (its OTLP gRPC address); .ci/run starts Phoenix and sets both"
        ),
    }
}

fn get_json(url: &str) -> Value {
    try_get_json(url).unwrap_or_else(|| panic!("GET {url}: not found"))
}

/// `None` on 404 (a project Phoenix has not created yet).
fn try_get_json(url: &str) -> Option<Value> {
    let (code, body) = http_get(url).unwrap_or_else(|| panic!("GET {url}: no answer"));
    match code {
        200 => {
            Some(serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}")))
        }
        404 => None,
        _ => panic!("GET {url}: HTTP {code}: {body}"),
    }
}

/// Every span of a Phoenix project, following the cursor.
fn project_spans(base: &str, project: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut url = format!("{base}/v1/projects/{project}/spans?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let Some(page) = try_get_json(&url) else {
            return out;
        };
        out.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("more than 100 pages");
}

fn micros(ns: u64) -> i64 {
    (ns / 1000) as i64
}

fn iso_micros(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp_micros()
}

/// Copies `src` with every session id in `ids` replaced by a fresh one, in file contents and
/// names, so that a pass sends traces Phoenix has never seen: Phoenix files a span under the
/// trace it already holds, in that trace's project, whatever project it is sent for.
fn fresh_sessions(src: &Path, dst: &Path, ids: &[String], salt: u64) -> BTreeMap<String, String> {
    let map: BTreeMap<String, String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let n = (salt + i as u64) % 1_000_000_000_000;
            let new = match id.len() == 36 && id.as_bytes()[23] == b'-' {
                true => format!("{}{n:012}", &id[..24]),
                false => format!("{id}-{n}"),
            };
            (id.clone(), new)
        })
        .collect();
    let rename = |s: &str| map.iter().fold(s.to_owned(), |s, (a, b)| s.replace(a, b));
    fn walk(src: &Path, dst: &Path, rename: &dyn Fn(&str) -> String) {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let to = dst.join(rename(&e.file_name().to_string_lossy()));
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &to, rename);
            } else {
                let text = std::fs::read_to_string(e.path()).unwrap();
                std::fs::write(to, rename(&text)).unwrap();
            }
        }
    }
    walk(src, dst, &rename);
    map
}

/// Runs `args` with the traces sent to the Phoenix project `project`.
fn export_to_project(env: &TestEnv, project: &str, args: &[&str]) -> std::process::Output {
    let mut c = env.cmd(args);
    c.env(
        "OTEL_RESOURCE_ATTRIBUTES",
        format!("openinference.project.name={project}"),
    );
    env.run_cmd(c, 0)
}

/// Exports the real fixtures to a new project over `protocol` and checks Phoenix holds every
/// span as sent; returns the project.
fn check(env: &TestEnv, base: &str, endpoint: &str, protocol: &str, ids: &[String]) {
    let stamp = chrono::Utc::now().timestamp_millis() as u64;
    let project = format!(
        "sessiontrail-{}-{}-{stamp}",
        protocol.replace('/', "-"),
        std::process::id(),
    );
    let fixtures = env.path("fixtures");
    let map = fresh_sessions(&claude_fixtures(), &fixtures, ids, stamp);
    let file = env.path(&format!("{project}.jsonl"));
    let o = export_to_project(
        env,
        &project,
        &[
            "export",
            fixtures.to_str().unwrap(),
            "--endpoint",
            endpoint,
            "--protocol",
            protocol,
            "--json",
            "--otlp-file",
            file.to_str().unwrap(),
        ],
    );
    let s = &json_lines(&o)[0];
    let expected = read_otlp_json(&file);
    assert_eq!(by_trace(&expected).len(), 12);
    assert_eq!(s["otlp"]["spans"].as_u64().unwrap(), expected.len() as u64);

    // Phoenix ingests asynchronously: wait, bounded, for every span.
    let deadline = Instant::now() + Duration::from_secs(90);
    let got = loop {
        let got = project_spans(base, &project);
        if got.len() >= expected.len() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let got: BTreeMap<String, &Value> = got
        .iter()
        .map(|v| (v["context"]["span_id"].as_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "Phoenix holds every span of project {project}"
    );
    for e in &expected {
        let g = got
            .get(&e.span_id)
            .unwrap_or_else(|| panic!("span {} ({}) is in Phoenix", e.span_id, e.name));
        assert_eq!(g["context"]["trace_id"].as_str(), Some(e.trace_id.as_str()));
        assert_eq!(g["name"].as_str(), Some(e.name.as_str()));
        assert_eq!(
            g["parent_id"].as_str(),
            e.parent.as_deref(),
            "parent of {}",
            e.name
        );
        assert_eq!(
            iso_micros(g["start_time"].as_str().unwrap()),
            micros(e.start),
            "start of {}",
            e.name
        );
        assert_eq!(
            iso_micros(g["end_time"].as_str().unwrap()),
            micros(e.end),
            "end of {}",
            e.name
        );
        assert_eq!(
            g["status_code"].as_str(),
            Some(if e.status_code == 2 { "ERROR" } else { "UNSET" })
        );
        if let Some(id) = e.str("gen_ai.tool.call.id") {
            assert_eq!(g["attributes"]["gen_ai.tool.call.id"].as_str(), Some(id));
        }
    }
    // Phoenix reads the GenAI operations.
    let kinds: BTreeMap<&str, usize> =
        got.values()
            .filter_map(|g| g["span_kind"].as_str())
            .fold(BTreeMap::new(), |mut m, k| {
                *m.entry(k).or_default() += 1;
                m
            });
    assert!(
        kinds.contains_key("LLM") && kinds.contains_key("TOOL") && kinds.contains_key("AGENT"),
        "{kinds:?}"
    );

    // Its query API finds a session's tool calls by attribute.
    let sid = &map["4d5611e5-241a-462a-8d15-5122611a9569"];
    let by_attr = get_json(&format!(
        "{base}/v1/projects/{project}/spans?limit=1000&attribute=session.id:{sid}&attribute=gen_ai.operation.name:execute_tool"
    ));
    let n = expected
        .iter()
        .filter(|s| {
            s.str("session.id") == Some(sid.as_str()) && s.name.starts_with("execute_tool ")
        })
        .count();
    assert_eq!(by_attr["data"].as_array().unwrap().len(), n);

    // Sending again changes nothing there either.
    let o = env.run(
        &[
            "export",
            fixtures.to_str().unwrap(),
            "--endpoint",
            endpoint,
            "--protocol",
            protocol,
            "--json",
            "--resend",
        ],
        0,
    );
    assert_eq!(
        json_lines(&o)[0]["otlp"]["spans"].as_u64().unwrap(),
        expected.len() as u64
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(project_spans(base, &project).len(), expected.len());
}

/// One test, so that the protocols take turns on the one Phoenix.
#[test]
#[ignore = "needs a running Phoenix (.ci/run starts one)"]
fn every_span_reaches_phoenix_over_grpc_and_over_http() {
    let p = phoenix();
    let env = TestEnv::new();
    let all = env.path("all.jsonl");
    env.run(
        &[
            "export",
            claude_fixtures().to_str().unwrap(),
            "--otlp-file",
            all.to_str().unwrap(),
        ],
        0,
    );
    let ids: BTreeSet<String> = read_otlp_json(&all)
        .iter()
        .filter_map(|s| s.str("session.id").map(str::to_owned))
        .collect();
    let ids: Vec<String> = ids.into_iter().collect();
    for (endpoint, protocol) in [(&p.grpc, "grpc"), (&p.http, "http/protobuf")] {
        check(&TestEnv::new(), &p.http, endpoint, protocol, &ids);
    }
}

/// Phoenix answers `query --commit` through its REST API: a machine with neither the store
/// nor the notes finds the session that wrote the commit, by `vcs.ref.head.revision`.
#[test]
#[ignore = "needs a running Phoenix (.ci/run starts one)"]
fn phoenix_answers_which_session_wrote_a_commit() {
    let p = phoenix();
    let env = TestEnv::new();
    let stamp = chrono::Utc::now().timestamp_millis();
    let sid = format!("1a000000-0000-4000-8000-{:012}", stamp % 1_000_000_000_000);
    let (repo, t, sha) = crate::lookup::agent_commit(&env, &sid);
    let project = format!("sessiontrail-commit-{}-{stamp}", std::process::id());
    export_to_project(
        &env,
        &project,
        &[
            "export",
            t.to_str().unwrap(),
            "--endpoint",
            &p.http,
            "--no-notes",
        ],
    );
    let elsewhere = TestEnv::new();
    let ask = || {
        json_lines(&elsewhere.run(
            &[
                "query",
                "--commit",
                &sha,
                "--repo",
                repo.to_str().unwrap(),
                "--backend",
                &format!("phoenix={}", p.http),
                "--backend-project",
                &project,
                "--json",
            ],
            0,
        ))
    };
    // Phoenix ingests asynchronously: ask again, bounded, until the commit span is in.
    let deadline = Instant::now() + Duration::from_secs(60);
    let lines = loop {
        let lines = ask();
        if lines.iter().any(|l| l["link_method"] == "agent_ran_commit") || Instant::now() > deadline
        {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["session_id"], sid.as_str());
    assert_eq!(lines[0]["link_method"], "agent_ran_commit");
    assert_eq!(lines[0]["source"], "phoenix");
    let trace = lines[0]["trace_id"].as_str().unwrap();
    assert!(lines[0]["trace_url"].as_str().unwrap().contains(trace));
    // The same trace as the local export's.
    let mine = json_lines(&env.run(&["show", &sid, "--json"], 0));
    assert_eq!(mine[0]["trace_id"], trace);
}

/// A commit made after the session was shipped still reaches the backend: the hook links it,
/// and the next export sends its `git commit` span into the same trace.
#[test]
#[ignore = "needs a running Phoenix (.ci/run starts one)"]
fn a_commit_after_the_session_was_shipped_reaches_phoenix() {
    let p = phoenix();
    let env = TestEnv::new();
    let stamp = chrono::Utc::now().timestamp_millis();
    let sid = format!("1b000000-0000-4000-8000-{:012}", stamp % 1_000_000_000_000);
    let (repo, t, _) = crate::lookup::agent_commit(&env, &sid);
    let project = format!("sessiontrail-late-{}-{stamp}", std::process::id());
    let export = || {
        export_to_project(
            &env,
            &project,
            &[
                "export",
                t.to_str().unwrap(),
                "--endpoint",
                &p.http,
                "--json",
            ],
        )
    };
    export();
    env.run(&["git", "install", "--repo", repo.to_str().unwrap()], 0);
    std::fs::write(repo.join("late.txt"), "late\n").unwrap();
    let date = "2026-03-01T10:20:00Z";
    crate::git::git(&repo, &["add", "late.txt"], date);
    crate::git::git_hooked(&env, &repo, &["commit", "-q", "-m", "late"], date);
    let late = crate::git::git(&repo, &["rev-parse", "HEAD"], date);
    let s = &json_lines(&export())[0];
    assert!(s["otlp"]["spans"].as_u64().unwrap() >= 1, "{s}");
    let name = format!("git commit {}", &late[..7]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let spans = project_spans(&p.http, &project);
        if let Some(c) = spans.iter().find(|s| s["name"] == name.as_str()) {
            assert_eq!(c["attributes"]["sessiontrail.link.method"], "hook");
            let root = spans.iter().find(|s| s["parent_id"].is_null()).unwrap();
            assert_eq!(c["context"]["trace_id"], root["context"]["trace_id"]);
            assert_eq!(c["parent_id"], root["context"]["span_id"]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no '{name}' span in Phoenix: {spans:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `watch` with Phoenix as its backend: a real transcript written line by line into the
/// agent's folder is in Phoenix while it is written (its final spans ship as they become
/// final), and once the `SessionEnd` hook finishes it Phoenix holds every span the store does.
#[test]
#[ignore = "needs Phoenix: run with --ignored after setting SESSIONTRAIL_TEST_PHOENIX (.ci/run does)"]
fn phoenix_receives_a_session_while_it_is_written() {
    use crate::watch::{Watch, append, projects, session_end, spans, transcript};
    let px = phoenix();
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let stamp = chrono::Utc::now().timestamp_millis() as u64;
    let project = format!("sessiontrail-live-{}-{stamp}", std::process::id());
    let old = "491e126e-1e71-469c-ade2-fcc8af567c74";
    let session = format!("{}{:012}", &old[..24], stamp % 1_000_000_000_000);
    let lines: Vec<String> = transcript()
        .iter()
        .map(|l| l.replace(old, &session))
        .collect();
    let mut c = env.cmd(&[
        "watch",
        "--json",
        "--poll-ms",
        "100",
        dir.to_str().unwrap(),
        "--idle-timeout",
        "1h",
        "--endpoint",
        &px.grpc,
        "--protocol",
        "grpc",
    ]);
    c.env(
        "OTEL_RESOURCE_ATTRIBUTES",
        format!("openinference.project.name={project}"),
    );
    let w = Watch::spawn(c);
    let half = lines.len() / 2;
    for l in &lines[..half] {
        append(&file, std::slice::from_ref(l));
        std::thread::sleep(Duration::from_millis(20));
    }
    // Half written, the session open: its final spans are in Phoenix already.
    let deadline = Instant::now() + Duration::from_secs(60);
    let early = loop {
        let got = project_spans(&px.http, &project);
        if !got.is_empty() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        !early.is_empty(),
        "nothing in Phoenix while the session is written"
    );
    let root = early.iter().any(|v| v["parent_id"].is_null());
    assert!(!root, "the root waits for the session's end");
    for l in &lines[half..] {
        append(&file, std::slice::from_ref(l));
        std::thread::sleep(Duration::from_millis(20));
    }
    session_end(&env, &session, &file);
    w.wait_for("finished", Duration::from_secs(10));
    let want: BTreeSet<String> = spans(&env.store)
        .into_iter()
        .map(|s| hex_of(&s.0))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: BTreeSet<String> = project_spans(&px.http, &project)
            .iter()
            .map(|v| v["context"]["span_id"].as_str().unwrap().to_owned())
            .collect();
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Phoenix holds {} of the {} spans",
            got.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
