//! What the redactor found in short texts it has already scanned, per thread.
//!
//! A session repeats its short texts (the working directory, a hook's command, `git
//! status` and its arguments): more than half of the texts a transcript gives the redactor
//! were scanned before. The result depends only on the text and the redactor, so it is
//! kept, bounded, and cleared when another redactor uses the thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longer texts rarely repeat, and would make the memory bound coarse.
const MAX_TEXT: usize = 2048;

/// Bytes of text kept per thread and kind of result before starting over.
const MAX_BYTES: usize = 1 << 20;

/// A fresh identity for a redactor.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub(crate) struct Memo<T> {
    owner: u64,
    bytes: usize,
    /// foldhash: texts are hashed whole, and SipHash cost more than the lookup saved.
    map: HashMap<Box<str>, T, foldhash::fast::RandomState>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            owner: 0,
            bytes: 0,
            map: HashMap::default(),
        }
    }
}

impl<T: Clone> Memo<T> {
    /// `compute(text)`, from the memo when `owner` computed it before on this thread.
    pub(crate) fn get_or(
        cell: &'static std::thread::LocalKey<RefCell<Memo<T>>>,
        owner: u64,
        text: &str,
        compute: impl FnOnce() -> T,
    ) -> T {
        if text.len() > MAX_TEXT {
            return compute();
        }
        if let Some(v) = cell.with_borrow(|m| {
            (m.owner == owner)
                .then(|| m.map.get(text).cloned())
                .flatten()
        }) {
            return v;
        }
        let v = compute();
        cell.with_borrow_mut(|m| {
            if m.owner != owner || m.bytes + text.len() > MAX_BYTES {
                m.map.clear();
                m.bytes = 0;
                m.owner = owner;
            }
            m.bytes += text.len();
            m.map.insert(text.into(), v.clone());
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static M: RefCell<Memo<usize>> = Default::default();
    }

    #[test]
    fn computes_once_per_text_and_owner() {
        let calls = std::cell::Cell::new(0);
        let f = |text: &str, owner: u64| {
            Memo::get_or(&M, owner, text, || {
                calls.set(calls.get() + 1);
                text.len()
            })
        };
        assert_eq!(f("git status", 1), 10);
        assert_eq!(f("git status", 1), 10);
        assert_eq!(calls.get(), 1);
        // Another redactor starts over; a long text is never kept.
        assert_eq!(f("git status", 2), 10);
        assert_eq!(calls.get(), 2);
        let long = "x".repeat(MAX_TEXT + 1);
        f(&long, 2);
        f(&long, 2);
        assert_eq!(calls.get(), 4);
        // The memory bound: the memo starts over rather than grow.
        for i in 0..(MAX_BYTES / MAX_TEXT + 2) {
            f(&format!("{i:0>2040}"), 2);
        }
        M.with_borrow(|m| assert!(m.bytes <= MAX_BYTES));
    }
}
