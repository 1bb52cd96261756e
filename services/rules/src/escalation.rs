//! Escalation: an alert nobody acknowledged within the configured time goes up one priority
//! step and to the next tier, again after each further period, each step recorded and audited.
//! Each replica looks after the alerts of the patients whose partitions it holds; an alert is
//! escalated under its row lock after checking again, so a replica that has just lost a
//! partition cannot escalate an alert twice.

use std::time::Duration;

use sentinel_platform::{
    ServiceError,
    audit_trail::{AuditEvent, AuditTrail},
    auth::Caller,
    time::now_micros,
};
use tokio::sync::watch;

use crate::alerting::audited;
use crate::domain::alert::{Change, is_technical};
use crate::partitions::{Owned, holds};
use crate::storage::{
    alert_changes::AlertChange,
    alerts::{AlertStore, priority_code},
    partitions::PartitionStore,
};

/// Who escalates, in the audit trail.
pub const ESCALATOR: &str = "sentinel-escalation";

#[derive(Debug, Clone)]
pub struct Escalation {
    alerts: AlertStore,
    trail: AuditTrail,
    after: Duration,
    /// The partitions of patients this replica holds, and this replica's name in the leases.
    owned: watch::Receiver<Owned>,
    me: String,
}

impl Escalation {
    pub fn new(
        alerts: AlertStore,
        trail: AuditTrail,
        after: Duration,
        owned: watch::Receiver<Owned>,
        me: String,
    ) -> Self {
        Escalation {
            alerts,
            trail,
            after,
            owned,
            me,
        }
    }

    /// Checks open alerts every second (or a tenth of the escalation time, if shorter) until
    /// `shutdown`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let tick = (self.after / 10).clamp(Duration::from_millis(100), Duration::from_secs(1));
        loop {
            if let Err(err) = self.escalate_due().await {
                tracing::warn!(error = %err, "escalation check failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Escalates every alert due now among the patients this replica looks after; returns how
    /// many.
    pub async fn escalate_due(&self) -> Result<usize, ServiceError> {
        let after = i64::try_from(self.after.as_micros()).unwrap_or(i64::MAX);
        let now = now_micros();
        let owned = self.owned.borrow().clone();
        let due: Vec<(String, String)> = self
            .alerts
            .list("", true, u32::MAX)
            .await?
            .into_iter()
            // Technical alerts stay with their own route: no clinical tier is theirs.
            .filter(|a| !is_technical(&a.rule_id))
            .filter(|a| holds(&owned, &a.patient))
            .filter(|a| a.alert.clone().escalate_if_due(now, after))
            .map(|a| (a.id, a.patient))
            .collect();
        let who = Caller::in_process_service(ESCALATOR);
        let mut escalated = 0;
        for (id, patient) in due {
            let mut tx = self.alerts.begin().await?;
            // Checked again under the lock: someone may have acknowledged it meanwhile.
            let Some(mut stored) = AlertStore::locked(&mut tx, &id).await? else {
                continue;
            };
            // The lease as of now, not as of the last renewal: a replica whose renewals are
            // late (a busy store) must not act on a partition another has taken. Alert row
            // first, lease row second: the order the evaluator takes them in.
            if !PartitionStore::still_held_for(&mut tx, &self.me, &owned, [patient.as_str()])
                .await?
            {
                continue;
            }
            if !stored.alert.escalate_if_due(now_micros(), after) {
                continue;
            }
            stored.updated_at = now_micros();
            AlertStore::update(&mut tx, &stored).await?;
            AlertStore::record_change(
                &mut tx,
                &AlertChange::of(&stored, Change::Escalated, &who.id, stored.updated_at, &[]),
            )
            .await?;
            let event = AuditEvent::success(audited(Change::Escalated), "alert", &stored.id)
                .with("rule", stored.rule_id.clone())
                .with("priority", priority_code(stored.alert.priority))
                .with("tier", stored.alert.tier.to_string());
            self.trail
                .record_or_keep(&mut tx, &who, "service", event)
                .await?;
            self.alerts.commit(tx).await?;
            escalated += 1;
        }
        Ok(escalated)
    }
}
