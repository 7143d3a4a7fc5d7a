//! A compiled secret format, and where in a text it can match.
//!
//! Most formats can only match around one of their keywords: gitleaks' `generic-api-key`
//! must contain `key`, `token`, `secret`... and is at most a few hundred bytes long. Such a
//! format is searched only in windows around the keyword occurrences the prefilter already
//! found, not over the whole text. The property is proved from the regex itself (every match
//! contains a keyword; the longest match; whether a match can cross a line), so a window
//! search finds every match a whole-text search finds. Look-around (`\b`, `^`, `$`) still
//! sees the whole text: a window is a range of the haystack, not a slice.

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Input, Span};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Three of gitleaks' patterns (`generic-api-key`, `vault-batch-token`, `pypi-upload-token`)
/// compile to more than `regex`'s default 10 MiB program: valid RE2, only large.
const SIZE_LIMIT: usize = 64 << 20;

/// Texts shorter than this are searched whole: a window search costs a search's setup, and
/// a short text is mostly window anyway.
const WINDOWED_TEXT: usize = 2048;

/// The most strings a run of literal pieces is expanded into when proving a keyword.
const MAX_STRINGS: usize = 256;

/// A compiled format.
pub(crate) struct Pattern {
    regex: Regex,
    /// Every match contains one of the keywords it was compiled with.
    keyword_bound: bool,
    /// The longest match, in bytes, when bounded.
    max_len: Option<usize>,
    /// No match contains a newline.
    one_line: bool,
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pattern")
            .field("keyword_bound", &self.keyword_bound)
            .field("max_len", &self.max_len)
            .field("one_line", &self.one_line)
            .finish()
    }
}

/// Compiles `pattern` (already in Rust syntax) in ASCII mode, as Go's RE2 reads `\b`, `\w`,
/// `\s` and `(?i)`: it also keeps the fast engines on (a Unicode `\b` sends every search on
/// non-ASCII text to the slowest). `keywords`: the prefilter's words for it (lowercase).
pub(crate) fn compile(pattern: &str, keywords: &[String]) -> Result<Pattern, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    let regex = Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            Regex::config()
                .utf8_empty(false)
                .nfa_size_limit(Some(SIZE_LIMIT))
                .onepass_size_limit(Some(SIZE_LIMIT))
                // Building a full DFA costs more than this process searches with it: each
                // format scans a few megabytes, and the lazy DFA is almost as fast.
                .dfa(false),
        )
        .build_from_hir(&hir)
        .map_err(|e| e.to_string())?;
    let lower: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .collect();
    Ok(Pattern {
        keyword_bound: !lower.is_empty() && contains_keyword(&hir, &lower),
        max_len: hir.properties().maximum_len(),
        one_line: !may_match_newline(&hir),
        regex,
    })
}

impl Pattern {
    /// Whether it matches anywhere in `text`.
    pub(crate) fn is_match(&self, text: &[u8]) -> bool {
        self.regex.is_match(text)
    }

    /// The first match in `text[at..end]`, with its groups.
    pub(crate) fn captures_in<'t>(
        &self,
        text: &'t str,
        at: usize,
        end: usize,
    ) -> Option<Groups<'t>> {
        let input = Input::new(text.as_bytes()).range(at..end);
        let mut caps = self.regex.create_captures();
        self.regex.search_captures(&input, &mut caps);
        caps.is_match().then_some(Groups { text, caps })
    }

    /// Whether every match contains one of its keywords.
    #[cfg(test)]
    pub(crate) fn keyword_bound(&self) -> bool {
        self.keyword_bound
    }

    /// Whether a text of `len` bytes is searched in windows around its keywords.
    pub(crate) fn windowed(&self, len: usize) -> bool {
        len >= WINDOWED_TEXT && self.keyword_bound && (self.max_len.is_some() || self.one_line)
    }

    /// Where in `text` a match can be, given where its keywords occur (`(start, end)` of
    /// each occurrence, sorted by start): merged windows, or the whole text.
    pub(crate) fn windows(
        &self,
        text: &str,
        occurrences: impl Iterator<Item = (usize, usize)>,
    ) -> Vec<(usize, usize)> {
        if !self.windowed(text.len()) {
            return vec![(0, text.len())];
        }
        let bytes = text.as_bytes();
        let mut out: Vec<(usize, usize)> = Vec::new();
        // The line of the occurrence before: keywords come many to a line (a JSON text is
        // one line), and finding its ends again for each is quadratic.
        let mut line = (0, 0);
        for (ks, ke) in occurrences {
            // A match holding this occurrence starts after `ke - max` and ends before `ks + max`.
            let (mut s, mut e) = match self.max_len {
                Some(max) => (
                    ke.saturating_sub(max),
                    ks.saturating_add(max).min(text.len()),
                ),
                None => (0, text.len()),
            };
            if self.one_line {
                if !(line.0 <= ks && ke <= line.1) {
                    let ls = memchr::memrchr(b'\n', &bytes[..ks]).map_or(0, |i| i + 1);
                    let le = memchr::memchr(b'\n', &bytes[ke..]).map_or(text.len(), |i| ke + i);
                    line = (ls, le);
                }
                s = s.max(line.0);
                e = e.min(line.1);
            }
            match out.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        out
    }
}

/// The capture groups of a match, as text: a byte regex may stop inside a character,
/// so every group is widened to whole characters.
pub(crate) struct Groups<'t> {
    pub text: &'t str,
    caps: Captures,
}

impl<'t> Groups<'t> {
    /// Group `i`'s byte range, on character boundaries.
    pub(crate) fn range(&self, i: usize) -> Option<(usize, usize)> {
        self.caps
            .get_group(i)
            .map(|Span { start, end }| snap(self.text, start, end))
    }

    /// Group `i`'s text.
    pub(crate) fn get(&self, i: usize) -> Option<&'t str> {
        self.range(i).map(|(s, e)| &self.text[s..e])
    }

    /// Number of groups, the whole match included.
    pub(crate) fn len(&self) -> usize {
        self.caps.group_len()
    }
}

/// `start..end` widened to character boundaries of `text`.
pub(crate) fn snap(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    start = start.min(text.len());
    end = end.min(text.len()).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    (start, end)
}

/// Whether every match of `hir` contains one of `keywords` (ASCII case-insensitive).
/// Conservative: `false` when it cannot tell.
fn contains_keyword(hir: &Hir, keywords: &[Vec<u8>]) -> bool {
    let has = |s: &[u8]| {
        keywords
            .iter()
            .any(|k| memchr::memmem::find(s, k).is_some())
    };
    if let Some(strings) = strings(hir) {
        return !strings.is_empty() && strings.iter().all(|s| has(s));
    }
    match hir.kind() {
        HirKind::Capture(c) => contains_keyword(&c.sub, keywords),
        HirKind::Repetition(r) => r.min >= 1 && contains_keyword(&r.sub, keywords),
        HirKind::Alternation(subs) => subs.iter().all(|s| contains_keyword(s, keywords)),
        HirKind::Concat(subs) => {
            if subs.iter().any(|s| contains_keyword(s, keywords)) {
                return true;
            }
            // A keyword spread over neighbouring pieces (`(?i)key` is three classes).
            let mut run: Option<Vec<Vec<u8>>> = None;
            for s in subs {
                // Each run was checked as it grew; a piece with no strings ends it.
                run = match (strings(s), run.take()) {
                    (Some(next), Some(prev)) => product(&prev, &next),
                    (next, _) => next,
                };
                if run
                    .as_ref()
                    .is_some_and(|p| !p.is_empty() && p.iter().all(|s| has(s)))
                {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// Every string `hir` matches, lowercased, when they are few; `None` otherwise.
fn strings(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
        HirKind::Class(c) => {
            let mut out: Vec<Vec<u8>> = Vec::new();
            let mut push = |b: u8| {
                let v = vec![b.to_ascii_lowercase()];
                if !out.contains(&v) {
                    out.push(v);
                }
            };
            match c {
                Class::Bytes(b) => {
                    for r in b.ranges() {
                        if usize::from(r.end() - r.start()) >= MAX_STRINGS {
                            return None;
                        }
                        (r.start()..=r.end()).for_each(&mut push);
                    }
                }
                Class::Unicode(u) => {
                    for r in u.ranges() {
                        let (s, e) = (u32::from(r.start()), u32::from(r.end()));
                        if e > 0x7f || e - s >= MAX_STRINGS as u32 {
                            return None;
                        }
                        (s..=e).for_each(|c| push(c as u8));
                    }
                }
            }
            (out.len() <= 4).then_some(out)
        }
        HirKind::Capture(c) => strings(&c.sub),
        HirKind::Repetition(r) => {
            let max = r.max?;
            if max > 4 {
                return None;
            }
            let one = strings(&r.sub)?;
            let mut all: Vec<Vec<u8>> = Vec::new();
            let mut cur = vec![Vec::new()];
            for n in 0..=max {
                if n >= r.min {
                    all.extend(cur.iter().cloned());
                }
                cur = product(&cur, &one)?;
            }
            (all.len() <= MAX_STRINGS).then_some(all)
        }
        HirKind::Concat(subs) => {
            let mut cur = vec![Vec::new()];
            for s in subs {
                cur = product(&cur, &strings(s)?)?;
            }
            Some(cur)
        }
        HirKind::Alternation(subs) => {
            let mut all = Vec::new();
            for s in subs {
                all.extend(strings(s)?);
                if all.len() > MAX_STRINGS {
                    return None;
                }
            }
            Some(all)
        }
    }
}

fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_STRINGS {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y].concat()))
            .collect(),
    )
}

/// Whether some match of `hir` may contain a newline. Conservative: `true` when unsure.
fn may_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.contains(&b'\n'),
        HirKind::Class(Class::Bytes(b)) => b
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Class(Class::Unicode(u)) => u
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Capture(c) => may_match_newline(&c.sub),
        HirKind::Repetition(r) => r.max != Some(0) && may_match_newline(&r.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(may_match_newline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn proves_a_keyword_in_every_match() {
        let p = compile(
            r"(?i)[\w.-]{0,50}?(?:access|auth|api|key)[ \t]{0,5}=\s{0,3}([a-z0-9]{10,40})",
            &kw(&["access", "auth", "api", "key"]),
        )
        .unwrap();
        assert!(p.keyword_bound);
        assert!(p.max_len.is_some());
        assert!(!p.one_line, "\\s crosses lines");
        // A keyword spread over classes, and one inside a factored alternation.
        assert!(
            compile("(?i)pass(?:word|wd)=", &kw(&["passw"]))
                .unwrap()
                .keyword_bound
        );
        assert!(compile("(?i)(?:ab|ac)", &kw(&["a"])).unwrap().keyword_bound);
        // Not every branch has one; an optional keyword; no keywords at all.
        assert!(
            !compile("(?i)(?:key|other)=x", &kw(&["key"]))
                .unwrap()
                .keyword_bound
        );
        assert!(!compile("(?:key)?=x", &kw(&["key"])).unwrap().keyword_bound);
        assert!(!compile("key=x", &[]).unwrap().keyword_bound);
        assert!(compile(r"key=[^\n]+", &kw(&["key"])).unwrap().one_line);
    }

    #[test]
    fn windows_find_what_the_whole_text_finds() {
        let p = compile(r"\btoken=([a-z]{3,8})\b", &kw(&["token"])).unwrap();
        let text = format!(
            "x token=abcdef y\n{}\ntoken=zz token=qwerty",
            "nothing here\n".repeat(200)
        );
        let text = text.as_str();
        let occ: Vec<(usize, usize)> = text
            .match_indices("token")
            .map(|(i, m)| (i, i + m.len()))
            .collect();
        let mut whole = Vec::new();
        let mut at = 0;
        while let Some(g) = p.captures_in(text, at, text.len()) {
            whole.push(g.get(1).unwrap().to_owned());
            at = g.range(0).unwrap().1;
        }
        let mut windowed = Vec::new();
        let windows = p.windows(text, occ.iter().copied());
        assert_eq!(windows.len(), 2, "{windows:?}");
        for (s, e) in windows {
            let mut at = s;
            while let Some(g) = p.captures_in(text, at, e) {
                windowed.push(g.get(1).unwrap().to_owned());
                at = g.range(0).unwrap().1;
            }
        }
        assert_eq!(whole, ["abcdef", "qwerty"]);
        assert_eq!(windowed, whole);
        // `\b` at a window's edge sees the text beyond it.
        assert!(p.captures_in("token=abcdefghij", 0, 9).is_none());
    }
}
