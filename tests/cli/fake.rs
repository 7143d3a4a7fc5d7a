//! In-process OTLP receivers that answer as a script says: the real backends cannot fail on
//! demand (OTEL.md 4.5: a fake is the tool for fault injection only).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The raw body (still compressed if it was).
    pub body: Vec<u8>,
    /// The decoded request.
    pub request: ExportTraceServiceRequest,
    /// What was answered.
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }
    pub fn span_ids(&self) -> Vec<Vec<u8>> {
        self.request
            .resource_spans
            .iter()
            .flat_map(|r| r.scope_spans.iter())
            .flat_map(|s| s.spans.iter())
            .map(|s| s.span_id.clone())
            .collect()
    }
}

/// A scripted "status" that answers nothing for 3 s, then hangs up.
pub const HANG: u16 = 0;
/// A scripted "status" that accepts the request but reports one span rejected (200 with
/// `partial_success`).
pub const PARTIAL: u16 = 1;

/// An OTLP/HTTP receiver on 127.0.0.1 answering each request with the next scripted status
/// (then 200 when the script is used up; [`HANG`] and [`PARTIAL`] as they say).
pub struct FakeHttp {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl FakeHttp {
    pub fn start(script: Vec<(u16, Option<&'static str>)>) -> FakeHttp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = received.clone();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let rec = rec.clone();
                let script = script.clone();
                std::thread::spawn(move || serve(conn, &rec, &script));
            }
        });
        FakeHttp { url, received }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(
    conn: std::net::TcpStream,
    rec: &Mutex<Vec<Received>>,
    script: &Mutex<VecDeque<(u16, Option<&'static str>)>>,
) {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut w = conn;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            r.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let gz = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
        let raw = if gz {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            body.clone()
        };
        let json = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/json");
        let request = if json {
            serde_json::from_slice(&raw).expect("an OTLP/JSON request")
        } else {
            ExportTraceServiceRequest::decode(&raw[..]).expect("a protobuf OTLP request")
        };
        let (status, retry_after) = script.lock().unwrap().pop_front().unwrap_or((200, None));
        rec.lock().unwrap().push(Received {
            path,
            headers,
            body,
            request,
            status,
            at: std::time::Instant::now(),
        });
        if status == HANG {
            std::thread::sleep(std::time::Duration::from_secs(3));
            return;
        }
        let reply = match status {
            200 => ExportTraceServiceResponse::default().encode_to_vec(),
            PARTIAL => ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: 1,
                    error_message: "span too old".into(),
                }),
            }
            .encode_to_vec(),
            _ => b"scripted failure".to_vec(),
        };
        let code = if status == PARTIAL { 200 } else { status };
        let mut head = format!(
            "HTTP/1.1 {code} X\r\ncontent-length: {}\r\ncontent-type: application/x-protobuf\r\n",
            reply.len()
        );
        if let Some(ra) = retry_after {
            head.push_str(&format!("retry-after: {ra}\r\n"));
        }
        head.push_str("\r\n");
        if w.write_all(head.as_bytes())
            .and_then(|()| w.write_all(&reply))
            .is_err()
        {
            return;
        }
    }
}

/// A gRPC answer.
#[derive(Debug, Clone, Copy)]
pub enum GrpcReply {
    Ok,
    Status(tonic::Code),
    Partial(i64),
    /// No answer for this long, then success.
    Hang(std::time::Duration),
}

/// Requests a gRPC fake received, with their metadata.
pub type GrpcLog = Arc<Mutex<Vec<(ExportTraceServiceRequest, Vec<(String, String)>)>>>;

#[derive(Clone)]
struct Service {
    received: GrpcLog,
    script: Arc<Mutex<VecDeque<GrpcReply>>>,
}

#[tonic::async_trait]
impl TraceService for Service {
    async fn export(
        &self,
        req: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = req.metadata().iter().filter_map(|kv| match kv {
            tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                Some((k.to_string(), v.to_str().unwrap_or("").to_owned()))
            }
            tonic::metadata::KeyAndValueRef::Binary(..) => None,
        });
        let headers = headers.collect();
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(GrpcReply::Ok);
        self.received
            .lock()
            .unwrap()
            .push((req.into_inner(), headers));
        match reply {
            GrpcReply::Ok => Ok(tonic::Response::new(ExportTraceServiceResponse::default())),
            GrpcReply::Partial(n) => Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: n,
                    error_message: "too old".into(),
                }),
            })),
            GrpcReply::Status(code) => Err(tonic::Status::new(code, "scripted failure")),
            GrpcReply::Hang(d) => {
                tokio::time::sleep(d).await;
                Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
            }
        }
    }
}

/// An OTLP/gRPC receiver on 127.0.0.1.
pub struct FakeGrpc {
    pub url: String,
    pub received: GrpcLog,
    _rt: tokio::runtime::Runtime,
}

impl FakeGrpc {
    pub fn start(script: Vec<GrpcReply>) -> FakeGrpc {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let svc = Service {
            received: received.clone(),
            script: Arc::new(Mutex::new(VecDeque::from(script))),
        };
        let incoming = {
            let _g = rt.enter();
            tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap()
        };
        let url = format!("http://{}", incoming.local_addr().unwrap());
        rt.spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(svc))
                .serve_with_incoming(incoming),
        );
        FakeGrpc {
            url,
            received,
            _rt: rt,
        }
    }

    pub fn span_ids(&self) -> Vec<Vec<u8>> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(r, _)| {
                r.resource_spans
                    .iter()
                    .flat_map(|r| r.scope_spans.iter())
                    .flat_map(|s| s.spans.iter())
                    .map(|s| s.span_id.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
