//! End-to-end tests of the `sessiontrail` binary.

mod benign;
mod doctor;
mod export;
mod fake;
mod fixtures;
mod git;
mod hook;
mod lookup;
mod ops;
mod otlp;
mod phoenix;
mod prometheus;
mod secrets;
mod service;
mod summary;
mod util;
mod watch;
