//! A rule definition, proto ↔ domain: its scope, its logic and the four judgements its IMDRF
//! category and alert priority are computed from. An unset enum is a field violation naming
//! it, never a default.

use sentinel_contract::{common::v1 as common, rules::v1 as pb};
use sentinel_platform::{FieldViolation, ServiceError};

use super::risk;
use crate::domain::{
    classification::{Onset, PotentialResult, Significance, Situation},
    logic::Comparison,
    news2::Risk,
    rule::{AppliesTo, Logic, RuleDefinition},
};

type Violations = Vec<FieldViolation>;

fn unset(field: &str, violations: &mut Violations) {
    violations.push(FieldViolation::new(
        format!("definition.{field}"),
        "is required",
    ));
}

/// `value`, or a violation naming `field` and a stand-in so checking goes on.
fn required<T>(value: Option<T>, field: &str, stand_in: T, violations: &mut Violations) -> T {
    value.unwrap_or_else(|| {
        unset(field, violations);
        stand_in
    })
}

/// A rule definition as the contract states it, checked for unset enums.
pub fn definition(d: Option<pb::RuleDefinition>) -> Result<RuleDefinition, ServiceError> {
    let d = d.ok_or_else(|| ServiceError::field("definition", "is required"))?;
    let mut violations = Vec::new();
    let logic = logic(d.logic.clone(), &mut violations);
    let v = &mut violations;
    let potential_result = required(
        potential_result(d.potential_result()),
        "potential_result",
        PotentialResult::ReversibleInjury,
        v,
    );
    let onset = required(onset(d.onset()), "onset", Onset::Prompt, v);
    let situation = required(situation(d.situation()), "situation", Situation::Serious, v);
    let significance = required(
        significance(d.significance()),
        "significance",
        Significance::InformClinicalManagement,
        v,
    );
    if !violations.is_empty() {
        return Err(ServiceError::InvalidArgument(violations));
    }
    let applies = d.applies_to.unwrap_or_default();
    Ok(RuleDefinition {
        name: d.name,
        title: d.title,
        applies_to: AppliesTo {
            codes: applies.codes,
            device_kinds: applies.device_kinds,
            care_settings: applies.care_settings,
            patient: applies.patient.map(|p| p.value).filter(|p| !p.is_empty()),
        },
        logic,
        potential_result,
        onset,
        situation,
        significance,
        intended_use: d.intended_use,
        clinical_reference: d.clinical_reference,
        latching: d.latching,
        urgent_floor: d.urgent_floor,
    })
}

fn logic(logic: Option<pb::rule_definition::Logic>, violations: &mut Violations) -> Logic {
    use pb::rule_definition::Logic as L;
    match logic {
        Some(L::Threshold(t)) => Logic::Threshold {
            comparison: required(
                comparison(t.comparison()),
                "threshold.comparison",
                Comparison::Below,
                violations,
            ),
            trigger: t.trigger,
            clear: t.clear,
            unit: t.unit,
            persistence_seconds: t.persistence_seconds,
            persistence_readings: t.persistence_readings,
        },
        Some(L::Change(c)) => Logic::Change {
            rising: c.rising,
            by: c.by,
            unit: c.unit,
            window_minutes: c.window_minutes,
        },
        Some(L::Rate(r)) => Logic::Rate {
            per_minute: r.per_minute,
            unit: r.unit,
            window_minutes: r.window_minutes,
            min_samples: r.min_samples,
        },
        Some(L::Event(_)) => Logic::Event,
        Some(L::Silence(s)) => Logic::Silence { factor: s.factor },
        Some(L::News2(n)) => Logic::News2 {
            at_least: required(
                news2_risk(n.at_least()),
                "news2.at_least",
                Risk::High,
                violations,
            ),
            window_minutes: n.window_minutes,
        },
        None => {
            unset("logic", violations);
            Logic::Event
        }
    }
}

fn comparison(c: pb::Comparison) -> Option<Comparison> {
    match c {
        pb::Comparison::Below => Some(Comparison::Below),
        pb::Comparison::AtOrBelow => Some(Comparison::AtOrBelow),
        pb::Comparison::Above => Some(Comparison::Above),
        pb::Comparison::AtOrAbove => Some(Comparison::AtOrAbove),
        pb::Comparison::Unspecified => None,
    }
}

fn news2_risk(r: pb::News2Risk) -> Option<Risk> {
    match r {
        pb::News2Risk::Low => Some(Risk::Low),
        pb::News2Risk::LowMedium => Some(Risk::LowMedium),
        pb::News2Risk::Medium => Some(Risk::Medium),
        pb::News2Risk::High => Some(Risk::High),
        pb::News2Risk::Unspecified => None,
    }
}

fn potential_result(p: pb::PotentialResult) -> Option<PotentialResult> {
    match p {
        pb::PotentialResult::DeathOrIrreversibleInjury => {
            Some(PotentialResult::DeathOrIrreversibleInjury)
        }
        pb::PotentialResult::ReversibleInjury => Some(PotentialResult::ReversibleInjury),
        pb::PotentialResult::MinorDiscomfortOrInjury => {
            Some(PotentialResult::MinorDiscomfortOrInjury)
        }
        pb::PotentialResult::Unspecified => None,
    }
}

fn onset(o: pb::Onset) -> Option<Onset> {
    match o {
        pb::Onset::Immediate => Some(Onset::Immediate),
        pb::Onset::Prompt => Some(Onset::Prompt),
        pb::Onset::Delayed => Some(Onset::Delayed),
        pb::Onset::Unspecified => None,
    }
}

fn situation(s: pb::Situation) -> Option<Situation> {
    match s {
        pb::Situation::Critical => Some(Situation::Critical),
        pb::Situation::Serious => Some(Situation::Serious),
        pb::Situation::NonSerious => Some(Situation::NonSerious),
        pb::Situation::Unspecified => None,
    }
}

fn significance(s: pb::Significance) -> Option<Significance> {
    match s {
        pb::Significance::TreatOrDiagnose => Some(Significance::TreatOrDiagnose),
        pb::Significance::DriveClinicalManagement => Some(Significance::DriveClinicalManagement),
        pb::Significance::InformClinicalManagement => Some(Significance::InformClinicalManagement),
        pb::Significance::Unspecified => None,
    }
}

/// A rule definition as the contract states it.
pub fn proto_definition(d: &RuleDefinition) -> pb::RuleDefinition {
    pb::RuleDefinition {
        name: d.name.clone(),
        title: d.title.clone(),
        applies_to: Some(pb::AppliesTo {
            codes: d.applies_to.codes.clone(),
            device_kinds: d.applies_to.device_kinds.clone(),
            care_settings: d.applies_to.care_settings.clone(),
            patient: d
                .applies_to
                .patient
                .clone()
                .map(|value| common::PatientRef { value }),
        }),
        logic: Some(proto_logic(&d.logic)),
        potential_result: proto_potential_result(d.potential_result).into(),
        onset: proto_onset(d.onset).into(),
        situation: proto_situation(d.situation).into(),
        significance: proto_significance(d.significance).into(),
        intended_use: d.intended_use.clone(),
        clinical_reference: d.clinical_reference.clone(),
        latching: d.latching,
        urgent_floor: d.urgent_floor,
    }
}

fn proto_logic(logic: &Logic) -> pb::rule_definition::Logic {
    use pb::rule_definition::Logic as L;
    match logic {
        Logic::Threshold {
            comparison,
            trigger,
            clear,
            unit,
            persistence_seconds,
            persistence_readings,
        } => L::Threshold(pb::Threshold {
            comparison: proto_comparison(*comparison).into(),
            trigger: *trigger,
            clear: *clear,
            unit: unit.clone(),
            persistence_seconds: *persistence_seconds,
            persistence_readings: *persistence_readings,
        }),
        Logic::Change {
            rising,
            by,
            unit,
            window_minutes,
        } => L::Change(pb::Change {
            rising: *rising,
            by: *by,
            unit: unit.clone(),
            window_minutes: *window_minutes,
        }),
        Logic::Rate {
            per_minute,
            unit,
            window_minutes,
            min_samples,
        } => L::Rate(pb::Rate {
            per_minute: *per_minute,
            unit: unit.clone(),
            window_minutes: *window_minutes,
            min_samples: *min_samples,
        }),
        Logic::Event => L::Event(pb::Event {}),
        Logic::Silence { factor } => L::Silence(pb::Silence { factor: *factor }),
        Logic::News2 {
            at_least,
            window_minutes,
        } => L::News2(pb::News2 {
            at_least: risk(*at_least).into(),
            window_minutes: *window_minutes,
        }),
    }
}

fn proto_comparison(c: Comparison) -> pb::Comparison {
    match c {
        Comparison::Below => pb::Comparison::Below,
        Comparison::AtOrBelow => pb::Comparison::AtOrBelow,
        Comparison::Above => pb::Comparison::Above,
        Comparison::AtOrAbove => pb::Comparison::AtOrAbove,
    }
}

fn proto_potential_result(p: PotentialResult) -> pb::PotentialResult {
    match p {
        PotentialResult::DeathOrIrreversibleInjury => {
            pb::PotentialResult::DeathOrIrreversibleInjury
        }
        PotentialResult::ReversibleInjury => pb::PotentialResult::ReversibleInjury,
        PotentialResult::MinorDiscomfortOrInjury => pb::PotentialResult::MinorDiscomfortOrInjury,
    }
}

fn proto_onset(o: Onset) -> pb::Onset {
    match o {
        Onset::Immediate => pb::Onset::Immediate,
        Onset::Prompt => pb::Onset::Prompt,
        Onset::Delayed => pb::Onset::Delayed,
    }
}

fn proto_situation(s: Situation) -> pb::Situation {
    match s {
        Situation::Critical => pb::Situation::Critical,
        Situation::Serious => pb::Situation::Serious,
        Situation::NonSerious => pb::Situation::NonSerious,
    }
}

fn proto_significance(s: Significance) -> pb::Significance {
    match s {
        Significance::TreatOrDiagnose => pb::Significance::TreatOrDiagnose,
        Significance::DriveClinicalManagement => pb::Significance::DriveClinicalManagement,
        Significance::InformClinicalManagement => pb::Significance::InformClinicalManagement,
    }
}
