//! What a Claude Code session could reach: permission rules and MCP servers from the
//! settings files (FORMATS.md 2: `~/.claude/settings.json`, the project's
//! `.claude/settings.json` and `.claude/settings.local.json`, `~/.claude.json`, `.mcp.json`).
//!
//! A backfill reads the files as they are when it runs, so it only reads them for sessions
//! of this machine: the user's files for transcripts under the local Claude folder, the
//! project's files when the session's working directory exists here. Each file read is
//! named in `Ambient::sources`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sessiontrail_model::Ambient;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Settings {
    #[serde(default)]
    permissions: Permissions,
    #[serde(default)]
    mcp_servers: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    enabled_mcpjson_servers: Vec<String>,
    #[serde(default)]
    projects: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct Permissions {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// Reads the settings that applied to a session of `cwd` read from `transcripts`.
pub(crate) fn read(
    config_dir: Option<&Path>,
    home: Option<&Path>,
    cwd: Option<&str>,
    transcripts: &[PathBuf],
) -> Ambient {
    let local = config_dir.is_some_and(|dir| {
        transcripts
            .iter()
            .any(|t| t.starts_with(dir.join("projects")))
    });
    read_settings(config_dir, home, cwd, local)
}

/// Reads the settings of a session of this machine running in `cwd` now (its hook said it
/// started): the user's files and the project's.
pub(crate) fn read_now(
    config_dir: Option<&Path>,
    home: Option<&Path>,
    cwd: Option<&str>,
) -> Ambient {
    read_settings(config_dir, home, cwd, true)
}

fn read_settings(
    config_dir: Option<&Path>,
    home: Option<&Path>,
    cwd: Option<&str>,
    local: bool,
) -> Ambient {
    let mut a = Ambient::default();
    let (mut allow, mut deny, mut servers) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut take = |path: PathBuf, project_key: Option<&str>| {
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        let Ok(s) = serde_json::from_str::<Settings>(&text) else {
            tracing::debug!(file = %path.display(), "settings file is not the JSON expected; skipped");
            return;
        };
        allow.extend(s.permissions.allow);
        deny.extend(s.permissions.deny);
        servers.extend(s.mcp_servers.keys().cloned());
        servers.extend(s.enabled_mcpjson_servers);
        if let Some(servers_of_project) = project_key
            .and_then(|k| s.projects.get(k))
            .and_then(|p| p.get("mcpServers"))
            .and_then(|m| m.as_object())
        {
            servers.extend(servers_of_project.keys().cloned());
        }
        a.sources.push(path.display().to_string());
    };
    if let (Some(dir), true) = (config_dir, local) {
        take(dir.join("settings.json"), None);
        take(dir.join(".claude.json"), cwd);
        if let Some(h) = home.filter(|h| h.join(".claude") == dir) {
            take(h.join(".claude.json"), cwd);
        }
    }
    if let Some(cwd) = cwd.map(Path::new).filter(|c| c.is_dir()) {
        take(cwd.join(".claude/settings.json"), None);
        take(cwd.join(".claude/settings.local.json"), None);
        take(cwd.join(".mcp.json"), None);
    }
    a.allowed_tools = allow.into_iter().collect();
    a.denied_tools = deny.into_iter().collect();
    a.mcp_servers = servers.into_iter().collect();
    a
}
