//! `sessiontrail git install|uninstall|post-commit`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sessiontrail_store::Store;

use crate::args::{GitArgs, GitCommand};
use crate::exit;

fn dir(repo: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match repo {
        Some(d) => Ok(d),
        None => std::env::current_dir().context("cannot read the current folder"),
    }
}

pub fn run(a: GitArgs, store: &Path, out: &mut dyn Write) -> anyhow::Result<u8> {
    match a.command {
        GitCommand::Install { repo } => {
            let exe = std::env::current_exe().context("cannot find the sessiontrail binary")?;
            let done = sessiontrail_git::install(&dir(repo)?, &exe)?;
            if done.already {
                writeln!(out, "already installed: {}", done.hook.display())?;
            } else {
                writeln!(
                    out,
                    "installed {}{}",
                    done.hook.display(),
                    done.chained
                        .map(|c| format!(" (runs the existing hook first, now {})", c.display()))
                        .unwrap_or_default()
                )?;
            }
            Ok(exit::OK)
        }
        GitCommand::Uninstall { repo } => {
            let removed = sessiontrail_git::uninstall(&dir(repo)?)?;
            writeln!(
                out,
                "{}",
                if removed {
                    "removed the sessiontrail hook and settings"
                } else {
                    "nothing to remove"
                }
            )?;
            Ok(exit::OK)
        }
        GitCommand::PostCommit { repo } => {
            // A hook must never disturb git: report and succeed.
            if let Err(e) = post_commit(&dir(repo)?, store, out) {
                tracing::warn!("post-commit: {}", crate::format::error_chain(&e));
            }
            Ok(exit::OK)
        }
    }
}

/// Links HEAD to the sessions that were working on this repository (the rules are the
/// pipeline's).
fn post_commit(dir: &Path, store_path: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    if !store_path.exists() {
        return Ok(());
    }
    let mut store = Store::open(store_path)?;
    let url = std::env::var("SESSIONTRAIL_TRACE_URL").ok();
    for l in sessiontrail_pipeline::link_head(dir, &mut store, url.as_deref())? {
        writeln!(out, "linked {} to session {}", &l.sha[..12], l.session_id)?;
    }
    Ok(())
}
