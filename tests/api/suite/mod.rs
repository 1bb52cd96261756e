//! The suite as an outside client sees it: health, reflection, stores and the command line,
//! on SQLite and on a throwaway PostgreSQL.

mod cli;
mod health;
mod reflection;
mod replicas;
mod stores;
mod tls;

use sentinel_testkit::stores;
