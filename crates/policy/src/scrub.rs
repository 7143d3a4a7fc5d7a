//! The content gate for the strings a session carries besides its captured texts: paths,
//! command lines, URLs, the working directory... Below `full`, each goes through the
//! redactor before anything else sees it.

use sessiontrail_model::{Access, ContentOptions, Session};

/// Applies the policy to a session an adapter built: evaluates the rules on each tool call
/// (on the raw strings), then redacts every raw string unless the level is `full`.
pub fn apply(
    s: &mut Session,
    rules: &crate::RuleSet,
    content: &ContentOptions,
    home: Option<&str>,
) {
    let cwd = s.cwd.clone();
    for t in &mut s.tools {
        t.sensitive = rules.evaluate(t, cwd.as_deref(), home);
    }
    scrub_session(s, content);
}

/// Redacts every raw string of `s` unless the level is `full`.
pub fn scrub_session(s: &mut Session, content: &ContentOptions) {
    if content.full() || content.redactor.is_none() {
        return;
    }
    let fix = |v: &mut String| {
        if let std::borrow::Cow::Owned(r) = content.scrub(v) {
            *v = r;
        }
    };
    for v in [
        &mut s.cwd,
        &mut s.git_branch,
        &mut s.entrypoint,
        &mut s.permission_mode,
    ]
    .into_iter()
    .flatten()
    {
        fix(v);
    }
    s.sources.iter_mut().for_each(fix);
    s.pull_requests.iter_mut().for_each(fix);
    let a = &mut s.ambient;
    for v in a
        .allowed_tools
        .iter_mut()
        .chain(a.denied_tools.iter_mut())
        .chain(a.mcp_servers.iter_mut())
        .chain(a.sources.iter_mut())
    {
        fix(v);
    }
    for t in &mut s.tools {
        for a in &mut t.access {
            match a {
                Access::FileRead(v)
                | Access::FileWrite(v)
                | Access::Search(v)
                | Access::Command(v)
                | Access::Url(v)
                | Access::WebSearch(v) => fix(v),
            }
        }
        // A secret's target is already its marker: redacting it again would fingerprint
        // the fingerprint.
        for m in t.sensitive.iter_mut().filter(|m| !is_marker(&m.target)) {
            fix(&mut m.target);
        }
    }
}

/// Whether `s` is exactly one redaction marker, `[REDACTED:<kind>:<fingerprint>]`.
fn is_marker(s: &str) -> bool {
    let Some(inner) = s
        .strip_prefix("[REDACTED:")
        .and_then(|r| r.strip_suffix(']'))
    else {
        return false;
    };
    let Some((kind, fingerprint)) = inner.rsplit_once(':') else {
        return false;
    };
    !kind.is_empty()
        && !fingerprint.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && fingerprint.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use sessiontrail_model::{
        AgentKind, ContentLevel, ContentOptions, Redactor, SecretFinding, SecretSpan,
        SensitiveMatch, Session, Severity, Timestamp, ToolCall, ToolOutcome, redaction_marker,
    };

    /// Redacts every `[`...`]` and every `pw=...` word: it would redact a marker again.
    #[derive(Debug)]
    struct Greedy;

    impl Redactor for Greedy {
        fn scan(&self, text: &str) -> Vec<SecretSpan> {
            let start = text.find('[').or_else(|| text.find("pw="));
            start
                .map(|start| SecretSpan {
                    start,
                    end: text.len(),
                    finding: SecretFinding {
                        kind: "secret-assignment".into(),
                        fingerprint: "ffffffff".into(),
                    },
                })
                .into_iter()
                .collect()
        }
    }

    #[test]
    fn secret_targets_keep_their_marker() {
        assert!(super::is_marker("[REDACTED:password-in-url:0a1b2c3d]"));
        assert!(!super::is_marker("[REDACTED:x:1] and more"));
        assert!(!super::is_marker("/tmp/[REDACTED:x:1]"));
        let marker = redaction_marker(&SecretFinding {
            kind: "password-in-url".into(),
            fingerprint: "0a1b2c3d".into(),
        });
        let mut s = Session::new(AgentKind::ClaudeCode, "s");
        let mut t = ToolCall {
            outcome: ToolOutcome::Ok,
            ..ToolCall::new("t", "Bash", 0, Timestamp(0))
        };
        for target in [marker.clone(), "/tmp/pw=hunter2".to_owned()] {
            t.sensitive.push(SensitiveMatch {
                rule: "r".into(),
                severity: Severity::High,
                category: "c".into(),
                target,
            });
        }
        s.tools.push(t);
        let content = ContentOptions {
            level: ContentLevel::Redacted,
            redactor: Some(std::sync::Arc::new(Greedy)),
            ..Default::default()
        };
        super::scrub_session(&mut s, &content);
        let targets: Vec<&str> = s.tools[0]
            .sensitive
            .iter()
            .map(|m| m.target.as_str())
            .collect();
        assert_eq!(
            targets,
            [
                marker.as_str(),
                "/tmp/[REDACTED:secret-assignment:ffffffff]"
            ]
        );
    }

    #[test]
    fn secret_env_names_by_name_only() {
        for yes in [
            "GITHUB_TOKEN",
            "aws_secret_access_key",
            "DB_PASSWORD",
            "OPENAI_API_KEY",
            "DATABASE_URL",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ] {
            assert!(crate::is_secret_env_name(yes), "{yes}");
        }
        for no in [
            "PATH",
            "HOME",
            "TERM",
            "EDITOR",
            "RUST_LOG",
            "KEYBOARD_LAYOUT",
        ] {
            assert!(!crate::is_secret_env_name(no), "{no}");
        }
    }
}
