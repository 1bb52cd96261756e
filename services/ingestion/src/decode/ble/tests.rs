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
            ("8478-0".to_owned(), q(93.0, "mm[Hg]")),
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
            ("8478-0".to_owned(), q(12.5, "kPa")),
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
        &with_clock(&[0x0F, 0xA0, 0x3C], &[0x02, 0xF4, 0x00, 0xA6, 0x02]),
    )
    .unwrap();
    assert_eq!(lb.observations[0].value, q(155.2, "[lb_av]"));
    assert_eq!(lb.clock, july());
    // User 2, BMI 24.4 kg/m² (0.1 steps), height 67.8 in (0.1 in steps): kept as readings of
    // their own, each naming the user.
    assert_eq!(lb.observations[1].code, "39156-5");
    assert_eq!(lb.observations[1].value, q(24.4, "kg/m2"));
    assert_eq!(lb.observations[2].code, "8302-2");
    assert_eq!(lb.observations[2].value, q(67.8, "[in_i]"));
    for observation in &lb.observations {
        assert_eq!(
            observation.attributes,
            [("device-user".to_owned(), "2".to_owned())]
        );
    }
    let metric = decode(
        Characteristic::WeightMeasurement,
        &[0x08, 0x00, 0x37, 0xF4, 0x00, 0x9E, 0x06],
    )
    .unwrap();
    assert_eq!(metric.observations[2].value, q(169.4, "cm"));
}

#[test]
fn weight_measurement_unsuccessful() {
    let m = decode(Characteristic::WeightMeasurement, &[0x00, 0xFF, 0xFF]).unwrap();
    assert_eq!(m.observations[0].value, None);
    assert_eq!(m.observations[0].data_absent_reason, "error");
    assert_eq!(m.observations[0].flags, ["measurement-unsuccessful"]);
}

/// Each IEEE 11073 special value, as (SFLOAT, FLOAT, data-absent reason).
const SPECIALS: [(u16, u32, &str); 5] = [
    (0x07FF, 0x007F_FFFF, "not-a-number"),
    (0x0800, 0x0080_0000, "error"),
    (0x07FE, 0x007F_FFFE, "positive-infinity"),
    (0x0802, 0x0080_0002, "negative-infinity"),
    (0x0801, 0x0080_0001, "error"),
];

/// A number field: its characteristic, the bytes before and after it, which observation it
/// becomes and the status flags the bytes also set.
type Case = (
    Characteristic,
    &'static [u8],
    &'static [u8],
    usize,
    &'static [&'static str],
);

/// Every special value in every medical-number field of every characteristic: absent with its
/// reason, NRes flagged beside the device's own status flags (which once overwrote it).
#[test]
fn every_special_value_on_every_characteristic_keeps_its_reason_and_flags() {
    let cases: [Case; 8] = [
        (Characteristic::TemperatureMeasurement, &[0x00], &[], 0, &[]),
        // systolic, with irregular pulse in the measurement status
        (
            Characteristic::BloodPressureMeasurement,
            &[0x10],
            &[0x50, 0x00, 0x5D, 0x00, 0x04, 0x00],
            0,
            &["irregular-pulse"],
        ),
        // pulse rate, with irregular pulse
        (
            Characteristic::BloodPressureMeasurement,
            &[0x14, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00],
            &[0x04, 0x00],
            1,
            &["irregular-pulse"],
        ),
        // concentration, with a low battery
        (
            Characteristic::GlucoseMeasurement,
            &[0x0A, 0x01, 0x00, 0xE6, 0x07, 0x07, 0x01, 0x08, 0x1E, 0x00],
            &[0x11, 0x01, 0x00],
            0,
            &["battery-low"],
        ),
        // SpO2, with low perfusion in the device status
        (
            Characteristic::PlxSpotCheckMeasurement,
            &[0x04],
            &[0x48, 0x00, 0x20, 0x00, 0x00],
            0,
            &["low-perfusion"],
        ),
        // pulse rate of a spot check
        (
            Characteristic::PlxSpotCheckMeasurement,
            &[0x04, 0x61, 0x00],
            &[0x20, 0x00, 0x00],
            1,
            &["low-perfusion"],
        ),
        (
            Characteristic::PlxContinuousMeasurement,
            &[0x08],
            &[0x41, 0x00, 0x20, 0x00, 0x00],
            0,
            &["low-perfusion"],
        ),
        (
            Characteristic::PlxContinuousMeasurement,
            &[0x08, 0x62, 0x00],
            &[0x20, 0x00, 0x00],
            1,
            &["low-perfusion"],
        ),
    ];
    for (characteristic, head, tail, index, status) in cases {
        for (short, long, reason) in SPECIALS {
            let number = if characteristic == Characteristic::TemperatureMeasurement {
                long.to_le_bytes().to_vec()
            } else {
                short.to_le_bytes().to_vec()
            };
            let bytes = [head, &number, tail].concat();
            let m = decode(characteristic, &bytes).unwrap();
            let observation = &m.observations[index];
            let case = format!("{characteristic:?} #{index} {short:#06x}");
            assert_eq!(observation.value, None, "{case}");
            assert!(observation.components.is_empty(), "{case}");
            assert_eq!(observation.data_absent_reason, reason, "{case}");
            let nres = usize::from(short == 0x0800);
            assert_eq!(
                observation
                    .flags
                    .iter()
                    .filter(|f| *f == "not-at-this-resolution")
                    .count(),
                nres,
                "{case}: {:?}",
                observation.flags
            );
            for flag in status {
                assert!(observation.flags.iter().any(|f| f == flag), "{case}");
            }
        }
    }
}

#[test]
fn blood_pressure_keeps_its_mean_and_names_its_user() {
    // User 3, MAP 93 mmHg.
    let m = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x0C, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00, 0x48, 0x00, 0x03],
    )
    .unwrap();
    assert_eq!(
        m.observations[0].components[2],
        ("8478-0".to_owned(), q(93.0, "mm[Hg]"))
    );
    for observation in &m.observations {
        assert_eq!(
            observation.attributes,
            [("device-user".to_owned(), "3".to_owned())]
        );
    }
    // A cuff without a mean (NaN) still gives systolic and diastolic.
    let no_mean = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x00, 0x78, 0x00, 0x50, 0x00, 0xFF, 0x07],
    )
    .unwrap();
    assert_eq!(no_mean.observations[0].components.len(), 2);
    assert_eq!(no_mean.observations[0].data_absent_reason, "");
    // 0xFF is the unknown user; 0 is the first user index (the Bluetooth user index runs 0 to
    // 254).
    let unknown = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x08, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00, 0xFF],
    )
    .unwrap();
    assert_eq!(unknown.observations[0].attributes[0].1, "unknown");
    let zero = decode(
        Characteristic::BloodPressureMeasurement,
        &[0x08, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00, 0x00],
    )
    .unwrap();
    assert_eq!(zero.observations[0].attributes[0].1, "0");
}

#[test]
fn glucose_keeps_its_specimen_and_site_and_flags_a_control_solution() {
    // Capillary whole blood from a finger.
    let finger = with_clock(&[0x02, 0x01, 0x00], &[0x5F, 0xB0, 0x11]);
    let m = decode(Characteristic::GlucoseMeasurement, &finger).unwrap();
    assert_eq!(
        m.observations[0].attributes,
        [
            ("specimen".to_owned(), "capillary-whole-blood".to_owned()),
            ("body-site".to_owned(), "finger".to_owned())
        ]
    );
    // Control solution (type 10, location 4): kept, flagged, no body site.
    let control = with_clock(&[0x02, 0x02, 0x00], &[0x5F, 0xB0, 0x4A]);
    let m = decode(Characteristic::GlucoseMeasurement, &control).unwrap();
    assert_eq!(
        m.observations[0].attributes,
        [("specimen".to_owned(), "control-solution".to_owned())]
    );
    assert_eq!(m.observations[0].flags, ["control-solution"]);
}

#[test]
fn temperature_keeps_its_site() {
    let m = decode(
        Characteristic::TemperatureMeasurement,
        &[0x04, 0x6C, 0x01, 0x00, 0xFF, 0x09],
    )
    .unwrap();
    assert_eq!(
        m.observations[0].attributes,
        [("body-site".to_owned(), "tympanum".to_owned())]
    );
    let reserved = decode(
        Characteristic::TemperatureMeasurement,
        &[0x04, 0x6C, 0x01, 0x00, 0xFF, 0x0A],
    )
    .unwrap();
    assert!(reserved.observations[0].attributes.is_empty());
    assert_eq!(reserved.observations[0].value, q(36.4, "Cel"));
}

#[test]
fn heart_rate_keeps_its_rr_intervals_and_oximetry_its_perfusion_index() {
    // Two RR intervals: 1024/1024 s and 768/1024 s.
    let m = decode(
        Characteristic::HeartRateMeasurement,
        &[0x10, 0x48, 0x00, 0x04, 0x00, 0x03],
    )
    .unwrap();
    assert_eq!(
        m.observations[0].components,
        [
            ("147240".to_owned(), q(1000.0, "ms")),
            ("147240".to_owned(), q(750.0, "ms"))
        ]
    );
    // Pulse amplitude index 2.5 % (mantissa 25, exponent -1).
    let m = decode(
        Characteristic::PlxSpotCheckMeasurement,
        &[0x08, 0x61, 0x00, 0x48, 0x00, 0x19, 0xF0],
    )
    .unwrap();
    assert_eq!(
        m.observations[0].components,
        [("150488".to_owned(), q(2.5, "%"))]
    );
    assert!(m.observations[1].components.is_empty());
}
