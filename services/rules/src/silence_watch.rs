//! Device silence on the clock: every `rules.silence_check_seconds`, the latest reading of each
//! device (kept by the evaluator) is set against the device's expected interval from the
//! registry. A patient with a silent device gets one alert per silence rule; it resolves once
//! none of the patient's devices is silent any more. Each replica judges the patients whose
//! partitions it holds; the store's one-open-alert-per-rule-and-patient index keeps a replica
//! that has just lost a partition from raising a second alert.

use std::{collections::HashMap, time::Duration};

use sentinel_contract::registry::v1 as registry;
use sentinel_platform::{ServiceError, audit_trail::AuditTrail, auth::Caller, time::now_micros};
use tokio::sync::watch;

use crate::{
    alerting,
    devices::{Registry, context, current_patients},
    domain::{
        engine::{ActiveRule, Effect},
        rule::Logic,
        silence::{Watched, silent_patients},
    },
    partitions::{Owned, holds},
    storage::partitions::PartitionStore,
    storage::{RuleStore, alerts::AlertStore, last_seen::Seen},
};

/// Who judges silence, in the audit trail.
pub const SILENCE_WATCH: &str = "sentinel-silence-watch";

#[derive(Debug, Clone)]
pub struct SilenceWatch {
    rules: RuleStore,
    alerts: AlertStore,
    trail: AuditTrail,
    registry: Registry,
    every: Duration,
    /// The partitions of patients this replica holds, and this replica's name in the leases.
    owned: watch::Receiver<Owned>,
    me: String,
}

impl SilenceWatch {
    pub fn new(
        rules: RuleStore,
        alerts: AlertStore,
        trail: AuditTrail,
        registry: Registry,
        every: Duration,
        owned: watch::Receiver<Owned>,
        me: String,
    ) -> Self {
        SilenceWatch {
            rules,
            alerts,
            trail,
            registry,
            every,
            owned,
            me,
        }
    }

    /// Judges silence every period until `shutdown`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(err) = self.check().await {
                tracing::warn!(error = %err, "device silence check failed; retrying");
            }
        }
    }

    async fn silence_rules(&self) -> Result<Vec<ActiveRule>, ServiceError> {
        let mut rules = self.rules.active().await?;
        rules.retain(|r| matches!(r.definition.logic, Logic::Silence { .. }));
        Ok(rules)
    }

    /// The registry's view of each device seen, as silence needs it.
    async fn watched(&self, seen: &[Seen]) -> Result<Vec<Watched>, ServiceError> {
        let latest: HashMap<&str, (&str, i64)> = seen
            .iter()
            .map(|(device, reading, at)| (device.as_str(), (reading.as_str(), *at)))
            .collect();
        let ids: Vec<String> = seen.iter().map(|(device, _, _)| device.clone()).collect();
        let mut watched = Vec::new();
        for (device, bindings) in self.registry.lookup(&ids).await? {
            if device.status() != registry::DeviceStatus::Active {
                continue; // suspended or decommissioned devices are silent on purpose
            }
            let Some((reading, at)) = latest.get(device.id.as_str()) else {
                continue;
            };
            // An unbound device is nobody's concern; a shared one gone silent is the concern
            // of each patient bound to it.
            for patient in current_patients(&bindings) {
                watched.push(Watched {
                    device_id: device.id.clone(),
                    patient,
                    context: context(&device),
                    expected_interval_s: device
                        .spec
                        .as_ref()
                        .map_or(0, |s| s.expected_interval_seconds),
                    last_received_at: *at,
                    last_reading_id: (*reading).to_owned(),
                });
            }
        }
        Ok(watched)
    }

    /// Raises an alert for each patient newly silent and resolves those no longer silent;
    /// returns how many alerts changed.
    pub async fn check(&self) -> Result<usize, ServiceError> {
        let rules = self.silence_rules().await?;
        if rules.is_empty() {
            return Ok(0);
        }
        let owned = self.owned.borrow().clone();
        let mut watched = self.watched(&self.alerts.last_seen().await?).await?;
        watched.retain(|w| holds(&owned, &w.patient));
        let now = now_micros();
        let who = Caller::in_process_service(SILENCE_WATCH);
        let mut open = self.alerts.list("", true, u32::MAX).await?;
        open.retain(|a| holds(&owned, &a.patient));
        let mut effects = Vec::new();
        for rule in &rules {
            let silent = silent_patients(&rule.definition, &watched, now);
            let already: Vec<&str> = open
                .iter()
                .filter(|a| a.rule_id == rule.rule_id)
                .map(|a| a.patient.as_str())
                .collect();
            for (patient, readings) in &silent {
                if !already.contains(&patient.as_str()) {
                    effects.push(Effect::Raise {
                        rule_id: rule.rule_id.clone(),
                        version: rule.version,
                        patient: patient.clone(),
                        priority: rule.definition.priority(),
                        readings: readings.clone(),
                    });
                }
            }
            for patient in already.iter().filter(|p| !silent.contains_key(**p)) {
                // The reading that ended the silence: the patient's latest from any device.
                let reading_id = watched
                    .iter()
                    .filter(|w| w.patient == *patient)
                    .max_by_key(|w| w.last_received_at)
                    .map(|w| w.last_reading_id.clone())
                    .unwrap_or_default();
                effects.push(Effect::Clear {
                    rule_id: rule.rule_id.clone(),
                    version: rule.version,
                    patient: (*patient).to_owned(),
                    reading_id,
                });
            }
        }
        if effects.is_empty() {
            return Ok(0);
        }
        let mut tx = self.alerts.begin().await?;
        alerting::store(&mut tx, &self.trail, &who, &rules, &effects).await?;
        // Alert rows first, lease rows second (the evaluator's order): if a partition was taken
        // meanwhile, nothing of this round is kept; its new holder judges those patients.
        if !PartitionStore::still_held_for(
            &mut tx,
            &self.me,
            &owned,
            effects.iter().map(Effect::patient),
        )
        .await?
        {
            return Ok(0);
        }
        self.alerts.commit(tx).await?;
        Ok(effects.len())
    }
}
