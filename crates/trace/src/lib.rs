//! The trace model (DESIGN.md 3): a [`Session`](sessiontrail_model::Session) becomes one
//! trace of OTLP spans with deterministic ids and historical times.
//!
//! Owns: span names and attributes ([`attr`], the one place names are defined), the id
//! scheme ([`trace_id`], [`span_id`]) and the mapping ([`build`]). Text becomes an attribute
//! only when the session kept it (the policy stage has redacted it by then); command lines,
//! URLs and queries stay out at the `none` level, where only program names and hosts go.
//!
//! Must not: send anything, touch files or the clock. Spans are
//! `opentelemetry_proto` values, so the store can keep them as bytes and the exporter can send
//! them as they are.
//!
//! ```
//! use sessiontrail_model::{AgentKind, Session, Timestamp};
//! let mut s = Session::new(AgentKind::ClaudeCode, "s1");
//! s.start = Timestamp(1);
//! s.end = Timestamp(2);
//! let t = sessiontrail_trace::build(&s, &Default::default());
//! assert_eq!(t.spans[0].name, "invoke_agent claude-code");
//! assert_eq!(t.trace_id, sessiontrail_trace::trace_id("claude-code", "s1"));
//! ```

#![warn(missing_docs)]

#[allow(missing_docs)]
pub mod attr;
mod build;
mod ids;
pub mod tree;

pub use build::{
    CommitSpan, MAX_EVENTS_PER_SPAN, SensitiveHit, SessionSummary, SessionTrace, SpanKey,
    TraceOptions, build, commit_span,
};
pub use ids::{hex, span_id, trace_id};
pub use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
pub use opentelemetry_proto::tonic::resource::v1::Resource;
pub use opentelemetry_proto::tonic::trace::v1::Span;

/// The instrumentation scope of every span sessiontrail writes.
pub fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "sessiontrail".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
    }
}
