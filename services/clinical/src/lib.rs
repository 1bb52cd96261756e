//! What Sentinel measures, shared by the services that read measurements: the catalogue of
//! codes with their canonical units, conversions and plausible ranges. Ingestion checks and
//! normalises readings against it; clinical rules check that a threshold is stated in the
//! canonical unit of the code it watches.

pub mod attributes;
pub mod attribution;
pub mod care;
pub mod catalogue;
