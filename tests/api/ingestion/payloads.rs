//! Raw device payloads through `IngestPayloads`: Bluetooth health characteristics placed in
//! time by the device's zone or the gateway's receipt, LoRaWAN uplinks with replay detection.

use base64::{Engine, engine::general_purpose::STANDARD};
use jiff::{Timestamp, tz::TimeZone};
use sentinel_contract::{ingestion::v1 as pb, registry::v1 as registry};
use sentinel_testkit::registry::{admin, at, issue, spec};

use super::{ALL, Ingestion, now, stores};
use sentinel_testkit::{StoreKind, TestSuite};

fn payload(device: &str, format: pb::PayloadFormat, data: Vec<u8>) -> pb::Payload {
    pb::Payload {
        device_id: device.into(),
        format: format.into(),
        data,
        ..Default::default()
    }
}

/// A Date Time field (7 bytes) for `micros` read on a clock set to `zone`.
fn clock_bytes(micros: i64, zone: &str) -> Vec<u8> {
    let civil = Timestamp::from_microsecond(micros)
        .unwrap()
        .to_zoned(TimeZone::get(zone).unwrap())
        .datetime();
    let year = civil.year() as u16;
    vec![
        year.to_le_bytes()[0],
        year.to_le_bytes()[1],
        civil.month() as u8,
        civil.day() as u8,
        civil.hour() as u8,
        civil.minute() as u8,
        civil.second() as u8,
    ]
}

/// A suite with a gateway-reporting device (`serial`, `transport`, `time_zone`) bound to a
/// patient, and a client holding the gateway's credential.
async fn setup(
    store: StoreKind,
    serial: &str,
    transport: &str,
    time_zone: &str,
) -> (TestSuite, String, Ingestion) {
    let suite = TestSuite::start(store, &ALL).await;
    let mut admin = admin(&suite).await;
    let mut device_spec = spec(serial);
    device_spec.transport = transport.into();
    device_spec.time_zone = time_zone.into();
    let device =
        sentinel_testkit::registry::register_bound(&mut admin, device_spec, "pt-9", 86_400_000_000)
            .await;
    let (_, secret) = issue(
        &mut admin,
        registry::PrincipalKind::Gateway,
        "gw-home-7",
        &["gateway"],
    )
    .await;
    let client = suite.ingestion_as(&secret).await;
    (suite, device, client)
}

async fn send(
    client: &mut Ingestion,
    batch: &str,
    payloads: Vec<pb::Payload>,
) -> pb::IngestPayloadsResponse {
    client
        .ingest_payloads(pb::IngestPayloadsRequest {
            batch_id: batch.into(),
            payloads,
        })
        .await
        .expect("ingest payloads")
        .into_inner()
}

async fn stored(client: &mut Ingestion, id: &str) -> pb::Reading {
    client
        .get_reading(pb::GetReadingRequest { id: id.into() })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn bluetooth_payloads_are_decoded_placed_in_the_device_zone_and_deduplicated() {
    for store in stores() {
        let (suite, device, mut gateway) = setup(store, "BLE-1", "ble", "Europe/Berlin").await;
        let mut reader = suite.ingestion_as(&suite.admin_token()).await;
        let taken = (now() - 600_000_000) / 1_000_000 * 1_000_000;
        let clock = clock_bytes(taken, "Europe/Berlin");
        let temperature = [&[0x06, 0x6C, 0x01, 0x00, 0xFF][..], &clock, &[0x02]].concat();
        let pressure = [
            &[0x16, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00][..],
            &clock,
            &[0x48, 0x00, 0x04, 0x00],
        ]
        .concat();
        let mut heart = payload(
            &device,
            pb::PayloadFormat::BleHeartRateMeasurement,
            vec![0x00, 0x48],
        );
        heart.gateway_received_at = at(taken + 5_000_000);
        heart.sequence = "hr-1".into();
        let batch = vec![
            payload(
                &device,
                pb::PayloadFormat::BleTemperatureMeasurement,
                temperature,
            ),
            payload(
                &device,
                pb::PayloadFormat::BleBloodPressureMeasurement,
                pressure,
            ),
            heart,
            payload(
                &device,
                pb::PayloadFormat::BleHeartRateMeasurement,
                vec![0x00, 0x48],
            ),
            payload(
                &device,
                pb::PayloadFormat::BleTemperatureMeasurement,
                vec![0x02, 0x6C, 0x01],
            ),
            pb::Payload {
                sequence: "nan-1".into(),
                ..payload(
                    &device,
                    pb::PayloadFormat::BleTemperatureMeasurement,
                    vec![0x00, 0xFF, 0xFF, 0x7F, 0x00],
                )
            },
        ];
        let response = send(&mut gateway, "ble-1", batch.clone()).await;
        let r = &response.results;
        assert_eq!(
            (response.accepted, response.rejected),
            (5, 2),
            "{}: {response:?}",
            store.name()
        );
        // Temperature: 36.4 °C at the device clock's time, read in Berlin.
        let temp = stored(&mut reader, &r[0].readings[0].reading_id).await;
        assert_eq!(temp.value.as_ref().unwrap().value, 36.4);
        assert_eq!(
            sentinel_platform::time::from_timestamp(temp.observed_at.as_ref().unwrap()),
            taken
        );
        assert!(
            temp.flags.contains(&"time-from-device-clock".to_owned()),
            "{:?}",
            temp.flags
        );
        assert_eq!(temp.patient.as_ref().unwrap().value, "pt-9");
        // Blood pressure: the panel and the pulse rate, flagged with the irregular pulse.
        assert_eq!(r[1].readings.len(), 2);
        let panel = stored(&mut reader, &r[1].readings[0].reading_id).await;
        // Systolic, diastolic and the mean arterial pressure the cuff measured.
        assert_eq!(panel.components.len(), 3);
        let map = panel
            .components
            .iter()
            .find(|c| c.code.as_ref().unwrap().code == "8478-0")
            .expect("mean arterial pressure kept");
        assert_eq!(map.value.as_ref().unwrap().value, 93.0);
        assert!(panel.flags.contains(&"irregular-pulse".to_owned()));
        // Heart rate has no clock: the gateway's receipt time stands in, and says so.
        let rate = stored(&mut reader, &r[2].readings[0].reading_id).await;
        assert_eq!(
            sentinel_platform::time::from_timestamp(rate.observed_at.as_ref().unwrap()),
            taken + 5_000_000
        );
        assert!(rate.flags.contains(&"time-from-gateway-receipt".to_owned()));
        // Without a sequence, a payload without clock or sequence number is refused.
        assert_eq!(r[3].violations[0].field, "payloads[3].sequence");
        // A truncated payload names the field it lacks.
        assert_eq!(
            r[4].violations[0].field,
            "payloads[4].temperature_measurement_value"
        );
        // NaN is stored as a data-absent reason, not a number.
        let nan = stored(&mut reader, &r[5].readings[0].reading_id).await;
        assert!(nan.value.is_none());
        assert_eq!(nan.data_absent_reason, "not-a-number");
        // The refused payloads are in quarantine with their bytes.
        let quarantine = reader
            .list_quarantine(pb::ListQuarantineRequest {
                device_id: device.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .readings;
        assert_eq!(quarantine.len(), 2);
        assert!(
            quarantine
                .iter()
                .any(|q| q.raw_json.contains(&STANDARD.encode([0x02, 0x6C, 0x01])))
        );
        // The same batch again stores nothing twice.
        let again = send(&mut gateway, "ble-1", batch).await;
        assert!(again.results[0].readings[0].duplicate);
        assert_eq!(
            again.results[0].readings[0].reading_id,
            r[0].readings[0].reading_id
        );
        assert!(again.results[1].readings.iter().all(|x| x.duplicate));
        suite.stop().await;
    }
}

#[tokio::test]
async fn without_a_device_zone_the_gateway_receipt_time_decides() {
    for store in stores() {
        let (suite, device, mut gateway) = setup(store, "BLE-2", "ble", "").await;
        let mut reader = suite.ingestion_as(&suite.admin_token()).await;
        let received = now() - 60_000_000;
        // The device clock says 2022; with no zone configured it is not trusted.
        let bytes = [
            &[0x02, 0x6C, 0x01, 0x00, 0xFF][..],
            &[0xE6, 0x07, 0x07, 0x01, 0x08, 0x1E, 0x00],
        ]
        .concat();
        let mut p = payload(&device, pb::PayloadFormat::BleTemperatureMeasurement, bytes);
        p.gateway_received_at = at(received);
        let response = send(&mut gateway, "tz-1", vec![p]).await;
        let reading = stored(&mut reader, &response.results[0].readings[0].reading_id).await;
        assert_eq!(
            sentinel_platform::time::from_timestamp(reading.observed_at.as_ref().unwrap()),
            received,
            "{}",
            store.name()
        );
        assert!(
            reading
                .flags
                .contains(&"time-from-gateway-receipt".to_owned())
        );
        suite.stop().await;
    }
}

fn chirpstack(dev_eui: &str, dev_addr: &str, f_cnt: u32, data: &[u8]) -> Vec<u8> {
    let time = Timestamp::from_microsecond(now() - 30_000_000).unwrap();
    format!(
        r#"{{"deduplicationId": "d-{f_cnt}", "time": "{time}",
            "deviceInfo": {{"tenantName": "ChirpStack", "applicationName": "ward", "deviceName": "t",
                           "devEui": "{dev_eui}"}},
            "devAddr": "{dev_addr}", "fCnt": {f_cnt}, "fPort": 1, "data": "{}"}}"#,
        STANDARD.encode(data)
    )
    .into_bytes()
}

fn things_stack(dev_eui: &str, session: &str, f_cnt: u32, beats: u32) -> Vec<u8> {
    let frame = STANDARD.encode([0x0A, beats as u8]);
    let time = Timestamp::from_microsecond(now() - 30_000_000).unwrap();
    format!(
        r#"{{"end_device_ids": {{"device_id": "hr", "application_ids": {{"application_id": "ward"}},
                                "dev_eui": "{dev_eui}"}},
            "received_at": "{time}",
            "uplink_message": {{"session_key_id": "{session}", "f_port": 10, "f_cnt": {f_cnt},
                               "frm_payload": "{frame}", "received_at": "{time}",
                               "decoded_payload": {{"readings": [{{"code": "8867-4", "value": {beats}, "unit": "/min"}}]}}}}}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn lorawan_uplinks_are_deduplicated_and_replayed_frame_counters_refused() {
    for store in stores() {
        let eui = "70b3d57ed0000001";
        let (suite, device, mut gateway) = setup(store, &eui.to_uppercase(), "lorawan", "").await;
        let up = |data: Vec<u8>| payload(&device, pb::PayloadFormat::LorawanChirpstackV4, data);
        let celsius = [0x00, 0x6C, 0x01, 0x00, 0xFF];
        let first = send(
            &mut gateway,
            "lw-1",
            vec![up(chirpstack(eui, "00189440", 5, &celsius))],
        )
        .await;
        assert_eq!(first.accepted, 1, "{}: {first:?}", store.name());
        // The network server delivers the same frame again: a duplicate, nothing stored twice.
        let retry = send(
            &mut gateway,
            "lw-2",
            vec![up(chirpstack(eui, "00189440", 5, &celsius))],
        )
        .await;
        assert!(retry.results[0].readings[0].duplicate);
        // Other content under a used counter of the same session: a replay, refused.
        let replay = send(
            &mut gateway,
            "lw-3",
            vec![up(chirpstack(
                eui,
                "00189440",
                5,
                &[0x00, 0x70, 0x01, 0x00, 0xFF],
            ))],
        )
        .await;
        assert_eq!(replay.accepted, 0);
        assert_eq!(
            replay.results[0].readings[0].violations[0].field,
            "payloads[0].readings[0].f_cnt"
        );
        // After a rejoin (new session) the counter restarts, and 5 is new again.
        let rejoined = send(
            &mut gateway,
            "lw-4",
            vec![up(chirpstack(
                eui,
                "01aa0001",
                5,
                &[0x00, 0x70, 0x01, 0x00, 0xFF],
            ))],
        )
        .await;
        assert_eq!(rejoined.accepted, 1);
        // Another device's DevEUI is refused.
        let foreign = send(
            &mut gateway,
            "lw-5",
            vec![up(chirpstack("0101010101010101", "00189440", 6, &celsius))],
        )
        .await;
        assert_eq!(
            foreign.results[0].violations[0].field,
            "payloads[0].dev_eui"
        );
        // The Things Stack shape, with a codec's decoded readings.
        let tts = payload(
            &device,
            pb::PayloadFormat::LorawanTheThingsStackV3,
            things_stack(eui, "AXA50sNu", 1, 61),
        );
        let tts = send(&mut gateway, "lw-6", vec![tts]).await;
        assert_eq!(tts.accepted, 1, "{tts:?}");
        let replay = payload(
            &device,
            pb::PayloadFormat::LorawanTheThingsStackV3,
            things_stack(eui, "AXA50sNu", 1, 62),
        );
        assert_eq!(send(&mut gateway, "lw-7", vec![replay]).await.accepted, 0);
        suite.stop().await;
    }
}
