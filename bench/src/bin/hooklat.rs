//! `sessiontrail hook` latency, as the agent sees it: spawn, write the event to stdin, wait
//! for the exit. `hooklat BIN [--calls N]` prints p50 / p99 / max in milliseconds for a
//! small event (a `PreToolUse`, 0.4 KB) and a large one (a `PostToolUse` carrying a 256 KB
//! tool response), and a `SessionStart` (whose line also lists the environment's
//! secret-looking names), each with the OTLP endpoint variables pointing at a backend that is
//! up (answers 200 at once), at one that hangs (accepts and never answers) and at one that
//! is down (a refused port): the hook must not care. Beside them, `BIN --version`: the cost
//! of starting the binary.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Several binaries (an earlier build beside this one) are timed call by call in turn,
    // so that the machine's drift touches them alike.
    let calls_at = args.iter().position(|a| a == "--calls");
    let bins: Vec<String> = args
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, a)| !a.starts_with("--") && calls_at.is_none_or(|c| *i != c + 1))
        .map(|(_, a)| a.clone())
        .collect();
    assert!(!bins.is_empty(), "usage: hooklat BIN [BIN...] [--calls N]");
    let calls: usize = args
        .iter()
        .position(|a| a == "--calls")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile_dir();
    let store = format!("{dir}/st.db");
    let small = br#"{"session_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","transcript_path":"/home/ana/.claude/projects/-home-ana-proj/7c9e6679-7425-40de-944b-e07fc1f90ae7.jsonl","cwd":"/home/ana/proj","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"cargo test --workspace","description":"Run the tests"},"tool_use_id":"toolu_01ABCDEF"}"#.to_vec();
    let big = {
        let out = "test result: ok. 12 passed; 0 failed\\n".repeat(256 * 1024 / 38);
        format!(r#"{{"session_id":"7c9e","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{{"command":"cargo test"}},"tool_response":{{"stdout":"{out}","stderr":""}},"tool_use_id":"toolu_01"}}"#).into_bytes()
    };
    let start = br#"{"session_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","transcript_path":"/home/ana/.claude/projects/-home-ana-proj/7c9e6679-7425-40de-944b-e07fc1f90ae7.jsonl","cwd":"/home/ana/proj","permission_mode":"default","hook_event_name":"SessionStart","source":"startup"}"#.to_vec();
    // A backend that answers at once, one that accepts connections and never answers, and
    // a port nothing listens on.
    let answers = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up = format!("http://{}", answers.local_addr().unwrap());
    std::thread::spawn(move || {
        for c in answers.incoming() {
            let Ok(mut c) = c else { continue };
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging = format!("http://{}", hang.local_addr().unwrap());
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    println!("| run | calls | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    let version = measure(calls.min(2000), &bins, |bin| {
        Command::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .unwrap();
    });
    rows("sessiontrail --version (start-up alone)", &bins, &version);
    let spool = format!("{store}-hooks.jsonl");
    for (name, payload) in [
        ("PreToolUse 0.4 KB", &small),
        ("SessionStart", &start),
        ("PostToolUse 256 KB", &big),
    ] {
        for (backend, url) in [
            ("backend up", &up),
            ("backend hanging", &hanging),
            ("backend down", &down),
        ] {
            let n = if payload.len() > 10_000 {
                calls / 10
            } else {
                calls
            };
            let _ = std::fs::remove_file(&spool);
            let t = measure(n, &bins, |bin| {
                let mut child = Command::new(bin)
                    .args(["--store", &store, "hook"])
                    .env("OTEL_EXPORTER_OTLP_ENDPOINT", url)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(payload).unwrap();
                let st = child.wait().unwrap();
                assert!(st.success());
            });
            rows(&format!("hook, {name}, {backend}"), &bins, &t);
            // Every call left its line (the spool starts empty for each row).
            let lines =
                std::fs::read(&spool).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
            assert_eq!(lines, n * bins.len(), "the spool lost lines");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `n` calls of `f` per binary, the binaries in turn; each one's times sorted.
fn measure(n: usize, bins: &[String], mut f: impl FnMut(&str)) -> Vec<Vec<f64>> {
    let mut t = vec![Vec::with_capacity(n); bins.len()];
    for _ in 0..n {
        for (i, b) in bins.iter().enumerate() {
            let s = Instant::now();
            f(b);
            t[i].push(s.elapsed().as_secs_f64() * 1000.0);
        }
    }
    for v in &mut t {
        v.sort_by(f64::total_cmp);
    }
    t
}

fn rows(name: &str, bins: &[String], t: &[Vec<f64>]) {
    for (b, v) in bins.iter().zip(t) {
        if bins.len() > 1 {
            row(&format!("{name} [{b}]"), v);
        } else {
            row(name, v);
        }
    }
}

fn row(name: &str, t: &[f64]) {
    let q = |p: f64| t[((t.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} |",
        t.len(),
        q(0.5),
        q(0.99),
        t[t.len() - 1]
    );
}

fn tempfile_dir() -> String {
    let d = std::env::temp_dir().join(format!("hooklat-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.display().to_string()
}
