//! Every real Claude Code session in the shared fixtures, exported and checked against an
//! independent reading of the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tokens {
    input: i64,
    output: i64,
    cache_read: i64,
    cache_creation: i64,
}

#[derive(Debug, Default)]
struct Expected {
    tool_ids: BTreeSet<String>,
    calls: BTreeMap<(String, String), Tokens>,
}

fn jsonl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            jsonl_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "jsonl") {
            out.push(p);
        }
    }
}

/// What the files say, read with plain serde_json and none of our code: tool_use ids, and
/// model calls keyed by (message id, request id) with their usage merged by maximum.
fn expected(root: &Path) -> BTreeMap<String, Expected> {
    let mut files = Vec::new();
    jsonl_files(root, &mut files);
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let Some(sid) = lines.iter().find_map(|r| r["sessionId"].as_str()) else {
            continue;
        };
        let e = out.entry(sid.to_owned()).or_default();
        for r in &lines {
            let mut records = vec![r];
            if r["type"] == "progress" && r["data"]["type"] == "agent_progress" {
                records.push(&r["data"]["message"]);
            }
            for rec in records {
                if rec["type"] != "assistant" || rec["message"]["model"] == "<synthetic>" {
                    continue;
                }
                let m = &rec["message"];
                let key = (
                    m["id"].as_str().unwrap_or("").to_owned(),
                    rec["requestId"].as_str().unwrap_or("").to_owned(),
                );
                let u = &m["usage"];
                let t = e.calls.entry(key).or_default();
                let get = |k: &str| u[k].as_i64().unwrap_or(0);
                t.input = t.input.max(get("input_tokens"));
                t.output = t.output.max(get("output_tokens"));
                t.cache_read = t.cache_read.max(get("cache_read_input_tokens"));
                t.cache_creation = t.cache_creation.max(get("cache_creation_input_tokens"));
                for b in m["content"].as_array().into_iter().flatten() {
                    if b["type"] == "tool_use" {
                        e.tool_ids.insert(b["id"].as_str().unwrap().to_owned());
                    }
                }
            }
        }
    }
    out
}

fn sum(calls: impl Iterator<Item = Tokens>) -> Tokens {
    calls.fold(Tokens::default(), |a, b| Tokens {
        input: a.input + b.input,
        output: a.output + b.output,
        cache_read: a.cache_read + b.cache_read,
        cache_creation: a.cache_creation + b.cache_creation,
    })
}

fn chat_tokens(s: &JSpan) -> Tokens {
    let cache_read = s.int("gen_ai.usage.cache_read.input_tokens").unwrap();
    let cache_creation = s.int("gen_ai.usage.cache_creation.input_tokens").unwrap();
    Tokens {
        // gen_ai.usage.input_tokens counts cached input too (GenAI conventions).
        input: s.int("gen_ai.usage.input_tokens").unwrap() - cache_read - cache_creation,
        output: s.int("gen_ai.usage.output_tokens").unwrap(),
        cache_read,
        cache_creation,
    }
}

fn export_all(env: &TestEnv) -> Vec<JSpan> {
    let out = env.path("out.jsonl");
    let o = env.run(
        &[
            "export",
            claude_fixtures().to_str().unwrap(),
            "--otlp-file",
            out.to_str().unwrap(),
            "--json",
        ],
        0,
    );
    let summary = &json_lines(&o)[0];
    assert_eq!(summary["skipped"]["lines"], 0, "{summary}");
    read_otlp_json(&out)
}

#[test]
fn every_tool_call_and_model_call_of_every_session_is_a_span_with_exact_tokens() {
    let env = TestEnv::new();
    let spans = export_all(&env);
    let expected = expected(&claude_fixtures());
    let traces = by_trace(&spans);
    assert_eq!(traces.len(), expected.len(), "one trace per session");
    for trace in traces.values() {
        assert_well_formed(trace);
        let root = trace.iter().find(|s| s.parent.is_none()).unwrap();
        let sid = root.str("session.id").unwrap();
        let e = &expected[sid];
        assert_eq!(root.name, "invoke_agent claude-code");
        assert_eq!(
            root.resource.get("service.name").and_then(Value::as_str),
            Some("claude-code")
        );

        let tool_ids: BTreeSet<String> = trace
            .iter()
            .filter(|s| s.name.starts_with("execute_tool "))
            .map(|s| s.str("gen_ai.tool.call.id").unwrap().to_owned())
            .collect();
        assert_eq!(tool_ids, e.tool_ids, "tool calls of {sid}");
        assert_eq!(
            trace
                .iter()
                .filter(|s| s.name.starts_with("execute_tool "))
                .count(),
            e.tool_ids.len(),
            "one span per tool call in {sid}"
        );

        let chats: Vec<&JSpan> = trace
            .iter()
            .filter(|s| s.str("gen_ai.operation.name") == Some("chat"))
            .collect();
        assert_eq!(
            chats.len(),
            e.calls.len(),
            "one chat span per model call in {sid}"
        );
        assert_eq!(
            sum(chats.iter().map(|s| chat_tokens(s))),
            sum(e.calls.values().copied()),
            "tokens of {sid}"
        );
        for c in &chats {
            let key = (
                c.str("gen_ai.response.id").unwrap_or("").to_owned(),
                c.str("sessiontrail.request.id").unwrap_or("").to_owned(),
            );
            assert_eq!(
                chat_tokens(c),
                e.calls[&key],
                "usage of call {key:?} in {sid}"
            );
            assert_eq!(
                c.name,
                format!("chat {}", c.str("gen_ai.request.model").unwrap())
            );
        }
        // The root counts what is under it.
        assert_eq!(
            root.int("sessiontrail.tool_call.count"),
            Some(e.tool_ids.len() as i64)
        );
        assert_eq!(
            root.int("sessiontrail.model_call.count"),
            Some(e.calls.len() as i64)
        );
        let total = sum(e.calls.values().copied());
        assert_eq!(root.int("gen_ai.usage.output_tokens"), Some(total.output));
    }
}

/// The subagent of the spotter session: its own file and its copy in the parent's
/// progress records are one run, nested under the Task call that launched it.
#[test]
fn subagents_nest_under_the_call_that_launched_them() {
    let env = TestEnv::new();
    let spans = export_all(&env);
    let by_id: BTreeMap<&str, &JSpan> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let agents: Vec<&JSpan> = spans
        .iter()
        .filter(|s| s.name.starts_with("invoke_agent ") && s.parent.is_some())
        .collect();
    let names: BTreeSet<&str> = agents.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains("invoke_agent Explore")
            && names.contains("invoke_agent Plan")
            && names.contains("invoke_agent compact"),
        "{names:?}"
    );
    for a in &agents {
        let parent = by_id[a.parent.as_deref().unwrap()];
        if a.name == "invoke_agent compact" {
            assert!(
                parent.name.starts_with("turn "),
                "compaction runs inside a turn"
            );
            continue;
        }
        assert!(
            parent.name == "execute_tool Task" || parent.name == "execute_tool Agent",
            "{} under {}",
            a.name,
            parent.name
        );
        assert_eq!(
            parent.str("sessiontrail.subagent.type"),
            a.str("gen_ai.agent.name")
        );
        assert!(a.start >= parent.start);
    }
    // The Explore run of the spotter session has its file and 67 progress copies; its
    // model calls appear once, with the file's 12 requests.
    let explore = agents
        .iter()
        .find(|a| a.str("gen_ai.agent.id") == Some("a2898e3"))
        .expect("the a2898e3 run");
    let under_explore = |s: &JSpan| {
        let mut p = s.parent.as_deref();
        while let Some(id) = p {
            if id == explore.span_id {
                return true;
            }
            p = by_id[id].parent.as_deref();
        }
        false
    };
    assert_eq!(
        spans
            .iter()
            .filter(|s| s.name.starts_with("chat ") && under_explore(s))
            .count(),
        12
    );
    assert_eq!(
        spans
            .iter()
            .filter(|s| s.name.starts_with("execute_tool ") && under_explore(s))
            .count(),
        33
    );
    assert_eq!(
        explore.int("sessiontrail.subagent.reported.tool_calls"),
        Some(33)
    );
}

/// entireio-cli recorded its own token totals beside each session: they must match the
/// main agent's calls. They exclude subagents' calls (entire reads only the main
/// transcript), and some of its files carry no totals at all.
#[test]
fn token_totals_match_the_entire_metadata() {
    let env = TestEnv::new();
    let spans = export_all(&env);
    let by_id: BTreeMap<&str, &JSpan> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let dir = claude_fixtures().join("entireio-cli");
    let mut checked = 0;
    let mut files_checked = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".entire-metadata.json") {
            continue;
        }
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        // Older entries prefix the session id with the date.
        let full = meta["session_id"].as_str().unwrap();
        let sid = &full[full.len() - 36..];
        let in_session: Vec<&JSpan> = spans
            .iter()
            .filter(|s| s.str("session.id") == Some(sid))
            .collect();
        assert!(!in_session.is_empty(), "session {sid} exported");
        // Files the session wrote, as paths relative to the repository.
        let written: Vec<&str> = in_session
            .iter()
            .filter(|s| {
                matches!(
                    s.str("gen_ai.tool.name"),
                    Some("Write" | "Edit" | "MultiEdit")
                )
            })
            .filter_map(|s| s.str("file.path"))
            .collect();
        for f in meta["files_touched"].as_array().unwrap() {
            let f = f.as_str().unwrap();
            if written.iter().any(|w| w.ends_with(&format!("/{f}"))) {
                files_checked += 1;
            }
        }
        let Some(usage) = meta.get("token_usage") else {
            continue;
        };
        let main_chats: Vec<&&JSpan> = in_session
            .iter()
            .filter(|s| s.name.starts_with("chat "))
            .filter(|s| {
                // Main agent: the chain up to the root passes no subagent.
                let mut p = s.parent.as_deref();
                while let Some(id) = p {
                    let up = by_id[id];
                    if up.name.starts_with("invoke_agent ") && up.parent.is_some() {
                        return false;
                    }
                    p = up.parent.as_deref();
                }
                true
            })
            .collect();
        let t = sum(main_chats.iter().map(|s| chat_tokens(s)));
        assert_eq!(
            main_chats.len() as i64,
            usage["api_call_count"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(t.input, usage["input_tokens"].as_i64().unwrap(), "{name}");
        assert_eq!(t.output, usage["output_tokens"].as_i64().unwrap(), "{name}");
        assert_eq!(
            t.cache_read,
            usage["cache_read_tokens"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            t.cache_creation,
            usage["cache_creation_tokens"].as_i64().unwrap(),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "three entire sessions carry token totals");
    assert!(
        files_checked > 0,
        "files entire saw touched are among those written"
    );
}

#[test]
fn outcomes_follow_the_results() {
    let env = TestEnv::new();
    let spans = export_all(&env);
    let outcomes: BTreeMap<&str, usize> = spans
        .iter()
        .filter_map(|s| s.str("sessiontrail.tool.outcome"))
        .fold(BTreeMap::new(), |mut m, o| {
            *m.entry(o).or_default() += 1;
            m
        });
    // spotter `short.jsonl`: the user refused both Edit calls.
    assert!(outcomes["rejected"] >= 3, "{outcomes:?}");
    assert!(outcomes["error"] >= 20, "{outcomes:?}");
    for s in spans.iter().filter(|s| s.name.starts_with("execute_tool ")) {
        let failed = matches!(
            s.str("sessiontrail.tool.outcome"),
            Some("error" | "interrupted" | "no_result")
        );
        assert_eq!(
            s.status_code == 2,
            failed,
            "status of {} {:?}",
            s.name,
            s.str("sessiontrail.tool.outcome")
        );
        assert_eq!(s.attrs.contains_key("error.type"), failed);
    }
    // Compaction and hook runs are span events, not lost records.
    let events: BTreeSet<&str> = spans
        .iter()
        .flat_map(|s| s.events.iter())
        .filter_map(|e| e["name"].as_str())
        .collect();
    for e in [
        "sessiontrail.compaction",
        "sessiontrail.compaction.summary",
        "sessiontrail.hook",
        "sessiontrail.interrupted",
        "sessiontrail.synthetic_message",
    ] {
        assert!(events.contains(e), "{e} in {events:?}");
    }
    // MCP calls carry their server and tool.
    let mcp: Vec<&JSpan> = spans
        .iter()
        .filter(|s| {
            s.str("gen_ai.tool.name")
                .is_some_and(|n| n.starts_with("mcp__"))
        })
        .collect();
    assert!(!mcp.is_empty());
    for s in mcp {
        assert_eq!(s.str("mcp.method.name"), Some("tools/call"));
        let name = s.str("gen_ai.tool.name").unwrap();
        assert_eq!(
            name,
            format!(
                "mcp__{}__{}",
                s.str("sessiontrail.mcp.server").unwrap(),
                s.str("sessiontrail.mcp.tool").unwrap()
            )
        );
    }
    // File tools name their file; shell calls their program.
    for s in spans
        .iter()
        .filter(|s| matches!(s.str("gen_ai.tool.name"), Some("Read" | "Write" | "Edit")))
    {
        assert!(
            s.str("file.path").is_some_and(|p| p.starts_with('/')),
            "{:?}",
            s.attrs
        );
    }
    assert!(
        spans
            .iter()
            .filter(|s| s.str("gen_ai.tool.name") == Some("Bash"))
            .all(|s| s.str("process.executable.name").is_some())
    );
}

/// The real sessions are ordinary development work: nothing in them is a secret or a
/// sensitive access, so nothing may be flagged or redacted (the false-positive check of the
/// redaction formats and the rules on 2,452 real lines).
#[test]
fn real_sessions_raise_no_false_alarm() {
    let env = TestEnv::new();
    let out = env.path("out.jsonl");
    env.run(
        &[
            "export",
            claude_fixtures().to_str().unwrap(),
            "--otlp-file",
            out.to_str().unwrap(),
        ],
        0,
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("[REDACTED:"),
        "a redaction in the real sessions"
    );
    let hits = json_lines(&env.run(&["query", "--sensitive", "--json"], 0));
    assert!(hits.is_empty(), "{hits:?}");
}
