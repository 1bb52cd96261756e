//! Against the NEWS2 observation chart (RCP 2017, "NEWS2 scoring system"): every band edge of
//! every parameter, and the four risk bands.

use super::*;

const HOUR: i64 = 3_600_000_000;

fn at<T>(value: T) -> Option<Timed<T>> {
    Some(Timed { value, at: 0 })
}

/// A healthy adult on air: every parameter scores 0.
fn normal() -> Vitals {
    Vitals {
        respiration_rate: at(16.0),
        spo2: at(97.0),
        on_oxygen: at(false),
        systolic: at(120.0),
        pulse: at(70.0),
        consciousness: at(Consciousness::Alert),
        temperature: at(37.0),
    }
}

fn scored(vitals: &Vitals, scale: SpO2Scale) -> Score {
    match score(vitals, scale, HOUR, 4 * HOUR) {
        Outcome::Complete(score) => score,
        Outcome::Incomplete { missing } => panic!("incomplete: {missing:?}"),
    }
}

#[test]
fn respiration_rate_bands() {
    for (rate, expected) in [
        (8.0, 3),
        (9.0, 1),
        (11.0, 1),
        (12.0, 0),
        (20.0, 0),
        (21.0, 2),
        (24.0, 2),
        (25.0, 3),
    ] {
        assert_eq!(respiration(rate), expected, "{rate}");
    }
}

#[test]
fn spo2_scale_1_bands() {
    for (s, expected) in [
        (91.0, 3),
        (92.0, 2),
        (93.0, 2),
        (94.0, 1),
        (95.0, 1),
        (96.0, 0),
        (100.0, 0),
    ] {
        assert_eq!(spo2(s, SpO2Scale::One, false), expected, "{s}");
    }
}

#[test]
fn spo2_scale_2_bands() {
    for (s, oxygen, expected) in [
        (83.0, false, 3),
        (84.0, false, 2),
        (85.0, false, 2),
        (86.0, false, 1),
        (87.0, false, 1),
        (88.0, false, 0),
        (92.0, true, 0),
        (93.0, false, 0),
        (99.0, false, 0),
        (93.0, true, 1),
        (94.0, true, 1),
        (95.0, true, 2),
        (96.0, true, 2),
        (97.0, true, 3),
    ] {
        assert_eq!(spo2(s, SpO2Scale::Two, oxygen), expected, "{s} {oxygen}");
    }
}

#[test]
fn systolic_pulse_and_temperature_bands() {
    for (p, e) in [
        (90.0, 3),
        (91.0, 2),
        (100.0, 2),
        (101.0, 1),
        (110.0, 1),
        (111.0, 0),
        (219.0, 0),
        (220.0, 3),
    ] {
        assert_eq!(systolic(p), e, "{p}");
    }
    for (p, e) in [
        (40.0, 3),
        (41.0, 1),
        (50.0, 1),
        (51.0, 0),
        (90.0, 0),
        (91.0, 1),
        (110.0, 1),
        (111.0, 2),
        (130.0, 2),
        (131.0, 3),
    ] {
        assert_eq!(pulse(p), e, "{p}");
    }
    for (t, e) in [
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
    ] {
        assert_eq!(temperature(t), e, "{t}");
    }
}

#[test]
fn risk_bands() {
    let low = scored(&normal(), SpO2Scale::One);
    assert_eq!((low.total, low.risk), (0, Risk::Low));
    // A 3 in one parameter alone: low-medium.
    let mut confused = normal();
    confused.consciousness = at(Consciousness::NewConfusion);
    let s = scored(&confused, SpO2Scale::One);
    assert_eq!((s.total, s.risk), (3, Risk::LowMedium));
    // 5: oxygen (2) + pulse 115 (2) + temperature 38.5 (1).
    let mut five = normal();
    five.on_oxygen = at(true);
    five.pulse = at(115.0);
    five.temperature = at(38.5);
    let s = scored(&five, SpO2Scale::One);
    assert_eq!((s.total, s.risk), (5, Risk::Medium));
    // 7: add respiration 22 (2).
    five.respiration_rate = at(22.0);
    let s = scored(&five, SpO2Scale::One);
    assert_eq!((s.total, s.risk), (7, Risk::High));
    // 4 without any 3: still low.
    let mut four = normal();
    four.pulse = at(115.0);
    four.respiration_rate = at(22.0);
    assert_eq!(scored(&four, SpO2Scale::One).risk, Risk::Low);
}

#[test]
fn stale_or_missing_inputs_give_no_score_and_say_which() {
    let mut vitals = normal();
    vitals.temperature = Some(Timed {
        value: 37.0,
        at: -4 * HOUR,
    });
    vitals.consciousness = None;
    assert_eq!(
        score(&vitals, SpO2Scale::One, HOUR, 4 * HOUR),
        Outcome::Incomplete {
            missing: vec!["consciousness", "temperature"]
        }
    );
}
