use super::*;

fn session(id: &str, spans: &[(&str, u8)]) -> NewSession {
    let mut trace_id = [0u8; 16];
    trace_id[..id.len().min(16)].copy_from_slice(&id.as_bytes()[..id.len().min(16)]);
    NewSession {
        row: SessionRow {
            trace_id,
            agent: "claude-code".into(),
            session_id: id.into(),
            project: Some("/p".into()),
            start_ns: 1,
            end_ns: 2,
            turns: 1,
            model_calls: 1,
            tool_calls: 1,
            errors: 0,
            spans: spans.len() as u64,
            input_tokens: 3,
            output_tokens: 4,
        },
        resource: vec![1, 2, 3],
        origin: "transcript",
        sensitive: Vec::new(),
        commits: Vec::new(),
        checkpoints: Vec::new(),
        partial: false,
        spans: spans
            .iter()
            .map(|(name, v)| SpanRow {
                span_id: [name.as_bytes()[0]; 8],
                parent_span_id: None,
                name: (*name).into(),
                start_ns: 1,
                end_ns: 2,
                error: false,
                body: vec![*v],
            })
            .collect(),
    }
}

#[test]
fn writing_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("a/b/st.db")).unwrap();
    let s = session("abc", &[("a", 1), ("b", 2)]);
    let first = st.put_sessions(std::slice::from_ref(&s)).unwrap();
    assert_eq!(
        first[0],
        PutStats {
            inserted: 2,
            ..Default::default()
        }
    );
    let second = st.put_sessions(std::slice::from_ref(&s)).unwrap();
    assert_eq!(
        second[0],
        PutStats {
            unchanged: 2,
            ..Default::default()
        }
    );
    assert_eq!(st.sessions().unwrap().len(), 1);
    assert_eq!(st.spans(&s.row.trace_id).unwrap().len(), 2);
}

#[test]
fn changed_and_vanished_spans_are_rewritten_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    st.put_sessions(&[session("abc", &[("a", 1), ("b", 2)])])
        .unwrap();
    let stats = st.put_sessions(&[session("abc", &[("a", 9)])]).unwrap();
    assert_eq!(
        stats[0],
        PutStats {
            updated: 1,
            removed: 1,
            ..Default::default()
        }
    );
    let spans = st.spans(&session("abc", &[]).row.trace_id).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].body, vec![9]);
}

#[test]
fn a_partial_write_adds_spans_and_removes_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    st.put_sessions(&[session("abc", &[("a", 1), ("b", 2)])])
        .unwrap();
    let more = NewSession {
        partial: true,
        ..session("abc", &[("c", 3)])
    };
    let stats = st.put_sessions(&[more]).unwrap();
    assert_eq!(
        stats[0],
        PutStats {
            inserted: 1,
            ..Default::default()
        }
    );
    let id = session("abc", &[]).row.trace_id;
    assert_eq!(st.spans(&id).unwrap().len(), 3);
    // A whole write removes what it no longer produces.
    st.put_sessions(&[session("abc", &[("a", 1)])]).unwrap();
    assert_eq!(st.spans(&id).unwrap().len(), 1);
}

#[test]
fn finds_sessions_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    st.put_sessions(&[
        session("abc1", &[]),
        session("abc2", &[]),
        session("xyz", &[]),
    ])
    .unwrap();
    assert_eq!(st.find_session("xy").unwrap().session_id, "xyz");
    assert!(matches!(
        st.find_session("abc"),
        Err(StoreError::Ambiguous { .. })
    ));
    assert!(matches!(
        st.find_session("nope"),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(st.find_session(""), Err(StoreError::NotFound(_))));
    // Trace id prefix, in hex ("abc1" = 61 62 63 31).
    assert_eq!(st.find_session("61626331").unwrap().session_id, "abc1");
}

#[test]
fn outbox_empties_only_when_every_current_version_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    let s = session("abc", &[("a", 1), ("b", 2)]);
    let t = s.row.trace_id;
    st.put_sessions(std::slice::from_ref(&s)).unwrap();
    st.enqueue("sink", &[t]).unwrap();
    let pending = st.undelivered("sink", &t).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(st.count_undelivered("sink").unwrap(), 2);
    assert_eq!(st.count_undelivered("other sink").unwrap(), 0);
    st.mark_delivered("sink", &[(t, pending[0].span_id, pending[0].digest)], 5)
        .unwrap();
    assert_eq!(st.queued("sink").unwrap(), vec![t]);
    st.mark_delivered("sink", &[(t, pending[1].span_id, pending[1].digest)], 5)
        .unwrap();
    assert!(st.queued("sink").unwrap().is_empty());
    // A changed span is pending again once re-queued.
    st.put_sessions(&[session("abc", &[("a", 7), ("b", 2)])])
        .unwrap();
    st.enqueue("sink", &[t]).unwrap();
    assert_eq!(st.undelivered("sink", &t).unwrap().len(), 1);
}

/// A span refused for good waits aside (not sent again, not counted as waiting) until a
/// new process queues it once more; a changed version of it is sent as any other.
#[test]
fn refused_spans_wait_aside_until_retried() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    let s = session("abc", &[("a", 1), ("b", 2)]);
    let t = s.row.trace_id;
    st.put_sessions(std::slice::from_ref(&s)).unwrap();
    st.enqueue("sink", &[t]).unwrap();
    let p = st.undelivered("sink", &t).unwrap();
    st.mark_delivered("sink", &[(t, p[0].span_id, p[0].digest)], 5)
        .unwrap();
    st.set_aside("sink", &[(t, p[1].span_id, p[1].digest)], "HTTP 400")
        .unwrap();
    assert!(st.undelivered("sink", &t).unwrap().is_empty());
    assert!(st.queued("sink").unwrap().is_empty());
    let stats = st.outbox_stats("sink").unwrap();
    assert_eq!((stats.spans, stats.set_aside), (0, 1));
    assert_eq!(stats.set_aside_reason.as_deref(), Some("HTTP 400"));
    assert_eq!(st.retry_set_aside("sink").unwrap(), 1);
    assert_eq!(st.undelivered("sink", &t).unwrap().len(), 1);
    assert_eq!(st.outbox_stats("sink").unwrap().set_aside, 0);
    assert_eq!(st.sinks().unwrap(), vec!["sink".to_owned()]);
    st.record_delivery("sink", Some("HTTP 503")).unwrap();
    st.record_delivery("sink", None).unwrap();
    let stats = st.outbox_stats("sink").unwrap();
    assert!(stats.last_ok_ns.is_some());
    assert_eq!(stats.last_error.map(|e| e.0).as_deref(), Some("HTTP 503"));
}

/// Past the cap, the traces queued longest are given up (the store keeps their spans) and
/// counted; the newest stay.
#[test]
fn the_outbox_cap_gives_up_the_oldest_traces_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    let names = ["old", "mid", "new"];
    for n in names {
        let s = session(n, &[("a", 1), ("b", 2)]);
        st.put_sessions(std::slice::from_ref(&s)).unwrap();
        st.enqueue("sink", &[s.row.trace_id]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(st.trim_outbox("sink", 6).unwrap(), (0, 0));
    assert_eq!(st.trim_outbox("sink", 3).unwrap(), (4, 2));
    let left = st.queued("sink").unwrap();
    assert_eq!(left, vec![session("new", &[]).row.trace_id]);
    let stats = st.outbox_stats("sink").unwrap();
    assert_eq!(
        (stats.spans, stats.dropped_spans, stats.dropped_traces),
        (2, 4, 2)
    );
    assert_eq!(st.sessions().unwrap().len(), 3);
}

#[test]
fn reopening_keeps_data_and_refuses_newer_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("st.db");
    Store::open(&path)
        .unwrap()
        .put_sessions(&[session("abc", &[("a", 1)])])
        .unwrap();
    assert_eq!(Store::open(&path).unwrap().sessions().unwrap().len(), 1);
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

#[test]
fn sensitive_accesses_are_replaced_per_session_and_listed_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    let mut s = session("abc", &[("a", 1)]);
    let hit = |t: i64, rule: &str| SensitiveRow {
        span_id: [t as u8; 8],
        time_ns: t,
        tool: "Bash".into(),
        rules: vec![rule.into()],
        severity: "high".into(),
        targets: vec!["/home/a/.env".into()],
    };
    s.sensitive = vec![hit(10, "env-file"), hit(20, "aws-credentials")];
    st.put_sessions(std::slice::from_ref(&s)).unwrap();
    st.put_sessions(std::slice::from_ref(&s)).unwrap();
    let all = st.sensitive(0).unwrap();
    assert_eq!(
        all.len(),
        2,
        "rewriting a session does not duplicate its accesses"
    );
    assert_eq!(all[0].access.rules, vec!["aws-credentials".to_owned()]);
    assert_eq!(all[0].session.session_id, "abc");
    assert_eq!(st.sensitive(15).unwrap().len(), 1);
    s.sensitive.clear();
    st.put_sessions(&[s]).unwrap();
    assert!(st.sensitive(0).unwrap().is_empty());
}

#[test]
fn commit_links_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = Store::open(&dir.path().join("st.db")).unwrap();
    let link = |sha: &str| CommitRow {
        sha: sha.into(),
        span_id: [7; 8],
        method: "agent_ran_commit".into(),
        time_ns: 5,
        branch: Some("main".into()),
        files: vec!["a.txt".into(), "b.txt".into()],
        tools: vec![[1; 8], [2; 8]],
    };
    let mut a = session("abc", &[]);
    a.commits = vec![link("1111")];
    let mut b = session("xyz", &[]);
    b.commits = vec![link("1111"), link("2222")];
    st.put_sessions(&[a.clone(), b.clone()]).unwrap();
    st.put_sessions(&[b.clone()]).unwrap();
    let on = st.commit_links("1111").unwrap();
    assert_eq!(on.len(), 2, "two sessions on one commit");
    assert_eq!(on[0].commit.files, ["a.txt", "b.txt"]);
    assert_eq!(on[0].commit.tools, [[1; 8], [2; 8]]);
    assert_eq!(st.commits_of(&b.row.trace_id).unwrap().len(), 2);
    assert!(st.commit_links("3333").unwrap().is_empty());
}

/// Several processes (here threads, each with its own connection) creating the same new
/// store at once all get it, schema and all.
#[test]
fn a_new_store_opened_by_many_at_once_is_created_once() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            for i in 0..4 {
                let (path, barrier) = (&path, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut store = Store::open(path).unwrap();
                    store
                        .put_sessions(&[session(&format!("s{i}"), &[("a", 1)])])
                        .unwrap();
                });
            }
        });
        assert_eq!(Store::open(&path).unwrap().sessions().unwrap().len(), 4);
    }
}

/// A writer waits for another's lock, then gives up naming who holds it.
#[test]
fn a_store_locked_too_long_names_who_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let err = store
        .put_sessions(&[session("s1", &[("a", 1)])])
        .unwrap_err();
    assert!(started.elapsed() >= LOCK_WAIT - std::time::Duration::from_millis(100));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("the store {} is locked: ", path.display())),
        "{text}"
    );
    // This process holds it: a lock of our own is not named, so the holder is unknown.
    assert!(
        text.contains("another process has held it for more than 10 s"),
        "{text}"
    );
    holder.execute_batch("COMMIT").unwrap();
    store.put_sessions(&[session("s1", &[("a", 1)])]).unwrap();
}

/// Checkpoints are written with the spans of their session, replaced as reading goes on,
/// and found again by path or, after a rename, by file identity.
#[test]
fn checkpoints_go_with_their_spans_and_survive_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let mark = |offset: u64| CheckpointRow {
        path: "/p/s.jsonl".into(),
        identity: Some((2049, u64::MAX - 5)),
        offset,
        line: offset / 10,
        updated_ns: 7,
    };
    let mut s = session("s1", &[("a", 1)]);
    s.checkpoints = vec![mark(100)];
    store.put_sessions(std::slice::from_ref(&s)).unwrap();
    s.checkpoints = vec![mark(250)];
    store.put_sessions(std::slice::from_ref(&s)).unwrap();
    let t = s.row.trace_id;
    assert_eq!(store.checkpoints_of(&t).unwrap(), vec![mark(250)]);
    assert_eq!(
        store.checkpoint("/p/s.jsonl", None).unwrap(),
        Some((t, mark(250)))
    );
    assert_eq!(
        store
            .checkpoint("/q/renamed.jsonl", Some((2049, u64::MAX - 5)))
            .unwrap(),
        Some((t, mark(250)))
    );
    assert_eq!(
        store.checkpoint("/q/other.jsonl", Some((1, 1))).unwrap(),
        None
    );
}

/// A store written before checkpoints existed (schema 4) is migrated on open: everything
/// it held is still there and answers, and checkpoints can be written.
#[test]
fn a_store_of_the_previous_schema_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    let mut s = session("s1", &[("a", 1), ("b", 2)]);
    s.commits = vec![CommitRow {
        sha: "c0ffee".into(),
        span_id: [9; 8],
        method: "hook".into(),
        time_ns: 5,
        branch: Some("main".into()),
        files: vec!["a.txt".into()],
        tools: Vec::new(),
    }];
    store.put_sessions(std::slice::from_ref(&s)).unwrap();
    drop(store);
    // The previous release's schema: this one less its last migration.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE hook_facts; DROP TABLE set_aside; DROP TABLE outbox_drops; DROP TABLE sink_status; DROP TABLE heads; ALTER TABLE outbox DROP COLUMN queued_ns; PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(&path).unwrap();
    let rows = store.sessions().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].session_id, "s1");
    assert_eq!(store.spans(&s.row.trace_id).unwrap().len(), 2);
    assert_eq!(store.commits_of(&s.row.trace_id).unwrap().len(), 1);
    s.checkpoints = vec![CheckpointRow {
        path: "/p/s.jsonl".into(),
        identity: None,
        offset: 10,
        line: 1,
        updated_ns: 1,
    }];
    let put = store.put_sessions(std::slice::from_ref(&s)).unwrap();
    assert_eq!(put[0].unchanged, 2);
    assert_eq!(store.checkpoints_of(&s.row.trace_id).unwrap().len(), 1);
    store.enqueue("sink", &[s.row.trace_id]).unwrap();
    let stats = store.outbox_stats("sink").unwrap();
    assert_eq!((stats.traces, stats.spans), (1, 2));
    assert!(stats.oldest_queued_ns.is_some_and(|t| t > 0));
    let spool = CheckpointRow {
        path: "/p/hooks.jsonl".into(),
        identity: None,
        offset: 7,
        line: 0,
        updated_ns: 1,
    };
    store
        .add_hook_facts(&[(s.row.trace_id, 3, "{}".into())], &[spool])
        .unwrap();
    assert_eq!(store.hook_facts(&s.row.trace_id).unwrap(), ["{}"]);
}

/// Hook facts are kept once each with the spool's checkpoint, oldest first, per trace.
#[test]
fn hook_facts_are_kept_once_with_the_spool_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let spool = |offset| CheckpointRow {
        path: "/p/hooks.jsonl".into(),
        identity: Some((1, 2)),
        offset,
        line: 0,
        updated_ns: 1,
    };
    let (a, b) = ([1u8; 16], [2u8; 16]);
    store
        .add_hook_facts(
            &[(a, 20, "late".into()), (a, 10, "early".into())],
            &[spool(100)],
        )
        .unwrap();
    // The same lines read again (a restart before the checkpoint) change nothing.
    store
        .add_hook_facts(
            &[(a, 10, "early".into()), (b, 5, "other".into())],
            &[spool(150)],
        )
        .unwrap();
    assert_eq!(store.hook_facts(&a).unwrap(), ["early", "late"]);
    assert_eq!(store.hook_facts(&[3; 16]).unwrap(), Vec::<String>::new());
    let all = store.all_hook_facts().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[&b], ["other"]);
    let (_, row) = store
        .checkpoint("/p/hooks.jsonl", Some((1, 2)))
        .unwrap()
        .unwrap();
    assert_eq!(row.offset, 150);
}

/// With checkpoints on their own thread, the log still empties into the database as the
/// writes go (it stays a few checkpoints' worth, whatever was written), and everything
/// written is there after a reopen.
#[test]
fn background_checkpoints_keep_the_log_small_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("st.db");
    let mut st = Store::open(&path).unwrap();
    st.checkpoint_in_background().unwrap();
    let wal = dir.path().join("st.db-wal");
    let mut largest_log = 0;
    let n = 200;
    for i in 0..n {
        let mut s = session(&format!("s{i:03}"), &[("a", 1), ("b", 2)]);
        for sp in &mut s.spans {
            // 1 MiB a span, random enough that pages are not shared.
            sp.body = (0..1 << 20)
                .map(|j: u32| (j.wrapping_mul(2_654_435_761) >> 13) as u8 ^ i as u8)
                .collect();
        }
        st.put_sessions(&[s]).unwrap();
        largest_log = largest_log.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    // 400 MiB written; the log never held more than a few checkpoints' worth.
    assert!(
        largest_log < 128 << 20,
        "the log reached {largest_log} bytes"
    );
    drop(st);
    let st = Store::open(&path).unwrap();
    assert_eq!(st.sessions().unwrap().len(), n);
    let last = session(&format!("s{:03}", n - 1), &[]);
    assert_eq!(st.spans(&last.row.trace_id).unwrap().len(), 2);
}
