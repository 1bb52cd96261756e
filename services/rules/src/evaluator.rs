//! The evaluator: follows the ingestion reading log from its stored cursor, runs the engine on
//! each reading, and stores the effects — alerts raised, updated, resolved; suppressions — with
//! the new cursor in one transaction, each alert change audited before the commit. Replaying the
//! log after a crash therefore repeats nothing already committed (at-least-once delivery,
//! exactly-once effects).

use std::time::{Duration, Instant};

use sentinel_contract::ingestion::v1 as ingestion;
use sentinel_platform::{
    ServiceError,
    audit_trail::AuditTrail,
    auth::Caller,
    peer::Peer,
    time::{from_timestamp, now_micros},
};
use tokio::sync::watch;

use crate::{
    alerting,
    devices::{ContextCache, Registry},
    domain::engine::{Effect, Engine, Observed},
    storage::{RuleStore, alerts::AlertStore, last_seen::Seen},
};

/// The cursor's name in `evaluator_cursor`.
const CURSOR: &str = "readings";
/// Readings evaluated in one transaction at most.
const MAX_BATCH: usize = 1_000;
/// Readings of one code re-read at most when warming windows up after a restart.
const WARM_UP_CAP: usize = 2_000_000;
/// Who the evaluator acts as in the audit trail.
pub const EVALUATOR: &str = "sentinel-evaluator";

#[derive(Debug, Clone)]
pub struct Evaluator {
    rules: RuleStore,
    alerts: AlertStore,
    trail: AuditTrail,
    ingestion: Peer,
    registry: Registry,
}

fn caller() -> Caller {
    Caller::in_process_service(EVALUATOR)
}

fn observed(logged: &ingestion::LoggedReading) -> Option<Observed> {
    logged.reading.as_ref().map(crate::readings::observed)
}

/// Each device's latest reading in `batch`, by receipt time.
fn latest_per_device(batch: &[ingestion::LoggedReading]) -> Vec<Seen> {
    let mut latest: std::collections::HashMap<&str, (&str, i64)> = std::collections::HashMap::new();
    for reading in batch.iter().filter_map(|l| l.reading.as_ref()) {
        let at = reading.received_at.as_ref().map_or(0, from_timestamp);
        let entry = latest
            .entry(&reading.device_id)
            .or_insert((&reading.id, at));
        if at >= entry.1 {
            *entry = (&reading.id, at);
        }
    }
    latest
        .into_iter()
        .map(|(device, (reading, at))| (device.to_owned(), reading.to_owned(), at))
        .collect()
}

impl Evaluator {
    pub fn new(
        rules: RuleStore,
        alerts: AlertStore,
        trail: AuditTrail,
        ingestion: Peer,
        registry: Registry,
    ) -> Self {
        Evaluator {
            rules,
            alerts,
            trail,
            ingestion,
            registry,
        }
    }

    /// Follows the reading log until `shutdown`, reconnecting after errors.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut engine = Engine::default();
        let mut devices = ContextCache::new(self.registry.clone());
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(err) = self.follow(&mut engine, &mut devices, &mut shutdown).await {
                tracing::warn!(error = %err, "rule evaluation interrupted; resuming from the stored cursor");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// One connection's worth of following: ready the engine, then evaluate each batch that
    /// arrives until the stream ends, fails or `shutdown`.
    async fn follow(
        &self,
        engine: &mut Engine,
        devices: &mut ContextCache,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), ServiceError> {
        let Some(after) = self.ready(engine, shutdown).await? else {
            return Ok(());
        };
        let mut loaded = Instant::now();
        let mut stream = self
            .ingestion
            .ingestion()
            .follow_readings(ingestion::FollowReadingsRequest { after })
            .await
            .map_err(|s| ServiceError::Unavailable(format!("reading ingestion: {}", s.message())))?
            .into_inner();
        loop {
            let batch = tokio::select! {
                batch = next_batch(&mut stream) => batch?,
                _ = shutdown.changed() => return Ok(()),
            };
            if batch.is_empty() {
                return Ok(());
            }
            // Rule changes reach evaluation within a second.
            if loaded.elapsed() > Duration::from_secs(1) {
                engine.set_rules(self.rules.active().await?);
                loaded = Instant::now();
            }
            self.evaluate(engine, devices, &batch).await?;
        }
    }

    /// Readies `engine` to go on from the stored cursor: the built-in library in place, the
    /// active rules, the open alerts and the windows as they were. Returns the cursor, or
    /// `None` when shutdown came first.
    async fn ready(
        &self,
        engine: &mut Engine,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<u64>, ServiceError> {
        // Nothing is evaluated before the built-in library is in place: a reading judged
        // against no rules would be passed over for good.
        while !self.rules.has_origin("builtin").await? {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = shutdown.changed() => return Ok(None),
            }
        }
        let after = self.alerts.cursor(CURSOR).await?;
        engine.set_rules(self.rules.active().await?);
        for open in self.alerts.list("", true, u32::MAX).await? {
            engine.mark_raised(&open.rule_id, open.rule_version, &open.patient);
        }
        self.warm_up(engine, after).await?;
        Ok(Some(after))
    }

    /// Evaluates one batch of logged readings and stores its effects with the new cursor.
    async fn evaluate(
        &self,
        engine: &mut Engine,
        devices: &mut ContextCache,
        batch: &[ingestion::LoggedReading],
    ) -> Result<(), ServiceError> {
        // A clinician's scale change counts from the next batch on.
        engine.set_scales(self.alerts.on_scale_two().await?);
        let mut readings: Vec<Observed> = batch.iter().filter_map(observed).collect();
        if engine.needs_devices() {
            devices.enrich(&mut readings).await?;
        }
        let mut effects = Vec::new();
        for reading in &readings {
            effects.extend(engine.evaluate(reading));
        }
        let position = batch.last().map_or(0, |l| l.position);
        self.apply(engine, &effects, &latest_per_device(batch), position)
            .await
    }

    /// Re-reads what was evaluated up to log position `up_to` within each windowed rule's
    /// window, so a fever spike or a NEWS2 that began before a restart is still seen whole.
    async fn warm_up(&self, engine: &mut Engine, up_to: u64) -> Result<(), ServiceError> {
        if up_to == 0 {
            return Ok(());
        }
        let now = now_micros();
        let mut warmed = 0;
        for (code, window) in engine.warm_up_plan() {
            let readings = crate::readings::of_code_until(
                &self.ingestion,
                &code,
                now - window,
                up_to,
                WARM_UP_CAP,
            )
            .await?;
            warmed += readings.len();
            for reading in &readings {
                engine.warm(reading);
            }
        }
        tracing::info!(
            readings = warmed,
            "rule windows warmed up from the reading log"
        );
        Ok(())
    }

    /// Stores `effects` and each device's latest reading, and moves the cursor to `position`, in
    /// one transaction.
    async fn apply(
        &self,
        engine: &Engine,
        effects: &[Effect],
        seen: &[Seen],
        position: u64,
    ) -> Result<(), ServiceError> {
        let mut tx = self.alerts.begin().await?;
        alerting::store(&mut tx, &self.trail, &caller(), engine.rules(), effects).await?;
        AlertStore::saw(&mut tx, seen).await?;
        AlertStore::set_cursor(&mut tx, CURSOR, position).await?;
        self.alerts.commit(tx).await?;
        Ok(())
    }
}

/// The next logged reading and whatever else has already arrived, up to [`MAX_BATCH`]: one
/// commit for many readings keeps up with thousands of readings a second. Empty when the
/// stream ended.
async fn next_batch(
    stream: &mut tonic::Streaming<ingestion::LoggedReading>,
) -> Result<Vec<ingestion::LoggedReading>, ServiceError> {
    let unavailable = |s: tonic::Status| ServiceError::Unavailable(s.message().to_owned());
    let Some(first) = stream.message().await.map_err(unavailable)? else {
        return Ok(Vec::new());
    };
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match tokio::time::timeout(Duration::ZERO, stream.message()).await {
            Ok(Ok(Some(more))) => batch.push(more),
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(status)) => return Err(unavailable(status)),
        }
    }
    Ok(batch)
}
