//! The audit log watched from the clinical side. Clinical work goes on while the audit log is
//! out (its records are kept and appended later, `sentinel_platform::audit_outbox`), so somebody
//! must be told: once the audit log has not answered SERVING for a few checks in a row, a
//! technical alert `technical.audit-log-out` is raised — high priority, no patient, routed to
//! `rules.technical_route` — and it resolves itself when the log serves again. Replicas may
//! all watch: the alerts' write lock and one open alert per rule keep it one alert.

use std::time::Duration;

use sentinel_platform::{
    ServiceError, ServiceKind,
    audit_trail::{AuditEvent, AuditTrail},
    auth::Caller,
    health,
    ids::new_id,
    peer::Peer,
    time::now_micros,
};
use tokio::sync::watch;

use crate::{
    alerting::audited,
    domain::{
        alert::{AUDIT_LOG_OUT, Alert, Change},
        classification::Priority,
    },
    storage::{
        alert_changes::AlertChange,
        alerts::{AlertStore, StoredAlert},
    },
};

/// Who raises and resolves the technical alert, in the audit trail.
pub const AUDIT_WATCH: &str = "sentinel-audit-watch";
/// How often the audit log is asked.
const EVERY: Duration = Duration::from_secs(2);
/// Checks in a row without SERVING before the alert is raised (a suite starting in order, or
/// one slow answer, is not an outage).
const GRACE_CHECKS: u32 = 3;

#[derive(Debug, Clone)]
pub struct AuditWatch {
    alerts: AlertStore,
    trail: AuditTrail,
    audit: Peer,
}

impl AuditWatch {
    pub fn new(alerts: AlertStore, trail: AuditTrail, audit: Peer) -> Self {
        AuditWatch {
            alerts,
            trail,
            audit,
        }
    }

    /// Watches until `shutdown`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut down = 0u32;
        // Whether the alert is open, as last set or seen here (another replica may set it).
        let mut open: Option<bool> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            let serving = self.audit_serving().await;
            down = if serving { 0 } else { down.saturating_add(1) };
            let wanted = match serving {
                true => false,
                false if down >= GRACE_CHECKS => true,
                false => continue,
            };
            if open == Some(wanted) {
                continue;
            }
            match self.set_open(wanted).await {
                Ok(()) => open = Some(wanted),
                Err(err) => tracing::error!(error = %err, "audit-log technical alert not updated"),
            }
        }
    }

    /// Whether the audit log answers SERVING within the check's time.
    async fn audit_serving(&self) -> bool {
        health::peer_problem(&self.audit, ServiceKind::Audit)
            .await
            .is_none()
    }

    /// Raises the technical alert (`open`) or resolves it, unless it already stands so.
    async fn set_open(&self, open: bool) -> Result<(), ServiceError> {
        let mut tx = self.alerts.begin().await?;
        let now = now_micros();
        let current = AlertStore::open_for(&mut tx, AUDIT_LOG_OUT, "").await?;
        let changed = match (open, current) {
            (true, None) => {
                let raised = StoredAlert {
                    id: new_id("alert"),
                    rule_id: AUDIT_LOG_OUT.to_owned(),
                    rule_version: 0,
                    patient: String::new(),
                    updated_at: now,
                    alert: Alert::raise(Priority::High, now, Vec::new(), false, false),
                };
                AlertStore::insert(&mut tx, &raised).await?;
                tracing::error!(
                    "the audit log is out: technical alert raised; clinical work goes on and its records are kept"
                );
                Some((raised, Change::Raised))
            }
            (false, Some(mut stored)) => {
                // Never latching: it clears with its condition.
                stored.alert.condition_cleared();
                stored.updated_at = now;
                AlertStore::update(&mut tx, &stored).await?;
                tracing::info!("the audit log serves again: technical alert resolved");
                Some((stored, Change::Resolved))
            }
            _ => None,
        };
        if let Some((alert, change)) = changed {
            let who = Caller::in_process_service(AUDIT_WATCH);
            AlertStore::record_change(&mut tx, &AlertChange::of(&alert, change, &who.id, now, &[]))
                .await?;
            let event = AuditEvent::success(audited(change), "alert", &alert.id)
                .with("rule", alert.rule_id.clone())
                .with("technical", "true");
            self.trail
                .record_or_keep(&mut tx, &who, "service", event)
                .await?;
        }
        self.alerts.commit(tx).await
    }
}
