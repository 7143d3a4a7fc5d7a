//! The `sessiontrail` binary: argument parsing, progress, output formats and exit codes,
//! and the sidecar's process plumbing (its `/metrics` endpoint, alert commands and
//! webhooks, its own diagnostics and spans, signals, file-system notifications,
//! user-service files). The work itself is
//! done by the library crates; commands only wire them together.

mod alert;
mod args;
mod commands;
mod diagnostics;
mod exit;
mod format;
mod metrics;
mod settings;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

// A backfill allocates and frees millions of small strings across two threads: glibc's
// allocator spent a fifth of an export's time on them (bench/README.md).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let logging = commands::self_traces(&cli)
        .and_then(|self_traces| diagnostics::init(cli.verbose, self_traces));
    if let Err(err) = logging {
        eprintln!("sessiontrail: {}", format::error_chain(&err));
        return ExitCode::from(exit::FATAL);
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = commands::run(cli, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    diagnostics::shutdown();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(exit::OK),
        Err(err) => {
            let _ = out.flush();
            eprintln!("sessiontrail: {}", format::error_chain(&err));
            ExitCode::from(exit::FATAL)
        }
    }
}

/// A reader that closed the pipe (`sessiontrail sessions | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
