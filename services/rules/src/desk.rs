//! The alert desk: what people do to alerts — acknowledge, resolve, snooze — each one
//! transaction that records the change in the alert log and appends its audit record before
//! the commit.

use sentinel_platform::{
    ServiceError,
    audit_action::Action as Audited,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, Role},
    time::now_micros,
};

use crate::{
    alerting,
    domain::{
        alert::{Change, Refusal},
        news2::SpO2Scale,
    },
    storage::{
        alert_changes::AlertChange,
        alerts::{AlertStore, StoredAlert},
        scales::ScaleSetting,
    },
};

/// The longest a single alert may be snoozed.
pub const MAX_SNOOZE_SECONDS: u32 = 3_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Resolve,
    Snooze { seconds: u32 },
}

#[derive(Debug, Clone)]
pub struct Desk {
    alerts: AlertStore,
    trail: AuditTrail,
}

fn refused(refusal: Refusal) -> ServiceError {
    match refusal {
        Refusal::NotNow(why) => ServiceError::FailedPrecondition(why),
        Refusal::UrgentFloor => ServiceError::FailedPrecondition(
            "this alert comes from an urgent-floor rule, which cannot be snoozed".to_owned(),
        ),
        Refusal::TooLong { max_seconds } => {
            ServiceError::field("seconds", format!("must be between 1 and {max_seconds}"))
        }
    }
}

impl Desk {
    pub fn new(alerts: AlertStore, trail: AuditTrail) -> Self {
        Desk { alerts, trail }
    }

    pub fn alerts(&self) -> &AlertStore {
        &self.alerts
    }

    pub async fn act(
        &self,
        caller: &Caller,
        role: Role,
        id: &str,
        action: Action,
        note: &str,
    ) -> Result<StoredAlert, ServiceError> {
        let mut tx = self.alerts.begin().await?;
        let mut stored = AlertStore::locked(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("alert {id}")))?;
        let now = now_micros();
        let change = match action {
            Action::Acknowledge => {
                stored.alert.acknowledge().map_err(refused)?;
                Change::Acknowledged
            }
            Action::Resolve => {
                stored.alert.resolve().map_err(refused)?;
                Change::Resolved
            }
            Action::Snooze { seconds } => {
                stored
                    .alert
                    .snooze(now, seconds, MAX_SNOOZE_SECONDS)
                    .map_err(refused)?;
                Change::Snoozed
            }
        };
        stored.updated_at = now;
        AlertStore::update(&mut tx, &stored).await?;
        AlertStore::record_change(
            &mut tx,
            &AlertChange::of(&stored, change, &caller.id, now, &[]),
        )
        .await?;
        let mut event = AuditEvent::success(alerting::audited(change), "alert", &stored.id)
            .with("rule", stored.rule_id.clone())
            .with("rule_version", stored.rule_version.to_string());
        if let Action::Snooze { seconds } = action {
            event = event.with("seconds", seconds.to_string());
        }
        if !note.is_empty() {
            event = event.with("note", note.to_owned());
        }
        // Handling an alert goes on while the audit log is out: its record is kept meanwhile.
        self.trail
            .record_or_keep(&mut tx, caller, role.code(), event)
            .await?;
        self.alerts.commit(tx).await?;
        Ok(stored)
    }

    /// Puts `patient` on `scale` for NEWS2, with the clinician's reason; audited.
    pub async fn set_spo2_scale(
        &self,
        caller: &Caller,
        role: Role,
        patient: &str,
        scale: SpO2Scale,
        reason: &str,
    ) -> Result<ScaleSetting, ServiceError> {
        let setting = ScaleSetting {
            patient: patient.to_owned(),
            scale,
            set_by: caller.id.clone(),
            set_at: now_micros(),
            reason: reason.to_owned(),
        };
        let mut tx = self.alerts.begin().await?;
        AlertStore::set_scale(&mut tx, &setting).await?;
        let event = AuditEvent::success(Audited::News2Spo2ScaleSet, "patient", patient)
            .with(
                "scale",
                match scale {
                    SpO2Scale::One => "1",
                    SpO2Scale::Two => "2",
                }
                .to_owned(),
            )
            .with("reason", reason.to_owned());
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(setting)
    }
}
