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
        alert::{Alert, Change},
        classification::Priority,
        engine::{ActiveRule, Effect},
        rule::RuleDefinition,
    },
    storage::{
        alert_changes::AlertChange,
        alerts::{AlertStore, StoredAlert},
    },
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

type Tx = Transaction<'static, Any>;

/// The audited action of each kind of alert change: one mapping for every writer of changes.
pub fn audited(change: Change) -> Action {
    match change {
        Change::Raised => Action::AlertRaised,
        Change::Updated => Action::AlertUpdated,
        Change::Acknowledged => Action::AlertAcknowledged,
        Change::Snoozed => Action::AlertSnoozed,
        Change::Escalated => Action::AlertEscalated,
        Change::Resolved => Action::AlertResolved,
    }
}

/// Who writes effects, against which rules, and when.
struct Writer<'a> {
    trail: &'a AuditTrail,
    who: &'a Caller,
    rules: &'a [ActiveRule],
    now: i64,
}

/// Writes `effects` in `tx`: a raise opens an alert or updates the open one, a clear resolves a
/// non-latching open alert, a suppression is recorded; each alert change is audited as `who`.
pub async fn store(
    tx: &mut Tx,
    trail: &AuditTrail,
    who: &Caller,
    rules: &[ActiveRule],
    effects: &[Effect],
) -> Result<(), ServiceError> {
    let writer = Writer {
        trail,
        who,
        rules,
        now: now_micros(),
    };
    for effect in effects {
        match effect {
            Effect::Raise {
                rule_id,
                version,
                patient,
                priority,
                readings,
            } => {
                writer
                    .raise(tx, (rule_id, *version), patient, *priority, readings)
                    .await?;
            }
            Effect::Clear {
                rule_id,
                patient,
                reading_id,
                ..
            } => writer.clear(tx, rule_id, patient, reading_id).await?,
            Effect::Suppressed {
                rule_id,
                version,
                patient,
                reading_id,
                reason,
            } => {
                let id = new_id("sup");
                AlertStore::suppress(
                    tx, &id, rule_id, *version, patient, reading_id, reason, writer.now,
                )
                .await?;
            }
        }
    }
    Ok(())
}

impl Writer<'_> {
    /// Updates the patient's open alert of the rule with the new readings, or raises one.
    async fn raise(
        &self,
        tx: &mut Tx,
        (rule_id, version): (&str, u32),
        patient: &str,
        priority: Priority,
        readings: &[String],
    ) -> Result<(), ServiceError> {
        let now = self.now;
        let (alert, change) = match AlertStore::open_for(tx, rule_id, patient).await? {
            Some(mut open) => {
                open.alert.repeat(readings);
                open.updated_at = now;
                open.rule_version = version;
                AlertStore::update(tx, &open).await?;
                (open, Change::Updated)
            }
            None => {
                let definition = definition(self.rules, rule_id, version);
                let fresh = StoredAlert {
                    id: new_id("alert"),
                    rule_id: rule_id.to_owned(),
                    rule_version: version,
                    patient: patient.to_owned(),
                    updated_at: now,
                    alert: Alert::raise(
                        priority,
                        now,
                        readings.to_vec(),
                        definition.is_some_and(|d| d.urgent_floor),
                        definition.is_some_and(|d| d.latching),
                    ),
                };
                AlertStore::insert(tx, &fresh).await?;
                (fresh, Change::Raised)
            }
        };
        self.record(tx, &alert, change, readings).await
    }

    /// Resolves the patient's open alert of the rule, unless it latches.
    async fn clear(
        &self,
        tx: &mut Tx,
        rule_id: &str,
        patient: &str,
        reading_id: &str,
    ) -> Result<(), ServiceError> {
        let Some(mut open) = AlertStore::open_for(tx, rule_id, patient).await? else {
            return Ok(());
        };
        if !open.alert.condition_cleared() {
            return Ok(());
        }
        open.updated_at = self.now;
        AlertStore::update(tx, &open).await?;
        let readings = [reading_id.to_owned()];
        self.record(tx, &open, Change::Resolved, &readings).await
    }

    /// Logs `change` of `alert` and audits it.
    async fn record(
        &self,
        tx: &mut Tx,
        alert: &StoredAlert,
        change: Change,
        readings: &[String],
    ) -> Result<(), ServiceError> {
        let who = self.who;
        let logged = AlertChange::of(alert, change, &who.id, self.now, readings);
        AlertStore::record_change(tx, &logged).await?;
        let event = AuditEvent::success(audited(change), "alert", &alert.id)
            .with("rule", alert.rule_id.clone())
            .with("rule_version", alert.rule_version.to_string())
            .with("readings", readings.join(","));
        self.trail.record_or_keep(tx, who, "service", event).await?;
        Ok(())
    }
}
