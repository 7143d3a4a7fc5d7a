//! End-to-end tests of the `sessiontrail` binary.

mod export;
mod fixtures;
mod util;
