//! The pipeline room (DESIGN.md 1): the one way from an agent's records to stored spans.
//!
//! Owns: the order of the stages (the adapter's parse with the policy, git enrichment, the
//! post-commit hook's links, the trace build, the store write, then the git notes of what
//! the store committed), for whole files ([`backfill`], on several threads, all stopped when
//! one fails) and for files that grow ([`Live`]: which spans are final, idle time,
//! resuming from the store's checkpoints, the sensitive accesses read live, once each);
//! every session under some folders ([`Watcher`], with what the hook spool says: end
//! signals, and facts kept with each trace that every later build of it uses); the
//! post-commit hook's linking rules ([`link_head`]).
//!
//! Must not: parse an agent's format (that is `sources`), speak OTLP (`export`), or print
//! (`cli` drives it and reports what it returns).

#![warn(missing_docs)]

mod backfill;
mod encode;
mod link;
mod live;
mod watch;

pub use backfill::{Backfill, Event, Options, Spans, backfill};
pub use encode::encode;
pub use link::{Linked, link_head};
pub use live::{Access, Finality, Finished, Live, Polled};
pub use watch::{WatchEvent, Watcher};

/// How recent a record or hook event must be for what is read now (HEAD, the settings
/// files) to be what it was then.
const FRESH_NS: i64 = 10_000_000_000;

/// The hook facts the store holds for a trace (JSON documents), read back; one that cannot
/// be read (written by a newer release) is left out and logged.
pub(crate) fn facts_of(rows: &[String]) -> Vec<sessiontrail_model::HookFact> {
    rows.iter()
        .filter_map(|r| match serde_json::from_str(r) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!("a stored hook fact cannot be read ({e}); left out");
                None
            }
        })
        .collect()
}

use std::path::PathBuf;

/// Why a run stopped. Whatever the store committed before stays.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The store refused a write (disk full, locked past its timeout, damaged).
    #[error("cannot write to the store {}", path.display())]
    Store {
        /// The store's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: sessiontrail_store::StoreError,
    },
    /// The store's write lock was held by another process for too long (the error names
    /// the store and who holds it).
    #[error(transparent)]
    Locked(sessiontrail_store::StoreError),
    /// A session file cannot be read on from its checkpoint.
    #[error(transparent)]
    Changed(#[from] sessiontrail_sources::FileChanged),
    /// A git operation the stage cannot do without failed.
    #[error(transparent)]
    Git(#[from] sessiontrail_git::GitError),
}

impl PipelineError {
    fn store(
        store: &sessiontrail_store::Store,
    ) -> impl FnOnce(sessiontrail_store::StoreError) -> Self {
        let path = store.path().to_owned();
        move |source| match source {
            sessiontrail_store::StoreError::Locked { .. } => PipelineError::Locked(source),
            source => PipelineError::Store { path, source },
        }
    }
}
