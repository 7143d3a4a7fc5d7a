//! OTLP/JSON lines: one `ExportTraceServiceRequest` per line, in the OTLP JSON encoding (hex
//! ids, camelCase names, 64-bit integers as strings), as the Collector's file exporter
//! writes and its `otlpjsonfile` receiver reads.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use opentelemetry_proto::tonic::trace::v1::Span;
use sessiontrail_trace::Resource;

use crate::ExportError;
use crate::driver::Delivery;
use crate::request::{JsonRequest, group_text};

/// A file of OTLP/JSON lines, created (or truncated) on open; or standard output.
pub struct OtlpJsonFile {
    out: BufWriter<Box<dyn Write + Send>>,
    /// The file to sync at the end (none for standard output).
    file: Option<File>,
    path: PathBuf,
}

impl OtlpJsonFile {
    /// Creates the file (and its folder); `-` is standard output.
    pub fn create(path: &Path) -> Result<OtlpJsonFile, ExportError> {
        if path == Path::new("-") {
            return Ok(OtlpJsonFile {
                out: BufWriter::with_capacity(1 << 20, Box::new(std::io::stdout())),
                file: None,
                path: path.to_owned(),
            });
        }
        let err = |e| ExportError::File {
            path: path.to_owned(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let f = File::create(path).map_err(err)?;
        let sync = f.try_clone().map_err(err)?;
        Ok(OtlpJsonFile {
            out: BufWriter::with_capacity(1 << 20, Box::new(f)),
            file: Some(sync),
            path: path.to_owned(),
        })
    }

    /// Whether the lines go to standard output.
    pub fn is_stdout(&self) -> bool {
        self.file.is_none()
    }

    /// Appends one request already in OTLP/JSON as one line.
    fn write_line(&mut self, json: &[u8]) -> Result<(), ExportError> {
        let err = |e| ExportError::File {
            path: self.path.clone(),
            source: e,
        };
        self.out.write_all(json).map_err(err)?;
        self.out.write_all(b"\n").map_err(err)
    }

    /// Flushes everything, and to disk where the sink is a file that can be synced (a
    /// pipe, a terminal or `/dev/null` cannot, and need not be).
    pub fn finish(mut self) -> Result<(), ExportError> {
        let err = |e| ExportError::File {
            path: self.path.clone(),
            source: e,
        };
        self.out.flush().map_err(err)?;
        match self.file.as_ref().map(File::sync_all) {
            Some(Err(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            Some(Err(e)) => Err(err(e)),
            _ => Ok(()),
        }
    }
}

/// Lines of bounded size, sessions added as they are stored. Each span is serialized once,
/// straight from the trace, and both the serializing and the writing happen on a thread of
/// their own: the caller only hands the spans over.
pub struct JsonLines {
    traces: Option<mpsc::SyncSender<(Resource, Vec<Span>)>>,
    writer: Option<JoinHandle<Result<(OtlpJsonFile, Delivery), ExportError>>>,
}

impl JsonLines {
    /// Lines of at most `max_bytes` (a single larger span still goes, alone) into `file`.
    pub fn new(file: OtlpJsonFile, max_bytes: usize) -> JsonLines {
        // Two sessions in flight: a few MB, whatever the corpus.
        let (tx, rx) = mpsc::sync_channel::<(Resource, Vec<Span>)>(2);
        let writer = std::thread::spawn(move || {
            let mut w = LineWriter {
                file,
                request: JsonRequest::new(),
                request_spans: 0,
                max_bytes,
                delivery: Delivery::default(),
                scope: sessiontrail_trace::scope(),
            };
            for (resource, spans) in rx {
                w.push(&resource, &spans)?;
            }
            if w.request_spans > 0 {
                w.send()?;
            }
            Ok((w.file, w.delivery))
        });
        JsonLines {
            traces: Some(tx),
            writer: Some(writer),
        }
    }

    /// Adds a session's spans.
    pub fn push(&mut self, resource: Resource, spans: Vec<Span>) -> Result<(), ExportError> {
        let sent = self
            .traces
            .as_ref()
            .is_some_and(|tx| tx.send((resource, spans)).is_ok());
        if sent {
            return Ok(());
        }
        // The writer stopped on an error: that error is the answer.
        self.traces = None;
        self.join().map(|_| ())
    }

    fn join(&mut self) -> Result<(OtlpJsonFile, Delivery), ExportError> {
        let writer = self.writer.take().ok_or_else(stopped)?;
        writer.join().map_err(|_| stopped())?
    }

    /// Writes the last line; the file (to [`OtlpJsonFile::finish`]) and what was written.
    pub fn finish(mut self) -> Result<(OtlpJsonFile, Delivery), ExportError> {
        self.traces = None;
        self.join()
    }
}

/// The writing thread's side of [`JsonLines`].
struct LineWriter {
    file: OtlpJsonFile,
    request: JsonRequest,
    request_spans: u64,
    max_bytes: usize,
    delivery: Delivery,
    scope: sessiontrail_trace::InstrumentationScope,
}

impl LineWriter {
    fn push(&mut self, resource: &Resource, spans: &[Span]) -> Result<(), ExportError> {
        let (open, close) = group_text(resource, &self.scope);
        let mut in_group = false;
        let mut text = Vec::new();
        for span in spans {
            text.clear();
            serde_json::to_writer(&mut text, span).expect("OTLP spans serialize");
            if self
                .request
                .overflows(!in_group, (&open, &close), &text, self.max_bytes)
            {
                self.send()?;
                in_group = false;
            }
            if !in_group {
                self.request.open_group(&open, &close);
                in_group = true;
            }
            self.request.push_span(&text);
            self.request_spans += 1;
        }
        Ok(())
    }

    /// Writes the request in progress as a line.
    fn send(&mut self) -> Result<(), ExportError> {
        let line = self.request.finish();
        let d = &mut self.delivery;
        d.spans += std::mem::take(&mut self.request_spans);
        d.requests += 1;
        // Its newline too.
        d.bytes += line.len() as u64 + 1;
        d.max_request_bytes = d.max_request_bytes.max(line.len() as u64);
        self.file.write_line(&line)
    }
}

fn stopped() -> ExportError {
    ExportError::File {
        path: PathBuf::from("OTLP/JSON file"),
        source: std::io::Error::other("its writer stopped"),
    }
}
