//! The Sentinel suite as one program: the composition of the four services into one server
//! ([`suite`]) and the command line that starts it ([`cli`]).

pub mod bootstrap;
pub mod cli;
pub mod suite;

pub use suite::{RunningSuite, Suite, SuiteError};
