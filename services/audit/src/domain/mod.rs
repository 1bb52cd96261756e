//! The audit domain: records and their canonical encoding, the RFC 6962 Merkle log, signed
//! checkpoints, and the verification of a log. Plain types and functions: no transport, no SQL.

pub mod checkpoint;
pub mod fhir;
pub mod merkle;
pub mod proof;
pub mod record;
pub mod verify;
