//! What text a session keeps: sizes, hashes and the secrets found always; the text itself,
//! redacted or not, only at the levels that keep it.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How much of what the agent saw and wrote is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentLevel {
    /// Names, paths, sizes and hashes; no prompt, argument, command or output text.
    None,
    /// Prompts and tool arguments with every secret found replaced, capped; outputs as at
    /// `none`.
    #[default]
    Redacted,
    /// Everything, capped per attribute. The user accepts the risk.
    Full,
}

impl ContentLevel {
    /// The level's name as users type it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentLevel::None => "none",
            ContentLevel::Redacted => "redacted",
            ContentLevel::Full => "full",
        }
    }
}

/// A secret found in a text: its kind and a fingerprint, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretFinding {
    /// What kind of secret (`aws-access-token`, `private-key`...).
    pub kind: String,
    /// First 8 hex digits of the SHA-256 of the secret: two sightings can be matched.
    pub fingerprint: String,
}

/// A secret found in a text, and where: `text[start..end]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpan {
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
    /// What it is.
    pub finding: SecretFinding,
}

/// Finds secrets. The policy crate implements it; the model only carries it so that every
/// text is redacted where it is captured, before anything else sees it.
pub trait Redactor: Send + Sync + fmt::Debug {
    /// The secrets in `text`, sorted and not overlapping.
    fn scan(&self, text: &str) -> Vec<SecretSpan>;

    /// The secrets in a text that is not kept (only what was found is): where each sits
    /// need not be exact, so a redactor may look less hard for their edges.
    fn findings(&self, text: &str) -> Vec<SecretFinding> {
        self.scan(text).into_iter().map(|s| s.finding).collect()
    }
}

/// What replaces a secret: its kind and fingerprint, never its value.
pub fn redaction_marker(f: &SecretFinding) -> String {
    format!("[REDACTED:{}:{}]", f.kind, f.fingerprint)
}

/// `text` with each of `spans` replaced by its marker.
pub fn redact_with<'a>(text: &'a str, spans: &[SecretSpan]) -> std::borrow::Cow<'a, str> {
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        out.push_str(&text[at..s.start]);
        out.push_str(&redaction_marker(&s.finding));
        at = s.end;
    }
    out.push_str(&text[at..]);
    std::borrow::Cow::Owned(out)
}

/// The content level, the cap applied to every captured text, and the redactor.
#[derive(Debug, Clone)]
pub struct ContentOptions {
    /// What is kept.
    pub level: ContentLevel,
    /// Cap in bytes for each captured text (DESIGN 3: 4 KiB by default).
    pub max_attribute_bytes: usize,
    /// Finds secrets in every captured text (at every level: detection needs them).
    pub redactor: Option<Arc<dyn Redactor>>,
}

impl Default for ContentOptions {
    fn default() -> Self {
        ContentOptions {
            level: ContentLevel::default(),
            max_attribute_bytes: 4096,
            redactor: None,
        }
    }
}

impl PartialEq for ContentOptions {
    fn eq(&self, other: &Self) -> bool {
        self.level == other.level
            && self.max_attribute_bytes == other.max_attribute_bytes
            && self.redactor.is_some() == other.redactor.is_some()
    }
}

impl ContentOptions {
    /// Whether text is kept unredacted.
    pub fn full(&self) -> bool {
        self.level == ContentLevel::Full
    }

    /// The options for outputs (what tools and the model returned): their text is kept only
    /// at `full`; below, their size, hash and the secrets in them are.
    pub fn for_outputs(&self) -> ContentOptions {
        let level = if self.full() {
            ContentLevel::Full
        } else {
            ContentLevel::None
        };
        ContentOptions {
            level,
            ..self.clone()
        }
    }

    /// Whether text is kept at all.
    pub fn keeps_text(&self) -> bool {
        self.level != ContentLevel::None
    }

    /// Redacts `s` unless the level is `full` (or there is no redactor).
    pub fn scrub<'a>(&self, s: &'a str) -> std::borrow::Cow<'a, str> {
        match (&self.redactor, self.full()) {
            (Some(r), false) => redact_with(s, &r.scan(s)),
            _ => std::borrow::Cow::Borrowed(s),
        }
    }
}

/// A piece of text seen in a session: always its size, SHA-256 and the secrets found in it;
/// its capped content when the level keeps text (redacted unless the level is `full`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// Size of the whole text in bytes (UTF-8).
    pub size: u64,
    /// SHA-256 of the whole text.
    pub sha256: [u8; 32],
    /// The text, capped, when the content level allows it.
    pub content: Option<String>,
    /// Secrets found in the text.
    pub secrets: Vec<SecretFinding>,
}

impl Text {
    /// Captures `s` under `opts`.
    pub fn capture(s: &str, opts: &ContentOptions) -> Text {
        let mut b = TextBuilder::new(opts);
        b.push(s);
        b.finish()
    }

    /// Captures the concatenation of `parts` without building it when it is not kept.
    pub fn capture_parts<'a>(
        parts: impl IntoIterator<Item = &'a str>,
        opts: &ContentOptions,
    ) -> Text {
        let mut b = TextBuilder::new(opts);
        for part in parts {
            b.push(part);
        }
        b.finish()
    }

    /// Lowercase hex of the SHA-256.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Builds a [`Text`] from pieces that arrive one at a time. Each piece is scanned once:
/// the secrets found are recorded, and at `redacted` those inside the kept part are replaced
/// whole, even when one straddles the cap.
#[derive(Debug, Clone)]
pub struct TextBuilder {
    hasher: Sha256,
    size: u64,
    kept: Option<String>,
    /// Bytes of the original text the kept part stands for.
    kept_raw: u64,
    max: usize,
    level: ContentLevel,
    redactor: Option<Arc<dyn Redactor>>,
    secrets: Vec<SecretFinding>,
}

impl TextBuilder {
    /// An empty text under `opts`.
    pub fn new(opts: &ContentOptions) -> TextBuilder {
        TextBuilder {
            hasher: Sha256::new(),
            size: 0,
            kept: opts.keeps_text().then(String::new),
            kept_raw: 0,
            max: opts.max_attribute_bytes,
            level: opts.level,
            redactor: opts.redactor.clone(),
            secrets: Vec::new(),
        }
    }

    /// Appends `part`.
    pub fn push(&mut self, part: &str) {
        self.hasher.update(part.as_bytes());
        self.size += part.len() as u64;
        let Some(k) = self.kept.as_mut() else {
            if let Some(r) = &self.redactor {
                self.secrets.extend(r.findings(part));
            }
            return;
        };
        let spans = self
            .redactor
            .as_ref()
            .map(|r| r.scan(part))
            .unwrap_or_default();
        {
            let mut at = 0;
            if self.level == ContentLevel::Redacted {
                for s in &spans {
                    if k.len() >= self.max {
                        break;
                    }
                    let room = self.max - k.len();
                    let plain = &part[at..s.start];
                    if plain.len() > room {
                        break;
                    }
                    k.push_str(plain);
                    k.push_str(&redaction_marker(&s.finding));
                    at = s.end;
                }
            }
            if k.len() < self.max {
                let rest = &part[at..];
                let take = floor_char_boundary(rest, self.max - k.len());
                k.push_str(&rest[..take]);
                at += take;
            }
            self.kept_raw += at as u64;
        }
        self.secrets.extend(spans.into_iter().map(|s| s.finding));
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The text.
    pub fn finish(self) -> Text {
        let size = self.size;
        let content = self.kept.map(|k| {
            let cut = size.saturating_sub(self.kept_raw);
            if cut > 0 {
                format!("{k}...[truncated {cut} bytes]")
            } else {
                k
            }
        });
        Text {
            size,
            sha256: self.hasher.finalize().into(),
            content,
            secrets: self.secrets,
        }
    }
}

/// Caps `s` at `max` bytes on a character boundary, saying how much was cut.
pub fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let end = floor_char_boundary(s, max);
    format!("{}...[truncated {} bytes]", &s[..end], s.len() - end)
}

/// The largest char boundary of `s` at or below `max`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(level: ContentLevel, max: usize) -> ContentOptions {
        ContentOptions {
            level,
            max_attribute_bytes: max,
            redactor: Some(Arc::new(Upper)),
        }
    }

    /// Treats every run of `SECRET` as a secret.
    #[derive(Debug)]
    struct Upper;

    impl Redactor for Upper {
        fn scan(&self, text: &str) -> Vec<SecretSpan> {
            text.match_indices("SECRET")
                .map(|(i, m)| SecretSpan {
                    start: i,
                    end: i + m.len(),
                    finding: SecretFinding {
                        kind: "t".into(),
                        fingerprint: "0".into(),
                    },
                })
                .collect()
        }
    }

    #[test]
    fn none_keeps_size_hash_and_findings_only() {
        let t = Text::capture("hello SECRET", &opts(ContentLevel::None, 100));
        assert_eq!(t.size, 12);
        assert_eq!(t.content, None);
        assert_eq!(t.secrets.len(), 1);
        let t = Text::capture(
            "hello",
            &ContentOptions {
                level: ContentLevel::None,
                ..Default::default()
            },
        );
        assert_eq!(
            t.sha256_hex(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn redacted_replaces_and_full_does_not() {
        assert_eq!(
            Text::capture("a SECRET b", &opts(ContentLevel::Redacted, 100))
                .content
                .as_deref(),
            Some("a [REDACTED:t:0] b")
        );
        assert_eq!(
            Text::capture("a SECRET b", &opts(ContentLevel::Full, 100))
                .content
                .as_deref(),
            Some("a SECRET b")
        );
    }

    #[test]
    fn a_secret_cut_by_the_cap_is_still_redacted() {
        let t = Text::capture("abcdSECRETxyz", &opts(ContentLevel::Redacted, 6));
        assert_eq!(
            t.content.as_deref(),
            Some("abcd[REDACTED:t:0]...[truncated 3 bytes]")
        );
        assert!(!t.content.unwrap().contains("SECRET"));
    }

    #[test]
    fn full_caps_on_char_boundary_and_says_so() {
        let t = Text::capture("héllo wörld", &opts(ContentLevel::Full, 2));
        assert_eq!(t.content.as_deref(), Some("h...[truncated 12 bytes]"));
        assert_eq!(
            Text::capture("ok", &opts(ContentLevel::Full, 10))
                .content
                .as_deref(),
            Some("ok")
        );
    }

    #[test]
    fn parts_hash_like_the_whole() {
        let o = opts(ContentLevel::Full, 100);
        let whole = Text::capture("abcdef", &o);
        let parts = Text::capture_parts(["abc", "def"], &o);
        assert_eq!(whole, parts);
        let capped = Text::capture_parts(["abc", "def", "ghi"], &opts(ContentLevel::Full, 4));
        assert_eq!(
            capped.content.as_deref(),
            Some("abcd...[truncated 5 bytes]")
        );
        assert_eq!(capped.sha256, Text::capture("abcdefghi", &o).sha256);
    }
}
