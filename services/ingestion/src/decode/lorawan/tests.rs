//! Uplinks in the shapes the network servers document: ChirpStack v4's `up` event
//! (integration.UplinkEvent as protobuf JSON) and The Things Stack v3's uplink message.

use super::*;

fn chirpstack(f_cnt: u32, f_port: u32, data: &str, object: &str) -> String {
    format!(
        r#"{{
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": "2026-11-24T09:34:15.775023242+00:00",
        "deviceInfo": {{
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "ChirpStack",
            "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
            "applicationName": "Ward 3 wearables",
            "deviceProfileName": "Thermometer",
            "deviceName": "thermo-17",
            "devEui": "0101010101010101",
            "tags": {{}}
        }},
        "devAddr": "00189440",
        "adr": true,
        "dr": 1,
        "fCnt": {f_cnt},
        "fPort": {f_port},
        "confirmed": false,
        "data": "{data}",
        {object}
        "rxInfo": [{{"gatewayId": "0016c001f153a14c", "rssi": -57, "snr": 10,
                     "nsTime": "2026-11-24T09:34:15.801+00:00"}}],
        "txInfo": {{"frequency": 868100000}}
    }}"#
    )
}

fn things_stack(session: &str, f_cnt: u32, decoded: &str) -> String {
    format!(
        r#"{{
        "end_device_ids": {{
            "device_id": "pulse-ox-4",
            "application_ids": {{"application_id": "ward-3"}},
            "dev_eui": "0004A30B001C0530",
            "join_eui": "800000000000000C",
            "dev_addr": "00BCB929"
        }},
        "correlation_ids": ["as:up:01E0WKFGDNV7X1V2RXYQY4TSV6"],
        "received_at": "2026-11-24T15:15:19.542Z",
        "uplink_message": {{
            "session_key_id": "{session}",
            "f_port": 15,
            "f_cnt": {f_cnt},
            "frm_payload": "AQI=",
            "decoded_payload": {decoded},
            "rx_metadata": [{{"gateway_ids": {{"gateway_id": "eui-0000024b08060112"}}, "rssi": -35}}],
            "settings": {{"data_rate": {{"lora": {{"bandwidth": 125000, "spreading_factor": 7}}}}}},
            "received_at": "2026-11-24T15:15:19.531Z",
            "consumed_airtime": "0.056576s"
        }}
    }}"#
    )
}

#[test]
fn chirpstack_uplink_with_a_bluetooth_payload_on_its_port() {
    let json = chirpstack(17, 1, "AGwBAP8=", "");
    let uplink = parse(NetworkServer::ChirpStackV4, json.as_bytes()).unwrap();
    assert_eq!(uplink.dev_eui, "0101010101010101");
    assert_eq!(uplink.session, "00189440");
    assert_eq!(uplink.f_cnt, 17);
    assert_eq!(uplink.f_port, 1);
    assert_eq!(uplink.measurement.observations[0].code, "8310-5");
    assert_eq!(
        uplink.measurement.observations[0].value,
        Some(Quantity {
            value: 36.4,
            unit: "Cel".to_owned()
        })
    );
    let expected: jiff::Timestamp = "2026-11-24T09:34:15.775023Z".parse().unwrap();
    assert_eq!(uplink.received_at, Some(expected.as_microsecond()));
}

#[test]
fn chirpstack_uplink_with_a_codec_object() {
    let json = chirpstack(
        3,
        10,
        "AQI=",
        r#""object": {"readings": [{"code": "8867-4", "value": 61, "unit": "/min"},
                                    {"code": "fall-detected"}]},"#,
    );
    let uplink = parse(NetworkServer::ChirpStackV4, json.as_bytes()).unwrap();
    assert_eq!(uplink.measurement.observations.len(), 2);
    assert_eq!(uplink.measurement.observations[0].system, LOINC);
    assert_eq!(uplink.measurement.observations[1].system, EVENTS);
    assert_eq!(uplink.measurement.observations[1].value, None);
}

#[test]
fn things_stack_uplink_with_decoded_payload() {
    let json = things_stack(
        "AXA50sNuS7uJ1HRcrFSdPw==",
        42,
        r#"{"readings": [{"code": "59408-5", "value": 95, "unit": "%", "flags": ["low-perfusion"]},
                         {"code": "8867-4", "value": null, "unit": "/min"}]}"#,
    );
    let uplink = parse(NetworkServer::TheThingsStackV3, json.as_bytes()).unwrap();
    assert_eq!(uplink.dev_eui, "0004a30b001c0530");
    assert_eq!(uplink.session, "AXA50sNuS7uJ1HRcrFSdPw==");
    assert_eq!(uplink.f_cnt, 42);
    assert_eq!(uplink.measurement.observations[0].flags, ["low-perfusion"]);
    assert_eq!(
        uplink.measurement.observations[1].data_absent_reason,
        "not-a-number"
    );
    let expected: jiff::Timestamp = "2026-11-24T15:15:19.531Z".parse().unwrap();
    assert_eq!(uplink.received_at, Some(expected.as_microsecond()));
}

#[test]
fn the_payload_digest_tells_a_replay_from_a_retry() {
    let a = parse(
        NetworkServer::ChirpStackV4,
        chirpstack(9, 4, "AEg=", "").as_bytes(),
    )
    .unwrap();
    let retry = parse(
        NetworkServer::ChirpStackV4,
        chirpstack(9, 4, "AEg=", "").as_bytes(),
    )
    .unwrap();
    let other = parse(
        NetworkServer::ChirpStackV4,
        chirpstack(9, 1, "AGwBAP8=", "").as_bytes(),
    )
    .unwrap();
    assert_eq!(a.payload_digest, retry.payload_digest);
    assert_ne!(a.payload_digest, other.payload_digest);
}

#[test]
fn zero_counters_left_out_by_protobuf_json_are_zero() {
    let json = chirpstack(0, 4, "AEg=", "").replace("\"fCnt\": 0,", "");
    let uplink = parse(NetworkServer::ChirpStackV4, json.as_bytes()).unwrap();
    assert_eq!(uplink.f_cnt, 0);
}

#[test]
fn malformed_uplinks_name_the_field() {
    let field = |server, json: &str| parse(server, json.as_bytes()).unwrap_err().field();
    assert_eq!(
        field(NetworkServer::ChirpStackV4, "\u{1}garbage"),
        "payload"
    );
    assert_eq!(field(NetworkServer::ChirpStackV4, "[1, 2]"), "payload");
    assert_eq!(
        field(
            NetworkServer::ChirpStackV4,
            &chirpstack(1, 4, "AEg=", "").replace("0101010101010101", "xyz")
        ),
        "dev_eui"
    );
    assert_eq!(
        field(
            NetworkServer::ChirpStackV4,
            &chirpstack(1, 4, "not base64!", "")
        ),
        "frm_payload"
    );
    assert_eq!(
        field(NetworkServer::ChirpStackV4, &chirpstack(1, 99, "AEg=", "")),
        "f_port"
    );
    assert_eq!(
        field(NetworkServer::ChirpStackV4, &chirpstack(1, 1, "AGw=", "")),
        "temperature_measurement_value"
    );
    assert_eq!(
        field(
            NetworkServer::TheThingsStackV3,
            &things_stack("", 1, r#"{"readings": []}"#)
                .replace("\"dev_addr\": \"00BCB929\"", "\"x\": 1")
        ),
        "session"
    );
    assert_eq!(
        field(
            NetworkServer::TheThingsStackV3,
            &things_stack("k", 1, r#"{"readings": []}"#)
        ),
        "decoded_payload.readings"
    );
}

#[test]
fn fields_of_the_wrong_type_or_range_are_refused_not_read_as_zero() {
    let field = |server, json: String| parse(server, json.as_bytes()).unwrap_err().field();
    let chirp = chirpstack(7, 4, "AEg=", "");
    for (from, to, named) in [
        ("\"fCnt\": 7", "\"fCnt\": \"7\"", "f_cnt"),
        ("\"fCnt\": 7", "\"fCnt\": -1", "f_cnt"),
        ("\"fCnt\": 7", "\"fCnt\": 4294967296", "f_cnt"),
        ("\"fCnt\": 7", "\"fCnt\": 7.5", "f_cnt"),
        ("\"fPort\": 4", "\"fPort\": 256", "f_port"),
        ("\"0101010101010101\"", "257", "dev_eui"),
    ] {
        assert!(chirp.contains(from), "{from}");
        assert_eq!(
            field(NetworkServer::ChirpStackV4, chirp.replace(from, to)),
            named,
            "{to}"
        );
    }
    let things = things_stack("AAEC", 42, "{}");
    assert!(things.contains("\"f_cnt\": 42"));
    assert_eq!(
        field(
            NetworkServer::TheThingsStackV3,
            things.replace("\"f_cnt\": 42", "\"f_cnt\": true")
        ),
        "f_cnt"
    );
}
