//! gitleaks' default configuration, loaded as data (`crates/policy/gitleaks/`, MIT).
//!
//! Run as gitleaks runs a rule on a text: the rule's keywords gate it (any one of them,
//! case-insensitively, must occur), then its regex finds candidates; the secret is the
//! `secretGroup` capture, else the first non-empty capture, else the whole match; a rule's
//! entropy floor, the global allowlist and the rule's own allowlists (regexes against the
//! secret, the match or the line; stopwords against the secret) then drop false positives.
//! Allowlist criteria on file paths and commits cannot hold for a session's text: an
//! allowlist made only of them, or one that needs them (`condition = "AND"`), is never met.
//! A rule's `path` condition is likewise ignored (its regex runs on every text): a secret
//! in a PHP snippet an agent writes is still a secret.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use super::pattern::{self, Groups, Pattern};
use serde::Deserialize;

/// The gitleaks release the vendored configuration comes from.
pub const GITLEAKS_RELEASE: &str = "v8.30.1";

/// The vendored configuration, byte for byte as released.
pub const GITLEAKS_TOML: &str = include_str!("../../gitleaks/gitleaks.toml");

/// Compiles a pattern in Go's RE2 syntax (see [`pattern::compile`]); `keywords`: the
/// prefilter's words for it.
pub(crate) fn compile(pattern: &str, keywords: &[String]) -> Result<Pattern, String> {
    pattern::compile(&from_go(pattern), keywords)
}

/// Go's RE2 syntax in `regex`'s: Go reads a `{` that starts no repetition (`{\d+}`, `{{`)
/// as a literal brace, where `regex` wants it escaped.
fn from_go(p: &str) -> std::borrow::Cow<'_, str> {
    if !p.contains('{') && !p.contains('}') {
        return std::borrow::Cow::Borrowed(p);
    }
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut class = false;
    // Whether the previous item can be repeated.
    let mut atom = false;
    let mut open_reps = 0usize;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let n = p[i + 1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&p[i..i + 1 + n]);
            i += 1 + n;
            atom = true;
            continue;
        }
        if class {
            if c == b']' {
                class = false;
                atom = true;
            }
            let n = p[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&p[i..i + n]);
            i += n;
            continue;
        }
        match c {
            b'[' => {
                class = true;
                out.push('[');
                i += 1;
                // A `]` right after `[` or `[^` is a literal.
                if b.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            b'{' => {
                let rest = &p[i + 1..];
                let close = rest.find('}');
                let valid = atom
                    && close.is_some_and(|e| {
                        let inner = &rest[..e];
                        let (a, bnd) = inner.split_once(',').unwrap_or((inner, "0"));
                        !a.is_empty()
                            && a.bytes().all(|d| d.is_ascii_digit())
                            && bnd.bytes().all(|d| d.is_ascii_digit())
                    });
                if valid {
                    open_reps += 1;
                    out.push('{');
                } else {
                    out.push_str("\\{");
                    atom = true;
                }
                i += 1;
                continue;
            }
            b'}' => {
                if open_reps > 0 {
                    open_reps -= 1;
                    out.push('}');
                } else {
                    out.push_str("\\}");
                }
                atom = true;
                i += 1;
                continue;
            }
            b'(' | b'|' => atom = false,
            _ => atom = true,
        }
        let n = p[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&p[i..i + n]);
        i += n;
    }
    std::borrow::Cow::Owned(out)
}

#[derive(Deserialize)]
struct RawConfig {
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    regex: Option<String>,
    entropy: Option<f64>,
    #[serde(rename = "secretGroup")]
    secret_group: Option<usize>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize, Clone, Default)]
struct RawAllowlist {
    condition: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(rename = "regexTarget")]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

/// What an allowlist regex is tested against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Target {
    Secret,
    Match,
    Line,
}

/// A compiled allowlist.
pub(crate) struct Allowlist {
    target: Target,
    regexes: Vec<Pattern>,
    /// Lowercase stopwords, tested as substrings of the lowercased secret.
    stopwords: Option<AhoCorasick>,
}

impl Allowlist {
    /// Whether this allowlist lets the finding through as no secret.
    pub(crate) fn allows(&self, secret: &str, matched: &str, line: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        self.regexes.iter().any(|r| r.is_match(target.as_bytes()))
            || self
                .stopwords
                .as_ref()
                .is_some_and(|s| s.is_match(&secret.to_ascii_lowercase()))
    }
}

fn allowlist(raw: &RawAllowlist) -> Result<Option<Allowlist>, String> {
    let unmet = !raw.paths.is_empty() || !raw.commits.is_empty();
    if raw.condition.as_deref() == Some("AND") && unmet {
        // Every criterion must hold, and a path or commit never does here.
        return Ok(None);
    }
    if raw.regexes.is_empty() && raw.stopwords.is_empty() {
        return Ok(None);
    }
    let target = match raw.regex_target.as_deref() {
        None | Some("secret") => Target::Secret,
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        Some(other) => return Err(format!("unknown regexTarget '{other}'")),
    };
    let regexes = raw
        .regexes
        .iter()
        .map(|r| compile(r, &[]).map_err(|e| format!("allowlist regex: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let stopwords = if raw.stopwords.is_empty() {
        None
    } else {
        let lower: Vec<String> = raw.stopwords.iter().map(|s| s.to_lowercase()).collect();
        Some(AhoCorasick::new(&lower).map_err(|e| format!("stopwords: {e}"))?)
    };
    Ok(Some(Allowlist {
        target,
        regexes,
        stopwords,
    }))
}

/// One gitleaks rule, compiled on first use (most texts activate few rules).
pub(crate) struct Rule {
    pub id: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub entropy: Option<f64>,
    pub secret_group: Option<usize>,
    regex: String,
    allowlists: Vec<RawAllowlist>,
    compiled: OnceLock<Result<Compiled, String>>,
}

pub(crate) struct Compiled {
    pub regex: Pattern,
    pub allowlists: Vec<Allowlist>,
}

impl Rule {
    /// The regex and allowlists, compiled once.
    pub(crate) fn compiled(&self) -> Result<&Compiled, &str> {
        self.compiled
            .get_or_init(|| {
                let regex = compile(&self.regex, &self.keywords)?;
                let mut allowlists = Vec::new();
                for a in &self.allowlists {
                    allowlists.extend(allowlist(a)?);
                }
                Ok(Compiled { regex, allowlists })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The secret of a match, as gitleaks picks it: `(start, end)` in the text.
    pub(crate) fn secret_of(&self, g: &Groups<'_>) -> Option<(usize, usize)> {
        if g.len() >= 2 {
            if let Some(i) = self.secret_group.filter(|&i| i > 0) {
                return g.range(i);
            }
            if let Some(r) = (1..g.len()).filter_map(|i| g.range(i)).find(|(s, e)| s < e) {
                return Some(r);
            }
        }
        let (start, end) = g.range(0)?;
        // gitleaks trims newlines off a whole match.
        let s = &g.text[start..end];
        let lead = s.len() - s.trim_start_matches('\n').len();
        let trail = s.len() - s.trim_end_matches('\n').len();
        (start + lead < end - trail).then(|| (start + lead, end - trail))
    }
}

/// The configuration: its rules and its global allowlists.
pub(crate) struct Config {
    pub rules: Vec<Rule>,
    pub global: Vec<Allowlist>,
}

/// Loads the vendored configuration. Rules that only match a file's path (no regex) are
/// left out: they name no text to redact.
pub(crate) fn load() -> Config {
    parse(GITLEAKS_TOML).expect("the vendored gitleaks configuration loads (tested)")
}

pub(crate) fn parse(text: &str) -> Result<Config, String> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut global = Vec::new();
    for a in raw.allowlist.iter().chain(&raw.allowlists) {
        global.extend(allowlist(a)?);
    }
    let rules = raw
        .rules
        .into_iter()
        .filter_map(|r| {
            Some(Rule {
                regex: r.regex?,
                keywords: r.keywords.iter().map(|k| k.to_lowercase()).collect(),
                id: r.id,
                description: r.description,
                entropy: r.entropy,
                secret_group: r.secret_group,
                allowlists: r.allowlists,
                compiled: OnceLock::new(),
            })
        })
        .collect();
    Ok(Config { rules, global })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_with_a_regex_loads_and_compiles() {
        let c = load();
        let raw: toml::Value = toml::from_str(GITLEAKS_TOML).unwrap();
        let all = raw["rules"].as_array().unwrap();
        let with_regex = all.iter().filter(|r| r.get("regex").is_some()).count();
        assert_eq!(c.rules.len(), with_regex);
        assert!(c.rules.len() >= 220, "{}", c.rules.len());
        for r in &c.rules {
            r.compiled()
                .unwrap_or_else(|e| panic!("{} does not compile: {e}", r.id));
            assert!(!r.keywords.is_empty(), "{} has no keyword", r.id);
        }
        assert!(!c.global.is_empty());
    }

    #[test]
    fn go_braces_become_literals() {
        for (go, text) in [
            (r"^\$(?:\d+|{\d+})$", "${12}"),
            (r"^\{\{[ \t]*[\w ().|]+[ \t]*}}$", "{{ x }}"),
            (r"^\{\d{0,2}}$", "{1}"),
            (r"a{2,3}b", "aab"),
        ] {
            assert!(compile(go, &[]).unwrap().is_match(text.as_bytes()), "{go}");
        }
    }

    #[test]
    fn the_global_allowlist_lets_placeholders_through() {
        let c = load();
        for p in [
            "${{ secrets.NPM_TOKEN }}",
            "$API_TOKEN",
            "%API_TOKEN%",
            "true",
        ] {
            assert!(c.global.iter().any(|a| a.allows(p, p, p)), "{p}");
        }
        assert!(
            !c.global
                .iter()
                .any(|a| a.allows("x7Qp2LmZ9vB4kR8t", "", ""))
        );
    }

    #[test]
    fn the_secret_is_the_configured_group() {
        let c = load();
        let sonar = c.rules.iter().find(|r| r.id == "sonar-api-token").unwrap();
        assert_eq!(sonar.secret_group, Some(2));
        let text = format!("SONAR_TOKEN={}", "a1b2c3d4e5".repeat(4));
        let re = &sonar.compiled().unwrap().regex;
        let caps = re.captures_in(&text, 0, text.len()).unwrap();
        let (s, e) = sonar.secret_of(&caps).unwrap();
        assert_eq!(&text[s..e], "a1b2c3d4e5".repeat(4));
    }
}
