//! Steps of raw device payloads: Bluetooth health characteristics and LoRaWAN uplinks.

use base64::{Engine, engine::general_purpose::STANDARD};
use cucumber::{given, then, when};
use jiff::{Timestamp, tz::TimeZone};
use sentinel_contract::{ingestion::v1 as pb, registry::v1 as registry};
use sentinel_platform::time::from_timestamp;
use sentinel_testkit::{
    TestSuite,
    registry::{admin, at, issue, patient, register_bound, spec},
};

use crate::world::SuiteWorld;

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn format(name: &str) -> pb::PayloadFormat {
    match name {
        "Temperature Measurement" => pb::PayloadFormat::BleTemperatureMeasurement,
        "Blood Pressure Measurement" => pb::PayloadFormat::BleBloodPressureMeasurement,
        "Glucose Measurement" => pb::PayloadFormat::BleGlucoseMeasurement,
        "Heart Rate Measurement" => pb::PayloadFormat::BleHeartRateMeasurement,
        "PLX Spot-Check Measurement" => pb::PayloadFormat::BlePlxSpotCheckMeasurement,
        "PLX Continuous Measurement" => pb::PayloadFormat::BlePlxContinuousMeasurement,
        "Weight Measurement" => pb::PayloadFormat::BleWeightMeasurement,
        "ChirpStack v4" => pb::PayloadFormat::LorawanChirpstackV4,
        "The Things Stack v3" => pb::PayloadFormat::LorawanTheThingsStackV3,
        other => panic!("unknown payload format {other}"),
    }
}

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex bytes"))
        .collect()
}

/// Registers a device reporting through `gateway` and binds it to a patient.
async fn register_device(
    world: &mut SuiteWorld,
    name: &str,
    serial: &str,
    transport: &str,
    zone: &str,
) {
    let mut client = admin(suite(world)).await;
    let mut device = spec(serial);
    device.transport = transport.into();
    device.time_zone = zone.into();
    let id = register_bound(&mut client, device, "pt-7", 86_400_000_000).await;
    world.registry.devices.insert(name.to_owned(), id);
}

#[given(expr = "gateway {string} forwards for device {string} whose clock is set to {string}")]
async fn gateway_for_device(world: &mut SuiteWorld, gateway: String, name: String, zone: String) {
    register_device(world, &name, &name.to_uppercase(), "ble", &zone).await;
    let mut client = admin(suite(world)).await;
    let (_, secret) = issue(
        &mut client,
        registry::PrincipalKind::Gateway,
        &gateway,
        &["gateway"],
    )
    .await;
    world.ingestion.gateway_secret = secret;
}

#[given(expr = "gateway {string} forwards for LoRaWAN device {string} with DevEUI {string}")]
async fn lorawan_device(world: &mut SuiteWorld, _gateway: String, name: String, eui: String) {
    register_device(world, &name, &eui.to_uppercase(), "lorawan", "").await;
}

#[given(
    expr = "device {string} is now bound for user {int} to patient {string} and for user {int} to patient {string}"
)]
async fn bound_per_user(
    world: &mut SuiteWorld,
    name: String,
    first: u32,
    first_patient: String,
    second: u32,
    second_patient: String,
) {
    let id = world.registry.devices[&name].clone();
    let mut client = admin(suite(world)).await;
    let now = now();
    client
        .unbind_device(registry::UnbindDeviceRequest {
            device_id: id.clone(),
            end: at(now),
            user: None,
        })
        .await
        .expect("the whole device unbound");
    for (user, patient_ref) in [(first, first_patient), (second, second_patient)] {
        client
            .bind_device(registry::BindDeviceRequest {
                device_id: id.clone(),
                patient: patient(&patient_ref),
                start: at(now),
                user: Some(user),
            })
            .await
            .expect("the user bound");
    }
}

#[given(expr = "device {string} has no time zone configured")]
async fn no_zone(world: &mut SuiteWorld, name: String) {
    let id = world.registry.devices[&name].clone();
    let mut client = admin(suite(world)).await;
    client
        .update_device(registry::UpdateDeviceRequest {
            id,
            time_zone: Some(String::new()),
            ..Default::default()
        })
        .await
        .expect("updated");
}

async fn forward(world: &mut SuiteWorld, device: &str, payload: pb::Payload) {
    world.ingestion.payload = payload.data.clone();
    let mut client = suite(world)
        .ingestion_as(&world.ingestion.gateway_secret)
        .await;
    let id = world.registry.devices[device].clone();
    let response = client
        .ingest_payloads(pb::IngestPayloadsRequest {
            batch_id: String::new(),
            payloads: vec![pb::Payload {
                device_id: id,
                ..payload
            }],
        })
        .await
        .expect("IngestPayloads answers")
        .into_inner();
    world.ingestion.payloads = Some(response);
}

#[when(expr = "the gateway forwards the {string} payload {string}")]
async fn forwards(world: &mut SuiteWorld, characteristic: String, bytes: String) {
    let payload = pb::Payload {
        format: format(&characteristic).into(),
        data: hex(&bytes),
        sequence: "p-1".into(),
        ..Default::default()
    };
    forward(world, "ble-1", payload).await;
}

fn answer(world: &SuiteWorld) -> &pb::PayloadResult {
    &world
        .ingestion
        .payloads
        .as_ref()
        .expect("a payload was forwarded")
        .results[0]
}

async fn stored(world: &SuiteWorld, id: &str) -> pb::Reading {
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    client
        .get_reading(pb::GetReadingRequest { id: id.into() })
        .await
        .expect("stored")
        .into_inner()
}

#[then(expr = "the payload is accepted as {int} reading(s)")]
async fn accepted_as(world: &mut SuiteWorld, count: usize) {
    let result = answer(world);
    assert!(result.violations.is_empty(), "{:?}", result.violations);
    assert_eq!(result.readings.len(), count);
    assert!(
        result.readings.iter().all(|r| r.accepted),
        "{:?}",
        result.readings
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-5
}

/// `code value unit [as value unit]`, `code systolic/diastolic unit` or `code absent: reason`.
#[then(expr = "its first reading is {string}")]
async fn first_reading(world: &mut SuiteWorld, expected: String) {
    let reading = stored(world, &answer(world).readings[0].reading_id.clone()).await;
    let words: Vec<&str> = expected.split_whitespace().collect();
    assert_eq!(
        reading.code.as_ref().map(|c| c.code.as_str()),
        Some(words[0])
    );
    if words[1] == "absent:" {
        assert!(reading.value.is_none() && reading.components.is_empty());
        assert_eq!(reading.data_absent_reason, words[2]);
        return;
    }
    if let Some((systolic, diastolic)) = words[1].split_once('/') {
        let original = reading.original_components(words[2]);
        assert_eq!(original.len(), 2, "{reading:?}");
        assert!(
            close(original[0], systolic.parse().expect("a number")),
            "{original:?}"
        );
        assert!(
            close(original[1], diastolic.parse().expect("a number")),
            "{original:?}"
        );
        return;
    }
    let original = reading.original.as_ref().expect("the original value");
    assert!(
        close(original.value, words[1].parse().expect("a number")),
        "{original:?}"
    );
    assert_eq!(original.unit, words[2]);
    if words.len() == 6 {
        let canonical = reading.value.as_ref().expect("a canonical value");
        assert!(
            close(canonical.value, words[4].parse().expect("a number")),
            "{canonical:?}"
        );
        assert_eq!(canonical.unit, words[5]);
    }
}

/// Systolic and diastolic as the device sent them, checked to be in `unit`.
trait OriginalComponents {
    fn original_components(&self, unit: &str) -> Vec<f64>;
}

impl OriginalComponents for pb::Reading {
    fn original_components(&self, unit: &str) -> Vec<f64> {
        // Components carry the canonical value; convert back to check what the device sent.
        let factor = if unit == "kPa" { 7.500_62 } else { 1.0 };
        ["8480-6", "8462-4"]
            .iter()
            .filter_map(|code| {
                self.components
                    .iter()
                    .find(|c| c.code.as_ref().is_some_and(|c| c.code == *code))
            })
            .map(|c| c.value.as_ref().map_or(f64::NAN, |q| q.value / factor))
            .collect()
    }
}

/// `code` then what it carries: `=value unit` (its value), `code=value unit` (a component, MDC
/// codes being digits only), `name=value` (an attribute).
#[then(expr = "reading {int} of the payload is {string}")]
async fn reading_of_payload(world: &mut SuiteWorld, n: usize, expected: String) {
    let reading = stored(world, &answer(world).readings[n - 1].reading_id.clone()).await;
    let mut words = expected.split_whitespace();
    let code = words.next().expect("a code");
    assert_eq!(reading.code.as_ref().map(|c| c.code.as_str()), Some(code));
    let mut components = reading.components.iter();
    while let Some(word) = words.next() {
        let (name, value) = word.split_once('=').expect("name=value");
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            let quantity = if name.is_empty() {
                reading.value.clone().expect("a value")
            } else {
                // Components in the order the payload gave them.
                let component = components.next().expect("one more component");
                let coding = component.code.clone().expect("a code");
                let system = if name.contains('-') {
                    "http://loinc.org"
                } else {
                    "urn:iso:std:iso:11073:10101"
                };
                assert_eq!(
                    (coding.code.as_str(), coding.system.as_str()),
                    (name, system)
                );
                component.value.clone().expect("a value")
            };
            assert!(
                close(quantity.value, value.parse().expect("a number")),
                "{word}: {quantity:?}"
            );
            assert_eq!(quantity.unit, words.next().expect("a unit"), "{word}");
        } else {
            assert!(
                reading
                    .attributes
                    .iter()
                    .any(|a| a.name == name && a.value == value),
                "{word}: {:?}",
                reading.attributes
            );
        }
    }
}

const SPECIALS: [(&str, &str, &str); 5] = [
    ("FF 07", "FF FF 7F 00", "not-a-number"),
    ("00 08", "00 00 80 00", "error"),
    ("FE 07", "FE FF 7F 00", "positive-infinity"),
    ("02 08", "02 00 80 00", "negative-infinity"),
    ("01 08", "01 00 80 00", "error"),
];

#[when(
    expr = "the gateway forwards the {string} payload {string} once with each IEEE 11073 special value"
)]
async fn forwards_specials(world: &mut SuiteWorld, characteristic: String, template: String) {
    let mut results = Vec::new();
    for (i, (short, long, _)) in SPECIALS.iter().enumerate() {
        let bytes = template.replace("SFLOAT", short).replace("FLOAT", long);
        let payload = pb::Payload {
            format: format(&characteristic).into(),
            data: hex(&bytes),
            sequence: format!("special-{i}"),
            ..Default::default()
        };
        forward(world, "ble-1", payload).await;
        results.push(answer(world).clone());
    }
    world.ingestion.specials = results;
}

#[then(
    expr = "reading {int} of each is stored absent with the special value's reason, flagged {string} and NRes {string}"
)]
async fn specials_stored(world: &mut SuiteWorld, n: usize, flags: String, nres: String) {
    for (result, (short, _, reason)) in world.ingestion.specials.clone().iter().zip(SPECIALS) {
        assert!(
            result.violations.is_empty(),
            "{short}: {:?}",
            result.violations
        );
        let reading = stored(world, &result.readings[n - 1].reading_id).await;
        assert!(
            reading.value.is_none() && reading.components.is_empty(),
            "{short}: {reading:?}"
        );
        assert_eq!(reading.data_absent_reason, reason, "{short}");
        for flag in flags.split_whitespace().filter(|f| *f != "-") {
            assert!(
                reading.flags.iter().any(|f| f == flag),
                "{short}: {:?}",
                reading.flags
            );
        }
        let flagged = reading.flags.iter().any(|f| f == &nres);
        assert_eq!(flagged, short == "00 08", "{short}: {:?}", reading.flags);
    }
}

#[then(
    regex = r#"^its readings are attributed ([A-Z_]+) to (?:patient "([^"]+)"|nobody, flagged "([^"]+)")$"#
)]
async fn attributed(world: &mut SuiteWorld, how: String, patient_ref: String, flag: String) {
    let expected =
        pb::Attribution::from_str_name(&format!("ATTRIBUTION_{how}")).expect("an attribution");
    let readings = answer(world).readings.clone();
    assert!(!readings.is_empty(), "{:?}", answer(world));
    for result in readings {
        assert!(result.accepted, "{result:?}");
        assert_eq!(result.attribution(), expected, "{result:?}");
        let reading = stored(world, &result.reading_id).await;
        if patient_ref.is_empty() {
            assert!(
                reading.unattributed && reading.patient.is_none(),
                "{reading:?}"
            );
            assert!(reading.flags.contains(&flag), "{:?}", reading.flags);
        } else {
            assert_eq!(reading.patient.map(|p| p.value), Some(patient_ref.clone()));
            assert!(
                !reading.flags.iter().any(|f| f.starts_with("device-user-")),
                "{:?}",
                reading.flags
            );
        }
    }
}

#[then(expr = "the payload is refused naming {string}")]
async fn payload_refused(world: &mut SuiteWorld, field: String) {
    let result = answer(world);
    let fields: Vec<&str> = result.violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, [field.as_str()]);
    assert!(result.readings.is_empty());
}

#[then(expr = "the quarantine of device {string} holds the payload's bytes")]
async fn quarantine_holds(world: &mut SuiteWorld, name: String) {
    let id = world.registry.devices[&name].clone();
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    let entries = client
        .list_quarantine(pb::ListQuarantineRequest {
            device_id: id,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .readings;
    let needle = format!(
        "\"data_base64\":\"{}\"",
        STANDARD.encode(&world.ingestion.payload)
    );
    assert!(
        entries.iter().any(|e| e.raw_json.contains(&needle)),
        "{entries:?}"
    );
}

/// A Temperature Measurement with a Date Time for `micros` on a Berlin clock.
fn temperature_at(micros: i64) -> Vec<u8> {
    let civil = Timestamp::from_microsecond(micros)
        .expect("a time")
        .to_zoned(TimeZone::get("Europe/Berlin").expect("zone"))
        .datetime();
    let year = (civil.year() as u16).to_le_bytes();
    vec![
        0x02,
        0x6C,
        0x01,
        0x00,
        0xFF,
        year[0],
        year[1],
        civil.month() as u8,
        civil.day() as u8,
        civil.hour() as u8,
        civil.minute() as u8,
        civil.second() as u8,
    ]
}

fn minutes_ago(minutes: i64) -> i64 {
    (now() - minutes * 60_000_000) / 1_000_000 * 1_000_000
}

#[when("the gateway forwards a temperature taken 10 minutes ago by the device's Berlin clock")]
async fn berlin_clock(world: &mut SuiteWorld) {
    let taken = minutes_ago(10);
    world.ingestion.expected_at = taken;
    let payload = pb::Payload {
        format: pb::PayloadFormat::BleTemperatureMeasurement.into(),
        data: temperature_at(taken),
        ..Default::default()
    };
    forward(world, "ble-1", payload).await;
}

#[when(
    "the gateway forwards a temperature taken 10 minutes ago by the device's Berlin clock, received 2 minutes ago"
)]
async fn berlin_clock_received(world: &mut SuiteWorld) {
    let received = minutes_ago(2);
    world.ingestion.expected_at = received;
    let payload = pb::Payload {
        format: pb::PayloadFormat::BleTemperatureMeasurement.into(),
        data: temperature_at(minutes_ago(10)),
        gateway_received_at: at(received),
        ..Default::default()
    };
    forward(world, "ble-1", payload).await;
}

#[then(expr = "the reading is observed {int} minutes ago, flagged {string}")]
async fn observed(world: &mut SuiteWorld, _minutes: i64, flag: String) {
    let result = answer(world);
    assert!(result.violations.is_empty(), "{:?}", result.violations);
    let reading = stored(world, &result.readings[0].reading_id.clone()).await;
    let at = from_timestamp(reading.observed_at.as_ref().expect("observed_at"));
    assert_eq!(at, world.ingestion.expected_at);
    assert!(reading.flags.contains(&flag), "{:?}", reading.flags);
}

/// An uplink whose frame counter is the JSON `f_cnt`.
fn uplink(server: pb::PayloadFormat, eui: &str, session: &str, f_cnt: &str, beats: u8) -> Vec<u8> {
    let time = Timestamp::from_microsecond(now() - 30_000_000).expect("a time");
    // Heart Rate Measurement on FPort 4 / a codec reading: the same beats, the same bytes.
    let frame = STANDARD.encode([0x00, beats]);
    match server {
        pb::PayloadFormat::LorawanChirpstackV4 => format!(
            r#"{{"deduplicationId": "x", "time": "{time}", "deviceInfo": {{"devEui": "{eui}"}},
                "devAddr": "{session}", "fCnt": {f_cnt}, "fPort": 4, "data": "{frame}"}}"#
        ),
        _ => format!(
            r#"{{"end_device_ids": {{"device_id": "lw", "dev_eui": "{eui}"}}, "received_at": "{time}",
                "uplink_message": {{"session_key_id": "{session}", "f_port": 4, "f_cnt": {f_cnt},
                  "frm_payload": "{frame}",
                  "decoded_payload": {{"readings": [{{"code": "8867-4", "value": {beats}, "unit": "/min"}}]}}}}}}"#
        ),
    }
    .into_bytes()
}

#[when(
    expr = "the gateway forwards a {word} {word} uplink of session {string} frame {int} with heart rate {int}"
)]
async fn forwards_uplink(
    world: &mut SuiteWorld,
    first: String,
    second: String,
    session: String,
    f_cnt: u32,
    beats: u8,
) {
    // "ChirpStack v4" or "The Things Stack v3": the server's name is the words before the version.
    let server = format(&format!("{first} {second}"));
    forward_uplink(world, server, &session, &f_cnt.to_string(), beats).await;
}

#[when(
    expr = "the gateway forwards a The Things Stack v3 uplink of session {string} frame {int} with heart rate {int}"
)]
async fn forwards_tts_uplink(world: &mut SuiteWorld, session: String, f_cnt: u32, beats: u8) {
    let server = pb::PayloadFormat::LorawanTheThingsStackV3;
    forward_uplink(world, server, &session, &f_cnt.to_string(), beats).await;
}

#[when(
    regex = r#"^the gateway forwards an? (ChirpStack v4|The Things Stack v3) uplink of session "([^"]+)" whose frame counter is (.+)$"#
)]
async fn forwards_odd_counter(
    world: &mut SuiteWorld,
    name: String,
    session: String,
    f_cnt: String,
) {
    forward_uplink(world, format(&name), &session, &f_cnt, 61).await;
}

/// Forwards an uplink of `server` for "lw-1" whose frame counter is the JSON `f_cnt`.
async fn forward_uplink(
    world: &mut SuiteWorld,
    server: pb::PayloadFormat,
    session: &str,
    f_cnt: &str,
    beats: u8,
) {
    let payload = pb::Payload {
        format: server.into(),
        data: uplink(server, "70b3d57ed0000001", session, f_cnt, beats),
        ..Default::default()
    };
    forward(world, "lw-1", payload).await;
}

#[then("the uplink is accepted")]
async fn uplink_accepted(world: &mut SuiteWorld) {
    let result = answer(world);
    assert!(result.violations.is_empty(), "{:?}", result.violations);
    assert!(
        result.readings[0].accepted && !result.readings[0].duplicate,
        "{result:?}"
    );
}

#[then("the uplink is acknowledged as a duplicate")]
async fn uplink_duplicate(world: &mut SuiteWorld) {
    let result = answer(world);
    assert!(
        result.readings[0].accepted && result.readings[0].duplicate,
        "{result:?}"
    );
}

#[then(expr = "the uplink is refused naming {string}")]
async fn uplink_refused(world: &mut SuiteWorld, field: String) {
    let result = answer(world);
    assert!(!result.readings[0].accepted, "{result:?}");
    let fields: Vec<&str> = result.readings[0]
        .violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, [field.as_str()]);
}
