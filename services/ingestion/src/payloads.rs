//! Raw device payloads into readings: decode each (Bluetooth characteristic or LoRaWAN
//! uplink), place it in time (the device's zone, else the gateway's receipt), give it an
//! idempotency key, and hand the batch to the ingestor. A payload that does not decode is
//! quarantined with its bytes.

use base64::{Engine, engine::general_purpose::STANDARD};
use ring::digest::{SHA256, digest};
use sentinel_platform::{
    FieldViolation, ServiceError,
    auth::{Caller, Role},
    time::now_micros,
};

use crate::{
    decode::{
        DecodeError, Observation, TimeSource,
        ble::{self, Characteristic, Measurement},
        lorawan::{self, NetworkServer},
        observed_at,
    },
    directory::DeviceInfo,
    domain::frame::Frame,
    domain::reading::ReadingInput,
    ingestor::{Devices, Ingestor, Outcome, Submission},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ble(Characteristic),
    LoRaWan(NetworkServer),
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Ble(c) => match c {
                Characteristic::TemperatureMeasurement => "Temperature Measurement",
                Characteristic::BloodPressureMeasurement => "Blood Pressure Measurement",
                Characteristic::GlucoseMeasurement => "Glucose Measurement",
                Characteristic::HeartRateMeasurement => "Heart Rate Measurement",
                Characteristic::PlxSpotCheckMeasurement => "PLX Spot-Check Measurement",
                Characteristic::PlxContinuousMeasurement => "PLX Continuous Measurement",
                Characteristic::WeightMeasurement => "Weight Measurement",
            },
            Format::LoRaWan(NetworkServer::ChirpStackV4) => "ChirpStack v4 uplink",
            Format::LoRaWan(NetworkServer::TheThingsStackV3) => "The Things Stack v3 uplink",
        }
    }
}

/// A payload as a gateway forwards it.
#[derive(Debug, Clone)]
pub struct PayloadInput {
    pub device_id: String,
    /// `None` when the caller named no known format.
    pub format: Option<Format>,
    pub data: Vec<u8>,
    pub gateway_received_at: Option<i64>,
    pub sequence: String,
}

/// What became of one payload: why it was refused as a whole, or one outcome per reading.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadOutcome {
    pub violations: Vec<FieldViolation>,
    pub readings: Vec<Outcome>,
}

fn violation(err: &DecodeError) -> Vec<FieldViolation> {
    vec![FieldViolation::new(err.field(), err.rule())]
}

/// The payload as submitted, as JSON for the quarantine.
fn raw(payload: &PayloadInput) -> String {
    serde_json::json!({
        "device_id": payload.device_id,
        "format": payload.format.map(Format::name),
        "data_base64": STANDARD.encode(&payload.data),
        "gateway_received_at": payload.gateway_received_at,
        "sequence": payload.sequence,
    })
    .to_string()
}

/// A payload decoded: its measurement, when the gateway or network server received it, the key
/// its readings are deduplicated under, and its LoRaWAN frame if it came in one.
struct Decoded {
    measurement: Measurement,
    receipt: Option<i64>,
    sequence: String,
    frame: Option<Frame>,
}

/// The readings a payload stands for, each with its LoRaWAN frame if it came in one.
fn readings(
    payload: &PayloadInput,
    device: Option<&DeviceInfo>,
    now: i64,
) -> Result<(Vec<ReadingInput>, Option<Frame>), Vec<FieldViolation>> {
    let format = payload.format.ok_or_else(|| {
        vec![FieldViolation::new(
            "format",
            "is required: a Bluetooth health characteristic or a LoRaWAN network server",
        )]
    })?;
    let decoded = match format {
        Format::Ble(characteristic) => decode_ble(payload, characteristic, format)?,
        Format::LoRaWan(server) => decode_lorawan(payload, server, device)?,
    };
    let Measurement {
        observations,
        clock,
        clock_offset_minutes,
        ..
    } = decoded.measurement;
    let zone = device
        .map(|d| d.time_zone.as_str())
        .filter(|z| !z.is_empty());
    let (at, source) = observed_at(clock, clock_offset_minutes, zone, decoded.receipt, now)
        .map_err(|e| violation(&e))?;
    let several = observations.len() > 1;
    let inputs = observations
        .into_iter()
        .map(|o| reading(payload, o, &decoded.sequence, several, at, source))
        .collect();
    Ok((inputs, decoded.frame))
}

/// A Bluetooth characteristic's value, keyed by the gateway's sequence, the device's own
/// sequence number, or — when the bytes carry the device's time — a digest of the bytes.
fn decode_ble(
    payload: &PayloadInput,
    characteristic: Characteristic,
    format: Format,
) -> Result<Decoded, Vec<FieldViolation>> {
    let measurement = ble::decode(characteristic, &payload.data).map_err(|e| violation(&e))?;
    let sequence = if !payload.sequence.is_empty() {
        payload.sequence.clone()
    } else if let Some(number) = measurement.sequence {
        format!("ble-{number}")
    } else if measurement.clock.is_some() {
        // The bytes include the device's time: the same bytes are the same measurement.
        format!("ble-{}", &hex::encode(digest(&SHA256, &payload.data))[..32])
    } else {
        return Err(vec![FieldViolation::new(
            "sequence",
            format!(
                "is required for {}: the payload carries no sequence number or time of its own",
                format.name()
            ),
        )]);
    };
    Ok(Decoded {
        measurement,
        receipt: payload.gateway_received_at,
        sequence,
        frame: None,
    })
}

/// A LoRaWAN uplink from the device whose serial is its DevEUI, keyed by session and frame
/// counter.
fn decode_lorawan(
    payload: &PayloadInput,
    server: NetworkServer,
    device: Option<&DeviceInfo>,
) -> Result<Decoded, Vec<FieldViolation>> {
    let uplink = lorawan::parse(server, &payload.data).map_err(|e| violation(&e))?;
    if let Some(device) = device
        && !device.serial.eq_ignore_ascii_case(&uplink.dev_eui)
    {
        return Err(vec![FieldViolation::new(
            "dev_eui",
            format!(
                "{} is not the DevEUI registered as device {}'s serial",
                uplink.dev_eui, device.id
            ),
        )]);
    }
    Ok(Decoded {
        sequence: format!("lorawan-{}-{}", uplink.session, uplink.f_cnt),
        frame: Some(Frame {
            dev_eui: uplink.dev_eui.clone(),
            session: uplink.session.clone(),
            f_cnt: uplink.f_cnt,
            digest: uplink.payload_digest.clone(),
        }),
        receipt: uplink.received_at.or(payload.gateway_received_at),
        measurement: uplink.measurement,
    })
}

fn reading(
    payload: &PayloadInput,
    observation: Observation,
    sequence: &str,
    several: bool,
    at: i64,
    source: TimeSource,
) -> ReadingInput {
    let mut flags = observation.flags;
    flags.push(source.flag().to_owned());
    ReadingInput {
        device_id: payload.device_id.clone(),
        // One payload, several readings: each keyed by its code under the payload's key.
        sequence: if several {
            format!("{sequence}/{}", observation.code)
        } else {
            sequence.to_owned()
        },
        observed_at: Some(at),
        system: observation.system,
        code: observation.code,
        value: observation.value,
        components: observation.components,
        flags,
        data_absent_reason: observation.data_absent_reason,
        attributes: observation.attributes,
    }
}

/// For each payload: where its submissions start in the batch, and how many there are.
type Spans = Vec<(usize, usize)>;

/// Each payload's submissions — one per reading it decoded to, or one carrying why it did not
/// decode — in order.
fn submissions(payloads: &[PayloadInput], devices: &Devices, now: i64) -> (Vec<Submission>, Spans) {
    let mut submissions = Vec::new();
    let mut spans = Vec::with_capacity(payloads.len());
    for payload in payloads {
        let device = devices.get(&payload.device_id).and_then(Option::as_ref);
        let raw = raw(payload);
        let start = submissions.len();
        match readings(payload, device, now) {
            Ok((inputs, frame)) => {
                for input in inputs {
                    submissions.push(Submission {
                        device_id: payload.device_id.clone(),
                        input: Ok(input),
                        raw: raw.clone(),
                        frame: frame.clone(),
                    });
                }
            }
            Err(violations) => submissions.push(Submission {
                device_id: payload.device_id.clone(),
                input: Err(violations),
                raw,
                frame: None,
            }),
        }
        spans.push((start, submissions.len() - start));
    }
    (submissions, spans)
}

/// Each payload's outcome: why it did not decode, or the outcome of each of its readings.
fn payload_outcomes(spans: Spans, decoded: &[bool], outcomes: &[Outcome]) -> Vec<PayloadOutcome> {
    spans
        .into_iter()
        .map(|(start, len)| {
            if len == 1 && !decoded[start] {
                let violations = match &outcomes[start] {
                    Outcome::Rejected(v) => v.clone(),
                    _ => Vec::new(),
                };
                return PayloadOutcome {
                    violations,
                    readings: Vec::new(),
                };
            }
            PayloadOutcome {
                violations: Vec::new(),
                readings: outcomes[start..start + len].to_vec(),
            }
        })
        .collect()
}

impl Ingestor {
    /// Decodes and ingests `payloads` for `caller`: one outcome per payload.
    pub async fn ingest_payloads(
        &self,
        caller: &Caller,
        role: Role,
        batch_id: &str,
        payloads: &[PayloadInput],
    ) -> Result<Vec<PayloadOutcome>, ServiceError> {
        let _permit = self.admit_batch(payloads.len())?;
        let devices = self
            .devices(payloads.iter().map(|p| p.device_id.as_str()))
            .await?;
        let (submissions, spans) = submissions(payloads, &devices, now_micros());
        let decoded: Vec<bool> = submissions.iter().map(|s| s.input.is_ok()).collect();
        let outcomes = self
            .store_batch(caller, role, batch_id, submissions, &devices)
            .await?;
        Ok(payload_outcomes(spans, &decoded, &outcomes))
    }
}
