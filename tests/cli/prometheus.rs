//! The alert end to end: a real Prometheus scrapes `watch --metrics-addr`, loads the
//! shipped alert rules, and the sensitive-access alert fires within two scrape intervals
//! of a live session reading a credentials file; `--on-sensitive` and `--webhook` get the
//! access's JSON, with no secret in it.
//!
//! Ignored by a plain `cargo test`; run with `--ignored` where Debian's `prometheus` is
//! installed (`.ci/run` installs it). Asked to run without it, they fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::*;

const SCRAPE: Duration = Duration::from_secs(1);
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for `ok` to give a value, every 100 ms, at most `limit`.
fn until<T>(limit: Duration, what: &str, mut ok: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = ok() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn prometheus(dir: &Path, target: &str) -> (Proc, String) {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../dashboards/prometheus/sessiontrail-alerts.yaml")
        .canonicalize()
        .unwrap();
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: {s}s\n  evaluation_interval: {s}s\nrule_files:\n  - {rules}\nscrape_configs:\n  - job_name: sessiontrail\n    static_configs:\n      - targets: ['{target}']\n",
            s = SCRAPE.as_secs(),
            rules = rules.display()
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run prometheus ({e}): install Debian's prometheus package (.ci/run does)"
            )
        });
    let base = format!("http://127.0.0.1:{port}");
    let p = Proc(child);
    until(Duration::from_secs(60), "Prometheus ready", || {
        http_get(&format!("{base}/-/ready")).filter(|(c, _)| *c == 200)
    });
    (p, base)
}

fn query(base: &str, path: &str) -> Value {
    let (code, body) = http_get(&format!("{base}{path}")).expect("Prometheus answers");
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// A webhook receiver: every body posted, on a channel.
fn receiver() -> (String, mpsc::Receiver<Value>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alert", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 {
                    break;
                }
                let h = h.trim_end().to_ascii_lowercase();
                if h.is_empty() {
                    break;
                }
                if let Some(v) = h.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let mut w = conn;
            let _ = w.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
            let _ = tx.send(serde_json::from_slice(&body).unwrap());
        }
    });
    (url, rx)
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
#[ignore = "needs Prometheus: run with --ignored where Debian's prometheus is installed (.ci/run)"]
fn prometheus_fires_the_sensitive_access_alert_within_two_scrapes() {
    let env = TestEnv::new();
    let project = env.path("home/.claude/projects/-home-ana-shop");
    std::fs::create_dir_all(&project).unwrap();
    let (hook_url, posted) = receiver();
    let ran = env.path("on-sensitive.json");
    let mut c = env.cmd(&[
        "watch",
        "--json",
        "--poll-ms",
        "100",
        "--metrics-addr",
        "127.0.0.1:0",
        "--webhook",
        &hook_url,
        "--on-sensitive",
        &format!("cat > '{}'", ran.display()),
    ]);
    c.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut watch = Proc(c.spawn().unwrap());
    let (tx, events) = mpsc::channel::<Value>();
    let stdout = watch.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            let _ = tx.send(serde_json::from_str(&l).unwrap());
        }
    });
    let next = |kind: &str| -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(v) if v["type"] == kind => return v,
                Ok(_) => {}
                Err(_) => panic!("no {kind} event from watch"),
            }
        }
    };
    let metrics = next("metrics")["url"].as_str().unwrap().to_owned();
    let target = metrics
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let (_prom, base) = prometheus(tmp.path(), &target);
    until(Duration::from_secs(30), "the target scraped", || {
        let v = query(
            &base,
            "/api/v1/query?query=up%7Bjob%3D%22sessiontrail%22%7D",
        );
        (v["data"]["result"][0]["value"][1] == "1").then_some(())
    });
    // Nothing fires before the access.
    let alerts = query(&base, "/api/v1/alerts");
    assert_eq!(alerts["data"]["alerts"].as_array().unwrap().len(), 0);

    let sid = "5d0c2a3e-1b7f-4c57-9a55-5f3bdf0e0a11";
    // A repository, so that the access is labelled with its name.
    let repo = env.path("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(init.success());
    let cwd = repo.to_str().unwrap();
    let lines = [
        json!({"type": "user", "uuid": "u1", "sessionId": sid, "cwd": cwd, "timestamp": now_rfc3339(), "message": {"role": "user", "content": format!("deploy with AWS_SECRET_ACCESS_KEY={SECRET}")}}),
        json!({"type": "assistant", "uuid": "a1", "parentUuid": "u1", "sessionId": sid, "cwd": cwd, "timestamp": now_rfc3339(), "requestId": "r1", "message": {"model": "m", "id": "m1", "role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "/home/ana/.aws/credentials"}}]}}),
    ];
    let file = project.join(format!("{sid}.jsonl"));
    let mut f = std::fs::File::create(&file).unwrap();
    for l in &lines {
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    let written = chrono::Utc::now();

    let seen = next("sensitive_access");
    assert_eq!(seen["rule"], "aws-credentials");
    assert_eq!(seen["severity"], "high");
    assert_eq!(seen["agent"], "claude-code");
    assert_eq!(seen["session"], sid);
    let alert = until(Duration::from_secs(20), "the alert firing", || {
        let v = query(&base, "/api/v1/alerts");
        v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| {
                a["labels"]["alertname"] == "AgentSensitiveAccessHigh" && a["state"] == "firing"
            })
            .cloned()
    });
    assert_eq!(alert["labels"]["rule"], "aws-credentials");
    assert_eq!(alert["labels"]["agent"], "claude-code");
    assert_eq!(alert["labels"]["repo"], "shop");
    let active = chrono::DateTime::parse_from_rfc3339(alert["activeAt"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    // Two scrapes, and the evaluation that follows them.
    let took = (active - written).to_std().unwrap_or_default();
    assert!(
        took <= 2 * SCRAPE + SCRAPE,
        "the alert became active {took:?} after the line was written"
    );

    // The counter as Prometheus stores it, with its four labels.
    let v = query(
        &base,
        "/api/v1/query?query=sessiontrail_sensitive_access_total",
    );
    let series = &v["data"]["result"][0];
    assert_eq!(series["metric"]["severity"], "high");
    assert_eq!(series["metric"]["repo"], "shop");
    assert_eq!(series["value"][1], "1");

    // The webhook and the command get the same JSON, and no secret.
    let doc = posted
        .recv_timeout(Duration::from_secs(15))
        .expect("the webhook is posted");
    assert_eq!(doc["rule"], "aws-credentials");
    assert_eq!(doc["type"], "sensitive_access");
    let ran_doc = until(Duration::from_secs(15), "the command run", || {
        std::fs::read_to_string(&ran)
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
    });
    assert_eq!(ran_doc, doc);
    let metrics_text = http_get(&metrics).unwrap().1;
    for text in [doc.to_string(), metrics_text] {
        assert!(!text.contains(SECRET), "{text}");
    }
    // One access, one alert: later ticks and lines do not send it again.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    writeln!(
        f,
        "{}",
        json!({"type": "user", "uuid": "u2", "parentUuid": "a1", "sessionId": sid, "cwd": cwd, "timestamp": now_rfc3339(), "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "[default]"}]}})
    )
    .unwrap();
    drop(f);
    assert!(posted.recv_timeout(Duration::from_secs(3)).is_err());
    drop(watch);
}
