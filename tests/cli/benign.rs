//! The benign corpus (`tests/fixtures/benign/`, see its README): real text a naive secret
//! detector flags (lock-file integrity hashes, go.sum and Nix hashes, certificates, public
//! keys, documentation keys, placeholders, data URIs, minified code, source maps, ids,
//! terminal escapes, long identifiers and URLs). None of it is a secret: the redactor must
//! find nothing in it, and a session that reads, greps and writes it must raise no alert and
//! carry no redaction marker. The real Claude Code fixtures are held to the same standard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sessiontrail_policy::SecretRedactor;

use crate::secrets::session::Builder;
use crate::util::*;

fn corpus_dir() -> PathBuf {
    repo_fixtures().join("benign")
}

/// (path relative to the corpus, text) of every UTF-8 file of the corpus.
fn corpus() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = corpus_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let out: Vec<(String, String)> = files
        .iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(p).unwrap()).ok()?;
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            Some((rel, text))
        })
        .collect();
    assert!(out.len() >= 25, "the corpus is there: {} files", out.len());
    out
}

fn snippet(s: &str) -> String {
    let one: String = s.chars().take(48).collect();
    one.replace('\n', "\\n")
}

#[test]
fn the_redactor_finds_nothing_in_the_benign_corpus() {
    let r = SecretRedactor::new();
    let mut findings = Vec::new();
    for (rel, text) in corpus() {
        for (s, e, kind) in r.find(&text) {
            let line = text[..s].matches('\n').count() + 1;
            findings.push(format!(
                "  benign/{rel}:{line}: {kind}: {}",
                snippet(&text[s..e])
            ));
        }
    }
    assert!(
        findings.is_empty(),
        "{} findings in benign text:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

/// A session in which the agent reads every corpus file (Read and `cat`), greps each folder
/// and writes every third file back.
fn benign_session() -> String {
    let mut b = Builder::new("be9190c0-0000-4000-8000-00000000be91".to_owned());
    b.prompt("audit the lock files, certificates and docs of this repository");
    for (i, (rel, text)) in corpus().iter().enumerate() {
        let path = format!("/home/ana/shop/{rel}");
        let numbered: String = text
            .lines()
            .enumerate()
            .map(|(n, l)| format!("{:>6}\t{l}\n", n + 1))
            .collect();
        let lines = text.lines().count();
        b.tool(
            "Read",
            json!({"file_path": path}),
            json!(numbered),
            json!({"type": "text", "file": {"filePath": path, "content": text, "numLines": lines, "startLine": 1, "totalLines": lines}}),
        );
        b.tool(
            "Bash",
            json!({"command": format!("cat {rel}"), "description": format!("Show {rel}")}),
            json!(text),
            json!({"stdout": text, "stderr": "", "interrupted": false, "isImage": false}),
        );
        let dir = Path::new(&path)
            .parent()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        b.tool(
            "Grep",
            json!({"pattern": "sha(256|512)|integrity|BEGIN|base64", "path": dir, "output_mode": "content"}),
            json!(text.lines().take(20).collect::<Vec<_>>().join("\n")),
            json!({"mode": "content", "numFiles": 1, "filenames": [path]}),
        );
        if i % 3 == 0 {
            b.tool(
                "Write",
                json!({"file_path": path, "content": text}),
                json!(format!("File created successfully at: {path}")),
                json!({"type": "create", "filePath": path}),
            );
        }
    }
    b.lines.join("\n") + "\n"
}

/// Every redaction marker in `show --json` output: (span name, attribute, kinds).
fn markers(spans: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in spans {
        let Some(attrs) = s["attributes"].as_object() else {
            continue;
        };
        for (k, v) in attrs {
            let text = v.to_string();
            let kinds: Vec<&str> = text
                .split("[REDACTED:")
                .skip(1)
                .map(|r| r.split(':').next().unwrap_or(""))
                .collect();
            if !kinds.is_empty() {
                out.push(format!(
                    "  {} {} {}: {}",
                    s["attributes"]["session.id"].as_str().unwrap_or("?"),
                    s["name"].as_str().unwrap_or("?"),
                    k,
                    kinds.join(", ")
                ));
            }
        }
    }
    out
}

fn alerts(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            format!(
                "  {} {} {}: {}",
                h["session_id"].as_str().unwrap_or("?"),
                h["tool"].as_str().unwrap_or("?"),
                h["rules"],
                h["targets"]
                    .to_string()
                    .chars()
                    .take(160)
                    .collect::<String>()
            )
        })
        .collect()
}

/// Exports `dir`, returns (alerts, markers) over every stored session.
fn export_and_look(env: &TestEnv, dir: &Path) -> (Vec<String>, Vec<String>) {
    env.run(&["export", dir.to_str().unwrap()], 0);
    let hits = json_lines(&env.run(&["query", "--sensitive", "--json"], 0));
    let mut marks = Vec::new();
    for s in json_lines(&env.run(&["sessions", "--json"], 0)) {
        let id = s["session_id"]
            .as_str()
            .or(s["id"].as_str())
            .unwrap()
            .to_owned();
        marks.extend(markers(&json_lines(&env.run(&["show", &id, "--json"], 0))));
    }
    (alerts(&hits), marks)
}

#[test]
fn a_session_over_the_benign_corpus_raises_nothing_and_redacts_nothing() {
    let env = TestEnv::new();
    let dir = env.path("projects/-home-ana-shop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("be9190c0-0000-4000-8000-00000000be91.jsonl"),
        benign_session(),
    )
    .unwrap();
    let (alerts, marks) = export_and_look(&env, &dir);
    assert!(
        alerts.is_empty() && marks.is_empty(),
        "{} sensitive-access alerts:\n{}\n{} redaction markers in show --json:\n{}",
        alerts.len(),
        alerts.join("\n"),
        marks.len(),
        marks.join("\n")
    );
}

/// Alerts on the real fixtures that a security team would want: (session id prefix, rule).
const WANTED: &[(&str, &str)] = &[];

#[test]
fn the_real_fixtures_raise_only_wanted_alerts_and_redact_nothing() {
    let env = TestEnv::new();
    let (alerts, marks) = export_and_look(&env, &claude_fixtures());
    let unwanted: Vec<&String> = alerts
        .iter()
        .filter(|a| {
            !WANTED
                .iter()
                .any(|(sid, rule)| a.trim_start().starts_with(sid) && a.contains(rule))
        })
        .collect();
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &marks {
        for k in m.rsplit(": ").next().unwrap().split(", ") {
            *per_kind.entry(k).or_default() += 1;
        }
    }
    assert!(
        unwanted.is_empty() && marks.is_empty(),
        "{} unwanted alerts on the real fixtures:\n{}\n{} redaction markers ({per_kind:?}):\n{}",
        unwanted.len(),
        unwanted
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        marks.len(),
        marks.join("\n")
    );
}
