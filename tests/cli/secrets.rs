//! The adversary: fresh secrets of more than 100 real-world kinds, each planted in every
//! place a Claude Code session carries text (prompts, titles, every tool's arguments in
//! several encodings, tool results, model text and thinking, subagents, hooks, compaction
//! summaries), exported at each content level and searched for in everything sessiontrail
//! writes: the OTLP file (as written and JSON-decoded), every file of the store folder, and
//! stdout and stderr of `export -vv`, `sessions --json`, `show` (text and `--json`),
//! `query --sensitive` (text and `--json`) and `query --session`, the queries under
//! `RUST_LOG=trace`.
//!
//! A leak is any planted form found anywhere: the secret as it is, JSON-escaped, the encoded
//! form the transcript carries (URL-encoded, base64, JSON inside JSON), or its last 16
//! characters (a partial redaction). Below `full` there must be none; a failure prints every
//! leak as one table (kind x placement x output) with counts per kind and per placement,
//! never the values (their first 4 characters only). At `full` every planted secret must be
//! in the OTLP output, which shows each placement really reaches the export.
//!
//! Values are drawn at run time from a seeded generator: the seed comes from the clock and is
//! printed in every failure; `SESSIONTRAIL_SECRETS_SEED=N` reproduces a run. The older,
//! fixed planted session and its alert and policy tests are in `secrets/classic.rs`.

mod classic;
mod kinds;
pub mod session;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use aho_corasick::AhoCorasick;
use serde_json::Value;

use crate::util::*;
use kinds::{Rng, jsonesc};
use session::{Builder, PLACEMENTS, Plant};

/// Sessions the kinds are dealt over (each session has one title).
const SESSIONS: usize = 24;

/// Placements the Claude Code adapter never exports, even at `full`: thinking (its size
/// only) and `toolUseResult` (structured fields only; the text comes from the
/// `tool_result` block). They stay planted, so a leak through them is still caught below
/// `full`; the `full` test fails when one of them starts to be exported.
const NOT_EXPORTED: &[&str] = &["thinking", "tool-use-result"];

fn seed() -> u64 {
    match std::env::var("SESSIONTRAIL_SECRETS_SEED") {
        Ok(s) => s
            .parse()
            .expect("SESSIONTRAIL_SECRETS_SEED is an unsigned integer"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

struct Corpus {
    seed: u64,
    /// (session id, transcript).
    sessions: Vec<(String, String)>,
    plants: Vec<Plant>,
}

/// The forms every placement writes: each secret part as it is and JSON-escaped, and its
/// tail (what a redaction that stopped short would leave).
fn base_forms(s: &kinds::Secret) -> Vec<(&'static str, String)> {
    let mut f = Vec::new();
    for n in &s.needles {
        f.push(("raw", n.clone()));
        f.push(("json", jsonesc(n)));
        if n.chars().count() >= 32 {
            let tail: String = n
                .chars()
                .rev()
                .take(16)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            f.push(("tail", tail));
        }
    }
    f
}

fn build(seed: u64) -> Corpus {
    let kinds = kinds::kinds();
    assert!(kinds.len() >= 100, "at least 100 kinds: {}", kinds.len());
    let mut r = Rng::new(seed);
    let mut sessions = Vec::new();
    let mut plants = Vec::new();
    for si in 0..SESSIONS {
        let sid = format!(
            "5ec7{si:04x}-5eed-4000-8000-{:012x}",
            seed & 0xffff_ffff_ffff
        );
        let mut b = Builder::new(sid.clone());
        let mine: Vec<usize> = (0..kinds.len()).filter(|k| k % SESSIONS == si).collect();
        let mut title = vec!["rotate".to_owned()];
        let mut add = |s: &kinds::Secret, placement: &'static str, extra| {
            let mut forms = base_forms(s);
            forms.extend(extra);
            forms.sort();
            forms.dedup_by(|a, b| a.1 == b.1);
            plants.push(Plant {
                kind: s.kind,
                placement,
                head: s.needles[0].chars().take(4).collect(),
                forms,
            });
        };
        for &k in &mine {
            let s = kinds::make(k, &mut r);
            title.push(s.text.clone());
            add(&s, "custom-title", Vec::new());
        }
        session::title(&mut b, &title.join(" "));
        b.prompt("the staging deploy is broken again; let's look at its configuration");
        for &p in PLACEMENTS.iter().filter(|p| **p != "custom-title") {
            for &k in &mine {
                let s = kinds::make(k, &mut r);
                let extra = session::plant(&mut b, p, &s);
                add(&s, p, extra);
            }
        }
        sessions.push((sid, b.lines.join("\n") + "\n"));
    }
    Corpus {
        seed,
        sessions,
        plants,
    }
}

/// Every string inside JSON text (one document per line), one per line: the OTLP file and
/// `--json` outputs escape what they carry, so secrets are searched for decoded too.
fn decoded_strings(bytes: &[u8]) -> Vec<u8> {
    fn walk(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::String(s) => {
                out.extend(s.as_bytes());
                out.push(b'\n');
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| {
                out.extend(k.as_bytes());
                out.push(b'\n');
                walk(x, out)
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if let Ok(v) = serde_json::from_slice::<Value>(line) {
            walk(&v, &mut out);
        }
    }
    out
}

/// (output name, bytes) of everything one export at `level` and the queries after it wrote.
fn outputs(c: &Corpus, level: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let env = TestEnv::new();
    let dir = env.path("projects/-home-ana-shop");
    std::fs::create_dir_all(&dir).unwrap();
    for (sid, text) in &c.sessions {
        std::fs::write(dir.join(format!("{sid}.jsonl")), text).unwrap();
    }
    let otlp = env.path("out.jsonl");
    let mut args = vec![
        "-vv",
        "export",
        dir.to_str().unwrap(),
        "--otlp-file",
        otlp.to_str().unwrap(),
    ];
    if let Some(l) = level {
        args.extend(["--content", l]);
    }
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let o = env.run(&args, 0);
    out.push(("export -vv:stdout".into(), o.stdout));
    out.push(("export -vv:stderr".into(), o.stderr));
    let mut queries: Vec<(String, Vec<String>)> = vec![
        (
            "sessions --json".into(),
            vec!["sessions".into(), "--json".into()],
        ),
        (
            "query --sensitive".into(),
            vec!["query".into(), "--sensitive".into()],
        ),
        (
            "query --sensitive --json".into(),
            vec!["query".into(), "--sensitive".into(), "--json".into()],
        ),
    ];
    for (sid, _) in &c.sessions {
        queries.push(("show".into(), vec!["show".into(), sid.clone()]));
        queries.push((
            "show --json".into(),
            vec!["show".into(), sid.clone(), "--json".into()],
        ));
        queries.push((
            "query --session".into(),
            vec!["query".into(), "--session".into(), sid.clone()],
        ));
    }
    let mut printed: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (name, q) in &queries {
        let q: Vec<&str> = q.iter().map(String::as_str).collect();
        let mut cmd = env.cmd(&q);
        cmd.env("RUST_LOG", "trace");
        let o = env.run_cmd(cmd, 0);
        printed
            .entry(format!("{name}:stdout"))
            .or_default()
            .extend(o.stdout);
        printed
            .entry(format!("{name}:stderr"))
            .or_default()
            .extend(o.stderr);
    }
    out.extend(printed);
    let file = std::fs::read(&otlp).unwrap();
    let mut all = file.clone();
    all.push(b'\n');
    all.extend(decoded_strings(&file));
    out.push(("otlp-file".into(), all));
    for e in std::fs::read_dir(env.store.parent().unwrap())
        .unwrap()
        .flatten()
    {
        out.push((
            format!("store:{}", e.file_name().to_string_lossy()),
            std::fs::read(e.path()).unwrap(),
        ));
    }
    // `--json` outputs: their decoded strings too.
    for (name, bytes) in &mut out {
        if name.contains("--json") && name.ends_with(":stdout") {
            let d = decoded_strings(bytes);
            bytes.push(b'\n');
            bytes.extend(d);
        }
    }
    out
}

/// For each plant: output name -> the form labels found there.
type Found = BTreeMap<usize, BTreeMap<String, BTreeSet<&'static str>>>;

fn search(c: &Corpus, outs: &[(String, Vec<u8>)]) -> Found {
    let mut pats = Vec::new();
    let mut owner = Vec::new();
    for (i, p) in c.plants.iter().enumerate() {
        for (label, form) in &p.forms {
            pats.push(form.as_bytes());
            owner.push((i, *label));
        }
    }
    let ac = AhoCorasick::new(&pats).unwrap();
    let mut found = Found::new();
    for (name, bytes) in outs {
        for m in ac.find_overlapping_iter(bytes.as_slice()) {
            let (i, label) = owner[m.pattern().as_usize()];
            found
                .entry(i)
                .or_default()
                .entry(name.clone())
                .or_default()
                .insert(label);
        }
    }
    found
}

fn table(c: &Corpus, level: &str, found: &Found) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "seed {} (SESSIONTRAIL_SECRETS_SEED={} reproduces): {} of {} planted secrets leaked at --content {level}, across {} kinds x {} placements",
        c.seed,
        c.seed,
        found.len(),
        c.plants.len(),
        kinds::kinds().len(),
        PLACEMENTS.len()
    );
    let _ = writeln!(
        t,
        "\n| kind | placement | value | forms | outputs |\n|---|---|---|---|---|"
    );
    let mut rows: Vec<(&str, usize, String, String, String)> = found
        .iter()
        .map(|(&i, outs)| {
            let p = &c.plants[i];
            let forms: BTreeSet<&str> = outs.values().flatten().copied().collect();
            (
                p.kind,
                PLACEMENTS.iter().position(|x| *x == p.placement).unwrap(),
                format!("{}...", p.head),
                forms.into_iter().collect::<Vec<_>>().join(","),
                outs.keys().cloned().collect::<Vec<_>>().join(", "),
            )
        })
        .collect();
    rows.sort();
    for (k, p, h, f, o) in &rows {
        let _ = writeln!(t, "| {k} | {} | {h} | {f} | {o} |", PLACEMENTS[*p]);
    }
    let count = |key: &dyn Fn(&Plant) -> &'static str| {
        let mut m: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (i, p) in c.plants.iter().enumerate() {
            let e = m.entry(key(p)).or_default();
            e.1 += 1;
            if found.contains_key(&i) {
                e.0 += 1;
            }
        }
        m
    };
    let _ = writeln!(t, "\nleaked per kind (leaked/planted):");
    for (k, (l, n)) in count(&|p| p.kind) {
        if l > 0 {
            let _ = writeln!(t, "  {k}: {l}/{n}");
        }
    }
    let _ = writeln!(t, "\nleaked per placement (leaked/planted):");
    let per = count(&|p| p.placement);
    for pl in PLACEMENTS {
        let (l, n) = per[pl];
        let _ = writeln!(t, "  {pl}: {l}/{n}");
    }
    let mut per_out: BTreeMap<&str, usize> = BTreeMap::new();
    for outs in found.values() {
        for o in outs.keys() {
            *per_out.entry(o.as_str()).or_default() += 1;
        }
    }
    let _ = writeln!(t, "\nleaked per output:");
    for (o, n) in per_out {
        let _ = writeln!(t, "  {o}: {n}");
    }
    t
}

/// Placements that carry a value with nothing around it that says it is a secret: a path
/// segment, a file name, a search pattern, a title, a sentence.
const CONTEXTLESS: &[&str] = &[
    "custom-title",
    "read-path-segment",
    "read-file-name",
    "grep-pattern",
    "grep-path",
    "glob-pattern",
    "webfetch-path",
    "webfetch-prompt",
    "websearch-query",
];

/// Placements where a passphrase is not one value: unquoted words a shell splits, or
/// words inside a sentence.
const UNQUOTED: &[&str] = &[
    "prompt",
    "bash-arg",
    "bash-continuation",
    "bash-url",
    "bash-mysql-p",
    // `curl -u user:a b c`: the shell passes `user:a` and two URLs.
    "bash-curl-u",
    "bash-description",
    "bash-base64",
    "webfetch-userinfo",
    "webfetch-query",
    "task-prompt",
    "subagent-progress",
    "todowrite",
    "hook-command",
];

/// Why no detector can tell this plant from benign text, if none can: a hex string
/// or a UUID with no name near it is a digest or an id (redacting those
/// would redact every commit SHA and checksum, which the benign corpus forbids); a
/// passphrase outside quotes is words in a sentence.
fn undetectable(p: &Plant) -> Option<&'static str> {
    // The needle itself (kept as "json" when escaping leaves it unchanged).
    let raw = p
        .forms
        .iter()
        .find(|(l, _)| *l == "raw")
        .or_else(|| p.forms.iter().find(|(l, _)| *l == "json"))
        .map(|(_, v)| v.as_str())?;
    // Any hex: digests are 32 to 128 digits, object ids 24, short commit ids 7 to 12.
    let digest = raw.bytes().all(|b| b.is_ascii_hexdigit());
    let uuid = raw.len() == 36
        && raw.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && raw.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if (digest || uuid) && CONTEXTLESS.contains(&p.placement) {
        return Some("a digest or id with no name near it");
    }
    if p.kind == "passphrase-with-spaces"
        && (CONTEXTLESS.contains(&p.placement) || UNQUOTED.contains(&p.placement))
    {
        return Some("a passphrase that is words in a sentence");
    }
    None
}

fn assert_no_leak(level: Option<&str>) {
    let c = build(seed());
    let outs = outputs(&c, level);
    let mut found = search(&c, &outs);
    let before = found.len();
    found.retain(|i, _| undetectable(&c.plants[*i]).is_none());
    eprintln!(
        "{} plants are out of any detector's reach (no name near a digest-shaped value, \
         an unquoted passphrase) and {} of them came out",
        c.plants
            .iter()
            .filter(|p| undetectable(p).is_some())
            .count(),
        before - found.len()
    );
    let level = level.unwrap_or("redacted");
    if let Some(dir) = std::env::var_os("SESSIONTRAIL_SECRETS_DUMP") {
        // For debugging the redactor: the generated transcripts and every leaked plant's
        // forms (generated values, never real secrets).
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (sid, text) in &c.sessions {
            std::fs::write(dir.join(format!("{sid}.jsonl")), text).unwrap();
        }
        let mut leaked = String::new();
        for (i, outs) in &found {
            let p = &c.plants[*i];
            let _ = writeln!(
                leaked,
                "{} | {} | {:?} | {:?}",
                p.kind,
                p.placement,
                p.forms,
                outs.keys().collect::<Vec<_>>()
            );
        }
        std::fs::write(dir.join(format!("leaked.{level}.txt")), leaked).unwrap();
    }
    // Rare, and beyond what any detector can tell from text without flagging text: a
    // password alone whose symbols are only base64's (`WDjCNjj_quxK_e+4p`, a model of
    // text finds it less surprising than its bar), a key of one case and digits under 24
    // characters that reads as text (`umyueu9bostannxvouck`), both with no name near
    // them; and a password with shell syntax glued after `mysql -p` into another
    // command. Measured by drawing 3,000 fresh values into each such place: 2 of 3,000
    // passwords and 44 of 3,000 such short keys stay; a key under 24 characters is 4 of
    // the generator's 981 lengths. Up to two such leaks pass, printed; any other leak
    // fails. Measured with fresh values, about 6,200 plants a run: seeds 1000 to 1059
    // failed 3 times (a key under its entropy floor by chance, two base64url keys whose
    // first piece reads as a word); with those fixed, seeds 1060 to 1120 once (letters
    // alone that begin with a word), seeds 1121 to 1220 once (`XXxx` taken for a
    // placeholder), seeds 1221 to 1301 three times (32 hex digits under 3 bits after a
    // name, twice; a value longer than a format's group), seeds 1302 to 2129 twice (a
    // 20-character key beside its own `/`), seeds 3000 to 3039 and 3100 to 3169 three
    // times (a long key of one case repeating six characters by chance; a URL's password
    // with a raw `@` and then a `/` or `?`, twice), each fixed with a unit test of its
    // own; with those fixed, seeds 3170 to 3209 none; no run printed an open-shape leak.
    let open = |i: &usize| {
        let p = &c.plants[*i];
        let raw = p
            .forms
            .iter()
            .find(|(l, _)| matches!(*l, "raw" | "json"))
            .map_or(0, |(_, v)| v.len());
        (p.kind == "password-with-symbols"
            && (CONTEXTLESS.contains(&p.placement) || p.placement == "bash-mysql-p"))
            || (p.kind == "generic-lower-digits" && CONTEXTLESS.contains(&p.placement) && raw < 24)
    };
    let open_leaks = found.keys().filter(|i| open(i)).count();
    let other_leaks = found.len() - open_leaks;
    if !found.is_empty() {
        eprintln!("{}", table(&c, level, &found));
    }
    if other_leaks > 0 || open_leaks > 2 {
        let t = table(&c, level, &found);
        if let Some(path) = std::env::var_os("SESSIONTRAIL_SECRETS_TABLE") {
            std::fs::write(format!("{}.{level}.md", path.to_string_lossy()), &t).unwrap();
        }
        panic!("planted secrets leaked\n{t}");
    }
}

#[test]
fn no_planted_secret_leaks_at_the_default_level() {
    assert_no_leak(None);
}

#[test]
fn no_planted_secret_leaks_at_level_none() {
    assert_no_leak(Some("none"));
}

#[test]
fn at_level_full_every_planted_secret_is_in_the_otlp_output() {
    let c = build(seed());
    let outs = outputs(&c, Some("full"));
    let otlp: Vec<_> = outs.into_iter().filter(|(n, _)| n == "otlp-file").collect();
    let found = search(&c, &otlp);
    let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut carried: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, p) in c.plants.iter().enumerate() {
        let dropped = NOT_EXPORTED.contains(&p.placement);
        if !found.contains_key(&i) && !dropped {
            missing.entry(p.placement).or_default().push(p.kind);
        }
        if found.contains_key(&i) && dropped {
            carried.entry(p.placement).or_default().push(p.kind);
        }
    }
    let mut t = String::new();
    for (pl, ks) in &missing {
        let _ = writeln!(t, "  {pl}: {} kinds ({})", ks.len(), ks.join(", "));
    }
    assert!(
        missing.is_empty(),
        "seed {} (SESSIONTRAIL_SECRETS_SEED={} reproduces): planted secrets missing from the OTLP output at --content full, per placement:\n{t}",
        c.seed,
        c.seed
    );
    assert!(
        carried.is_empty(),
        "seed {}: placements in NOT_EXPORTED now reach the export, take them off the list: {carried:?}",
        c.seed
    );
}
