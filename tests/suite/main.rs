//! The suite as an outside client sees it: health, reflection, stores and the command line,
//! on SQLite and on a throwaway PostgreSQL.

// A test binary: helpers panic to fail the test that called them.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout
)]

mod cli;
mod health;
mod reflection;
mod stores;
mod tls;

use sentinel_testkit::StoreKind;

/// The stores to run a test against: SQLite always, PostgreSQL when installed (required in CI).
fn stores() -> impl Iterator<Item = StoreKind> {
    StoreKind::ALL.into_iter().filter(|store| store.available())
}
