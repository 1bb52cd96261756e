//! Property-based tests of every device decoder: whatever bytes a device, a gateway or an
//! attacker sends, a decoder answers a reading or a refusal naming a field — it never panics,
//! never hands on a value that is not finite, and reads what a well-formed payload says.
//! Run in CI with a fixed budget of cases; `docs/security.md` says how to fuzz for longer.
//! A failing case proptest finds is kept under `proptest-regressions/` and replayed first.

use proptest::prelude::*;
use sentinel_ingestion::decode::{
    DecodeError,
    ble::{self, Characteristic},
    ieee11073::{Number, float, sfloat},
    lorawan::{self, NetworkServer},
};

const CHARACTERISTICS: [Characteristic; 7] = Characteristic::ALL;

/// SFLOAT mantissas IEEE 11073 reserves for special values (as 12-bit two's complement).
fn sfloat_special(mantissa: i32) -> bool {
    (2046..=2047).contains(&mantissa) || (-2048..=-2046).contains(&mantissa)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_sfloat_is_a_finite_value_or_a_special_one(raw in any::<u16>()) {
        match sfloat(raw) {
            Number::Value(v) => prop_assert!(v.is_finite()),
            special => prop_assert!(special.absent_reason().is_some()),
        }
    }

    #[test]
    fn an_sfloat_reads_as_its_mantissa_times_ten_to_its_exponent(
        mantissa in -2048i32..=2047,
        exponent in -8i32..=7,
    ) {
        let raw = (((exponent & 0xF) as u16) << 12) | ((mantissa & 0xFFF) as u16);
        match sfloat(raw) {
            Number::Value(v) => {
                prop_assert!(exponent != 0 || !sfloat_special(mantissa));
                prop_assert!(close(v, f64::from(mantissa) * 10f64.powi(exponent)), "{v}");
            }
            _ => prop_assert!(exponent == 0 && sfloat_special(mantissa)),
        }
    }

    #[test]
    fn every_float_is_a_finite_value_or_a_special_one(raw in any::<u32>()) {
        match float(raw) {
            Number::Value(v) => prop_assert!(v.is_finite()),
            special => prop_assert!(special.absent_reason().is_some()),
        }
    }

    #[test]
    fn a_float_reads_as_its_mantissa_times_ten_to_its_exponent(
        mantissa in -(1i32 << 23)..(1 << 23) - 3,
        exponent in -128i32..=127,
    ) {
        let raw = (((exponent & 0xFF) as u32) << 24) | ((mantissa & 0x00FF_FFFF) as u32);
        if let Number::Value(v) = float(raw) {
            prop_assert!(close(v, f64::from(mantissa) * 10f64.powi(exponent)), "{v}");
        }
    }

    #[test]
    fn any_bytes_as_any_characteristic_decode_or_name_a_field(
        which in 0usize..CHARACTERISTICS.len(),
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        match ble::decode(CHARACTERISTICS[which], &bytes) {
            Ok(measurement) => {
                for observation in &measurement.observations {
                    for quantity in observation.value.iter().chain(observation.components.iter().filter_map(|c| c.1.as_ref())) {
                        prop_assert!(quantity.value.is_finite(), "{observation:?}");
                    }
                }
            }
            Err(err) => prop_assert!(!err.field().is_empty() && !err.rule().is_empty()),
        }
    }

    #[test]
    fn a_payload_cut_short_is_refused_not_misread(
        which in 0usize..CHARACTERISTICS.len(),
        bytes in proptest::collection::vec(any::<u8>(), 1..32),
    ) {
        // Whatever a full payload decodes to, every prefix of it decodes or is refused;
        // a prefix never panics.
        for cut in 0..bytes.len() {
            let _ = ble::decode(CHARACTERISTICS[which], &bytes[..cut]);
        }
    }

    #[test]
    fn any_bytes_as_an_uplink_parse_or_name_a_field(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        things in any::<bool>(),
    ) {
        let server = if things { NetworkServer::TheThingsStackV3 } else { NetworkServer::ChirpStackV4 };
        if let Err(err) = lorawan::parse(server, &bytes) {
            prop_assert!(!err.field().is_empty());
        }
    }

    #[test]
    fn a_frame_counter_is_read_exactly_or_refused(f_cnt in json_value()) {
        let uplink = chirpstack(&f_cnt.to_string());
        let exact = f_cnt.as_u64().and_then(|n| u32::try_from(n).ok());
        match (lorawan::parse(NetworkServer::ChirpStackV4, uplink.as_bytes()), exact) {
            (Ok(parsed), Some(n)) => prop_assert_eq!(parsed.f_cnt, n),
            (Err(DecodeError::Invalid { field: "f_cnt", .. }), None) => {}
            (other, _) => prop_assert!(false, "{f_cnt}: {other:?}"),
        }
    }
}

/// JSON values of every type, counters in and out of range among them.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<u32>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        ".{0,8}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!([1, 2])),
        Just(serde_json::json!({"n": 1})),
    ]
}

/// A ChirpStack v4 uplink of a heart rate on FPort 4 with `f_cnt` as its counter.
fn chirpstack(f_cnt: &str) -> String {
    format!(
        r#"{{"time": "2026-11-24T09:34:15Z", "deviceInfo": {{"devEui": "0101010101010101"}},
            "devAddr": "00189440", "fCnt": {f_cnt}, "fPort": 4, "data": "AEg="}}"#
    )
}
