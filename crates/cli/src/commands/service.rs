//! `sessiontrail service install|uninstall`: `watch` as a user service, from the files
//! shipped in `service/` (a systemd user unit, a launchd agent) with this binary, the store
//! and the watch arguments filled in. The arguments are checked as `watch` would check them
//! before anything is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use clap::Parser;

use crate::args::{PlatformArg, ServiceCommand, ServiceInstallArgs};
use crate::{exit, settings};

const UNIT: &str = include_str!("../../../../service/sessiontrail-watch.service");
const PLIST: &str = include_str!("../../../../service/dev.sessiontrail.watch.plist");
const UNIT_NAME: &str = "sessiontrail-watch.service";
const LABEL: &str = "dev.sessiontrail.watch";

pub fn run(
    cmd: ServiceCommand,
    store: &Path,
    store_given: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    match cmd {
        ServiceCommand::Install(a) => install(&a, store, store_given, out),
        ServiceCommand::Uninstall(a) => uninstall(&a, out),
    }
}

fn platform(a: &ServiceInstallArgs) -> PlatformArg {
    a.platform.unwrap_or(if cfg!(target_os = "macos") {
        PlatformArg::Launchd
    } else {
        PlatformArg::Systemd
    })
}

fn file_of(p: PlatformArg) -> anyhow::Result<PathBuf> {
    let home = settings::home().context("cannot find the home folder (HOME is not set)")?;
    Ok(match p {
        PlatformArg::Systemd => std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map_or_else(|| home.join(".config"), PathBuf::from)
            .join("systemd/user")
            .join(UNIT_NAME),
        PlatformArg::Launchd => home
            .join("Library/LaunchAgents")
            .join(format!("{LABEL}.plist")),
    })
}

fn install(
    a: &ServiceInstallArgs,
    store: &Path,
    store_given: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let exe = std::env::current_exe().context("cannot find the sessiontrail binary")?;
    let mut argv = vec![exe.display().to_string()];
    if store_given {
        argv.extend(["--store".to_owned(), store.display().to_string()]);
    }
    argv.push("watch".into());
    argv.extend(a.watch_args.iter().cloned());
    // Refused here, not in a restart loop at login.
    crate::args::Cli::try_parse_from(&argv).map_err(|e| {
        anyhow::anyhow!(
            "the watch arguments would not start: {}",
            e.to_string().trim()
        )
    })?;
    let p = platform(a);
    let path = file_of(p)?;
    let text = match p {
        PlatformArg::Systemd => UNIT.replace(
            "@EXEC_START@",
            &argv
                .iter()
                .map(|s| systemd_quote(s))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        PlatformArg::Launchd => {
            let logs = settings::home()
                .unwrap_or_default()
                .join("Library/Logs/sessiontrail");
            PLIST
                .replace(
                    "@PROGRAM_ARGUMENTS@",
                    &argv
                        .iter()
                        .map(|s| format!("    <string>{}</string>", xml_escape(s)))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
                .replace("@LOG_DIR@", &xml_escape(&logs.display().to_string()))
        }
    };
    let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == text);
    if !unchanged {
        let dir = path.parent().context("the service file has no folder")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    writeln!(
        out,
        "{} {}",
        if unchanged { "unchanged:" } else { "wrote" },
        path.display()
    )?;
    if a.no_start {
        writeln!(out, "not started (--no-start): {}", start_hint(p, &path))?;
        return Ok(exit::OK);
    }
    let steps: Vec<Vec<String>> = match p {
        PlatformArg::Systemd => vec![
            vec!["systemctl".into(), "--user".into(), "daemon-reload".into()],
            vec![
                "systemctl".into(),
                "--user".into(),
                "enable".into(),
                "--now".into(),
                UNIT_NAME.into(),
            ],
        ],
        PlatformArg::Launchd => vec![
            // A loaded agent is replaced: out first (failing when it was not loaded is fine).
            vec!["launchctl".into(), "bootout".into(), gui_domain_label()],
            vec![
                "launchctl".into(),
                "bootstrap".into(),
                gui_domain(),
                path.display().to_string(),
            ],
        ],
    };
    let last = steps.len() - 1;
    for (i, step) in steps.iter().enumerate() {
        match Command::new(&step[0]).args(&step[1..]).output() {
            Ok(o) if o.status.success() => {}
            Ok(_) if p == PlatformArg::Launchd && i == 0 => {}
            Ok(o) => anyhow::bail!(
                "`{}` failed: {} (the file is written; {})",
                step.join(" "),
                String::from_utf8_lossy(&o.stderr).trim(),
                start_hint(p, &path)
            ),
            Err(e) => anyhow::bail!(
                "cannot run {}: {e} (the file is written; {})",
                step[0],
                start_hint(p, &path)
            ),
        }
        if i == last {
            writeln!(out, "started: `{}`", step.join(" "))?;
        }
    }
    Ok(exit::OK)
}

fn uninstall(a: &ServiceInstallArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let p = platform(a);
    let path = file_of(p)?;
    if !a.no_start && path.exists() {
        let step: Vec<String> = match p {
            PlatformArg::Systemd => vec![
                "systemctl".into(),
                "--user".into(),
                "disable".into(),
                "--now".into(),
                UNIT_NAME.into(),
            ],
            PlatformArg::Launchd => vec!["launchctl".into(), "bootout".into(), gui_domain_label()],
        };
        match Command::new(&step[0]).args(&step[1..]).output() {
            Ok(o) if o.status.success() => writeln!(out, "stopped: `{}`", step.join(" "))?,
            Ok(o) => eprintln!(
                "sessiontrail: `{}`: {} (removing the file anyway)",
                step.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => eprintln!(
                "sessiontrail: cannot run {}: {e} (removing the file anyway)",
                step[0]
            ),
        }
    }
    match std::fs::remove_file(&path) {
        Ok(()) => writeln!(out, "removed {}", path.display())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            writeln!(out, "nothing to remove: {} does not exist", path.display())?;
        }
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    if p == PlatformArg::Systemd && !a.no_start {
        let _ = Command::new("systemctl")
            .args(["--user", "daemon-reload"])
            .output();
    }
    Ok(exit::OK)
}

fn start_hint(p: PlatformArg, path: &Path) -> String {
    match p {
        PlatformArg::Systemd => format!(
            "start it with `systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}`"
        ),
        PlatformArg::Launchd => format!(
            "start it with `launchctl bootstrap {} {}`",
            gui_domain(),
            path.display()
        ),
    }
}

fn gui_domain() -> String {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("gui/{uid}")
}

fn gui_domain_label() -> String {
    format!("{}/{LABEL}", gui_domain())
}

/// One word of an ExecStart line: quoted, with systemd's specifiers and variables escaped.
fn systemd_quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn exec_start_words_survive_systemd() {
        assert_eq!(super::systemd_quote("/opt/my app/st"), "\"/opt/my app/st\"");
        assert_eq!(super::systemd_quote("50%$HOME\"x"), "\"50%%$$HOME\\\"x\"");
    }
}
