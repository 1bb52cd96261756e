//! The ingestion domain: what Sentinel measures (the catalogue of codes, canonical units,
//! conversions and plausible ranges) and how a submitted reading is checked and normalised.
//! Plain types and functions; no transport, no SQL.

pub use sentinel_clinical::{attributes, attribution, catalogue};
pub mod frame;
pub mod reading;
