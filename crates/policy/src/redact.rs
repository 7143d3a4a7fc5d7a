//! Secret redaction: known token formats, secrets in URLs and assignments, and high-entropy
//! strings become `[REDACTED:<kind>:<first 8 hex of sha256>]`.
//!
//! The token formats follow the rules gitleaks publishes and maintains (its default
//! `gitleaks.toml`); each kind keeps the gitleaks rule id it corresponds to, so a finding can
//! be looked up there. As in gitleaks, every format has keywords: a text is searched for all
//! keywords at once (Aho-Corasick) and only the formats whose keywords occur run their
//! regex, which keeps redaction cheap on the bulk of text that holds no secret.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use sessiontrail_model::{SecretFinding, SecretSpan};
use sha2::{Digest, Sha256};

/// One secret format.
struct Format {
    kind: &'static str,
    regex: &'static str,
    /// Capture group holding the secret (0: the whole match).
    group: usize,
    /// Lowercase substrings one of which must occur for the regex to run; empty: always.
    keywords: &'static [&'static str],
    /// Checks on the secret beyond the regex.
    check: Check,
}

#[derive(Clone, Copy, PartialEq)]
enum Check {
    None,
    /// A value assigned to a secret-looking name: not a placeholder, and either letters and
    /// digits or high entropy.
    Assigned,
    /// A high-entropy token: mixed case and digits, entropy of at least this many bits per
    /// character.
    Entropy(f64),
}

/// The formats, most specific first: where matches overlap, the earlier format wins.
const FORMATS: &[Format] = &[
    Format {
        kind: "private-key",
        regex: r"(?s)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|\z)",
        group: 0,
        keywords: &["private key"],
        check: Check::None,
    },
    Format {
        kind: "aws-access-token",
        regex: r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        group: 0,
        keywords: &["akia", "asia", "abia", "acca", "a3t"],
        check: Check::None,
    },
    Format {
        kind: "github-pat",
        regex: r"\bghp_[0-9A-Za-z]{36}\b",
        group: 0,
        keywords: &["ghp_"],
        check: Check::None,
    },
    Format {
        kind: "github-oauth",
        regex: r"\bgho_[0-9A-Za-z]{36}\b",
        group: 0,
        keywords: &["gho_"],
        check: Check::None,
    },
    Format {
        kind: "github-app-token",
        regex: r"\b(?:ghu|ghs)_[0-9A-Za-z]{36}\b",
        group: 0,
        keywords: &["ghu_", "ghs_"],
        check: Check::None,
    },
    Format {
        kind: "github-refresh-token",
        regex: r"\bghr_[0-9A-Za-z]{36}\b",
        group: 0,
        keywords: &["ghr_"],
        check: Check::None,
    },
    Format {
        kind: "github-fine-grained-pat",
        regex: r"\bgithub_pat_[0-9A-Za-z_]{82}\b",
        group: 0,
        keywords: &["github_pat_"],
        check: Check::None,
    },
    Format {
        kind: "gitlab-pat",
        regex: r"\bglpat-[0-9A-Za-z_-]{20,}",
        group: 0,
        keywords: &["glpat-"],
        check: Check::None,
    },
    Format {
        kind: "slack-bot-token",
        regex: r"\bxoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]*",
        group: 0,
        keywords: &["xoxb-"],
        check: Check::None,
    },
    Format {
        kind: "slack-user-token",
        regex: r"\bxox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34}",
        group: 0,
        keywords: &["xoxp-", "xoxe-"],
        check: Check::None,
    },
    Format {
        kind: "slack-webhook-url",
        regex: r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
        group: 0,
        keywords: &["hooks.slack.com"],
        check: Check::None,
    },
    Format {
        kind: "stripe-access-token",
        regex: r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b",
        group: 0,
        keywords: &[
            "sk_test_", "sk_live_", "sk_prod_", "rk_test_", "rk_live_", "rk_prod_",
        ],
        check: Check::None,
    },
    Format {
        kind: "anthropic-api-key",
        regex: r"\bsk-ant-(?:api|admin|oat|sid)[0-9]{2}-[A-Za-z0-9_-]{20,}",
        group: 0,
        keywords: &["sk-ant-"],
        check: Check::None,
    },
    Format {
        kind: "openai-api-key",
        regex: r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b",
        group: 0,
        keywords: &["sk-proj-", "sk-svcacct-", "sk-admin-", "t3blbkfj"],
        check: Check::None,
    },
    Format {
        kind: "gcp-api-key",
        regex: r"\bAIza[0-9A-Za-z_-]{35}",
        group: 0,
        keywords: &["aiza"],
        check: Check::None,
    },
    Format {
        kind: "google-oauth-client-secret",
        regex: r"\bGOCSPX-[A-Za-z0-9_-]{28}",
        group: 0,
        keywords: &["gocspx-"],
        check: Check::None,
    },
    Format {
        kind: "azure-ad-client-secret",
        regex: r#"(?:^|[\\'"`\s>=:(,)])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:$|[\\'"`\s<),])"#,
        group: 1,
        keywords: &["q~"],
        check: Check::None,
    },
    Format {
        kind: "npm-access-token",
        regex: r"(?i)\bnpm_[a-z0-9]{36}\b",
        group: 0,
        keywords: &["npm_"],
        check: Check::None,
    },
    Format {
        kind: "pypi-upload-token",
        regex: r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}",
        group: 0,
        keywords: &["pypi-ageichlwas5vcmc"],
        check: Check::None,
    },
    Format {
        kind: "sendgrid-api-token",
        regex: r"\bSG\.[A-Za-z0-9=_.-]{66}\b",
        group: 0,
        keywords: &["sg."],
        check: Check::None,
    },
    Format {
        kind: "huggingface-access-token",
        regex: r"\bhf_[A-Za-z]{34}\b",
        group: 0,
        keywords: &["hf_"],
        check: Check::None,
    },
    Format {
        kind: "digitalocean-pat",
        regex: r"\bdo[por]_v1_[a-f0-9]{64}\b",
        group: 0,
        keywords: &["dop_v1_", "doo_v1_", "dor_v1_"],
        check: Check::None,
    },
    Format {
        kind: "hashicorp-vault-token",
        regex: r"\bhv[sb]\.[A-Za-z0-9_-]{90,120}",
        group: 0,
        keywords: &["hvs.", "hvb."],
        check: Check::None,
    },
    Format {
        kind: "databricks-api-token",
        regex: r"\bdapi[a-f0-9]{32}(?:-\d)?\b",
        group: 0,
        keywords: &["dapi"],
        check: Check::None,
    },
    Format {
        kind: "shopify-access-token",
        regex: r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        group: 0,
        keywords: &["shpat_", "shpca_", "shppa_", "shpss_"],
        check: Check::None,
    },
    Format {
        kind: "linear-api-key",
        regex: r"\blin_api_[A-Za-z0-9]{40}\b",
        group: 0,
        keywords: &["lin_api_"],
        check: Check::None,
    },
    Format {
        kind: "doppler-api-token",
        regex: r"\bdp\.pt\.[A-Za-z0-9]{43}\b",
        group: 0,
        keywords: &["dp.pt."],
        check: Check::None,
    },
    Format {
        kind: "grafana-service-account-token",
        regex: r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b",
        group: 0,
        keywords: &["glsa_"],
        check: Check::None,
    },
    Format {
        kind: "1password-service-account-token",
        regex: r"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}",
        group: 0,
        keywords: &["ops_eyj"],
        check: Check::None,
    },
    Format {
        kind: "age-secret-key",
        regex: r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        group: 0,
        keywords: &["age-secret-key-1"],
        check: Check::None,
    },
    Format {
        kind: "postman-api-token",
        regex: r"\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}\b",
        group: 0,
        keywords: &["pmak-"],
        check: Check::None,
    },
    Format {
        kind: "jwt",
        regex: r"\beyJ[A-Za-z0-9_-]{15,}\.eyJ[A-Za-z0-9_-]{15,}\.[A-Za-z0-9_-]{10,}={0,2}",
        group: 0,
        keywords: &["eyj"],
        check: Check::None,
    },
    // Passwords in connection strings and URLs (`postgres://user:pass@host`).
    Format {
        kind: "password-in-url",
        regex: r#"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:@/'"`<>]{1,128}:([^\s@/'"`<>]{1,256})@"#,
        group: 1,
        keywords: &["://"],
        check: Check::None,
    },
    // `Authorization: Bearer ...` and `Basic ...` headers.
    Format {
        kind: "authorization-header",
        regex: r#"(?i)\bauthorization["']?\s*[:=]\s*["']?(?:bearer|basic|token)\s+([A-Za-z0-9._~+/=-]{8,})"#,
        group: 1,
        keywords: &["authorization"],
        check: Check::None,
    },
    // `NAME=value` / `"name": "value"` with a secret-looking name.
    Format {
        kind: "secret-assignment",
        regex: r#"(?i)\b[A-Za-z0-9_.-]*(?:secret|token|passwd|password|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth[_-]?key|session[_-]?key)[A-Za-z0-9_.-]*["']?\s*(?:=|:|=>)\s*["']?([A-Za-z0-9_\-+/=.~!@#$%^*]{8,})"#,
        group: 1,
        keywords: &[
            "secret",
            "token",
            "passwd",
            "password",
            "pwd",
            "api_key",
            "api-key",
            "apikey",
            "access_key",
            "access-key",
            "accesskey",
            "private_key",
            "private-key",
            "credential",
            "auth_key",
            "auth-key",
            "session_key",
            "session-key",
        ],
        check: Check::Assigned,
    },
    // Anything else that looks random enough to be a key.
    Format {
        kind: "high-entropy",
        regex: r"[A-Za-z0-9+/_-]{32,}={0,2}",
        group: 0,
        keywords: &[],
        check: Check::Entropy(4.3),
    },
];

/// The redactor of the built-in formats.
pub struct SecretRedactor {
    formats: Vec<(Regex, &'static Format)>,
    keywords: AhoCorasick,
    /// Keyword index -> format index.
    keyword_format: Vec<usize>,
    always: Vec<usize>,
}

impl std::fmt::Debug for SecretRedactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretRedactor({} formats)", self.formats.len())
    }
}

impl Default for SecretRedactor {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretRedactor {
    /// Compiles the built-in formats.
    pub fn new() -> SecretRedactor {
        let mut keywords = Vec::new();
        let mut keyword_format = Vec::new();
        let mut always = Vec::new();
        let formats = FORMATS
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if f.keywords.is_empty() {
                    always.push(i);
                }
                for k in f.keywords {
                    keywords.push(*k);
                    keyword_format.push(i);
                }
                (
                    Regex::new(f.regex).expect("built-in secret formats compile (tested)"),
                    f,
                )
            })
            .collect();
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&keywords)
            .expect("keywords build (tested)");
        SecretRedactor {
            formats,
            keywords,
            keyword_format,
            always,
        }
    }

    /// The kinds of secret this redactor knows.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.formats.iter().map(|(_, f)| f.kind)
    }

    /// Secrets in `text`: (start, end, kind), sorted and not overlapping.
    pub fn find(&self, text: &str) -> Vec<(usize, usize, &'static str)> {
        let mut active = vec![false; self.formats.len()];
        for i in &self.always {
            active[*i] = true;
        }
        // Non-overlapping: no keyword of one format hides inside another's.
        for m in self.keywords.find_iter(text) {
            active[self.keyword_format[m.pattern().as_usize()]] = true;
        }
        let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
        // Earlier (more specific) formats win overlaps.
        let add = |start: usize,
                   end: usize,
                   f: &'static Format,
                   found: &mut Vec<(usize, usize, &'static str)>| {
            if start < end
                && passes(f.check, &text[start..end])
                && !found.iter().any(|&(s, e, _)| start < e && s < end)
            {
                found.push((start, end, f.kind));
            }
        };
        for (i, (re, f)) in self.formats.iter().enumerate() {
            if !active[i] {
                continue;
            }
            if let Check::Entropy(_) = f.check {
                // A byte loop finds the candidate runs far faster than a counted regex.
                for (start, end) in token_runs(text.as_bytes(), 32) {
                    add(start, end, f, &mut found);
                }
            } else if f.group == 0 {
                for m in re.find_iter(text) {
                    add(m.start(), m.end(), f, &mut found);
                }
            } else {
                for caps in re.captures_iter(text) {
                    if let Some(m) = caps.get(f.group) {
                        add(m.start(), m.end(), f, &mut found);
                    }
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// Replaces every secret in `text`.
    pub fn redact_str<'a>(&self, text: &'a str) -> (Cow<'a, str>, Vec<SecretFinding>) {
        let spans = self.find(text);
        if spans.is_empty() {
            return (Cow::Borrowed(text), Vec::new());
        }
        let mut out = String::with_capacity(text.len());
        let mut findings = Vec::with_capacity(spans.len());
        let mut at = 0;
        for (s, e, kind) in spans {
            out.push_str(&text[at..s]);
            let fingerprint = fingerprint(&text[s..e]);
            out.push_str(&format!("[REDACTED:{kind}:{fingerprint}]"));
            findings.push(SecretFinding {
                kind: kind.to_owned(),
                fingerprint,
            });
            at = e;
        }
        out.push_str(&text[at..]);
        (Cow::Owned(out), findings)
    }
}

impl sessiontrail_model::Redactor for SecretRedactor {
    fn scan(&self, text: &str) -> Vec<SecretSpan> {
        self.find(text)
            .into_iter()
            .map(|(start, end, kind)| SecretSpan {
                start,
                end,
                finding: SecretFinding {
                    kind: kind.to_owned(),
                    fingerprint: fingerprint(&text[start..end]),
                },
            })
            .collect()
    }
}

/// Runs of at least `min` key-like bytes (`[A-Za-z0-9+/_-]`, then up to two `=`).
fn token_runs(b: &[u8], min: usize) -> Vec<(usize, usize)> {
    let key = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'_' | b'-');
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !key(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && key(b[i]) {
            i += 1;
        }
        if i - start >= min {
            let mut end = i;
            while end < b.len() && end - i < 2 && b[end] == b'=' {
                end += 1;
            }
            out.push((start, end));
        }
    }
    out
}

/// First 8 hex digits of the SHA-256 of a secret.
pub fn fingerprint(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn passes(check: Check, value: &str) -> bool {
    match check {
        Check::None => true,
        Check::Assigned => {
            let v = value.trim_end_matches(['.', ',', ';']);
            let lower = v.to_ascii_lowercase();
            let placeholder = [
                "xxxx",
                "****",
                "example",
                "changeme",
                "placeholder",
                "your_",
                "your-",
                "redacted",
                "dummy",
                "<",
                "${",
                "{{",
                "%s",
            ]
            .iter()
            .any(|p| lower.contains(p));
            let has_digit = v.bytes().any(|b| b.is_ascii_digit());
            let has_alpha = v.bytes().any(|b| b.is_ascii_alphabetic());
            // `token = request.headers.get(...)` names a value; it is not one.
            let identifier = v
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.' || b == b'-');
            v.len() >= 8
                && !placeholder
                && ((has_digit && has_alpha) || (!identifier && entropy(v) >= 3.5))
        }
        Check::Entropy(min) => {
            let upper = value.bytes().any(|b| b.is_ascii_uppercase());
            let lower = value.bytes().any(|b| b.is_ascii_lowercase());
            let digit = value.bytes().any(|b| b.is_ascii_digit());
            upper && lower && digit && !wordy(value) && entropy(value) >= min
        }
    }
}

/// Whether a token reads like words (paths, slugs, identifiers) rather than random
/// characters: random base64 rarely holds long lowercase runs.
fn wordy(value: &str) -> bool {
    let mut runs = 0;
    let mut longest = 0;
    let mut current = 0;
    for b in value.bytes().chain(std::iter::once(b' ')) {
        if b.is_ascii_lowercase() {
            current += 1;
        } else {
            if current >= 5 {
                runs += 1;
            }
            longest = longest.max(current);
            current = 0;
        }
    }
    runs >= 2 || longest >= 8
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<&'static str> {
        SecretRedactor::new()
            .find(text)
            .into_iter()
            .map(|(_, _, k)| k)
            .collect()
    }

    #[test]
    fn every_format_compiles_and_has_lowercase_keywords() {
        let r = SecretRedactor::new();
        assert_eq!(r.kinds().count(), FORMATS.len());
        for f in FORMATS {
            for k in f.keywords {
                assert_eq!(*k, k.to_ascii_lowercase(), "{}", f.kind);
            }
        }
    }

    #[test]
    fn replaces_with_kind_and_fingerprint() {
        let r = SecretRedactor::new();
        let (out, f) = r.redact_str("key AKIAZ2FQ7RBXPLM4VW3N here");
        assert_eq!(
            out,
            format!(
                "key [REDACTED:aws-access-token:{}] here",
                fingerprint("AKIAZ2FQ7RBXPLM4VW3N")
            )
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].fingerprint.len(), 8);
        let (same, none) = r.redact_str("nothing to see");
        assert!(matches!(same, Cow::Borrowed(_)) && none.is_empty());
    }

    #[test]
    fn assignments_keep_the_name_and_drop_the_value() {
        let r = SecretRedactor::new();
        let (out, _) = r.redact_str("DB_PASSWORD=hunter2Sunday9 next");
        assert!(
            out.starts_with("DB_PASSWORD=[REDACTED:secret-assignment:"),
            "{out}"
        );
        assert!(out.ends_with(" next"));
        assert_eq!(
            kinds(r#""api_key": "9f8e7d6c5b4a39281706""#),
            ["secret-assignment"]
        );
    }

    #[test]
    fn look_alikes_are_left_alone() {
        for benign in [
            "token = request.headers.get(\"x\")",
            "password: str",
            "PASSWORD=changeme-example",
            "commit 64f1b9a2c7e0d51f3a8b9c0d1e2f3a4b5c6d7e8f",
            "sha256 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "id 7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "ThisIsAVeryLongCamelCaseIdentifierNameWithoutDigits",
            "see https://example.com/docs/page",
            "/home/ana/proj/src/some_long_module_name_here/file.rs",
            "/tmp/claude-1000/-home-USER-projects-spotter-worktrees-spotter-dov/tasks/b7636e2.output",
            "Sdk2ClientFactoryProviderImplementation4Tests",
        ] {
            assert!(kinds(benign).is_empty(), "{benign}: {:?}", kinds(benign));
        }
    }

    #[test]
    fn urls_lose_their_password_only() {
        let r = SecretRedactor::new();
        let (out, _) = r.redact_str("postgres://app:s3cr3t-pass@db.internal:5432/prod");
        assert!(
            out.starts_with("postgres://app:[REDACTED:password-in-url:")
                && out.ends_with("@db.internal:5432/prod"),
            "{out}"
        );
    }

    #[test]
    fn a_private_key_cut_before_its_end_is_still_redacted() {
        let r = SecretRedactor::new();
        let (out, _) = r.redact_str(
            "x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        );
        assert!(
            out.starts_with("x [REDACTED:private-key:") && !out.contains("b3Bl"),
            "{out}"
        );
    }

    #[test]
    fn entropy_is_bits_per_character() {
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
