//! End-to-end tests of the `sessiontrail` binary.

mod fixtures;
mod util;
