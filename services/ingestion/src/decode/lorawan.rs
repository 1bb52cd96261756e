//! LoRaWAN uplinks as network servers hand them to applications: the ChirpStack v4 uplink
//! event (JSON integration, `up` events) and The Things Stack v3 uplink message. Out come the
//! frame's identity — DevEUI, session, frame counter and a digest of the payload, for replay
//! detection — and its observations: the network server's decoded object when its payload
//! codec wrote Sentinel readings, otherwise the application payload read as the Bluetooth
//! health characteristic its FPort names.

use base64::{Engine, engine::general_purpose::STANDARD};
use ring::digest::{SHA256, digest};
use serde_json::Value;

use super::{
    DecodeError, Observation,
    ble::{self, Characteristic, Measurement},
    ieee11073::Number,
};
use crate::domain::{
    catalogue::{EVENTS, LOINC},
    reading::Quantity,
};

/// The network server whose JSON this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkServer {
    ChirpStackV4,
    TheThingsStackV3,
}

/// One uplink frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Uplink {
    /// Lowercase hex, 16 digits.
    pub dev_eui: String,
    /// What changes on every (re)join, so counters restarting at 0 are a new session:
    /// The Things Stack's session key id, ChirpStack's device address.
    pub session: String,
    pub f_cnt: u32,
    pub f_port: u32,
    /// SHA-256 of the application payload, hex.
    pub payload_digest: String,
    /// When the network received it, µs since the epoch.
    pub received_at: Option<i64>,
    /// The readings, and the device clock when a Bluetooth payload carried one.
    pub measurement: Measurement,
}

/// The Bluetooth characteristic an application payload on `f_port` carries, for devices that
/// reuse the Bluetooth health formats over LoRaWAN.
pub fn characteristic_for_port(f_port: u32) -> Option<Characteristic> {
    Some(match f_port {
        1 => Characteristic::TemperatureMeasurement,
        2 => Characteristic::BloodPressureMeasurement,
        3 => Characteristic::GlucoseMeasurement,
        4 => Characteristic::HeartRateMeasurement,
        5 => Characteristic::PlxSpotCheckMeasurement,
        6 => Characteristic::PlxContinuousMeasurement,
        7 => Characteristic::WeightMeasurement,
        _ => return None,
    })
}

fn invalid(field: &'static str, rule: impl Into<String>) -> DecodeError {
    DecodeError::Invalid {
        field,
        rule: rule.into(),
    }
}

fn string<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A string field: absent is `None`, present of another type is refused naming `field`.
fn text<'a>(
    value: &'a Value,
    pointer: &str,
    field: &'static str,
) -> Result<Option<&'a str>, DecodeError> {
    match value.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

/// A counter or port: absent is 0 (proto3 JSON leaves zeros out); anything but a whole number
/// in 0..=`max` is refused naming `field` — never read as 0.
fn number(value: &Value, pointer: &str, field: &'static str, max: u32) -> Result<u32, DecodeError> {
    let Some(found) = value.pointer(pointer) else {
        return Ok(0);
    };
    found
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n <= max)
        .ok_or_else(|| invalid(field, format!("must be a whole number from 0 to {max}")))
}

/// The largest frame counter (32 bits) and FPort (8 bits) LoRaWAN has.
const MAX_F_CNT: u32 = u32::MAX;
const MAX_F_PORT: u32 = 255;

fn time(value: &Value, pointers: &[&str]) -> Result<Option<i64>, DecodeError> {
    for pointer in pointers {
        if let Some(text) = string(value, pointer) {
            let at: jiff::Timestamp = text.parse().map_err(|e| {
                invalid(
                    "received_at",
                    format!("`{text}` is not an RFC 3339 time: {e}"),
                )
            })?;
            return Ok(Some(at.as_microsecond()));
        }
    }
    Ok(None)
}

/// The fields of an uplink, wherever `server` puts them. proto3 JSON leaves zero counters
/// and ports out, so absent means 0.
struct Fields<'a> {
    dev_eui: Option<&'a str>,
    session: Option<&'a str>,
    f_cnt: u32,
    f_port: u32,
    data: &'a str,
    decoded: Option<&'a Value>,
    received_at: Option<i64>,
}

impl<'a> Fields<'a> {
    fn of(server: NetworkServer, doc: &'a Value) -> Result<Self, DecodeError> {
        Ok(match server {
            NetworkServer::ChirpStackV4 => Fields {
                dev_eui: text(doc, "/deviceInfo/devEui", "dev_eui")?,
                session: text(doc, "/devAddr", "session")?,
                f_cnt: number(doc, "/fCnt", "f_cnt", MAX_F_CNT)?,
                f_port: number(doc, "/fPort", "f_port", MAX_F_PORT)?,
                data: text(doc, "/data", "frm_payload")?.unwrap_or(""),
                decoded: doc.pointer("/object"),
                received_at: time(doc, &["/time", "/rxInfo/0/nsTime"])?,
            },
            NetworkServer::TheThingsStackV3 => Fields {
                dev_eui: text(doc, "/end_device_ids/dev_eui", "dev_eui")?,
                session: match text(doc, "/uplink_message/session_key_id", "session")? {
                    Some(key) => Some(key),
                    None => text(doc, "/end_device_ids/dev_addr", "session")?,
                },
                f_cnt: number(doc, "/uplink_message/f_cnt", "f_cnt", MAX_F_CNT)?,
                f_port: number(doc, "/uplink_message/f_port", "f_port", MAX_F_PORT)?,
                data: text(doc, "/uplink_message/frm_payload", "frm_payload")?.unwrap_or(""),
                decoded: doc.pointer("/uplink_message/decoded_payload"),
                received_at: time(doc, &["/uplink_message/received_at", "/received_at"])?,
            },
        })
    }
}

/// Parses an uplink of `server`'s shape.
pub fn parse(server: NetworkServer, json: &[u8]) -> Result<Uplink, DecodeError> {
    let doc: Value =
        serde_json::from_slice(json).map_err(|e| invalid("payload", format!("not JSON: {e}")))?;
    if !doc.is_object() {
        return Err(invalid("payload", "must be a JSON object"));
    }
    let fields = Fields::of(server, &doc)?;
    let dev_eui = fields
        .dev_eui
        .ok_or_else(|| invalid("dev_eui", "is required"))?;
    if dev_eui.len() != 16 || !dev_eui.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid("dev_eui", "must be 16 hexadecimal digits"));
    }
    let session = fields.session.filter(|s| !s.is_empty()).ok_or_else(|| {
        invalid(
            "session",
            "is required: the device address or session key id",
        )
    })?;
    let payload = STANDARD
        .decode(fields.data)
        .map_err(|e| invalid("frm_payload", format!("not base64: {e}")))?;
    Ok(Uplink {
        dev_eui: dev_eui.to_ascii_lowercase(),
        session: session.to_owned(),
        f_cnt: fields.f_cnt,
        f_port: fields.f_port,
        payload_digest: hex::encode(digest(&SHA256, &payload)),
        received_at: fields.received_at,
        measurement: measurement(fields.decoded, fields.f_port, &payload)?,
    })
}

/// What the uplink measured: the readings the network server's codec decoded, or else the
/// Bluetooth health characteristic its FPort names, decoded from the raw payload.
fn measurement(
    decoded: Option<&Value>,
    f_port: u32,
    payload: &[u8],
) -> Result<Measurement, DecodeError> {
    if let Some(readings) = decoded.and_then(|d| d.get("readings")) {
        return Ok(Measurement {
            observations: decoded_readings(readings)?,
            ..Measurement::default()
        });
    }
    let characteristic = characteristic_for_port(f_port).ok_or_else(|| {
        invalid(
            "f_port",
            format!(
                "FPort {f_port} names no payload Sentinel reads: use 1–7 for Bluetooth health \
                 characteristics, or have the network server's codec return {{\"readings\": [...]}}"
            ),
        )
    })?;
    let measurement = ble::decode(characteristic, payload)?;
    if measurement.observations.is_empty() {
        return Err(invalid("frm_payload", "carries no measurement"));
    }
    Ok(measurement)
}

fn quantity(value: &Value) -> Option<Quantity> {
    Some(Quantity {
        value: value.get("value")?.as_f64()?,
        unit: value.get("unit")?.as_str()?.to_owned(),
    })
}

/// Readings a network server's payload codec wrote: `{"readings": [{"code", "value", "unit",
/// "components", "flags", "dataAbsentReason", "system", "attributes": {"body-site": "ear"}}]}`;
/// codes are LOINC unless named as Sentinel events.
fn decoded_readings(readings: &Value) -> Result<Vec<Observation>, DecodeError> {
    let list = readings
        .as_array()
        .filter(|l| !l.is_empty() && l.len() <= 16)
        .ok_or_else(|| {
            invalid(
                "decoded_payload.readings",
                "must be a list of 1 to 16 readings",
            )
        })?;
    list.iter().map(decoded_reading).collect()
}

/// One reading a codec wrote.
fn decoded_reading(r: &Value) -> Result<Observation, DecodeError> {
    let code = r
        .get("code")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("decoded_payload.readings.code", "is required"))?;
    let default_system = if code.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        LOINC
    } else {
        EVENTS
    };
    let text = |key: &str| r.get(key).and_then(Value::as_str);
    let mut observation = Observation {
        system: text("system").unwrap_or(default_system).to_owned(),
        code: code.to_owned(),
        value: r.get("value").and_then(|_| quantity(r)),
        components: components(r),
        flags: r
            .get("flags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        data_absent_reason: text("dataAbsentReason").unwrap_or("").to_owned(),
        attributes: attributes(r),
    };
    // A codec's null or NaN value is a value the device did not have.
    if r.get("value").is_some_and(Value::is_null) && observation.data_absent_reason.is_empty() {
        observation.data_absent_reason = Number::NaN.absent_reason().unwrap_or("error").to_owned();
    }
    Ok(observation)
}

/// A codec reading's components, each (code, quantity).
fn components(r: &Value) -> Vec<(String, Option<Quantity>)> {
    r.get("components")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|p| {
                    let code = p.get("code").and_then(Value::as_str).unwrap_or("");
                    (code.to_owned(), quantity(p))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A codec reading's attributes, each (name, value); a value that is not text is kept as its
/// JSON, for the reading's check to refuse naming it.
fn attributes(r: &Value) -> Vec<(String, String)> {
    r.get("attributes")
        .and_then(Value::as_object)
        .map(|pairs| {
            pairs
                .iter()
                .map(|(name, value)| {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    (name.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
