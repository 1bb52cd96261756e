//! Sentinel's test harness: the suite started in-process on port 0 against a temporary SQLite
//! store ([`TestSuite`]) or a throwaway PostgreSQL server this harness starts itself
//! ([`postgres`]).

pub mod postgres;
pub mod process;
pub mod reflection;
mod suite;

pub use suite::{StoreKind, TestSuite};
