//! What text a session keeps: sizes and hashes always, the text itself only when asked.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How much of what the agent saw and wrote is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentLevel {
    /// Names, paths, sizes and hashes; no prompt, argument, command or output text.
    #[default]
    None,
    /// Everything, capped per attribute. The user accepts the risk.
    Full,
}

impl ContentLevel {
    /// The level's name as users type it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentLevel::None => "none",
            ContentLevel::Full => "full",
        }
    }
}

/// The content level and the cap applied to every captured text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentOptions {
    /// What is kept.
    pub level: ContentLevel,
    /// Cap in bytes for each captured text (DESIGN 3: 4 KiB by default).
    pub max_attribute_bytes: usize,
}

impl Default for ContentOptions {
    fn default() -> Self {
        ContentOptions {
            level: ContentLevel::None,
            max_attribute_bytes: 4096,
        }
    }
}

impl ContentOptions {
    /// Whether text is kept at all.
    pub fn full(&self) -> bool {
        self.level == ContentLevel::Full
    }
}

/// A piece of text seen in a session: always its size and SHA-256, its (capped) content only
/// at [`ContentLevel::Full`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// Size of the whole text in bytes (UTF-8).
    pub size: u64,
    /// SHA-256 of the whole text.
    pub sha256: [u8; 32],
    /// The text, capped, when the content level allows it.
    pub content: Option<String>,
}

impl Text {
    /// Captures `s` under `opts`.
    pub fn capture(s: &str, opts: &ContentOptions) -> Text {
        Text {
            size: s.len() as u64,
            sha256: Sha256::digest(s.as_bytes()).into(),
            content: opts.full().then(|| cap(s, opts.max_attribute_bytes)),
        }
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

/// Builds a [`Text`] from pieces that arrive one at a time.
#[derive(Debug, Clone)]
pub struct TextBuilder {
    hasher: Sha256,
    size: u64,
    kept: Option<String>,
    max: usize,
}

impl TextBuilder {
    /// An empty text under `opts`.
    pub fn new(opts: &ContentOptions) -> TextBuilder {
        TextBuilder {
            hasher: Sha256::new(),
            size: 0,
            kept: opts.full().then(String::new),
            max: opts.max_attribute_bytes,
        }
    }

    /// Appends `part`.
    pub fn push(&mut self, part: &str) {
        self.hasher.update(part.as_bytes());
        self.size += part.len() as u64;
        if let Some(k) = self.kept.as_mut() {
            let room = self.max.saturating_sub(k.len());
            k.push_str(&part[..floor_char_boundary(part, room)]);
        }
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The text.
    pub fn finish(self) -> Text {
        let size = self.size;
        let content = self.kept.map(|k| {
            let cut = size - k.len() as u64;
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

    fn full(max: usize) -> ContentOptions {
        ContentOptions {
            level: ContentLevel::Full,
            max_attribute_bytes: max,
        }
    }

    #[test]
    fn none_keeps_only_size_and_hash() {
        let t = Text::capture("hello", &ContentOptions::default());
        assert_eq!(t.size, 5);
        assert_eq!(
            t.sha256_hex(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(t.content, None);
    }

    #[test]
    fn full_caps_on_char_boundary_and_says_so() {
        let t = Text::capture("héllo wörld", &full(2));
        assert_eq!(t.content.as_deref(), Some("h...[truncated 12 bytes]"));
        assert_eq!(
            Text::capture("ok", &full(10)).content.as_deref(),
            Some("ok")
        );
    }

    #[test]
    fn parts_hash_like_the_whole() {
        let whole = Text::capture("abcdef", &full(100));
        let parts = Text::capture_parts(["abc", "def"], &full(100));
        assert_eq!(whole, parts);
        let capped = Text::capture_parts(["abc", "def", "ghi"], &full(4));
        assert_eq!(
            capped.content.as_deref(),
            Some("abcd...[truncated 5 bytes]")
        );
        assert_eq!(capped.sha256, Text::capture("abcdefghi", &full(4)).sha256);
    }
}
