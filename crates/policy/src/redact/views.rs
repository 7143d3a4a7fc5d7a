//! Other views of one text, each mapped back to the text's own bytes: a secret written
//! JSON-escaped, URL-encoded, split by shell quotes or a line continuation is found in the
//! view where it reads plainly, and redacted where it sits in the text.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// A decoded text and where its bytes come from.
pub(crate) struct View {
    pub text: String,
    /// `(view offset, source offset)` at every place the two stop moving together; between
    /// two marks, offsets advance one for one.
    marks: Vec<(usize, usize)>,
}

impl View {
    /// The offset in the source of the view's byte `p` (`p` may be the view's length).
    pub(crate) fn to_source(&self, p: usize) -> usize {
        match self.marks.partition_point(|m| m.0 <= p) {
            0 => p,
            i => {
                let (v, s) = self.marks[i - 1];
                s + (p - v)
            }
        }
    }
}

/// Builds a view: copies runs unchanged and replaces decoded pieces, recording marks.
struct Builder<'a> {
    src: &'a str,
    out: String,
    marks: Vec<(usize, usize)>,
    /// Source bytes up to here are in `out`.
    copied: usize,
    changed: bool,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str) -> Self {
        Builder {
            src,
            out: String::new(),
            marks: Vec::new(),
            copied: 0,
            changed: false,
        }
    }

    /// Replaces `src[start..end]` by `with`.
    fn replace(&mut self, start: usize, end: usize, with: &str) {
        if self.out.capacity() == 0 {
            self.out.reserve(self.src.len());
        }
        self.out.push_str(&self.src[self.copied..start]);
        self.marks.push((self.out.len(), start));
        self.out.push_str(with);
        self.marks.push((self.out.len(), end));
        self.copied = end;
        self.changed = true;
    }

    fn finish(mut self) -> Option<View> {
        if !self.changed {
            return None;
        }
        self.out.push_str(&self.src[self.copied..]);
        Some(View {
            text: self.out,
            marks: self.marks,
        })
    }
}

/// `s` with each `(start, end, replacement)` (sorted, apart) put in place.
pub(crate) fn replaced(s: &str, parts: &[(usize, usize, String)]) -> View {
    let mut v = Builder::new(s);
    for (start, end, with) in parts {
        v.replace(*start, *end, with);
    }
    v.finish().unwrap_or(View {
        text: s.to_owned(),
        marks: Vec::new(),
    })
}

/// JSON string escapes decoded (`\"`, `\\`, `\n`, `\u00e9`...), wherever they are.
pub(crate) fn json_unescaped(s: &str) -> Option<View> {
    let b = s.as_bytes();
    let mut v = Builder::new(s);
    let mut i = memchr::memchr(b'\\', b)?;
    while i + 1 < b.len() {
        let simple = match b[i + 1] {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            _ => None,
        };
        let mut next = i + 2;
        if let Some(c) = simple {
            v.replace(i, i + 2, c.encode_utf8(&mut [0; 4]));
        } else if b[i + 1] == b'u'
            && let Some(hi) = hex4(b, i + 2)
        {
            let (c, len) = if (0xD800..0xDC00).contains(&hi)
                && b.get(i + 6) == Some(&b'\\')
                && b.get(i + 7) == Some(&b'u')
                && let Some(lo) = hex4(b, i + 8).filter(|lo| (0xDC00..0xE000).contains(lo))
            {
                (
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)),
                    12,
                )
            } else {
                (char::from_u32(hi), 6)
            };
            if let Some(c) = c {
                v.replace(i, i + len, c.encode_utf8(&mut [0; 4]));
                next = i + len;
            }
        } else {
            next = i + 1;
        }
        match memchr::memchr(b'\\', &b[next.min(b.len())..]) {
            Some(p) => i = next + p,
            None => break,
        }
    }
    v.finish()
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let h = b.get(at..at + 4)?;
    let s = std::str::from_utf8(h).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// `%XX` escapes decoded (where the result is text).
pub(crate) fn url_decoded(s: &str) -> Option<View> {
    let b = s.as_bytes();
    let mut v = Builder::new(s);
    let mut i = memchr::memchr(b'%', b)?;
    loop {
        // A run of escapes decodes together: multi-byte characters span several.
        let start = i;
        let mut bytes = Vec::new();
        while i + 2 < b.len() && b[i] == b'%' {
            match (hexval(b.get(i + 1)), hexval(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    bytes.push(h << 4 | l);
                    i += 3;
                }
                _ => break,
            }
        }
        if bytes.is_empty() {
            i += 1;
        } else if let Ok(text) = std::str::from_utf8(&bytes) {
            v.replace(start, i, text);
        } else {
            // Not text as a whole: decode the ASCII escapes only.
            let mut at = start;
            for &byte in &bytes {
                if byte.is_ascii() {
                    v.replace(at, at + 3, (byte as char).encode_utf8(&mut [0; 4]));
                }
                at += 3;
            }
        }
        match memchr::memchr(b'%', &b[i.min(b.len())..]) {
            Some(p) => i += p,
            None => break,
        }
    }
    v.finish()
}

fn hexval(c: Option<&u8>) -> Option<u8> {
    match c? {
        c @ b'0'..=b'9' => Some(c - b'0'),
        c @ b'a'..=b'f' => Some(c - b'a' + 10),
        c @ b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Line continuations (`\` then a newline) removed, and the quotes and backslashes that
/// split one shell word (`"ghp_"'abc'`, `gh\p_abc`) dropped: the words as the shell
/// passes them.
pub(crate) fn shell_joined(s: &str) -> Option<View> {
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'/' | b'=');
    let quote = |c: u8| matches!(c, b'"' | b'\'');
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    // Only where quoting joins word characters: elsewhere quotes are only punctuation,
    // and the text reads the same without this view.
    let splits = memchr::memchr3_iter(b'\\', b'"', b'\'', b).any(|i| {
        if b[i] == b'\\' {
            (at(i + 1) == b'\n' || word(at(i + 1))) && i + 2 < b.len()
                || (i > 0 && at(i + 1) == b'\n')
        } else {
            (i > 0 && word(b[i - 1]) && (word(at(i + 1)) || quote(at(i + 1))))
                || (quote(at(i + 1)) && word(at(i + 2)))
        }
    });
    if !splits {
        return None;
    }
    let mut v = Builder::new(s);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                v.replace(i, i + 2, "");
                i += 2;
            }
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => {
                v.replace(i, i + 3, "");
                i += 3;
            }
            b'\\' if b.get(i + 1).is_some_and(|&c| word(c)) => {
                v.replace(i, i + 1, "");
                i += 2;
            }
            // A run of quotes between two word characters joins them: `gh"p_"'abc'`.
            b'"' | b'\'' => {
                let mut j = i;
                while j < b.len() && matches!(b[j], b'"' | b'\'') {
                    j += 1;
                }
                if i > 0 && word(b[i - 1]) && b.get(j).is_some_and(|&c| word(c)) {
                    v.replace(i, j, "");
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    v.finish()
}

/// Decodes base64 in the standard or the URL alphabet, padded or not.
pub(crate) fn base64_decode(b: &[u8]) -> Option<Vec<u8>> {
    const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    if b.iter().any(|&c| c == b'-' || c == b'_') {
        URL.decode(b).ok()
    } else {
        STANDARD.decode(b).ok()
    }
}

/// Runs of base64 (at least 20 characters, padding included) that decode to text, with
/// that text.
pub(crate) fn base64_texts(s: &str) -> Vec<(usize, usize, String)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    // 18 characters and two of padding: the shortest run worth decoding.
    for (start, _, end) in key_runs(b, 18) {
        let run = &b[start..end];
        // Base64 of text mixes cases; a path or a word does not decode to text anyway.
        if end - start >= 20
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && (end - start) % 4 != 1
            && let Some(bytes) = base64_decode(run)
            && super::entropy::printable(&bytes)
            && let Ok(text) = String::from_utf8(bytes)
        {
            out.push((start, end, text));
        }
    }
    out
}

/// The characters keys are written in (base64 and base64url). A table: this runs over
/// every text the redactor sees.
const KEY: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let u = c as u8;
        t[c] = u.is_ascii_alphanumeric() || matches!(u, b'+' | b'/' | b'-' | b'_');
        c += 1;
    }
    t
};

/// Runs of at least `min` of the characters keys are written in (base64 and base64url),
/// each as `(start, end of its characters, end with up to two `=` of padding)`.
pub(crate) fn key_runs(b: &[u8], min: usize) -> Vec<(usize, usize, usize)> {
    let key = |i: usize| KEY[usize::from(b[i])];
    let mut out = Vec::new();
    let min = min.max(1);
    // Every run before `i` is settled, and `i` starts a text or follows a non-key byte or
    // a settled run. A run of `min` starting in `i..i + min` holds byte `i + min - 1`: where
    // that byte is no key character, none does, and the search skips ahead by `min`.
    let mut i = 0;
    while i + min <= b.len() {
        let probe = i + min - 1;
        if !key(probe) {
            i = probe + 1;
            continue;
        }
        let mut start = probe;
        while start > i && key(start - 1) {
            start -= 1;
        }
        let mut stop = probe + 1;
        while stop < b.len() && key(stop) {
            stop += 1;
        }
        let mut end = stop;
        while end < b.len() && end - stop < 2 && b[end] == b'=' {
            end += 1;
        }
        if stop - start >= min {
            out.push((start, stop, end));
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte by byte: what `key_runs` must return.
    fn key_runs_reference(b: &[u8], min: usize) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !KEY[usize::from(b[i])] {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && KEY[usize::from(b[i])] {
                i += 1;
            }
            let mut end = i;
            while end < b.len() && end - i < 2 && b[end] == b'=' {
                end += 1;
            }
            if i - start >= min {
                out.push((start, i, end));
            }
            i = end;
        }
        out
    }

    #[test]
    fn key_runs_skip_ahead_finds_every_run() {
        // Runs of every length around `min`, glued to padding and to each other.
        let pieces = [
            "a",
            "ab",
            "=",
            "==",
            "===",
            " ",
            "\\n",
            ".",
            "QUJD",
            "x/y+z-_",
            "é",
            "\n",
            "0123456789abcdefgh",
            "0123456789abcdefghi",
            "0123456789abcdefghijk",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed = next();
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            seed = next();
            for min in [0, 1, 2, 4, 18, 20] {
                assert_eq!(
                    key_runs(text.as_bytes(), min),
                    key_runs_reference(text.as_bytes(), min.max(1)),
                    "{text:?} min {min}"
                );
            }
        }
    }

    #[test]
    fn json_escapes_map_back() {
        let src = r#"{"command":"export KEY=\"s3cr3t-value\" && echo \u00e9\ud83d\ude00 done\\n"}"#;
        let v = json_unescaped(src).unwrap();
        assert!(v.text.contains(r#"KEY="s3cr3t-value""#), "{}", v.text);
        assert!(v.text.contains("é😀 done\\n"));
        let at = v.text.find("s3cr3t-value").unwrap();
        let (s, e) = (v.to_source(at), v.to_source(at + 12));
        assert_eq!(&src[s..e], "s3cr3t-value");
        let at = v.text.find("done").unwrap();
        assert_eq!(&src[v.to_source(at)..v.to_source(at + 4)], "done");
        assert!(json_unescaped("no escapes").is_none());
        // Broken escapes never panic.
        for bad in ["\\", "\\u12", "\\ud83d", "x\\q", "\\u00zz"] {
            let _ = json_unescaped(bad);
        }
    }

    #[test]
    fn url_escapes_map_back() {
        let src = "https://x.test/?token=ghp%5Fabc%2Bdef%3D&x=%E2%82%AC%ZZ";
        let v = url_decoded(src).unwrap();
        assert!(v.text.contains("token=ghp_abc+def=&x=€%ZZ"), "{}", v.text);
        let at = v.text.find("abc+def").unwrap();
        assert_eq!(&src[v.to_source(at)..v.to_source(at + 7)], "abc%2Bdef");
        let at = v.text.find("ghp_").unwrap();
        assert_eq!(&src[v.to_source(at)..v.to_source(at + 4)], "ghp%5F");
    }

    #[test]
    fn shell_words_join() {
        let src = "echo \"ghp_\"'AbC'dE\\\nfG gh\\p_x; say \"hello there\"";
        let v = shell_joined(src).unwrap();
        assert!(v.text.contains("ghp_AbCdEfG ghp_x"), "{}", v.text);
        let at = v.text.find("ghp_AbCdEfG").unwrap();
        let (s, e) = (v.to_source(at), v.to_source(at + 11));
        assert_eq!(&src[s..e], "ghp_\"'AbC'dE\\\nfG");
        assert!(shell_joined("say \"hello there\" and 'bye'").is_none());
    }

    #[test]
    fn base64_blocks_that_are_text() {
        let text = "token=abc123 and more words here";
        let b64 = base64::engine::general_purpose::STANDARD.encode(text);
        let src = format!("echo {b64} | base64 -d");
        let found = base64_texts(&src);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, text);
        assert_eq!(&src[found[0].0..found[0].1], b64);
        assert!(base64_texts("ThisIsNotBase64OfAnything_butLooksClose").is_empty());
    }
}
