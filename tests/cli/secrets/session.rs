//! Claude Code transcripts carrying planted secrets in every place a session carries text
//! (FORMATS.md 1), and the forms each placement writes them in.

use serde_json::{Value, json};

use super::kinds::{Secret, b64, jsonesc, urlenc};

/// Every placement, in table order.
pub const PLACEMENTS: &[&str] = &[
    "prompt",
    "custom-title",
    "bash-arg",
    "bash-env-prefix",
    "bash-env-dquoted",
    "bash-export-squoted",
    "bash-heredoc",
    "bash-continuation",
    "bash-url",
    "bash-url-encoded",
    "bash-auth-header",
    "bash-curl-u",
    "bash-mysql-p",
    "bash-base64",
    "bash-escaped-quotes",
    "bash-json-body",
    "bash-description",
    "read-path-segment",
    "read-file-name",
    "write-content",
    "edit-old-string",
    "edit-new-string",
    "multiedit",
    "grep-pattern",
    "grep-path",
    "glob-pattern",
    "webfetch-userinfo",
    "webfetch-query",
    "webfetch-path",
    "webfetch-prompt",
    "websearch-query",
    "mcp-argument",
    "mcp-nested",
    "mcp-json-string",
    "mcp-result",
    "task-prompt",
    "subagent-progress",
    "hook-command",
    "todowrite",
    "tool-result-text",
    "tool-use-result",
    "model-text",
    "thinking",
    "compaction-summary",
];

/// One planted secret: what, where, and every form of it written into the transcript.
pub struct Plant {
    pub kind: &'static str,
    pub placement: &'static str,
    /// The first characters of the value, for the table.
    pub head: String,
    /// (label, form): each must be absent below `full`; at `full` some must be present.
    pub forms: Vec<(&'static str, String)>,
}

/// One transcript under construction.
pub struct Builder {
    pub sid: String,
    pub lines: Vec<String>,
    n: u32,
    parent: Option<String>,
}

impl Builder {
    pub fn new(sid: String) -> Builder {
        Builder {
            sid,
            lines: Vec::new(),
            n: 0,
            parent: None,
        }
    }

    fn uuid(&mut self) -> String {
        self.n += 1;
        format!("{}-{:012x}", &self.sid[..23], self.n)
    }

    fn time(&self) -> String {
        let s = self.n;
        format!(
            "2026-03-01T{:02}:{:02}:{:02}.000Z",
            8 + s / 3600,
            (s / 60) % 60,
            s % 60
        )
    }

    /// Appends a conversation record; returns its uuid.
    fn rec(&mut self, kind: &str, extra: Value) -> String {
        let uuid = self.uuid();
        let mut v = json!({
            "type": kind, "uuid": uuid, "parentUuid": self.parent, "sessionId": self.sid,
            "timestamp": self.time(), "cwd": "/home/ana/shop", "version": "2.1.39",
            "gitBranch": "main", "isSidechain": false, "userType": "external",
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        self.lines.push(v.to_string());
        self.parent = Some(uuid.clone());
        uuid
    }

    fn raw(&mut self, v: Value) {
        self.lines.push(v.to_string());
    }

    pub fn prompt(&mut self, text: &str) {
        self.rec(
            "user",
            json!({"message": {"role": "user", "content": text}}),
        );
    }

    fn assistant(&mut self, content: Value) -> String {
        let m = format!("msg_{}{:08}", &self.sid[..8], self.n + 1);
        self.rec(
            "assistant",
            json!({"requestId": format!("req_{}{:08}", &self.sid[..8], self.n + 1), "message": {
                "model": "claude-opus-4-6", "id": m, "type": "message", "role": "assistant",
                "content": content, "stop_reason": "tool_use",
                "usage": {"input_tokens": 3, "output_tokens": 12}}}),
        )
    }

    /// A tool call and its result; returns the tool-use id.
    pub fn tool(&mut self, name: &str, input: Value, result: Value, tur: Value) -> String {
        let id = format!("toolu_{}{:06}", &self.sid[..8], self.n + 1);
        let a = self.assistant(json!([{"type": "tool_use", "id": id, "name": name, "input": input, "caller": {"type": "direct"}}]));
        self.rec(
            "user",
            json!({"sourceToolAssistantUUID": a, "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": result, "is_error": false}]}, "toolUseResult": tur}),
        );
        id
    }

    fn bash(&mut self, command: &str, description: &str) {
        self.tool(
            "Bash",
            json!({"command": command, "description": description}),
            json!("done"),
            json!({"stdout": "done", "stderr": "", "interrupted": false, "isImage": false}),
        );
    }
}

fn lower(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Plants `s` at `placement` in `b`; returns the forms written (beyond the needles as they
/// are and JSON-escaped, which every placement writes).
pub fn plant(b: &mut Builder, placement: &str, s: &Secret) -> Vec<(&'static str, String)> {
    let (v, n) = (s.text.as_str(), s.name.as_str());
    let mut extra = Vec::new();
    let url_forms = |extra: &mut Vec<(&'static str, String)>| {
        extra.extend(s.needles.iter().map(|x| ("url", urlenc(x))))
    };
    match placement {
        "prompt" => b.prompt(&format!(
            "the staging deploy fails; the key is {v} — can you check why?"
        )),
        "custom-title" => unreachable!("one per session"),
        "bash-arg" => b.bash(
            &format!("./bin/deploy push --env staging --token {v}"),
            "Deploy to staging",
        ),
        "bash-env-prefix" => b.bash(
            &format!("{n}={v} ./scripts/release.sh"),
            "Run the release script",
        ),
        "bash-env-dquoted" => b.bash(&format!("{n}=\"{v}\" npm run release"), "Release"),
        "bash-export-squoted" => b.bash(&format!("export {n}='{v}' && make deploy"), "Deploy"),
        "bash-heredoc" => b.bash(
            &format!("cat > .env <<EOF\nLOG_LEVEL=debug\n{n}={v}\nPORT=8080\nEOF"),
            "Write the env file",
        ),
        "bash-continuation" => b.bash(
            &format!(
                "terraform apply \\\n  -var region=eu-west-1 \\\n  -var {}={v} \\\n  -auto-approve",
                lower(n)
            ),
            "Apply",
        ),
        "bash-url" => b.bash(
            &format!(
                "curl -fsS \"https://api.example-shop.io/v1/hooks?{}={v}&verbose=1\"",
                lower(n)
            ),
            "Call the hook",
        ),
        "bash-url-encoded" => {
            b.bash(
                &format!(
                    "curl -fsS 'https://api.example-shop.io/v1/hooks?{}={}&verbose=1'",
                    lower(n),
                    urlenc(v)
                ),
                "Call the hook",
            );
            url_forms(&mut extra);
        }
        "bash-auth-header" => b.bash(
            &format!("curl -sS -H 'Authorization: Bearer {v}' https://api.example-shop.io/v1/me"),
            "Who am I",
        ),
        "bash-curl-u" => b.bash(
            &format!(
                "curl -sS -u deploy:{v} https://artifacts.example-shop.io/upload -T build.tgz"
            ),
            "Upload",
        ),
        "bash-mysql-p" => b.bash(
            &format!("mysql -uroot -p{v} -h db.internal shop -e 'select 1'"),
            "Check the database",
        ),
        "bash-base64" => {
            let block = b64(format!("{n}={v}\n").as_bytes());
            b.bash(
                &format!("echo {block} | base64 -d > .env"),
                "Restore the env file",
            );
            extra.push(("b64", block));
        }
        "bash-escaped-quotes" => b.bash(
            &format!("bash -c \"export {n}=\\\"{v}\\\" && ./run.sh\""),
            "Run",
        ),
        "bash-json-body" => {
            let body = serde_json::to_string(&json!({ lower(n): v })).unwrap();
            b.bash(&format!("curl -sS -X POST -H 'Content-Type: application/json' -d '{body}' https://api.example-shop.io/v1/keys"), "Register the key");
        }
        "bash-description" => b.bash(
            "./scripts/check-env.sh",
            &format!("Check that {n}={v} works"),
        ),
        "read-path-segment" => {
            b.tool("Read", json!({"file_path": format!("/home/ana/shop/tmp/{v}/notes.txt")}), json!("     1\tnotes\n"), json!({"type": "text", "file": {"filePath": format!("/home/ana/shop/tmp/{v}/notes.txt"), "content": "notes\n", "numLines": 1, "startLine": 1, "totalLines": 1}}));
        }
        "read-file-name" => {
            b.tool(
                "Read",
                json!({"file_path": format!("/home/ana/shop/keys/{v}")}),
                json!("     1\tok\n"),
                json!({"type": "text"}),
            );
        }
        "write-content" => {
            b.tool("Write", json!({"file_path": "/home/ana/shop/config/settings.py", "content": format!("import os\n\n{n} = \"{v}\"\nDEBUG = False\n")}), json!("File created successfully at: /home/ana/shop/config/settings.py"), json!({"type": "create", "filePath": "/home/ana/shop/config/settings.py"}));
        }
        "edit-old-string" => {
            b.tool("Edit", json!({"file_path": "/home/ana/shop/config/settings.py", "old_string": format!("{n} = \"{v}\""), "new_string": format!("{n} = os.environ[\"{n}\"]")}), json!("The file has been updated."), json!({"filePath": "/home/ana/shop/config/settings.py"}));
        }
        "edit-new-string" => {
            b.tool("Edit", json!({"file_path": "/home/ana/shop/config/settings.py", "old_string": format!("{n} = \"\""), "new_string": format!("{n} = \"{v}\"")}), json!("The file has been updated."), json!({"filePath": "/home/ana/shop/config/settings.py"}));
        }
        "multiedit" => {
            b.tool("MultiEdit", json!({"file_path": "/home/ana/shop/.env", "edits": [{"old_string": "PORT=80", "new_string": "PORT=8080"}, {"old_string": format!("{n}="), "new_string": format!("{n}={v}")}]}), json!("Applied 2 edits"), json!({"filePath": "/home/ana/shop/.env"}));
        }
        "grep-pattern" => {
            b.tool("Grep", json!({"pattern": v, "path": "/home/ana/shop", "output_mode": "files_with_matches"}), json!("No files found"), json!({"mode": "files_with_matches", "filenames": [], "numFiles": 0}));
        }
        "grep-path" => {
            b.tool(
                "Grep",
                json!({"pattern": "TODO", "path": format!("/home/ana/shop/tmp/{v}")}),
                json!("No files found"),
                json!({"mode": "files_with_matches", "filenames": [], "numFiles": 0}),
            );
        }
        "glob-pattern" => {
            b.tool(
                "Glob",
                json!({"pattern": format!("**/{v}*"), "path": "/home/ana/shop"}),
                json!("No files found"),
                json!({"filenames": [], "numFiles": 0, "durationMs": 3, "truncated": false}),
            );
        }
        "webfetch-userinfo" => {
            b.tool("WebFetch", json!({"url": format!("https://deploy:{v}@artifacts.example-shop.io/api/v2/builds"), "prompt": "List the builds"}), json!("No builds"), json!({"code": 200, "codeText": "OK", "bytes": 9}));
        }
        "webfetch-query" => {
            b.tool("WebFetch", json!({"url": format!("https://api.example-shop.io/v1/status?{}={}", lower(n), urlenc(v)), "prompt": "Is it up?"}), json!("up"), json!({"code": 200}));
            url_forms(&mut extra);
        }
        "webfetch-path" => {
            b.tool("WebFetch", json!({"url": format!("https://api.example-shop.io/v1/keys/{}/status", urlenc(v)), "prompt": "Is the key active?"}), json!("active"), json!({"code": 200}));
            url_forms(&mut extra);
        }
        "webfetch-prompt" => {
            b.tool("WebFetch", json!({"url": "https://docs.example-shop.io/keys", "prompt": format!("Does this page say whether {v} is still valid?")}), json!("no"), json!({"code": 200}));
        }
        "websearch-query" => {
            b.tool(
                "WebSearch",
                json!({"query": format!("\"{v}\" leaked")}),
                json!("No results"),
                json!({"query": "leaked", "results": [], "durationSeconds": 0.4}),
            );
        }
        "mcp-argument" => {
            b.tool(
                "mcp__vault__kv_put",
                json!({"mount": "kv", "path": "shop/prod", "key": n, "value": v}),
                json!([{"type": "text", "text": "ok"}]),
                json!([{"type": "text", "text": "ok"}]),
            );
        }
        "mcp-nested" => {
            b.tool("mcp__linear-server__create_issue", json!({"team": "OPS", "issue": {"title": "rotate credentials", "meta": {"env": {n: v}, "labels": ["security"]}}}), json!([{"type": "text", "text": "created OPS-12"}]), json!([{"type": "text", "text": "created OPS-12"}]));
        }
        "mcp-json-string" => {
            let body =
                serde_json::to_string(&json!({"name": n, "value": v, "scope": "prod"})).unwrap();
            b.tool("mcp__http__request", json!({"method": "POST", "url": "https://api.example-shop.io/v1/secrets", "body": body}), json!([{"type": "text", "text": "201"}]), json!([{"type": "text", "text": "201"}]));
            extra.extend(s.needles.iter().map(|x| ("json2", jsonesc(&jsonesc(x)))));
        }
        "mcp-result" => {
            b.tool("mcp__vault__kv_get", json!({"mount": "kv", "path": "shop/prod", "key": n}), json!([{"type": "text", "text": format!("{{\"{n}\": {}}}", serde_json::to_string(v).unwrap())}]), json!([{"type": "text", "text": "(see content)"}]));
        }
        "task-prompt" => {
            b.tool("Task", json!({"description": "Check the key", "subagent_type": "general-purpose", "prompt": format!("Find every file that uses {n}={v} and list them.")}), json!([{"type": "text", "text": "none found"}]), json!({"status": "completed", "agentId": "a0c1", "totalTokens": 10, "totalToolUseCount": 0, "totalDurationMs": 10}));
        }
        "subagent-progress" => {
            let id = format!("toolu_{}{:06}task", &b.sid[..8], b.n);
            let agent = format!("a{}", &b.sid[..7]);
            let a = b.assistant(json!([{"type": "tool_use", "id": id, "name": "Task", "input": {"description": "Explore", "subagent_type": "Explore", "prompt": "Find where the deploy reads its credentials"}}]));
            let nested_time = b.time();
            let tu = format!("{id}-sub");
            b.rec("progress", json!({"parentToolUseID": id, "toolUseID": format!("agent_msg_{}", b.n), "data": {"type": "agent_progress", "agentId": agent, "prompt": "", "message": {
                "type": "assistant", "uuid": format!("{}-sub{}", &b.sid[..23], b.n), "timestamp": nested_time, "isSidechain": true, "agentId": agent, "sessionId": b.sid,
                "message": {"model": "claude-haiku-4-5", "id": format!("msg_sub{}", b.n), "type": "message", "role": "assistant", "usage": {"input_tokens": 1, "output_tokens": 1},
                    "content": [{"type": "text", "text": format!("The deploy reads {n}={v} from the environment.")}, {"type": "tool_use", "id": tu, "name": "Bash", "input": {"command": format!("{n}={v} ./check.sh"), "description": "check"}}]}}}}));
            b.rec("user", json!({"sourceToolAssistantUUID": a, "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": [{"type": "text", "text": "It reads it from .env"}]}]}, "toolUseResult": {"status": "completed", "agentId": agent}}));
        }
        "hook-command" => {
            let id = b.tool(
                "Bash",
                json!({"command": "npm test", "description": "Test"}),
                json!("ok"),
                json!({"stdout": "ok", "stderr": ""}),
            );
            b.rec("progress", json!({"toolUseID": id, "parentToolUseID": id, "data": {"type": "hook_progress", "hookEvent": "PostToolUse", "hookName": "PostToolUse:Bash", "command": format!("~/.claude/hooks/notify.sh --token {v}")}}));
        }
        "todowrite" => {
            b.tool("TodoWrite", json!({"todos": [{"content": format!("Rotate {n} ({v})"), "status": "pending", "activeForm": format!("Rotating {n} ({v})")}]}), json!("Todos have been modified successfully"), json!({"oldTodos": [], "newTodos": []}));
        }
        "tool-result-text" => {
            let out = format!("LOG_LEVEL=debug\n{n}={v}\n");
            b.tool(
                "Bash",
                json!({"command": "cat config/staging.env", "description": "Show the staging env"}),
                json!(out),
                json!({"stdout": out, "stderr": "", "interrupted": false, "isImage": false}),
            );
        }
        "tool-use-result" => {
            b.tool("Bash", json!({"command": "./scripts/show-config.sh", "description": "Show config"}), json!("(output shown)"), json!({"stdout": format!("{n}={v}\n"), "stderr": "", "interrupted": false, "isImage": false}));
        }
        "model-text" => {
            b.assistant(json!([{"type": "text", "text": format!("I found the problem: `{n}` is set to `{v}` in the staging config, which is the revoked value.")}]));
        }
        "thinking" => {
            b.assistant(json!([{"type": "thinking", "thinking": format!("The env file sets {n}={v}; that looks like the production value.", ), "signature": "RXVzaWduYXR1cmU="}]));
        }
        "compaction-summary" => {
            let last = b.parent.clone();
            let uuid = b.uuid();
            let t = b.time();
            b.raw(json!({"type": "system", "subtype": "compact_boundary", "uuid": uuid, "parentUuid": null, "logicalParentUuid": last, "sessionId": b.sid, "timestamp": t, "cwd": "/home/ana/shop", "version": "2.1.39", "gitBranch": "main", "isSidechain": false, "content": "Conversation compacted", "compactMetadata": {"trigger": "auto", "preTokens": 170251}, "level": "info"}));
            b.parent = Some(uuid);
            b.rec("user", json!({"isCompactSummary": true, "isVisibleInTranscriptOnly": true, "message": {"role": "user", "content": format!("This session is being continued from a previous conversation that ran out of context. Summary:\n1. The user asked to fix the staging deploy.\n2. The staging env sets {n}={v}.\n3. Next: rotate it.")}}));
        }
        other => panic!("unknown placement {other}"),
    }
    extra
}

/// The title record of a session (one per session: the titles of its kinds joined).
pub fn title(b: &mut Builder, text: &str) {
    let sid = b.sid.clone();
    b.raw(json!({"type": "custom-title", "customTitle": text, "sessionId": sid}));
}
