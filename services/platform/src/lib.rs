//! What every Sentinel service shares, in one place each: configuration, telemetry, caller
//! identity, stores and their migrations, health, and the mapping of errors to gRPC status.

pub mod audit_action;
pub mod audit_outbox;
pub mod audit_trail;
pub mod auth;
pub mod config;
pub mod denials;
pub mod error;
pub mod feed;
pub mod gate;
pub mod health;
pub mod ids;
pub mod page;
pub mod peer;
pub mod private_file;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod time;
pub mod tls;
pub mod wire;

pub use config::{Config, ConfigError};
pub use error::{FieldViolation, ServiceError};
pub use service::{ServiceKind, Started};
pub use store::{Backend, Migrations, Store, StoreError, StoreLocation};
