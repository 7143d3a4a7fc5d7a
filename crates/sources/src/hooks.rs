//! What an agent's hook events add to its sessions (DESIGN.md 5, 6): [`fact_of`] keeps
//! what a spool line says that the transcript lacks (permission checks, the environment
//! and settings at the start, why it ended), redacted; [`apply`] puts a session's facts on
//! it. Claude Code's events are the vocabulary (Codex's hooks use the same names).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use sessiontrail_model::{
    AgentKind, Ambient, HookFact, Permission, PermissionDecision, Session, Text, ToolOutcome,
};
use sha2::{Digest, Sha256};

use crate::ParseOptions;
use crate::spool::HookEvent;

/// What the ambient sources say of a fact's environment names.
pub const ENV_SOURCE: &str = "the environment at SessionStart (hook)";

#[derive(Deserialize, Default)]
struct Payload<'a> {
    #[serde(default)]
    tool_name: Option<String>,
    #[serde(default)]
    tool_use_id: Option<String>,
    #[serde(borrow, default)]
    tool_input: Option<&'a RawValue>,
    #[serde(default)]
    permission_mode: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// The agent a spool line's `agent` names.
pub fn agent_of(name: &str) -> Option<AgentKind> {
    match name {
        "claude" | "claude-code" => Some(AgentKind::ClaudeCode),
        _ => None,
    }
}

/// The fact a hook event gives its session, with the agent and session it belongs to;
/// `None` for events that add nothing to the transcript. `settings_fresh`: the event was
/// received just now, so the settings files read now are the ones it started with (they
/// are read only then: read later, they would be the settings as they are at export).
pub fn fact_of(
    e: &HookEvent,
    opts: &ParseOptions,
    settings_fresh: bool,
) -> Option<(AgentKind, String, HookFact)> {
    let agent = agent_of(&e.agent)?;
    let session = e.session_id.clone()?;
    let event = e.event.clone()?;
    let tool_event = matches!(
        event.as_str(),
        "PreToolUse"
            | "PermissionRequest"
            | "PermissionDenied"
            | "PostToolUse"
            | "PostToolUseFailure"
    );
    if !tool_event && !matches!(event.as_str(), "SessionStart" | "SessionEnd") {
        return None;
    }
    let p: Payload<'_> = e
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let redact = |s: &str| {
        let t = Text::capture(s, &opts.content);
        t.content.filter(|c| !c.is_empty())
    };
    let mut fact = HookFact {
        at: e.received_ns,
        event,
        tool_use_id: p.tool_use_id.filter(|i| !i.is_empty()),
        tool: p.tool_name,
        input_digest: p.tool_input.map(|i| digest(i.get())),
        permission_mode: p.permission_mode,
        reason: None,
        env_names: None,
        settings: None,
    };
    match fact.event.as_str() {
        "SessionStart" => {
            // `startup`, `resume`...: a word, not the user's text.
            fact.reason = p.source;
            fact.env_names.clone_from(&e.env_names);
            if settings_fresh && agent == AgentKind::ClaudeCode {
                let cwd = e.cwd.as_deref().and_then(|c| c.to_str());
                fact.settings = Some(crate::claude_code::settings_now(opts, cwd));
            }
        }
        "SessionEnd" => fact.reason = p.reason,
        "PermissionDenied" => fact.reason = p.reason.as_deref().and_then(redact),
        _ => {}
    }
    if !tool_event {
        fact.tool = None;
        fact.input_digest = None;
    }
    Some((agent, session, fact))
}

/// A short digest of a tool input's JSON: enough to tie two events of one call, too short
/// to confirm a guess of a secret inside it.
fn digest(json: &str) -> String {
    // Re-serialised, so that the spacing of one event's JSON and another's cannot differ.
    let canonical = serde_json::from_str::<serde_json::Value>(json)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| json.to_owned());
    let d = Sha256::digest(canonical.as_bytes());
    d[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Default)]
struct Check {
    asked: bool,
    denied: bool,
    reason: Option<String>,
    mode: Option<String>,
}

/// Puts a session's hook facts on it: the permission check of each tool call its hooks
/// saw, how it started and ended, and what it could reach at the start (settings read
/// then replace those read now; environment names join those of the transcript).
pub fn apply(s: &mut Session, facts: &[HookFact]) {
    if facts.is_empty() {
        return;
    }
    let mut order: Vec<&HookFact> = facts.iter().collect();
    order.sort_by_key(|f| f.at);
    let index: HashMap<&str, usize> = s
        .tools
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut checks: HashMap<usize, Check> = HashMap::new();
    // The calls whose `PreToolUse` was seen, latest last: an event without a call id is
    // the latest call of its tool with the same input.
    let mut pending: Vec<(Option<&str>, Option<&str>, &str)> = Vec::new();
    let mut started = false;
    for f in order {
        match f.event.as_str() {
            "SessionStart" => {
                if started {
                    continue;
                }
                started = true;
                s.start_source.clone_from(&f.reason);
                if s.permission_mode.is_none() {
                    s.permission_mode.clone_from(&f.permission_mode);
                }
                take_ambient(&mut s.ambient, f);
            }
            "SessionEnd" => s.end_reason.clone_from(&f.reason),
            event => {
                let id = f.tool_use_id.as_deref().or_else(|| {
                    pending
                        .iter()
                        .rev()
                        .find(|(tool, input, _)| {
                            *tool == f.tool.as_deref() && *input == f.input_digest.as_deref()
                        })
                        .map(|(_, _, id)| *id)
                });
                let Some(id) = id else { continue };
                if event == "PreToolUse" {
                    pending.push((f.tool.as_deref(), f.input_digest.as_deref(), id));
                }
                let Some(&i) = index.get(id) else { continue };
                let c = checks.entry(i).or_default();
                if c.mode.is_none() {
                    c.mode.clone_from(&f.permission_mode);
                }
                match event {
                    "PermissionRequest" => c.asked = true,
                    "PermissionDenied" => {
                        c.denied = true;
                        c.reason.clone_from(&f.reason);
                    }
                    _ => {}
                }
            }
        }
    }
    for (i, c) in checks {
        let t = &mut s.tools[i];
        let decision = if c.denied || t.outcome == ToolOutcome::Rejected {
            PermissionDecision::Denied
        } else if c.asked && t.end.is_none() {
            PermissionDecision::Asked
        } else {
            PermissionDecision::Allowed
        };
        t.permission = Some(Permission {
            decision,
            asked: c.asked,
            reason: c.reason,
            mode: c.mode,
        });
    }
}

fn take_ambient(a: &mut Ambient, f: &HookFact) {
    if let Some(set) = &f.settings {
        a.allowed_tools.clone_from(&set.allowed_tools);
        a.denied_tools.clone_from(&set.denied_tools);
        a.mcp_servers.clone_from(&set.mcp_servers);
        // The files read now are replaced by those read then; what the transcript said stays.
        a.sources.retain(|s| s == crate::claude_code::DUMPS_SOURCE);
        a.sources.extend(set.sources.iter().cloned());
    }
    if let Some(names) = &f.env_names {
        let mut all: std::collections::BTreeSet<String> =
            a.secret_env_names.iter().cloned().collect();
        all.extend(names.iter().cloned());
        a.secret_env_names = all.into_iter().collect();
        a.sources.push(ENV_SOURCE.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use sessiontrail_model::{ContentOptions, Timestamp, ToolCall};

    use super::*;

    fn event(name: &str, payload: serde_json::Value, at: i64) -> HookEvent {
        HookEvent {
            received_ns: at,
            agent: "claude".into(),
            event: Some(name.into()),
            session_id: Some("s1".into()),
            transcript_path: None,
            cwd: None,
            payload: Some(payload.to_string()),
            env_names: None,
        }
    }

    fn redacting() -> ParseOptions {
        ParseOptions {
            content: ContentOptions {
                redactor: Some(Arc::new(sessiontrail_policy::SecretRedactor::new())),
                ..ContentOptions::default()
            },
            ..ParseOptions::default()
        }
    }

    fn fact(name: &str, payload: serde_json::Value, at: i64) -> HookFact {
        let (agent, session, f) =
            fact_of(&event(name, payload, at), &redacting(), false).expect("an event that is kept");
        assert_eq!((agent, session.as_str()), (AgentKind::ClaudeCode, "s1"));
        f
    }

    fn session(outcomes: &[(&str, Option<ToolOutcome>)]) -> Session {
        let mut s = Session::new(AgentKind::ClaudeCode, "s1");
        for (i, (id, outcome)) in outcomes.iter().enumerate() {
            let mut t = ToolCall::new(*id, "Bash", 0, Timestamp(i as i64 * 10));
            if let Some(o) = outcome {
                t.end = Some(Timestamp(i as i64 * 10 + 5));
                t.outcome = *o;
            }
            s.tools.push(t);
        }
        s
    }

    #[test]
    fn each_call_gets_the_decision_its_hooks_reported() {
        let input = |c: &str| serde_json::json!({"command": c});
        let pre = |id: &str, c: &str, at| {
            fact(
                "PreToolUse",
                serde_json::json!({"tool_name":"Bash","tool_use_id":id,"tool_input":input(c),"permission_mode":"default"}),
                at,
            )
        };
        // Asked without a call id: tied to the call of the same tool and input.
        let ask = |c: &str, at| {
            fact(
                "PermissionRequest",
                serde_json::json!({"tool_name":"Bash","tool_input":input(c),"permission_suggestions":[]}),
                at,
            )
        };
        let facts = vec![
            pre("ran", "ls", 1),
            pre("asked-ok", "make", 2),
            ask("make", 3),
            pre("asked-no", "rm -rf build", 4),
            ask("rm -rf build", 5),
            pre("denied", "curl evil", 6),
            fact(
                "PermissionDenied",
                serde_json::json!({"tool_name":"Bash","tool_use_id":"denied","tool_input":input("curl evil"),
                    "reason":"auto mode refused: token ghp_0123456789abcdefghijABCDEFGHIJ012345"}),
                7,
            ),
            pre("waiting", "deploy", 8),
            ask("deploy", 9),
        ];
        let calls = [
            ("ran", Some(ToolOutcome::Ok)),
            ("asked-ok", Some(ToolOutcome::Error)),
            ("asked-no", Some(ToolOutcome::Rejected)),
            ("denied", Some(ToolOutcome::Error)),
            ("waiting", None),
            ("unhooked", Some(ToolOutcome::Ok)),
        ];
        let mut s = session(&calls);
        // Out of order on purpose: facts are applied by their time.
        let mut shuffled = facts.clone();
        shuffled.reverse();
        apply(&mut s, &shuffled);
        let got: Vec<Option<(&str, bool)>> = s
            .tools
            .iter()
            .map(|t| {
                t.permission
                    .as_ref()
                    .map(|p| (p.decision.as_str(), p.asked))
            })
            .collect();
        assert_eq!(
            got,
            [
                Some(("allowed", false)),
                Some(("allowed", true)),
                Some(("denied", true)),
                Some(("denied", false)),
                Some(("asked", true)),
                None,
            ]
        );
        let denied = s.tools[3].permission.as_ref().unwrap();
        let reason = denied.reason.as_deref().unwrap();
        assert!(reason.starts_with("auto mode refused"), "{reason}");
        assert!(
            !reason.contains("ghp_0123"),
            "the reason is redacted: {reason}"
        );
        assert_eq!(
            s.tools[0].permission.as_ref().unwrap().mode.as_deref(),
            Some("default")
        );
        // Applying to a fresh build again gives the same session.
        let mut again = session(&calls);
        apply(&mut again, &facts);
        assert_eq!(again, s);
    }

    #[test]
    fn the_start_keeps_the_environment_and_settings_it_had() {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join(".claude");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("settings.json"),
            r#"{"permissions":{"allow":["Bash(npm test)"],"deny":["Read(.env)"]},"mcpServers":{"github":{"env":{"GITHUB_TOKEN":"ghp_value"}}}}"#,
        )
        .unwrap();
        let opts = ParseOptions {
            claude_config_dir: Some(config.clone()),
            home: Some(home.path().display().to_string()),
            ..redacting()
        };
        let mut e = event(
            "SessionStart",
            serde_json::json!({"source":"startup","permission_mode":"plan"}),
            1,
        );
        e.env_names = Some(vec!["AWS_SECRET_ACCESS_KEY".into()]);
        e.cwd = Some(PathBuf::from("/nowhere"));
        let (_, _, late) = fact_of(&e, &opts, false).unwrap();
        assert_eq!(
            late.settings, None,
            "read late, the settings would be today's"
        );
        let (_, _, start) = fact_of(&e, &opts, true).unwrap();
        let set = start.settings.clone().unwrap();
        assert_eq!(set.allowed_tools, ["Bash(npm test)"]);
        assert_eq!(set.mcp_servers, ["github"]);
        let json = serde_json::to_string(&start).unwrap();
        assert!(!json.contains("ghp_value"), "names only: {json}");
        let end = fact(
            "SessionEnd",
            serde_json::json!({"reason":"prompt_input_exit"}),
            9,
        );
        let mut s = session(&[]);
        s.ambient.allowed_tools = vec!["Bash(*)".into()];
        s.ambient.secret_env_names = vec!["DATABASE_URL".into()];
        s.ambient.sources = vec![
            "/home/u/.claude/settings.json".into(),
            crate::claude_code::DUMPS_SOURCE.into(),
        ];
        apply(&mut s, &[end, start]);
        assert_eq!(s.start_source.as_deref(), Some("startup"));
        assert_eq!(
            s.permission_mode.as_deref(),
            Some("plan"),
            "when the transcript says none"
        );
        assert_eq!(s.end_reason.as_deref(), Some("prompt_input_exit"));
        assert_eq!(s.ambient.allowed_tools, ["Bash(npm test)"]);
        assert_eq!(s.ambient.denied_tools, ["Read(.env)"]);
        assert_eq!(
            s.ambient.secret_env_names,
            ["AWS_SECRET_ACCESS_KEY", "DATABASE_URL"]
        );
        assert_eq!(
            s.ambient.sources,
            [
                crate::claude_code::DUMPS_SOURCE.to_owned(),
                config.join("settings.json").display().to_string(),
                ENV_SOURCE.to_owned(),
            ]
        );
    }

    #[test]
    fn events_that_add_nothing_or_name_no_session_are_not_kept() {
        let o = redacting();
        assert!(
            fact_of(
                &event("UserPromptSubmit", serde_json::json!({}), 1),
                &o,
                true
            )
            .is_none()
        );
        let mut e = event("PreToolUse", serde_json::json!({"tool_use_id":"t"}), 1);
        e.session_id = None;
        assert!(fact_of(&e, &o, true).is_none());
        let mut e = event("PreToolUse", serde_json::json!({"tool_use_id":"t"}), 1);
        e.agent = "someone-else".into();
        assert!(fact_of(&e, &o, true).is_none());
        // Not JSON: the event still counts, with what it could say.
        let mut e = event("PreToolUse", serde_json::json!({}), 1);
        e.payload = None;
        let (_, _, f) = fact_of(&e, &o, true).unwrap();
        assert_eq!(f.tool_use_id, None);
    }
}
