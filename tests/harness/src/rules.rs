//! Rule definitions tests draft through the real API.

use sentinel_contract::rules::v1 as pb;

/// A fever-style threshold rule `name` on `code`: raise at or above `trigger` (in `unit`),
/// clear half a unit below.
pub fn threshold(name: &str, trigger: f64, unit: &str, code: &str) -> pb::RuleDefinition {
    pb::RuleDefinition {
        name: name.into(),
        title: format!("{name}: at or above {trigger} {unit}"),
        applies_to: Some(pb::AppliesTo {
            codes: vec![code.into()],
            ..Default::default()
        }),
        logic: Some(pb::rule_definition::Logic::Threshold(pb::Threshold {
            comparison: pb::Comparison::AtOrAbove.into(),
            trigger,
            clear: trigger - 0.5,
            unit: unit.into(),
            ..Default::default()
        })),
        potential_result: pb::PotentialResult::ReversibleInjury.into(),
        onset: pb::Onset::Delayed.into(),
        situation: pb::Situation::Serious.into(),
        significance: pb::Significance::InformClinicalManagement.into(),
        intended_use: "Fever on a surgical ward.".into(),
        clinical_reference: "NICE NG51 Sepsis".into(),
        ..Default::default()
    }
}
