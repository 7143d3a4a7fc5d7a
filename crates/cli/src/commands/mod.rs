//! One module per subcommand; each returns the exit code.

mod commits;
mod doctor;
mod export;
mod git;
pub mod hook;
mod policy;
mod query;
mod service;
mod sessions;
mod show;
mod watch;

use std::io::Write;

use anyhow::Context;

use crate::args::{Cli, Command};
use crate::settings;

/// Where `watch --self-traces` sends sessiontrail's own spans: the endpoint its session
/// traces go to. `None` for any other command.
pub fn self_traces(cli: &Cli) -> anyhow::Result<Option<sessiontrail_export::OtlpConfig>> {
    let Command::Watch(a) = &cli.command else {
        return Ok(None);
    };
    if !a.self_traces {
        return Ok(None);
    }
    let cfg = export::otlp_config(&a.otlp)?.context(
        "--self-traces sends sessiontrail's own spans where the session traces go: give --endpoint or OTEL_EXPORTER_OTLP_ENDPOINT",
    )?;
    Ok(Some(cfg))
}

pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<u8> {
    let store = settings::store_path(cli.store.as_deref())?;
    let cli_store = cli.store.is_some();
    match cli.command {
        Command::Export(a) => export::run(a, &store, out),
        Command::Sessions(a) => sessions::run(&a, &open_existing(&store)?, out),
        Command::Show(a) => show::run(&a, &open_existing(&store)?, out),
        // A commit is answered from the notes and a backend even where no store exists.
        Command::Query(a) if a.commit.is_some() && !store.exists() => {
            commits::by_commit(&a, a.commit.as_deref().unwrap_or_default(), None, out)
        }
        Command::Query(a) => query::run(&a, &open_existing(&store)?, out),
        Command::Policy(a) => policy::run(a, out),
        Command::Git(a) => git::run(a, &store, out),
        Command::Hook(a) => hook::run(a, &store, cli_store, out),
        Command::Watch(a) => watch::run(a, &store, out),
        Command::Doctor(a) => doctor::run(&a, &store, out),
        Command::Service(a) => service::run(a.command, &store, cli_store, out),
    }
}

/// Reading commands do not create a store where there is none.
fn open_existing(path: &std::path::Path) -> anyhow::Result<sessiontrail_store::Store> {
    if !path.exists() {
        anyhow::bail!(
            "no store at {} yet: run `sessiontrail export` first, or point --store at an existing one",
            path.display()
        );
    }
    sessiontrail_store::Store::open(path).context("reading commands need a usable store")
}
