//! Moving spans from the store to a sink: the outbox for OTLP endpoints (acknowledged
//! spans are marked delivered), or a list of traces for an OTLP/JSON file.

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use sessiontrail_store::Store;
use sessiontrail_trace::Resource;

use crate::ExportError;
use crate::client::{OtlpSender, SendFailure};
use crate::request::{Batch, Batcher};

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Spans delivered.
    pub spans: u64,
    /// Requests (or lines) written.
    pub requests: u64,
    /// Encoded bytes of those requests.
    pub bytes: u64,
    /// Largest request.
    pub max_request_bytes: u64,
    /// Spans the backend accepted the request of but reported as rejected.
    pub rejected_spans: u64,
    /// What the backend said about rejected spans (first message).
    pub rejection: Option<String>,
    /// Why delivery stopped early.
    pub failure: Option<SendFailure>,
    /// Spans the backend refused for good and that were set aside
    /// ([`Refused::SetAside`]).
    pub set_aside: u64,
    /// Why (the first refusal).
    pub set_aside_reason: Option<String>,
    /// Spans still waiting in the outbox afterwards.
    pub pending_spans: u64,
}

impl Delivery {
    fn count(&mut self, batch: &Batch) {
        self.spans += batch.keys.len() as u64;
        self.requests += 1;
        self.bytes += batch.bytes as u64;
        self.max_request_bytes = self.max_request_bytes.max(batch.bytes as u64);
    }
}

/// What a request the backend refuses for good does to the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Delivery stops there and reports it (a one-off export: the user fixes and re-runs).
    Stop,
    /// Its spans are set aside in the store and delivery goes on with the next request
    /// (a long-running sidecar must not retry them in a loop, nor let them block the rest).
    SetAside,
}

/// Sends what the outbox holds for the sender's endpoint, in requests of at most
/// `max_bytes`. Spans are marked delivered only after the backend acknowledged them; on a
/// failure delivery stops and the rest stays queued for the next run (a refusal for good
/// is handled as `refused` says). `progress` gets the number of spans delivered so far.
pub fn deliver_outbox(
    store: &mut Store,
    sender: &mut OtlpSender,
    max_bytes: usize,
    refused: Refused,
    progress: &mut dyn FnMut(u64),
) -> Result<Delivery, ExportError> {
    let sink = sender.config().sink_key();
    let mut d = Delivery::default();
    let mut batcher = Batcher::new(max_bytes, sender.encoding());
    let send = |store: &mut Store,
                sender: &mut OtlpSender,
                batch: Batch,
                d: &mut Delivery|
     -> Result<bool, ExportError> {
        match sender.send_batch(&batch) {
            Ok(ack) => {
                store.mark_delivered(&sink, &batch.keys, now_ns())?;
                d.count(&batch);
                d.rejected_spans += ack.rejected_spans;
                if d.rejection.is_none() {
                    d.rejection = ack.message;
                }
                Ok(true)
            }
            Err(f) if f.permanent && refused == Refused::SetAside => {
                store.set_aside(&sink, &batch.keys, &f.reason)?;
                d.set_aside += batch.keys.len() as u64;
                d.set_aside_reason.get_or_insert(f.reason);
                Ok(true)
            }
            Err(f) => {
                d.failure = Some(f);
                Ok(false)
            }
        }
    };
    'traces: for trace in store.queued(&sink)? {
        let resource = resource(store, &trace)?;
        for p in store.undelivered(&sink, &trace)? {
            let span = decode_span(&p.body)?;
            if let Some(batch) = batcher.push((trace, p.span_id, p.digest), &resource, span) {
                if !send(store, sender, batch, &mut d)? {
                    break 'traces;
                }
                progress(d.spans);
            }
        }
    }
    if d.failure.is_none()
        && let Some(batch) = batcher.take()
    {
        send(store, sender, batch, &mut d)?;
        progress(d.spans);
    }
    d.pending_spans = store.count_undelivered(&sink)?;
    Ok(d)
}

fn resource(store: &Store, trace: &[u8; 16]) -> Result<Resource, ExportError> {
    let bytes = store.resource(trace)?.unwrap_or_default();
    Resource::decode(&bytes[..]).map_err(|_| ExportError::Corrupt {
        what: format!("resource of trace {}", sessiontrail_trace::hex(trace)),
    })
}

fn decode_span(bytes: &[u8]) -> Result<Span, ExportError> {
    Span::decode(bytes).map_err(|_| ExportError::Corrupt {
        what: "a stored span".into(),
    })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
