//! `query --commit --backend`: the backend's own query API answers too. Jaeger and Tempo
//! cannot run here, so they are played by a server answering in their documented shapes;
//! Phoenix is real (`phoenix.rs`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::git::{Transcript, git};
use crate::util::*;

/// A repository where an agent session committed `a.txt` at 10:00:10: returns the folder,
/// the transcripts' folder and the full SHA.
pub fn agent_commit(env: &TestEnv, sid: &str) -> (PathBuf, PathBuf, String) {
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    git(&repo, &["init", "-q", "-b", "main"], &at("08:00:00"));
    std::fs::write(repo.join("a.txt"), "agent\n").unwrap();
    git(&repo, &["add", "a.txt"], &at("10:00:10"));
    git(
        &repo,
        &["commit", "-q", "-m", "agent work"],
        &at("10:00:10"),
    );
    let sha = git(&repo, &["rev-parse", "HEAD"], &at("10:00:10"));
    let mut s = Transcript::new(sid, &repo, Some("main"));
    s.prompt("u1", "10:00:00", "commit it");
    s.call(
        "c1",
        "10:00:09",
        "Bash",
        json!({"command": "git add a.txt && git commit -m 'agent work'"}),
        &format!("[main {}] agent work\n 1 file changed", &sha[..7]),
    );
    let t = env.path("t");
    s.write_to(&t);
    (repo, t, sha)
}

/// Answers every GET with `body` (and `status`), recording the request targets; stops after
/// `max` requests or 30 s.
fn serve_json(status: u16, body: String, max: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = seen.clone();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while served < max && Instant::now() < deadline {
            let Ok((s, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut r = BufReader::new(s);
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            rec.lock()
                .unwrap()
                .push(first.split(' ').nth(1).unwrap_or("").to_owned());
            let mut s = r.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            served += 1;
        }
    });
    (addr, seen)
}

fn query(
    env: &TestEnv,
    repo: &Path,
    sha: &str,
    backend: &str,
    expect: i32,
) -> (Vec<Value>, String) {
    let o = env.run(
        &[
            "query",
            "--commit",
            sha,
            "--repo",
            repo.to_str().unwrap(),
            "--backend",
            backend,
            "--json",
        ],
        expect,
    );
    (
        json_lines(&o),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn decoded(target: &str) -> Vec<(String, String)> {
    url::Url::parse(&format!("http://x{target}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Jaeger's HTTP JSON API, asked per agent service with the revision tag, gives the session
/// even when this machine's store and notes know nothing of it.
#[test]
fn jaeger_answers_which_session_wrote_a_commit() {
    let env = TestEnv::new();
    let (repo, _, sha) = agent_commit(&env, "1a000000-0000-4000-8000-000000000001");
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let body = json!({
        "data": [{"traceID": trace, "processes": {"p1": {"serviceName": "claude-code", "tags": []}}, "warnings": null,
            "spans": [{"traceID": trace, "spanID": "b7ad6b7169203331", "operationName": format!("git commit {}", &sha[..7]), "references": [],
                "startTime": 1772359210000000i64, "duration": 0, "processID": "p1", "logs": [],
                "tags": [{"key": "vcs.ref.head.revision", "type": "string", "value": sha}, {"key": "sessiontrail.link.method", "type": "string", "value": "agent_ran_commit"}, {"key": "session.id", "type": "string", "value": "jaeger-session"}]}]}],
        "total": 0, "limit": 0, "offset": 0, "errors": null
    });
    let (url, seen) = serve_json(200, body.to_string(), 5);
    let (lines, _) = query(&env, &repo, "HEAD", &format!("jaeger={url}"), 0);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["session_id"], "jaeger-session");
    assert_eq!(lines[0]["agent"], "claude-code");
    assert_eq!(lines[0]["link_method"], "agent_ran_commit");
    assert_eq!(lines[0]["source"], "jaeger");
    assert_eq!(lines[0]["trace_url"], format!("{url}/trace/{trace}"));
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.starts_with("/api/traces?"), "{req}");
    let q = decoded(&req);
    assert!(
        q.contains(&("service".into(), "claude-code".into())),
        "{q:?}"
    );
    assert!(
        q.contains(&(
            "tags".into(),
            json!({"vcs.ref.head.revision": sha}).to_string()
        )),
        "{q:?}"
    );
    // A window around the commit (2026-03-01T10:00:10Z), in microseconds.
    let get = |k: &str| {
        q.iter()
            .find(|(x, _)| x == k)
            .unwrap()
            .1
            .parse::<i64>()
            .unwrap()
    };
    let commit_us = 1_772_359_210_000_000i64;
    assert!(get("start") < commit_us && get("end") > commit_us);
}

/// Tempo's search API, asked in TraceQL; a trace whose spans only ran at the commit is
/// reported as such, not as its author.
#[test]
fn tempo_answers_in_traceql() {
    let env = TestEnv::new();
    let (repo, _, sha) = agent_commit(&env, "1a000000-0000-4000-8000-000000000002");
    let body = json!({"traces": [{"traceID": "af7651916cd43dd8448eb211c80319c", "rootServiceName": "claude-code", "startTimeUnixNano": "1772359200000000000",
        "spanSets": [{"spans": [{"spanID": "b7ad6b7169203331", "startTimeUnixNano": "1772359205000000000", "durationNanos": "1", "attributes": [{"key": "session.id", "value": {"stringValue": "tempo-session"}}]}], "matched": 1}]}],
        "metrics": {"totalBlocks": 1}});
    let (url, seen) = serve_json(200, body.to_string(), 5);
    let (lines, _) = query(&env, &repo, &sha[..10], &format!("tempo={url}"), 0);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(lines[0]["session_id"], "tempo-session");
    assert_eq!(lines[0]["link_method"], "ran_at_revision");
    let q = decoded(&seen.lock().unwrap()[0]);
    assert!(
        q.iter().any(|(k, v)| k == "q"
            && v.starts_with(&format!("{{ span.vcs.ref.head.revision = \"{sha}\" }}"))),
        "{q:?}"
    );
}

/// A backend that is down or refuses: the store's answer still comes, the failure is named,
/// and the exit code says the answer is partial.
#[test]
fn a_backend_that_fails_leaves_the_local_answer() {
    let env = TestEnv::new();
    let sid = "1a000000-0000-4000-8000-000000000003";
    let (repo, t, sha) = agent_commit(&env, sid);
    env.run(&["export", t.to_str().unwrap()], 0);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let (lines, err) = query(&env, &repo, &sha, &format!("jaeger={dead_url}"), 1);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["session_id"], sid);
    assert_eq!(lines[0]["source"], "store");
    assert!(
        err.contains("jaeger at http://127.0.0.1") && err.contains("cannot connect"),
        "{err}"
    );
    let (url, _) = serve_json(500, "{\"error\":\"boom\"}".into(), 5);
    let (lines, err) = query(&env, &repo, &sha, &format!("tempo={url}"), 1);
    assert_eq!(lines.len(), 1);
    assert!(
        err.contains("tempo at") && err.contains("HTTP 500"),
        "{err}"
    );
    let o = env.run(
        &[
            "query",
            "--commit",
            &sha,
            "--repo",
            repo.to_str().unwrap(),
            "--backend",
            "zipkin=http://x",
        ],
        2,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown backend"));
}

/// `export --trace-url` writes where the trace is seen into the note, so a clone with neither
/// the store nor a backend configured still links to it.
#[test]
fn the_note_carries_the_trace_url() {
    let env = TestEnv::new();
    let sid = "1a000000-0000-4000-8000-000000000004";
    let (repo, t, sha) = agent_commit(&env, sid);
    env.run(
        &[
            "export",
            t.to_str().unwrap(),
            "--trace-url",
            "http://jaeger:16686/trace/{trace_id}",
        ],
        0,
    );
    let trace = json_lines(&env.run(&["show", sid, "--json"], 0))[0]["trace_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let note = git(
        &repo,
        &["notes", "--ref", "sessiontrail", "show", &sha],
        "2026-03-01T12:00:00Z",
    );
    assert!(
        note.contains(&format!("http://jaeger:16686/trace/{trace}")),
        "{note}"
    );
    let elsewhere = TestEnv::new();
    let lines = json_lines(&elsewhere.run(
        &[
            "query",
            "--commit",
            &sha,
            "--repo",
            repo.to_str().unwrap(),
            "--json",
        ],
        0,
    ));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["source"], "git note");
    assert_eq!(
        lines[0]["trace_url"],
        format!("http://jaeger:16686/trace/{trace}")
    );
}
