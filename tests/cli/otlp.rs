//! Delivery to OTLP endpoints that fail on purpose: what is retried, what is kept for the
//! next run, and what the requests look like.

use std::collections::BTreeSet;

use prost::Message;

use crate::fake::{FakeGrpc, FakeHttp, GrpcReply};
use crate::util::*;

fn spotter() -> String {
    claude_fixtures()
        .join("marot-spotter")
        .display()
        .to_string()
}

/// Span ids the store holds, as the OTLP/JSON file gives them.
fn stored_ids(env: &TestEnv) -> BTreeSet<Vec<u8>> {
    let f = env.path(&format!("all-{}.jsonl", std::process::id()));
    env.run(
        &["export", &spotter(), "--otlp-file", f.to_str().unwrap()],
        0,
    );
    read_otlp_json(&f)
        .iter()
        .map(|s| {
            (0..16)
                .step_by(2)
                .map(|i| u8::from_str_radix(&s.span_id[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn http_retries_transient_failures_and_keeps_requests_small() {
    let env = TestEnv::new();
    let fake = FakeHttp::start(vec![(503, Some("0")), (502, None), (429, None)]);
    let mut c = env.cmd(&[
        "export",
        &spotter(),
        "--endpoint",
        &fake.url,
        "--json",
        "--max-request-bytes",
        "60000",
        "--compression",
        "gzip",
    ]);
    c.env(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-api-key=s3cr%3Dt,x-team=core",
    );
    let o = env.run_cmd(c, 0);
    let summary = &json_lines(&o)[0];
    let reqs = fake.requests();
    assert_eq!(reqs[0].status, 503);
    assert!(reqs.len() > 5, "{} requests", reqs.len());
    // Retries resend the same request; what was acknowledged holds every span once.
    let acked: Vec<Vec<u8>> = reqs
        .iter()
        .filter(|r| r.status == 200)
        .flat_map(|r| r.span_ids())
        .collect();
    let unique: BTreeSet<Vec<u8>> = acked.iter().cloned().collect();
    assert_eq!(acked.len(), unique.len());
    assert_eq!(unique, stored_ids(&env));
    assert_eq!(
        summary["otlp"]["spans"].as_u64().unwrap(),
        unique.len() as u64
    );
    assert_eq!(summary["otlp"]["pending_spans"], 0);
    for r in &reqs {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("x-api-key"), Some("s3cr=t"));
        assert_eq!(r.header("x-team"), Some("core"));
        assert!(
            r.request.encoded_len() <= 60_000,
            "request of {} bytes",
            r.request.encoded_len()
        );
        assert!(
            r.body.len() < r.request.encoded_len(),
            "the body is compressed"
        );
    }
    // Nothing is pending, so a second run sends nothing.
    let o = env.run(
        &["export", &spotter(), "--endpoint", &fake.url, "--json"],
        0,
    );
    assert_eq!(json_lines(&o)[0]["otlp"]["spans"], 0);
    let before = fake.requests().len();
    let o = env.run(
        &[
            "export",
            &spotter(),
            "--endpoint",
            &fake.url,
            "--json",
            "--resend",
        ],
        0,
    );
    assert_eq!(
        json_lines(&o)[0]["otlp"]["spans"].as_u64().unwrap(),
        unique.len() as u64
    );
    assert!(fake.requests().len() > before);
}

#[test]
fn a_refusal_stops_delivery_and_the_next_export_sends_what_was_kept() {
    let env = TestEnv::new();
    let refusing = FakeHttp::start(vec![(400, None), (400, None)]);
    let o = env.run(
        &["export", &spotter(), "--endpoint", &refusing.url, "--json"],
        3,
    );
    let s = &json_lines(&o)[0];
    assert!(
        s["otlp"]["error"].as_str().unwrap().contains("HTTP 400"),
        "{s}"
    );
    assert_eq!(
        refusing.requests().len(),
        1,
        "a permanent refusal is not retried"
    );
    let total = s["spans"].as_u64().unwrap();
    assert_eq!(s["otlp"]["pending_spans"].as_u64().unwrap(), total);
    let text = stdout(&env.run(&["export", &spotter(), "--endpoint", &refusing.url], 3));
    assert!(
        text.contains("delivery stopped: HTTP 400")
            && text.contains("kept in the store, to be sent by the next export"),
        "{text}"
    );

    // The backend is fixed (its script is used up); the next export, even of other files,
    // delivers what the outbox kept.
    let o = env.run(
        &[
            "export",
            &claude_fixtures().join("git-ai").display().to_string(),
            "--endpoint",
            &refusing.url,
            "--json",
        ],
        0,
    );
    let s2 = &json_lines(&o)[0];
    assert_eq!(s2["otlp"]["pending_spans"], 0);
    assert!(
        s2["otlp"]["spans"].as_u64().unwrap() > total,
        "the kept spans and the new session's"
    );
    let delivered: BTreeSet<Vec<u8>> = refusing
        .requests()
        .iter()
        .filter(|r| r.status == 200)
        .flat_map(|r| r.span_ids())
        .collect();
    assert!(stored_ids(&env).is_subset(&delivered));
}

#[test]
fn a_backend_that_is_down_loses_nothing() {
    let env = TestEnv::new();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let o = env.run(
        &[
            "export",
            &spotter(),
            "--endpoint",
            &url,
            "--json",
            "--max-attempts",
            "2",
        ],
        3,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let s = &json_lines(&o)[0];
    let err = s["otlp"]["error"].as_str().unwrap();
    assert!(
        err.contains("cannot connect") && err.contains("gave up after 2 attempts"),
        "{err}"
    );
    assert_eq!(s["otlp"]["pending_spans"], s["spans"]);
    // The store kept everything.
    assert_eq!(json_lines(&env.run(&["sessions", "--json"], 0)).len(), 4);
    let back = FakeHttp::start(vec![]);
    let mut c = env.cmd(&["export", &spotter(), "--json"]);
    c.env("OTEL_EXPORTER_OTLP_ENDPOINT", &back.url);
    let o = env.run_cmd(c, 0);
    assert_eq!(json_lines(&o)[0]["otlp"]["spans"], s["spans"]);
}

#[test]
fn grpc_retries_unavailable_sends_metadata_and_reports_partial_success() {
    let env = TestEnv::new();
    let fake = FakeGrpc::start(vec![
        GrpcReply::Status(tonic::Code::Unavailable),
        GrpcReply::Ok,
        GrpcReply::Partial(2),
    ]);
    let mut c = env.cmd(&[
        "export",
        &spotter(),
        "--json",
        "--max-request-bytes",
        "200000",
    ]);
    c.env("OTEL_EXPORTER_OTLP_ENDPOINT", &fake.url)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc");
    let o = env.run_cmd(c, 0);
    let s = &json_lines(&o)[0];
    assert_eq!(s["otlp"]["protocol"], "grpc");
    assert_eq!(s["otlp"]["rejected_spans"], 2);
    assert_eq!(s["otlp"]["rejection"], "too old");
    let received = fake.received.lock().unwrap().clone();
    assert!(received.len() >= 3);
    assert!(received.iter().all(|(_, h)| {
        h.iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer abc")
    }));
    // The first request failed and was sent again.
    assert_eq!(received[0].0, received[1].0);
    let ids: BTreeSet<Vec<u8>> = fake.span_ids().into_iter().collect();
    assert_eq!(ids, stored_ids(&env));
}

#[test]
fn grpc_invalid_argument_is_final() {
    let env = TestEnv::new();
    let fake = FakeGrpc::start(vec![GrpcReply::Status(tonic::Code::InvalidArgument)]);
    let o = env.run(
        &[
            "export",
            &spotter(),
            "--json",
            "--endpoint",
            &fake.url,
            "--protocol",
            "grpc",
        ],
        3,
    );
    let s = &json_lines(&o)[0];
    assert!(
        s["otlp"]["error"]
            .as_str()
            .unwrap()
            .contains("InvalidArgument"),
        "{s}"
    );
    assert_eq!(fake.received.lock().unwrap().len(), 1);
}

/// `--max-request-bytes` bounds requests in the encoding they are sent in: OTLP/JSON over
/// HTTP and the lines of `--otlp-file`, about twice the protobuf size, stay under it too;
/// the sizes printed are those of the bytes sent and written.
#[test]
fn json_requests_and_file_lines_stay_under_the_cap() {
    let env = TestEnv::new();
    let fake = FakeHttp::start(Vec::new());
    let file = env.path("out.jsonl");
    let o = env.run(
        &[
            "export",
            &spotter(),
            "--endpoint",
            &fake.url,
            "--protocol",
            "http/json",
            "--json",
            "--max-request-bytes",
            "40000",
            "--otlp-file",
            file.to_str().unwrap(),
        ],
        0,
    );
    let s = &json_lines(&o)[0];
    let reqs = fake.requests();
    assert!(reqs.len() > 10, "{} requests", reqs.len());
    let mut sent = 0;
    for r in &reqs {
        assert_eq!(r.header("content-type"), Some("application/json"));
        // A span larger than the cap goes alone.
        assert!(
            r.body.len() <= 40000 || r.span_ids().len() == 1,
            "{}",
            r.body.len()
        );
        sent += r.body.len() as u64;
    }
    assert_eq!(s["otlp"]["bytes"].as_u64().unwrap(), sent);
    assert_eq!(
        s["otlp"]["max_request_bytes"].as_u64().unwrap(),
        reqs.iter().map(|r| r.body.len() as u64).max().unwrap()
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(s["otlp_file"]["bytes"].as_u64().unwrap(), text.len() as u64);
    assert_eq!(
        s["otlp_file"]["lines"].as_u64().unwrap(),
        text.lines().count() as u64
    );
    for line in text.lines() {
        let spans = line.matches("\"spanId\"").count();
        assert!(
            line.len() <= 40000 || spans == 1,
            "a line of {} bytes",
            line.len()
        );
    }
}
