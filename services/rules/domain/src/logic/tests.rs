use super::*;

const MIN: i64 = 60_000_000;

fn s(minute: i64, value: f64) -> Sample {
    Sample {
        at: minute * MIN,
        value,
        reading_id: format!("r{minute}"),
    }
}

fn hypo() -> Threshold {
    Threshold {
        comparison: Comparison::Below,
        trigger: 70.0,
        clear: 80.0,
        persistence: Persistence::Immediate,
    }
}

#[test]
fn threshold_boundaries_just_below_at_and_above() {
    let rule = hypo();
    for (value, raised) in [(69.9, true), (70.0, false), (70.1, false)] {
        let mut state = ThresholdState::default();
        let decision = rule.step(&mut state, &s(0, value));
        assert_eq!(
            matches!(decision, Decision::Raise { .. }),
            raised,
            "{value}"
        );
    }
}

#[test]
fn hysteresis_keeps_a_wavering_value_from_flapping() {
    let rule = hypo();
    let mut state = ThresholdState::default();
    assert!(matches!(
        rule.step(&mut state, &s(0, 65.0)),
        Decision::Raise { .. }
    ));
    // Back over the trigger but under the clearing level: still raised, nothing new.
    assert_eq!(rule.step(&mut state, &s(1, 72.0)), Decision::Quiet);
    assert!(matches!(
        rule.step(&mut state, &s(2, 69.0)),
        Decision::Raise { .. }
    ));
    assert_eq!(rule.step(&mut state, &s(3, 79.9)), Decision::Quiet);
    assert_eq!(rule.step(&mut state, &s(4, 80.0)), Decision::Clear);
    assert!(!state.raised);
}

#[test]
fn persistence_in_readings_and_in_seconds() {
    let by_count = Threshold {
        persistence: Persistence::Readings(3),
        ..hypo()
    };
    let mut state = ThresholdState::default();
    assert_eq!(
        by_count.step(&mut state, &s(0, 60.0)),
        Decision::Pending {
            since: 0,
            readings: 1
        }
    );
    assert_eq!(
        by_count.step(&mut state, &s(1, 60.0)),
        Decision::Pending {
            since: 0,
            readings: 2
        }
    );
    assert_eq!(
        by_count.step(&mut state, &s(2, 60.0)),
        Decision::Raise {
            readings: vec!["r0".into(), "r1".into(), "r2".into()]
        }
    );
    // A normal reading in between restarts the count.
    let mut state = ThresholdState::default();
    by_count.step(&mut state, &s(0, 60.0));
    by_count.step(&mut state, &s(1, 75.0));
    assert_eq!(
        by_count.step(&mut state, &s(2, 60.0)),
        Decision::Pending {
            since: 2 * MIN,
            readings: 1
        }
    );
    let by_time = Threshold {
        persistence: Persistence::Seconds(300),
        ..hypo()
    };
    let mut state = ThresholdState::default();
    by_time.step(&mut state, &s(0, 60.0));
    assert!(matches!(
        by_time.step(&mut state, &s(4, 60.0)),
        Decision::Pending { .. }
    ));
    assert!(matches!(
        by_time.step(&mut state, &s(5, 60.0)),
        Decision::Raise { .. }
    ));
}

#[test]
fn rules_that_cannot_be_evaluated_say_why() {
    let wrong = Threshold {
        clear: 60.0,
        ..hypo()
    };
    assert_eq!(wrong.problems()[0].0, "threshold.clear");
    let zero = Threshold {
        persistence: Persistence::Seconds(0),
        ..hypo()
    };
    assert_eq!(zero.problems()[0].0, "threshold.persistence");
    assert_eq!(
        Change {
            rising: true,
            by: 1.0,
            window: 0
        }
        .problems()[0]
            .0,
        "change.window"
    );
    assert_eq!(
        Rate {
            per_minute: -2.0,
            window: 15 * MIN,
            min_samples: 1
        }
        .problems()[0]
            .0,
        "rate.min_samples"
    );
}

#[test]
fn an_overnight_fever_spike_is_a_rise_within_four_hours() {
    let rule = Change {
        rising: true,
        by: 1.0,
        window: 240 * MIN,
    };
    let mut window = Window::default();
    assert_eq!(rule.step(&mut window, &s(0, 36.8)), Decision::Clear);
    assert_eq!(rule.step(&mut window, &s(120, 37.3)), Decision::Clear);
    // 37.7 is +0.9: not yet; 37.8 at 3 h 50 is +1.0: raised, citing the low and the latest.
    assert_eq!(rule.step(&mut window, &s(200, 37.7)), Decision::Clear);
    assert_eq!(
        rule.step(&mut window, &s(230, 37.8)),
        Decision::Raise {
            readings: vec!["r0".into(), "r230".into()]
        }
    );
    // The same rise spread over 5 hours is not a spike.
    let mut slow = Window::default();
    rule.step(&mut slow, &s(0, 36.8));
    assert_eq!(rule.step(&mut slow, &s(300, 37.8)), Decision::Clear);
}

#[test]
fn weight_gain_over_seven_days() {
    let day = 24 * 60;
    let rule = Change {
        rising: true,
        by: 2.3,
        window: 7 * day * MIN,
    };
    let mut window = Window::default();
    rule.step(&mut window, &s(0, 80.0));
    assert_eq!(rule.step(&mut window, &s(6 * day, 82.2)), Decision::Clear);
    assert!(matches!(
        rule.step(&mut window, &s(6 * day + 60, 82.4)),
        Decision::Raise { .. }
    ));
}

#[test]
fn glucose_falling_faster_than_two_per_minute() {
    let rule = Rate {
        per_minute: -2.0,
        window: 15 * MIN,
        min_samples: 3,
    };
    let mut window = Window::default();
    assert!(matches!(
        rule.step(&mut window, &s(0, 150.0)),
        Decision::Pending { .. }
    ));
    rule.step(&mut window, &s(5, 141.0));
    // -1.8/min: no.
    assert_eq!(rule.step(&mut window, &s(10, 132.0)), Decision::Clear);
    let mut fast = Window::default();
    rule.step(&mut fast, &s(0, 150.0));
    rule.step(&mut fast, &s(5, 139.0));
    assert!(matches!(
        rule.step(&mut fast, &s(10, 128.0)),
        Decision::Raise { .. }
    ));
}

#[test]
fn late_samples_take_their_place_in_time() {
    let rule = Change {
        rising: true,
        by: 1.0,
        window: 240 * MIN,
    };
    let mut window = Window::default();
    rule.step(&mut window, &s(100, 38.0));
    // A reading observed earlier arrives later: it is the low of the window, the rise is seen.
    assert!(matches!(
        rule.step(&mut window, &s(10, 36.9)),
        Decision::Raise { .. }
    ));
}

#[test]
fn device_silence() {
    assert!(!silent(0, 300, 3, 900 * 1_000_000));
    assert!(silent(0, 300, 3, 900 * 1_000_000 + 1));
}

#[test]
fn a_change_of_exactly_the_amount_meets_it_despite_binary_rounding() {
    // 37.8 − 36.8 and 80.91 − 80.0 fall a hair short of 1.0 and 0.91 in binary floating point.
    let spike = Change {
        rising: true,
        by: 1.0,
        window: 240 * MIN,
    };
    let mut window = Window::default();
    spike.step(&mut window, &s(0, 36.8));
    assert!(matches!(
        spike.step(&mut window, &s(60, 37.8)),
        Decision::Raise { .. }
    ));
    let gain = Change {
        rising: true,
        by: 0.91,
        window: 24 * 60 * MIN,
    };
    let mut window = Window::default();
    gain.step(&mut window, &s(0, 80.0));
    assert_eq!(gain.step(&mut window, &s(60, 80.9)), Decision::Clear);
    assert!(matches!(
        gain.step(&mut window, &s(120, 80.91)),
        Decision::Raise { .. }
    ));
}
