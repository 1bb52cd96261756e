//! Proto ↔ domain conversions of the ingestion contract.

use sentinel_contract::{common::v1 as common, ingestion::v1 as pb};

use crate::{
    decode::{ble::Characteristic, lorawan::NetworkServer},
    domain::{
        catalogue,
        reading::{Attributed, CheckedReading, Normalised, Quantity, ReadingInput, StoredReading},
    },
    payloads::{Format, PayloadInput},
};

pub use sentinel_platform::time::{from_timestamp as micros, to_timestamp as timestamp};
use sentinel_platform::{ServiceError, time::checked_from_timestamp};

fn quantity(q: Option<common::Quantity>) -> Option<Quantity> {
    q.map(|q| Quantity {
        value: q.value,
        unit: q.unit,
    })
}

/// The readings of a batch. A timestamp no clock can show (nanos beyond a second, a year
/// outside 1..9999) makes the message malformed: the batch is refused naming the reading.
pub fn inputs(readings: Vec<pb::ReadingInput>) -> Result<Vec<ReadingInput>, ServiceError> {
    readings
        .into_iter()
        .enumerate()
        .map(|(i, reading)| input(&format!("readings[{i}]"), reading))
        .collect()
}

/// One reading, named `field` in a refusal.
pub fn input(field: &str, reading: pb::ReadingInput) -> Result<ReadingInput, ServiceError> {
    let observed_at = reading
        .observed_at
        .as_ref()
        .map(|t| checked_from_timestamp(&format!("{field}.observed_at"), t))
        .transpose()?;
    let code = reading.code.unwrap_or_default();
    Ok(ReadingInput {
        device_id: reading.device_id,
        sequence: reading.sequence,
        observed_at,
        system: code.system,
        code: code.code,
        value: quantity(reading.value),
        components: reading
            .components
            .into_iter()
            .map(|c| {
                (
                    c.code.map(|c| c.code).unwrap_or_default(),
                    quantity(c.value),
                )
            })
            .collect(),
        flags: reading.flags,
        data_absent_reason: reading.data_absent_reason,
        attributes: reading
            .attributes
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect(),
    })
}

/// The reading as submitted, as JSON for the quarantine.
pub fn raw(reading: &ReadingInput) -> String {
    serde_json::json!({
        "device_id": reading.device_id,
        "sequence": reading.sequence,
        "observed_at": reading.observed_at,
        "system": reading.system,
        "code": reading.code,
        "value": reading.value.as_ref().map(|q| serde_json::json!({"value": if q.value.is_finite() { serde_json::json!(q.value) } else { serde_json::json!(q.value.to_string()) }, "unit": q.unit})),
        "components": reading.components.iter().map(|(c, q)| serde_json::json!({"code": c, "value": q.as_ref().map(|q| q.value), "unit": q.as_ref().map(|q| q.unit.clone())})).collect::<Vec<_>>(),
        "flags": reading.flags,
        "data_absent_reason": reading.data_absent_reason,
        "attributes": reading.attributes.iter().map(|(name, value)| serde_json::json!({"name": name, "value": value})).collect::<Vec<_>>(),
    })
    .to_string()
}

fn proto_quantity(q: &Quantity) -> common::Quantity {
    common::Quantity {
        value: q.value,
        unit: q.unit.clone(),
    }
}

fn coding(system: &str, code: &str) -> Option<common::Coding> {
    Some(common::Coding {
        system: system.to_owned(),
        code: code.to_owned(),
        display: String::new(),
    })
}

/// The code system of a component: its part's in the catalogue (RR intervals are MDC codes of a
/// LOINC heart rate), else the reading's own.
fn component_system<'a>(reading: &'a CheckedReading, code: &str) -> &'a str {
    catalogue::parts(&reading.system, &reading.code)
        .iter()
        .find(|p| p.measure.code == code)
        .map_or(&reading.system, |p| p.system)
}

pub fn reading(stored: &StoredReading) -> pb::Reading {
    let r = &stored.reading;
    pb::Reading {
        id: stored.id.clone(),
        device_id: r.device_id.clone(),
        sequence: r.sequence.clone(),
        observed_at: Some(timestamp(r.observed_at)),
        received_at: Some(timestamp(stored.received_at)),
        code: coding(&r.system, &r.code),
        value: r
            .value
            .as_ref()
            .map(|v: &Normalised| proto_quantity(&v.canonical)),
        original: r.value.as_ref().map(|v| proto_quantity(&v.original)),
        components: r
            .components
            .iter()
            .map(|(code, n)| pb::Component {
                code: coding(component_system(r, code), code),
                value: Some(proto_quantity(&n.canonical)),
            })
            .collect(),
        attributes: r
            .attributes
            .iter()
            .map(|(name, value)| pb::Attribute {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        flags: r.flags.clone(),
        data_absent_reason: r.data_absent_reason.clone(),
        patient: stored
            .patient
            .clone()
            .map(|value| common::PatientRef { value }),
        unattributed: stored.patient.is_none(),
        batch_id: stored.batch_id.clone(),
        position: stored.position,
    }
}

pub fn payload(payload: pb::Payload) -> PayloadInput {
    use pb::PayloadFormat as F;
    let format = match payload.format() {
        F::Unspecified => None,
        F::BleTemperatureMeasurement => Some(Format::Ble(Characteristic::TemperatureMeasurement)),
        F::BleBloodPressureMeasurement => {
            Some(Format::Ble(Characteristic::BloodPressureMeasurement))
        }
        F::BleGlucoseMeasurement => Some(Format::Ble(Characteristic::GlucoseMeasurement)),
        F::BleHeartRateMeasurement => Some(Format::Ble(Characteristic::HeartRateMeasurement)),
        F::BlePlxSpotCheckMeasurement => Some(Format::Ble(Characteristic::PlxSpotCheckMeasurement)),
        F::BlePlxContinuousMeasurement => {
            Some(Format::Ble(Characteristic::PlxContinuousMeasurement))
        }
        F::BleWeightMeasurement => Some(Format::Ble(Characteristic::WeightMeasurement)),
        F::LorawanChirpstackV4 => Some(Format::LoRaWan(NetworkServer::ChirpStackV4)),
        F::LorawanTheThingsStackV3 => Some(Format::LoRaWan(NetworkServer::TheThingsStackV3)),
    };
    PayloadInput {
        device_id: payload.device_id,
        format,
        data: payload.data,
        gateway_received_at: payload.gateway_received_at.as_ref().map(micros),
        sequence: payload.sequence,
    }
}

/// How a stored reading was attributed, as the contract says it.
pub fn attribution(attributed: Attributed) -> pb::Attribution {
    match attributed {
        Attributed::Patient => pb::Attribution::Patient,
        Attributed::DeviceUnbound => pb::Attribution::DeviceUnbound,
        Attributed::UserNotBound => pb::Attribution::UserNotBound,
        Attributed::UserUnknown => pb::Attribution::UserUnknown,
        Attributed::NoUser => pb::Attribution::NoUser,
        Attributed::ControlSolution => pb::Attribution::ControlSolution,
    }
}
