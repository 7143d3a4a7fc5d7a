//! sessiontrail's own diagnostics: `tracing` to stderr, and, with `watch --self-traces`,
//! its own spans to the OTLP endpoint through `tracing-opentelemetry`, under the service
//! name `sessiontrail`. They never join the session traces: another exporter, another
//! resource, trace ids of their own, and only sessiontrail's spans (info and above).

use std::sync::{Mutex, OnceLock};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use sessiontrail_export::{OtlpConfig, OtlpSender};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The service name of sessiontrail's own spans (session traces carry the agent's).
pub const SERVICE_NAME: &str = "sessiontrail";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Diagnostics go to stderr, never into the data on stdout; with `self_traces`, the spans
/// of sessiontrail's crates also go to that endpoint.
pub fn init(verbose: u8, self_traces: Option<OtlpConfig>) -> anyhow::Result<()> {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter);
    let otel = match self_traces {
        Some(cfg) => {
            let exporter = SelfExporter {
                sender: Mutex::new(OtlpSender::new(cfg)?.with_backoff(
                    sessiontrail_export::retry::Backoff {
                        max_attempts: 1,
                        ..Default::default()
                    },
                )),
                resource: ResourceAttributesWithSchema::default(),
            };
            let provider = SdkTracerProvider::builder()
                .with_resource(
                    Resource::builder_empty()
                        .with_service_name(SERVICE_NAME)
                        .with_attribute(opentelemetry::KeyValue::new(
                            "service.version",
                            env!("CARGO_PKG_VERSION"),
                        ))
                        .build(),
                )
                .with_batch_exporter(exporter)
                .build();
            let tracer = provider.tracer(SERVICE_NAME);
            let _ = PROVIDER.set(provider);
            // Only our crates' spans: the HTTP and gRPC stacks' own would trace the exporter.
            let ours = tracing_subscriber::filter::Targets::new()
                .with_target("sessiontrail", tracing::Level::INFO);
            Some(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(ours),
            )
        }
        None => None,
    };
    tracing_subscriber::registry().with(fmt).with(otel).init();
    Ok(())
}

/// Sends what is left of sessiontrail's own spans (at most a few seconds: the exporter's
/// timeout), at exit.
pub fn shutdown() {
    if let Some(p) = PROVIDER.get()
        && let Err(e) = p.shutdown()
    {
        eprintln!("sessiontrail: its own spans could not all be sent: {e}");
    }
}

/// Sends batches of sessiontrail's spans with the sender the session traces use (same
/// endpoint, protocol, headers, TLS), one attempt each: diagnostics are not worth a backlog.
struct SelfExporter {
    sender: Mutex<OtlpSender>,
    resource: ResourceAttributesWithSchema,
}

impl std::fmt::Debug for SelfExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SelfExporter")
    }
}

impl SpanExporter for SelfExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let req = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        // The SDK calls this from its own thread; the sender blocks on a runtime of its own.
        let sent = match self.sender.lock() {
            Ok(mut s) => s
                .send(&req)
                .map(|_| ())
                .map_err(|e| OTelSdkError::InternalFailure(e.reason)),
            Err(_) => Err(OTelSdkError::InternalFailure("sender poisoned".into())),
        };
        std::future::ready(sent)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}
