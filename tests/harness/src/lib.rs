//! Sentinel's test harness: the suite started in-process on port 0 against a temporary SQLite
//! store ([`TestSuite`]) or a throwaway PostgreSQL server this harness starts itself
//! ([`postgres`]).

// Test support: a harness that cannot set up must stop the test loudly, so it panics.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod audit;
pub mod evidence;
pub mod flood;
pub mod idp;
pub mod least_privilege;
pub mod postgres;
pub mod process;
pub mod readings;
pub mod reflection;
pub mod registry;
pub mod rules;
// It reports what it measured, as the tests that use it print.
#[allow(clippy::print_stdout)]
pub mod split;
mod suite;
pub mod tls;
pub mod wire;

pub use suite::{Authed, Bearer, StoreKind, TestSuite};

/// The stores to run a test against: SQLite always, PostgreSQL when installed (required in CI).
pub fn stores() -> impl Iterator<Item = StoreKind> {
    StoreKind::ALL.into_iter().filter(|store| store.available())
}
