//! Audit log: a tamper-evident, signed record of every action of every service.
//!
//! Layers, inside out: `domain` (records, the RFC 6962 Merkle log, signed checkpoints,
//! verification: no transport, no SQL), `storage` (this service's append-only tables),
//! `chain` (appends, checkpoints and proofs over the store), `appender` (group commit),
//! `keys` (the signing key), `grpc` (the handlers that translate), `export` (offline tools).

pub mod appender;
pub mod chain;
pub mod domain;
pub mod export;
pub mod grpc;
pub mod keys;
pub mod proof_file;
pub mod service;
pub mod storage;
pub mod witness;

pub use service::{AuditService, StartError};
