//! `sessiontrail policy list|check`.

use std::io::Write;

use serde::Serialize;
use sessiontrail_policy::RuleSet;

use crate::args::{PolicyArgs, PolicyCommand};
use crate::{exit, format, settings};

#[derive(Serialize)]
struct RuleLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    severity: &'static str,
    category: &'a str,
    enabled: bool,
    origin: &'a str,
    description: &'a str,
    matchers: &'a std::collections::BTreeMap<&'static str, Vec<String>>,
}

pub fn run(a: PolicyArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    match a.command {
        PolicyCommand::List { policy, json } => {
            let rules = settings::rules(policy.as_deref())?;
            // Which secret formats redaction follows: gitleaks' release, and ours.
            let formats = sessiontrail_policy::SecretRedactor::new().formats();
            let gitleaks = formats
                .iter()
                .filter(|f| f.source == sessiontrail_policy::FormatSource::Gitleaks)
                .count();
            let own = formats.len() - gitleaks;
            let release = sessiontrail_policy::GITLEAKS_RELEASE;
            if json {
                serde_json::to_writer(
                    &mut *out,
                    &serde_json::json!({"type": "secret-formats", "gitleaks_release": release, "gitleaks_rules": gitleaks, "own_formats": own}),
                )?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "secret formats: gitleaks {release} default rules ({gitleaks}) and sessiontrail's own ({own})"
                )?;
            }
            for r in rules.rules() {
                if json {
                    let line = RuleLine {
                        kind: "rule",
                        id: &r.id,
                        severity: r.severity.as_str(),
                        category: &r.category,
                        enabled: r.enabled,
                        origin: &r.origin,
                        description: &r.description,
                        matchers: &r.matchers,
                    };
                    serde_json::to_writer(&mut *out, &line)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{:<30} {:<8} {:<16} {:<8} {}{}",
                        r.id,
                        r.severity.as_str(),
                        r.category,
                        if r.enabled { "enabled" } else { "disabled" },
                        r.description,
                        if r.origin == "built-in" {
                            String::new()
                        } else {
                            format!("  [{}]", r.origin)
                        }
                    )?;
                }
            }
            Ok(exit::OK)
        }
        PolicyCommand::Check { file } => match RuleSet::load(&file) {
            Ok(rules) => {
                let own = rules
                    .rules()
                    .iter()
                    .filter(|r| r.origin != "built-in")
                    .count();
                writeln!(
                    out,
                    "{}: valid; {} in force, {own} added or changed by this file",
                    file.display(),
                    format::counted(
                        rules.rules().iter().filter(|r| r.enabled).count() as u64,
                        "rule"
                    )
                )?;
                Ok(exit::OK)
            }
            Err(errors) => {
                for e in &errors {
                    writeln!(out, "{e}")?;
                }
                Ok(exit::SKIPPED_INPUT)
            }
        },
    }
}
