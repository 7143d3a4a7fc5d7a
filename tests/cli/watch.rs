//! `sessiontrail watch`: a transcript written line by line becomes spans as its lines come,
//! the session is finished when idle or when the agent's `SessionEnd` hook says so, the
//! store ends holding exactly what a backfill of the same file stores, a kill at any
//! moment loses nothing, and the outbox ships while the backend comes and goes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake::FakeHttp;
use crate::util::*;

/// A real session with a subagent's work inline (96 lines).
pub(crate) fn transcript() -> Vec<String> {
    let dir = repo_fixtures().join("claude/marot-spotter");
    let f = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().is_some_and(|n| n == "subagent.jsonl"))
        .unwrap();
    std::fs::read_to_string(f)
        .unwrap()
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

pub(crate) struct Watch {
    child: Child,
    events: mpsc::Receiver<Value>,
}

impl Watch {
    pub(crate) fn start(env: &TestEnv, args: &[&str]) -> Watch {
        let mut all = vec!["watch", "--json", "--poll-ms", "50"];
        all.extend_from_slice(args);
        Watch::spawn(env.cmd(&all))
    }

    /// Runs a `watch --json` command.
    pub(crate) fn spawn(mut c: std::process::Command) -> Watch {
        c.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = c.spawn().unwrap();
        let (tx, events) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { return };
                let _ = tx.send(serde_json::from_str::<Value>(&l).unwrap());
            }
        });
        Watch { child, events }
    }

    /// The next event of `kind`, within `limit`.
    pub(crate) fn wait_for(&self, kind: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(v) if v["type"] == kind => return v,
                Ok(_) => {}
                Err(_) => panic!("no {kind} event within {limit:?}"),
            }
        }
    }

    fn signal(&mut self, sig: &str) -> std::process::ExitStatus {
        std::process::Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "watch did not stop within 10 s of {sig}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        f.write_all(l.as_bytes()).unwrap();
    }
}

/// Every stored span: id, digest, body.
pub(crate) fn spans(store: &Path) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    spans_where(store, "1")
}

/// Every stored span but the root.
fn below_root(store: &Path) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    spans_where(store, "parent_span_id IS NOT NULL")
}

fn spans_where(store: &Path, filter: &str) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let c = rusqlite::Connection::open(store).unwrap();
    let mut q = c
        .prepare(&format!(
            "SELECT span_id, digest, body FROM spans WHERE {filter} ORDER BY span_id"
        ))
        .unwrap();
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// What a backfill of `dir` stores.
fn backfilled(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let env = TestEnv::new();
    env.run(&["export", dir.to_str().unwrap(), "--quiet"], 0);
    spans(&env.store)
}

/// Exports `dir` again into the store `watch` wrote, to an OTLP/JSON file it returns,
/// and checks that the backfill stored what `watch` stored.
fn exported_unchanged(env: &TestEnv, dir: &Path) -> PathBuf {
    let watched = spans(&env.store);
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
    assert_eq!(
        spans(&env.store),
        watched,
        "the backfill stores what watch stored"
    );
    out
}

/// A session ended by its `SessionEnd` hook: the store holds what a backfill of the same
/// files in it stores (the hook's facts kept with the trace), and, but for the root that
/// says why it ended, what a backfill that never saw the hook stores.
fn as_backfilled_with_its_end(env: &TestEnv, dir: &Path) {
    let watched = spans(&env.store);
    exported_unchanged(env, dir);
    let fresh = TestEnv::new();
    fresh.run(&["export", dir.to_str().unwrap(), "--quiet"], 0);
    assert_eq!(below_root(&env.store), below_root(&fresh.store));
    assert_eq!(watched.len(), spans(&fresh.store).len());
}

/// What Claude Code's `SessionEnd` hook runs, as it runs it.
pub(crate) fn session_end(env: &TestEnv, session: &str, file: &Path) {
    let event = serde_json::json!({"session_id": session, "transcript_path": file, "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"});
    hook(env, &event, &[]);
}

/// Runs `sessiontrail hook` as Claude Code does, with `vars` in its environment.
fn hook(env: &TestEnv, event: &Value, vars: &[(&str, &str)]) {
    let mut c = env.cmd(&["hook"]);
    c.stdin(Stdio::piped());
    for (k, v) in vars {
        c.env(k, v);
    }
    let mut h = c.spawn().unwrap();
    h.stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    assert!(h.wait().unwrap().success());
}

pub(crate) fn projects(env: &TestEnv) -> (PathBuf, PathBuf) {
    let dir = env.path("projects");
    std::fs::create_dir_all(dir.join("-p")).unwrap();
    let file = dir.join("-p/s.jsonl");
    (dir, file)
}

#[test]
fn lines_become_spans_as_written_and_an_idle_session_ends_as_a_backfill_would() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let lines = transcript();
    // The folder exists before the session does, as when the agent starts after us.
    let mut w = Watch::start(&env, &[dir.to_str().unwrap(), "--idle-timeout", "2s"]);
    std::thread::sleep(Duration::from_millis(300));
    append(&file, &lines[..40]);
    let written = Instant::now();
    w.wait_for("opened", Duration::from_secs(5));
    let first = w.wait_for("stored", Duration::from_secs(5));
    // Within a second of the lines, their final spans are in the store (the poll is
    // 50 ms, the folder scan 1 s).
    assert!(
        written.elapsed() < Duration::from_millis(2500),
        "{:?}",
        written.elapsed()
    );
    let early = first["spans"].as_u64().unwrap();
    assert!(early > 0);
    assert!(spans(&env.store).len() as u64 >= early);
    // A last line without its newline waits for it.
    let (head, tail) = lines[40].split_at(lines[40].len() / 2);
    append(&file, &[head.to_owned()]);
    std::thread::sleep(Duration::from_millis(300));
    append(&file, &[tail.to_owned()]);
    append(&file, &lines[41..]);
    let done = w.wait_for("finished", Duration::from_secs(10));
    assert_eq!(done["reason"], "idle");
    assert_eq!(spans(&env.store), backfilled(&dir));
    assert_eq!(w.signal("-TERM").code(), Some(0));
}

#[test]
fn the_session_end_hook_finishes_the_session_at_once() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let lines = transcript();
    append(&file, &lines);
    let w = Watch::start(&env, &[dir.to_str().unwrap(), "--idle-timeout", "1h"]);
    let opened = w.wait_for("opened", Duration::from_secs(5));
    let session = opened["session"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    session_end(&env, &session, &file);
    let ended = Instant::now();
    let done = w.wait_for("finished", Duration::from_secs(5));
    assert!(ended.elapsed() < Duration::from_secs(2));
    assert_eq!(done["reason"], "ended");
    assert_eq!(done["session"], session.as_str());
    as_backfilled_with_its_end(&env, &dir);
}

#[test]
fn killed_at_any_moment_it_resumes_and_loses_or_doubles_nothing() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let lines = transcript();
    let chunks: Vec<&[String]> = lines.chunks(13).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut w = Watch::start(&env, &[dir.to_str().unwrap(), "--idle-timeout", "1h"]);
        append(&file, chunk);
        // Killed at a different moment each time: before it read, while, after.
        std::thread::sleep(Duration::from_millis(150 * (i as u64 % 4)));
        w.signal("-KILL");
    }
    let w = Watch::start(&env, &[dir.to_str().unwrap(), "--idle-timeout", "1s"]);
    w.wait_for("finished", Duration::from_secs(10));
    assert_eq!(spans(&env.store), backfilled(&dir));
}

#[test]
fn ships_from_the_outbox_and_keeps_everything_while_the_backend_refuses() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    // Down for the first three requests, then up.
    let fake = FakeHttp::start(vec![(503, None), (503, None), (502, None)]);
    let mut w = Watch::start(
        &env,
        &[
            dir.to_str().unwrap(),
            "--idle-timeout",
            "1s",
            "--endpoint",
            &fake.url,
        ],
    );
    append(&file, &transcript());
    w.wait_for("finished", Duration::from_secs(10));
    let want: BTreeSet<Vec<u8>> = spans(&env.store).into_iter().map(|s| s.0).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got: BTreeSet<Vec<u8>> = fake
            .requests()
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.span_ids())
            .collect();
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} spans delivered",
            got.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(fake.requests().iter().filter(|r| r.status != 200).count() >= 3);
    assert_eq!(w.signal("-INT").code(), Some(0));
}

/// A backend that asks for time (429 with `Retry-After: 3`) is given it; one that refuses a
/// request for good (400) gets it once: its spans are set aside, not retried in a loop, and
/// the next start tries them once more, so the backend ends holding every span.
#[test]
fn retry_after_is_honoured_and_a_refusal_is_set_aside_until_the_next_start() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let fake = FakeHttp::start(vec![(429, Some("3")), (400, None)]);
    let args = [
        dir.to_str().unwrap(),
        "--idle-timeout",
        "1s",
        "--endpoint",
        &fake.url,
    ];
    let mut w = Watch::start(&env, &args);
    append(&file, &transcript());
    w.wait_for("finished", Duration::from_secs(10));
    let refused = {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = fake.requests();
            if r.len() >= 2 {
                break r;
            }
            assert!(Instant::now() < deadline, "{} requests", r.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let waited = refused[1].at - refused[0].at;
    assert!(
        waited >= Duration::from_millis(2900),
        "retried after {waited:?}"
    );
    assert_eq!(refused[1].status, 400);
    // Never again in this process: what it sends next is new spans only.
    std::thread::sleep(Duration::from_secs(3));
    let aside: BTreeSet<Vec<u8>> = refused[1].span_ids().into_iter().collect();
    for r in &fake.requests()[2..] {
        assert!(r.span_ids().iter().all(|id| !aside.contains(id)));
    }
    let c = rusqlite::Connection::open(&env.store).unwrap();
    let n: usize = c
        .query_row("SELECT count(*) FROM set_aside", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, aside.len());
    drop(c);
    assert_eq!(w.signal("-TERM").code(), Some(0));

    let w = Watch::start(&env, &args);
    let want: BTreeSet<Vec<u8>> = spans(&env.store).into_iter().map(|s| s.0).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got: BTreeSet<Vec<u8>> = fake
            .requests()
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.span_ids())
            .collect();
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} spans",
            got.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(w);
}

/// With polling all but off (every 10 s), file-system notifications drive `watch`: a new
/// project folder and its session are followed, and each line is read, well within a second.
#[test]
fn notifications_bring_new_files_and_lines_within_a_second() {
    let env = TestEnv::new();
    let dir = env.path("projects");
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = env.cmd(&[
        "watch",
        "--json",
        "--poll-ms",
        "10000",
        dir.to_str().unwrap(),
        "--idle-timeout",
        "1h",
    ]);
    c.env("RUST_LOG", "off");
    let w = Watch::spawn(c);
    // Its first tick is done once it has nothing to say for a moment.
    std::thread::sleep(Duration::from_millis(500));
    std::fs::create_dir_all(dir.join("-new")).unwrap();
    let file = dir.join("-new/s.jsonl");
    let lines = transcript();
    let written = Instant::now();
    append(&file, &lines[..3]);
    w.wait_for("opened", Duration::from_secs(3));
    w.wait_for("read", Duration::from_secs(3));
    assert!(
        written.elapsed() < Duration::from_secs(2),
        "{:?}",
        written.elapsed()
    );
    for l in &lines[3..10] {
        let t = Instant::now();
        append(&file, std::slice::from_ref(l));
        w.wait_for("read", Duration::from_secs(3));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
}

/// The span ids of requests.
fn ids_of(rs: &[crate::fake::Received]) -> BTreeSet<Vec<u8>> {
    rs.iter().flat_map(|r| r.span_ids()).collect()
}

fn metric(url: &str, name: &str) -> f64 {
    let text = http_get(url).expect("metrics answer").1;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

/// A backend that hangs, then throttles, then accepts with a partial rejection: reading
/// goes on at full speed while it hangs, the throttle's delay is kept, the rejected span is
/// counted (acknowledged, not sent again), and the backend ends with every span.
#[test]
fn a_hanging_then_throttling_backend_never_slows_reading() {
    use crate::fake::{HANG, PARTIAL};
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let fake = FakeHttp::start(vec![(HANG, None), (429, Some("1")), (PARTIAL, None)]);
    let w = Watch::start(
        &env,
        &[
            dir.to_str().unwrap(),
            "--idle-timeout",
            "1h",
            "--endpoint",
            &fake.url,
            "--timeout-ms",
            "2000",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
    );
    let metrics = w.wait_for("metrics", Duration::from_secs(5))["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines = transcript();
    let chunks: Vec<&[String]> = lines.chunks(12).collect();
    append(&file, chunks[0]);
    append(&file, chunks[1]);
    w.wait_for("stored", Duration::from_secs(5));
    // The first request hangs; lines keep becoming stored spans meanwhile.
    let deadline = Instant::now() + Duration::from_secs(5);
    while fake.requests().is_empty() {
        assert!(Instant::now() < deadline, "no request");
        std::thread::sleep(Duration::from_millis(20));
    }
    for chunk in &chunks[2..5] {
        let t = Instant::now();
        append(&file, chunk);
        w.wait_for("read", Duration::from_secs(2));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
    for chunk in &chunks[5..] {
        append(&file, chunk);
    }
    session_end(&env, &transcript_session(), &file);
    w.wait_for("finished", Duration::from_secs(10));
    let want: BTreeSet<Vec<u8>> = spans(&env.store).into_iter().map(|s| s.0).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = fake.requests();
        if r.len() > 2 && ids_of(&r[2..]) == want {
            // The throttled request's successor waited for what it was told.
            assert!(r[2].at - r[1].at >= Duration::from_millis(950));
            break;
        }
        assert!(Instant::now() < deadline, "{} requests", r.len());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(metric(&metrics, "sessiontrail_spans_rejected_total"), 1.0);
    assert!(metric(&metrics, "sessiontrail_export_retries_total") >= 2.0);
    let exported = metric(&metrics, "sessiontrail_spans_exported_total");
    assert!(exported >= want.len() as f64, "{exported}");
}

/// The session id of [`transcript`].
fn transcript_session() -> String {
    transcript()
        .into_iter()
        .find_map(|l| {
            serde_json::from_str::<Value>(&l).ok()?["sessionId"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap()
}

/// Over gRPC: UNAVAILABLE, then a hang past the deadline, then a partial success; the
/// backend ends with every span.
#[test]
fn grpc_faults_are_retried_and_nothing_is_lost() {
    use crate::fake::{FakeGrpc, GrpcReply};
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let fake = FakeGrpc::start(vec![
        GrpcReply::Status(tonic::Code::Unavailable),
        GrpcReply::Hang(Duration::from_secs(3)),
        GrpcReply::Partial(1),
    ]);
    let w = Watch::start(
        &env,
        &[
            dir.to_str().unwrap(),
            "--idle-timeout",
            "1s",
            "--endpoint",
            &fake.url,
            "--protocol",
            "grpc",
            "--timeout-ms",
            "1000",
        ],
    );
    append(&file, &transcript());
    w.wait_for("finished", Duration::from_secs(10));
    let want: BTreeSet<Vec<u8>> = spans(&env.store).into_iter().map(|s| s.0).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: BTreeSet<Vec<u8>> = {
            let r = fake.received.lock().unwrap();
            r.iter()
                .skip(2)
                .flat_map(|(req, _)| {
                    req.resource_spans
                        .iter()
                        .flat_map(|r| r.scope_spans.iter())
                        .flat_map(|s| s.spans.iter())
                        .map(|s| s.span_id.clone())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        if got == want {
            break;
        }
        assert!(Instant::now() < deadline, "{} of {}", got.len(), want.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Fifty times: `watch` starts, the transcript grows, the backend flaps, and `watch` is
/// killed with SIGKILL at a moment that differs each time. The backend ends holding exactly
/// the spans a backfill of the file stores, each span id with one content.
#[test]
fn fifty_kills_while_the_backend_flaps_lose_and_change_nothing() {
    use prost::Message;
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    // Up and down in a fixed pseudo-random pattern, then up.
    let mut x = 0x9e37_79b9_u32;
    let script: Vec<(u16, Option<&'static str>)> = (0..400)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (if x.is_multiple_of(3) { 503 } else { 200 }, None)
        })
        .collect();
    let fake = FakeHttp::start(script);
    let args = [
        dir.to_str().unwrap(),
        "--idle-timeout",
        "1h",
        "--endpoint",
        &fake.url,
    ];
    let lines = transcript();
    let chunks: Vec<&[String]> = lines.chunks(lines.len().div_ceil(50)).collect();
    for i in 0..50 {
        let mut w = Watch::start(&env, &args);
        if let Some(c) = chunks.get(i) {
            append(&file, c);
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        std::thread::sleep(Duration::from_millis(u64::from(x % 400)));
        w.signal("-KILL");
    }
    let w = Watch::start(
        &env,
        &[
            dir.to_str().unwrap(),
            "--idle-timeout",
            "1s",
            "--endpoint",
            &fake.url,
        ],
    );
    w.wait_for("finished", Duration::from_secs(10));
    let want: BTreeMap<Vec<u8>, Vec<u8>> = backfilled(&dir)
        .into_iter()
        .map(|(id, _, body)| (id, body))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut got: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
        for r in fake.requests().iter().filter(|r| r.status == 200) {
            for sp in r
                .request
                .resource_spans
                .iter()
                .flat_map(|r| r.scope_spans.iter())
                .flat_map(|s| s.spans.iter())
            {
                got.entry(sp.span_id.clone())
                    .or_default()
                    .insert(sp.encode_to_vec());
            }
        }
        let ids: BTreeSet<&Vec<u8>> = got.keys().collect();
        if ids == want.keys().collect::<BTreeSet<_>>() {
            for (id, bodies) in &got {
                assert_eq!(
                    bodies.len(),
                    1,
                    "span {id:02x?} was delivered in two versions"
                );
                assert!(
                    bodies.contains(&want[id]),
                    "span {id:02x?} differs from the backfill"
                );
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} spans delivered",
            ids.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(w);
}

/// The spool is read on from the store's checkpoint of it: a `SessionEnd` the agent wrote
/// while `watch` was stopped ends the session at the next start, not after the idle timeout.
#[test]
fn a_session_end_written_while_stopped_ends_the_session_at_the_next_start() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    append(&file, &transcript());
    let args = [dir.to_str().unwrap(), "--idle-timeout", "1h"];
    let mut w = Watch::start(&env, &args);
    w.wait_for("stored", Duration::from_secs(5));
    // An earlier hook event, read by this watcher: not replayed later.
    hook(
        &env,
        &serde_json::json!({"session_id": "other", "hook_event_name": "PreToolUse"}),
        &[],
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.signal("-TERM").code(), Some(0));
    session_end(&env, &transcript_session(), &file);
    let w = Watch::start(&env, &args);
    let done = w.wait_for("finished", Duration::from_secs(5));
    assert_eq!(done["reason"], "ended");
    as_backfilled_with_its_end(&env, &dir);
}

/// HEAD is read live as the session is written: a commit made between two tool calls (whose
/// reflog entry is dated years back, so the reflog would place it before both) moves HEAD
/// between them, nothing is marked reconstructed, and a later backfill of the same file
/// uses what `watch` read.
#[test]
fn head_is_read_live_and_a_backfill_keeps_it() {
    use crate::git::git;
    use serde_json::json;
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let old = "2020-01-01T00:00:00Z";
    git(&repo, &["init", "-q", "-b", "main"], old);
    std::fs::write(repo.join("a.txt"), "1\n").unwrap();
    git(&repo, &["add", "a.txt"], old);
    git(&repo, &["commit", "-q", "-m", "first"], old);
    let first = git(&repo, &["rev-parse", "HEAD"], old);
    let cwd = repo.display().to_string();
    let sid = "9a7e0000-0000-4000-8000-00000000aa01";
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let line = |v: Value| {
        let mut base =
            json!({"sessionId": sid, "cwd": cwd, "version": "2.1.40", "gitBranch": "main"});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        format!("{base}\n")
    };
    let w = Watch::start(&env, &[dir.to_str().unwrap(), "--idle-timeout", "1h"]);
    let tool = |n: u32, t: String| {
        line(
            json!({"type": "assistant", "uuid": format!("a{n}"), "timestamp": t, "requestId": format!("r{n}"), "message": {"model": "m", "id": format!("m{n}"), "role": "assistant", "content": [{"type": "tool_use", "id": format!("t{n}"), "name": "Read", "input": {"file_path": format!("{cwd}/a.txt")}}]}}),
        )
    };
    let result = |n: u32, t: String| {
        line(
            json!({"type": "user", "uuid": format!("u{n}r"), "timestamp": t, "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("t{n}"), "content": "x"}]}}),
        )
    };
    append(
        &file,
        &[
            line(
                json!({"type": "user", "uuid": "u0", "timestamp": now(), "message": {"role": "user", "content": "edit"}}),
            ),
            tool(1, now()),
            result(1, now()),
        ],
    );
    w.wait_for("read", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(repo.join("a.txt"), "2\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "second"], old);
    let second = git(&repo, &["rev-parse", "HEAD"], old);
    std::thread::sleep(Duration::from_millis(50));
    append(&file, &[tool(2, now()), result(2, now())]);
    w.wait_for("read", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    session_end(&env, sid, &file);
    w.wait_for("finished", Duration::from_secs(5));
    let out = exported_unchanged(&env, &dir);
    let got = read_otlp_json(&out);
    let root = got.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(root.attrs["sessiontrail.vcs.reconstructed"], false);
    assert_eq!(root.str("vcs.ref.head.revision"), Some(first.as_str()));
    let head_of = |id: &str| {
        got.iter()
            .find(|s| s.str("gen_ai.tool.call.id") == Some(id))
            .unwrap()
            .str("vcs.ref.head.revision")
            .map(str::to_owned)
    };
    assert_eq!(head_of("t1").as_deref(), Some(first.as_str()));
    assert_eq!(head_of("t2").as_deref(), Some(second.as_str()));
}

/// Reading the files is not a change: with nothing written, `watch` does not wake itself
/// (its own reads once woke it every 20 ms through the notifications they caused).
#[test]
fn nothing_written_nothing_done() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    append(&file, &transcript());
    let w = Watch::spawn(env.cmd(&[
        "watch",
        "--json",
        dir.to_str().unwrap(),
        "--idle-timeout",
        "1h",
        "--poll-ms",
        "10000",
        "--metrics-addr",
        "127.0.0.1:0",
    ]));
    let metrics = w.wait_for("metrics", Duration::from_secs(5))["url"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_for("stored", Duration::from_secs(5));
    let before = metric(&metrics, "sessiontrail_ticks_total");
    std::thread::sleep(Duration::from_secs(3));
    let after = metric(&metrics, "sessiontrail_ticks_total");
    assert!(
        after - before <= 2.0,
        "{} ticks in 3 s of nothing",
        after - before
    );
}

/// What the hooks add lands on the spans while the session is written, and a later
/// backfill keeps it: the permission check of each tool call (ran without asking, asked
/// and refused by the user, denied by a rule with its reason redacted), the permission
/// mode, how the session started and ended, the secret-looking names of the environment
/// the agent started with (never their values) and its settings as they were at the start
/// (changed since, they are not what the trace says).
#[test]
fn hook_facts_land_on_the_spans_as_they_are_written() {
    use serde_json::json;
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let proj = env.path("shop");
    std::fs::create_dir_all(proj.join(".claude")).unwrap();
    let settings = proj.join(".claude/settings.json");
    std::fs::write(
        &settings,
        r#"{"permissions":{"allow":["Bash(ls:*)"],"deny":["Read(./.env)"]},"mcpServers":{"db":{"env":{"DB_PASSWORD":"hunter2-value"}}}}"#,
    )
    .unwrap();
    let cwd = proj.display().to_string();
    let sid = "9a7e0000-0000-4000-8000-00000000bb01";
    let secret_value = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    // Each record a few milliseconds after the last, as an agent writes them.
    let now = || {
        std::thread::sleep(Duration::from_millis(3));
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let line = |v: Value| {
        let mut base = json!({"sessionId": sid, "cwd": cwd, "version": "2.1.40"});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        format!("{base}\n")
    };
    let payload = |event: &str, extra: Value| {
        let mut base = json!({"session_id": sid, "transcript_path": file, "cwd": cwd,
            "permission_mode": "default", "hook_event_name": event});
        for (k, x) in extra.as_object().unwrap() {
            base[k] = x.clone();
        }
        base
    };
    let w = Watch::start(&env, &[dir.to_str().unwrap(), "--idle-timeout", "1h"]);
    hook(
        &env,
        &payload("SessionStart", json!({"source": "startup"})),
        &[("SHOP_API_TOKEN", secret_value)],
    );
    let bash = |c: &str| json!({"command": c});
    let tool = |n: u32, c: &str| {
        line(
            json!({"type": "assistant", "uuid": format!("a{n}"), "timestamp": now(), "requestId": format!("r{n}"), "message": {"model": "m", "id": format!("m{n}"), "role": "assistant", "content": [{"type": "tool_use", "id": format!("t{n}"), "name": "Bash", "input": bash(c)}]}}),
        )
    };
    let result = |n: u32, text: &str, error: bool| {
        line(
            json!({"type": "user", "uuid": format!("u{n}r"), "timestamp": now(), "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("t{n}"), "content": text, "is_error": error}]}}),
        )
    };
    let pre = |n: u32, c: &str| {
        payload(
            "PreToolUse",
            json!({"tool_name": "Bash", "tool_use_id": format!("t{n}"), "tool_input": bash(c)}),
        )
    };
    append(
        &file,
        &[
            line(
                json!({"type": "user", "uuid": "u0", "timestamp": now(), "message": {"role": "user", "content": "clean up"}}),
            ),
            tool(1, "ls"),
        ],
    );
    hook(&env, &pre(1, "ls"), &[]);
    append(&file, &[result(1, "a b", false), tool(2, "rm -rf build")]);
    hook(&env, &pre(2, "rm -rf build"), &[]);
    // The dialog's event names no call: it is the call of the same tool and input.
    hook(
        &env,
        &payload(
            "PermissionRequest",
            json!({"tool_name": "Bash", "tool_input": bash("rm -rf build"), "permission_suggestions": []}),
        ),
        &[],
    );
    append(
        &file,
        &[
            result(
                2,
                "The user doesn't want to proceed with this tool use. The tool use was rejected.",
                true,
            ),
            tool(3, "cat .env"),
        ],
    );
    hook(&env, &pre(3, "cat .env"), &[]);
    hook(
        &env,
        &payload(
            "PermissionDenied",
            json!({"tool_name": "Bash", "tool_use_id": "t3", "tool_input": bash("cat .env"),
                "reason": format!("denied by rule; key {secret_value}")}),
        ),
        &[],
    );
    append(
        &file,
        &[
            result(3, "Permission to use Bash has been denied.", true),
            line(
                json!({"type": "assistant", "uuid": "a4", "timestamp": now(), "requestId": "r4", "message": {"model": "m", "id": "m4", "role": "assistant", "content": [{"type": "text", "text": "done"}]}}),
            ),
        ],
    );
    // The three tool spans are final once the answer after them is read.
    let tools_stored = || {
        let c = rusqlite::Connection::open(&env.store).unwrap();
        c.query_row(
            "SELECT count(*) FROM spans WHERE name = 'execute_tool Bash'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while tools_stored() < 3 {
        assert!(Instant::now() < deadline, "the tool spans were not stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    let live = spans(&env.store);
    // Changed after the start: the trace keeps the settings the session started with.
    std::fs::write(&settings, r#"{"permissions":{"allow":["Bash(*)"]}}"#).unwrap();
    hook(
        &env,
        &payload("SessionEnd", json!({"reason": "prompt_input_exit"})),
        &[],
    );
    w.wait_for("finished", Duration::from_secs(5));
    let finished = spans(&env.store);
    for s in &live {
        assert!(finished.contains(s), "a span stored live was changed later");
    }

    let out = exported_unchanged(&env, &dir);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(secret_value), "a secret left in the output");
    assert!(
        !text.contains("hunter2"),
        "a setting's value left in the output"
    );
    let got = read_otlp_json(&out);
    let call = |id: &str| {
        got.iter()
            .find(|s| s.str("gen_ai.tool.call.id") == Some(id))
            .unwrap()
    };
    let check = |id: &str| {
        let s = call(id);
        (
            s.str("sessiontrail.permission.decision").map(str::to_owned),
            s.attrs.get("sessiontrail.permission.asked").cloned(),
        )
    };
    assert_eq!(check("t1"), (Some("allowed".into()), Some(json!(false))));
    assert_eq!(check("t2"), (Some("denied".into()), Some(json!(true))));
    assert_eq!(check("t3"), (Some("denied".into()), Some(json!(false))));
    assert_eq!(
        call("t1").str("sessiontrail.permission_mode"),
        Some("default")
    );
    let reason = call("t3").str("sessiontrail.permission.reason").unwrap();
    assert!(reason.starts_with("denied by rule; key "), "{reason}");
    let root = got.iter().find(|s| s.parent.is_none()).unwrap();
    assert_eq!(
        root.str("sessiontrail.session.start_source"),
        Some("startup")
    );
    assert_eq!(
        root.str("sessiontrail.session.end_reason"),
        Some("prompt_input_exit")
    );
    let list = |k: &str| root.attrs.get(k).cloned().unwrap_or(Value::Null);
    assert!(
        list("sessiontrail.ambient.secret_env_names")
            .as_array()
            .is_some_and(|a| a.contains(&json!("SHOP_API_TOKEN"))),
        "{:?}",
        list("sessiontrail.ambient.secret_env_names")
    );
    assert_eq!(
        list("sessiontrail.ambient.tools.allowed"),
        json!(["Bash(ls:*)"])
    );
    assert_eq!(
        list("sessiontrail.ambient.tools.denied"),
        json!(["Read(./.env)"])
    );
    assert_eq!(list("sessiontrail.ambient.mcp_servers"), json!(["db"]));
}

/// `--self-traces`: sessiontrail's own spans (its deliveries, the spans it stored, the
/// sessions it finished) reach the same endpoint under service.name `sessiontrail`, in
/// requests of their own and traces of their own; the session traces are exactly what
/// they are without it.
#[test]
fn its_own_spans_go_apart_from_the_session_traces() {
    let env = TestEnv::new();
    let (dir, file) = projects(&env);
    let fake = FakeHttp::start(Vec::new());
    let mut w = Watch::start(
        &env,
        &[
            dir.to_str().unwrap(),
            "--idle-timeout",
            "1s",
            "--endpoint",
            &fake.url,
            "--self-traces",
        ],
    );
    append(&file, &transcript());
    w.wait_for("finished", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while ids_of(&fake.requests()).len() < spans(&env.store).len() {
        assert!(
            Instant::now() < deadline,
            "the session's spans were not all sent"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Its own spans leave in batches; the rest at exit.
    assert_eq!(w.signal("-TERM").code(), Some(0));
    let service = |r: &opentelemetry_proto::tonic::trace::v1::ResourceSpans| {
        r.resource
            .as_ref()
            .and_then(|res| res.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| match &v.value {
                Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                    Some(s.clone())
                }
                _ => None,
            })
            .unwrap_or_default()
    };
    let (mut own, mut sessions) = (Vec::new(), BTreeSet::new());
    for r in fake.requests() {
        let services: BTreeSet<String> = r.request.resource_spans.iter().map(service).collect();
        assert_eq!(services.len(), 1, "a request mixed {services:?}");
        for rs in &r.request.resource_spans {
            for s in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                if service(rs) == "sessiontrail" {
                    own.push((s.name.clone(), s.trace_id.clone()));
                } else {
                    assert_eq!(service(rs), "claude-code");
                    sessions.insert(s.trace_id.clone());
                }
            }
        }
    }
    let names: BTreeSet<&str> = own.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "sessiontrail.deliver",
        "sessiontrail.store",
        "sessiontrail.finish",
    ] {
        assert!(names.contains(want), "no {want} among {names:?}");
    }
    assert!(
        own.iter().all(|(_, t)| !sessions.contains(t)),
        "one of its spans is in a session's trace"
    );
    // The session traces: what a backfill stores, with nothing of its own among them.
    let sent: BTreeSet<Vec<u8>> = fake
        .requests()
        .iter()
        .filter(|r| {
            r.request
                .resource_spans
                .iter()
                .all(|rs| service(rs) != "sessiontrail")
        })
        .flat_map(|r| r.span_ids())
        .collect();
    let stored: BTreeSet<Vec<u8>> = spans(&env.store).into_iter().map(|s| s.0).collect();
    assert_eq!(sent, stored);
    assert_eq!(spans(&env.store), backfilled(&dir));
}
