//! The read loop every adapter shares: a file's lines from a checkpoint to its end, fed to
//! a [`SessionParser`], each bad line and unreadable file reported.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;

use crate::adapter::SessionParser;
use crate::lines::{Line, LineReader};
use crate::report::{Issue, IssueKind};

/// Which file a checkpoint is in: it survives a rename, and tells a file replaced under
/// the same name from the one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
}

impl FileIdentity {
    /// The identity of the file at `path` now, if there is one.
    pub fn of_path(path: &Path) -> Option<FileIdentity> {
        std::fs::metadata(path).ok().map(|m| FileIdentity::of(&m))
    }

    fn of(m: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt;
        FileIdentity {
            dev: m.dev(),
            ino: m.ino(),
        }
    }
}

/// How far a file was read: every line before `offset` was fed, the last of them line
/// `line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The file read, once opened.
    pub identity: Option<FileIdentity>,
    /// Bytes read.
    pub offset: u64,
    /// Lines read.
    pub line: u64,
}

/// Why a file cannot be read on from its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// Another file now has the name.
    Replaced,
    /// The file is shorter than what was read of it.
    Truncated,
}

/// What to do with a last line that has no newline yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastLine {
    /// Read it: the file is complete (a backfill).
    Read,
    /// Leave it for later: the agent is still writing it.
    Wait,
}

/// Feeds the lines of `path` after `from` to `parser`; returns the new checkpoint. A file
/// that cannot be opened or read is reported (as `shown`) and the checkpoint kept.
pub fn read_lines(
    parser: &mut dyn SessionParser,
    path: &Path,
    shown: &str,
    from: Checkpoint,
    last: LastLine,
    max_line_bytes: usize,
) -> Result<Checkpoint, Changed> {
    let file_issue = |parser: &mut dyn SessionParser, kind, detail: String| {
        parser.report_mut().issues.push(Issue {
            path: shown.to_owned(),
            line: None,
            kind,
            detail,
        });
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            file_issue(
                parser,
                IssueKind::Unreadable,
                format!("cannot open: {}", io_reason(&e)),
            );
            return Ok(from);
        }
    };
    let meta = file.metadata().ok();
    let identity = meta.as_ref().map(FileIdentity::of);
    if let (Some(was), Some(now)) = (from.identity, identity)
        && was != now
    {
        return Err(Changed::Replaced);
    }
    if meta.is_some_and(|m| m.is_file() && m.len() < from.offset) {
        return Err(Changed::Truncated);
    }
    if from.offset > 0
        && let Err(e) = file.seek(SeekFrom::Start(from.offset))
    {
        file_issue(
            parser,
            IssueKind::Unreadable,
            format!(
                "cannot read on from byte {}: {}",
                from.offset,
                io_reason(&e)
            ),
        );
        return Ok(from);
    }
    if from.identity.is_none() {
        parser.file(shown);
    }
    let mut reader = LineReader::resume(
        BufReader::with_capacity(256 * 1024, file),
        max_line_bytes,
        from.line,
        from.offset,
    );
    let mut done = Checkpoint { identity, ..from };
    loop {
        let line = match reader.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                file_issue(
                    parser,
                    IssueKind::Unreadable,
                    format!("read failed after line {}: {}", done.line, io_reason(&e)),
                );
                break;
            }
        };
        match line {
            Line::Complete {
                terminated: false, ..
            } if last == LastLine::Wait => break,
            Line::Complete {
                number,
                bytes,
                terminated,
            } => parser.line(bytes, terminated, shown, number),
            Line::TooLong { number, len } => {
                parser.report_mut().issues.push(Issue {
                    path: shown.to_owned(),
                    line: Some(number),
                    kind: IssueKind::LineTooLong,
                    detail: format!("line of {len} bytes is over the {max_line_bytes} byte limit"),
                });
            }
        }
        done.offset = reader.offset();
        done.line = reader.number();
    }
    let report = parser.report_mut();
    report.lines += done.line - from.line;
    report.bytes += done.offset - from.offset;
    if done.offset == 0 && last == LastLine::Read {
        file_issue(parser, IssueKind::EmptyFile, "empty file".into());
    }
    Ok(done)
}

/// An I/O error without the path (the caller names it).
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file (it may have been deleted)".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}
