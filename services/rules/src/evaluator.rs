//! The evaluator: follows the ingestion reading log from its stored cursor, runs the engine on
//! each reading, and stores the effects — alerts raised, updated, resolved; suppressions — with
//! the new cursor in one transaction, each alert change audited before the commit. Replaying the
//! log after a crash therefore repeats nothing already committed (at-least-once delivery,
//! exactly-once effects).

use std::time::{Duration, Instant};

use sentinel_contract::ingestion::v1::{
    self as ingestion, reading_ingestion_client::ReadingIngestionClient,
};
use sentinel_platform::{
    ServiceError,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, CallerKind, Role, present_bearer},
    ids::new_id,
    time::now_micros,
};
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::{
    domain::{
        alert::Alert,
        engine::{ActiveRule, Effect, Engine, Observed},
        lifecycle::Status,
        rule::RuleDefinition,
    },
    storage::{
        RuleStore,
        alerts::{AlertChange, AlertStore, StoredAlert},
    },
};

/// The cursor's name in `evaluator_cursor`.
const CURSOR: &str = "readings";
/// Readings evaluated in one transaction at most.
const MAX_BATCH: usize = 1_000;
/// Who the evaluator acts as in the audit trail.
pub const EVALUATOR: &str = "sentinel-evaluator";

#[derive(Debug, Clone)]
pub struct Evaluator {
    rules: RuleStore,
    alerts: AlertStore,
    trail: AuditTrail,
    ingestion: Channel,
    token: String,
}

fn caller() -> Caller {
    Caller {
        kind: CallerKind::Service,
        id: EVALUATOR.to_owned(),
        roles: vec![Role::Service],
        credential_id: String::new(),
    }
}

fn observed(logged: &ingestion::LoggedReading) -> Option<Observed> {
    logged.reading.as_ref().map(crate::readings::observed)
}

impl Evaluator {
    pub fn new(
        rules: RuleStore,
        alerts: AlertStore,
        trail: AuditTrail,
        ingestion: Channel,
        token: String,
    ) -> Self {
        Evaluator {
            rules,
            alerts,
            trail,
            ingestion,
            token,
        }
    }

    async fn active_rules(&self) -> Result<Vec<ActiveRule>, ServiceError> {
        Ok(self
            .rules
            .in_status(Status::Active)
            .await?
            .into_iter()
            .map(|v| ActiveRule {
                rule_id: v.rule_id,
                version: v.version,
                definition: v.definition,
            })
            .collect())
    }

    /// Follows the reading log until `shutdown`, reconnecting after errors.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut engine = Engine::default();
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(err) = self.follow(&mut engine, &mut shutdown).await {
                tracing::warn!(error = %err, "rule evaluation interrupted; resuming from the stored cursor");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn follow(
        &self,
        engine: &mut Engine,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), ServiceError> {
        // Nothing is evaluated before the built-in library is in place: a reading judged
        // against no rules would be passed over for good.
        while !self.rules.has_origin("builtin").await? {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
        let after = self.alerts.cursor(CURSOR).await?;
        engine.set_rules(self.active_rules().await?);
        for open in self.alerts.list("", true, u32::MAX).await? {
            engine.mark_raised(&open.rule_id, open.rule_version, &open.patient);
        }
        let mut loaded = Instant::now();
        let mut request = tonic::Request::new(ingestion::FollowReadingsRequest { after });
        present_bearer(&mut request, &self.token)?;
        let mut stream = ReadingIngestionClient::new(self.ingestion.clone())
            .follow_readings(request)
            .await
            .map_err(|s| ServiceError::Unavailable(format!("reading ingestion: {}", s.message())))?
            .into_inner();
        loop {
            let next = tokio::select! {
                next = stream.message() => next,
                _ = shutdown.changed() => return Ok(()),
            };
            let Some(first) =
                next.map_err(|s| ServiceError::Unavailable(s.message().to_owned()))?
            else {
                return Ok(());
            };
            // Whatever else has already arrived goes into the same transaction: one commit for
            // many readings keeps up with thousands of readings a second.
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match tokio::time::timeout(Duration::ZERO, stream.message()).await {
                    Ok(Ok(Some(more))) => batch.push(more),
                    Ok(Ok(None)) | Err(_) => break,
                    Ok(Err(status)) => {
                        return Err(ServiceError::Unavailable(status.message().to_owned()));
                    }
                }
            }
            // Rule changes reach evaluation within a second.
            if loaded.elapsed() > Duration::from_secs(1) {
                engine.set_rules(self.active_rules().await?);
                loaded = Instant::now();
            }
            let mut effects = Vec::new();
            for logged in &batch {
                if let Some(o) = observed(logged) {
                    effects.extend(engine.evaluate(&o));
                }
            }
            let position = batch.last().map_or(0, |l| l.position);
            self.apply(engine, &effects, position).await?;
            self.alerts.committed();
        }
    }

    fn definition<'a>(
        engine: &'a Engine,
        rule_id: &str,
        version: u32,
    ) -> Option<&'a RuleDefinition> {
        engine
            .rules()
            .iter()
            .find(|r| r.rule_id == rule_id && r.version == version)
            .map(|r| &r.definition)
    }

    /// Stores `effects` and moves the cursor to `position`, in one transaction.
    async fn apply(
        &self,
        engine: &Engine,
        effects: &[Effect],
        position: u64,
    ) -> Result<(), ServiceError> {
        let mut tx = self.alerts.begin().await?;
        let now = now_micros();
        let who = caller();
        for effect in effects {
            match effect {
                Effect::Raise {
                    rule_id,
                    version,
                    patient,
                    priority,
                    readings,
                } => {
                    let existing = AlertStore::open_for(&mut tx, rule_id, patient).await?;
                    let (alert, change) = match existing {
                        Some(mut open) => {
                            open.alert.repeat(readings);
                            open.updated_at = now;
                            open.rule_version = *version;
                            AlertStore::update(&mut tx, &open).await?;
                            (open, "updated")
                        }
                        None => {
                            let definition = Self::definition(engine, rule_id, *version);
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
                            AlertStore::insert(&mut tx, &fresh).await?;
                            (fresh, "raised")
                        }
                    };
                    self.change(&mut tx, &who, &alert, change, readings, now)
                        .await?;
                }
                Effect::Clear {
                    rule_id,
                    patient,
                    reading_id,
                    ..
                } => {
                    if let Some(mut open) = AlertStore::open_for(&mut tx, rule_id, patient).await?
                        && open.alert.condition_cleared()
                    {
                        open.updated_at = now;
                        AlertStore::update(&mut tx, &open).await?;
                        self.change(
                            &mut tx,
                            &who,
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
                        &mut tx,
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
        AlertStore::set_cursor(&mut tx, CURSOR, position).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(())
    }

    async fn change(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        who: &Caller,
        alert: &StoredAlert,
        change: &str,
        readings: &[String],
        at: i64,
    ) -> Result<(), ServiceError> {
        AlertStore::record_change(
            tx,
            &AlertChange {
                position: 0,
                alert_id: alert.id.clone(),
                change: change.to_owned(),
                at,
                actor: who.id.clone(),
                rule_version: alert.rule_version,
                readings: readings.to_vec(),
            },
        )
        .await?;
        let action = match change {
            "raised" => "alert.raised",
            "resolved" => "alert.resolved",
            _ => "alert.updated",
        };
        let event = AuditEvent::success(action, "alert", &alert.id)
            .with("rule", alert.rule_id.clone())
            .with("rule_version", alert.rule_version.to_string())
            .with("readings", readings.join(","));
        self.trail.record_as(who, "service", event).await?;
        Ok(())
    }
}
