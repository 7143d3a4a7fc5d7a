//! OTLP/JSON lines: one `ExportTraceServiceRequest` per line, in the OTLP JSON encoding (hex
//! ids, camelCase names, 64-bit integers as strings), as the Collector's file exporter
//! writes and its `otlpjsonfile` receiver reads.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::ExportError;

/// A file of OTLP/JSON lines, created (or truncated) on open; or standard output.
pub struct OtlpJsonFile {
    out: BufWriter<Box<dyn Write>>,
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

    /// Appends one request as one line.
    pub fn write(&mut self, req: &ExportTraceServiceRequest) -> Result<(), ExportError> {
        let err = |e| ExportError::File {
            path: self.path.clone(),
            source: e,
        };
        serde_json::to_writer(&mut self.out, req).map_err(|e| err(std::io::Error::other(e)))?;
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
