//! OTLP delivery (DESIGN.md 6) and backend lookups (DESIGN.md 4): from the store's outbox to
//! a backend over gRPC or HTTP, and to OTLP/JSON files.
//!
//! Owns: destination settings ([`config`]: flags, then `OTEL_EXPORTER_OTLP_*`), the
//! transports and their retry ([`OtlpSender`]), requests of bounded size ([`Batcher`]),
//! the OTLP/JSON file format ([`OtlpJsonFile`], written as sessions come by [`JsonLines`]), the delivery loop ([`deliver_outbox`]), and
//! finding a commit's traces through the backends' query APIs ([`lookup`]), and alerts
//! posted to a URL ([`webhook`]).
//!
//! Must not: parse agent files or build spans. It sends stored spans byte-identical to what
//! the trace stage made, and marks them delivered only when the backend acknowledged them.
//!
//! The API is blocking; each sender owns a small runtime, so callers need none.

#![warn(missing_docs)]

mod client;
pub mod config;
mod driver;
mod file;
pub mod lookup;
mod request;
pub mod retry;
pub mod webhook;

use std::path::PathBuf;

pub use client::{Ack, OtlpSender, SendFailure, display_url};
pub use config::{Compression, OtlpConfig, Overrides, Protocol};
pub use driver::{Delivery, Refused, deliver_outbox};
pub use file::{JsonLines, OtlpJsonFile};
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use request::{Batch, Batcher, DEFAULT_MAX_REQUEST_BYTES, Encoding, SpanKey};

/// A destination setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value is malformed.
    #[error("{source_name}: invalid value '{value}': expected {expected}")]
    Invalid {
        /// The flag or variable.
        source_name: String,
        /// What it held (or where, when the value may be secret).
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
}

/// Delivery could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The transport could not be set up.
    #[error("cannot set up {what}: {reason}")]
    Setup {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sessiontrail_store::StoreError),
    /// Stored bytes do not decode.
    #[error("the store holds {what} that does not decode; re-run the export to rewrite it")]
    Corrupt {
        /// What.
        what: String,
    },
    /// An output file could not be written.
    #[error("cannot write {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
