//! The hook spool (DESIGN.md 6): what an agent's hooks hand `sessiontrail hook`, one JSON
//! line per event, appended for `watch` to read like any other source.
//!
//! Writing is one `write` of a whole line on a file opened with `O_APPEND` (concurrent hooks
//! never interleave their lines on a local file system), mode 0600, and no `fsync`: the hook
//! must return within milliseconds even on a slow disk, and what an operating-system crash
//! can lose (the last events before it) the agent's own transcript still holds. Nothing here
//! parses more than it must: a payload is checked to be JSON, and a payload that is not is
//! kept as a string, so no event is ever dropped.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

/// A spool line's format version.
const VERSION: u32 = 1;

/// Appends one event: `agent` names who sent it, `event` the hook's name when the command
/// line gave it, `payload` the bytes read from the hook's stdin, `received_ns` the time.
/// At `SessionStart`, `env_names` gives the names of the secret-looking variables of the
/// environment the agent gave its hook (the agent's own): what the session could read.
/// The spool's folder is created (mode 0700) when missing.
pub fn append(
    path: &Path,
    agent: &str,
    event: Option<&str>,
    payload: &[u8],
    received_ns: i64,
    env_names: impl FnOnce() -> Vec<String>,
) -> io::Result<()> {
    let line = line(agent, event, payload, received_ns, env_names);
    let open = || {
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
    };
    let mut f = match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)?;
            }
            open()?
        }
        other => other?,
    };
    f.write_all(&line)
}

/// The names of the secret-looking variables of this process's environment, sorted.
pub fn secret_env_names() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| sessiontrail_policy::is_secret_env_name(k))
        .collect();
    names.sort();
    names
}

/// What `line` reads of a payload: checking it is JSON costs one pass, which yields this.
#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow, default)]
    hook_event_name: Option<std::borrow::Cow<'a, str>>,
}

/// The spool line of one event, newline included.
fn line(
    agent: &str,
    event: Option<&str>,
    payload: &[u8],
    received_ns: i64,
    env_names: impl FnOnce() -> Vec<String>,
) -> Vec<u8> {
    let trimmed = payload.trim_ascii();
    let mut out = Vec::with_capacity(trimmed.len() + 128);
    out.extend_from_slice(
        format!("{{\"v\":{VERSION},\"received_ns\":{received_ns},\"agent\":").as_bytes(),
    );
    push_json_string(&mut out, agent);
    if let Some(e) = event {
        out.extend_from_slice(b",\"event\":");
        push_json_string(&mut out, e);
    }
    let named = (!trimmed.is_empty())
        .then(|| serde_json::from_slice::<Named<'_>>(trimmed).ok())
        .flatten();
    let name = named
        .as_ref()
        .and_then(|n| n.hook_event_name.as_deref())
        .or(event);
    if name == Some("SessionStart") {
        out.extend_from_slice(b",\"env_names\":");
        serde_json::to_writer(&mut out, &env_names()).expect("writing to a Vec cannot fail");
    }
    // JSON that is not an object of that shape (an array, a name that is no string) is
    // still JSON, kept as such.
    let valid = named.is_some()
        || (!trimmed.is_empty()
            && serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_ok());
    if valid {
        out.extend_from_slice(b",\"payload\":");
        // Raw newlines can only be whitespace between tokens (a JSON string cannot hold
        // one), so a pretty-printed payload becomes one line without being re-encoded.
        out.extend(trimmed.iter().map(|&b| match b {
            b'\n' | b'\r' => b' ',
            b => b,
        }));
    } else {
        out.extend_from_slice(b",\"invalid\":");
        push_json_string(&mut out, &String::from_utf8_lossy(trimmed));
    }
    out.extend_from_slice(b"}\n");
    out
}

fn push_json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// One event read back from the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEvent {
    /// When `sessiontrail hook` received it.
    pub received_ns: i64,
    /// Who sent it (`claude`).
    pub agent: String,
    /// The hook's name: the payload's `hook_event_name`, else the command line's.
    pub event: Option<String>,
    /// The session the event belongs to.
    pub session_id: Option<String>,
    /// The agent's transcript of that session.
    pub transcript_path: Option<PathBuf>,
    /// The session's working folder.
    pub cwd: Option<PathBuf>,
    /// The payload as the agent wrote it (`None` when it was not JSON).
    pub payload: Option<String>,
    /// At `SessionStart`: the secret-looking variable names of the agent's environment.
    pub env_names: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(default)]
    received_ns: i64,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    event: Option<String>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(default)]
    env_names: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct Common {
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    transcript_path: Option<PathBuf>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    hook_event_name: Option<String>,
}

/// Reads one spool line; `None` when it is not one (the caller reports it with its line
/// number).
pub fn parse_line(bytes: &[u8]) -> Option<HookEvent> {
    let l: Line<'_> = serde_json::from_slice(bytes).ok()?;
    let common: Common = l
        .payload
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default();
    Some(HookEvent {
        received_ns: l.received_ns,
        agent: l.agent,
        event: common.hook_event_name.or(l.event),
        session_id: common.session_id.filter(|s| !s.is_empty()),
        transcript_path: common.transcript_path.filter(|p| !p.as_os_str().is_empty()),
        cwd: common.cwd,
        payload: l.payload.map(|p| p.get().to_owned()),
        env_names: l.env_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_kept_whole_on_one_line() {
        let pretty = b"{\n  \"session_id\": \"s1\",\n  \"hook_event_name\": \"SessionEnd\",\n  \"tool_input\": {\"command\": \"echo 'a\\nb'\"}\n}\n";
        let l = line("claude", None, pretty, 42, Vec::new);
        assert_eq!(l.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(l.ends_with(b"}\n"));
        let e = parse_line(&l[..l.len() - 1]).unwrap();
        assert_eq!(e.received_ns, 42);
        assert_eq!(e.event.as_deref(), Some("SessionEnd"));
        assert_eq!(e.session_id.as_deref(), Some("s1"));
        let v: serde_json::Value = serde_json::from_str(e.payload.as_deref().unwrap()).unwrap();
        assert_eq!(v["tool_input"]["command"], "echo 'a\nb'");
    }

    #[test]
    fn a_payload_that_is_not_json_is_kept_as_text() {
        for bad in [
            &b"{\"session_id\": \"s1\""[..],
            b"",
            b"\xff\xfe",
            b"not json",
        ] {
            let l = line("claude", Some("Stop"), bad, 1, Vec::new);
            let v: serde_json::Value = serde_json::from_slice(&l).unwrap();
            assert!(v.get("payload").is_none());
            assert!(v["invalid"].is_string(), "{v}");
            let e = parse_line(&l[..l.len() - 1]).unwrap();
            assert_eq!(e.event.as_deref(), Some("Stop"));
            assert_eq!(e.payload, None);
        }
    }

    #[test]
    fn session_start_records_the_secret_looking_names_of_the_environment() {
        let names = || vec!["GITHUB_TOKEN".to_owned(), "OPENAI_API_KEY".to_owned()];
        let start = line(
            "claude",
            None,
            br#"{"session_id":"s1","hook_event_name":"SessionStart","source":"startup"}"#,
            1,
            names,
        );
        let e = parse_line(&start[..start.len() - 1]).unwrap();
        assert_eq!(e.env_names, Some(names()));
        // Named on the command line only, the same.
        let start = line("claude", Some("SessionStart"), b"{}", 1, names);
        assert_eq!(parse_line(&start).unwrap().env_names, Some(names()));
        // Any other event: not asked for, not written.
        let pre = line(
            "claude",
            None,
            br#"{"session_id":"s1","hook_event_name":"PreToolUse"}"#,
            1,
            || panic!("the environment is read only at SessionStart"),
        );
        assert_eq!(parse_line(&pre).unwrap().env_names, None);
        for odd in [&b"[1,2]"[..], br#"{"hook_event_name":7}"#] {
            let l = line("claude", None, odd, 1, Vec::new);
            assert!(parse_line(&l).unwrap().payload.is_some(), "{odd:?} is JSON");
        }
    }

    #[test]
    fn appends_create_the_folder_and_keep_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/hooks.jsonl");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let body = format!(
                            "{{\"session_id\":\"s{t}\",\"n\":{i},\"pad\":\"{}\"}}",
                            "x".repeat(5000)
                        );
                        append(&path, "claude", None, body.as_bytes(), i, Vec::new).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 400);
        assert!(lines.iter().all(|l| parse_line(l.as_bytes()).is_some()));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
