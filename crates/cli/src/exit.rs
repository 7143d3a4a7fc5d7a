//! Exit codes scripts can rely on (README "Exit codes").

/// Everything asked for was done.
pub const OK: u8 = 0;
/// Done, but some input was malformed or unreadable and was skipped (the summary says which).
pub const SKIPPED_INPUT: u8 = 1;
/// Usage, configuration or fatal error: nothing (more) was done.
pub const FATAL: u8 = 2;
/// Stored, but not every span reached the OTLP endpoint; the rest stays queued in the store
/// for the next export.
pub const DELIVERY_INCOMPLETE: u8 = 3;
/// `doctor` found a check that failed (the output names it).
pub const PROBLEMS: u8 = 4;
