//! Baseline of the backfill benchmark: a plain `serde_json` parse of the same bytes.
//!
//! Reads every `*.jsonl` file under the given folders (or the given files), line by line, and
//! parses each non-empty line into a `serde_json::Value` on one thread. Prints the number of
//! lines and bytes and the elapsed time, as text or (with `--json`) as one JSON object.
//!
//! ```text
//! jsonparse [--json] PATH...
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut json = false;
    let mut roots = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("--json") => json = true,
            Some("-h" | "--help") => {
                println!("usage: jsonparse [--json] PATH...");
                return ExitCode::SUCCESS;
            }
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    if roots.is_empty() {
        eprintln!("usage: jsonparse [--json] PATH...");
        return ExitCode::from(2);
    }
    match run(&roots, json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jsonparse: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(roots: &[PathBuf], json: bool) -> Result<(), String> {
    let started = Instant::now();
    let mut files = Vec::new();
    for root in roots {
        collect(root, &mut files).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    files.sort();

    let (mut lines, mut bytes, mut errors) = (0u64, 0u64, 0u64);
    let mut buf = Vec::with_capacity(1 << 16);
    for path in &files {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            lines += 1;
            match serde_json::from_slice::<serde_json::Value>(line) {
                // Keep the value alive until here so the parse is not optimised away.
                Ok(v) => std::hint::black_box(&v),
                Err(_) => {
                    errors += 1;
                    continue;
                }
            };
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "files": files.len(),
                "lines": lines,
                "bytes": bytes,
                "errors": errors,
                "elapsed_s": elapsed,
            })
        );
    } else {
        println!(
            "{} files, {lines} lines, {bytes} bytes, {errors} unparsable, {elapsed:.3} s ({:.1} MB/s)",
            files.len(),
            bytes as f64 / 1e6 / elapsed
        );
    }
    if errors > 0 {
        return Err(format!("{errors} lines did not parse"));
    }
    Ok(())
}

/// Every `*.jsonl` file under `path` (or `path` itself when it is a file).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let p = entry.path();
        if entry.file_type()?.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "jsonl") {
            out.push(p);
        }
    }
    Ok(())
}
