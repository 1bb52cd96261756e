//! The integration tests, in one binary: each area as an outside client sees it, through the
//! real gRPC API and the real `sentinel` binary, on SQLite and on a throwaway PostgreSQL.
//! Shared fixtures live in `sentinel-testkit`.

// A test binary: helpers panic to fail the test that called them.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout
)]

mod audit;
mod evidence;
mod ingestion;
mod registry;
mod rules;
mod split;
mod suite;
