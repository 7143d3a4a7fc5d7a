//! The shipped ops files name what the code writes: the span attributes spanmetrics labels
//! by, and the counter the alert rules watch. (`.ci/run` also runs `promtool test rules` on
//! the alert rules and parses every YAML and JSON file.)

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel),
    )
    .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_collector_counts_by_the_attributes_spans_carry() {
    let cfg = read("collector-config/otelcol.yaml");
    use sessiontrail_trace::attr;
    for name in [
        attr::SENSITIVE_RULE,
        attr::SENSITIVE_SEVERITY,
        attr::SENSITIVE,
    ] {
        assert!(cfg.contains(name), "collector config names {name}");
    }
    assert!(cfg.contains("namespace: sessiontrail.sensitive_access"));
}

#[test]
fn alert_rules_watch_the_counters_that_exist() {
    let rules = read("dashboards/prometheus/sessiontrail-alerts.yaml");
    assert!(rules.contains(sessiontrail_policy::SENSITIVE_ACCESS_METRIC));
    for label in sessiontrail_policy::SENSITIVE_ACCESS_LABELS {
        assert!(rules.contains(label), "{label}");
    }
    // spanmetrics' name for the collector's counter: namespace + `calls`, as Prometheus
    // spells it.
    assert!(
        rules.contains("sessiontrail_sensitive_access_calls_total{sessiontrail_sensitive_severity")
    );
    let grafana = read("dashboards/grafana/provisioning/alerting/sessiontrail.yaml");
    assert!(grafana.contains(sessiontrail_policy::SENSITIVE_ACCESS_METRIC));
    let dash: serde_json::Value =
        serde_json::from_str(&read("dashboards/grafana/dashboards/sessiontrail.json")).unwrap();
    assert!(dash["panels"].as_array().unwrap().len() >= 5);
}
