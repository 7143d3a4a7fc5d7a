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
        for m in &mut t.sensitive {
            fix(&mut m.target);
        }
    }
}

#[cfg(test)]
mod tests {
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
