//! The high-entropy fallback: a token no format names, judged random or not.
//!
//! A token is judged against random strings of its own charset and length: its Shannon
//! entropy must reach what all but one in a hundred thousand random strings of that charset
//! and length reach ([`THRESHOLDS`], measured by simulation and checked again by the
//! tests), and it must not read like words (English letter pairs far above chance), run in
//! sequence (an alphabet table), or be base64 of readable text (judged by what it decodes
//! to instead). Hex strings of a digest's length are digests; other hex is judged like any
//! token.

/// The charsets a token is judged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// `0-9a-f`, or `0-9A-F`.
    Hex,
    /// RFC 4648 base32: `A-Z2-7`.
    Base32,
    /// One letter case, digits (and `-`, `_`).
    OneCase,
    /// Both letter cases and digits (and `-`, `_`).
    Alnum,
    /// Base64 (`+`, `/`).
    Base64,
}

/// Lengths the thresholds were measured at.
const LENGTHS: [usize; 16] = [
    16, 20, 24, 28, 32, 40, 48, 64, 80, 100, 128, 160, 200, 256, 400, 1000,
];

/// Entropy (bits per character) that all but one in a hundred thousand uniformly random
/// strings of each charset reach, at each of [`LENGTHS`] (3,000,000 samples per cell up
/// to 100 characters, 600,000 to 256, 150,000 above; re-checked by
/// `thresholds_hold_for_random_strings`). A looser quantile (one in five thousand) let a
/// bare key through in one session of three.
const THRESHOLDS: [(Charset, [f64; 16]); 5] = [
    (
        Charset::Hex,
        [
            2.07, 2.38, 2.59, 2.75, 2.86, 3.08, 3.21, 3.41, 3.53, 3.61, 3.70, 3.76, 3.81, 3.85,
            3.91, 3.96,
        ],
    ),
    (
        Charset::Base32,
        [
            2.55, 2.84, 3.09, 3.29, 3.44, 3.69, 3.86, 4.10, 4.27, 4.40, 4.55, 4.63, 4.71, 4.77,
            4.86, 4.94,
        ],
    ),
    (
        Charset::OneCase,
        [
            2.60, 2.92, 3.18, 3.36, 3.53, 3.77, 3.96, 4.21, 4.38, 4.53, 4.65, 4.77, 4.85, 4.92,
            5.01, 5.10,
        ],
    ),
    (
        Charset::Alnum,
        [
            2.82, 3.22, 3.45, 3.68, 3.86, 4.14, 4.34, 4.64, 4.85, 5.04, 5.23, 5.36, 5.48, 5.59,
            5.71, 5.85,
        ],
    ),
    (
        Charset::Base64,
        [
            2.89, 3.22, 3.48, 3.69, 3.88, 4.15, 4.36, 4.68, 4.89, 5.08, 5.26, 5.40, 5.53, 5.63,
            5.75, 5.91,
        ],
    ),
];

/// The entropy floor of a password with symbols ([`THRESHOLDS`]' base64 row at one in
/// five thousand): its alphabet is larger than base64's, so a random one is far above
/// it, and code with symbols (`%FT%H:%M:%S%.6f%z`) sits just under it.
const SYMBOL_FLOOR: [f64; 16] = [
    3.07, 3.42, 3.65, 3.86, 4.05, 4.29, 4.5, 4.79, 4.97, 5.15, 5.31, 5.48, 5.57, 5.67, 5.78, 5.91,
];

/// Hex lengths of common digests (MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512).
const DIGEST_HEX_LENGTHS: [usize; 6] = [32, 40, 56, 64, 96, 128];

/// The entropy a random string of `charset` and length `n` reaches but for 0.02%:
/// interpolated between measured lengths.
pub(crate) fn threshold(charset: Charset, n: usize) -> f64 {
    let row = &THRESHOLDS
        .iter()
        .find(|(c, _)| *c == charset)
        .expect("every charset has a row")
        .1;
    interpolate(row, n)
}

/// The entropy floor of a password with symbols, `n` characters long.
pub(crate) fn symbol_floor(n: usize) -> f64 {
    interpolate(&SYMBOL_FLOOR, n)
}

/// `row` (a value at each of [`LENGTHS`]) at length `n`.
fn interpolate(row: &[f64; 16], n: usize) -> f64 {
    if n <= LENGTHS[0] {
        return row[0];
    }
    for i in 1..LENGTHS.len() {
        if n <= LENGTHS[i] {
            let (a, b) = (LENGTHS[i - 1] as f64, LENGTHS[i] as f64);
            let t = (n as f64 - a) / (b - a);
            return row[i - 1] + t * (row[i] - row[i - 1]);
        }
    }
    row[LENGTHS.len() - 1]
}

/// The charset of a token, or `None` when it is not one a key is written in.
pub(crate) fn charset(tok: &[u8]) -> Option<Charset> {
    let mut upper = false;
    let mut lower = false;
    let mut digit = false;
    let mut b64 = false;
    let mut url = false;
    let mut hex_lower = true;
    let mut hex_upper = true;
    let mut b32 = true;
    for &c in tok {
        match c {
            b'A'..=b'Z' => {
                upper = true;
                hex_lower = false;
                hex_upper &= c <= b'F';
            }
            b'a'..=b'z' => {
                lower = true;
                hex_upper = false;
                hex_lower &= c <= b'f';
                b32 = false;
            }
            b'0'..=b'9' => {
                digit = true;
                b32 &= (b'2'..=b'7').contains(&c);
            }
            b'+' | b'/' => {
                b64 = true;
                b32 = false;
                hex_lower = false;
                hex_upper = false;
            }
            b'-' | b'_' => {
                url = true;
                b32 = false;
                hex_lower = false;
                hex_upper = false;
            }
            _ => return None,
        }
    }
    let letters = upper || lower;
    if !letters {
        return None;
    }
    Some(if (hex_lower || hex_upper) && digit {
        Charset::Hex
    } else if b32 && upper && digit {
        Charset::Base32
    } else if b64 && !url {
        Charset::Base64
    } else if upper && lower {
        Charset::Alnum
    } else {
        Charset::OneCase
    })
}

/// Whether `tok` (no padding) reads as a random key rather than text.
pub(crate) fn is_random(tok: &str) -> bool {
    is_random_as(tok, true)
}

/// [`is_random`] for a token padded as base64 is (`=`): judged in base64's charset even
/// when it has no `+`, `/` or digit.
pub(crate) fn is_random_base64(tok: &str) -> bool {
    let b = tok.as_bytes();
    b.len() >= 20
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'))
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && entropy(tok) >= threshold(Charset::Base64, b.len())
        && !sequential(b)
        && !wordy(b)
        && !decodes_to_text(tok)
}

/// [`is_random`]; `standalone`: the token is not part of a prefixed one, so hex of a
/// digest's length is a digest (after a prefix, `sbp_<40 hex>`, it is a key).
pub(crate) fn is_random_as(tok: &str, standalone: bool) -> bool {
    let b = tok.as_bytes();
    let n = b.len();
    let Some(cs) = charset(b) else {
        return false;
    };
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    let digit = b.iter().any(u8::is_ascii_digit);
    let classes = usize::from(upper) + usize::from(lower) + usize::from(digit);
    // Letter pairs and casing tell words two letters at a time, and random letters pair
    // like English now and then; a model of text's trigrams reads the whole token, and
    // random keys surprise it at every character (10 bits a character or more: 99% of
    // random keys of letters and digits of 20 characters or more; names of words cost
    // it 3 to 6). Bytes escaped in a string literal (`\x97\x0c`, backslashes dropped by
    // a shell word's view) are no key.
    // Letters alone, or one case and digits, read less random to it than all three
    // classes do, whether random or a name: a lower bar for those.
    let random_to_text = || {
        let random = if classes == 3 {
            super::trigrams::reads_random(tok)
        } else {
            super::trigrams::reads_random_narrow(tok)
        };
        random && !super::byte_escapes(tok)
    };
    // Random keys of letters and digits have digits (a 24-character one lacks them once
    // in seventy); identifiers (`ShouldSkipOnDefaultBranch`) do not.
    // Without digits, only long tokens of mixed case whose letters are not words cased
    // as words are (`ShouldSkipOnDefaultBranch`): random letters fall into camel case
    // about as often as not, but rarely pair like English.
    if !digit
        && cs != Charset::Base64
        && (!upper
            || !lower
            || n < 20
            || ((bigram_z(b) >= 3.0 || (word_cased(b) && n < 24)) && !random_to_text()))
    {
        return false;
    }
    let min = match cs {
        Charset::Hex if standalone && DIGEST_HEX_LENGTHS.contains(&n) => return false,
        Charset::Hex => 32,
        _ if classes == 3 => 20,
        // Random letters of both cases, cased as no words are.
        _ if classes == 2 && !digit && !word_cased(b) => 20,
        _ if classes == 2 && !random_to_text() => 24,
        _ if classes == 2 => 20,
        _ => 32,
    };
    let seps = b.iter().filter(|&&c| c == b'-' || c == b'_').count();
    // A UUID is an id.
    if n == 36
        && tok.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-')
    {
        return false;
    }
    // `task-output-waiting-1770927708311`, `gone-ghp_...`: words and a number or a token,
    // a word first or separators every few characters. A base64url key has a lowercase
    // piece now and then, and a separator in about thirty-two characters: a piece first,
    // or one among dense separators, is a word only if it pairs letters as words do
    // (`task`, `lpnsplookupserviceend`; `kqcv` or `fuyxf` in a key does not).
    // In one case: a constant's words are capitals (`S_nfsLib_NFSERR_SERVERFAULT`).
    let word = |p: &str| {
        p.len() >= 4
            && (p.bytes().all(|c| c.is_ascii_lowercase())
                || p.bytes().all(|c| c.is_ascii_uppercase()))
    };
    // Pairs are compared in lower case.
    let spoken = |p: &str| {
        let pairs = p.as_bytes().windows(2);
        let n = pairs.len();
        word(p)
            && (pairs.filter(|w| common_bigram(w[0], w[1])).count() * 2 >= n
                || bigram_z(p.as_bytes()) >= 2.0)
    };
    let words = || tok.split(['-', '_']).filter(|p| word(p));
    // A name of words before a suffix: `DesktopAppInstaller_8wekyb3d8bbwe`.
    let first = tok.split(['-', '_']).next().unwrap_or("");
    if seps >= 1
        && first.len() >= 8
        && first.bytes().all(|c| c.is_ascii_alphabetic())
        && word_cased(first.as_bytes())
        && bigram_z(first.as_bytes()) >= 3.0
    {
        return false;
    }
    // Unless what follows the first piece is random on its own (`lisv_CHiKDToIi-2qZR...`,
    // `EAAAT_boi4Lz5Wz_...`): a key's first piece pairs like a word now and then, but
    // it does not read as text as a real word does (`gone-ghp_...`: `gone` costs the
    // model of text 3.5 bits a character, `lisv` 9, `EAAAT` 7.3).
    let rest_random = || {
        let rest: String = tok.split(['-', '_']).skip(1).collect();
        let rb = rest.as_bytes();
        super::trigrams::surprise(first.as_bytes()).is_some_and(|s| s >= 6.0)
            && rb.len() >= 16
            && rb.iter().any(u8::is_ascii_uppercase)
            && rb.iter().any(u8::is_ascii_lowercase)
            && super::trigrams::reads_very_random(&rest)
    };
    if seps >= 2
        && (spoken(first) || (seps * 16 > n && (words().count() >= 2 || words().any(spoken))))
        && !rest_random()
    {
        return false;
    }
    // Separators every few characters make an identifier (`x86_64-unknown-linux-gnu`,
    // `TLS13_AES_128_GCM_SHA256`); base64url has one in about thirty-two, and a key with
    // more by chance is told by its pieces: letters of both cases, and not only a
    // capital first, in at least half of it (`2LG_XnoeHuzwh8rjzLSeATH-LypBzha--RNKGs--`).
    let random_pieces = || {
        tok.split(['-', '_'])
            .filter(|p| {
                let b = p.as_bytes();
                b.iter().any(u8::is_ascii_lowercase) && b.iter().skip(1).any(u8::is_ascii_uppercase)
            })
            .map(str::len)
            .sum::<usize>()
    };
    let separated = seps * 8 <= n
        || (random_pieces() * 2 >= n && binomial_tail(n as u32, seps as u32, 1.0 / 32.0) >= 1e-6);
    // A random key's entropy falls under its floor once in a hundred thousand draws
    // (`zjeqmmmCCUcFCmmjbaqmqZ`, 3.23 bits against 3.33): its characters still surprise a
    // model of text at every step, as a name or a repeated pattern does not.
    let floor = threshold(cs, n);
    let h = entropy(tok);
    n >= min
        && separated
        && (h >= floor
            || h >= floor - 0.5 && cs != Charset::Hex && super::trigrams::reads_very_random(tok))
        && !sequential(b)
        // Hex letters pair into common English bigrams by chance: no words to see there.
        && (cs == Charset::Hex || !wordy(b) || random_to_text())
        && !repeats_a_piece(b, repeat_len(cs))
        && !(matches!(cs, Charset::Alnum | Charset::Base64 | Charset::OneCase)
            && decodes_to_text(tok))
}

/// How long a piece a random key of `cs` repeats by chance, in a thousand characters,
/// less than once in a hundred thousand: six of base64 or letters of both cases, seven of
/// one case and digits (six repeat once in four thousand), eight of base32, ten of hex.
fn repeat_len(cs: Charset) -> usize {
    match cs {
        Charset::Hex => 10,
        Charset::Base32 => 8,
        Charset::OneCase => 7,
        Charset::Alnum | Charset::Base64 => 6,
    }
}

/// Whether `b` holds some `len` bytes twice (`sceAudioOutput2OutputBlocking`, a constant
/// written twice): names and constants repeat themselves, random keys rarely
/// ([`repeat_len`]).
fn repeats_a_piece(b: &[u8], len: usize) -> bool {
    if b.len() < 2 * len {
        return false;
    }
    let mut seen = std::collections::HashSet::with_capacity_and_hasher(
        b.len(),
        foldhash::fast::RandomState::default(),
    );
    b.windows(len).any(|w| !seen.insert(w))
}

/// Cased as words are: `line`, `Transcript`, `visibleCmds`, `HTTP`; random letters mix
/// cases anyhow (`CpHEI`).
pub(crate) fn word_cased(b: &[u8]) -> bool {
    let humps = b
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count();
    let downs = b
        .windows(2)
        .filter(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase())
        .count();
    b.iter().all(|c| !c.is_ascii_lowercase()) || (downs * 8 <= b.len() && humps * 4 <= b.len())
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

/// An alphabet or a counting run: most neighbours one apart.
fn sequential(b: &[u8]) -> bool {
    let steps = b
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1))
        .count();
    steps * 10 >= b.len().saturating_sub(1) * 3
}

/// Common English letter pairs; random letters hit about 13% of them.
const BIGRAMS: [&[u8; 2]; 89] = [
    b"th", b"he", b"in", b"er", b"an", b"re", b"on", b"at", b"en", b"nd", b"ti", b"es", b"or",
    b"te", b"of", b"ed", b"is", b"it", b"al", b"ar", b"st", b"to", b"nt", b"ng", b"se", b"ha",
    b"as", b"ou", b"io", b"le", b"ve", b"co", b"me", b"de", b"hi", b"ri", b"ro", b"ic", b"ne",
    b"ea", b"ra", b"ce", b"li", b"ch", b"ll", b"be", b"ma", b"si", b"om", b"ur", b"ca", b"el",
    b"ta", b"la", b"ns", b"ge", b"ly", b"ei", b"os", b"no", b"pe", b"do", b"su", b"pa", b"ec",
    b"ac", b"ot", b"di", b"ol", b"tr", b"sh", b"ss", b"il", b"ct", b"pr", b"mo", b"lo", b"na",
    b"ts", b"id", b"em", b"ad", b"ie", b"us", b"et", b"wa", b"ow", b"ab", b"ag",
];

/// Share of [`BIGRAMS`] among the letter pairs of uniformly random letters.
const RANDOM_BIGRAM_RATE: f64 = 0.132;

/// Reads like words: far more common English letter pairs than chance gives. Either so
/// many that random letters have them once in a hundred thousand (the binomial tail), or
/// a binomial z-score of 5 with half the pairs common, as in names made of words
/// (`IPV4_DEVCONF_DROP_GRATUITOUS_ARP`). A z-score of 5 alone is passed once in thirty
/// thousand: keys of 40 letters came out as words.
fn wordy(b: &[u8]) -> bool {
    let (pairs, common) = common_pairs(b);
    pairs >= 4
        && (binomial_tail(pairs, common, RANDOM_BIGRAM_RATE) < 1e-5
            || (common * 2 >= pairs && z_score(pairs, common) >= 5.0))
}

/// Letter pairs of `b`, and how many of them are common English ones.
fn common_pairs(b: &[u8]) -> (u32, u32) {
    let mut pairs = 0u32;
    let mut common = 0u32;
    for w in b.windows(2) {
        if w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic() {
            pairs += 1;
            let p = [w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase()];
            if BIGRAMS.iter().any(|g| **g == p) {
                common += 1;
            }
        }
    }
    (pairs, common)
}

/// P(X >= k) for X binomial over `n` trials of probability `p`.
fn binomial_tail(n: u32, k: u32, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let (n, k) = (f64::from(n), f64::from(k));
    // ln of the first term, C(n, k) p^k q^(n-k), then each next one from the last.
    let mut ln_c = 0.0;
    let mut i = 1.0;
    while i <= k {
        ln_c += ((n - k + i) / i).ln();
        i += 1.0;
    }
    let q = 1.0 - p;
    let mut term = (ln_c + k * p.ln() + (n - k) * q.ln()).exp();
    let mut sum = 0.0;
    let mut j = k;
    while j <= n && term > sum * 1e-12 {
        sum += term;
        term *= (n - j) / (j + 1.0) * p / q;
        j += 1.0;
    }
    sum.min(1.0)
}

/// How far above chance `b`'s letter pairs are common English ones (z-score; 0 when too
/// few pairs to tell).
pub(crate) fn bigram_z(b: &[u8]) -> f64 {
    let (pairs, common) = common_pairs(b);
    if pairs < 4 {
        return 0.0;
    }
    z_score(pairs, common)
}

/// How far `common` of `pairs` is above chance, in standard deviations.
fn z_score(pairs: u32, common: u32) -> f64 {
    let n = f64::from(pairs);
    let mean = n * RANDOM_BIGRAM_RATE;
    let sd = (n * RANDOM_BIGRAM_RATE * (1.0 - RANDOM_BIGRAM_RATE)).sqrt();
    (f64::from(common) - mean) / sd
}

/// Whether two letters make a common English pair.
pub(crate) fn common_bigram(a: u8, b: u8) -> bool {
    let p = [a.to_ascii_lowercase(), b.to_ascii_lowercase()];
    BIGRAMS.iter().any(|g| **g == p)
}

/// [`wordy`] for any text.
pub(crate) fn wordy_text(s: &str) -> bool {
    wordy(s.as_bytes())
}

/// Base64 (standard or URL alphabet) of text: judged by what it says, not its entropy.
pub(crate) fn decodes_to_text(tok: &str) -> bool {
    match super::views::base64_decode(tok.as_bytes()) {
        Some(bytes) if bytes.len() >= 12 => printable(&bytes),
        _ => false,
    }
}

/// Mostly printable UTF-8 text.
pub(crate) fn printable(bytes: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return false;
    };
    let bad = s
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    bad * 50 <= s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::redact::tests::Rng;

    #[test]
    fn the_binomial_tail_is_exact() {
        // Against sums of exact terms (Python's math.comb).
        for (n, k, want) in [
            (29, 12, 1.6221584568507658e-4),
            (20, 13, 1.148932342982575e-7),
            (60, 23, 9.56967081906544e-7),
            (4, 4, 3.035957760000001e-4),
            (10, 0, 1.0),
        ] {
            let got = binomial_tail(n, k, RANDOM_BIGRAM_RATE);
            assert!(
                (got - want).abs() <= want * 1e-9,
                "n {n} k {k}: {got} != {want}"
            );
        }
        assert_eq!(binomial_tail(5, 6, RANDOM_BIGRAM_RATE), 0.0);
        // A key of 42 characters whose letters pair as words twelve times in 29.
        let key = "TBacaey4lOtinE8RiD0ohIXSL6sdT7vjgXz8CtAwst";
        assert!(!wordy(key.as_bytes()) && is_random(key));
    }

    const ALPHABETS: [(Charset, &[u8]); 5] = [
        (Charset::Hex, b"0123456789abcdef"),
        (Charset::Base32, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        (Charset::OneCase, b"abcdefghijklmnopqrstuvwxyz0123456789"),
        (
            Charset::Alnum,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
        (
            Charset::Base64,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        ),
    ];

    /// The measurement behind [`THRESHOLDS`], repeated: at most 0.1% of random strings of
    /// each charset and length fall under its threshold (0.02% expected).
    #[test]
    fn thresholds_hold_for_random_strings() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for (cs, alphabet) in ALPHABETS {
            for n in [16, 20, 24, 32, 40, 64, 100, 200, 1000] {
                let samples = if n >= 200 { 1000 } else { 4000 };
                let under = (0..samples)
                    .filter(|_| entropy(&r.token(alphabet, n)) < threshold(cs, n))
                    .count();
                // One in a hundred thousand: not one in these samples, but by chance.
                assert!(under <= 1, "{cs:?} n={n}: {under}/{samples}");
            }
        }
    }

    /// Random keys of every charset, at lengths a key has, are caught: all but a few in
    /// ten thousand (those that happen to hold a digest's length are digests).
    #[test]
    fn random_keys_are_caught_at_every_length() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        for (cs, alphabet) in ALPHABETS {
            for n in [24, 33, 48, 80, 100, 300, 1000] {
                if cs == Charset::Hex && n < 32 {
                    continue;
                }
                let missed = (0..400)
                    .filter(|_| {
                        let t = r.token(alphabet, n);
                        let b = t.as_bytes();
                        charset(b) == Some(cs)
                            && (b.iter().any(u8::is_ascii_digit) || cs == Charset::Base64)
                            && !is_random(&t)
                    })
                    .count();
                assert!(missed <= 1, "{cs:?} n={n}: {missed}/400 missed");
            }
        }
    }

    #[test]
    fn words_digests_and_tables_are_not_random() {
        for benign in [
            "ThisIsAVeryLongCamelCaseIdentifierNameWithoutDigits",
            "Sdk2ClientFactoryProviderImplementation4Tests",
            "getElementsByTagNameNSForDocumentFragment",
            "test_redaction_handles_json_escaped_values_in_args",
            "kubernetes_io_serviceaccount_token_projection",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
            "64f1b9a2c7e0d51f3a8b9c0d1e2f3a4b5c6d7e8f",
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "VGhpcyBpcyBhIHBsYWluIHNlbnRlbmNlIGluIGJhc2U2NA",
            "x86_64-unknown-linux-gnu",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(!is_random(benign), "{benign}");
        }
    }
}
