//! Proto ↔ domain conversions of the rules contract. An unset enum becomes a field violation
//! naming it, never a default.

use sentinel_contract::{common::v1 as common, rules::v1 as pb};
use sentinel_platform::{FieldViolation, ServiceError, time::to_timestamp};

use crate::{
    domain::{
        backtest::Report,
        classification::{Category, Onset, PotentialResult, Priority, Significance, Situation},
        lifecycle::Status,
        logic::Comparison,
        news2::Risk,
        rule::{AppliesTo, Logic, RuleDefinition},
    },
    storage::RuleVersion,
};

fn unset(field: &str, violations: &mut Vec<FieldViolation>) {
    violations.push(FieldViolation::new(
        format!("definition.{field}"),
        "is required",
    ));
}

pub fn definition(d: Option<pb::RuleDefinition>) -> Result<RuleDefinition, ServiceError> {
    let d = d.ok_or_else(|| ServiceError::field("definition", "is required"))?;
    let mut violations = Vec::new();
    let comparison = |c: pb::Comparison| match c {
        pb::Comparison::Below => Some(Comparison::Below),
        pb::Comparison::AtOrBelow => Some(Comparison::AtOrBelow),
        pb::Comparison::Above => Some(Comparison::Above),
        pb::Comparison::AtOrAbove => Some(Comparison::AtOrAbove),
        pb::Comparison::Unspecified => None,
    };
    let logic = match d.logic.clone() {
        Some(pb::rule_definition::Logic::Threshold(t)) => {
            let c = comparison(t.comparison());
            if c.is_none() {
                unset("threshold.comparison", &mut violations);
            }
            Logic::Threshold {
                comparison: c.unwrap_or(Comparison::Below),
                trigger: t.trigger,
                clear: t.clear,
                unit: t.unit,
                persistence_seconds: t.persistence_seconds,
                persistence_readings: t.persistence_readings,
            }
        }
        Some(pb::rule_definition::Logic::Change(c)) => Logic::Change {
            rising: c.rising,
            by: c.by,
            unit: c.unit,
            window_minutes: c.window_minutes,
        },
        Some(pb::rule_definition::Logic::Rate(r)) => Logic::Rate {
            per_minute: r.per_minute,
            unit: r.unit,
            window_minutes: r.window_minutes,
            min_samples: r.min_samples,
        },
        Some(pb::rule_definition::Logic::Event(_)) => Logic::Event,
        Some(pb::rule_definition::Logic::Silence(s)) => Logic::Silence { factor: s.factor },
        Some(pb::rule_definition::Logic::News2(n)) => {
            let at_least = match n.at_least() {
                pb::News2Risk::Low => Some(Risk::Low),
                pb::News2Risk::LowMedium => Some(Risk::LowMedium),
                pb::News2Risk::Medium => Some(Risk::Medium),
                pb::News2Risk::High => Some(Risk::High),
                pb::News2Risk::Unspecified => None,
            };
            if at_least.is_none() {
                unset("news2.at_least", &mut violations);
            }
            Logic::News2 {
                at_least: at_least.unwrap_or(Risk::High),
                window_minutes: n.window_minutes,
            }
        }
        None => {
            unset("logic", &mut violations);
            Logic::Event
        }
    };
    let potential_result = match d.potential_result() {
        pb::PotentialResult::DeathOrIrreversibleInjury => {
            Some(PotentialResult::DeathOrIrreversibleInjury)
        }
        pb::PotentialResult::ReversibleInjury => Some(PotentialResult::ReversibleInjury),
        pb::PotentialResult::MinorDiscomfortOrInjury => {
            Some(PotentialResult::MinorDiscomfortOrInjury)
        }
        pb::PotentialResult::Unspecified => None,
    };
    let onset = match d.onset() {
        pb::Onset::Immediate => Some(Onset::Immediate),
        pb::Onset::Prompt => Some(Onset::Prompt),
        pb::Onset::Delayed => Some(Onset::Delayed),
        pb::Onset::Unspecified => None,
    };
    let situation = match d.situation() {
        pb::Situation::Critical => Some(Situation::Critical),
        pb::Situation::Serious => Some(Situation::Serious),
        pb::Situation::NonSerious => Some(Situation::NonSerious),
        pb::Situation::Unspecified => None,
    };
    let significance = match d.significance() {
        pb::Significance::TreatOrDiagnose => Some(Significance::TreatOrDiagnose),
        pb::Significance::DriveClinicalManagement => Some(Significance::DriveClinicalManagement),
        pb::Significance::InformClinicalManagement => Some(Significance::InformClinicalManagement),
        pb::Significance::Unspecified => None,
    };
    for (field, missing) in [
        ("potential_result", potential_result.is_none()),
        ("onset", onset.is_none()),
        ("situation", situation.is_none()),
        ("significance", significance.is_none()),
    ] {
        if missing {
            unset(field, &mut violations);
        }
    }
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
        potential_result: potential_result.unwrap_or(PotentialResult::ReversibleInjury),
        onset: onset.unwrap_or(Onset::Prompt),
        situation: situation.unwrap_or(Situation::Serious),
        significance: significance.unwrap_or(Significance::InformClinicalManagement),
        intended_use: d.intended_use,
        clinical_reference: d.clinical_reference,
        latching: d.latching,
        urgent_floor: d.urgent_floor,
    })
}

fn proto_definition(d: &RuleDefinition) -> pb::RuleDefinition {
    use pb::rule_definition::Logic as L;
    let comparison = |c: Comparison| match c {
        Comparison::Below => pb::Comparison::Below,
        Comparison::AtOrBelow => pb::Comparison::AtOrBelow,
        Comparison::Above => pb::Comparison::Above,
        Comparison::AtOrAbove => pb::Comparison::AtOrAbove,
    };
    let logic = match &d.logic {
        Logic::Threshold {
            comparison: c,
            trigger,
            clear,
            unit,
            persistence_seconds,
            persistence_readings,
        } => L::Threshold(pb::Threshold {
            comparison: comparison(*c).into(),
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
    };
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
        logic: Some(logic),
        potential_result: match d.potential_result {
            PotentialResult::DeathOrIrreversibleInjury => {
                pb::PotentialResult::DeathOrIrreversibleInjury
            }
            PotentialResult::ReversibleInjury => pb::PotentialResult::ReversibleInjury,
            PotentialResult::MinorDiscomfortOrInjury => {
                pb::PotentialResult::MinorDiscomfortOrInjury
            }
        }
        .into(),
        onset: match d.onset {
            Onset::Immediate => pb::Onset::Immediate,
            Onset::Prompt => pb::Onset::Prompt,
            Onset::Delayed => pb::Onset::Delayed,
        }
        .into(),
        situation: match d.situation {
            Situation::Critical => pb::Situation::Critical,
            Situation::Serious => pb::Situation::Serious,
            Situation::NonSerious => pb::Situation::NonSerious,
        }
        .into(),
        significance: match d.significance {
            Significance::TreatOrDiagnose => pb::Significance::TreatOrDiagnose,
            Significance::DriveClinicalManagement => pb::Significance::DriveClinicalManagement,
            Significance::InformClinicalManagement => pb::Significance::InformClinicalManagement,
        }
        .into(),
        intended_use: d.intended_use.clone(),
        clinical_reference: d.clinical_reference.clone(),
        latching: d.latching,
        urgent_floor: d.urgent_floor,
    }
}

pub fn status(s: Status) -> pb::RuleStatus {
    match s {
        Status::Draft => pb::RuleStatus::Draft,
        Status::Submitted => pb::RuleStatus::Submitted,
        Status::Approved => pb::RuleStatus::Approved,
        Status::Active => pb::RuleStatus::Active,
        Status::Retired => pb::RuleStatus::Retired,
    }
}

pub fn version(v: &RuleVersion) -> pb::RuleVersion {
    pb::RuleVersion {
        rule_id: v.rule_id.clone(),
        version: v.version,
        status: status(v.status).into(),
        definition: Some(proto_definition(&v.definition)),
        priority: match v.definition.priority() {
            Priority::Low => pb::Priority::Low,
            Priority::Medium => pb::Priority::Medium,
            Priority::High => pb::Priority::High,
        }
        .into(),
        category: match v.definition.category() {
            Category::I => pb::SamdCategory::I,
            Category::II => pb::SamdCategory::Ii,
            Category::III => pb::SamdCategory::Iii,
            Category::IV => pb::SamdCategory::Iv,
        }
        .into(),
        author: v.author.clone(),
        created_at: Some(to_timestamp(v.created_at)),
        approved_by: v.approved_by.clone().unwrap_or_default(),
        approved_at: v.approved_at.map(to_timestamp),
        activated_at: v.activated_at.map(to_timestamp),
        retired_at: v.retired_at.map(to_timestamp),
        origin: v.origin.clone(),
    }
}

pub fn alert(a: &crate::storage::alerts::StoredAlert, tiers: &[String]) -> pb::Alert {
    use crate::domain::alert::State;
    pb::Alert {
        id: a.id.clone(),
        rule_id: a.rule_id.clone(),
        rule_version: a.rule_version,
        patient: patient_ref(&a.patient),
        state: match a.alert.state {
            State::Raised => pb::AlertState::Raised,
            State::Acknowledged => pb::AlertState::Acknowledged,
            State::Resolved => pb::AlertState::Resolved,
        }
        .into(),
        priority: match a.alert.priority {
            Priority::Low => pb::Priority::Low,
            Priority::Medium => pb::Priority::Medium,
            Priority::High => pb::Priority::High,
        }
        .into(),
        raised_at: Some(to_timestamp(a.alert.raised_at)),
        updated_at: Some(to_timestamp(a.updated_at)),
        snoozed_until: a.alert.snoozed_until.map(to_timestamp),
        tier: a.alert.tier,
        reading_ids: a.alert.readings.clone(),
        urgent_floor: a.alert.urgent_floor,
        latching: a.alert.latching,
        route: crate::domain::alert::route(tiers, a.alert.tier).to_owned(),
    }
}

pub fn change(c: &crate::storage::alerts::AlertChange, tiers: &[String]) -> pb::AlertChange {
    pb::AlertChange {
        position: c.position,
        alert_id: c.alert_id.clone(),
        change: c.change.clone(),
        at: Some(to_timestamp(c.at)),
        actor: c.actor.clone(),
        rule_version: c.rule_version,
        reading_ids: c.readings.clone(),
        tier: c.tier,
        route: crate::domain::alert::route(tiers, c.tier).to_owned(),
    }
}

pub fn risk(risk: Risk) -> pb::News2Risk {
    match risk {
        Risk::Low => pb::News2Risk::Low,
        Risk::LowMedium => pb::News2Risk::LowMedium,
        Risk::Medium => pb::News2Risk::Medium,
        Risk::High => pb::News2Risk::High,
    }
}

/// An opaque patient reference as the contract carries it.
pub fn patient_ref(value: &str) -> Option<common::PatientRef> {
    Some(common::PatientRef {
        value: value.to_owned(),
    })
}

/// A backtest's report as the contract states it.
pub fn backtest(report: &Report) -> pb::BacktestResponse {
    pb::BacktestResponse {
        alerts: report
            .alerts
            .iter()
            .map(|a| pb::BacktestAlert {
                patient: patient_ref(&a.patient),
                raised_at: Some(to_timestamp(a.raised_at)),
                resolved_at: a.resolved_at.map(to_timestamp),
                reading_ids: a.readings.clone(),
            })
            .collect(),
        per_day: report
            .per_day
            .iter()
            .map(|((patient, day), alerts)| pb::DailyAlerts {
                patient: patient_ref(patient),
                day: jiff::Timestamp::from_second(day * 86_400)
                    .map(|t| t.strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                alerts: *alerts,
            })
            .collect(),
        readings_evaluated: report.readings_evaluated,
    }
}
