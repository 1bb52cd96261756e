//! Engine effects written as alert changes: the one place an alert is raised, updated or
//! resolved by evaluation (live, or on the clock for device silence), each change logged in
//! `alert_changes` and audited in the caller's transaction.

use sentinel_platform::{
    ServiceError,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::Caller,
    ids::new_id,
    time::now_micros,
};
use sqlx::{Any, Transaction};

use crate::{
    domain::{
        alert::Alert,
        engine::{ActiveRule, Effect},
        rule::RuleDefinition,
    },
    storage::alerts::{AlertChange, AlertStore, StoredAlert},
};

fn definition<'a>(
    rules: &'a [ActiveRule],
    rule_id: &str,
    version: u32,
) -> Option<&'a RuleDefinition> {
    rules
        .iter()
        .find(|r| r.rule_id == rule_id && r.version == version)
        .map(|r| &r.definition)
}

/// Writes `effects` in `tx`: a raise opens an alert or updates the open one, a clear resolves a
/// non-latching open alert, a suppression is recorded; each alert change is audited as `who`.
pub async fn store(
    tx: &mut Transaction<'static, Any>,
    trail: &AuditTrail,
    who: &Caller,
    rules: &[ActiveRule],
    effects: &[Effect],
) -> Result<(), ServiceError> {
    let now = now_micros();
    for effect in effects {
        match effect {
            Effect::Raise {
                rule_id,
                version,
                patient,
                priority,
                readings,
            } => {
                let existing = AlertStore::open_for(tx, rule_id, patient).await?;
                let (alert, change) = match existing {
                    Some(mut open) => {
                        open.alert.repeat(readings);
                        open.updated_at = now;
                        open.rule_version = *version;
                        AlertStore::update(tx, &open).await?;
                        (open, "updated")
                    }
                    None => {
                        let definition = definition(rules, rule_id, *version);
                        let fresh = StoredAlert {
                            id: new_id("alert"),
                            rule_id: rule_id.clone(),
                            rule_version: *version,
                            patient: patient.clone(),
                            updated_at: now,
                            alert: Alert::raise(
                                *priority,
                                now,
                                readings.clone(),
                                definition.is_some_and(|d| d.urgent_floor),
                                definition.is_some_and(|d| d.latching),
                            ),
                        };
                        AlertStore::insert(tx, &fresh).await?;
                        (fresh, "raised")
                    }
                };
                record(tx, trail, who, &alert, change, readings, now).await?;
            }
            Effect::Clear {
                rule_id,
                patient,
                reading_id,
                ..
            } => {
                if let Some(mut open) = AlertStore::open_for(tx, rule_id, patient).await?
                    && open.alert.condition_cleared()
                {
                    open.updated_at = now;
                    AlertStore::update(tx, &open).await?;
                    record(
                        tx,
                        trail,
                        who,
                        &open,
                        "resolved",
                        std::slice::from_ref(reading_id),
                        now,
                    )
                    .await?;
                }
            }
            Effect::Suppressed {
                rule_id,
                version,
                patient,
                reading_id,
                reason,
            } => {
                AlertStore::suppress(
                    tx,
                    &new_id("sup"),
                    rule_id,
                    *version,
                    patient,
                    reading_id,
                    reason,
                    now,
                )
                .await?;
            }
        }
    }
    Ok(())
}

async fn record(
    tx: &mut Transaction<'static, Any>,
    trail: &AuditTrail,
    who: &Caller,
    alert: &StoredAlert,
    change: &str,
    readings: &[String],
    at: i64,
) -> Result<(), ServiceError> {
    AlertStore::record_change(tx, &AlertChange::of(alert, change, &who.id, at, readings)).await?;
    let action = match change {
        "raised" => Action::AlertRaised,
        "resolved" => Action::AlertResolved,
        _ => Action::AlertUpdated,
    };
    let event = AuditEvent::success(action, "alert", &alert.id)
        .with("rule", alert.rule_id.clone())
        .with("rule_version", alert.rule_version.to_string())
        .with("readings", readings.join(","));
    trail.record_as(who, "service", event).await?;
    Ok(())
}
