//! Deterministic trace and span ids (DESIGN.md 3): re-export is idempotent and late spans
//! join the same trace.

use sha2::{Digest, Sha256};

/// `first 16 bytes of SHA-256("sessiontrail/v1/" + agent + "/" + session_id)`.
pub fn trace_id(agent: &str, session_id: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(b"sessiontrail/v1/");
    h.update(agent.as_bytes());
    h.update(b"/");
    h.update(session_id.as_bytes());
    let d = h.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&d[..16]);
    nonzero(&mut id);
    id
}

/// `first 8 bytes of SHA-256(trace_id + stable_id)`, where `stable_id` is the record's own
/// id (tool-call id, request id, record uuid, commit SHA), prefixed by its kind.
pub fn span_id(trace_id: &[u8; 16], stable_id: &str) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(trace_id);
    h.update(stable_id.as_bytes());
    let d = h.finalize();
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    nonzero(&mut id);
    id
}

/// All-zero ids are invalid in W3C trace context; one in 2^64 hashes would give one.
fn nonzero(id: &mut [u8]) {
    if id.iter().all(|&b| b == 0) {
        id[id.len() - 1] = 1;
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let t = trace_id("claude-code", "4d5611e5-241a-462a-8d15-5122611a9569");
        assert_eq!(
            t,
            trace_id("claude-code", "4d5611e5-241a-462a-8d15-5122611a9569")
        );
        assert_ne!(t, trace_id("codex", "4d5611e5-241a-462a-8d15-5122611a9569"));
        assert_ne!(span_id(&t, "tool:a"), span_id(&t, "tool:b"));
        // Pinned: changing the scheme would split every stored trace in two.
        assert_eq!(
            hex(&t),
            hex(&trace_id(
                "claude-code",
                "4d5611e5-241a-462a-8d15-5122611a9569"
            ))
        );
        let mut h = Sha256::new();
        h.update(b"sessiontrail/v1/claude-code/x");
        assert_eq!(&trace_id("claude-code", "x")[..], &h.finalize()[..16]);
    }
}
