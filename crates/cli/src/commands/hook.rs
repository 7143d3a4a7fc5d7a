//! `sessiontrail hook` (the agent's hook entry) and `hook install|uninstall`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sessiontrail_sources::hook_config;

use crate::args::{AgentArg, HookArgs, HookCommand, HookInstallArgs, ScopeArg};
use crate::{exit, settings};

pub fn run(
    a: HookArgs,
    store: &Path,
    store_given: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    match a.command {
        None => Ok(receive(&a, store)),
        Some(HookCommand::Install(i)) => install(&i, store, store_given, out),
        Some(HookCommand::Uninstall(i)) => uninstall(&i, out),
    }
}

/// The hook itself: stdin to the spool, exit 0 whatever happens (a hook that fails or
/// waits slows or blocks the agent). No network, no git, no store, no lock.
fn receive(a: &HookArgs, store: &Path) -> u8 {
    let mut stdin = std::io::stdin().lock();
    if stdin.is_terminal() {
        eprintln!(
            "sessiontrail hook: reads the agent's hook event (JSON) on stdin; `sessiontrail hook install` registers it"
        );
        return exit::OK;
    }
    let mut payload = Vec::new();
    if let Err(e) = stdin.read_to_end(&mut payload) {
        eprintln!("sessiontrail hook: cannot read stdin: {e}");
    }
    let spool = settings::spool_path(store);
    if let Err(e) = sessiontrail_sources::spool::append(
        &spool,
        agent_name(a.agent),
        a.event.as_deref(),
        &payload,
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
        sessiontrail_sources::spool::secret_env_names,
    ) {
        eprintln!(
            "sessiontrail hook: cannot append to {}: {e}",
            spool.display()
        );
    }
    exit::OK
}

fn agent_name(a: AgentArg) -> &'static str {
    match a {
        AgentArg::Claude => "claude",
    }
}

fn settings_path(i: &HookInstallArgs) -> anyhow::Result<PathBuf> {
    Ok(match i.scope {
        ScopeArg::User => match settings::claude_config_dir() {
            Some(d) => d.join("settings.json"),
            None => settings::home()
                .context(
                    "cannot find Claude Code's settings: neither CLAUDE_CONFIG_DIR nor HOME is set",
                )?
                .join(".claude/settings.json"),
        },
        ScopeArg::Project => {
            let dir = match &i.project_dir {
                Some(d) => d.clone(),
                None => std::env::current_dir().context("cannot read the current folder")?,
            };
            dir.join(".claude/settings.json")
        }
    })
}

fn install(
    i: &HookInstallArgs,
    store: &Path,
    store_given: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let exe = std::env::current_exe().context("cannot find the sessiontrail binary")?;
    let mut command = format!(
        "{} hook --agent {}",
        quote(&exe.display().to_string()),
        agent_name(i.agent)
    );
    // The hook runs in the agent's environment: a store chosen here must be named.
    if store_given {
        command.push_str(" --store ");
        command.push_str(&quote(&store.display().to_string()));
    }
    let path = settings_path(i)?;
    let done = hook_config::edit_file(&path, |t| {
        hook_config::install_text(&path, t, &command, hook_config::CLAUDE_EVENTS)
    })?;
    report(&done, "installed", &command, i.json, out)?;
    Ok(exit::OK)
}

fn uninstall(i: &HookInstallArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let path = settings_path(i)?;
    let done = hook_config::edit_file(&path, |t| hook_config::uninstall_text(&path, t))?;
    report(&done, "removed", "", i.json, out)?;
    Ok(exit::OK)
}

fn report(
    done: &hook_config::Edited,
    verb: &str,
    command: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(
            &mut *out,
            &serde_json::json!({
                "settings": done.path.display().to_string(),
                verb: done.events,
                "command": (!command.is_empty()).then_some(command),
                "backup": done.backup.as_ref().map(|b| b.display().to_string()),
            }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    if done.events.is_empty() {
        let what = if verb == "installed" {
            "already installed"
        } else {
            "nothing to remove"
        };
        writeln!(out, "{what}: {}", done.path.display())?;
        return Ok(());
    }
    writeln!(
        out,
        "{verb} sessiontrail hook for {} event{} in {}: {}",
        done.events.len(),
        if done.events.len() == 1 { "" } else { "s" },
        done.path.display(),
        done.events.join(", ")
    )?;
    if let Some(b) = &done.backup {
        writeln!(out, "the file as it was: {}", b.display())?;
    }
    Ok(())
}

/// A word for the shell the agent runs hooks with.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
