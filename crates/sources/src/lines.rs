//! A line reader for append-only JSONL files that never holds more than one bounded line.

use std::io::{self, BufRead};

/// One step of [`LineReader::next`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line (without its newline or a trailing `\r`).
    Complete {
        /// 1-based line number.
        number: u64,
        /// The bytes.
        bytes: &'a [u8],
        /// Whether the line ended with a newline (false only for the last line of a file).
        terminated: bool,
    },
    /// A line longer than the limit; its bytes were read and dropped.
    TooLong {
        /// 1-based line number.
        number: u64,
        /// Its length in bytes.
        len: u64,
    },
}

/// Reads lines of at most `max_len` bytes; longer lines are skipped without being buffered.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_len: usize,
    number: u64,
    /// Bytes consumed so far (the offset of the next line).
    offset: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, max_len: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            max_len,
            number: 0,
            offset: 0,
        }
    }

    /// Wraps `inner`, already positioned at byte `offset`, just after line `number`: to go on
    /// reading a file where an earlier reader stopped.
    pub fn resume(inner: R, max_len: usize, number: u64, offset: u64) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            max_len,
            number,
            offset,
        }
    }

    /// Number of the last line returned.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Byte offset just past the last line returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut len: u64 = 0;
        let mut too_long = false;
        let mut terminated = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            let (take, found) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            len += take as u64;
            if !too_long {
                if self.buf.len() + take > self.max_len {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            let consumed = take + usize::from(found);
            self.inner.consume(consumed);
            self.offset += consumed as u64;
            if found {
                terminated = true;
                break;
            }
        }
        if len == 0 && !terminated {
            return Ok(None);
        }
        self.number += 1;
        if too_long {
            return Ok(Some(Line::TooLong {
                number: self.number,
                len,
            }));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Line::Complete {
            number: self.number,
            bytes: &self.buf,
            terminated,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<String> {
        let mut r = LineReader::new(io::BufReader::with_capacity(4, input), max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(match l {
                Line::Complete {
                    number,
                    bytes,
                    terminated,
                } => {
                    format!("{number}:{}:{terminated}", String::from_utf8_lossy(bytes))
                }
                Line::TooLong { number, len } => format!("{number}:long {len}"),
            });
        }
        out
    }

    #[test]
    fn splits_lines_and_flags_the_unterminated_last_one() {
        assert_eq!(
            collect(b"ab\r\ncd\n\nef", 100),
            ["1:ab:true", "2:cd:true", "3::true", "4:ef:false"]
        );
        assert!(collect(b"", 100).is_empty());
    }

    #[test]
    fn skips_long_lines_without_losing_the_next() {
        assert_eq!(
            collect(b"short\n0123456789abc\nok\n", 8),
            ["1:short:true", "2:long 13", "3:ok:true"]
        );
    }

    #[test]
    fn tracks_the_offset() {
        let mut r = LineReader::new(&b"ab\ncd"[..], 10);
        r.next_line().unwrap();
        assert_eq!(r.offset(), 3);
        r.next_line().unwrap();
        assert_eq!(r.offset(), 5);
    }
}
