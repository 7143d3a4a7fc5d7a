//! Numbered migrations, tracked in SQLite's `user_version`.

use std::path::Path;

use rusqlite::Connection;

use crate::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE sessions (
    trace_id      BLOB PRIMARY KEY,
    agent         TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    project       TEXT,
    start_ns      INTEGER NOT NULL,
    end_ns        INTEGER NOT NULL,
    turns         INTEGER NOT NULL,
    model_calls   INTEGER NOT NULL,
    tool_calls    INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    spans         INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    resource      BLOB NOT NULL
);
CREATE INDEX sessions_by_session_id ON sessions (session_id);
CREATE TABLE spans (
    trace_id       BLOB NOT NULL,
    span_id        BLOB NOT NULL,
    parent_span_id BLOB,
    name           TEXT NOT NULL,
    start_ns       INTEGER NOT NULL,
    end_ns         INTEGER NOT NULL,
    error          INTEGER NOT NULL,
    origin         TEXT NOT NULL,
    digest         BLOB NOT NULL,
    body           BLOB NOT NULL,
    UNIQUE (trace_id, span_id)
);
CREATE TABLE outbox (
    sink     TEXT NOT NULL,
    trace_id BLOB NOT NULL,
    PRIMARY KEY (sink, trace_id)
) WITHOUT ROWID;
CREATE TABLE deliveries (
    sink         TEXT NOT NULL,
    trace_id     BLOB NOT NULL,
    span_id      BLOB NOT NULL,
    digest       BLOB NOT NULL,
    delivered_ns INTEGER NOT NULL,
    PRIMARY KEY (sink, trace_id, span_id)
) WITHOUT ROWID;
",
    r"
CREATE TABLE sensitive (
    trace_id BLOB NOT NULL,
    span_id  BLOB NOT NULL,
    time_ns  INTEGER NOT NULL,
    tool     TEXT NOT NULL,
    rules    TEXT NOT NULL,
    severity TEXT NOT NULL,
    targets  TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
CREATE INDEX sensitive_by_time ON sensitive (time_ns);
",
    r"
CREATE TABLE commits (
    sha      TEXT NOT NULL,
    trace_id BLOB NOT NULL,
    span_id  BLOB NOT NULL,
    method   TEXT NOT NULL,
    time_ns  INTEGER NOT NULL,
    branch   TEXT,
    files    TEXT NOT NULL,
    tools    TEXT NOT NULL,
    PRIMARY KEY (sha, trace_id)
) WITHOUT ROWID;
CREATE INDEX commits_by_trace ON commits (trace_id);
",
    // The post-commit hook asks for the sessions active lately, on every commit.
    r"
CREATE INDEX sessions_by_end ON sessions (end_ns);
",
    // How far each session file was read, written with the spans it produced: a reader that
    // stops resumes there. The file is found by path, or by identity after a rename.
    r"
CREATE TABLE checkpoints (
    path       TEXT PRIMARY KEY,
    trace_id   BLOB NOT NULL,
    dev        INTEGER,
    ino        INTEGER,
    offset     INTEGER NOT NULL,
    line       INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX checkpoints_by_trace ON checkpoints (trace_id);
CREATE INDEX checkpoints_by_identity ON checkpoints (dev, ino);
",
    // The outbox says how long a trace has waited; spans a sink refused for good wait
    // aside (until the next process tries them once more); traces given up past the cap
    // are counted per sink.
    r"
ALTER TABLE outbox ADD COLUMN queued_ns INTEGER NOT NULL DEFAULT 0;
CREATE TABLE set_aside (
    sink     TEXT NOT NULL,
    trace_id BLOB NOT NULL,
    span_id  BLOB NOT NULL,
    digest   BLOB NOT NULL,
    reason   TEXT NOT NULL,
    time_ns  INTEGER NOT NULL,
    PRIMARY KEY (sink, trace_id, span_id)
) WITHOUT ROWID;
CREATE TABLE outbox_drops (
    sink    TEXT PRIMARY KEY,
    spans   INTEGER NOT NULL,
    traces  INTEGER NOT NULL,
    last_ns INTEGER NOT NULL
) WITHOUT ROWID;
",
    // What the last delivery to each sink did, for `doctor`.
    r"
CREATE TABLE sink_status (
    sink     TEXT PRIMARY KEY,
    ok_ns    INTEGER,
    error    TEXT,
    error_ns INTEGER
) WITHOUT ROWID;
",
    // HEAD as `watch` read it while a session was written: when it was first seen at a
    // commit (a move), per trace.
    r"
CREATE TABLE heads (
    trace_id BLOB NOT NULL,
    time_ns  INTEGER NOT NULL,
    sha      TEXT NOT NULL,
    PRIMARY KEY (trace_id, time_ns)
) WITHOUT ROWID;
",
    // What an agent's hooks said about a trace while `watch` read them (permission checks,
    // the environment at the start...): one JSON document per fact, already redacted.
    r"
CREATE TABLE hook_facts (
    trace_id BLOB NOT NULL,
    time_ns  INTEGER NOT NULL,
    fact     TEXT NOT NULL,
    PRIMARY KEY (trace_id, time_ns, fact)
) WITHOUT ROWID;
",
];

pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let check = |version: i64| {
        if version > known {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: version,
                known,
            });
        }
        Ok(version)
    };
    if check(user_version(conn)?)? == known {
        return Ok(());
    }
    // Under the write lock, read again: another process may have migrated meanwhile.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version = check(user_version(&tx)?)?;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}
