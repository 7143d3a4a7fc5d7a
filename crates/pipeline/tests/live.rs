//! Incremental equals batch (DESIGN.md 1, 3): every real Claude Code session, its files
//! growing together in the order the agent wrote their lines and cut anywhere (mid-line,
//! mid-character, between a tool call and its result, inside a split model response),
//! followed by a process that is dropped and rebuilt from
//! the store's checkpoints after every piece, stores only spans that never change again,
//! never the span of a call still open, and ends with the spans one backfill stores, byte
//! for byte.
//!
//! `SESSIONTRAIL_CUT_SETS` sets the cut sets per session (default 200 for the sessions
//! under 400 KB and 100 for larger ones, whose every restart re-reads megabytes).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sessiontrail_model::{ContentLevel, ContentOptions};
use sessiontrail_pipeline::{Live, Options, backfill};
use sessiontrail_sources::{Finish, ParseOptions, SessionFiles, discover};
use sessiontrail_store::Store;
use sessiontrail_trace::TraceOptions;

fn fixtures() -> PathBuf {
    if let Some(p) = std::env::var_os("SESSIONTRAIL_FIXTURES") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn options() -> Options {
    let content = ContentOptions {
        level: ContentLevel::Redacted,
        max_attribute_bytes: 4096,
        redactor: Some(Arc::new(sessiontrail_policy::SecretRedactor::new())),
    };
    Options {
        parse: ParseOptions {
            content: content.clone(),
            home: Some("/nonexistent/home".into()),
            claude_config_dir: Some("/nonexistent/claude".into()),
            ..Default::default()
        },
        trace: TraceOptions {
            content,
            host_name: Some("host".into()),
            ..Default::default()
        },
        jobs: 1,
        notes: false,
        trace_url: None,
        keep_spans: false,
    }
}

/// A deterministic xorshift.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// One line of a session's files, in the order the agent wrote them.
#[derive(Clone, Copy)]
struct Written {
    file: usize,
    start: usize,
    end: usize,
    /// A tool call's line: cutting after it separates the call from its result.
    tool_use: bool,
    /// The next line of its file belongs to the same model response.
    split_response: bool,
}

/// Every line of the files (a last line without newline included), merged across the
/// files by timestamp as the agent wrote them: a subagent's file and its parent's grow
/// together.
fn timeline(contents: &[Vec<u8>]) -> Vec<Written> {
    // (timestamp, position written, line): a file's lines are pushed in order, so the
    // previous entry is the previous line of the same file.
    let mut all: Vec<(String, usize, Written)> = Vec::new();
    for (file, bytes) in contents.iter().enumerate() {
        let mut start = 0;
        let mut time = String::new();
        let mut prev_msg: Option<String> = None;
        while start < bytes.len() {
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| start + p + 1);
            let v: serde_json::Value =
                serde_json::from_slice(&bytes[start..end]).unwrap_or_default();
            if let Some(t) = v["timestamp"].as_str() {
                time = t.to_owned();
            }
            let msg = v["message"]["id"].as_str().map(str::to_owned);
            if start > 0 && msg.is_some() && msg == prev_msg {
                all.last_mut().unwrap().2.split_response = true;
            }
            let tool_use =
                String::from_utf8_lossy(&bytes[start..end]).contains("\"type\":\"tool_use\"");
            let w = Written {
                file,
                start,
                end,
                tool_use,
                split_response: false,
            };
            all.push((time.clone(), all.len(), w));
            prev_msg = msg;
            start = end;
        }
    }
    all.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    all.into_iter().map(|(_, _, w)| w).collect()
}

/// Where the writes stop: after `lines` whole lines of the timeline, and `partial` bytes of
/// the next one (mid-line, maybe mid-character).
fn cut_points(lines: &[Written], contents: &[Vec<u8>], rng: &mut Rng) -> Vec<(usize, usize)> {
    let pick = |rng: &mut Rng, want: &dyn Fn(&Written) -> bool| {
        let candidates: Vec<usize> = (0..lines.len()).filter(|&k| want(&lines[k])).collect();
        if candidates.is_empty() {
            rng.below(lines.len() as u64 + 1) as usize
        } else {
            candidates[rng.below(candidates.len() as u64) as usize] + 1
        }
    };
    let mut at: Vec<(usize, usize)> = (0..1 + rng.below(5))
        .map(|_| {
            let k = match rng.below(4) {
                0 => pick(rng, &|w| w.tool_use),
                1 => pick(rng, &|w| w.split_response),
                _ => rng.below(lines.len() as u64 + 1) as usize,
            };
            let partial = match lines.get(k) {
                Some(next) if rng.below(2) == 0 => {
                    let line = &contents[next.file][next.start..next.end];
                    let mid_char: Vec<usize> = (1..line.len())
                        .filter(|&i| line[i] & 0xC0 == 0x80)
                        .collect();
                    if !mid_char.is_empty() && rng.below(2) == 0 {
                        mid_char[rng.below(mid_char.len() as u64) as usize]
                    } else {
                        rng.below(line.len() as u64) as usize
                    }
                }
                _ => 0,
            };
            (k, partial)
        })
        .collect();
    at.push((lines.len(), 0));
    at.sort_unstable();
    at.dedup();
    at
}

/// How many bytes of each file the writes have reached at a cut point.
fn sizes(lines: &[Written], files: usize, (k, partial): (usize, usize)) -> Vec<usize> {
    let mut size = vec![0usize; files];
    for w in &lines[..k] {
        size[w.file] = size[w.file].max(w.end);
    }
    if let Some(next) = lines.get(k) {
        size[next.file] = size[next.file].max(next.start + partial);
    }
    size
}

/// The real sessions: each with its files copied under `dir` (empty until written) and the
/// bytes each will hold.
fn sessions(dir: &Path) -> Vec<(SessionFiles, Vec<Vec<u8>>)> {
    let root = fixtures().join("real/claude");
    let found = discover(std::slice::from_ref(&root), 16 << 20);
    assert!(found.sessions.len() >= 10, "{:?}", found.issues);
    let mut out = Vec::new();
    for s in found.sessions {
        let mut contents = Vec::new();
        let mut files = Vec::new();
        for f in &s.files {
            let to = dir.join(f.strip_prefix(&root).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            contents.push(std::fs::read(f).unwrap());
            files.push(to);
        }
        let names = files.iter().map(|p| p.display().to_string()).collect();
        out.push((SessionFiles { files, names, ..s }, contents));
    }
    out
}

fn stored(store: &Store) -> BTreeMap<[u8; 8], Vec<u8>> {
    let mut out = BTreeMap::new();
    for s in store.sessions().unwrap() {
        for sp in store.spans(&s.trace_id).unwrap() {
            out.insert(sp.span_id, sp.body);
        }
    }
    out
}

fn cut_sets(bytes: u64) -> usize {
    if let Some(n) = std::env::var("SESSIONTRAIL_CUT_SETS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if bytes < 400_000 { 200 } else { 100 }
}

#[test]
fn any_pieces_with_restarts_store_what_one_backfill_stores() {
    let dir = tempfile::tempdir().unwrap();
    let all = sessions(dir.path());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let cases: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let opts = options();
                    let mut cases = 0;
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((files, contents)) = all.get(k) else {
                            break cases;
                        };
                        cases += check_session(files, contents, &opts, dir.path(), k);
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let planned: usize = all.iter().map(|(f, _)| cut_sets(f.bytes)).sum();
    assert_eq!(cases, planned, "cut sets run");
}

/// Runs the cut sets of one session; how many.
fn check_session(
    files: &SessionFiles,
    contents: &[Vec<u8>],
    opts: &Options,
    dir: &Path,
    k: usize,
) -> usize {
    let opts = opts.clone();
    let mut cases = 0;
    // The batch: the whole files, one backfill.
    for (f, c) in files.files.iter().zip(contents) {
        std::fs::write(f, c).unwrap();
    }
    let mut batch = Store::open(&dir.join(format!("batch-{k}.db"))).unwrap();
    backfill(std::slice::from_ref(files), &opts, &mut batch, &mut |_| {}).unwrap();
    let want = stored(&batch);
    drop(batch);
    std::fs::remove_file(dir.join(format!("batch-{k}.db"))).unwrap();
    let lines = timeline(contents);
    let name = files.names[0].rsplit('/').next().unwrap().to_owned();
    for set in 0..cut_sets(files.bytes) {
        let mut rng = Rng((set as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ files.bytes);
        for f in &files.files {
            std::fs::write(f, b"").unwrap();
        }
        let db = dir.join(format!("live-{k}.db"));
        let _ = std::fs::remove_file(&db);
        let mut store = Store::open(&db).unwrap();
        let plan = cut_points(&lines, contents, &mut rng);
        let mut written = vec![0usize; contents.len()];
        let mut seen: BTreeMap<[u8; 8], Vec<u8>> = BTreeMap::new();
        let mut live = Live::open(files.clone(), &opts, &store).unwrap();
        for cut in plan {
            for (i, upto) in sizes(&lines, contents.len(), cut).into_iter().enumerate() {
                if upto <= written[i] {
                    continue;
                }
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&files.files[i])
                    .unwrap()
                    .write_all(&contents[i][written[i]..upto])
                    .unwrap();
                written[i] = upto;
            }
            live.poll(&mut store).unwrap();
            // The process stops; another resumes from what the store holds.
            drop(live);
            live = Live::open(files.clone(), &opts, &store).unwrap();
            let now = stored(&store);
            for (id, body) in &now {
                let what = format!("{name} cut set {set}: span {}", hex(id));
                let Some(final_body) = want.get(id) else {
                    panic!("{what} was stored but a backfill has no such span");
                };
                assert!(
                    body == final_body,
                    "{what} was stored before it was final: {}",
                    diff(body, final_body)
                );
                if let Some(was) = seen.insert(*id, body.clone()) {
                    assert!(was == *body, "{what} changed after it was stored");
                }
            }
            assert!(
                now.len() < want.len()
                    || written == contents.iter().map(Vec::len).collect::<Vec<_>>(),
                "{name} cut set {set}: everything stored before the session was finished"
            );
            // A partial last line is never counted as read.
            for row in store
                .sessions()
                .unwrap()
                .iter()
                .flat_map(|s| store.checkpoints_of(&s.trace_id).unwrap())
            {
                let k = files.names.iter().position(|n| *n == row.path).unwrap();
                let off = row.offset as usize;
                assert!(off <= written[k] && (off == 0 || contents[k][off - 1] == b'\n'));
            }
        }
        live.poll(&mut store).unwrap();
        live.finish(Finish::EndOfInput, &mut store).unwrap();
        let got = stored(&store);
        assert!(
            got == want,
            "{name} cut set {set}: {} spans stored, a backfill stores {}",
            got.len(),
            want.len()
        );
        cases += 1;
    }
    cases
}

fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// What differs between two versions of a span, for a failure's message.
fn diff(now: &[u8], then: &[u8]) -> String {
    use prost::Message;
    let a = sessiontrail_trace::Span::decode(now).unwrap();
    let b = sessiontrail_trace::Span::decode(then).unwrap();
    let mut out = format!("{:?}", a.name);
    if (a.start_time_unix_nano, a.end_time_unix_nano)
        != (b.start_time_unix_nano, b.end_time_unix_nano)
    {
        out += &format!(
            " times {}..{} then {}..{}",
            a.start_time_unix_nano,
            a.end_time_unix_nano,
            b.start_time_unix_nano,
            b.end_time_unix_nano
        );
    }
    for kv in &a.attributes {
        let other = b.attributes.iter().find(|o| o.key == kv.key);
        if other != Some(kv) {
            out += &format!(
                "; {} = {:?} then {:?}",
                kv.key,
                kv.value,
                other.map(|o| &o.value)
            );
        }
    }
    for kv in &b.attributes {
        if !a.attributes.iter().any(|o| o.key == kv.key) {
            out += &format!("; {} absent then {:?}", kv.key, kv.value);
        }
    }
    if a.events != b.events {
        out += &format!("; {} events then {}", a.events.len(), b.events.len());
    }
    if a.status != b.status {
        out += &format!("; status {:?} then {:?}", a.status, b.status);
    }
    out
}

/// A tool span waits for the hook spool to be read past its result, and only then: with the
/// spool read just before a result, that call's span waits and the poll says so; with
/// results dated far past the spool's read (a clock ahead, files from elsewhere), nothing
/// waits, or it would wait for ever.
#[test]
fn tool_spans_wait_for_the_spool_only_when_it_lags_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (files, contents) = sessions(dir.path())
        .into_iter()
        .find(|(f, _)| f.files.len() == 1 && f.files[0].ends_with("subagent.jsonl"))
        .expect("marot-spotter subagent.jsonl");
    std::fs::write(&files.files[0], &contents[0]).unwrap();
    let (session, _) = sessiontrail_sources::parse_session(&files, &options().parse);
    let session = session.unwrap();
    let last_result = session.tools.iter().filter_map(|t| t.end).max().unwrap();
    let poll = |until: i64| {
        let store_dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&store_dir.path().join("s.db")).unwrap();
        let mut live = Live::open(files.clone(), &options(), &store).unwrap();
        live.facts_read_until(sessiontrail_model::Timestamp(until));
        let p = live.poll(&mut store).unwrap();
        (p.held, p.stored)
    };
    let (held, stored_behind) = poll(last_result.0 - 1);
    assert!(
        held,
        "the call whose result is newer than the spool's read waits"
    );
    let (held, stored_past) = poll(last_result.0 + 1);
    assert!(!held);
    assert!(stored_past > stored_behind);
    let (held, stored_far) = poll(0);
    assert!(
        !held,
        "a spool read decades before the results is no reason to wait"
    );
    assert_eq!(stored_far, stored_past);
}
