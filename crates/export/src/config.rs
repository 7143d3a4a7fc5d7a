//! Where and how to send: flags, then the standard `OTEL_EXPORTER_OTLP_*` variables, then
//! the OTLP defaults (OTLP exporter spec, "Configuration Options").

use std::path::PathBuf;
use std::time::Duration;

use crate::ConfigError;

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with a protobuf body.
    HttpProtobuf,
    /// OTLP/HTTP with a JSON body.
    HttpJson,
}

impl Protocol {
    /// Parses the spec's names (`grpc`, `http/protobuf`, `http/json`).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" | "http" => Some(Protocol::HttpProtobuf),
            "http/json" => Some(Protocol::HttpJson),
            _ => None,
        }
    }

    /// The spec's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }
}

/// Request body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// None.
    None,
    /// gzip.
    Gzip,
}

/// A resolved OTLP destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// Full URL requests go to (for HTTP, including `/v1/traces`).
    pub endpoint: String,
    /// Transport.
    pub protocol: Protocol,
    /// Extra request headers (gRPC metadata).
    pub headers: Vec<(String, String)>,
    /// Deadline of one request.
    pub timeout: Duration,
    /// Body compression.
    pub compression: Compression,
    /// PEM file of the CA that signs the backend's certificate.
    pub certificate: Option<PathBuf>,
    /// PEM client certificate for mutual TLS.
    pub client_certificate: Option<PathBuf>,
    /// PEM client key for mutual TLS.
    pub client_key: Option<PathBuf>,
}

impl OtlpConfig {
    /// A name for the destination that tells apart everything that changes where spans land.
    pub fn sink_key(&self) -> String {
        format!(
            "otlp {} {}",
            self.protocol.as_str(),
            crate::display_url(&self.endpoint)
        )
    }
}

/// What the command line says; each `None` falls back to the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--endpoint`.
    pub endpoint: Option<String>,
    /// `--protocol`.
    pub protocol: Option<Protocol>,
    /// `--header` pairs.
    pub headers: Vec<(String, String)>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--compression`.
    pub compression: Option<Compression>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves the destination, or `None` when no endpoint is configured anywhere. `env` reads
/// a variable (the real environment in the binary, a map in tests).
pub fn resolve(
    o: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<OtlpConfig>, ConfigError> {
    // Per-signal variable first, then the generic one.
    let var = |name: &str| -> Option<(String, String)> {
        let signal = format!("OTEL_EXPORTER_OTLP_TRACES_{name}");
        let generic = format!("OTEL_EXPORTER_OTLP_{name}");
        env(&signal)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (signal, v))
            .or_else(|| {
                env(&generic)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (generic, v))
            })
    };
    let protocol = match (o.protocol, var("PROTOCOL")) {
        (Some(p), _) => p,
        (None, Some((name, v))) => Protocol::parse(&v).ok_or_else(|| ConfigError::Invalid {
            source_name: name,
            value: v.clone(),
            expected: "grpc, http/protobuf or http/json",
        })?,
        (None, None) => Protocol::HttpProtobuf,
    };
    let insecure = var("INSECURE").is_some_and(|(_, v)| v.trim().eq_ignore_ascii_case("true"));
    let (source_name, raw, exact) = match (
        &o.endpoint,
        env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").filter(|v| !v.trim().is_empty()),
        env("OTEL_EXPORTER_OTLP_ENDPOINT").filter(|v| !v.trim().is_empty()),
    ) {
        (Some(e), _, _) => ("--endpoint".to_owned(), e.clone(), false),
        (None, Some(e), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT".to_owned(), e, true),
        (None, None, Some(e)) => ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), e, false),
        (None, None, None) => return Ok(None),
    };
    let endpoint = endpoint_url(&source_name, raw.trim(), protocol, exact, insecure)?;
    let mut headers = match var("HEADERS") {
        Some((name, v)) => parse_headers(&name, &v)?,
        None => Vec::new(),
    };
    for (k, v) in &o.headers {
        headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v.clone()));
    }
    // A deadline of 0 would fail every request before it is sent.
    let timeout =
        match (o.timeout, var("TIMEOUT")) {
            (Some(t), _) if t.is_zero() => {
                return Err(ConfigError::Invalid {
                    source_name: "--timeout-ms".into(),
                    value: "0".into(),
                    expected: "a timeout of at least 1 millisecond",
                });
            }
            (Some(t), _) => t,
            (None, Some((name, v))) => {
                let ms: u64 = v.trim().parse().ok().filter(|&ms| ms > 0).ok_or_else(|| {
                    ConfigError::Invalid {
                        source_name: name,
                        value: v.clone(),
                        expected: "a timeout in milliseconds, at least 1",
                    }
                })?;
                Duration::from_millis(ms)
            }
            (None, None) => DEFAULT_TIMEOUT,
        };
    let compression = match (o.compression, var("COMPRESSION")) {
        (Some(c), _) => c,
        (None, Some((name, v))) => match v.trim().to_ascii_lowercase().as_str() {
            "gzip" => Compression::Gzip,
            "none" => Compression::None,
            _ => {
                return Err(ConfigError::Invalid {
                    source_name: name,
                    value: v,
                    expected: "gzip or none",
                });
            }
        },
        (None, None) => Compression::None,
    };
    let path = |name: &str| var(name).map(|(_, v)| PathBuf::from(v.trim()));
    let cfg = OtlpConfig {
        endpoint,
        protocol,
        headers,
        timeout,
        compression,
        certificate: path("CERTIFICATE"),
        client_certificate: path("CLIENT_CERTIFICATE"),
        client_key: path("CLIENT_KEY"),
    };
    if cfg.client_certificate.is_some() != cfg.client_key.is_some() {
        return Err(ConfigError::Invalid {
            source_name: "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / _CLIENT_KEY".into(),
            value: String::new(),
            expected: "both a client certificate and a client key, or neither",
        });
    }
    Ok(Some(cfg))
}

/// Builds the request URL. The generic variable and `--endpoint` are base URLs: HTTP gets
/// `/v1/traces` appended (to a bare host, for `--endpoint`); the per-signal variable is used
/// as it is.
fn endpoint_url(
    source_name: &str,
    raw: &str,
    protocol: Protocol,
    exact: bool,
    insecure: bool,
) -> Result<String, ConfigError> {
    let invalid = |expected| ConfigError::Invalid {
        source_name: source_name.to_owned(),
        value: raw.to_owned(),
        expected,
    };
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else if insecure {
        format!("http://{raw}")
    } else {
        format!("https://{raw}")
    };
    let mut url = url::Url::parse(&with_scheme)
        .map_err(|_| invalid("a URL such as http://127.0.0.1:4318"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("an http:// or https:// URL with a host"));
    }
    if protocol != Protocol::Grpc && !exact {
        let path = url.path().trim_end_matches('/').to_owned();
        if source_name == "--endpoint" {
            if path.is_empty() {
                url.set_path("/v1/traces");
            }
        } else {
            url.set_path(&format!("{path}/v1/traces"));
        }
    }
    Ok(url.to_string())
}

/// `k1=v1,k2=v2` with URL-encoded values (W3C baggage-like format the spec uses).
pub fn parse_headers(source_name: &str, raw: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (i, pair) in raw.split(',').enumerate() {
        if pair.trim().is_empty() {
            continue;
        }
        let Some((k, v)) = pair.split_once('=') else {
            // The value may be a secret: name the position, not the text.
            return Err(ConfigError::Invalid {
                source_name: source_name.to_owned(),
                value: format!("entry {}", i + 1),
                expected: "key=value pairs separated by commas",
            });
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(ConfigError::Invalid {
                source_name: source_name.to_owned(),
                value: format!("entry {}", i + 1),
                expected: "a header name before '='",
            });
        }
        let v = percent_encoding::percent_decode_str(v.trim())
            .decode_utf8_lossy()
            .into_owned();
        out.push((k.to_owned(), v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve_with(
        o: &Overrides,
        vars: &[(&str, &str)],
    ) -> Result<Option<OtlpConfig>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        resolve(o, &|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_configured_means_no_sink() {
        assert_eq!(resolve_with(&Overrides::default(), &[]).unwrap(), None);
    }

    #[test]
    fn generic_endpoint_gets_the_signal_path_and_the_signal_one_does_not() {
        let c = resolve_with(
            &Overrides::default(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318/base/")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://h:4318/base/v1/traces");
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        let c = resolve_with(
            &Overrides::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://t:1/custom");
    }

    #[test]
    fn flag_wins_and_keeps_an_explicit_path() {
        let o = Overrides {
            endpoint: Some("http://127.0.0.1:6006".into()),
            ..Default::default()
        };
        let c = resolve_with(
            &o,
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://elsewhere:4318")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:6006/v1/traces");
        let o = Overrides {
            endpoint: Some("http://h/otlp/traces".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_with(&o, &[]).unwrap().unwrap().endpoint,
            "http://h/otlp/traces"
        );
    }

    #[test]
    fn grpc_endpoints_are_left_alone() {
        let c = resolve_with(
            &Overrides::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (c.endpoint.as_str(), c.protocol),
            ("http://h:4317/", Protocol::Grpc)
        );
        let c = resolve_with(
            &Overrides::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "h:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://h:4317/");
    }

    #[test]
    fn headers_timeout_and_compression_come_from_the_environment() {
        let c = resolve_with(
            &Overrides {
                headers: vec![("x-b".into(), "flag".into())],
                ..Default::default()
            },
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-a=1,x-b=two%20words"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            c.headers,
            vec![("x-a".into(), "1".into()), ("x-b".into(), "flag".into())]
        );
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.compression, Compression::Gzip);
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h")];
        let zero = Overrides {
            timeout: Some(Duration::ZERO),
            ..Default::default()
        };
        let e = resolve_with(&zero, &env).unwrap_err().to_string();
        assert!(
            e.contains("--timeout-ms") && e.contains("at least 1"),
            "{e}"
        );
        let e = resolve_with(
            &Overrides::default(),
            &[env[0], ("OTEL_EXPORTER_OTLP_TIMEOUT", "0")],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("OTEL_EXPORTER_OTLP_TIMEOUT"), "{e}");
    }

    #[test]
    fn bad_values_name_the_variable_and_never_echo_header_values() {
        let err = resolve_with(
            &Overrides::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && err.contains("carrier-pigeon"),
            "{err}"
        );
        let err = resolve_with(
            &Overrides::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "authorization"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("OTEL_EXPORTER_OTLP_HEADERS") && !err.contains("authorization"),
            "{err}"
        );
        let err = resolve_with(
            &Overrides {
                endpoint: Some("ftp://h".into()),
                ..Default::default()
            },
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--endpoint"), "{err}");
        assert!(
            resolve_with(
                &Overrides::default(),
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"),
                    ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")
                ]
            )
            .is_err()
        );
    }
}
