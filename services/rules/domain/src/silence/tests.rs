use super::*;
use crate::rule::builtin;

const SECOND: i64 = 1_000_000;

fn rule() -> RuleDefinition {
    builtin()
        .expect("the library")
        .into_iter()
        .find(|r| r.name == "device-silence")
        .expect("device silence")
}

fn device(id: &str, patient: &str, interval: u32, last_s: i64) -> Watched {
    Watched {
        device_id: id.into(),
        patient: patient.into(),
        context: DeviceContext {
            kind: "smart-scale".into(),
            care_setting: "home".into(),
        },
        expected_interval_s: interval,
        last_received_at: last_s * SECOND,
        last_reading_id: format!("r-{id}"),
    }
}

#[test]
fn silent_beyond_three_intervals_and_not_at_them() {
    let rule = rule();
    let devices = [device("d1", "pt-1", 300, 0)];
    assert!(silent_patients(&rule, &devices, 900 * SECOND).is_empty());
    let silent = silent_patients(&rule, &devices, 900 * SECOND + 1);
    assert_eq!(silent["pt-1"], vec!["r-d1".to_owned()]);
}

#[test]
fn each_patient_lists_its_silent_devices_and_no_interval_means_never_silent() {
    let rule = rule();
    let devices = [
        device("d2", "pt-1", 60, 0),
        device("d1", "pt-1", 60, 0),
        device("d3", "pt-1", 60, 1_000),
        device("d4", "pt-2", 0, 0),
    ];
    let silent = silent_patients(&rule, &devices, 1_000 * SECOND);
    assert_eq!(silent.len(), 1);
    assert_eq!(silent["pt-1"], vec!["r-d1".to_owned(), "r-d2".to_owned()]);
}

#[test]
fn device_kind_and_care_setting_filters_apply() {
    let mut rule = rule();
    rule.applies_to.care_settings = vec!["icu".into()];
    let devices = [device("d1", "pt-1", 60, 0)];
    assert!(silent_patients(&rule, &devices, 1_000 * SECOND).is_empty());
    rule.applies_to.care_settings = vec!["home".into()];
    rule.applies_to.device_kinds = vec!["smart-scale".into()];
    assert_eq!(silent_patients(&rule, &devices, 1_000 * SECOND).len(), 1);
}
