//! Clinical decision rules and the alerts they raise
//!
//! Layers, inside out: `domain` (plain types and rules, no transport, no SQL), `storage`
//! (this service's own tables and migrations), `grpc` (the handlers that translate).

pub mod alerting;
pub mod audit_watch;
pub mod desk;
pub mod devices;
pub mod escalation;
pub mod evaluator;
pub mod grpc;
pub mod partitions;
pub mod readings;
pub mod review;
pub mod rulebook;
pub mod service;
pub mod silence_watch;
pub mod storage;

/// The rules domain (its own crate, so tools such as the evidence pack use it without the
/// service's transport and storage).
pub use sentinel_rules_domain as domain;
