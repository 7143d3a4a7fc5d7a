//! Packing spans into requests of bounded size, one `ResourceSpans` per session.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use sessiontrail_trace::{InstrumentationScope, Resource};

/// Default largest request, in encoded bytes: a few MB at most, whatever the session size.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// Identifies a delivered span version: trace id, span id, digest of the stored bytes.
pub type SpanKey = ([u8; 16], [u8; 8], [u8; 16]);

/// A request ready to send, and what it holds.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The request.
    pub request: ExportTraceServiceRequest,
    /// Spans in it.
    pub keys: Vec<SpanKey>,
    /// Its encoded size.
    pub bytes: usize,
}

/// Accumulates spans until the next one would make the request too large.
pub struct Batcher {
    max_bytes: usize,
    scope: InstrumentationScope,
    request: ExportTraceServiceRequest,
    keys: Vec<SpanKey>,
    current_trace: Option<[u8; 16]>,
    bytes: usize,
}

impl Batcher {
    /// A batcher producing requests of at most `max_bytes` (a single larger span still
    /// goes, alone).
    pub fn new(max_bytes: usize) -> Batcher {
        Batcher {
            max_bytes,
            scope: sessiontrail_trace::scope(),
            request: ExportTraceServiceRequest::default(),
            keys: Vec::new(),
            current_trace: None,
            bytes: 0,
        }
    }

    /// Adds a span of the session whose resource is `resource`; returns the previous batch
    /// when this span did not fit in it.
    pub fn push(&mut self, key: SpanKey, resource: &Resource, span: Span) -> Option<Batch> {
        let span_bytes = span.encoded_len() + 6;
        let new_group = self.current_trace != Some(key.0);
        let group_bytes = if new_group {
            resource.encoded_len() + self.scope.encoded_len() + 24
        } else {
            0
        };
        let full = !self.keys.is_empty() && self.bytes + group_bytes + span_bytes > self.max_bytes;
        let out = if full { self.take() } else { None };
        if self.current_trace != Some(key.0) {
            self.request.resource_spans.push(ResourceSpans {
                resource: Some(resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans: Vec::new(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            });
            self.current_trace = Some(key.0);
            self.bytes += resource.encoded_len() + self.scope.encoded_len() + 24;
        }
        let group = self
            .request
            .resource_spans
            .last_mut()
            .expect("a group was just ensured");
        group.scope_spans[0].spans.push(span);
        self.bytes += span_bytes;
        self.keys.push(key);
        out
    }

    /// The batch in progress, if any.
    pub fn take(&mut self) -> Option<Batch> {
        if self.keys.is_empty() {
            return None;
        }
        let request = std::mem::take(&mut self.request);
        self.current_trace = None;
        self.bytes = 0;
        let bytes = request.encoded_len();
        Some(Batch {
            request,
            keys: std::mem::take(&mut self.keys),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u8, size: usize) -> Span {
        Span {
            span_id: vec![id; 8],
            trace_id: vec![1; 16],
            name: "x".repeat(size),
            ..Default::default()
        }
    }

    #[test]
    fn requests_stay_under_the_limit_and_keep_every_span() {
        let mut b = Batcher::new(10_000);
        let res = Resource::default();
        let mut batches = Vec::new();
        for i in 0..100u8 {
            let trace = [i / 30; 16];
            if let Some(batch) = b.push((trace, [i; 8], [0; 16]), &res, span(i, 500)) {
                batches.push(batch);
            }
        }
        batches.extend(b.take());
        assert!(batches.len() >= 5);
        assert_eq!(batches.iter().map(|b| b.keys.len()).sum::<usize>(), 100);
        for batch in &batches {
            assert!(batch.bytes <= 10_000, "{}", batch.bytes);
            assert_eq!(batch.bytes, batch.request.encoded_len());
            // One resource group per session within a request.
            let traces: std::collections::BTreeSet<_> = batch.keys.iter().map(|k| k.0).collect();
            assert_eq!(traces.len(), batch.request.resource_spans.len());
        }
    }

    #[test]
    fn an_oversized_span_goes_alone() {
        let mut b = Batcher::new(100);
        assert!(
            b.push(
                ([1; 16], [1; 8], [0; 16]),
                &Resource::default(),
                span(1, 1000)
            )
            .is_none()
        );
        let first = b
            .push(
                ([1; 16], [2; 8], [0; 16]),
                &Resource::default(),
                span(2, 10),
            )
            .unwrap();
        assert_eq!(first.keys.len(), 1);
        assert_eq!(b.take().unwrap().keys.len(), 1);
        assert!(b.take().is_none());
    }
}
