//! Checked settings, resolved once per run: flag > environment > default.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sessiontrail_model::{ContentLevel, ContentOptions};

/// The store to use: `--store`/`SESSIONTRAIL_STORE` (clap resolves both), else
/// `$XDG_DATA_HOME/sessiontrail/sessiontrail.db`, else `~/.local/share/...`.
pub fn store_path(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_owned());
    }
    let data = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => home()
            .context("cannot find the store: HOME is not set (use --store or SESSIONTRAIL_STORE)")?
            .join(".local/share"),
    };
    Ok(data.join("sessiontrail").join("sessiontrail.db"))
}

/// The hook spool of a store: beside it, as SQLite keeps its log (`<store>-hooks.jsonl`),
/// so that `hook` and `watch` given the same store agree.
pub fn spool_path(store: &Path) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push("-hooks.jsonl");
    PathBuf::from(s)
}

pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$CLAUDE_CONFIG_DIR`, when set.
pub fn claude_config_dir() -> Option<PathBuf> {
    std::env::var_os("CLAUDE_CONFIG_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Claude Code's projects folder (which may not exist).
pub fn claude_projects() -> anyhow::Result<PathBuf> {
    sessiontrail_sources::claude_projects_dir(claude_config_dir().as_deref(), home().as_deref())
        .context("cannot find Claude Code sessions: neither CLAUDE_CONFIG_DIR nor HOME is set (pass files or folders instead)")
}

/// How files are read: the flags, the policy in force, where the agent keeps its files.
pub fn parse_options(
    a: &crate::args::ReadArgs,
    content: ContentOptions,
) -> anyhow::Result<sessiontrail_sources::ParseOptions> {
    Ok(sessiontrail_sources::ParseOptions {
        content,
        max_line_bytes: a.max_line_bytes.max(1024),
        rules: std::sync::Arc::new(rules(a.policy.as_deref())?),
        home: home().map(|h| h.display().to_string()),
        claude_config_dir: claude_config_dir(),
    })
}

/// What goes into every trace: this machine, this user, `OTEL_RESOURCE_ATTRIBUTES`.
pub fn trace_options(content: ContentOptions) -> anyhow::Result<sessiontrail_trace::TraceOptions> {
    Ok(sessiontrail_trace::TraceOptions {
        content,
        host_name: Some(gethostname::gethostname().to_string_lossy().into_owned())
            .filter(|h| !h.is_empty()),
        user_name: std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .ok()
            .filter(|u| !u.is_empty()),
        resource_attributes: resource_attributes()?,
    })
}

/// `--max-request-bytes`, checked.
pub fn max_request_bytes(n: usize) -> anyhow::Result<usize> {
    if n < 1024 {
        bail!("--max-request-bytes must be at least 1024, not {n}");
    }
    Ok(n)
}

pub fn content(
    level: crate::args::ContentArg,
    max_attribute_bytes: usize,
) -> anyhow::Result<ContentOptions> {
    if max_attribute_bytes < 16 {
        bail!("--max-attribute-bytes must be at least 16, not {max_attribute_bytes}");
    }
    let level = match level {
        crate::args::ContentArg::None => ContentLevel::None,
        crate::args::ContentArg::Redacted => ContentLevel::Redacted,
        crate::args::ContentArg::Full => ContentLevel::Full,
    };
    // Secrets are looked for at every level: detection needs them even when no text is kept.
    Ok(ContentOptions {
        level,
        max_attribute_bytes,
        redactor: Some(std::sync::Arc::new(
            sessiontrail_policy::SecretRedactor::new(),
        )),
    })
}

/// The policy file in force: the flag, else `$XDG_CONFIG_HOME/sessiontrail/policy.toml` (or
/// `~/.config/...`) when it exists.
pub fn policy_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_owned());
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config")))?;
    Some(config.join("sessiontrail").join("policy.toml")).filter(|p| p.is_file())
}

/// The rules in force; every problem of the policy file is reported with its line.
pub fn rules(flag: Option<&Path>) -> anyhow::Result<sessiontrail_policy::RuleSet> {
    match policy_path(flag) {
        None => Ok(sessiontrail_policy::RuleSet::builtin()),
        Some(p) => sessiontrail_policy::RuleSet::load(&p).map_err(|errs| {
            let list: Vec<String> = errs.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "invalid policy file ({} problems):\n{}",
                errs.len(),
                list.join("\n")
            )
        }),
    }
}

/// `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`), added to every trace's resource.
pub fn resource_attributes() -> anyhow::Result<Vec<(String, String)>> {
    match std::env::var("OTEL_RESOURCE_ATTRIBUTES") {
        Ok(v) => Ok(sessiontrail_export::config::parse_headers(
            "OTEL_RESOURCE_ATTRIBUTES",
            &v,
        )?),
        Err(_) => Ok(Vec::new()),
    }
}
