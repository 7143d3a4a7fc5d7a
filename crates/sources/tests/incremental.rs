//! Reading a session as its files grow, in any pieces, with the process restarted between
//! them, gives the session a whole read gives (DESIGN.md 1).

use std::io::Write;
use std::path::{Path, PathBuf};

use sessiontrail_sources::{
    Changed, Finish, ParseOptions, SessionFiles, Tail, discover, parse_session,
};

fn fixtures() -> PathBuf {
    if let Some(p) = std::env::var_os("SESSIONTRAIL_FIXTURES") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn options() -> ParseOptions {
    ParseOptions {
        home: Some("/nonexistent/home".into()),
        claude_config_dir: Some("/nonexistent/claude".into()),
        ..Default::default()
    }
}

/// A deterministic xorshift.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The session of `src` (a transcript with its subagent files) copied under `dir`, as
/// discovery groups it there once complete, with the bytes each file will hold.
fn layout(src: &Path, dir: &Path) -> (SessionFiles, Vec<Vec<u8>>) {
    let found = discover(&[src.to_owned()], 16 << 20);
    assert_eq!(found.sessions.len(), 1, "{:?}", found.issues);
    let s = found.sessions.into_iter().next().unwrap();
    let root = src.parent().unwrap();
    let mut contents = Vec::new();
    let mut files = Vec::new();
    for f in &s.files {
        let rel = f.strip_prefix(root).unwrap();
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, b"").unwrap();
        contents.push(std::fs::read(f).unwrap());
        files.push(to);
    }
    let names = files.iter().map(|p| p.display().to_string()).collect();
    (SessionFiles { files, names, ..s }, contents)
}

#[test]
fn a_session_read_in_pieces_with_restarts_is_the_session_read_whole() {
    let src =
        fixtures().join("real/claude/marot-spotter/4d5611e5-241a-462a-8d15-5122611a9569.jsonl");
    let opts = options();
    for seed in [1u64, 7, 42] {
        let dir = tempfile::tempdir().unwrap();
        let (files, contents) = layout(&src, dir.path());
        assert!(files.files.len() >= 2, "the fixture has subagent files");
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut written = vec![0usize; contents.len()];
        let mut tail = Tail::new(files.clone(), &opts);
        let mut restarts = 0;
        let mut polls = 0;
        while written.iter().zip(&contents).any(|(w, c)| *w < c.len()) {
            // Grow one file by a piece of any size, cut anywhere (mid-line, mid-character).
            let i = rng.below(contents.len() as u64) as usize;
            let left = contents[i].len() - written[i];
            if left == 0 {
                continue;
            }
            let n = 1 + rng.below(left.min(150_000) as u64) as usize;
            std::fs::OpenOptions::new()
                .append(true)
                .open(&files.files[i])
                .unwrap()
                .write_all(&contents[i][written[i]..written[i] + n])
                .unwrap();
            written[i] += n;
            tail.poll().unwrap();
            polls += 1;
            // Now and then the process stops and another resumes from the checkpoints.
            if rng.below(4) == 0 {
                let marks = tail.checkpoints().to_vec();
                drop(tail);
                tail = Tail::resume(files.clone(), &opts, &marks).unwrap();
                assert_eq!(tail.checkpoints(), &marks[..]);
                restarts += 1;
            }
            // What is read so far is a session already (the live view).
            if polls % 10 == 0 {
                let (so_far, _) = tail.session();
                assert!(so_far.is_some() || written[files.files.len() - 1] < 2000);
            }
        }
        assert!(
            restarts > 2 && polls > 20,
            "{restarts} restarts, {polls} polls"
        );
        let (pieces, pieces_report) = tail.finish(Finish::EndOfInput);
        let (whole, whole_report) = parse_session(&files, &opts);
        let (pieces, whole) = (pieces.unwrap(), whole.unwrap());
        assert!(whole.tools.len() > 50);
        assert!(pieces == whole, "seed {seed}: the sessions differ");
        assert_eq!(pieces_report, whole_report, "seed {seed}");
    }
}

/// A file replaced or cut since its checkpoint is reported, never read on from a wrong
/// offset; a partial last line waits for its newline.
#[test]
fn a_replaced_or_truncated_file_is_detected_and_a_partial_line_waits() {
    let src = fixtures().join("real/claude/marot-spotter/short.jsonl");
    let text = std::fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let cut = text.len() - 40;
    std::fs::write(&path, &text[..cut]).unwrap();
    let files = SessionFiles {
        files: vec![path.clone()],
        names: vec![path.display().to_string()],
        ..discover(std::slice::from_ref(&src), 1 << 20)
            .sessions
            .remove(0)
    };
    let opts = options();
    let mut tail = Tail::new(files.clone(), &opts);
    tail.poll().unwrap();
    let mark = tail.checkpoints()[0];
    let last_newline = text[..cut].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(mark.offset, last_newline as u64, "the partial line waits");
    assert_eq!(tail.session().1.issues, [], "a partial line is no error");

    // Cut: shorter than what was read.
    std::fs::write(&path, &text[..100]).unwrap();
    assert_eq!(tail.poll().map_err(|e| e.change), Err(Changed::Truncated));
    // Replaced: another file under the name.
    let other = dir.path().join("other.jsonl");
    std::fs::write(&other, &text).unwrap();
    std::fs::rename(&other, &path).unwrap();
    assert!(matches!(
        Tail::resume(files.clone(), &opts, &[mark]).map_err(|e| e.change),
        Err(Changed::Replaced)
    ));
    // Renamed: the same file under another name still resumes.
    let moved = dir.path().join("moved.jsonl");
    let mut t = Tail::new(
        SessionFiles {
            files: vec![path.clone()],
            ..files.clone()
        },
        &opts,
    );
    t.poll().unwrap();
    let marks = t.checkpoints().to_vec();
    std::fs::rename(&path, &moved).unwrap();
    let resumed = Tail::resume(
        SessionFiles {
            files: vec![moved.clone()],
            ..files
        },
        &opts,
        &marks,
    )
    .unwrap();
    assert_eq!(resumed.checkpoints(), &marks[..]);
}
