//! What reading a session's files found wrong, and what it chose not to map.

use std::collections::BTreeMap;
use std::fmt;

/// Why a line or a file was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IssueKind {
    /// The line is not valid JSON.
    InvalidJson,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The last line has no newline and does not parse: the file was cut or is being written.
    TruncatedLine,
    /// The line is longer than the limit.
    LineTooLong,
    /// The line is JSON but not a record of the expected shape.
    InvalidRecord,
    /// The file could not be opened or read (vanished, permissions...).
    Unreadable,
    /// The file is empty.
    EmptyFile,
    /// The file is not in a format any adapter knows.
    UnknownFormat,
}

impl IssueKind {
    /// A stable, low-cardinality code for scripts.
    pub fn code(self) -> &'static str {
        match self {
            IssueKind::InvalidJson => "invalid_json",
            IssueKind::InvalidUtf8 => "invalid_utf8",
            IssueKind::TruncatedLine => "truncated_line",
            IssueKind::LineTooLong => "line_too_long",
            IssueKind::InvalidRecord => "invalid_record",
            IssueKind::Unreadable => "unreadable",
            IssueKind::EmptyFile => "empty_file",
            IssueKind::UnknownFormat => "unknown_format",
        }
    }
}

/// A line or file that was skipped, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file.
    pub path: String,
    /// 1-based line number; `None` when the whole file is concerned.
    pub line: Option<u64>,
    /// Why.
    pub kind: IssueKind,
    /// Details safe to print: positions and sizes, never the line's content.
    pub detail: String,
}

impl Issue {
    /// The issue with its path and detail passed through `scrub` (the redactor, below
    /// `--content full`): a file may be named after a secret.
    pub fn scrubbed(mut self, scrub: &dyn Fn(&str) -> String) -> Issue {
        self.path = scrub(&self.path);
        self.detail = scrub(&self.detail);
        self
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path, l, self.detail),
            None => write!(f, "{}: {}", self.path, self.detail),
        }
    }
}

/// Everything reading one session (or one file) found besides the session itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Lines read, across files.
    pub lines: u64,
    /// Bytes read, across files.
    pub bytes: u64,
    /// Lines and files skipped because they were bad.
    pub issues: Vec<Issue>,
    /// Records deliberately not mapped to spans or events, by kind (`file-history-snapshot`,
    /// `progress/bash_progress`...). These are not errors.
    pub unmapped: BTreeMap<String, u64>,
    /// Records kept as span events, by kind.
    pub events: BTreeMap<String, u64>,
    /// Records seen twice (the same record in two files) and counted once.
    pub duplicates: u64,
}

impl Report {
    /// Adds another report's figures to this one.
    pub fn merge(&mut self, other: Report) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.issues.extend(other.issues);
        for (k, v) in other.unmapped {
            *self.unmapped.entry(k).or_default() += v;
        }
        for (k, v) in other.events {
            *self.events.entry(k).or_default() += v;
        }
        self.duplicates += other.duplicates;
    }

    /// Every name the report holds (paths, record kinds) passed through `scrub`, before
    /// anything prints it: a record's `type` can be anything, a secret too.
    pub fn scrub_names(&mut self, scrub: &dyn Fn(&str) -> String) {
        for i in std::mem::take(&mut self.issues) {
            self.issues.push(i.scrubbed(scrub));
        }
        for map in [&mut self.unmapped, &mut self.events] {
            *map = scrub_keys(std::mem::take(map), scrub);
        }
    }

    pub(crate) fn unmapped(&mut self, kind: &str) {
        bump(&mut self.unmapped, kind);
    }

    pub(crate) fn event(&mut self, kind: &str) {
        bump(&mut self.events, kind);
    }
}

fn bump(map: &mut BTreeMap<String, u64>, kind: &str) {
    if let Some(n) = map.get_mut(kind) {
        *n += 1;
    } else {
        map.insert(kind.to_owned(), 1);
    }
}

/// `map` with its keys passed through `scrub`; keys that become one are added up.
fn scrub_keys(map: BTreeMap<String, u64>, scrub: &dyn Fn(&str) -> String) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (k, v) in map {
        *out.entry(scrub(&k)).or_default() += v;
    }
    out
}
