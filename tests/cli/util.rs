//! The harness: every test runs the real binary with HOME, the store and the agent folders
//! pointed at its own temporary directory, and no OTEL_* variables from the outside.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store").join("st.db");
        TestEnv { dir, store }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sessiontrail"));
        for (k, _) in std::env::vars() {
            if k.starts_with("OTEL_")
                || k.starts_with("SESSIONTRAIL_")
                || k == "CLAUDE_CONFIG_DIR"
                || k == "RUST_LOG"
                || k == "XDG_DATA_HOME"
            {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.dir.path().join("home"))
            .env("SESSIONTRAIL_STORE", &self.store)
            .args(args);
        c
    }

    /// Runs and returns the output, printing everything useful when `expect` fails.
    pub fn run(&self, args: &[&str], expect: i32) -> Output {
        self.run_cmd(self.cmd(args), expect)
    }

    /// Runs with no file allowed to grow past `blocks` of 512 bytes (`ulimit -f`: a write
    /// past it fails as on a full disk), and fails the test if the run takes over a minute.
    pub fn run_with_file_limit(&self, args: &[&str], blocks: u32) -> Output {
        let plain = self.cmd(args);
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                r#"trap '' XFSZ; ulimit -f {blocks}; exec "$0" "$@""#
            ))
            .arg(plain.get_program())
            .args(plain.get_args());
        for (k, v) in plain.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let mut child = c
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run sh");
        let started = std::time::Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if started.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().expect("kill");
                panic!("{args:?} still running after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.wait_with_output().expect("output")
    }

    pub fn run_cmd(&self, mut c: Command, expect: i32) -> Output {
        let out = c.output().expect("run sessiontrail");
        if out.status.code() != Some(expect) {
            panic!(
                "expected exit {expect}, got {:?}\ncommand: {:?}\nstdout:\n{}\nstderr:\n{}",
                out.status.code(),
                c,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The shared fixtures: `$SESSIONTRAIL_FIXTURES`, else `../shared/fixtures` beside the
/// checkout.
pub fn shared_fixtures() -> PathBuf {
    if let Some(p) = std::env::var_os("SESSIONTRAIL_FIXTURES") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    assert!(
        p.is_dir(),
        "shared fixtures not found at {} (set SESSIONTRAIL_FIXTURES)",
        p.display()
    );
    p
}

pub fn claude_fixtures() -> PathBuf {
    shared_fixtures().join("real/claude")
}

/// The fixtures shipped in this repository.
pub fn repo_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// A span read back from OTLP/JSON.
#[derive(Debug, Clone)]
pub struct JSpan {
    pub trace_id: String,
    pub span_id: String,
    pub parent: Option<String>,
    pub name: String,
    pub start: u64,
    pub end: u64,
    pub status_code: i64,
    pub attrs: BTreeMap<String, Value>,
    pub events: Vec<Value>,
    pub resource: BTreeMap<String, Value>,
}

impl JSpan {
    pub fn str(&self, k: &str) -> Option<&str> {
        self.attrs.get(k).and_then(Value::as_str)
    }
    pub fn int(&self, k: &str) -> Option<i64> {
        self.attrs.get(k).and_then(Value::as_i64)
    }
}

fn any_value(v: &Value) -> Value {
    if let Some(s) = v.get("stringValue") {
        return s.clone();
    }
    if let Some(i) = v.get("intValue") {
        // OTLP/JSON writes 64-bit integers as strings.
        return i
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .map_or_else(|| i.clone(), Value::from);
    }
    if let Some(b) = v.get("boolValue") {
        return b.clone();
    }
    if let Some(d) = v.get("doubleValue") {
        return d.clone();
    }
    if let Some(a) = v.get("arrayValue") {
        return Value::Array(
            a.get("values")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().map(any_value).collect())
                .unwrap_or_default(),
        );
    }
    Value::Null
}

fn attrs(list: Option<&Value>) -> BTreeMap<String, Value> {
    list.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|kv| {
                    (
                        kv["key"].as_str().unwrap().to_owned(),
                        any_value(&kv["value"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads an OTLP/JSON lines file; checks the encoding rules on the way (hex ids, string
/// 64-bit times).
pub fn read_otlp_json(path: &Path) -> Vec<JSpan> {
    let text = std::fs::read_to_string(path).expect("read OTLP file");
    let mut spans = Vec::new();
    for line in text.lines() {
        let req: Value = serde_json::from_str(line).expect("each line is one JSON request");
        for rs in req["resourceSpans"].as_array().expect("resourceSpans") {
            let resource = attrs(rs["resource"].get("attributes"));
            for ss in rs["scopeSpans"].as_array().expect("scopeSpans") {
                assert_eq!(ss["scope"]["name"], "sessiontrail");
                for s in ss["spans"].as_array().expect("spans") {
                    let hex = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
                    let trace_id = hex(&s["traceId"]).expect("traceId");
                    let span_id = hex(&s["spanId"]).expect("spanId");
                    assert!(
                        trace_id.len() == 32 && trace_id.chars().all(|c| c.is_ascii_hexdigit()),
                        "{trace_id}"
                    );
                    assert!(
                        span_id.len() == 16 && span_id.chars().all(|c| c.is_ascii_hexdigit()),
                        "{span_id}"
                    );
                    let time = |k: &str| {
                        s[k].as_str()
                            .unwrap_or_else(|| panic!("{k} is a string"))
                            .parse::<u64>()
                            .unwrap()
                    };
                    spans.push(JSpan {
                        trace_id,
                        span_id,
                        parent: s.get("parentSpanId").and_then(hex),
                        name: s["name"].as_str().unwrap().to_owned(),
                        start: time("startTimeUnixNano"),
                        end: time("endTimeUnixNano"),
                        status_code: s
                            .get("status")
                            .and_then(|st| st.get("code"))
                            .and_then(Value::as_i64)
                            .unwrap_or(0),
                        attrs: attrs(s.get("attributes")),
                        events: s
                            .get("events")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default(),
                        resource: resource.clone(),
                    });
                }
            }
        }
    }
    spans
}

/// Spans grouped by trace.
pub fn by_trace(spans: &[JSpan]) -> BTreeMap<String, Vec<JSpan>> {
    let mut m: BTreeMap<String, Vec<JSpan>> = BTreeMap::new();
    for s in spans {
        m.entry(s.trace_id.clone()).or_default().push(s.clone());
    }
    m
}

/// Checks what every trace must satisfy: one root, parents inside the trace, ends after
/// starts, unique span ids, the session id on every span.
pub fn assert_well_formed(trace: &[JSpan]) {
    let ids: BTreeSet<&str> = trace.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(ids.len(), trace.len(), "span ids are unique");
    let roots: Vec<_> = trace.iter().filter(|s| s.parent.is_none()).collect();
    assert_eq!(
        roots.len(),
        1,
        "exactly one root: {:?}",
        roots.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let session = roots[0]
        .str("gen_ai.conversation.id")
        .expect("root has the session id")
        .to_owned();
    for s in trace {
        if let Some(p) = &s.parent {
            assert!(
                ids.contains(p.as_str()),
                "parent of {} is in the trace",
                s.name
            );
        }
        assert!(s.end >= s.start, "{} ends at or after it starts", s.name);
        assert!(
            s.start > 1_000_000_000_000_000_000,
            "{} has a historical, real time",
            s.name
        );
        assert_eq!(s.str("gen_ai.conversation.id"), Some(session.as_str()));
        assert_eq!(s.str("session.id"), Some(session.as_str()));
    }
}

/// GET `url` with `curl` (on every machine the tests run on; it keeps an HTTP client out of
/// the tests): the status and the body, `None` when nothing answers.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.parse().ok()?, body.to_owned()))
}
