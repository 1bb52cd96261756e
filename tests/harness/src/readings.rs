//! Readings as a device submits them, for tests that need one and do not care how.

use sentinel_contract::{common::v1 as common, ingestion::v1 as pb};

use crate::registry::at;

/// A LOINC-coded quantity of `device`, its `sequence`, observed at `observed` (µs).
pub fn loinc(
    device: &str,
    sequence: &str,
    (code, value, unit): (&str, f64, &str),
    observed: i64,
) -> pb::ReadingInput {
    pb::ReadingInput {
        device_id: device.to_owned(),
        sequence: sequence.to_owned(),
        observed_at: at(observed),
        code: Some(common::Coding {
            system: "http://loinc.org".into(),
            code: code.into(),
            ..Default::default()
        }),
        value: Some(common::Quantity {
            value,
            unit: unit.into(),
        }),
        ..Default::default()
    }
}
