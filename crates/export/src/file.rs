//! OTLP/JSON lines: one `ExportTraceServiceRequest` per line, in the OTLP JSON encoding (hex
//! ids, camelCase names, 64-bit integers as strings), as the Collector's file exporter
//! writes and its `otlpjsonfile` receiver reads.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::ExportError;

/// A file of OTLP/JSON lines, created (or truncated) on open.
pub struct OtlpJsonFile {
    out: BufWriter<File>,
    path: PathBuf,
}

impl OtlpJsonFile {
    /// Creates the file (and its folder).
    pub fn create(path: &Path) -> Result<OtlpJsonFile, ExportError> {
        let err = |e| ExportError::File {
            path: path.to_owned(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let f = File::create(path).map_err(err)?;
        Ok(OtlpJsonFile {
            out: BufWriter::with_capacity(1 << 20, f),
            path: path.to_owned(),
        })
    }

    /// Appends one request as one line.
    pub fn write(&mut self, req: &ExportTraceServiceRequest) -> Result<(), ExportError> {
        let err = |e| ExportError::File {
            path: self.path.clone(),
            source: e,
        };
        serde_json::to_writer(&mut self.out, req).map_err(|e| err(std::io::Error::other(e)))?;
        self.out.write_all(b"\n").map_err(err)
    }

    /// Flushes everything to disk.
    pub fn finish(mut self) -> Result<(), ExportError> {
        let err = |e| ExportError::File {
            path: self.path.clone(),
            source: e,
        };
        self.out.flush().map_err(err)?;
        self.out.get_ref().sync_all().map_err(err)
    }
}
