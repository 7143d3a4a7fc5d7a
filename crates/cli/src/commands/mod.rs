//! One module per subcommand; each returns the exit code.

mod export;
mod sessions;
mod show;

use std::io::Write;

use anyhow::Context;

use crate::args::{Cli, Command};
use crate::settings;

pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<u8> {
    let store = settings::store_path(cli.store.as_deref())?;
    match cli.command {
        Command::Export(a) => export::run(a, &store, out),
        Command::Sessions(a) => sessions::run(&a, &open(&store)?, out),
        Command::Show(a) => show::run(&a, &open(&store)?, out),
    }
}

pub(crate) fn open(path: &std::path::Path) -> anyhow::Result<sessiontrail_store::Store> {
    sessiontrail_store::Store::open(path).with_context(|| {
        "run `sessiontrail export` to create it, or point --store at an existing one".to_string()
    })
}
