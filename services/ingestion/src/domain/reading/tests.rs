use super::*;

const NOW: i64 = 1_800_000_000_000_000;
const MINUTE: i64 = 60_000_000;

fn window() -> TimeWindow {
    TimeWindow {
        now: NOW,
        max_future: 5 * MINUTE,
        max_past: 7 * 24 * 60 * MINUTE,
    }
}

fn reading(code: &str, value: f64, unit: &str) -> ReadingInput {
    ReadingInput {
        device_id: "dev-1".into(),
        sequence: "42".into(),
        observed_at: Some(NOW - MINUTE),
        system: LOINC.into(),
        code: code.into(),
        value: Some(Quantity {
            value,
            unit: unit.into(),
        }),
        ..ReadingInput::default()
    }
}

fn fields(violations: &[FieldViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.field.as_str()).collect()
}

#[test]
fn a_fahrenheit_temperature_is_stored_in_celsius_beside_the_original() {
    let checked = reading("8310-5", 100.4, "[degF]").check(window()).unwrap();
    let value = checked.value.unwrap();
    assert!((value.canonical.value - 38.0).abs() < 1e-9);
    assert_eq!(value.canonical.unit, "Cel");
    assert_eq!(
        value.original,
        Quantity {
            value: 100.4,
            unit: "[degF]".into()
        }
    );
}

#[test]
fn glucose_in_mmol_per_litre_becomes_mg_per_decilitre() {
    let checked = reading("2339-0", 3.0, "mmol/L").check(window()).unwrap();
    assert!((checked.value.unwrap().canonical.value - 54.0468).abs() < 1e-6);
}

#[test]
fn a_unit_that_does_not_fit_the_code_is_named() {
    let violations = reading("2339-0", 5.5, "Cel").check(window()).unwrap_err();
    assert_eq!(fields(&violations), ["value.unit"]);
    assert!(violations[0].rule.contains("use one of mg/dL, mmol/L"));
}

#[test]
fn implausible_values_are_refused_at_the_boundary() {
    assert!(reading("59408-5", 100.0, "%").check(window()).is_ok());
    assert!(reading("59408-5", 50.0, "%").check(window()).is_ok());
    let violations = reading("59408-5", 100.1, "%").check(window()).unwrap_err();
    assert_eq!(fields(&violations), ["value.value"]);
    assert!(reading("59408-5", 49.9, "%").check(window()).is_err());
}

#[test]
fn nan_goes_in_data_absent_reason() {
    let violations = reading("8867-4", f64::NAN, "/min")
        .check(window())
        .unwrap_err();
    assert!(violations[0].rule.contains("data_absent_reason"));
    let mut absent = reading("8867-4", 0.0, "/min");
    absent.value = None;
    absent.data_absent_reason = "not-a-number".into();
    let checked = absent.check(window()).unwrap();
    assert_eq!(checked.value, None);
    let mut unknown_reason = absent;
    unknown_reason.data_absent_reason = "gremlins".into();
    assert_eq!(
        fields(&unknown_reason.check(window()).unwrap_err()),
        ["data_absent_reason"]
    );
}

#[test]
fn observation_times_must_fall_within_the_window() {
    let mut future = reading("8867-4", 70.0, "/min");
    future.observed_at = Some(NOW + 6 * MINUTE);
    assert_eq!(
        fields(&future.check(window()).unwrap_err()),
        ["observed_at"]
    );
    let mut year_2099 = reading("8867-4", 70.0, "/min");
    year_2099.observed_at = Some(4_070_908_800_000_000);
    assert!(year_2099.check(window()).is_err());
    let mut ancient = reading("8867-4", 70.0, "/min");
    ancient.observed_at = Some(NOW - 8 * 24 * 60 * MINUTE);
    assert_eq!(
        fields(&ancient.check(window()).unwrap_err()),
        ["observed_at"]
    );
    let mut missing = reading("8867-4", 70.0, "/min");
    missing.observed_at = None;
    missing.device_id.clear();
    assert_eq!(
        fields(&missing.check(window()).unwrap_err()),
        ["device_id", "observed_at"]
    );
}

#[test]
fn blood_pressure_is_a_panel_of_systolic_and_diastolic() {
    let mut bp = reading("85354-9", 0.0, "");
    bp.value = None;
    bp.components = vec![
        (
            "8480-6".into(),
            Some(Quantity {
                value: 16.0,
                unit: "kPa".into(),
            }),
        ),
        (
            "8462-4".into(),
            Some(Quantity {
                value: 80.0,
                unit: "mm[Hg]".into(),
            }),
        ),
    ];
    let checked = bp.check(window()).unwrap();
    assert!((checked.components[0].1.canonical.value - 120.01).abs() < 0.01);
    let mut inverted = bp.clone();
    inverted.components[1].1 = Some(Quantity {
        value: 130.0,
        unit: "mm[Hg]".into(),
    });
    assert_eq!(
        fields(&inverted.check(window()).unwrap_err()),
        ["components"]
    );
    let mut missing = bp;
    missing.components.pop();
    assert_eq!(
        fields(&missing.check(window()).unwrap_err()),
        ["components[8462-4]"]
    );
}

#[test]
fn events_carry_no_value_and_unknown_codes_are_named() {
    let fall = ReadingInput {
        system: EVENTS.into(),
        code: "fall-detected".into(),
        value: None,
        ..reading("x", 0.0, "")
    };
    assert!(fall.check(window()).is_ok());
    let unknown = reading("1234-5", 1.0, "1");
    assert_eq!(fields(&unknown.check(window()).unwrap_err()), ["code"]);
}

fn part(code: &str, value: f64, unit: &str) -> (String, Option<Quantity>) {
    (
        code.into(),
        Some(Quantity {
            value,
            unit: unit.into(),
        }),
    )
}

fn panel(parts: &[(&str, f64)]) -> ReadingInput {
    let mut bp = reading("85354-9", 0.0, "");
    bp.value = None;
    bp.components = parts.iter().map(|(c, v)| part(c, *v, "mm[Hg]")).collect();
    bp
}

#[test]
fn a_panel_with_a_repeated_component_is_refused_whatever_the_order() {
    // Which systolic would be stored depended on their order, and with it the crisis alert.
    for parts in [
        [("8480-6", 120.0), ("8480-6", 290.0), ("8462-4", 80.0)],
        [("8480-6", 290.0), ("8462-4", 80.0), ("8480-6", 120.0)],
    ] {
        let violations = panel(&parts).check(window()).unwrap_err();
        assert_eq!(fields(&violations), ["components[8480-6]"]);
        assert!(
            violations[0].rule.contains("given 2 times"),
            "{violations:?}"
        );
    }
}

#[test]
fn a_panel_with_more_components_than_its_definition_is_refused_once() {
    let mut huge = panel(&[("8480-6", 120.0), ("8462-4", 80.0)]);
    huge.components = (0..50_000)
        .map(|i| part(&format!("x-{i}"), 1.0, "mm[Hg]"))
        .collect();
    let violations = huge.check(window()).unwrap_err();
    assert_eq!(fields(&violations), ["components"]);
    assert!(
        violations[0]
            .rule
            .contains("50000 given: 85354-9 has at most 3")
    );
}

#[test]
fn a_mean_arterial_pressure_is_kept_between_diastolic_and_systolic() {
    let checked = panel(&[("8480-6", 120.0), ("8462-4", 80.0), ("8478-0", 93.0)])
        .check(window())
        .unwrap();
    assert_eq!(checked.components[2].0, "8478-0");
    let violations = panel(&[("8480-6", 120.0), ("8462-4", 80.0), ("8478-0", 130.0)])
        .check(window())
        .unwrap_err();
    assert_eq!(fields(&violations), ["components[8478-0]"]);
}

#[test]
fn a_value_carries_only_the_components_its_code_allows() {
    let mut rate = reading("8867-4", 72.0, "/min");
    rate.components = vec![part("147240", 830.0, "ms"), part("147240", 0.81, "s")];
    let checked = rate.check(window()).unwrap();
    assert_eq!(checked.components[1].1.canonical.value, 810.0);
    rate.components = (0..257).map(|_| part("147240", 830.0, "ms")).collect();
    assert_eq!(fields(&rate.check(window()).unwrap_err()), ["components"]);
    let mut temperature = reading("8310-5", 37.0, "Cel");
    temperature.components = vec![part("147240", 830.0, "ms")];
    let violations = temperature.check(window()).unwrap_err();
    assert_eq!(fields(&violations), ["components"]);
    assert!(violations[0].rule.contains("8310-5 has no components"));
}

#[test]
fn attributes_come_from_their_vocabulary_each_once() {
    let mut glucose = reading("2339-0", 95.0, "mg/dL");
    glucose.attributes = vec![
        ("specimen".into(), "capillary-whole-blood".into()),
        ("body-site".into(), "finger".into()),
    ];
    assert_eq!(glucose.check(window()).unwrap().attributes.len(), 2);
    glucose.attributes = vec![
        ("body-site".into(), "finger".into()),
        ("body-site".into(), "ear".into()),
        ("specimen".into(), "saliva".into()),
        ("colour".into(), "red".into()),
    ];
    let violations = glucose.check(window()).unwrap_err();
    assert_eq!(
        fields(&violations),
        ["attributes[1]", "attributes[2]", "attributes[3]"]
    );
}
