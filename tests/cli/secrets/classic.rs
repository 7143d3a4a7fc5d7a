//! The planted-secret corpus: a Claude Code session carrying secrets of more than 20 kinds
//! in prompts, commands, file contents read, tool outputs, URLs, paths, environment dumps,
//! MCP arguments, model output, a subagent and a hook. At the default level none of them may
//! appear in the OTLP output, the store, stdout, stderr or the logs; at `full` they do.
//!
//! The secrets are generated when the test runs (from a fixed seed), so that no token-shaped
//! string is committed. Only Claude Code has an adapter today; the policy runs after every
//! adapter (sources::parse_session), so a new agent's adapter gets the same test by adding
//! its format here.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::util::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| a[(self.next() % a.len() as u64) as usize])
            .collect()
    }
}

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &str = "0123456789abcdef";

/// (kind, secret value) for every kind planted.
fn secrets() -> Vec<(&'static str, String)> {
    let mut r = Rng(0x5e55_1047_7a11_0001);
    let b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    vec![
        (
            "aws-access-token",
            format!("AKIA{}", r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        ),
        (
            "aws-secret-access-key",
            format!("{}9{}", r.pick(b64, 20), r.pick(b64, 19)),
        ),
        ("github-pat", format!("ghp_{}", r.pick(ALNUM, 36))),
        (
            "github-fine-grained-pat",
            format!("github_pat_{}", r.pick(ALNUM, 82)),
        ),
        ("gitlab-pat", format!("glpat-{}", r.pick(ALNUM, 20))),
        (
            "slack-bot-token",
            format!(
                "xoxb-{}-{}-{}",
                r.pick("0123456789", 12),
                r.pick("0123456789", 13),
                r.pick(ALNUM, 24)
            ),
        ),
        (
            "slack-webhook-url",
            format!(
                "hooks.slack.com/services/T{}/B{}/{}",
                r.pick(UPPER, 8),
                r.pick(UPPER, 10),
                r.pick(ALNUM, 24)
            ),
        ),
        (
            "stripe-access-token",
            format!("sk_live_{}", r.pick(ALNUM, 24)),
        ),
        (
            "anthropic-api-key",
            format!("sk-ant-api03-{}AA", r.pick(ALNUM, 93)),
        ),
        ("openai-api-key", format!("sk-proj-{}", r.pick(ALNUM, 48))),
        ("gcp-api-key", format!("AIza{}", r.pick(ALNUM, 35))),
        (
            "google-oauth-client-secret",
            format!("GOCSPX-{}", r.pick(ALNUM, 28)),
        ),
        (
            "npm-access-token",
            format!("npm_{}", r.pick("abcdefghijklmnopqrstuvwxyz0123456789", 36)),
        ),
        (
            "pypi-upload-token",
            format!("pypi-AgEIcHlwaS5vcmc{}", r.pick(ALNUM, 70)),
        ),
        (
            "sendgrid-api-token",
            format!("SG.{}.{}", r.pick(ALNUM, 22), r.pick(ALNUM, 43)),
        ),
        (
            "huggingface-access-token",
            format!("hf_{}{}", r.pick(UPPER, 17), r.pick(LOWER, 17)),
        ),
        ("digitalocean-pat", format!("dop_v1_{}", r.pick(HEX, 64))),
        (
            "hashicorp-vault-token",
            format!("hvs.{}", r.pick(ALNUM, 95)),
        ),
        ("databricks-api-token", format!("dapi{}", r.pick(HEX, 32))),
        ("shopify-access-token", format!("shpat_{}", r.pick(HEX, 32))),
        ("linear-api-key", format!("lin_api_{}", r.pick(ALNUM, 40))),
        (
            "jwt",
            format!(
                "eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
                r.pick(ALNUM, 40),
                r.pick(ALNUM, 43)
            ),
        ),
        (
            "db-password",
            format!("Pg{}7{}", r.pick(ALNUM, 10), r.pick(ALNUM, 6)),
        ),
        (
            "env-password",
            format!("Hunter{}2{}", r.pick(ALNUM, 8), r.pick(ALNUM, 5)),
        ),
        (
            "bearer-token",
            format!("{}7{}", r.pick(ALNUM, 20), r.pick(ALNUM, 19)),
        ),
        (
            "private-key-body",
            format!("MIIEpAIBAAKCAQEA{}", r.pick(b64, 120)),
        ),
        (
            "high-entropy",
            format!("Q{}3x{}", r.pick(ALNUM, 24), r.pick(ALNUM, 16)),
        ),
    ]
}

const SID: &str = "5ec7e75a-0000-4000-8000-00000000c0de";

fn rec(kind: &str, uuid: &str, second: u32, extra: Value) -> String {
    let mut v = json!({
        "type": kind, "uuid": uuid, "sessionId": SID, "timestamp": format!("2026-03-01T10:00:{second:02}.000Z"),
        "cwd": "/home/ana/shop", "version": "2.1.40", "gitBranch": "main", "isSidechain": false,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn assistant(uuid: &str, second: u32, msg: &str, content: Value) -> String {
    rec(
        "assistant",
        uuid,
        second,
        json!({"requestId": format!("req_{msg}"), "message": {"model": "claude-opus-4-6", "id": msg, "role": "assistant", "content": content, "usage": {"input_tokens": 1, "output_tokens": 1}}}),
    )
}

fn result(uuid: &str, second: u32, id: &str, content: &str, tur: Value) -> String {
    rec(
        "user",
        uuid,
        second,
        json!({"message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": content}]}, "toolUseResult": tur}),
    )
}

fn tool(id: &str, name: &str, input: Value) -> Value {
    json!([{"type": "tool_use", "id": id, "name": name, "input": input}])
}

/// The transcript, and the secret values planted in it.
fn planted() -> (String, Vec<(&'static str, String)>) {
    let s = secrets();
    let v = |k: &str| s.iter().find(|(kind, _)| *kind == k).unwrap().1.clone();
    let key = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
        v("private-key-body")
    );
    let env_file = format!(
        "STRIPE_KEY={}\nDATABASE_URL=postgres://shop:{}@db.internal:5432/shop\nDB_PASSWORD={}\nSENDGRID={}\n",
        v("stripe-access-token"),
        v("db-password"),
        v("env-password"),
        v("sendgrid-api-token")
    );
    let env_dump = format!(
        "HOME=/home/ana\nGITHUB_TOKEN={}\nNPM_TOKEN={}\nHF_TOKEN={}\nDATABRICKS={}\nPATH=/usr/bin\n",
        v("github-pat"),
        v("npm-access-token"),
        v("huggingface-access-token"),
        v("databricks-api-token")
    );
    let lines = vec![
        rec(
            "custom-title",
            "t0",
            0,
            json!({"customTitle": format!("rotate {}", v("gitlab-pat"))}),
        ),
        // A prompt.
        rec(
            "user",
            "u1",
            1,
            json!({"message": {"role": "user", "content": format!("deploy with {} and {}", v("aws-access-token"), v("anthropic-api-key"))}}),
        ),
        // A file read: a path with a token in it, and an .env whose contents come back.
        assistant(
            "a1",
            2,
            "m1",
            tool(
                "t1",
                "Read",
                json!({"file_path": format!("/home/ana/shop/tmp/{}/.env", v("openai-api-key"))}),
            ),
        ),
        result("r1", 3, "t1", &env_file, json!({"type": "text"})),
        // Commands: credentials file, an env dump, a header, a URL with a password.
        assistant(
            "a2",
            4,
            "m2",
            tool("t2", "Bash", json!({"command": "cat ~/.aws/credentials"})),
        ),
        result(
            "r2",
            5,
            "t2",
            &format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                v("aws-access-token"),
                v("aws-secret-access-key")
            ),
            json!({"stdout": "", "stderr": ""}),
        ),
        assistant("a3", 6, "m3", tool("t3", "Bash", json!({"command": "env"}))),
        result(
            "r3",
            7,
            "t3",
            &env_dump,
            json!({"stdout": env_dump, "stderr": ""}),
        ),
        assistant(
            "a4",
            8,
            "m4",
            tool(
                "t4",
                "Bash",
                json!({"command": format!("curl -H 'Authorization: Bearer {}' https://api.shop.test/v1/orders && psql postgres://admin:{}@db.internal/shop -c 'select 1'", v("bearer-token"), v("db-password"))}),
            ),
        ),
        result(
            "r4",
            9,
            "t4",
            &format!("{{\"session\": \"{}\"}}", v("jwt")),
            json!({"stdout": "", "stderr": ""}),
        ),
        // A URL fetched.
        assistant(
            "a5",
            10,
            "m5",
            tool(
                "t5",
                "WebFetch",
                json!({"url": format!("https://{}", v("slack-webhook-url")), "prompt": "post"}),
            ),
        ),
        result("r5", 11, "t5", "ok", json!({"code": 200})),
        // A private key read.
        assistant(
            "a6",
            12,
            "m6",
            tool("t6", "Read", json!({"file_path": "/home/ana/.ssh/id_rsa"})),
        ),
        result("r6", 13, "t6", &key, json!({"type": "text"})),
        // MCP arguments and output.
        assistant(
            "a7",
            14,
            "m7",
            tool(
                "t7",
                "mcp__vault__write_secret",
                json!({"path": "kv/shop", "token": v("hashicorp-vault-token"), "value": v("digitalocean-pat")}),
            ),
        ),
        result(
            "r7",
            15,
            "t7",
            &format!("stored; shopify {}", v("shopify-access-token")),
            Value::Null,
        ),
        // The model repeats a secret; a file written with one.
        assistant(
            "a8",
            16,
            "m8",
            json!([{"type": "text", "text": format!("Your Google key is {} and the client secret {}", v("gcp-api-key"), v("google-oauth-client-secret"))}]),
        ),
        assistant(
            "a9",
            17,
            "m9",
            tool(
                "t9",
                "Write",
                json!({"file_path": "/home/ana/shop/config.py", "content": format!("LINEAR = '{}'\nPYPI = '{}'\n", v("linear-api-key"), v("pypi-upload-token"))}),
            ),
        ),
        result("r9", 18, "t9", "File created", json!({"type": "create"})),
        // A hook command and a subagent's copied message.
        rec(
            "progress",
            "p1",
            19,
            json!({"toolUseID": "t9", "parentToolUseID": "t9", "data": {"type": "hook_progress", "hookEvent": "PostToolUse", "hookName": "PostToolUse:Write", "command": format!("notify --token {}", v("slack-bot-token"))}}),
        ),
        assistant(
            "a10",
            20,
            "m10",
            tool(
                "t10",
                "Task",
                json!({"subagent_type": "Explore", "description": "look", "prompt": format!("check {}", v("github-fine-grained-pat"))}),
            ),
        ),
        rec(
            "progress",
            "p2",
            21,
            json!({"parentToolUseID": "t10", "data": {"type": "agent_progress", "agentId": "a5ec", "message": {"type": "user", "uuid": "s1", "timestamp": "2026-03-01T10:00:21.000Z", "message": {"role": "user", "content": format!("check {} {}", v("github-fine-grained-pat"), v("high-entropy"))}}}}),
        ),
        result(
            "r10",
            22,
            "t10",
            "done",
            json!({"status": "completed", "agentId": "a5ec"}),
        ),
        // Instance metadata.
        assistant(
            "a11",
            23,
            "m11",
            tool(
                "t11",
                "Bash",
                json!({"command": "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/shop"}),
            ),
        ),
        result(
            "r11",
            24,
            "t11",
            "{}",
            json!({"stdout": "{}", "stderr": ""}),
        ),
    ];
    let body = v("private-key-body");
    let mut values: Vec<(&'static str, String)> = s
        .iter()
        .filter(|(k, _)| *k != "private-key-body")
        .cloned()
        .collect();
    values.push(("private-key", body));
    (lines.join("\n") + "\n", values)
}

/// Every file of the store (database, WAL, shared memory), as one byte string.
fn store_bytes(env: &TestEnv) -> Vec<u8> {
    let dir = env.store.parent().unwrap();
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.extend(std::fs::read(e.path()).unwrap());
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

struct Outputs {
    otlp: Vec<u8>,
    store: Vec<u8>,
    printed: Vec<u8>,
}

fn export(level: Option<&str>) -> (Outputs, TestEnv) {
    let env = TestEnv::new();
    let (text, _) = planted();
    let dir = env.path("projects/-home-ana-shop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{SID}.jsonl")), text).unwrap();
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
    let mut printed = Vec::new();
    let o = env.run(&args, 0);
    printed.extend(o.stdout);
    printed.extend(o.stderr);
    for q in [
        vec!["sessions", "--json"],
        vec!["show", "5ec7", "--json"],
        vec!["show", "5ec7"],
        vec!["query", "--sensitive", "--json"],
        vec!["query", "--sensitive"],
    ] {
        let mut c = env.cmd(&q);
        c.env("RUST_LOG", "trace");
        let o = env.run_cmd(c, 0);
        printed.extend(o.stdout);
        printed.extend(o.stderr);
    }
    (
        Outputs {
            otlp: std::fs::read(&otlp).unwrap(),
            store: store_bytes(&env),
            printed,
        },
        env,
    )
}

#[test]
fn no_planted_secret_leaves_at_the_default_level() {
    let (_, values) = planted();
    assert!(values.len() >= 20, "at least 20 kinds");
    let (out, _env) = export(None);
    let mut leaks = Vec::new();
    for (kind, v) in &values {
        for (place, bytes) in [
            ("OTLP output", &out.otlp),
            ("store", &out.store),
            ("stdout/stderr/logs", &out.printed),
        ] {
            if contains(bytes, v) {
                leaks.push(format!("{kind} in {place}"));
            }
        }
    }
    assert!(leaks.is_empty(), "leaked: {leaks:?}");
    // Prompts and tool arguments are there, redacted: the markers say what was found.
    // Outputs are not kept below `full`.
    let otlp = String::from_utf8(out.otlp).unwrap();
    // Markers name the format that found each secret: gitleaks' rule id where it has one.
    for kinds in [
        &["aws-access-token"][..],
        &["anthropic-api-key"],
        &["openai-api-key"],
        &["password-in-url"],
        &["authorization-header", "curl-auth-header"],
        &["vault-service-token", "hashicorp-vault-token"],
        &["digitalocean-pat"],
        &["linear-api-key"],
        &["github-fine-grained-pat"],
        &["slack-bot-token"],
        &["gitlab-pat"],
    ] {
        assert!(
            kinds
                .iter()
                .any(|k| otlp.contains(&format!("[REDACTED:{k}:"))),
            "{kinds:?} marker in {:?}",
            otlp.match_indices("[REDACTED:")
                .map(|(i, _)| otlp[i..].split(':').nth(1).unwrap_or(""))
                .collect::<std::collections::BTreeSet<_>>()
        );
    }
    assert!(
        otlp.contains("deploy with [REDACTED:aws-access-token:"),
        "the prompt is kept, redacted"
    );
}

#[test]
fn at_level_none_nothing_leaks_either() {
    let (_, values) = planted();
    let (out, _env) = export(Some("none"));
    for (kind, v) in &values {
        assert!(
            !contains(&out.otlp, v) && !contains(&out.store, v) && !contains(&out.printed, v),
            "{kind} leaked at none"
        );
    }
}

#[test]
fn at_level_full_they_are_there() {
    let (_, values) = planted();
    let (out, _env) = export(Some("full"));
    let missing: Vec<&str> = values
        .iter()
        .filter(|(_, v)| !contains(&out.otlp, v))
        .map(|(k, _)| *k)
        .collect();
    assert!(missing.is_empty(), "not in the full export: {missing:?}");
}

#[test]
fn the_planted_session_raises_the_expected_alerts() {
    let (_, env) = export(None);
    let hits = json_lines(&env.run(&["query", "--sensitive", "--json"], 0));
    let rules: BTreeSet<String> = hits
        .iter()
        .flat_map(|h| {
            h["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
        })
        .collect();
    for want in [
        "env-file",
        "aws-credentials",
        "environment-dump",
        "ssh-private-key",
        "secret-store-mcp",
        "secret-in-tool-output",
        "secret-in-tool-input",
        "cloud-metadata",
    ] {
        assert!(rules.contains(want), "{want} in {rules:?}");
    }
    assert!(
        hits.iter()
            .all(|h| h["session_id"] == SID && h["agent"] == "claude-code")
    );
    let spans = json_lines(&env.run(&["show", "5ec7", "--json"], 0));
    let root = &spans[0];
    assert_eq!(root["attributes"]["sessiontrail.sensitive"], true);
    assert_eq!(
        root["attributes"]["sessiontrail.sensitive.severity"],
        "critical"
    );
    assert!(
        root["attributes"]["sessiontrail.sensitive.count"]
            .as_i64()
            .unwrap()
            >= 7
    );
    // The environment dump told which secrets the agent could read: names only.
    let names: Vec<&str> = root["attributes"]["sessiontrail.ambient.secret_env_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names, ["GITHUB_TOKEN", "HF_TOKEN", "NPM_TOKEN"]);
    let key = spans
        .iter()
        .find(|s| s["attributes"]["gen_ai.tool.call.id"] == "t6")
        .unwrap();
    assert_eq!(
        key["attributes"]["sessiontrail.sensitive.severity"],
        "critical"
    );
    assert!(
        key["attributes"]["sessiontrail.sensitive.rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "ssh-private-key")
    );
    let since_future = stdout(&env.run(&["query", "--sensitive", "--since", "2027-01-01"], 0));
    assert!(
        since_future.contains("no sensitive access"),
        "{since_future}"
    );
}

#[test]
fn policy_files_are_checked_listed_and_applied() {
    let env = TestEnv::new();
    let bad = env.path("bad.toml");
    std::fs::write(&bad, "[[rule]]\nid = \"x\"\nseverity = \"urgent\"\n").unwrap();
    let o = env.run(&["policy", "check", bad.to_str().unwrap()], 1);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("bad.toml:2:6: rule 'x' has no matcher (paths, commands, env_vars, hosts, tools, output_secrets or input_secrets)"), "{text}");
    assert!(
        lines[1].contains("bad.toml:3:12: unknown severity 'urgent'"),
        "{text}"
    );
    // An export with a bad policy does nothing and says why.
    let o = env.run(
        &[
            "export",
            claude_fixtures().join("git-ai").to_str().unwrap(),
            "--policy",
            bad.to_str().unwrap(),
        ],
        2,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.toml:3:12"));
    assert!(!env.store.exists());

    let good = env.path("team.toml");
    std::fs::write(&good, "[[rule]]\nid = \"environment-dump\"\nenabled = false\n\n[[rule]]\nid = \"shop-secrets\"\nseverity = \"critical\"\ncategory = \"data\"\ndescription = \"Read the shop's secret store\"\ncommands = [\"curl *\"]\n").unwrap();
    assert!(stdout(&env.run(&["policy", "check", good.to_str().unwrap()], 0)).contains("valid"));
    let rules = json_lines(&env.run(
        &[
            "policy",
            "list",
            "--json",
            "--policy",
            good.to_str().unwrap(),
        ],
        0,
    ));
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("environment-dump")["enabled"], false);
    assert_eq!(by_id("shop-secrets")["severity"], "critical");
    assert_eq!(by_id("shop-secrets")["matchers"]["commands"][0], "curl *");
    assert!(rules.len() >= 21);

    // Applied on export, from SESSIONTRAIL_POLICY.
    let (text, _) = planted();
    let dir = env.path("projects/-home-ana-shop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{SID}.jsonl")), text).unwrap();
    let mut c = env.cmd(&["export", dir.to_str().unwrap()]);
    c.env("SESSIONTRAIL_POLICY", &good);
    env.run_cmd(c, 0);
    let hits = json_lines(&env.run(&["query", "--sensitive", "--json"], 0));
    let rules: BTreeSet<&str> = hits
        .iter()
        .flat_map(|h| {
            h["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
        })
        .collect();
    assert!(
        rules.contains("shop-secrets") && !rules.contains("environment-dump"),
        "{rules:?}"
    );
}
