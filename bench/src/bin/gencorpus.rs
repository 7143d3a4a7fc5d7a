//! Writes a synthetic Claude Code corpus for the backfill benchmark (DESIGN.md 9).
//!
//! Layout: `<out>/projects/<project-dir>/<session-uuid>.jsonl`, plus `<out>/manifest.json` that
//! records what was written and what an exporter should find in it (sessions, turns, model
//! calls, tool calls, spans).
//!
//! Each session imitates a Claude Code 2.1.3x transcript (FORMATS.md 1): a typed prompt, then
//! turns made of API responses split into one `assistant` line per content block (sharing
//! `message.id` and `requestId`, each with a copy of `usage`), `hook_progress` lines around
//! every tool call, `bash_progress` lines for slow commands, `user` lines with `tool_result`
//! blocks and a structured `toolUseResult`, `file-history-snapshot` checkpoints, and at the end
//! of a turn a `Stop` hook, `stop_hook_summary` and `turn_duration`. The output is the same for
//! the same flags: every session draws from its own xorshift generator with a fixed seed.
//!
//! `--shape tools` writes the span-heavy shape instead: every line a tool call or its result
//! (no hooks, progress, snapshots, thinking or text blocks but at a turn's end), about one
//! span per line where the default shape has one per four.
//!
//! ```text
//! gencorpus [--sessions N] [--lines N] [--seed N] [--shape session|tools] --out DIR
//! ```

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::{Map, Value, json};

const DEFAULT_SESSIONS: usize = 100;
const DEFAULT_LINES: usize = 1001;
const DEFAULT_SEED: u64 = 0x5e55_1017_7a11_2026;
/// Fewest lines a session can have: prompt, snapshot, one tool call, end of turn.
const MIN_LINES: usize = 8;

fn main() -> ExitCode {
    let opts = match Opts::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("gencorpus: {e}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gencorpus: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str =
    "usage: gencorpus [--sessions N] [--lines N] [--seed N] [--shape session|tools] --out DIR";

struct Opts {
    sessions: usize,
    lines: usize,
    seed: u64,
    /// Every line a tool call or its result (`--shape tools`).
    tools_only: bool,
    out: PathBuf,
}

impl Opts {
    fn parse() -> Result<Opts, String> {
        let mut o = Opts {
            sessions: DEFAULT_SESSIONS,
            lines: DEFAULT_LINES,
            seed: DEFAULT_SEED,
            tools_only: false,
            out: PathBuf::new(),
        };
        let mut args = std::env::args_os().skip(1);
        while let Some(a) = args.next() {
            let a = a.to_string_lossy().into_owned();
            if a == "-h" || a == "--help" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let v = args.next().ok_or_else(|| format!("{a} needs a value"))?;
            let num = || {
                v.to_string_lossy()
                    .parse::<u64>()
                    .map_err(|e| format!("{a}: {e}"))
            };
            match a.as_str() {
                "--sessions" => o.sessions = num()? as usize,
                "--lines" => o.lines = num()? as usize,
                "--seed" => o.seed = num()?,
                "--shape" => {
                    o.tools_only = match v.to_string_lossy().as_ref() {
                        "session" => false,
                        "tools" => true,
                        other => {
                            return Err(format!("--shape: {other}: expected session or tools"));
                        }
                    }
                }
                "--out" => o.out = PathBuf::from(v),
                _ => return Err(format!("unknown argument {a}")),
            }
        }
        if o.out.as_os_str().is_empty() {
            return Err("--out DIR is required".into());
        }
        if o.lines < MIN_LINES {
            return Err(format!("--lines must be at least {MIN_LINES}"));
        }
        Ok(o)
    }
}

/// Totals over the corpus, written to `manifest.json`.
#[derive(Default, Serialize)]
struct Totals {
    sessions: u64,
    lines: u64,
    bytes: u64,
    turns: u64,
    model_calls: u64,
    tool_calls: u64,
    tool_errors: u64,
    /// One root span per session, plus one per turn, model call and tool call.
    expected_spans: u64,
    by_type: std::collections::BTreeMap<String, u64>,
}

fn run(o: &Opts) -> Result<(), String> {
    let projects_dir = o.out.join("projects");
    fs::create_dir_all(&projects_dir).map_err(|e| format!("{}: {e}", projects_dir.display()))?;
    let mut totals = Totals::default();
    for i in 0..o.sessions {
        let mut rng = Rng::new(o.seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let project = PROJECTS[i % PROJECTS.len()];
        let cwd = format!("/home/dev/src/{project}");
        let dir = projects_dir.join(project_dir_name(&cwd));
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let session_id = rng.uuid();
        let path = dir.join(format!("{session_id}.jsonl"));
        // 2026-01-05T08:00Z plus about seven hours per session.
        let start_ms = 1_767_600_000_000 + i as i64 * 25_000_000 + rng.below(3_600_000) as i64;
        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut g = Gen::new(
            rng,
            BufWriter::with_capacity(1 << 20, file),
            session_id,
            cwd,
            start_ms,
            o.lines,
            o.tools_only,
        );
        g.session()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        g.out
            .flush()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        totals.sessions += 1;
        totals.lines += g.lines as u64;
        totals.bytes += g.bytes;
        totals.turns += g.turns;
        totals.model_calls += g.calls;
        totals.tool_calls += g.tools;
        totals.tool_errors += g.tool_errors;
        for (k, v) in g.by_type {
            *totals.by_type.entry(k).or_default() += v;
        }
    }
    totals.expected_spans = totals.sessions + totals.turns + totals.model_calls + totals.tool_calls;
    let manifest = json!({
        "generator": "gencorpus",
        "seed": o.seed,
        "sessions_requested": o.sessions,
        "lines_per_session": o.lines,
        "shape": if o.tools_only { "tools" } else { "session" },
        "totals": totals,
    });
    let mpath = o.out.join("manifest.json");
    fs::write(
        &mpath,
        serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
    )
    .map_err(|e| format!("{}: {e}", mpath.display()))?;
    eprintln!(
        "gencorpus: {} sessions, {} lines, {} bytes ({:.1} MB, {:.0} B/line), {} turns, {} model calls, {} tool calls -> {}",
        totals.sessions,
        totals.lines,
        totals.bytes,
        totals.bytes as f64 / 1e6,
        totals.bytes as f64 / totals.lines.max(1) as f64,
        totals.turns,
        totals.model_calls,
        totals.tool_calls,
        o.out.display()
    );
    Ok(())
}

/// Claude Code's folder name for a working directory: every non-alphanumeric becomes `-`.
fn project_dir_name(cwd: &str) -> String {
    cwd.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Randomness

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut r = Rng(seed | 1);
        for _ in 0..8 {
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A count with a long tail, at least 1: mostly up to `m`, sometimes up to `6m`, rarely
    /// `10m` to `40m`, very rarely `60m` to `160m`; the mean is about `1.5m`.
    fn sized(&mut self, m: u64) -> u64 {
        match self.below(1000) {
            0..860 => self.range(1, m),
            860..982 => self.range(m, 6 * m),
            982..998 => self.range(10 * m, 40 * m),
            _ => self.range(60 * m, 160 * m),
        }
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    fn base62(&mut self, prefix: &str, n: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = String::with_capacity(prefix.len() + n);
        s.push_str(prefix);
        for _ in 0..n {
            s.push(ALPHABET[self.below(62) as usize] as char);
        }
        s
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        for _ in 0..n {
            s.push(char::from_digit(self.below(16) as u32, 16).expect("hex digit"));
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const PROJECTS: &[&str] = &[
    "tidepool",
    "ledger-api",
    "orbit-cli",
    "parsnip",
    "quill-web",
    "hearth",
    "kestrel-sync",
    "marrow",
];

const BRANCHES: &[&str] = &[
    "main",
    "feat/streaming-export",
    "fix/retry-backoff",
    "refactor/store-schema",
    "dev",
    "feat/json-output",
];

const VERSIONS: &[&str] = &["2.1.30", "2.1.37", "2.1.39"];

const MODELS: &[&str] = &[
    "claude-opus-4-6",
    "claude-opus-4-6",
    "claude-sonnet-4-5-20250929",
];

const SLUG_WORDS: &[&str] = &[
    "radiant",
    "floating",
    "music",
    "wiggly",
    "popping",
    "valiant",
    "indexed",
    "tinkering",
    "boot",
    "magical",
    "beaming",
    "key",
    "quiet",
    "amber",
    "river",
    "sturdy",
    "lantern",
    "swift",
];

const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "for",
    "that",
    "this",
    "with",
    "it",
    "on",
    "we",
    "be",
    "as",
    "not",
    "now",
    "should",
    "will",
    "can",
    "from",
    "by",
    "when",
    "then",
    "each",
    "file",
    "test",
    "function",
    "error",
    "handler",
    "parser",
    "session",
    "store",
    "request",
    "response",
    "config",
    "value",
    "field",
    "struct",
    "module",
    "branch",
    "commit",
    "build",
    "output",
    "input",
    "line",
    "record",
    "span",
    "trace",
    "export",
    "retry",
    "timeout",
    "cache",
    "index",
    "schema",
    "query",
    "token",
    "batch",
    "queue",
    "worker",
    "thread",
    "channel",
    "buffer",
    "stream",
    "writer",
    "reader",
    "path",
    "folder",
    "flag",
    "option",
    "default",
    "missing",
    "empty",
    "invalid",
    "duplicate",
    "update",
    "check",
    "add",
    "remove",
    "rename",
    "fix",
    "refactor",
    "move",
    "split",
    "merge",
    "keep",
    "return",
    "call",
    "pass",
    "fail",
    "passes",
    "fails",
    "compile",
    "run",
    "read",
    "write",
    "parse",
    "serialize",
    "handle",
    "existing",
    "new",
    "old",
    "current",
    "previous",
    "next",
    "first",
    "last",
    "small",
    "large",
    "async",
    "blocking",
    "bounded",
    "memory",
    "limit",
    "size",
    "count",
    "time",
    "clock",
    "offset",
    "cursor",
    "state",
    "status",
    "result",
    "issue",
    "case",
    "edge",
    "logic",
    "code",
];

const IDENTS: &[&str] = &[
    "session", "store", "span", "trace", "record", "line", "reader", "writer", "batch", "queue",
    "config", "client", "request", "response", "buf", "offset", "cursor", "entry", "item", "path",
    "root", "parent", "child", "state", "summary", "issue", "report", "opts", "ctx", "handle",
    "conn", "tx", "rx", "key", "value", "index", "count", "limit", "total", "bytes",
];

const TYPES: &[&str] = &[
    "Session", "Store", "Span", "Trace", "Record", "Reader", "Batch", "Config", "Client",
    "Request", "Response", "Entry", "State", "Summary", "Issue", "Report", "Options", "Error",
];

const HOOK_COMMANDS: &[&str] = &[
    "cd ${CLAUDE_PLUGIN_ROOT}/hooks && bun run ./guardian.ts",
    "${CLAUDE_PLUGIN_ROOT}/hooks/format-on-save.sh",
    "/home/dev/.claude/hooks/tmux-waiting.sh mark",
    "entire hooks claude-code post-tool-use",
    "bash ${CLAUDE_PROJECT_DIR}/.claude/scripts/lint-changed.sh",
    "sessiontrail hook",
];

// ---------------------------------------------------------------------------------------------
// Text

fn words(rng: &mut Rng, s: &mut String, n: u64) {
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        let w = *rng.pick(WORDS);
        s.push_str(w);
    }
}

fn sentence(rng: &mut Rng, s: &mut String) {
    let start = s.len();
    let n = rng.range(5, 18);
    words(rng, s, n);
    if let Some(c) = s[start..].chars().next() {
        let up = c.to_ascii_uppercase();
        s.replace_range(start..start + c.len_utf8(), up.encode_utf8(&mut [0; 4]));
    }
    match rng.below(10) {
        0 => {
            let _ = write!(s, " (`{}::{}`)", rng.pick(TYPES), rng.pick(IDENTS));
        }
        1 => {
            let _ = write!(s, " in `{}`", rng.pick(IDENTS));
        }
        _ => {}
    }
    s.push('.');
}

fn prose(rng: &mut Rng, sentences: u64) -> String {
    let mut s = String::new();
    for i in 0..sentences {
        if i > 0 {
            s.push(if rng.chance(20) { '\n' } else { ' ' });
        }
        sentence(rng, &mut s);
    }
    s
}

/// One line of plausible Rust.
fn code_line(rng: &mut Rng, s: &mut String) {
    let a = rng.pick(IDENTS);
    let b = rng.pick(IDENTS);
    let t = rng.pick(TYPES);
    let ind = ["", "    ", "        ", "            "][rng.below(4) as usize];
    s.push_str(ind);
    match rng.below(16) {
        0 => {
            let _ = write!(s, "let {a} = {b}.{}_{a}(&{b})?;", rng.pick(IDENTS));
        }
        1 => {
            let _ = write!(s, "if {a}.is_empty() {{");
        }
        2 => {
            let _ = write!(
                s,
                "pub fn {a}_{b}(&mut self, {b}: &{t}) -> Result<{t}, Error> {{"
            );
        }
        3 => {
            s.push_str("// ");
            let n = rng.range(4, 12);
            words(rng, s, n);
        }
        4 | 5 => s.push('}'),
        6 => {}
        7 => {
            let _ = write!(s, "use crate::{a}::{{{t}, {}}};", rng.pick(TYPES));
        }
        8 => {
            let _ = write!(s, "assert_eq!({a}.{b}(), {});", rng.below(1000));
        }
        9 => {
            let _ = write!(s, "match {a} {{");
        }
        10 => {
            let _ = write!(s, "Some({b}) => {a}.push({b}),");
        }
        11 => {
            let _ = write!(
                s,
                "return Err(Error::{t}(format!(\"{a} {}: {{}}\", {b})));",
                rng.pick(WORDS)
            );
        }
        12 => {
            let _ = write!(s, "#[derive(Debug, Clone, PartialEq)]");
        }
        13 => {
            let _ = write!(s, "{a}: Vec<{t}>,");
        }
        14 => {
            let _ = write!(
                s,
                "tracing::debug!({a} = %{b}, \"{} {}\");",
                rng.pick(WORDS),
                rng.pick(WORDS)
            );
        }
        _ => {
            let _ = write!(s, "self.{a}.insert({b}.key(), {t}::default());");
        }
    }
}

/// A source file of `n` lines.
fn code(rng: &mut Rng, n: u64) -> Vec<String> {
    (0..n)
        .map(|_| {
            let mut s = String::new();
            code_line(rng, &mut s);
            s
        })
        .collect()
}

/// `cat -n` style, as the Read tool returns files.
fn numbered(lines: &[String], first: u64) -> String {
    let mut s = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = write!(s, "{:>6}\u{2192}{l}", first + i as u64);
    }
    s
}

fn signature(rng: &mut Rng) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let n = rng.range(100, 400) as usize;
    let mut s = String::with_capacity(n + 2);
    s.push_str("Eq");
    for _ in 0..n {
        s.push(B64[rng.below(64) as usize] as char);
    }
    s.push_str("==");
    s
}

// ---------------------------------------------------------------------------------------------
// Lines

/// The envelope every conversation record carries (FORMATS.md 1.2), around a body and a tail
/// that are flattened into it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    parent_uuid: Option<&'a str>,
    is_sidechain: bool,
    user_type: &'a str,
    cwd: &'a str,
    session_id: &'a str,
    version: &'a str,
    git_branch: &'a str,
    slug: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    body: Ordered<'a>,
    uuid: &'a str,
    timestamp: &'a str,
    #[serde(flatten)]
    tail: Ordered<'a>,
}

/// Serialises a JSON value with its object keys in the order Claude Code writes them
/// (`serde_json::Map` would sort them, and its `preserve_order` feature cannot be turned on
/// here without changing the `serde_json` that `sessiontrail` and the baseline are built with).
struct Ordered<'a>(&'a Value);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                // Stable: keys the list does not name stay sorted, after the others.
                entries.sort_by_key(|(k, _)| key_rank(k));
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &Ordered(v))?;
                }
                map.end()
            }
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Ordered(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// Key order of the real records (one list for every object: a key's first place wins).
const KEY_ORDER: &[&str] = &[
    "model",
    "tool_use_id",
    "type",
    "subtype",
    "id",
    "name",
    "role",
    "mode",
    "messageId",
    "snapshot",
    "trackedFileBackups",
    "backupFileName",
    "version",
    "backupTime",
    "filePath",
    "oldString",
    "newString",
    "originalFile",
    "structuredPatch",
    "oldStart",
    "oldLines",
    "newStart",
    "newLines",
    "lines",
    "content",
    "text",
    "thinking",
    "signature",
    "input",
    "caller",
    "is_error",
    "hookEvent",
    "hookName",
    "command",
    "description",
    "timeout",
    "file_path",
    "offset",
    "limit",
    "old_string",
    "new_string",
    "replace_all",
    "pattern",
    "path",
    "output_mode",
    "-n",
    "todos",
    "status",
    "activeForm",
    "stop_reason",
    "stop_sequence",
    "usage",
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "ephemeral_5m_input_tokens",
    "ephemeral_1h_input_tokens",
    "output_tokens",
    "service_tier",
    "inference_geo",
    "stdout",
    "stderr",
    "interrupted",
    "isImage",
    "noOutputExpected",
    "output",
    "fullOutput",
    "elapsedTimeSeconds",
    "file",
    "numLines",
    "startLine",
    "totalLines",
    "timeoutMs",
    "filenames",
    "durationMs",
    "numFiles",
    "truncated",
    "oldTodos",
    "newTodos",
    "userModified",
    "replaceAll",
    "data",
    "requestId",
    "toolUseID",
    "parentToolUseID",
    "hookCount",
    "hookInfos",
    "hookErrors",
    "preventedContinuation",
    "stopReason",
    "hasOutput",
    "level",
    "isSnapshotUpdate",
    "isMeta",
    "thinkingMetadata",
    "maxThinkingTokens",
    "permissionMode",
    "toolUseResult",
    "sourceToolAssistantUUID",
    "timestamp",
];

fn key_rank(key: &str) -> usize {
    KEY_ORDER
        .iter()
        .position(|k| *k == key)
        .unwrap_or(KEY_ORDER.len())
}

/// 64-bit FNV-1a, for stable made-up hashes.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// ISO-8601 UTC with milliseconds, from Unix milliseconds.
fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Bash,
    Read,
    Edit,
    Grep,
    Glob,
    Write,
    TodoWrite,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Bash => "Bash",
            Tool::Read => "Read",
            Tool::Edit => "Edit",
            Tool::Grep => "Grep",
            Tool::Glob => "Glob",
            Tool::Write => "Write",
            Tool::TodoWrite => "TodoWrite",
        }
    }

    /// Weighted like the tool counts of the real transcripts (FORMATS.md 1.9).
    fn draw(rng: &mut Rng) -> Tool {
        match rng.below(100) {
            0..35 => Tool::Bash,
            35..62 => Tool::Read,
            62..76 => Tool::Edit,
            76..87 => Tool::Grep,
            87..93 => Tool::Glob,
            93..97 => Tool::Write,
            _ => Tool::TodoWrite,
        }
    }
}

/// The lines one tool call adds after its `tool_use` line.
struct ToolPlan {
    tool: Tool,
    pre_hooks: usize,
    progress: usize,
    post_hooks: usize,
    snapshot: bool,
}

impl ToolPlan {
    fn lines(&self) -> usize {
        1 + self.pre_hooks + self.progress + self.post_hooks + usize::from(self.snapshot) + 1
    }
}

/// One API response that calls tools.
struct ResponsePlan {
    thinking: bool,
    text: bool,
    tools: Vec<ToolPlan>,
}

impl ResponsePlan {
    fn lines(&self) -> usize {
        usize::from(self.thinking)
            + usize::from(self.text)
            + self.tools.iter().map(ToolPlan::lines).sum::<usize>()
    }

    /// Drops optional lines until the plan fits `budget` (at least 2 lines).
    fn shrink(&mut self, budget: usize) {
        while self.lines() > budget {
            if let Some(t) = self.tools.iter_mut().find(|t| t.progress > 0) {
                t.progress -= 1;
            } else if let Some(t) = self.tools.iter_mut().find(|t| t.post_hooks > 0) {
                t.post_hooks -= 1;
            } else if let Some(t) = self.tools.iter_mut().find(|t| t.pre_hooks > 0) {
                t.pre_hooks -= 1;
            } else if let Some(t) = self.tools.iter_mut().find(|t| t.snapshot) {
                t.snapshot = false;
            } else if self.tools.len() > 1 {
                self.tools.pop();
            } else if self.thinking {
                self.thinking = false;
            } else if self.text {
                self.text = false;
            } else {
                break;
            }
        }
    }
}

/// One session being written.
struct Gen<W: Write> {
    rng: Rng,
    out: W,
    session_id: String,
    cwd: String,
    branch: &'static str,
    version: &'static str,
    model: &'static str,
    slug: String,
    clock: i64,
    last: Option<String>,
    target: usize,
    lines: usize,
    bytes: u64,
    buf: Vec<u8>,
    files: Vec<String>,
    /// Files edited so far, with their backup version (for `file-history-snapshot`).
    tracked: Vec<(String, u64, String)>,
    prompt_uuid: String,
    prompt_ms: i64,
    context_tokens: u64,
    pre_hooks: usize,
    post_hooks: usize,
    tools_only: bool,
    progress_seq: u64,
    turns: u64,
    calls: u64,
    tools: u64,
    tool_errors: u64,
    by_type: std::collections::BTreeMap<String, u64>,
}

impl<W: Write> Gen<W> {
    fn new(
        mut rng: Rng,
        out: W,
        session_id: String,
        cwd: String,
        start_ms: i64,
        target: usize,
        tools_only: bool,
    ) -> Self {
        let branch = *rng.pick(BRANCHES);
        let version = *rng.pick(VERSIONS);
        let model = *rng.pick(MODELS);
        let slug = format!(
            "{}-{}-{}",
            rng.pick(SLUG_WORDS),
            rng.pick(SLUG_WORDS),
            rng.pick(SLUG_WORDS)
        );
        let nfiles = rng.range(25, 60);
        let files = (0..nfiles)
            .map(|_| {
                let a = rng.pick(IDENTS);
                let b = rng.pick(IDENTS);
                match rng.below(5) {
                    0 => format!("src/{a}.rs"),
                    1 => format!("src/{a}/{b}.rs"),
                    2 => format!("crates/{a}/src/{b}.rs"),
                    3 => format!("tests/{a}_{b}.rs"),
                    _ => format!("src/{a}/mod.rs"),
                }
            })
            .collect();
        let pre_hooks = rng.range(2, 4) as usize;
        let post_hooks = rng.range(1, 3) as usize;
        Gen {
            rng,
            out,
            session_id,
            cwd,
            branch,
            version,
            model,
            slug,
            clock: start_ms,
            last: None,
            target,
            lines: 0,
            bytes: 0,
            buf: Vec::with_capacity(1 << 16),
            files,
            tracked: Vec::new(),
            prompt_uuid: String::new(),
            prompt_ms: start_ms,
            context_tokens: 12_000,
            pre_hooks,
            post_hooks,
            tools_only,
            progress_seq: 0,
            turns: 0,
            calls: 0,
            tools: 0,
            tool_errors: 0,
            by_type: Default::default(),
        }
    }

    fn remaining(&self) -> usize {
        self.target - self.lines
    }

    fn tick(&mut self, lo: u64, hi: u64) -> String {
        self.clock += self.rng.range(lo, hi) as i64;
        iso(self.clock)
    }

    fn write_raw(&mut self, kind: &str, v: &impl Serialize) -> std::io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, v).expect("a line serialises");
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.lines += 1;
        self.bytes += self.buf.len() as u64;
        *self.by_type.entry(kind.to_owned()).or_default() += 1;
        Ok(())
    }

    /// Writes one conversation record and makes it the parent of the next.
    fn emit(
        &mut self,
        kind: &str,
        stat: &str,
        parent: Option<&str>,
        body: Value,
        tail: Value,
        ts: &str,
    ) -> std::io::Result<String> {
        let uuid = self.rng.uuid();
        let parent = parent.map(str::to_owned).or_else(|| self.last.clone());
        let env = Envelope {
            parent_uuid: parent.as_deref(),
            is_sidechain: false,
            user_type: "external",
            cwd: &self.cwd,
            session_id: &self.session_id,
            version: self.version,
            git_branch: self.branch,
            slug: &self.slug,
            kind,
            body: Ordered(&body),
            uuid: &uuid,
            timestamp: ts,
            tail: Ordered(&tail),
        };
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &env).expect("a line serialises");
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.lines += 1;
        self.bytes += self.buf.len() as u64;
        *self.by_type.entry(stat.to_owned()).or_default() += 1;
        self.last = Some(uuid.clone());
        Ok(uuid)
    }

    fn session(&mut self) -> std::io::Result<()> {
        self.prompt(true)?;
        let mut left_in_turn = self.rng.range(6, 24);
        loop {
            let r = self.remaining();
            if r <= 6 {
                // r >= 3: final text, r - 3 Stop hooks, summary, duration.
                return self.end_turn(r - 3);
            }
            if left_in_turn == 0 && r >= 20 {
                let stop_hooks = if self.tools_only {
                    0
                } else {
                    self.rng.range(1, 2) as usize
                };
                self.end_turn(stop_hooks)?;
                self.prompt(false)?;
                left_in_turn = self.rng.range(6, 24);
                continue;
            }
            let mut plan = self.plan();
            plan.shrink(r - 3);
            self.response(&plan)?;
            left_in_turn = left_in_turn.saturating_sub(1);
        }
    }

    fn plan(&mut self) -> ResponsePlan {
        let n = match self.rng.below(100) {
            0..75 => 1,
            75..93 => 2,
            _ => 3,
        };
        if self.tools_only {
            let tools = (0..n)
                .map(|_| {
                    let tool = Tool::draw(&mut self.rng);
                    ToolPlan {
                        tool,
                        pre_hooks: 0,
                        progress: 0,
                        post_hooks: 0,
                        snapshot: false,
                    }
                })
                .collect();
            return ResponsePlan {
                thinking: false,
                text: false,
                tools,
            };
        }
        let tools = (0..n)
            .map(|_| {
                let tool = Tool::draw(&mut self.rng);
                let progress = if tool == Tool::Bash && self.rng.chance(30) {
                    self.rng.range(1, 4) as usize
                } else {
                    0
                };
                ToolPlan {
                    tool,
                    pre_hooks: if tool == Tool::Bash {
                        self.pre_hooks + 1
                    } else {
                        self.pre_hooks
                    },
                    progress,
                    post_hooks: self.post_hooks,
                    snapshot: matches!(tool, Tool::Edit | Tool::Write),
                }
            })
            .collect();
        ResponsePlan {
            thinking: self.rng.chance(12),
            text: self.rng.chance(55),
            tools,
        }
    }

    fn prompt(&mut self, first: bool) -> std::io::Result<()> {
        let ts = self.tick(20_000, 900_000);
        let n = self.rng.range(1, 4);
        let mut text = prose(&mut self.rng, n);
        if self.rng.chance(20) {
            // A pasted error.
            text.push_str("\n\n```\nerror[E0308]: mismatched types\n  --> ");
            text.push_str(self.rng.pick(&self.files).clone().as_str());
            let _ = write!(
                text,
                ":{}:{}\n   |\n   = note: expected `{}`, found `{}`\n```",
                self.rng.range(1, 400),
                self.rng.range(1, 80),
                self.rng.pick(TYPES),
                self.rng.pick(TYPES)
            );
        }
        let body = json!({"message": {"role": "user", "content": text}});
        let tail = json!({
            "thinkingMetadata": {"maxThinkingTokens": 31999},
            "todos": [],
            "permissionMode": "bypassPermissions",
        });
        if first {
            // The first line of a session has a null parent.
            self.last = None;
        }
        let uuid = self.emit("user", "user/prompt", None, body, tail, &ts)?;
        self.turns += 1;
        self.prompt_uuid = uuid.clone();
        self.prompt_ms = self.clock;
        if self.tools_only {
            return Ok(());
        }
        self.snapshot(&uuid, false, &ts)
    }

    fn snapshot(&mut self, message_id: &str, update: bool, ts: &str) -> std::io::Result<()> {
        let mut backups = Map::new();
        for (path, version, time) in &self.tracked {
            backups.insert(
                path.clone(),
                json!({
                    "backupFileName": format!("{:016x}@v{version}", fnv1a(path)),
                    "version": version,
                    "backupTime": time,
                }),
            );
        }
        let v = json!({
            "type": "file-history-snapshot",
            "messageId": message_id,
            "snapshot": {
                "messageId": self.prompt_uuid,
                "trackedFileBackups": backups,
                "timestamp": ts,
            },
            "isSnapshotUpdate": update,
        });
        self.write_raw("file-history-snapshot", &Ordered(&v))
    }

    fn usage(&mut self, output_tokens: u64) -> Value {
        let creation = self.rng.range(50, 4_000);
        json!({
            "input_tokens": self.rng.range(1, 12),
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": self.context_tokens,
            "cache_creation": {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": "standard",
            "inference_geo": "global",
        })
    }

    /// One `assistant` line of a response: one content block, a copy of `usage`.
    fn assistant_line(
        &mut self,
        msg_id: &str,
        req_id: &str,
        block: Value,
        usage: &Value,
    ) -> std::io::Result<String> {
        let ts = self.tick(300, 2_500);
        let body = json!({
            "message": {
                "model": self.model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage,
            },
            "requestId": req_id,
        });
        self.emit("assistant", "assistant", None, body, json!({}), &ts)
    }

    fn response(&mut self, plan: &ResponsePlan) -> std::io::Result<()> {
        self.calls += 1;
        let msg_id = self.rng.base62("msg_01", 22);
        let req_id = self.rng.base62("req_011C", 20);
        let partial = self.rng.range(1, 12);
        let final_tokens = self.rng.range(40, 900);
        let blocks = usize::from(plan.thinking) + usize::from(plan.text) + plan.tools.len();
        let early = self.usage(partial);
        let last = {
            let mut u = early.clone();
            u["output_tokens"] = json!(final_tokens);
            u
        };
        let mut written = 0;
        let usage_for = |written: usize| {
            if written + 1 == blocks {
                last.clone()
            } else {
                early.clone()
            }
        };
        if plan.thinking {
            let n = self.rng.range(2, 8);
            let block = json!({
                "type": "thinking",
                "thinking": prose(&mut self.rng, n),
                "signature": signature(&mut self.rng),
            });
            let u = usage_for(written);
            self.assistant_line(&msg_id, &req_id, block, &u)?;
            written += 1;
        }
        if plan.text {
            let n = self.rng.range(1, 2);
            let block = json!({"type": "text", "text": prose(&mut self.rng, n)});
            let u = usage_for(written);
            self.assistant_line(&msg_id, &req_id, block, &u)?;
            written += 1;
        }
        let mut calls = Vec::new();
        for t in &plan.tools {
            let id = self.rng.base62("toolu_01", 22);
            let call = self.tool_call(t.tool);
            let block = json!({
                "type": "tool_use",
                "id": id,
                "name": t.tool.name(),
                "input": call.input,
                "caller": {"type": "direct"},
            });
            let u = usage_for(written);
            let line = self.assistant_line(&msg_id, &req_id, block, &u)?;
            written += 1;
            calls.push((id, line, call));
        }
        self.context_tokens += final_tokens + self.rng.range(200, 3_000);
        for (t, (id, line, call)) in plan.tools.iter().zip(calls) {
            self.tools += 1;
            self.run_tool(t, &id, &line, call)?;
        }
        Ok(())
    }

    fn hook(&mut self, event: &str, tool: &str, tool_use_id: &str) -> std::io::Result<()> {
        let ts = self.tick(2, 40);
        let hook_name = if tool.is_empty() {
            event.to_owned()
        } else {
            format!("{event}:{tool}")
        };
        let body = json!({
            "data": {
                "type": "hook_progress",
                "hookEvent": event,
                "hookName": hook_name,
                "command": self.rng.pick(HOOK_COMMANDS),
            },
            "parentToolUseID": tool_use_id,
            "toolUseID": tool_use_id,
        });
        self.emit(
            "progress",
            "progress/hook_progress",
            None,
            body,
            json!({}),
            &ts,
        )?;
        Ok(())
    }

    fn run_tool(
        &mut self,
        t: &ToolPlan,
        id: &str,
        assistant_uuid: &str,
        call: Call,
    ) -> std::io::Result<()> {
        let name = t.tool.name();
        for _ in 0..t.pre_hooks {
            self.hook("PreToolUse", name, id)?;
        }
        let mut shown = String::new();
        for i in 0..t.progress {
            let ts = self.tick(1_000, 3_000);
            let mut chunk = String::new();
            for _ in 0..self.rng.range(0, 6) {
                let _ = writeln!(
                    chunk,
                    "   Compiling {} v0.{}.{}",
                    self.rng.pick(IDENTS),
                    self.rng.below(9),
                    self.rng.below(30)
                );
            }
            shown.push_str(&chunk);
            let seq = self.progress_seq;
            self.progress_seq += 1;
            let body = json!({
                "data": {
                    "type": "bash_progress",
                    "output": chunk,
                    "fullOutput": shown,
                    "elapsedTimeSeconds": 2 * (i + 1),
                    "totalLines": shown.lines().count(),
                    "timeoutMs": 120_000,
                },
                "toolUseID": format!("bash-progress-{seq}"),
                "parentToolUseID": id,
            });
            self.emit(
                "progress",
                "progress/bash_progress",
                None,
                body,
                json!({}),
                &ts,
            )?;
        }
        let done = if t.tool == Tool::Bash {
            self.tick(50, 8_000)
        } else {
            self.tick(5, 400)
        };
        if t.snapshot {
            if let Some(path) = call.edited.clone() {
                let known = self.tracked.len();
                match self.tracked.iter_mut().find(|(p, _, _)| *p == path) {
                    Some(entry) => {
                        entry.1 += 1;
                        entry.2 = done.clone();
                    }
                    None if known < 5 => self.tracked.push((path, 1, done.clone())),
                    None => {}
                }
            }
            self.snapshot(assistant_uuid, true, &done)?;
        }
        let post = if call.is_error {
            "PostToolUseFailure"
        } else {
            "PostToolUse"
        };
        for _ in 0..t.post_hooks {
            self.hook(post, name, id)?;
        }
        if call.is_error {
            self.tool_errors += 1;
        }
        let mut block = json!({
            "tool_use_id": id,
            "type": "tool_result",
            "content": call.content,
        });
        if t.tool == Tool::Bash || call.is_error {
            block["is_error"] = json!(call.is_error);
        }
        let body = json!({"message": {"role": "user", "content": [block]}});
        let tail = json!({
            "toolUseResult": call.result,
            "sourceToolAssistantUUID": assistant_uuid,
        });
        let ts = self.tick(1, 30);
        self.emit(
            "user",
            "user/tool_result",
            Some(assistant_uuid),
            body,
            tail,
            &ts,
        )?;
        Ok(())
    }

    fn end_turn(&mut self, stop_hooks: usize) -> std::io::Result<()> {
        self.calls += 1;
        let msg_id = self.rng.base62("msg_01", 22);
        let req_id = self.rng.base62("req_011C", 20);
        let tokens = self.rng.range(80, 1_200);
        let usage = self.usage(tokens);
        let n = self.rng.range(1, 3);
        let mut text = prose(&mut self.rng, n);
        text.push_str("\n\n");
        for _ in 0..self.rng.range(2, 6) {
            text.push_str("- ");
            sentence(&mut self.rng, &mut text);
            text.push('\n');
        }
        let block = json!({"type": "text", "text": text});
        self.assistant_line(&msg_id, &req_id, block, &usage)?;
        self.context_tokens += tokens;
        let hook_id = self.rng.uuid();
        let command = *self.rng.pick(HOOK_COMMANDS);
        for _ in 0..stop_hooks {
            let ts = self.tick(2, 40);
            let body = json!({
                "data": {
                    "type": "hook_progress",
                    "hookEvent": "Stop",
                    "hookName": "Stop",
                    "command": command,
                },
                "parentToolUseID": hook_id,
                "toolUseID": hook_id,
            });
            self.emit(
                "progress",
                "progress/hook_progress",
                None,
                body,
                json!({}),
                &ts,
            )?;
        }
        let ts = self.tick(20, 900);
        let body = json!({
            "subtype": "stop_hook_summary",
            "hookCount": stop_hooks.max(1),
            "hookInfos": vec![json!({"command": command}); stop_hooks.max(1)],
            "hookErrors": [],
            "preventedContinuation": false,
            "stopReason": "",
            "hasOutput": true,
            "level": "suggestion",
        });
        self.emit(
            "system",
            "system/stop_hook_summary",
            None,
            body,
            json!({"toolUseID": hook_id}),
            &ts,
        )?;
        let ts = self.tick(1, 50);
        let body = json!({"subtype": "turn_duration", "durationMs": self.clock - self.prompt_ms});
        self.emit(
            "system",
            "system/turn_duration",
            None,
            body,
            json!({"isMeta": false}),
            &ts,
        )?;
        Ok(())
    }

    fn abs(&self, rel: &str) -> String {
        format!("{}/{rel}", self.cwd)
    }

    /// Input, result text and structured result of one tool call.
    fn tool_call(&mut self, tool: Tool) -> Call {
        match tool {
            Tool::Bash => self.bash(),
            Tool::Read => self.read(),
            Tool::Edit => self.edit(),
            Tool::Grep => self.grep(),
            Tool::Glob => self.glob(),
            Tool::Write => self.write(),
            Tool::TodoWrite => self.todo(),
        }
    }

    fn bash(&mut self) -> Call {
        let r = &mut self.rng;
        let krate = *r.pick(IDENTS);
        let (command, description, mut out) = match r.below(7) {
            0 => {
                let n = r.sized(3);
                let mut out = format!(
                    "   Compiling {krate} v0.1.0 ({}/crates/{krate})\n    Finished `test` profile [unoptimized + debuginfo] target(s) in {}.{:02}s\n     Running unittests src/lib.rs (target/debug/deps/{krate}-{})\n\nrunning {n} tests\n",
                    self.cwd,
                    r.range(1, 40),
                    r.below(100),
                    r.hex(16)
                );
                for _ in 0..n {
                    let _ = writeln!(
                        out,
                        "test {}::tests::{}_{} ... ok",
                        r.pick(IDENTS),
                        r.pick(WORDS),
                        r.pick(IDENTS)
                    );
                }
                let _ = write!(
                    out,
                    "\ntest result: ok. {n} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.{:02}s",
                    r.below(100)
                );
                (
                    format!("cargo test -p {krate} 2>&1 | tail -n 200"),
                    format!("Run {krate} tests"),
                    out,
                )
            }
            1 => {
                let mut out = format!(
                    "On branch {}\nChanges not staged for commit:\n  (use \"git add <file>...\" to update what will be committed)\n  (use \"git restore <file>...\" to discard changes in working directory)\n",
                    self.branch
                );
                for _ in 0..r.range(1, 8) {
                    let _ = writeln!(out, "\tmodified:   {}", r.pick(&self.files));
                }
                out.push_str(
                    "\nno changes added to commit (use \"git add\" and/or \"git commit -a\")",
                );
                (
                    "git status".to_owned(),
                    "Show working tree status".to_owned(),
                    out,
                )
            }
            2 => {
                let mut out = String::new();
                for _ in 0..r.range(3, 10) {
                    let _ = write!(out, "{} ", r.hex(7));
                    sentence(r, &mut out);
                    out.push('\n');
                }
                (
                    "git log --oneline -20".to_owned(),
                    "Recent commits".to_owned(),
                    out,
                )
            }
            3 => {
                let mut out = String::new();
                let n = r.sized(1);
                for _ in 0..n {
                    let _ = writeln!(
                        out,
                        "warning: unused variable: `{}`\n  --> {}:{}:{}\n   |\n{:>3} |     let {} = {}.{}();\n   |         ^^^^ help: if this is intentional, prefix it with an underscore\n",
                        r.pick(IDENTS),
                        r.pick(&self.files),
                        r.range(1, 500),
                        r.range(1, 60),
                        r.range(1, 500),
                        r.pick(IDENTS),
                        r.pick(IDENTS),
                        r.pick(IDENTS)
                    );
                }
                out.push_str("    Finished `release` profile [optimized] target(s) in 41.27s");
                (
                    "cargo build --release 2>&1 | tail -n 400".to_owned(),
                    "Build release binary".to_owned(),
                    out,
                )
            }
            4 => {
                let hash = r.hex(7);
                let mut msg = String::new();
                sentence(r, &mut msg);
                let out = format!(
                    "[{} {hash}] {msg}\n {} files changed, {} insertions(+), {} deletions(-)",
                    self.branch,
                    r.range(1, 9),
                    r.range(1, 300),
                    r.range(0, 120)
                );
                (
                    format!("git add -A && git commit -m \"{msg}\""),
                    "Commit the change".to_owned(),
                    out,
                )
            }
            5 => {
                let mut out = format!(
                    "total {}\ndrwxr-xr-x  9 dev dev  4096 Jan  5 08:00 .\ndrwxr-xr-x 31 dev dev  4096 Jan  5 08:00 ..\n",
                    r.range(20, 200)
                );
                for _ in 0..r.range(3, 12) {
                    let _ = writeln!(
                        out,
                        "-rw-r--r--  1 dev dev {:>5} Jan  5 08:{:02} {}.rs",
                        r.range(100, 40_000),
                        r.below(60),
                        r.pick(IDENTS)
                    );
                }
                (
                    format!("ls -la src/{krate}"),
                    format!("List {krate} sources"),
                    out,
                )
            }
            _ => {
                let mut out = String::new();
                for _ in 0..r.sized(3) {
                    let _ = write!(out, "{}:{}:", r.pick(&self.files), r.range(1, 600));
                    code_line(r, &mut out);
                    out.push('\n');
                }
                (
                    format!("rg -n \"{krate}\" src/ | head -100"),
                    format!("Find uses of {krate}"),
                    out,
                )
            }
        };
        let failed = self.rng.chance(6);
        let mut input = json!({"command": command, "description": description});
        if self.rng.chance(20) {
            input["timeout"] = json!(600_000);
        }
        if failed {
            out = format!(
                "Exit code 101\nerror: could not compile `{krate}` (lib) due to 1 previous error\n{out}"
            );
            return Call {
                input,
                content: Value::from(out.clone()),
                result: Value::from(format!("Error: {out}")),
                is_error: true,
                edited: None,
            };
        }
        let out = out.trim_end().to_owned();
        Call {
            input,
            content: Value::from(out.clone()),
            result: json!({
                "stdout": out,
                "stderr": "",
                "interrupted": false,
                "isImage": false,
                "noOutputExpected": false,
            }),
            is_error: false,
            edited: None,
        }
    }

    fn read(&mut self) -> Call {
        let rel = self.rng.pick(&self.files).clone();
        let path = self.abs(&rel);
        let total = self.rng.sized(4);
        let (start, n) = if total > 100 && self.rng.chance(40) {
            let start = self.rng.range(1, total - 50);
            (start, self.rng.range(20, 50))
        } else {
            (1, total)
        };
        let lines = code(&mut self.rng, n);
        let mut input = json!({"file_path": path});
        if start > 1 {
            input["offset"] = json!(start);
            input["limit"] = json!(n);
        }
        Call {
            input,
            content: Value::from(numbered(&lines, start)),
            result: json!({
                "type": "text",
                "file": {
                    "filePath": path,
                    "content": lines.join("\n"),
                    "numLines": n,
                    "startLine": start,
                    "totalLines": total,
                },
            }),
            is_error: false,
            edited: None,
        }
    }

    fn edit(&mut self) -> Call {
        let rel = self.rng.pick(&self.files).clone();
        let path = self.abs(&rel);
        let total = self.rng.sized(3) + 3;
        let file = code(&mut self.rng, total);
        let at = self.rng.below(total.saturating_sub(3).max(1)) as usize;
        let old_n = (self.rng.range(1, 4) as usize).min(file.len() - at);
        let old = file[at..at + old_n].join("\n");
        let n = self.rng.range(1, 8);
        let new_lines = code(&mut self.rng, n);
        let new = new_lines.join("\n");
        let mut hunk: Vec<String> = Vec::new();
        let ctx_lo = at.saturating_sub(3);
        let ctx_hi = (at + old_n + 3).min(file.len());
        for l in &file[ctx_lo..at] {
            hunk.push(format!(" {l}"));
        }
        for l in &file[at..at + old_n] {
            hunk.push(format!("-{l}"));
        }
        for l in &new_lines {
            hunk.push(format!("+{l}"));
        }
        for l in &file[at + old_n..ctx_hi] {
            hunk.push(format!(" {l}"));
        }
        Call {
            input: json!({"file_path": path, "old_string": old, "new_string": new, "replace_all": false}),
            content: Value::from(format!("The file {path} has been updated successfully.")),
            result: json!({
                "filePath": path,
                "oldString": old,
                "newString": new,
                "originalFile": file.join("\n"),
                "structuredPatch": [{
                    "oldStart": ctx_lo + 1,
                    "oldLines": ctx_hi - ctx_lo,
                    "newStart": ctx_lo + 1,
                    "newLines": ctx_hi - ctx_lo - old_n + new_lines.len(),
                    "lines": hunk,
                }],
                "userModified": false,
                "replaceAll": false,
            }),
            is_error: false,
            edited: Some(rel),
        }
    }

    fn write(&mut self) -> Call {
        let rel = self.rng.pick(&self.files).clone();
        let path = self.abs(&rel);
        let n = self.rng.sized(4);
        let content = code(&mut self.rng, n).join("\n");
        Call {
            input: json!({"file_path": path, "content": content}),
            content: Value::from(format!("File created successfully at: {path}")),
            result: json!({
                "type": "create",
                "filePath": path,
                "content": content,
                "structuredPatch": [],
                "originalFile": null,
            }),
            is_error: false,
            edited: Some(rel),
        }
    }

    fn grep(&mut self) -> Call {
        let pattern = format!(
            "{}_{}|{}",
            self.rng.pick(IDENTS),
            self.rng.pick(IDENTS),
            self.rng.pick(TYPES)
        );
        if self.rng.chance(50) {
            let n = self.rng.sized(3);
            let mut out = String::new();
            for i in 0..n {
                if i > 0 {
                    out.push('\n');
                }
                let _ = write!(
                    out,
                    "{}:{}:",
                    self.rng.pick(&self.files),
                    self.rng.range(1, 700)
                );
                code_line(&mut self.rng, &mut out);
            }
            Call {
                input: json!({"pattern": pattern, "path": self.cwd, "output_mode": "content", "-n": true}),
                content: Value::from(out.clone()),
                result: json!({"mode": "content", "numFiles": 0, "filenames": [], "content": out, "numLines": n}),
                is_error: false,
                edited: None,
            }
        } else {
            let n = self.rng.range(0, 12);
            let names: Vec<String> = (0..n)
                .map(|_| {
                    let rel = self.rng.pick(&self.files).clone();
                    self.abs(&rel)
                })
                .collect();
            let content = if n == 0 {
                "No files found".to_owned()
            } else {
                format!("Found {n} files\n{}", names.join("\n"))
            };
            Call {
                input: json!({"pattern": pattern, "path": self.cwd}),
                content: Value::from(content),
                result: json!({"mode": "files_with_matches", "filenames": names, "numFiles": n}),
                is_error: false,
                edited: None,
            }
        }
    }

    fn glob(&mut self) -> Call {
        let n = self.rng.sized(3) - 1;
        let names: Vec<String> = (0..n)
            .map(|_| {
                let rel = self.rng.pick(&self.files).clone();
                self.abs(&rel)
            })
            .collect();
        let content = if n == 0 {
            "No files found".to_owned()
        } else {
            names.join("\n")
        };
        let pattern = format!("**/{}*.rs", self.rng.pick(IDENTS));
        Call {
            input: json!({"pattern": pattern, "path": self.cwd}),
            content: Value::from(content),
            result: json!({
                "filenames": names,
                "durationMs": self.rng.range(3, 450),
                "numFiles": n,
                "truncated": false,
            }),
            is_error: false,
            edited: None,
        }
    }

    fn todo(&mut self) -> Call {
        let mut todos = Vec::new();
        for i in 0..self.rng.range(2, 7) {
            let mut content = String::new();
            sentence(&mut self.rng, &mut content);
            let status = match i {
                0 => "completed",
                1 => "in_progress",
                _ => "pending",
            };
            todos.push(json!({"content": content, "status": status, "activeForm": content}));
        }
        let old: Vec<Value> = todos.iter().skip(1).cloned().collect();
        Call {
            input: json!({"todos": todos}),
            content: Value::from(
                "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable",
            ),
            result: json!({"oldTodos": old, "newTodos": todos}),
            is_error: false,
            edited: None,
        }
    }
}

/// What a tool call asked and got back.
struct Call {
    input: Value,
    /// `tool_result.content`.
    content: Value,
    /// `toolUseResult`.
    result: Value,
    is_error: bool,
    /// Project-relative path the call changed.
    edited: Option<String>,
}
