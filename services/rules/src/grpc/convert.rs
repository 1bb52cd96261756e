//! Proto ↔ domain conversions of the rules contract. An unset enum becomes a field violation
//! naming it, never a default.

mod definition;

use sentinel_contract::{common::v1 as common, rules::v1 as pb};
use sentinel_platform::time::to_timestamp;

use crate::{
    domain::{
        alert::{Routes, is_technical},
        backtest::Report,
        classification::{Category, Priority},
        lifecycle::Status,
        news2::Risk,
    },
    storage::RuleVersion,
};

pub use definition::{definition, proto_definition};

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

pub fn alert(a: &crate::storage::alerts::StoredAlert, routes: &Routes) -> pb::Alert {
    use crate::domain::alert::State;
    let technical = is_technical(&a.rule_id);
    pb::Alert {
        id: a.id.clone(),
        rule_id: a.rule_id.clone(),
        rule_version: a.rule_version,
        patient: (!technical).then(|| patient_ref(&a.patient)).flatten(),
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
        route: routes.route(technical, a.alert.tier).to_owned(),
        technical,
    }
}

pub fn change(c: &crate::storage::alert_changes::AlertChange, routes: &Routes) -> pb::AlertChange {
    pb::AlertChange {
        position: c.position,
        alert_id: c.alert_id.clone(),
        change: c.change.code().to_owned(),
        at: Some(to_timestamp(c.at)),
        actor: c.actor.clone(),
        rule_version: c.rule_version,
        reading_ids: c.readings.clone(),
        tier: c.tier,
        route: routes.route(c.technical, c.tier).to_owned(),
        technical: c.technical,
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

/// A stored suppression — (rule, version, reading, reason, when) — as the contract states it.
pub fn suppression(
    (rule_id, rule_version, reading_id, reason, at): (String, u32, String, String, i64),
) -> pb::Suppression {
    pb::Suppression {
        rule_id,
        rule_version,
        reading_id,
        reason,
        at: Some(to_timestamp(at)),
    }
}
