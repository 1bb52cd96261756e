//! Vectors laid out field by field as the GATT Specification Supplement defines each
//! characteristic (flags first, little-endian, IEEE 11073 numbers), with the values of the
//! Bluetooth SIG profile test suites' typical readings.

use super::*;
use crate::{decode::DecodeError, domain::reading::Quantity};

fn q(value: f64, unit: &str) -> Option<Quantity> {
    Some(Quantity {
        value,
        unit: unit.to_owned(),
    })
}

const JULY_1_2022_0830: [u8; 7] = [0xE6, 0x07, 0x07, 0x01, 0x08, 0x1E, 0x00];

fn with_clock(head: &[u8], tail: &[u8]) -> Vec<u8> {
    [head, &JULY_1_2022_0830, tail].concat()
}

fn july() -> Option<DeviceClock> {
    Some(DeviceClock {
        year: 2022,
        month: 7,
        day: 1,
        hour: 8,
        minute: 30,
        second: 0,
    })
}

#[test]
fn temperature_in_celsius_with_time_and_type() {
    let bytes = with_clock(&[0x06, 0x6C, 0x01, 0x00, 0xFF], &[0x02]);
    let m = decode(Characteristic::TemperatureMeasurement, &bytes).unwrap();
    assert_eq!(m.observations.len(), 1);
    assert_eq!(m.observations[0].code, "8310-5");
    assert_eq!(m.observations[0].value, q(36.4, "Cel"));
    assert_eq!(m.clock, july());
}

#[test]
fn temperature_in_fahrenheit_without_time() {
    let m = decode(
        Characteristic::TemperatureMeasurement,
        &[0x01, 0xDA, 0x03, 0x00, 0xFF],
    )
    .unwrap();
    assert_eq!(m.observations[0].value, q(98.6, "[degF]"));
    assert_eq!(m.clock, None);
}

#[test]
fn temperature_nan_is_a_data_absent_reason() {
    let m = decode(
        Characteristic::TemperatureMeasurement,
        &[0x00, 0xFF, 0xFF, 0x7F, 0x00],
    )
    .unwrap();
    assert_eq!(m.observations[0].value, None);
    assert_eq!(m.observations[0].data_absent_reason, "not-a-number");
    let nres = decode(
        Characteristic::TemperatureMeasurement,
        &[0x00, 0x00, 0x00, 0x80, 0x00],
    )
    .unwrap();
    assert_eq!(nres.observations[0].data_absent_reason, "error");
    assert_eq!(nres.observations[0].flags, ["not-at-this-resolution"]);
}

#[test]
fn truncated_temperature_names_the_missing_field() {
    let err = decode(
        Characteristic::TemperatureMeasurement,
        &[0x02, 0x6C, 0x01, 0x00, 0xFF, 0xE6],
    )
    .unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            field: "time_stamp",
            offset: 5,
            length: 6
        }
    );
    let empty = decode(Characteristic::TemperatureMeasurement, &[]).unwrap_err();
    assert_eq!(empty.field(), "flags");
}

#[test]
fn blood_pressure_in_mmhg_with_pulse_and_status() {
    let bytes = with_clock(
        &[0x16, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00],
        &[0x48, 0x00, 0x04, 0x00],
    );
    let m = decode(Characteristic::BloodPressureMeasurement, &bytes).unwrap();
    let panel = &m.observations[0];
    assert_eq!(panel.code, "85354-9");
    assert_eq!(
        panel.components,
        vec![
            ("8480-6".to_owned(), q(120.0, "mm[Hg]")),
            ("8462-4".to_owned(), q(80.0, "mm[Hg]")),
        ]
    );
    assert_eq!(panel.flags, ["irregular-pulse"]);
    assert_eq!(m.observations[1].code, "8867-4");
    assert_eq!(m.observations[1].value, q(72.0, "/min"));
    assert_eq!(m.clock, july());
}

#[test]
fn blood_pressure_in_kpa() {
    let m = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x01, 0xA0, 0xF0, 0x6B, 0xF0, 0x7D, 0xF0],
    )
    .unwrap();
    assert_eq!(
        m.observations[0].components,
        vec![
            ("8480-6".to_owned(), q(16.0, "kPa")),
            ("8462-4".to_owned(), q(10.7, "kPa")),
        ]
    );
    assert_eq!(m.observations.len(), 1);
}

#[test]
fn blood_pressure_with_a_nan_part_is_absent_as_a_whole() {
    let m = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x00, 0xFF, 0x07, 0x50, 0x00, 0x5D, 0x00],
    )
    .unwrap();
    assert!(m.observations[0].components.is_empty());
    assert_eq!(m.observations[0].data_absent_reason, "not-a-number");
}

#[test]
fn blood_pressure_status_body_movement_and_pulse_range() {
    let m = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x10, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00, 0x09, 0x00],
    )
    .unwrap();
    assert_eq!(
        m.observations[0].flags,
        ["body-movement", "pulse-rate-above-range"]
    );
}

#[test]
fn glucose_in_kg_per_litre_with_sequence_and_time_offset() {
    // 95 mg/dL is 0.00095 kg/L: SFLOAT mantissa 95, exponent -5 (0xB05F).
    let bytes = with_clock(&[0x03, 0x01, 0x00], &[0xFB, 0xFF, 0x5F, 0xB0, 0x11]);
    let m = decode(Characteristic::GlucoseMeasurement, &bytes).unwrap();
    assert_eq!(m.sequence, Some(1));
    assert_eq!(m.clock, july());
    assert_eq!(m.clock_offset_minutes, -5);
    assert_eq!(m.observations[0].code, "2339-0");
    assert_eq!(m.observations[0].value, q(95.0, "mg/dL"));
}

#[test]
fn glucose_in_mol_per_litre_and_interstitial_fluid() {
    // 5.3 mmol/L is 0.0053 mol/L: mantissa 53, exponent -4 (0xC035).
    let bytes = with_clock(&[0x06, 0x02, 0x00], &[0x35, 0xC0, 0x11]);
    let m = decode(Characteristic::GlucoseMeasurement, &bytes).unwrap();
    assert_eq!(m.observations[0].code, "15074-8");
    assert_eq!(m.observations[0].value, q(5.3, "mmol/L"));
    // Type 9 (interstitial fluid), location 5 (continuous monitor), with a low battery.
    let cgm = with_clock(&[0x0A, 0x03, 0x00], &[0x7C, 0xB0, 0x59, 0x01, 0x00]);
    let m = decode(Characteristic::GlucoseMeasurement, &cgm).unwrap();
    assert_eq!(m.observations[0].code, "99504-3");
    assert_eq!(m.observations[0].value, q(124.0, "mg/dL"));
    assert_eq!(m.observations[0].flags, ["battery-low"]);
}

#[test]
fn glucose_status_without_concentration_is_refused() {
    let bytes = with_clock(&[0x08, 0x04, 0x00], &[0x01, 0x00]);
    let err = decode(Characteristic::GlucoseMeasurement, &bytes).unwrap_err();
    assert_eq!(err.field(), "flags");
}

#[test]
fn heart_rate_in_eight_and_sixteen_bits() {
    let m = decode(Characteristic::HeartRateMeasurement, &[0x00, 0x48]).unwrap();
    assert_eq!(m.observations[0].value, q(72.0, "/min"));
    assert_eq!(m.clock, None);
    let wide = decode(Characteristic::HeartRateMeasurement, &[0x01, 0x2C, 0x01]).unwrap();
    assert_eq!(wide.observations[0].value, q(300.0, "/min"));
    // Contact supported and detected, with one RR interval of 1024/1024 s.
    let rr = decode(
        Characteristic::HeartRateMeasurement,
        &[0x16, 0x48, 0x00, 0x04],
    )
    .unwrap();
    assert!(rr.observations[0].flags.is_empty());
    let off_body = decode(Characteristic::HeartRateMeasurement, &[0x04, 0x48]).unwrap();
    assert_eq!(
        off_body.observations[0].flags,
        ["sensor-contact-not-detected"]
    );
}

#[test]
fn truncated_heart_rate_is_an_error() {
    let err = decode(Characteristic::HeartRateMeasurement, &[0x01, 0x2C]).unwrap_err();
    assert_eq!(err.field(), "heart_rate_measurement_value");
    let odd = decode(Characteristic::HeartRateMeasurement, &[0x10, 0x48, 0x00]).unwrap_err();
    assert_eq!(odd.field(), "rr_interval");
}

#[test]
fn plx_spot_check_with_time() {
    let bytes = with_clock(&[0x01, 0x61, 0x00, 0x48, 0x00], &[]);
    let m = decode(Characteristic::PlxSpotCheckMeasurement, &bytes).unwrap();
    assert_eq!(m.observations[0].code, "59408-5");
    assert_eq!(m.observations[0].value, q(97.0, "%"));
    assert_eq!(m.observations[1].value, q(72.0, "/min"));
    assert_eq!(m.clock, july());
}

#[test]
fn plx_spot_check_with_a_clock_that_is_not_set() {
    let bytes = with_clock(&[0x13, 0x61, 0x00, 0x48, 0x00], &[0x00, 0x40]);
    let m = decode(Characteristic::PlxSpotCheckMeasurement, &bytes).unwrap();
    assert_eq!(m.clock, None);
    assert_eq!(
        m.observations[0].flags,
        ["questionable-measurement", "device-clock-not-set"]
    );
}

#[test]
fn plx_continuous_with_device_status() {
    let m = decode(
        Characteristic::PlxContinuousMeasurement,
        &[0x08, 0x62, 0x00, 0x41, 0x00, 0x20, 0x00, 0x00],
    )
    .unwrap();
    assert_eq!(m.observations[0].value, q(98.0, "%"));
    assert_eq!(m.observations[1].value, q(65.0, "/min"));
    assert_eq!(m.observations[0].flags, ["low-perfusion"]);
    let fast_slow = decode(
        Characteristic::PlxContinuousMeasurement,
        &[
            0x03, 0x62, 0x00, 0x41, 0x00, 0x61, 0x00, 0x42, 0x00, 0x60, 0x00, 0x40, 0x00,
        ],
    )
    .unwrap();
    assert_eq!(fast_slow.observations[0].value, q(98.0, "%"));
    let nan = decode(
        Characteristic::PlxContinuousMeasurement,
        &[0x00, 0xFF, 0x07, 0x41, 0x00],
    )
    .unwrap();
    assert_eq!(nan.observations[0].data_absent_reason, "not-a-number");
    assert_eq!(nan.observations[1].value, q(65.0, "/min"));
}

#[test]
fn weight_in_kilograms_and_pounds() {
    let m = decode(Characteristic::WeightMeasurement, &[0x00, 0x00, 0x37]).unwrap();
    assert_eq!(m.observations[0].code, "29463-7");
    assert_eq!(m.observations[0].value, q(70.4, "kg"));
    let lb = decode(
        Characteristic::WeightMeasurement,
        &with_clock(&[0x0F, 0xA0, 0x3C], &[0x01, 0xF4, 0x00, 0x9E, 0x06]),
    )
    .unwrap();
    assert_eq!(lb.observations[0].value, q(155.2, "[lb_av]"));
    assert_eq!(lb.clock, july());
}

#[test]
fn weight_measurement_unsuccessful() {
    let m = decode(Characteristic::WeightMeasurement, &[0x00, 0xFF, 0xFF]).unwrap();
    assert_eq!(m.observations[0].value, None);
    assert_eq!(m.observations[0].data_absent_reason, "error");
    assert_eq!(m.observations[0].flags, ["measurement-unsuccessful"]);
}
