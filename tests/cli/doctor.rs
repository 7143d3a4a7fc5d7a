//! `sessiontrail doctor`: what is configured, whether the backend answers, what waits in
//! the outbox and the last delivery error; a failed check is exit code 4.

use crate::fake::FakeHttp;
use crate::util::*;

fn checks(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

fn find<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {v}"))
}

#[test]
fn doctor_reports_the_backend_the_outbox_and_the_last_error() {
    let env = TestEnv::new();
    // Nothing yet: a newcomer's machine is not a failure.
    let v = checks(&env.run(&["doctor", "--json"], 0));
    assert_eq!(v["ok"], true);
    assert_eq!(find(&v, "store")["status"], "warn");
    assert!(
        find(&v, "backend")["detail"]
            .as_str()
            .unwrap()
            .contains("no OTLP endpoint")
    );

    // A backend that answers, then one that does not.
    let up = FakeHttp::start(vec![]);
    let v = checks(&env.run(&["doctor", "--json", "--endpoint", &up.url], 0));
    assert_eq!(find(&v, "backend")["status"], "ok");
    assert_eq!(up.requests().len(), 1, "one empty export request");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let o = env.run(&["doctor", "--endpoint", &closed], 4);
    let text = stdout(&o);
    assert!(
        text.contains("fail  backend") && text.contains("cannot connect"),
        "{text}"
    );

    // A refusal: the outbox keeps the spans and doctor says why.
    let refusing = FakeHttp::start(vec![(400, None)]);
    let fixtures = claude_fixtures()
        .join("marot-spotter")
        .display()
        .to_string();
    env.run(&["export", &fixtures, "--endpoint", &refusing.url], 3);
    let v = checks(&env.run(&["doctor", "--json"], 0));
    let outbox = &v["outboxes"][0];
    assert!(outbox["sink"].as_str().unwrap().contains(&refusing.url));
    assert!(outbox["waiting_spans"].as_u64().unwrap() > 0);
    assert!(outbox["last_error"].as_str().unwrap().contains("HTTP 400"));
    assert!(outbox["oldest_queued"].is_string());
    assert_eq!(find(&v, "outbox")["status"], "warn");
    assert_eq!(find(&v, "store")["status"], "ok");
}
