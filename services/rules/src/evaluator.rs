//! The evaluator: follows the ingestion reading log for the partitions of patients this replica
//! holds (`partitions`), from where each was evaluated up to, runs the engine on each of their
//! readings, and stores the effects — alerts raised, updated, resolved; suppressions — with the
//! partitions' new positions in one transaction, fenced by their leases, each alert change
//! audited before the commit. Replaying the log after a crash or a take-over therefore repeats
//! nothing already committed (at-least-once delivery, exactly-once effects).

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
    partitions::{self, Owned},
    storage::{RuleStore, alerts::AlertStore, last_seen::Seen, partitions::PartitionStore},
};

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
    partitions: PartitionStore,
    /// This replica, as the partition leases name it.
    me: String,
    trail: AuditTrail,
    ingestion: Peer,
    registry: Registry,
}

/// The partitions being evaluated: their fences and how far each has been evaluated.
#[derive(Debug, Clone)]
struct Held {
    owned: Owned,
    positions: std::collections::BTreeMap<u32, u64>,
}

impl Held {
    /// Whether `reading` at log `position` is this replica's to evaluate now.
    fn takes(&self, reading: &Observed, position: u64) -> bool {
        let part = partitions::of(reading);
        self.positions
            .get(&part)
            .is_some_and(|done| position > *done)
    }

    /// Where following the log starts: the least evaluated partition.
    fn after(&self) -> u64 {
        self.positions.values().copied().min().unwrap_or(0)
    }
}

fn caller() -> Caller {
    Caller::in_process_service(EVALUATOR)
}

fn observed(logged: &ingestion::LoggedReading) -> Option<Observed> {
    logged.reading.as_ref().map(crate::readings::observed)
}

/// Each device's latest reading in `batch`, by receipt time.
fn latest_per_device(batch: &[&ingestion::LoggedReading]) -> Vec<Seen> {
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
        partitions: PartitionStore,
        me: String,
        trail: AuditTrail,
        ingestion: Peer,
        registry: Registry,
    ) -> Self {
        Evaluator {
            rules,
            alerts,
            partitions,
            me,
            trail,
            ingestion,
            registry,
        }
    }

    /// Evaluates the partitions `owned` names until `shutdown`; starts over (engine, windows,
    /// positions) whenever they change, and resumes after errors.
    pub async fn run(self, mut owned: watch::Receiver<Owned>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let held = owned.borrow_and_update().clone();
            if held.is_empty() {
                tokio::select! {
                    changed = owned.changed() => if changed.is_err() { return },
                    _ = shutdown.changed() => return,
                }
                continue;
            }
            if let Err(err) = self.follow(held, &mut owned, &mut shutdown).await {
                tracing::warn!(error = %err, "rule evaluation interrupted; resuming from the stored positions");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// One connection's worth of following for the partitions `owned`: ready an engine, then
    /// evaluate each batch that arrives until the stream ends or fails, the partitions held
    /// change, or `shutdown`.
    async fn follow(
        &self,
        owned: Owned,
        changes: &mut watch::Receiver<Owned>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), ServiceError> {
        let mut engine = Engine::default();
        let mut devices = ContextCache::new(self.registry.clone());
        let Some(mut held) = self.ready(&mut engine, owned, shutdown).await? else {
            return Ok(());
        };
        let mut loaded = Instant::now();
        let mut stream = self
            .ingestion
            .ingestion()
            .follow_readings(ingestion::FollowReadingsRequest {
                after: held.after(),
            })
            .await
            .map_err(|s| ServiceError::Unavailable(format!("reading ingestion: {}", s.message())))?
            .into_inner();
        loop {
            let batch = tokio::select! {
                batch = next_batch(&mut stream) => batch?,
                _ = changes.changed() => return Ok(()),
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
            self.evaluate(&mut engine, &mut devices, &mut held, &batch)
                .await?;
        }
    }

    /// Readies `engine` to go on with the partitions `owned` from where each was evaluated up
    /// to: the built-in library in place, the active rules, their patients' open alerts and
    /// windows as they were. `None` when shutdown came first.
    async fn ready(
        &self,
        engine: &mut Engine,
        owned: Owned,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<Held>, ServiceError> {
        // Nothing is evaluated before the built-in library is in place: a reading judged
        // against no rules would be passed over for good.
        while !self.rules.has_origin("builtin").await? {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = shutdown.changed() => return Ok(None),
            }
        }
        let parts: Vec<u32> = owned.keys().copied().collect();
        let held = Held {
            positions: self.partitions.positions(&parts).await?,
            owned,
        };
        engine.set_rules(self.rules.active().await?);
        for open in self.alerts.list("", true, u32::MAX).await? {
            if held.owned.contains_key(&partitions::of_key(&open.patient)) {
                engine.mark_raised(&open.rule_id, open.rule_version, &open.patient);
            }
        }
        self.warm_up(engine, &held).await?;
        Ok(Some(held))
    }

    /// Evaluates this replica's readings of one batch and stores their effects with the
    /// partitions' new positions.
    async fn evaluate(
        &self,
        engine: &mut Engine,
        devices: &mut ContextCache,
        held: &mut Held,
        batch: &[ingestion::LoggedReading],
    ) -> Result<(), ServiceError> {
        // A clinician's scale change counts from the next batch on.
        engine.set_scales(self.alerts.on_scale_two().await?);
        let mine: Vec<(&ingestion::LoggedReading, Observed)> = batch
            .iter()
            .filter_map(|logged| Some((logged, observed(logged)?)))
            .filter(|(logged, reading)| held.takes(reading, logged.position))
            .collect();
        let (logged, mut readings): (Vec<_>, Vec<_>) = mine.into_iter().unzip();
        if engine.needs_devices() {
            devices.enrich(&mut readings).await?;
        }
        let mut effects = Vec::new();
        for reading in &readings {
            effects.extend(engine.evaluate(reading));
        }
        let position = batch.last().map_or(0, |l| l.position);
        self.apply(
            engine,
            &effects,
            &latest_per_device(&logged),
            held,
            position,
        )
        .await
    }

    /// Re-reads what each partition evaluated within each windowed rule's window, so a fever
    /// spike or a NEWS2 that began before a restart or a take-over is still seen whole.
    async fn warm_up(&self, engine: &mut Engine, held: &Held) -> Result<(), ServiceError> {
        let up_to = held.positions.values().copied().max().unwrap_or(0);
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
            for (reading, position) in &readings {
                let part = partitions::of(reading);
                if held
                    .positions
                    .get(&part)
                    .is_some_and(|done| position <= done)
                {
                    engine.warm(reading);
                    warmed += 1;
                }
            }
        }
        tracing::info!(
            readings = warmed,
            "rule windows warmed up from the reading log"
        );
        Ok(())
    }

    /// Stores `effects` and each device's latest reading, and moves every partition held on to
    /// `position`, in one transaction — committed only while every lease is still held.
    async fn apply(
        &self,
        engine: &Engine,
        effects: &[Effect],
        seen: &[Seen],
        held: &mut Held,
        position: u64,
    ) -> Result<(), ServiceError> {
        let mut tx = self.alerts.begin().await?;
        alerting::store(&mut tx, &self.trail, &caller(), engine.rules(), effects).await?;
        AlertStore::saw(&mut tx, seen).await?;
        if !PartitionStore::advance(&mut tx, &self.me, &held.owned, position).await? {
            // Dropped uncommitted: the partition's new holder evaluates these readings.
            return Err(ServiceError::Unavailable(
                "a partition moved to another replica".into(),
            ));
        }
        self.alerts.commit(tx).await?;
        for done in held.positions.values_mut() {
            *done = (*done).max(position);
        }
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
