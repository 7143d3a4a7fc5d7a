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
