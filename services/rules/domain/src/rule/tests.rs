use super::*;

fn library() -> Vec<RuleDefinition> {
    builtin().expect("the built-in library parses")
}

fn rule(name: &str) -> RuleDefinition {
    library().into_iter().find(|r| r.name == name).expect(name)
}

#[test]
fn every_builtin_rule_can_be_evaluated() {
    let rules = library();
    assert!(rules.len() >= 16);
    for rule in &rules {
        assert!(
            rule.problems().is_empty(),
            "{}: {:?}",
            rule.name,
            rule.problems()
        );
    }
    let mut names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), rules.len(), "names are unique");
}

#[test]
fn builtin_priorities_and_imdrf_categories() {
    use Category::*;
    use Priority::*;
    let expected = [
        ("hypoglycaemia-level-1", Medium, II),
        ("hypoglycaemia-level-2", High, III),
        ("rapid-glucose-fall", Medium, II),
        ("fever", Low, I),
        ("overnight-fever-spike", Medium, II),
        ("spo2-desaturation", High, III),
        ("bradycardia", High, III),
        ("tachycardia", Medium, II),
        ("hypertensive-crisis", High, III),
        ("heart-failure-weight-gain-24h", Low, I),
        ("heart-failure-weight-gain-7d", Low, I),
        ("fall", High, II),
        ("pump-occlusion", High, III),
        ("ventilator-disconnect", High, III),
        ("device-silence", Low, I),
        ("news2-medium", Medium, II),
        ("news2-high", High, III),
    ];
    for (name, priority, category) in expected {
        let r = rule(name);
        assert_eq!((r.priority(), r.category()), (priority, category), "{name}");
    }
    assert!(rule("hypoglycaemia-level-2").urgent_floor);
    assert!(rule("fall").latching);
}

#[test]
fn a_rule_that_cannot_be_evaluated_is_refused_naming_the_field() {
    let fields = |r: &RuleDefinition| r.problems().into_iter().map(|(f, _)| f).collect::<Vec<_>>();
    let mut unknown = rule("fever");
    unknown.applies_to.codes = vec!["0000-0".into()];
    assert_eq!(fields(&unknown), ["applies_to.codes"]);
    let mut fahrenheit = rule("fever");
    if let Logic::Threshold { unit, .. } = &mut fahrenheit.logic {
        *unit = "[degF]".into();
    }
    assert_eq!(fields(&fahrenheit), ["logic.unit"]);
    let mut zero = rule("overnight-fever-spike");
    if let Logic::Change { window_minutes, .. } = &mut zero.logic {
        *window_minutes = 0;
    }
    assert_eq!(fields(&zero), ["logic.window_minutes"]);
    let mut backwards = rule("hypoglycaemia-level-1");
    if let Logic::Threshold { clear, .. } = &mut backwards.logic {
        *clear = 60.0;
    }
    assert_eq!(fields(&backwards), ["logic.clear"]);
    let mut no_reference = rule("fall");
    no_reference.clinical_reference = " ".into();
    assert_eq!(fields(&no_reference), ["clinical_reference"]);
}

#[test]
fn definitions_round_trip_through_json_as_stored() {
    for rule in library() {
        let json = serde_json::to_string(&rule).unwrap();
        let back: RuleDefinition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rule);
    }
}
