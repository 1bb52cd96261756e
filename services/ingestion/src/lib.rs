//! Reading ingestion: validated, normalised, deduplicated readings, durable before acknowledged
//!
//! Layers, inside out: `domain` (plain types and rules, no transport, no SQL), `storage`
//! (this service's own tables and migrations), `grpc` (the handlers that translate).

pub mod decode;
pub mod directory;
pub mod domain;
pub mod grpc;
pub mod ingestor;
pub mod payloads;
pub mod service;
pub mod storage;
