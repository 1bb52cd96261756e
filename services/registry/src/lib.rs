//! Device registry: devices, patients' bindings to devices, credentials and callers' roles
//!
//! Layers, inside out: `domain` (plain types and rules, no transport, no SQL), `storage`
//! (this service's own tables and migrations), `grpc` (the handlers that translate).

pub mod credentials;
pub mod domain;
pub mod grpc;
pub mod identities;
pub mod oidc;
pub mod registry;
pub mod service;
pub mod storage;

pub use service::{RegistryService, StartError};
