//! Finding the traces of a commit in a backend's own query API (DESIGN.md 4): every span
//! carries `vcs.ref.head.revision`, and a `git commit <sha7>` span carries the commit it
//! links with `sessiontrail.link.method`. Jaeger answers on its HTTP JSON API
//! (`/api/traces?service=..&tags=..`), Tempo on its search API (TraceQL), Phoenix on its
//! REST API (`/v1/projects/{p}/spans?attribute=..`).
//!
//! The requests and the parsing are separate pure functions so they can be checked against
//! the documented shapes without the backend.

use std::time::Duration;

use serde_json::Value;

/// The query APIs sessiontrail can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Jaeger's HTTP JSON API (the one its UI and Grafana use).
    Jaeger,
    /// Grafana Tempo's search API.
    Tempo,
    /// Arize Phoenix's REST API.
    Phoenix,
}

impl BackendKind {
    /// Its name, as given to `--backend`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Jaeger => "jaeger",
            BackendKind::Tempo => "tempo",
            BackendKind::Phoenix => "phoenix",
        }
    }
}

/// A backend to ask.
#[derive(Debug, Clone)]
pub struct Backend {
    /// Which API it speaks.
    pub kind: BackendKind,
    /// Its base URL (`http://jaeger:16686`, `http://tempo:3200`, `http://phoenix:6006`).
    pub url: String,
    /// Jaeger: the service names to search (one request each: Jaeger requires one).
    pub services: Vec<String>,
    /// Phoenix: the project.
    pub project: String,
    /// Deadline of one request.
    pub timeout: Duration,
}

impl Backend {
    /// Parses `KIND=URL` (`jaeger=http://localhost:16686`).
    pub fn parse(spec: &str) -> Result<Backend, String> {
        let (kind, url) = spec.split_once('=').ok_or_else(|| {
            format!("'{spec}': expected KIND=URL, KIND one of jaeger, tempo, phoenix")
        })?;
        let kind = match kind.trim() {
            "jaeger" => BackendKind::Jaeger,
            "tempo" => BackendKind::Tempo,
            "phoenix" => BackendKind::Phoenix,
            other => {
                return Err(format!(
                    "'{other}': unknown backend; expected jaeger, tempo or phoenix"
                ));
            }
        };
        let parsed = url::Url::parse(url.trim()).map_err(|e| format!("'{url}': not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("'{url}': expected an http:// or https:// URL"));
        }
        Ok(Backend {
            kind,
            url: url.trim().trim_end_matches('/').to_owned(),
            services: Vec::new(),
            project: "default".into(),
            timeout: Duration::from_secs(10),
        })
    }
}

/// A trace the backend holds for the revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// The agent's session id (`session.id`), when the backend returned it.
    pub session_id: Option<String>,
    /// The agent (`service.name`), when the backend returned it.
    pub agent: Option<String>,
    /// How the commit was linked, when the trace holds its `git commit` span; `None` when
    /// only spans that ran at that revision matched.
    pub link_method: Option<String>,
    /// Earliest matched span start, Unix nanoseconds.
    pub start_ns: Option<i64>,
    /// Where to see the trace.
    pub url: String,
}

/// Why a backend could not answer.
#[derive(Debug, thiserror::Error)]
#[error("{backend} at {url}: {reason}")]
pub struct LookupError {
    /// `jaeger`, `tempo` or `phoenix`.
    pub backend: &'static str,
    /// The request, without credentials.
    pub url: String,
    /// What went wrong.
    pub reason: String,
}

/// The requests that find `sha`, with spans between `from_s` and `to_s` (Unix seconds).
pub fn requests(b: &Backend, sha: &str, from_s: i64, to_s: i64) -> Vec<url::Url> {
    let base = &b.url;
    let mk = |path: &str, q: &[(&str, String)]| {
        let mut u = url::Url::parse(&format!("{base}{path}"))
            .expect("a base URL checked by Backend::parse");
        u.query_pairs_mut()
            .extend_pairs(q.iter().map(|(k, v)| (*k, v.as_str())));
        u
    };
    match b.kind {
        BackendKind::Jaeger => b
            .services
            .iter()
            .map(|svc| {
                mk(
                    "/api/traces",
                    &[
                        ("service", svc.clone()),
                        (
                            "tags",
                            serde_json::json!({ "vcs.ref.head.revision": sha }).to_string(),
                        ),
                        ("start", (from_s * 1_000_000).to_string()),
                        ("end", (to_s * 1_000_000).to_string()),
                        ("limit", "100".into()),
                    ],
                )
            })
            .collect(),
        BackendKind::Tempo => vec![mk(
            "/api/search",
            &[
                (
                    "q",
                    format!(
                        "{{ span.vcs.ref.head.revision = \"{sha}\" }} | select(span.session.id, span.sessiontrail.link.method)"
                    ),
                ),
                ("start", from_s.to_string()),
                ("end", to_s.to_string()),
                ("limit", "100".into()),
                ("spss", "100".into()),
            ],
        )],
        BackendKind::Phoenix => vec![mk(
            &format!("/v1/projects/{}/spans", b.project),
            &[
                ("attribute", format!("vcs.ref.head.revision:{sha}")),
                ("limit", "1000".into()),
            ],
        )],
    }
}

/// Where a trace is seen in that backend.
pub fn trace_link(b: &Backend, trace_id: &str) -> String {
    match b.kind {
        BackendKind::Jaeger => format!("{}/trace/{trace_id}", b.url),
        BackendKind::Tempo => format!("{}/api/traces/{trace_id}", b.url),
        BackendKind::Phoenix => format!(
            "{}/v1/projects/{}/spans?trace_id={trace_id}",
            b.url, b.project
        ),
    }
}

/// Backends drop leading zeros (Tempo) or change case; ids are compared as 32 lowercase hex.
fn norm_trace_id(id: &str) -> Option<String> {
    let id = id.trim().to_ascii_lowercase();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("{id:0>32}"))
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Adds or merges one matched span into the traces found so far.
fn merge(found: &mut Vec<Found>, mut f: Found) {
    if let Some(have) = found.iter_mut().find(|x| x.trace_id == f.trace_id) {
        have.session_id = have.session_id.take().or(f.session_id);
        have.agent = have.agent.take().or(f.agent);
        have.link_method = have.link_method.take().or(f.link_method.take());
        have.start_ns = match (have.start_ns, f.start_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    } else {
        found.push(f);
    }
}

/// Reads one response. `sha` decides which matched span is the commit's own.
pub fn parse(b: &Backend, sha: &str, body: &[u8]) -> Result<(Vec<Found>, Option<String>), String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let mut found = Vec::new();
    let mut next = None;
    match b.kind {
        BackendKind::Jaeger => {
            if let Some(errs) = v["errors"].as_array().filter(|e| !e.is_empty()) {
                return Err(format!(
                    "Jaeger reported errors: {}",
                    Value::Array(errs.clone())
                ));
            }
            for t in v["data"]
                .as_array()
                .ok_or("no 'data' array in the answer")?
            {
                let Some(tid) = t["traceID"].as_str().and_then(norm_trace_id) else {
                    continue;
                };
                for sp in t["spans"].as_array().into_iter().flatten() {
                    let tag = |k: &str| {
                        sp["tags"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|x| x["key"] == k)
                            .and_then(|x| x["value"].as_str())
                            .map(str::to_owned)
                    };
                    let is_commit = tag("vcs.ref.head.revision").as_deref() == Some(sha)
                        && tag("sessiontrail.link.method").is_some();
                    let process = sp["processID"].as_str().unwrap_or_default();
                    merge(
                        &mut found,
                        Found {
                            trace_id: tid.clone(),
                            session_id: tag("session.id"),
                            agent: t["processes"][process]["serviceName"]
                                .as_str()
                                .map(str::to_owned),
                            link_method: if is_commit {
                                tag("sessiontrail.link.method")
                            } else {
                                None
                            },
                            // Jaeger times are microseconds; only spans at the revision count.
                            start_ns: (tag("vcs.ref.head.revision").as_deref() == Some(sha))
                                .then(|| as_i64(&sp["startTime"]).map(|us| us * 1000))
                                .flatten(),
                            url: trace_link(b, &tid),
                        },
                    );
                }
            }
        }
        BackendKind::Tempo => {
            for t in v["traces"]
                .as_array()
                .ok_or("no 'traces' array in the answer")?
            {
                let Some(tid) = t["traceID"].as_str().and_then(norm_trace_id) else {
                    continue;
                };
                let mut f = Found {
                    trace_id: tid.clone(),
                    session_id: None,
                    agent: t["rootServiceName"]
                        .as_str()
                        .filter(|s| !s.starts_with('<'))
                        .map(str::to_owned),
                    link_method: None,
                    start_ns: as_i64(&t["startTimeUnixNano"]),
                    url: trace_link(b, &tid),
                };
                let sets = t["spanSets"]
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![t["spanSet"].clone()]);
                for sp in sets
                    .iter()
                    .flat_map(|s| s["spans"].as_array().cloned().unwrap_or_default())
                {
                    for kv in sp["attributes"].as_array().into_iter().flatten() {
                        let val = kv["value"]["stringValue"].as_str().map(str::to_owned);
                        match kv["key"].as_str() {
                            Some("session.id") => f.session_id = f.session_id.take().or(val),
                            Some("sessiontrail.link.method") => {
                                f.link_method = f.link_method.take().or(val)
                            }
                            _ => {}
                        }
                    }
                }
                merge(&mut found, f);
            }
        }
        BackendKind::Phoenix => {
            for sp in v["data"]
                .as_array()
                .ok_or("no 'data' array in the answer")?
            {
                let Some(tid) = sp["context"]["trace_id"].as_str().and_then(norm_trace_id) else {
                    continue;
                };
                // Phoenix returns attributes flat (`"session.id": ..`) or nested by dots.
                let attr = |k: &str| {
                    sp["attributes"].get(k).cloned().or_else(|| {
                        k.split('.')
                            .try_fold(&sp["attributes"], |v, part| v.get(part))
                            .cloned()
                    })
                };
                let s = |k: &str| attr(k).and_then(|v| v.as_str().map(str::to_owned));
                let start_ns = sp["start_time"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .and_then(|t| t.timestamp_nanos_opt());
                merge(
                    &mut found,
                    Found {
                        trace_id: tid.clone(),
                        session_id: s("session.id"),
                        agent: s("gen_ai.agent.name"),
                        link_method: s("sessiontrail.link.method"),
                        start_ns,
                        url: trace_link(b, &tid),
                    },
                );
            }
            next = v["next_cursor"].as_str().map(str::to_owned);
        }
    }
    Ok((found, next))
}

/// Asks the backend for the traces of `sha` (spans between `from_s` and `to_s`, Unix seconds).
pub fn find_by_revision(
    b: &Backend,
    sha: &str,
    from_s: i64,
    to_s: i64,
) -> Result<Vec<Found>, LookupError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let err = |url: &url::Url, reason: String| LookupError {
        backend: b.kind.name(),
        url: crate::display_url(url.as_str()),
        reason,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LookupError {
            backend: b.kind.name(),
            url: crate::display_url(&b.url),
            reason: format!("cannot start the async runtime: {e}"),
        })?;
    let client = reqwest::Client::builder()
        .timeout(b.timeout)
        .build()
        .map_err(|e| LookupError {
            backend: b.kind.name(),
            url: crate::display_url(&b.url),
            reason: e.to_string(),
        })?;
    let mut found = Vec::new();
    for first in requests(b, sha, from_s, to_s) {
        let mut url = first.clone();
        // Phoenix pages with a cursor; bounded.
        for _ in 0..20 {
            let (status, body) = rt
                .block_on(async {
                    let r = client
                        .get(url.clone())
                        .header("accept", "application/json")
                        .send()
                        .await?;
                    let status = r.status();
                    Ok::<_, reqwest::Error>((status, r.bytes().await?))
                })
                .map_err(|e| err(&url, crate::client::http_error(&e, b.timeout)))?;
            if status == reqwest::StatusCode::NOT_FOUND && b.kind == BackendKind::Phoenix {
                // No such project yet: nothing was ever sent to it.
                break;
            }
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                return Err(err(&url, format!("HTTP {status}: {text}")));
            }
            let (page, next) = parse(b, sha, &body).map_err(|e| err(&url, e))?;
            for f in page {
                merge(&mut found, f);
            }
            match next {
                Some(c) => {
                    url = first.clone();
                    url.query_pairs_mut().append_pair("cursor", &c);
                }
                None => break,
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

    fn backend(spec: &str) -> Backend {
        let mut b = Backend::parse(spec).unwrap();
        b.services = vec!["claude-code".into(), "codex".into()];
        b
    }

    #[test]
    fn backends_are_given_as_kind_and_url() {
        assert_eq!(backend("jaeger=http://j:16686/").url, "http://j:16686");
        for bad in [
            "http://j:16686",
            "zipkin=http://z",
            "tempo=ftp://t",
            "tempo=not a url",
        ] {
            assert!(Backend::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jaeger_is_asked_once_per_service_with_the_revision_tag_in_microseconds() {
        let urls = requests(
            &backend("jaeger=http://j:16686"),
            SHA,
            1_772_000_000,
            1_772_100_000,
        );
        assert_eq!(urls.len(), 2);
        let q: Vec<(String, String)> = urls[0]
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        assert_eq!(urls[0].path(), "/api/traces");
        assert!(q.contains(&("service".into(), "claude-code".into())));
        assert!(q.contains(&(
            "tags".into(),
            format!("{{\"vcs.ref.head.revision\":\"{SHA}\"}}")
        )));
        assert!(q.contains(&("start".into(), "1772000000000000".into())));
        assert!(q.contains(&("end".into(), "1772100000000000".into())));
    }

    #[test]
    fn tempo_is_asked_in_traceql_with_seconds() {
        let u = &requests(&backend("tempo=http://t:3200"), SHA, 10, 20)[0];
        let q: Vec<(String, String)> = u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(u.path(), "/api/search");
        assert!(q.contains(&(
            "q".into(),
            format!("{{ span.vcs.ref.head.revision = \"{SHA}\" }} | select(span.session.id, span.sessiontrail.link.method)")
        )));
        assert!(
            q.contains(&("start".into(), "10".into())) && q.contains(&("end".into(), "20".into()))
        );
    }

    /// The shape Jaeger's query service writes (`structuredResponse`, model/json).
    #[test]
    fn a_jaeger_answer_gives_each_trace_its_session_and_link_method() {
        let body = serde_json::json!({
            "data": [{
                "traceID": "0af7651916cd43dd8448eb211c80319c",
                "spans": [
                    {"traceID": "0af7651916cd43dd8448eb211c80319c", "spanID": "b7ad6b7169203331", "operationName": "execute_tool Bash",
                     "references": [], "startTime": 1772359205000000i64, "duration": 1000, "processID": "p1", "logs": [],
                     "tags": [{"key": "vcs.ref.head.revision", "type": "string", "value": SHA}, {"key": "session.id", "type": "string", "value": "s-1"}]},
                    {"traceID": "0af7651916cd43dd8448eb211c80319c", "spanID": "c7ad6b7169203331", "operationName": "git commit 1a2b3c4",
                     "references": [{"refType": "CHILD_OF", "traceID": "0af7651916cd43dd8448eb211c80319c", "spanID": "a7ad6b7169203331"}],
                     "startTime": 1772359210000000i64, "duration": 0, "processID": "p1", "logs": [],
                     "tags": [{"key": "vcs.ref.head.revision", "type": "string", "value": SHA}, {"key": "sessiontrail.link.method", "type": "string", "value": "agent_ran_commit"}, {"key": "session.id", "type": "string", "value": "s-1"}]}
                ],
                "processes": {"p1": {"serviceName": "claude-code", "tags": []}},
                "warnings": null
            }],
            "total": 0, "limit": 0, "offset": 0, "errors": null
        });
        let b = backend("jaeger=http://j:16686");
        let (found, next) = parse(&b, SHA, body.to_string().as_bytes()).unwrap();
        assert_eq!(next, None);
        assert_eq!(
            found,
            [Found {
                trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
                session_id: Some("s-1".into()),
                agent: Some("claude-code".into()),
                link_method: Some("agent_ran_commit".into()),
                start_ns: Some(1_772_359_205_000_000_000),
                url: "http://j:16686/trace/0af7651916cd43dd8448eb211c80319c".into(),
            }]
        );
        let err = serde_json::json!({"data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 400, "msg": "parameter 'service' is required"}]});
        assert!(
            parse(&b, SHA, err.to_string().as_bytes())
                .unwrap_err()
                .contains("service' is required")
        );
        assert!(parse(&b, SHA, b"<html>").unwrap_err().contains("not JSON"));
    }

    /// The shape of Tempo's search API (`docs/sources/tempo/api_docs`), whose trace ids lose
    /// their leading zeros.
    #[test]
    fn a_tempo_answer_gives_each_trace_its_session_and_link_method() {
        let body = serde_json::json!({
            "traces": [{
                "traceID": "af7651916cd43dd8448eb211c80319c",
                "rootServiceName": "claude-code",
                "rootTraceName": "invoke_agent claude-code",
                "startTimeUnixNano": "1772359200000000000",
                "durationMs": 557,
                "spanSets": [{"spans": [
                    {"spanID": "b7ad6b7169203331", "startTimeUnixNano": "1772359205000000000", "durationNanos": "1000",
                     "attributes": [{"key": "session.id", "value": {"stringValue": "s-1"}}]},
                    {"spanID": "c7ad6b7169203331", "startTimeUnixNano": "1772359210000000000", "durationNanos": "0",
                     "attributes": [{"key": "session.id", "value": {"stringValue": "s-1"}}, {"key": "sessiontrail.link.method", "value": {"stringValue": "hook"}}]}
                ], "matched": 2}]
            }, {
                "traceID": "1bf7651916cd43dd8448eb211c80319c",
                "rootServiceName": "<root span not yet received>",
                "startTimeUnixNano": "1772359300000000000",
                "spanSet": {"spans": [{"spanID": "d7ad6b7169203331", "attributes": [{"key": "session.id", "value": {"stringValue": "s-2"}}]}], "matched": 1}
            }],
            "metrics": {"totalBlocks": 13}
        });
        let (found, _) = parse(
            &backend("tempo=http://t:3200"),
            SHA,
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].trace_id, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(found[0].session_id.as_deref(), Some("s-1"));
        assert_eq!(found[0].link_method.as_deref(), Some("hook"));
        assert_eq!(found[0].agent.as_deref(), Some("claude-code"));
        assert_eq!(found[1].agent, None);
        assert_eq!(
            found[1].link_method, None,
            "only spans at the revision: not the commit's author"
        );
        assert_eq!(
            found[1].url,
            "http://t:3200/api/traces/1bf7651916cd43dd8448eb211c80319c"
        );
    }
}
