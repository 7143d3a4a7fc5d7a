//! Prints what the redactor finds in files, with the text found (for tuning on benign text).
fn main() {
    let r = sessiontrail_policy::SecretRedactor::new();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if std::env::var_os("WHOLE").is_some() {
            for (s, e, kind) in r.find(&text) {
                println!("{path}: {kind}: [{}]", &text[s..e]);
            }
            let json = serde_json::to_string(&text).expect("a string serialises");
            for (s, e, kind) in r.find(&json) {
                println!("{path} (as JSON): {kind}: [{}]", &json[s..e]);
            }
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let decoded: String = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .map(|v| strings(&v).join("\n"))
                .unwrap_or_else(|| line.to_owned());
            for (s, e, kind) in r.find(&decoded) {
                let a = decoded[..s]
                    .char_indices()
                    .rev()
                    .nth(30)
                    .map_or(0, |(i, _)| i);
                let b = decoded[e..]
                    .char_indices()
                    .nth(20)
                    .map_or(decoded.len(), |(i, _)| e + i);
                println!(
                    "{path}:{}: {kind}: [{}]  ...{}...",
                    n + 1,
                    &decoded[s..e],
                    &decoded[a..b].replace('\n', "⏎")
                );
            }
        }
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        serde_json::Value::Object(o) => o.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}
