//! Packing spans into requests of bounded size, one `ResourceSpans` per session.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use sessiontrail_trace::{InstrumentationScope, Resource};

/// Default largest request, in encoded bytes: a few MB at most, whatever the session size.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// Identifies a delivered span version: trace id, span id, digest of the stored bytes.
pub type SpanKey = ([u8; 16], [u8; 8], [u8; 16]);

/// How requests are encoded on the wire or in the file: what their size is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Protobuf (gRPC, `http/protobuf`).
    Protobuf,
    /// OTLP/JSON (`http/json`, OTLP/JSON files): hex ids, names spelt out, about twice the
    /// protobuf size.
    Json,
}

/// Counts the bytes a value serializes to, without keeping them.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `v` in OTLP/JSON.
pub(crate) fn json_len<T: serde::Serialize>(v: &T) -> usize {
    let mut c = Counter(0);
    serde_json::to_writer(&mut c, v).expect("OTLP messages serialize");
    c.0
}

/// A request ready to send, and what it holds.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The request.
    pub request: ExportTraceServiceRequest,
    /// Spans in it.
    pub keys: Vec<SpanKey>,
    /// Its encoded size, in the batcher's encoding.
    pub bytes: usize,
}

/// Accumulates spans until the next one would make the request too large.
pub struct Batcher {
    max_bytes: usize,
    encoding: Encoding,
    /// JSON bytes of a resource group besides its resource, scope and spans, and of the
    /// request around its groups.
    json_group: usize,
    json_request: usize,
    scope: InstrumentationScope,
    request: ExportTraceServiceRequest,
    keys: Vec<SpanKey>,
    current_trace: Option<[u8; 16]>,
    bytes: usize,
}

impl Batcher {
    /// A batcher producing requests of at most `max_bytes` in `encoding` (a single larger
    /// span still goes, alone).
    pub fn new(max_bytes: usize, encoding: Encoding) -> Batcher {
        let scope = sessiontrail_trace::scope();
        // Measured on an empty group rather than written down: the JSON encoder decides.
        let empty = ExportTraceServiceRequest::default();
        let one = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource::default()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope.clone()),
                    spans: Vec::new(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        let json_request = json_len(&empty);
        let json_group = json_len(&one) - json_request - json_len(&Resource::default())
            - json_len(&scope)
            // The comma between groups.
            + 1;
        Batcher {
            max_bytes,
            encoding,
            json_group,
            json_request,
            scope,
            request: ExportTraceServiceRequest::default(),
            keys: Vec::new(),
            current_trace: None,
            bytes: 0,
        }
    }

    /// Adds a span of the session whose resource is `resource`; returns the previous batch
    /// when this span did not fit in it.
    pub fn push(&mut self, key: SpanKey, resource: &Resource, span: Span) -> Option<Batch> {
        // Protobuf: a span, a group and their tags and lengths (at most 6 bytes each);
        // JSON: exactly, with the comma before each item.
        let span_bytes = match self.encoding {
            Encoding::Protobuf => span.encoded_len() + 6,
            Encoding::Json => json_len(&span) + 1,
        };
        let group_bytes = |b: &Batcher| match (b.current_trace == Some(key.0), b.encoding) {
            (true, _) => 0,
            (false, Encoding::Protobuf) => resource.encoded_len() + b.scope.encoded_len() + 24,
            (false, Encoding::Json) => json_len(resource) + json_len(&b.scope) + b.json_group,
        };
        let base = match self.encoding {
            Encoding::Protobuf => 0,
            Encoding::Json => self.json_request,
        };
        let full = !self.keys.is_empty()
            && base + self.bytes + group_bytes(self) + span_bytes > self.max_bytes;
        let out = if full { self.take() } else { None };
        // After a take the span opens a new group.
        self.bytes += group_bytes(self);
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
        let bytes = match self.encoding {
            Encoding::Protobuf => request.encoded_len(),
            Encoding::Json => json_len(&request),
        };
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
    fn json_requests_stay_under_the_limit_in_json() {
        for max in [2_000, 10_000] {
            let mut b = Batcher::new(max, Encoding::Json);
            let res = Resource {
                attributes: vec![opentelemetry_proto::tonic::common::v1::KeyValue {
                    key: "service.name".into(),
                    value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                        value: Some(
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                "claude-code".into(),
                            ),
                        ),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let mut batches = Vec::new();
            for i in 0..100u8 {
                let trace = [i / 30; 16];
                if let Some(batch) = b.push((trace, [i; 8], [0; 16]), &res, span(i, 200)) {
                    batches.push(batch);
                }
            }
            batches.extend(b.take());
            assert_eq!(batches.iter().map(|b| b.keys.len()).sum::<usize>(), 100);
            for batch in &batches {
                let json = serde_json::to_vec(&batch.request).unwrap();
                assert_eq!(batch.bytes, json.len());
                assert!(json.len() <= max, "{} > {max}", json.len());
                // Nearly full: the estimate is not padded.
                assert!(batch.keys.len() < 30 || json.len() > max * 3 / 4);
            }
        }
    }

    #[test]
    fn requests_stay_under_the_limit_and_keep_every_span() {
        let mut b = Batcher::new(10_000, Encoding::Protobuf);
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
        let mut b = Batcher::new(100, Encoding::Protobuf);
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
