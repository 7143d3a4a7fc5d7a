//! The export summary names files and record kinds, which can be named after a secret: below
//! `--content full` they are printed redacted, in the human summary, in `--json` and in logs.

use serde_json::json;

use crate::util::*;

/// A GitHub token made when the test runs, so that no token-shaped string is committed.
fn token(seed: u64) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed;
    let body: String = (0..36)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALNUM[(x % ALNUM.len() as u64) as usize] as char
        })
        .collect();
    format!("ghp_{body}")
}

fn session_with_unknown_record(kind: &str) -> String {
    let sid = "5ec7e75a-0000-4000-8000-00000000abcd";
    let rec = |t: &str, uuid: &str, second: u32, extra: serde_json::Value| {
        let mut v = json!({
            "type": t, "uuid": uuid, "sessionId": sid,
            "timestamp": format!("2026-03-01T10:00:{second:02}.000Z"),
            "cwd": "/home/ana/shop", "version": "2.1.40", "isSidechain": false,
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v.to_string()
    };
    [
        rec(
            "user",
            "u1",
            1,
            json!({"message": {"role": "user", "content": "hello"}}),
        ),
        rec(kind, "x1", 2, json!({})),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn skipped_files_and_record_kinds_are_printed_redacted() {
    let env = TestEnv::new();
    let in_name = token(0x5eed_0001);
    let in_type = token(0x5eed_0002);
    let dir = env.path("projects/-home-ana-shop");
    std::fs::create_dir_all(&dir).unwrap();
    // An empty file is skipped, and the summary lists it.
    std::fs::write(dir.join(format!("{in_name}.jsonl")), "").unwrap();
    std::fs::write(
        dir.join("5ec7e75a-0000-4000-8000-00000000abcd.jsonl"),
        session_with_unknown_record(&in_type),
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    for args in [vec!["export", d], vec!["export", d, "--json"]] {
        let o = env.run(&args, 1);
        let (out, err) = (stdout(&o), String::from_utf8_lossy(&o.stderr).into_owned());
        for secret in [&in_name, &in_type] {
            assert!(
                !out.contains(secret.as_str()) && !err.contains(secret.as_str()),
                "{args:?} printed a secret:\n{out}\n{err}"
            );
        }
        assert!(out.contains("[REDACTED:"), "{out}");
        if args.len() == 2 {
            assert!(
                out.lines()
                    .any(|l| l.contains("[REDACTED:") && l.contains(".jsonl")),
                "the skipped file is still listed: {out}"
            );
            assert!(out.contains("unknown type [REDACTED:"), "{out}");
        } else {
            let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
            let issues = v["skipped"]["issues"].as_array().unwrap();
            assert_eq!(issues.len(), 1, "{v}");
            assert!(issues[0]["path"].as_str().unwrap().contains("[REDACTED:"));
            assert!(
                v["unmapped"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|k| k.starts_with("unknown type [REDACTED:")),
                "{v}"
            );
        }
    }
    // At `full` the user asked for everything.
    let o = env.run(&["export", d, "--content", "full"], 1);
    assert!(stdout(&o).contains(in_name.as_str()));
}

#[test]
fn errors_are_printed_redacted() {
    let env = TestEnv::new();
    let secret = token(0x5eed_0003);
    // A missing input is a skipped file; a store that cannot be opened is an error.
    let missing = env.path(&format!("gone-{secret}"));
    let o = env.run(&["export", missing.to_str().unwrap()], 1);
    assert!(stdout(&o).contains("gone-[REDACTED:"), "{}", stdout(&o));
    let file = env.path(&format!("file-{secret}"));
    std::fs::write(&file, "").unwrap();
    let mut c = env.cmd(&["export", missing.to_str().unwrap()]);
    c.env("SESSIONTRAIL_STORE", file.join("st.db"));
    let o = env.run_cmd(c, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("file-[REDACTED:"), "{err}");
    assert!(
        !err.contains(secret.as_str()) && !stdout(&o).contains(secret.as_str()),
        "{err}"
    );
}

#[test]
fn a_long_token_in_a_record_kind_is_printed_redacted() {
    // A fine-grained GitHub token is 93 characters, longer than record kinds usually are.
    let env = TestEnv::new();
    let body: String = token(0x5eed_0004)[4..].repeat(3);
    let long = format!("github_pat_{}", &body[..82]);
    let dir = env.path("projects/-home-ana-shop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("5ec7e75a-0000-4000-8000-00000000abcd.jsonl"),
        session_with_unknown_record(&format!("x-{long}")),
    )
    .unwrap();
    for json in [false, true] {
        let mut args = vec!["export", dir.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        let o = env.run(&args, 0);
        let all = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
        assert!(!all.contains(&long[..40]), "{all}");
        assert!(all.contains("[REDACTED:"), "{all}");
    }
}
