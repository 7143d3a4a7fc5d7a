//! The policy room (DESIGN.md 5): what counts as sensitive, and what must never leave.
//!
//! Owns: secret redaction ([`SecretRedactor`]: gitleaks' default rules loaded as data from
//! `gitleaks/`, sessiontrail's own formats, measured entropy thresholds, a model of text's
//! trigrams from `trigrams/`, and every decoded view of a text), the sensitive-access rules (a built-in pack plus a user TOML file) and
//! their evaluation on a session's tool calls, the shell splitter they read commands with
//! (also used by `trace` for `process.executable.name`), and the content gate applied to
//! every string a session carries.
//!
//! Must not: do I/O beyond reading its rule file, or know any agent's format: it works on
//! the normalized [`Session`](sessiontrail_model::Session), so every agent gets it.

#![warn(missing_docs)]

mod redact;
mod rules;
mod scrub;
pub mod shell;

pub use redact::{
    FormatInfo, FormatSource, GITLEAKS_RELEASE, SecretRedactor, entropy, fingerprint,
};
pub use rules::{AccessKind, BUILTIN, Rule, RuleError, RuleSet};
pub use scrub::{apply, scrub_session};

/// Whether an environment variable's name says it holds a secret (its value is never
/// looked at): what `Ambient::secret_env_names` lists.
pub fn is_secret_env_name(name: &str) -> bool {
    const PARTS: [&str; 12] = [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
        "SESSION_KEY",
        "CLIENT_KEY",
    ];
    let upper = name.to_ascii_uppercase();
    PARTS.iter().any(|p| upper.contains(p))
        || matches!(
            upper.as_str(),
            "AWS_SESSION_TOKEN" | "DATABASE_URL" | "PGPASSWORD" | "NPM_TOKEN" | "GH_TOKEN"
        )
}

/// sessiontrail's own counter of sensitive accesses, in Prometheus form. `sessiontrail watch`
/// serves it; the alert rules in `dashboards/prometheus/` use it.
pub const SENSITIVE_ACCESS_METRIC: &str = "sessiontrail_sensitive_access_total";

/// The labels of [`SENSITIVE_ACCESS_METRIC`]: the rule id, its severity, the agent
/// (`claude-code`...) and the repository (`vcs.repository.name`, empty when unknown).
pub const SENSITIVE_ACCESS_LABELS: [&str; 4] = ["rule", "severity", "agent", "repo"];
