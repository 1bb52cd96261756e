use super::*;
use crate::rule::builtin;

const MIN: i64 = 60_000_000;

fn engine() -> Engine {
    let rules = builtin()
        .unwrap()
        .into_iter()
        .map(|definition| ActiveRule {
            rule_id: format!("rule-{}", definition.name),
            version: 1,
            definition,
        })
        .collect();
    Engine::new(rules)
}

fn reading(id: &str, minute: i64, code: &str, value: f64) -> Observed {
    Observed {
        reading_id: id.into(),
        patient: Some("pt-1".into()),
        device_id: "dev-1".into(),
        observed_at: minute * MIN,
        code: code.into(),
        value: Some(value),
        components: Vec::new(),
        device: None,
    }
}

fn raised(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Raise { rule_id, .. } => Some(rule_id.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn glucose_boundaries_raise_the_right_levels() {
    let mut e = engine();
    assert!(raised(&e.evaluate(&reading("a", 0, "2339-0", 70.0))).is_empty());
    let mut e2 = engine();
    assert_eq!(
        raised(&e2.evaluate(&reading("b", 0, "2339-0", 69.0))),
        ["rule-hypoglycaemia-level-1"]
    );
    let mut e3 = engine();
    let effects = e3.evaluate(&reading("c", 0, "2339-0", 53.0));
    let mut level_two = raised(&effects);
    level_two.sort_unstable();
    assert_eq!(
        level_two,
        ["rule-hypoglycaemia-level-1", "rule-hypoglycaemia-level-2"]
    );
    let _ = e.evaluate(&reading("d", 1, "2339-0", 71.0));
}

#[test]
fn an_overnight_fever_spike_raises_a_medium_alert() {
    let mut e = engine();
    e.evaluate(&reading("t1", 0, "8310-5", 36.9));
    e.evaluate(&reading("t2", 120, "8310-5", 37.4));
    let effects = e.evaluate(&reading("t3", 230, "8310-5", 37.9));
    let spike = effects
        .iter()
        .find(|x| matches!(x, Effect::Raise { rule_id, .. } if rule_id == "rule-overnight-fever-spike"))
        .expect("spike raised");
    assert!(matches!(
        spike,
        Effect::Raise {
            priority: Priority::Medium,
            ..
        }
    ));
}

#[test]
fn blood_pressure_components_are_watched_by_their_codes() {
    let mut e = engine();
    let mut panel = reading("bp", 0, "85354-9", 0.0);
    panel.value = None;
    panel.components = vec![("8480-6".into(), 185.0), ("8462-4".into(), 100.0)];
    assert_eq!(raised(&e.evaluate(&panel)), ["rule-hypertensive-crisis"]);
}

#[test]
fn persistence_not_met_is_recorded_as_a_suppression() {
    let mut e = engine();
    let effects = e.evaluate(&reading("hr1", 0, "8867-4", 35.0));
    assert!(raised(&effects).is_empty());
    assert!(
        effects.iter().any(
            |x| matches!(x, Effect::Suppressed { rule_id, .. } if rule_id == "rule-bradycardia")
        )
    );
    assert_eq!(
        raised(&e.evaluate(&reading("hr2", 1, "8867-4", 36.0))),
        ["rule-bradycardia"]
    );
}

#[test]
fn events_raise_at_once_and_unattributed_readings_raise_nothing() {
    let mut e = engine();
    let mut fall = reading("f", 0, "fall-detected", 0.0);
    fall.value = None;
    assert_eq!(raised(&e.evaluate(&fall)), ["rule-fall"]);
    let mut nobody = reading("n", 0, "2339-0", 40.0);
    nobody.patient = None;
    assert!(e.evaluate(&nobody).is_empty());
}

#[test]
fn state_is_per_patient() {
    let mut e = engine();
    e.evaluate(&reading("hr1", 0, "8867-4", 35.0));
    let mut other = reading("hr2", 1, "8867-4", 35.0);
    other.patient = Some("pt-2".into());
    assert!(
        raised(&e.evaluate(&other)).is_empty(),
        "pt-2's first low reading is only pending"
    );
}

fn vital(id: &str, minute: i64, code: &str, value: Option<f64>) -> Observed {
    Observed {
        reading_id: id.into(),
        patient: Some("pt-1".into()),
        device_id: "monitor".into(),
        observed_at: minute * MIN,
        code: code.into(),
        value,
        components: Vec::new(),
        device: None,
    }
}

/// The seven NEWS2 inputs: RR 26 (3), SpO2 90 (3), on oxygen (2), systolic 95 (2), pulse 115
/// (2), alert (0), temperature `temp` — at minutes 300..306.
fn deteriorating(e: &mut Engine, temp_minute: i64) -> Vec<Effect> {
    let mut effects = Vec::new();
    effects.extend(e.evaluate(&vital("t", temp_minute, "8310-5", Some(37.0))));
    effects.extend(e.evaluate(&vital("rr", 300, "9279-1", Some(26.0))));
    effects.extend(e.evaluate(&vital("sat", 301, "59408-5", Some(90.0))));
    effects.extend(e.evaluate(&vital("o2", 302, "3151-8", Some(2.0))));
    let mut bp = vital("bp", 303, "85354-9", None);
    bp.components = vec![("8480-6".into(), 95.0), ("8462-4".into(), 60.0)];
    effects.extend(e.evaluate(&bp));
    effects.extend(e.evaluate(&vital("acvpu", 304, "consciousness-alert", None)));
    effects.extend(e.evaluate(&vital("hr", 305, "8867-4", Some(115.0))));
    effects
}

#[test]
fn news2_high_raises_from_fresh_inputs_only() {
    let mut e = engine();
    let effects = deteriorating(&mut e, 299);
    let mut news = raised(&effects);
    news.retain(|r| r.starts_with("rule-news2"));
    news.sort_unstable();
    news.dedup();
    assert_eq!(news, ["rule-news2-high", "rule-news2-medium"]);
    let high = effects
        .iter()
        .find_map(|x| match x {
            Effect::Raise {
                rule_id, readings, ..
            } if rule_id == "rule-news2-high" => Some(readings.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(high.len(), 7, "every input reading is cited: {high:?}");
    // The same vitals with a temperature from 5 hours before: no score, no NEWS2 alert.
    let mut stale = engine();
    let effects = deteriorating(&mut stale, 0);
    assert!(!raised(&effects).iter().any(|r| r.starts_with("rule-news2")));
}

#[test]
fn a_rule_naming_a_care_setting_judges_only_devices_in_it() {
    let mut engine = engine();
    let mut rules = engine.rules().to_vec();
    for rule in &mut rules {
        rule.definition.applies_to.care_settings = vec!["intensive-care".into()];
    }
    engine.set_rules(rules);
    assert!(engine.needs_devices());
    // Unknown device: never matches a rule that names where it applies.
    assert!(raised(&engine.evaluate(&reading("r1", 0, "8310-5", 39.0))).is_empty());
    let mut home = reading("r2", 1, "8310-5", 39.0);
    home.device = Some(DeviceContext {
        kind: "wearable-thermometer".into(),
        care_setting: "home".into(),
    });
    assert!(raised(&engine.evaluate(&home)).is_empty());
    let mut icu = reading("r3", 2, "8310-5", 39.0);
    icu.device = Some(DeviceContext {
        kind: "patient-monitor".into(),
        care_setting: "intensive-care".into(),
    });
    assert_eq!(raised(&engine.evaluate(&icu)), vec!["rule-fever"]);
}

#[test]
fn warming_up_refills_windows_and_news2_inputs_without_deciding() {
    let mut before = engine();
    let plan = before.warm_up_plan();
    // Weight is watched over 7 days, temperature over 4 hours (spike and NEWS2).
    assert!(plan.contains(&("29463-7".to_owned(), 7 * 24 * 60 * MIN)));
    assert!(plan.contains(&("8310-5".to_owned(), 240 * MIN)));
    assert!(!plan.iter().any(|(code, _)| code == "2339-0")); // thresholds need no history
    before.warm(&reading("r1", 0, "8310-5", 36.8));
    let effects = before.evaluate(&reading("r2", 180, "8310-5", 37.9));
    assert_eq!(raised(&effects), vec!["rule-overnight-fever-spike"]);
}
