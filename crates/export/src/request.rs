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

/// A request ready to send, and what it holds.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The request.
    pub request: ExportTraceServiceRequest,
    /// The request in OTLP/JSON, when the batcher measures in JSON: each span was
    /// serialized once, as it came, and the request is never serialized again.
    pub json: Option<Vec<u8>>,
    /// Spans in it.
    pub keys: Vec<SpanKey>,
    /// Its encoded size, in the batcher's encoding.
    pub bytes: usize,
}

/// `v`'s JSON split around its last `"key":[]`: the text up to the inside of the
/// brackets, and from the closing one. A key cannot occur inside a string: quotes there
/// are escaped.
fn split_json<T: serde::Serialize>(v: &T, key: &str) -> (Vec<u8>, Vec<u8>) {
    let text = serde_json::to_vec(v).expect("OTLP messages serialize");
    let needle = format!("\"{key}\":[]");
    let at = memchr::memmem::rfind(&text, needle.as_bytes()).expect("the key is serialized")
        + needle.len()
        - 1;
    (text[..at].to_vec(), text[at..].to_vec())
}

/// The OTLP/JSON of a session's resource group around its spans.
pub(crate) fn group_text(resource: &Resource, scope: &InstrumentationScope) -> (Vec<u8>, Vec<u8>) {
    split_json(
        &ResourceSpans {
            resource: Some(resource.clone()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope.clone()),
                spans: Vec::new(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        },
        "spans",
    )
}

/// An OTLP/JSON request written as its groups and spans come, each serialized once: the
/// text is what serializing the whole request gives, byte for byte.
pub(crate) struct JsonRequest {
    text: Vec<u8>,
    /// What ends the open group.
    closing: Vec<u8>,
    /// The request's text around its groups.
    open: Vec<u8>,
    close: Vec<u8>,
    /// Whether the open group has a span.
    group_spans: bool,
}

impl JsonRequest {
    pub(crate) fn new() -> JsonRequest {
        // Measured on an empty request rather than written down: the JSON encoder decides.
        let (open, close) = split_json(&ExportTraceServiceRequest::default(), "resourceSpans");
        JsonRequest {
            text: Vec::new(),
            closing: Vec::new(),
            open,
            close,
            group_spans: false,
        }
    }

    /// The request's length once finished.
    pub(crate) fn len(&self) -> usize {
        if self.text.is_empty() {
            self.open.len() + self.close.len()
        } else {
            self.text.len() + self.closing.len() + self.close.len()
        }
    }

    /// Whether `span` would make a request that holds a span already longer than `max`,
    /// in a new group of `open`/`close` text when `new_group` (commas included).
    pub(crate) fn overflows(
        &self,
        new_group: bool,
        (open, close): (&[u8], &[u8]),
        span: &[u8],
        max: usize,
    ) -> bool {
        let group = if new_group {
            open.len() + close.len() + 1
        } else {
            0
        };
        !self.text.is_empty() && self.len() + group + span.len() + 1 > max
    }

    /// Opens a group (ending the one before).
    pub(crate) fn open_group(&mut self, open: &[u8], close: &[u8]) {
        if self.text.is_empty() {
            self.text.extend_from_slice(&self.open);
        } else {
            self.text.extend_from_slice(&self.closing);
            self.text.push(b',');
        }
        self.text.extend_from_slice(open);
        self.closing.clear();
        self.closing.extend_from_slice(close);
        self.group_spans = false;
    }

    /// Adds a span's JSON to the open group.
    pub(crate) fn push_span(&mut self, span: &[u8]) {
        if self.group_spans {
            self.text.push(b',');
        }
        self.text.extend_from_slice(span);
        self.group_spans = true;
    }

    /// The finished request's text; the builder is empty again.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut t = std::mem::take(&mut self.text);
        if t.is_empty() {
            t.extend_from_slice(&self.open);
        } else {
            t.extend_from_slice(&self.closing);
        }
        t.extend_from_slice(&self.close);
        self.group_spans = false;
        t
    }
}

/// Accumulates spans until the next one would make the request too large.
pub struct Batcher {
    max_bytes: usize,
    encoding: Encoding,
    scope: InstrumentationScope,
    request: ExportTraceServiceRequest,
    keys: Vec<SpanKey>,
    current_trace: Option<[u8; 16]>,
    bytes: usize,
    /// JSON: the request's text, and the text around the spans of the last session's group.
    json: JsonRequest,
    group: Option<([u8; 16], Vec<u8>, Vec<u8>)>,
}

impl Batcher {
    /// A batcher producing requests of at most `max_bytes` in `encoding` (a single larger
    /// span still goes, alone).
    pub fn new(max_bytes: usize, encoding: Encoding) -> Batcher {
        Batcher {
            max_bytes,
            encoding,
            scope: sessiontrail_trace::scope(),
            request: ExportTraceServiceRequest::default(),
            keys: Vec::new(),
            current_trace: None,
            bytes: 0,
            json: JsonRequest::new(),
            group: None,
        }
    }

    /// Adds a span of the session whose resource is `resource`; returns the previous batch
    /// when this span did not fit in it.
    pub fn push(&mut self, key: SpanKey, resource: &Resource, span: Span) -> Option<Batch> {
        let new_group = |b: &Batcher| b.current_trace != Some(key.0);
        let out = match self.encoding {
            Encoding::Protobuf => {
                // A span, a group and their tags and lengths (at most 6 bytes each).
                let span_bytes = span.encoded_len() + 6;
                let group_bytes = |b: &Batcher| match new_group(b) {
                    false => 0,
                    true => resource.encoded_len() + b.scope.encoded_len() + 24,
                };
                let full = !self.keys.is_empty()
                    && self.bytes + group_bytes(self) + span_bytes > self.max_bytes;
                let out = if full { self.take() } else { None };
                // After a take the span opens a new group.
                self.bytes += group_bytes(self) + span_bytes;
                out
            }
            Encoding::Json => {
                // Exactly, with the comma before each item.
                let text = serde_json::to_vec(&span).expect("OTLP spans serialize");
                if self.group.as_ref().is_none_or(|g| g.0 != key.0) {
                    let (open, close) = group_text(resource, &self.scope);
                    self.group = Some((key.0, open, close));
                }
                let (_, open, close) = self.group.as_ref().expect("just set");
                let full =
                    self.json
                        .overflows(new_group(self), (open, close), &text, self.max_bytes);
                let out = if full { self.take() } else { None };
                if new_group(self) {
                    let (_, open, close) = self.group.as_ref().expect("just set");
                    self.json.open_group(open, close);
                }
                self.json.push_span(&text);
                out
            }
        };
        if new_group(self) {
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
        let json = match self.encoding {
            Encoding::Protobuf => None,
            Encoding::Json => Some(self.json.finish()),
        };
        let bytes = match &json {
            None => request.encoded_len(),
            Some(j) => j.len(),
        };
        Some(Batch {
            request,
            json,
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
            // Each session its own resource: a group's text is its own.
            let res = |t: u8| Resource {
                attributes: vec![opentelemetry_proto::tonic::common::v1::KeyValue {
                    key: "service.name".into(),
                    value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                        value: Some(
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                format!("claude-code \"{t}\" spans:[]"),
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
                if let Some(batch) = b.push((trace, [i; 8], [0; 16]), &res(i / 30), span(i, 200)) {
                    batches.push(batch);
                }
            }
            batches.extend(b.take());
            assert_eq!(batches.iter().map(|b| b.keys.len()).sum::<usize>(), 100);
            for batch in &batches {
                let json = serde_json::to_vec(&batch.request).unwrap();
                // The text built span by span is the request's, byte for byte.
                assert_eq!(batch.json.as_ref(), Some(&json));
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
