//! How surprising a word's characters are to a model of written text: code, docs and
//! configs read a character at a time from the two before it. Random passwords surprise it
//! far more than code with symbols does, however that code is cased or punctuated.
//!
//! The table (`trigrams/trigrams.bin`, written by `trigrams/train.py`) holds, for every
//! three characters `a b c`, `round(-log2 P(c | a b))` clipped to 15 bits, learnt from half
//! of the crates.io sources of this workspace's dependencies (67 MB); the other half is
//! where false alarms are measured.

/// 96 characters: `' '..='~'` are 0 to 94, anything else 95.
const N: usize = 96;

static TABLE: &[u8; N * N * N / 2] = include_bytes!("../../trigrams/trigrams.bin");

fn class(c: u8) -> usize {
    if (b' '..=b'~').contains(&c) {
        usize::from(c - b' ')
    } else {
        N - 1
    }
}

/// Mean surprise of `w`'s characters from the third on, in bits (`None` under three).
pub(crate) fn surprise(w: &[u8]) -> Option<f64> {
    if w.len() < 3 {
        return None;
    }
    let total: u32 = w
        .windows(3)
        .map(|t| {
            let i = (class(t[0]) * N + class(t[1])) * N + class(t[2]);
            u32::from(TABLE[i / 2] >> ((i % 2) * 4) & 15)
        })
        .sum();
    Some(f64::from(total) / (w.len() - 2) as f64)
}

/// At least 10 bits a character: measured on the held-out half of the sources, 6 of the
/// 13,756 words there with symbols, both cases and a digit reach it (four test passwords
/// of a secret scanner's rules, `~$Zm9vYmFyZg==#`, and URL escapes the redactor keeps as
/// machine text), and 365 of the 371 in 20,000 generated symbol passwords that the
/// code-shape tests took for code. Uniform choice among the 94 printable characters costs
/// a reader that knows nothing 6.6 bits a character; code costs this model 2 to 4.
pub(crate) fn reads_random(w: &str) -> bool {
    surprise(w.as_bytes()).is_some_and(|s| s >= 10.0)
}

/// At least 10.5 bits a character, for words with a single kind of symbol
/// (`BRCIlqjFlzame@9m`): in 20,000 generated symbol passwords, misses fell from 37 to 23
/// with no new finding in the held-out half of the sources (10 bits: 22, also none).
pub(crate) fn reads_very_random(w: &str) -> bool {
    surprise(w.as_bytes()).is_some_and(|s| s >= 10.5)
}

/// At least 8.5 bits a character, for tokens of two of the three classes (letters of
/// both cases; one case and digits), whose alphabets surprise the model less: random
/// ones of 20 letters fall under it 0.04% of the time (0.01% at 24), of 20 to 23 lowercase
/// letters and digits 1.5% (22% under 10 bits). In the held-out half of the sources, 2 of
/// the 1,237 names of letters of both cases reach it (`Looo...ok`, `XaaaXbbb...`, both far
/// under their entropy floor), and names stay under 7.04 bits but for one in a thousand;
/// of the 49 tokens of lowercase letters and digits there, the two that reach it look
/// random (one repeats itself).
pub(crate) fn reads_random_narrow(w: &str) -> bool {
    surprise(w.as_bytes()).is_some_and(|s| s >= 8.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_reads_as_text_and_random_symbols_do_not() {
        for code in [
            "Result<Vec<u8>>",
            "HashMap<String,Vec<Span>>",
            "self.inner.lock().unwrap()",
            "println!(\"{}\",x)",
            "Option<&'static str>",
            "#[derive(Debug,Clone)]",
        ] {
            assert!(
                !reads_random(code),
                "{code}: {:?}",
                surprise(code.as_bytes())
            );
        }
        for pw in [
            "YZbsyO{nx:y?GP4+7m",
            "M:aAMNIr!hpvi.BY{vb}Dm.T;^1v",
            "Qz7#pL!x@9v(wK",
        ] {
            assert!(reads_random(pw), "{pw}: {:?}", surprise(pw.as_bytes()));
        }
    }
}
