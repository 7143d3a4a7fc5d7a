//! `sessiontrail git install|uninstall`: a `post-commit` hook that chains any hook already
//! there, `notes.rewriteRef` so notes follow amend and rebase, and the refspecs that fetch
//! and push `refs/notes/sessiontrail`. What install adds is recorded in the repository's
//! config (`sessiontrail.added`), so uninstall removes exactly that.

use std::path::{Path, PathBuf};

use crate::{GitError, NOTES_REF};

const MARK: &str = "# sessiontrail post-commit hook";
const CHAINED: &str = "post-commit.sessiontrail-chained";

/// What install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The hook file.
    pub hook: PathBuf,
    /// An existing hook it now runs first.
    pub chained: Option<PathBuf>,
    /// Whether it was already installed.
    pub already: bool,
}

/// The values of a multi-valued config key.
fn values(cfg: &git2::Config, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = cfg.multivar(key, None) {
        let _ = entries.for_each(|e| {
            if let Ok(v) = e.value() {
                out.push(v.to_owned());
            }
        });
    }
    out
}

fn hooks_dir(repo: &git2::Repository) -> Result<PathBuf, GitError> {
    let cfg = repo.config()?;
    if let Ok(p) = cfg.get_path("core.hooksPath") {
        let base = repo.workdir().unwrap_or_else(|| repo.path());
        return Ok(if p.is_absolute() { p } else { base.join(p) });
    }
    Ok(repo.commondir().join("hooks"))
}

/// Installs the hook in the repository of `dir`; `exe` is the sessiontrail it runs.
pub fn install(dir: &Path, exe: &Path) -> Result<Installed, GitError> {
    let repo =
        git2::Repository::discover(dir).map_err(|_| GitError::NotARepository(dir.to_owned()))?;
    let hooks = hooks_dir(&repo)?;
    std::fs::create_dir_all(&hooks).map_err(|e| GitError::Io {
        what: hooks.display().to_string(),
        source: e,
    })?;
    let hook = hooks.join("post-commit");
    let io = |what: &Path, e| GitError::Io {
        what: what.display().to_string(),
        source: e,
    };
    if std::fs::read_to_string(&hook).is_ok_and(|t| t.contains(MARK)) {
        return Ok(Installed {
            hook,
            chained: None,
            already: true,
        });
    }
    let chained = if hook.exists() {
        let to = hooks.join(CHAINED);
        std::fs::rename(&hook, &to).map_err(|e| io(&hook, e))?;
        Some(to)
    } else {
        None
    };
    let script = format!(
        "#!/bin/sh\n{MARK} (installed by `sessiontrail git install`; `sessiontrail git uninstall` removes it)\n\
         here=$(dirname \"$0\")\n\
         status=0\n\
         if [ -x \"$here/{CHAINED}\" ]; then \"$here/{CHAINED}\" \"$@\" || status=$?; fi\n\
         \"{exe}\" git post-commit >/dev/null 2>&1 || true\n\
         exit $status\n",
        exe = exe.display()
    );
    std::fs::write(&hook, script).map_err(|e| io(&hook, e))?;
    make_executable(&hook).map_err(|e| io(&hook, e))?;
    let mut cfg = repo.config()?;
    let mut added = Vec::new();
    let mut add = |key: &str, value: &str, cfg: &mut git2::Config| -> Result<(), GitError> {
        if !values(cfg, key).iter().any(|v| v == value) {
            cfg.set_multivar(key, "^$", value)?;
            added.push(format!("{key}={value}"));
        }
        Ok(())
    };
    add("notes.rewriteRef", NOTES_REF, &mut cfg)?;
    for remote in repo.remotes()?.iter().flatten().flatten() {
        let fetch = format!("+{NOTES_REF}:{NOTES_REF}");
        add(&format!("remote.{remote}.fetch"), &fetch, &mut cfg)?;
        // A push refspec replaces git's default push; `HEAD` keeps pushing the current branch.
        if values(&cfg, &format!("remote.{remote}.push")).is_empty() {
            add(&format!("remote.{remote}.push"), "HEAD", &mut cfg)?;
        }
        add(&format!("remote.{remote}.push"), NOTES_REF, &mut cfg)?;
    }
    for a in &added {
        cfg.set_multivar("sessiontrail.added", "^$", a)?;
    }
    Ok(Installed {
        hook,
        chained,
        already: false,
    })
}

/// Removes what install added, and puts back a hook it chained.
pub fn uninstall(dir: &Path) -> Result<bool, GitError> {
    let repo =
        git2::Repository::discover(dir).map_err(|_| GitError::NotARepository(dir.to_owned()))?;
    let hooks = hooks_dir(&repo)?;
    let hook = hooks.join("post-commit");
    let ours = std::fs::read_to_string(&hook).is_ok_and(|t| t.contains(MARK));
    let io = |what: &Path, e| GitError::Io {
        what: what.display().to_string(),
        source: e,
    };
    if ours {
        std::fs::remove_file(&hook).map_err(|e| io(&hook, e))?;
        let chained = hooks.join(CHAINED);
        if chained.exists() {
            std::fs::rename(&chained, &hook).map_err(|e| io(&chained, e))?;
        }
    }
    let mut cfg = repo.config()?;
    let added = values(&cfg, "sessiontrail.added");
    for a in &added {
        if let Some((key, value)) = a.split_once('=') {
            cfg.remove_multivar(key, &format!("^{}$", regex_escape(value)))?;
        }
    }
    if !added.is_empty() {
        cfg.remove_multivar("sessiontrail.added", ".*")?;
    }
    Ok(ours || !added.is_empty())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.^$|?*+()[]{}".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(unix)]
fn make_executable(p: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}
