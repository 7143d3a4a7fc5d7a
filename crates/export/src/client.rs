//! The two OTLP transports behind one blocking `send`, with retry.
//!
//! Requests are built by us (`opentelemetry-proto` types) rather than by
//! `opentelemetry-otlp`'s `SpanExporter`: spans come from the store with their own ids and
//! times, several sessions (several resources) share a request, delivery must be recorded
//! per acknowledged request, and partial success must be read rather than logged. The
//! transports are the generated tonic client and reqwest.

use std::io::Write;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::ExportError;
use crate::config::{Compression, OtlpConfig, Protocol};
use crate::retry::{Backoff, Class, classify_grpc, classify_http};

/// The backend's answer to an accepted request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ack {
    /// Spans the backend said it rejected (OTLP partial success).
    pub rejected_spans: u64,
    /// What it said about them.
    pub message: Option<String>,
    /// Attempts it took.
    pub attempts: u32,
}

/// A request that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// What happened, for people (no request content).
    pub reason: String,
    /// Whether the backend refused it for good (retrying later will not help).
    pub permanent: bool,
    /// Attempts made.
    pub attempts: u32,
    /// How long the backend asked us to wait (HTTP `Retry-After`).
    pub retry_after: Option<Duration>,
}

enum Transport {
    Grpc {
        client: TraceServiceClient<Channel>,
        headers: Vec<(
            MetadataKey<tonic::metadata::Ascii>,
            MetadataValue<tonic::metadata::Ascii>,
        )>,
    },
    Http {
        client: reqwest::Client,
        json: bool,
    },
}

/// Sends requests to one OTLP endpoint, retrying what is worth retrying.
pub struct OtlpSender {
    rt: tokio::runtime::Runtime,
    transport: Transport,
    cfg: OtlpConfig,
    backoff: Backoff,
}

impl OtlpSender {
    /// Prepares the connection (lazily: nothing is sent until the first request).
    pub fn new(cfg: OtlpConfig) -> Result<OtlpSender, ExportError> {
        // reqwest and tonic are built without a default TLS provider; use ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ExportError::Setup {
                what: "the async runtime".into(),
                reason: e.to_string(),
            })?;
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| ExportError::Setup {
                what: format!("TLS file {}", p.display()),
                reason: e.to_string(),
            })
        };
        let transport = match cfg.protocol {
            Protocol::Grpc => {
                let mut ep = Endpoint::from_shared(cfg.endpoint.clone())
                    .map_err(|e| ExportError::Setup {
                        what: format!("gRPC endpoint {}", display_url(&cfg.endpoint)),
                        reason: e.to_string(),
                    })?
                    .timeout(cfg.timeout)
                    .connect_timeout(cfg.timeout);
                if cfg.endpoint.starts_with("https://") {
                    let mut tls = ClientTlsConfig::new().with_webpki_roots();
                    if let Some(ca) = &cfg.certificate {
                        tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
                    }
                    if let (Some(c), Some(k)) = (&cfg.client_certificate, &cfg.client_key) {
                        tls = tls.identity(Identity::from_pem(read(c)?, read(k)?));
                    }
                    ep = ep.tls_config(tls).map_err(|e| ExportError::Setup {
                        what: "gRPC TLS".into(),
                        reason: e.to_string(),
                    })?;
                }
                let channel = {
                    let _guard = rt.enter();
                    ep.connect_lazy()
                };
                let mut client =
                    TraceServiceClient::new(channel).max_decoding_message_size(16 << 20);
                if cfg.compression == Compression::Gzip {
                    client = client
                        .send_compressed(CompressionEncoding::Gzip)
                        .accept_compressed(CompressionEncoding::Gzip);
                }
                let mut headers = Vec::new();
                for (k, v) in &cfg.headers {
                    let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(
                        |_| ExportError::Setup {
                            what: format!("header '{k}'"),
                            reason: "not a valid gRPC metadata name".into(),
                        },
                    )?;
                    let value =
                        MetadataValue::try_from(v.as_str()).map_err(|_| ExportError::Setup {
                            what: format!("header '{k}'"),
                            reason: "value is not valid ASCII metadata".into(),
                        })?;
                    headers.push((key, value));
                }
                Transport::Grpc { client, headers }
            }
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                let mut b = reqwest::Client::builder()
                    .timeout(cfg.timeout)
                    .connect_timeout(cfg.timeout);
                if let Some(ca) = &cfg.certificate {
                    let cert = reqwest::Certificate::from_pem(&read(ca)?).map_err(|e| {
                        ExportError::Setup {
                            what: format!("CA certificate {}", ca.display()),
                            reason: e.to_string(),
                        }
                    })?;
                    b = b.add_root_certificate(cert);
                }
                if let (Some(c), Some(k)) = (&cfg.client_certificate, &cfg.client_key) {
                    let mut pem = read(c)?;
                    pem.extend_from_slice(b"\n");
                    pem.extend_from_slice(&read(k)?);
                    let id = reqwest::Identity::from_pem(&pem).map_err(|e| ExportError::Setup {
                        what: "client certificate".into(),
                        reason: e.to_string(),
                    })?;
                    b = b.identity(id);
                }
                let mut headers = reqwest::header::HeaderMap::new();
                for (k, v) in &cfg.headers {
                    let name =
                        reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                            ExportError::Setup {
                                what: format!("header '{k}'"),
                                reason: "not a valid HTTP header name".into(),
                            }
                        })?;
                    let value = reqwest::header::HeaderValue::from_str(v).map_err(|_| {
                        ExportError::Setup {
                            what: format!("header '{k}'"),
                            reason: "value is not a valid HTTP header value".into(),
                        }
                    })?;
                    headers.insert(name, value);
                }
                let client =
                    b.default_headers(headers)
                        .build()
                        .map_err(|e| ExportError::Setup {
                            what: "HTTP client".into(),
                            reason: e.to_string(),
                        })?;
                Transport::Http {
                    client,
                    json: cfg.protocol == Protocol::HttpJson,
                }
            }
        };
        Ok(OtlpSender {
            rt,
            transport,
            cfg,
            backoff: Backoff::default(),
        })
    }

    /// Replaces the retry schedule.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The destination.
    pub fn config(&self) -> &OtlpConfig {
        &self.cfg
    }

    /// What its requests are measured in.
    pub fn encoding(&self) -> crate::request::Encoding {
        match self.cfg.protocol {
            Protocol::HttpJson => crate::request::Encoding::Json,
            _ => crate::request::Encoding::Protobuf,
        }
    }

    /// Sends one request, retrying transient failures. Returns once the backend answered
    /// for good or the retry budget is spent.
    pub fn send(&mut self, req: &ExportTraceServiceRequest) -> Result<Ack, SendFailure> {
        self.send_with(req, None)
    }

    /// Sends a batch, as [`OtlpSender::send`]; its JSON text is sent as it was built.
    pub fn send_batch(&mut self, batch: &crate::request::Batch) -> Result<Ack, SendFailure> {
        self.send_with(&batch.request, batch.json.as_deref())
    }

    /// Sends an empty export request: what a backend that answers it accepts.
    pub fn probe(&mut self) -> Result<Ack, SendFailure> {
        self.send_with(&ExportTraceServiceRequest::default(), None)
    }

    fn send_with(
        &mut self,
        req: &ExportTraceServiceRequest,
        json: Option<&[u8]>,
    ) -> Result<Ack, SendFailure> {
        let started = Instant::now();
        let mut attempts = 0u32;
        // Encode once; retries resend the same bytes.
        let body = self.encode(req, json).map_err(|reason| SendFailure {
            reason,
            permanent: true,
            attempts: 0,
            retry_after: None,
        })?;
        loop {
            attempts += 1;
            let result = self
                .rt
                .block_on(attempt(&mut self.transport, req, &body, &self.cfg));
            let (class, reason) = match result {
                Ok(mut ack) => {
                    ack.attempts = attempts;
                    return Ok(ack);
                }
                Err(e) => e,
            };
            let asked = match class {
                Class::Throttled(d) => Some(d),
                _ => None,
            };
            let delay = match class {
                Class::Permanent => {
                    return Err(SendFailure {
                        reason,
                        permanent: true,
                        attempts,
                        retry_after: None,
                    });
                }
                Class::Throttled(d) => d,
                Class::Retryable => self.backoff.delay(attempts - 1, rand::random::<f64>()),
            };
            // The next attempt must be able to end within the budget, deadline included.
            if attempts >= self.backoff.max_attempts
                || started.elapsed() + delay + self.cfg.timeout > self.backoff.max_elapsed
            {
                let reason = if attempts > 1 {
                    format!("{reason} (gave up after {attempts} attempts)")
                } else {
                    reason
                };
                return Err(SendFailure {
                    reason,
                    permanent: false,
                    attempts,
                    retry_after: asked,
                });
            }
            tracing::debug!(attempt = attempts, delay_ms = delay.as_millis() as u64, %reason, "retrying OTLP request");
            std::thread::sleep(delay);
        }
    }

    fn encode(
        &self,
        req: &ExportTraceServiceRequest,
        built: Option<&[u8]>,
    ) -> Result<Vec<u8>, String> {
        let Transport::Http { json, .. } = &self.transport else {
            return Ok(Vec::new());
        };
        let raw = if *json {
            match built {
                Some(b) => b.to_vec(),
                None => serde_json::to_vec(req)
                    .map_err(|e| format!("cannot encode the request as JSON: {e}"))?,
            }
        } else {
            req.encode_to_vec()
        };
        Ok(match self.cfg.compression {
            Compression::None => raw,
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(raw.len() / 4),
                    flate2::Compression::fast(),
                );
                enc.write_all(&raw)
                    .and_then(|()| enc.finish())
                    .map_err(|e| format!("cannot compress the request: {e}"))?
            }
        })
    }
}

async fn attempt(
    t: &mut Transport,
    req: &ExportTraceServiceRequest,
    body: &[u8],
    cfg: &OtlpConfig,
) -> Result<Ack, (Class, String)> {
    match t {
        Transport::Grpc { client, headers } => {
            let mut r = tonic::Request::new(req.clone());
            r.set_timeout(cfg.timeout);
            for (k, v) in headers.iter() {
                r.metadata_mut().insert(k.clone(), v.clone());
            }
            match client.export(r).await {
                Ok(resp) => Ok(ack(resp.into_inner())),
                Err(status) => {
                    // RetryInfo details are not decoded; throttled gRPC backends get the
                    // regular backoff.
                    let class = classify_grpc(status.code(), None);
                    Err((
                        class,
                        format!(
                            "gRPC status {:?}: {}",
                            status.code(),
                            clip(status.message())
                        ),
                    ))
                }
            }
        }
        Transport::Http { client, json } => {
            let mut rb = client
                .post(&cfg.endpoint)
                .header(
                    "content-type",
                    if *json {
                        "application/json"
                    } else {
                        "application/x-protobuf"
                    },
                )
                .body(body.to_vec());
            if cfg.compression == Compression::Gzip {
                rb = rb.header("content-encoding", "gzip");
            }
            let resp = rb
                .send()
                .await
                .map_err(|e| (Class::Retryable, http_error(&e, cfg.timeout)))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = resp.bytes().await.unwrap_or_default();
            if (200..300).contains(&status) {
                let decoded = if *json {
                    serde_json::from_slice::<ExportTraceServiceResponse>(&bytes).ok()
                } else {
                    ExportTraceServiceResponse::decode(&bytes[..]).ok()
                };
                return Ok(decoded.map(ack).unwrap_or_default());
            }
            let text = String::from_utf8_lossy(&bytes);
            Err((
                classify_http(status, retry_after.as_deref()),
                format!("HTTP {status}: {}", clip(&text)),
            ))
        }
    }
}

fn ack(r: ExportTraceServiceResponse) -> Ack {
    match r.partial_success {
        Some(p) if p.rejected_spans > 0 || !p.error_message.is_empty() => Ack {
            rejected_spans: u64::try_from(p.rejected_spans).unwrap_or(0),
            message: (!p.error_message.is_empty()).then(|| clip(&p.error_message)),
            attempts: 0,
        },
        _ => Ack::default(),
    }
}

pub(crate) fn http_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {:.1}s", timeout.as_secs_f64());
    }
    // The innermost cause says it best ("Connection refused"), and carries no URL.
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let cause = cause.to_string();
    // An HTTP client talking to a gRPC port gets HTTP/2 frames it cannot parse.
    let hint = if cause.contains("invalid HTTP version") {
        " (is it a gRPC endpoint? use --protocol grpc)"
    } else {
        ""
    };
    format!("{what}: {}{hint}", clip(&cause))
}

/// Backend messages are shown capped and on one line.
fn clip(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    one_line.trim().to_owned()
}

/// A URL without user info, for messages and keys.
pub fn display_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => u.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Compression, OtlpConfig, Protocol};

    /// A backend that takes the connection and never answers: the retries, deadlines
    /// included, end within the budget (an attempt started just before it used to run a
    /// whole deadline past it).
    #[test]
    fn a_hanging_backend_is_given_up_within_the_budget() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let keep = std::thread::spawn(move || {
            let mut held = Vec::new();
            listener.set_nonblocking(true).unwrap();
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until {
                if let Ok((s, _)) = listener.accept() {
                    held.push(s);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let cfg = OtlpConfig {
            endpoint: format!("http://{addr}/v1/traces"),
            protocol: Protocol::HttpProtobuf,
            headers: Vec::new(),
            timeout: Duration::from_millis(300),
            compression: Compression::None,
            certificate: None,
            client_certificate: None,
            client_key: None,
        };
        let budget = Duration::from_secs(1);
        let mut sender = OtlpSender::new(cfg).unwrap().with_backoff(Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(20),
            max_attempts: 100,
            max_elapsed: budget,
        });
        let started = Instant::now();
        let failure = sender
            .send(&ExportTraceServiceRequest::default())
            .unwrap_err();
        let took = started.elapsed();
        assert!(!failure.permanent);
        assert!(failure.attempts >= 2, "{failure:?}");
        assert!(took <= budget + Duration::from_millis(100), "{took:?}");
        keep.join().unwrap();
    }
}
