//! Registering `sessiontrail hook` in an agent's settings (Claude Code's `settings.json`:
//! event -> matcher groups -> handlers, FORMATS.md 2), surgically: the file is edited in
//! place, every byte outside the handlers we own is kept (other keys, their order, the
//! file's indentation), installing twice changes nothing, and uninstalling removes exactly
//! what we added. A malformed file is reported with its line and column and left as it is.

use std::io::Write;
use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstArray, CstInputValue, CstNode, CstObject, CstRootNode};

/// The Claude Code events sessiontrail listens to: name, whether a tool matcher applies,
/// and the handler's timeout in seconds (the unit Claude Code reads). The hook returns in
/// milliseconds; the timeout only bounds a machine in trouble, and `SessionEnd`'s is short
/// because all its hooks share 1.5 s.
pub const CLAUDE_EVENTS: &[(&str, bool, u64)] = &[
    ("SessionStart", false, 5),
    ("UserPromptSubmit", false, 5),
    ("PreToolUse", true, 5),
    ("PermissionRequest", true, 5),
    ("PermissionDenied", true, 5),
    ("PostToolUse", true, 5),
    ("PostToolUseFailure", true, 5),
    ("SubagentStart", false, 5),
    ("SubagentStop", false, 5),
    ("Stop", false, 5),
    ("PreCompact", false, 5),
    ("SessionEnd", false, 1),
];

/// A settings file that cannot be edited.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Not JSON (left untouched).
    #[error("{}:{line}:{column}: not valid JSON ({reason}); the file was left as it is", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where (1-based).
        line: usize,
        /// See `line`.
        column: usize,
        /// What the parser said.
        reason: String,
    },
    /// JSON, but not in the agent's shape where we would write.
    #[error("{}: {what}; the file was left as it is", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The file.
    pub path: PathBuf,
    /// Events whose handler was added or changed (install) or removed (uninstall).
    pub events: Vec<String>,
    /// Where the file as it was before is kept, when it changed and existed.
    pub backup: Option<PathBuf>,
}

/// Whether a handler's command is one of ours: `sessiontrail` (any path) running `hook`.
pub fn is_ours(command: &str) -> bool {
    let command = command.trim_start();
    // The program may be quoted (a path with spaces), as `install` writes it.
    let (program, rest) = match command.chars().next() {
        Some(q @ ('\'' | '"')) => match command[1..].find(q) {
            Some(end) => (&command[1..=end], &command[end + 2..]),
            None => return false,
        },
        _ => command
            .split_once(char::is_whitespace)
            .unwrap_or((command, "")),
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    name == "sessiontrail" && rest.split_whitespace().next() == Some("hook")
}

/// Adds `command` as a handler of every event in `events` to the settings `text` (an
/// empty text is an empty object), or brings ours up to date. Returns the new text and
/// the events that changed.
pub fn install_text(
    path: &Path,
    text: &str,
    command: &str,
    events: &[(&str, bool, u64)],
) -> Result<(String, Vec<String>), SettingsError> {
    let (root, obj) = parse(path, text)?;
    let shape = |what: String| SettingsError::Shape {
        path: path.to_owned(),
        what,
    };
    let hooks = obj
        .object_value_or_create("hooks")
        .ok_or_else(|| shape("\"hooks\" is not an object".into()))?;
    let mut changed = Vec::new();
    for &(event, matcher, timeout) in events {
        let groups = hooks
            .array_value_or_create(event)
            .ok_or_else(|| shape(format!("\"hooks\".\"{event}\" is not an array")))?;
        let mine = handlers(&groups)
            .into_iter()
            .filter(|h| command_of(h).is_some_and(|c| is_ours(&c)))
            .collect::<Vec<_>>();
        if mine.is_empty() {
            let mut group = Vec::new();
            if matcher {
                group.push(("matcher".to_owned(), CstInputValue::from("*")));
            }
            group.push((
                "hooks".to_owned(),
                CstInputValue::Array(vec![handler(command, timeout)]),
            ));
            groups.append(CstInputValue::Object(group));
            changed.push(event.to_owned());
            continue;
        }
        let mut touched = false;
        for h in &mine {
            if command_of(h).as_deref() != Some(command) {
                set(h, "command", CstInputValue::from(command));
                touched = true;
            }
            let t = h
                .get("timeout")
                .and_then(|p| p.value())
                .and_then(|v| v.to_serde_value());
            if t.as_ref().and_then(|v| v.as_u64()) != Some(timeout) {
                set(h, "timeout", CstInputValue::from(timeout));
                touched = true;
            }
        }
        if touched {
            changed.push(event.to_owned());
        }
    }
    Ok((finish(&root, text), changed))
}

/// Removes every handler of ours from the settings `text`, and the groups and events it
/// leaves empty (an empty `"hooks"` too). Returns the new text and the events that changed.
pub fn uninstall_text(path: &Path, text: &str) -> Result<(String, Vec<String>), SettingsError> {
    let (root, obj) = parse(path, text)?;
    let Some(hooks) = obj.object_value("hooks") else {
        return Ok((text.to_owned(), Vec::new()));
    };
    let mut changed = Vec::new();
    for prop in hooks.properties() {
        let Some(event) = prop.name().and_then(|n| n.decoded_value().ok()) else {
            continue;
        };
        let Some(groups) = prop.array_value() else {
            continue;
        };
        let mut removed = false;
        for h in handlers(&groups) {
            if command_of(&h).is_some_and(|c| is_ours(&c)) {
                removed = true;
                h.remove();
            }
        }
        if !removed {
            continue;
        }
        changed.push(event);
        for g in groups.elements() {
            let Some(go) = g.as_object() else { continue };
            if go
                .array_value("hooks")
                .is_some_and(|a| a.elements().is_empty())
            {
                go.remove();
            }
        }
        if groups.elements().is_empty() {
            prop.remove();
        }
    }
    if changed.is_empty() {
        return Ok((text.to_owned(), changed));
    }
    if hooks.properties().is_empty()
        && let Some(p) = obj.get("hooks")
    {
        p.remove();
    }
    Ok((finish(&root, text), changed))
}

/// Applies `edit` to the file at `path` (missing: an empty object): written through a
/// temporary file and a rename, with its permissions, after a copy of the old file to
/// `<path>.sessiontrail-backup`. Nothing is written when nothing changes.
pub fn edit_file(
    path: &Path,
    edit: impl FnOnce(&str) -> Result<(String, Vec<String>), SettingsError>,
) -> Result<Edited, SettingsError> {
    let io = |source| SettingsError::Io {
        path: path.to_owned(),
        source,
    };
    let old = match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let text = match &old {
        Some(b) => std::str::from_utf8(b).map_err(|e| SettingsError::Malformed {
            path: path.to_owned(),
            line: 1 + b[..e.valid_up_to()].iter().filter(|&&c| c == b'\n').count(),
            column: 1 + b[..e.valid_up_to()]
                .iter()
                .rev()
                .take_while(|&&c| c != b'\n')
                .count(),
            reason: "not UTF-8".into(),
        })?,
        None => "",
    };
    let (new, events) = edit(text)?;
    let mut done = Edited {
        path: path.to_owned(),
        events,
        backup: None,
    };
    if new == text {
        return Ok(done);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    if let Some(b) = &old {
        let backup = backup_path(path);
        std::fs::write(&backup, b).map_err(io)?;
        done.backup = Some(backup);
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(new.as_bytes()).map_err(io)?;
    if let Ok(m) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), m.permissions()).map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(done)
}

/// Where [`edit_file`] keeps the file as it was.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sessiontrail-backup");
    PathBuf::from(s)
}

fn parse(path: &Path, text: &str) -> Result<(CstRootNode, CstObject), SettingsError> {
    // The agent reads strict JSON: check it that way, for a line and column it would give.
    if !text.trim().is_empty()
        && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text)
    {
        return Err(SettingsError::Malformed {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            reason: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    let root = CstRootNode::parse(text, &jsonc_parser::ParseOptions::default()).map_err(|e| {
        SettingsError::Malformed {
            path: path.to_owned(),
            line: e.line_display(),
            column: e.column_display(),
            reason: e.kind().to_string(),
        }
    })?;
    let obj = match root.value() {
        None => root.object_value_or_set(),
        Some(_) => root.object_value().ok_or_else(|| SettingsError::Shape {
            path: path.to_owned(),
            what: "the settings are not a JSON object".into(),
        })?,
    };
    Ok((root, obj))
}

/// The new text: the file's own trailing newline kept (a new file gets one).
fn finish(root: &CstRootNode, old: &str) -> String {
    let mut s = root.to_string();
    if (old.ends_with('\n') || old.trim().is_empty()) && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Every handler object of every group of an event.
fn handlers(groups: &CstArray) -> Vec<CstObject> {
    let mut out = Vec::new();
    for g in groups.elements() {
        let Some(list) = g.as_object().and_then(|o| o.array_value("hooks")) else {
            continue;
        };
        for h in list.elements() {
            if let Some(o) = h.as_object() {
                out.push(o);
            }
        }
    }
    out
}

fn command_of(h: &CstObject) -> Option<String> {
    let v = h.get("command")?.value()?;
    match v {
        CstNode::Leaf(_) => v.as_string_lit()?.decoded_value().ok(),
        CstNode::Container(_) => None,
    }
}

fn set(h: &CstObject, key: &str, value: CstInputValue) {
    match h.get(key) {
        Some(p) => p.set_value(value),
        None => {
            h.append(key, value);
        }
    }
}

fn handler(command: &str, timeout: u64) -> CstInputValue {
    CstInputValue::Object(vec![
        ("type".to_owned(), CstInputValue::from("command")),
        ("command".to_owned(), CstInputValue::from(command)),
        ("timeout".to_owned(), CstInputValue::from(timeout)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "/opt/bin/sessiontrail hook --agent claude";

    fn install(text: &str) -> (String, Vec<String>) {
        install_text(Path::new("settings.json"), text, CMD, CLAUDE_EVENTS).unwrap()
    }

    #[test]
    fn installs_into_an_empty_or_missing_file() {
        for text in ["", "{}\n"] {
            let (new, events) = install(text);
            assert_eq!(events.len(), CLAUDE_EVENTS.len());
            let v: serde_json::Value = serde_json::from_str(&new).unwrap();
            let pre = &v["hooks"]["PreToolUse"][0];
            assert_eq!(pre["matcher"], "*");
            assert_eq!(pre["hooks"][0]["command"], CMD);
            assert_eq!(pre["hooks"][0]["timeout"], 5);
            assert_eq!(v["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"], 1);
            assert!(v["hooks"]["SessionEnd"][0].get("matcher").is_none());
            assert!(new.ends_with('\n'));
        }
    }

    #[test]
    fn keeps_everything_else_and_is_idempotent() {
        let text = r#"{
  "model": "opus",
  "permissions": {
    "allow": ["Bash(git status)"]
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "./guard.sh"
          }
        ]
      }
    ]
  },
  "zeta": 1
}
"#;
        let (once, _) = install(text);
        let (twice, events) = install(&once);
        assert_eq!(once, twice);
        assert!(events.is_empty());
        let v: serde_json::Value = serde_json::from_str(&once).unwrap();
        assert_eq!(
            v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
            "./guard.sh"
        );
        assert_eq!(v["hooks"]["PreToolUse"][1]["hooks"][0]["command"], CMD);
        // Other keys stay in their order, with their formatting.
        let keys = ["\"model\"", "\"permissions\"", "\"hooks\"", "\"zeta\""];
        let at: Vec<usize> = keys.iter().map(|k| once.find(k).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]));
        assert!(once.starts_with("{\n  \"model\": \"opus\",\n  \"permissions\": {\n    \"allow\": [\"Bash(git status)\"]\n  },"));
        // Uninstalling gives back the file as it was.
        let (back, removed) = uninstall_text(Path::new("s"), &once).unwrap();
        assert_eq!(removed.len(), CLAUDE_EVENTS.len());
        assert_eq!(back, text);
    }

    #[test]
    fn updates_an_older_handler_of_ours() {
        let text = r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"/old/sessiontrail hook","timeout":60}]}]}}"#;
        let (new, events) = install(text);
        assert!(events.contains(&"Stop".to_owned()));
        let v: serde_json::Value = serde_json::from_str(&new).unwrap();
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 1);
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], CMD);
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["timeout"], 5);
    }

    #[test]
    fn uninstall_without_ours_changes_nothing() {
        let text = "{\n  \"hooks\": {\"Stop\": [{\"hooks\": [{\"type\": \"command\", \"command\": \"x\"}]}]}\n}\n";
        let (new, events) = uninstall_text(Path::new("s"), text).unwrap();
        assert_eq!(new, text);
        assert!(events.is_empty());
    }

    #[test]
    fn malformed_or_misshapen_files_are_reported_with_where() {
        let e = install_text(
            Path::new("s.json"),
            "{\n  \"a\": 1,\n  \"b\" 2\n}",
            CMD,
            CLAUDE_EVENTS,
        )
        .unwrap_err();
        match e {
            SettingsError::Malformed { line, column, .. } => assert_eq!((line, column), (3, 7)),
            e => panic!("{e}"),
        }
        let e =
            install_text(Path::new("s.json"), "{\"hooks\": []}", CMD, CLAUDE_EVENTS).unwrap_err();
        assert!(e.to_string().contains("\"hooks\" is not an object"), "{e}");
        let e = install_text(Path::new("s.json"), "[1]", CMD, CLAUDE_EVENTS).unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
        let e = install_text(Path::new("s.json"), "{} // c", CMD, CLAUDE_EVENTS).unwrap_err();
        assert!(matches!(e, SettingsError::Malformed { .. }), "{e}");
    }

    #[test]
    fn recognises_our_command() {
        assert!(is_ours("sessiontrail hook"));
        assert!(is_ours("'/home/a b/sessiontrail' hook --store x"));
        assert!(is_ours("/usr/local/bin/sessiontrail hook --agent claude"));
        assert!(!is_ours("sessiontrail export"));
        assert!(!is_ours("./hook.sh sessiontrail"));
        assert!(!is_ours("/opt/sessiontrail-dev/guard hook"));
    }

    #[test]
    fn file_edits_keep_a_backup_and_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".claude/settings.json");
        let d = edit_file(&p, |t| install_text(&p, t, CMD, CLAUDE_EVENTS)).unwrap();
        assert!(d.backup.is_none());
        assert!(p.is_file());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let before = std::fs::read_to_string(&p).unwrap();
        let d = edit_file(&p, |t| uninstall_text(&p, t)).unwrap();
        assert_eq!(std::fs::read_to_string(d.backup.unwrap()).unwrap(), before);
        assert_eq!(std::fs::read_to_string(&p).unwrap().trim(), "{}");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        std::fs::write(&p, "{\"a\":").unwrap();
        let e = edit_file(&p, |t| install_text(&p, t, CMD, CLAUDE_EVENTS)).unwrap_err();
        assert!(
            e.to_string().contains("settings.json:1:5: not valid JSON"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"a\":");
    }
}
