//! Ingesting a batch: check each reading, look its device up, attribute it to the patient
//! bound at the time, and store the good ones in one transaction under the log's lock —
//! deduplicated by (device, sequence), with the batch's audit record appended before commit —
//! while the bad ones go to quarantine with their violations. Nothing is acknowledged before
//! the commit.

mod batch;

use std::{collections::HashMap, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{Quota, RateLimiter};
use sentinel_platform::{
    FieldViolation, ServiceError,
    audit_trail::AuditTrail,
    auth::{Caller, Role},
    config::IngestionConfig,
    time::now_micros,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::{
    directory::{DeviceDirectory, DeviceInfo},
    domain::{
        frame::Frame,
        reading::{Attributed, ReadingInput, TimeWindow},
    },
    storage::ReadingStore,
};
use batch::Batch;

/// What became of one reading of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted {
        id: String,
        duplicate: bool,
        /// Whom this call stored it on; `None` for a duplicate (stored before).
        attributed: Option<Attributed>,
    },
    Rejected(Vec<FieldViolation>),
    /// Refused for now (the device's rate limit): not stored, not quarantined; send it again
    /// after this long.
    Deferred(Duration),
}

/// One item of a batch: a reading, or why it never became one (a payload that did not
/// decode), with what was submitted, for the quarantine.
#[derive(Debug, Clone)]
pub struct Submission {
    pub device_id: String,
    pub input: Result<ReadingInput, Vec<FieldViolation>>,
    /// As submitted, as JSON.
    pub raw: String,
    pub frame: Option<Frame>,
}

/// Devices of a batch by id; `None` for ids no device is registered under.
pub type Devices = HashMap<String, Option<DeviceInfo>>;

type DeviceLimiter = governor::DefaultKeyedRateLimiter<String>;

#[derive(Debug, Clone)]
pub struct Ingestor {
    store: ReadingStore,
    directory: Arc<dyn DeviceDirectory>,
    trail: AuditTrail,
    limits: IngestionConfig,
    in_flight: Arc<Semaphore>,
    per_device: Arc<DeviceLimiter>,
    /// Changes when the suite shuts down: open follower streams end, so shutdown can finish.
    pub shutdown: watch::Receiver<bool>,
}

impl Ingestor {
    pub fn new(
        store: ReadingStore,
        directory: Arc<dyn DeviceDirectory>,
        trail: AuditTrail,
        limits: IngestionConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let nonzero = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(nonzero(limits.device_readings_per_second))
            .allow_burst(nonzero(limits.device_burst));
        Ingestor {
            shutdown,
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight_batches as usize)),
            per_device: Arc::new(RateLimiter::keyed(quota)),
            store,
            directory,
            trail,
            limits,
        }
    }

    pub fn store(&self) -> &ReadingStore {
        &self.store
    }

    pub fn limits(&self) -> &IngestionConfig {
        &self.limits
    }

    fn window(&self) -> TimeWindow {
        TimeWindow {
            now: now_micros(),
            max_future: i64::try_from(self.limits.max_future_skew_ms)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(1_000),
            max_past: i64::try_from(self.limits.backfill_window_hours)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(3_600_000_000),
        }
    }

    /// A permit for one batch, or `RESOURCE_EXHAUSTED` when too many are in flight.
    pub(crate) fn admit_batch(&self, size: usize) -> Result<OwnedSemaphorePermit, ServiceError> {
        if size > self.limits.max_batch as usize {
            return Err(ServiceError::field(
                "readings",
                format!(
                    "at most {} readings per batch; split it",
                    self.limits.max_batch
                ),
            ));
        }
        self.in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::ResourceExhausted {
                reason: "too many batches in flight".to_owned(),
                retry_after: Duration::from_millis(200),
            })
    }

    /// A permit for one batch of a stream, waiting up to `patience` for one to free up (the
    /// stream is not read meanwhile, so HTTP/2 flow control holds the client back).
    pub async fn admit_streamed_batch(
        &self,
        size: usize,
        patience: Duration,
    ) -> Result<OwnedSemaphorePermit, ServiceError> {
        match self.admit_batch(size) {
            Err(ServiceError::ResourceExhausted { .. }) => {
                tokio::time::timeout(patience, self.in_flight.clone().acquire_owned())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .ok_or_else(|| ServiceError::ResourceExhausted {
                        reason: "too many batches in flight".to_owned(),
                        retry_after: Duration::from_millis(500),
                    })
            }
            other => other,
        }
    }

    /// Looks the devices up in the registry, all in one call.
    pub async fn devices<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Devices, ServiceError> {
        let mut unique: Vec<String> = ids
            .into_iter()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        unique.sort();
        unique.dedup();
        if unique.is_empty() {
            return Ok(Devices::new());
        }
        self.directory.devices(&unique).await
    }

    /// Ingests `inputs` (with `raw`, each reading as submitted, for the quarantine) for `caller`.
    pub async fn ingest(
        &self,
        caller: &Caller,
        role: Role,
        batch_id: &str,
        inputs: &[ReadingInput],
        raw: &[String],
    ) -> Result<Vec<Outcome>, ServiceError> {
        let _permit = self.admit_batch(inputs.len())?;
        self.ingest_admitted(caller, role, batch_id, inputs, raw)
            .await
    }

    /// As [`Ingestor::ingest`], for a batch already holding its in-flight permit.
    pub async fn ingest_admitted(
        &self,
        caller: &Caller,
        role: Role,
        batch_id: &str,
        inputs: &[ReadingInput],
        raw: &[String],
    ) -> Result<Vec<Outcome>, ServiceError> {
        let devices = self
            .devices(inputs.iter().map(|i| i.device_id.as_str()))
            .await?;
        let submissions = inputs
            .iter()
            .enumerate()
            .map(|(index, input)| Submission {
                device_id: input.device_id.clone(),
                input: Ok(input.clone()),
                raw: raw.get(index).cloned().unwrap_or_default(),
                frame: None,
            })
            .collect();
        self.store_batch(caller, role, batch_id, submissions, &devices)
            .await
    }

    /// Checks and stores a batch whose devices were looked up; bad items go to quarantine.
    pub(crate) async fn store_batch(
        &self,
        caller: &Caller,
        role: Role,
        batch_id: &str,
        submissions: Vec<Submission>,
        devices: &Devices,
    ) -> Result<Vec<Outcome>, ServiceError> {
        let mut batch = Batch::new(caller, batch_id, &submissions, devices);
        let checked = batch.check(self.window());
        let (mut tx, position) = self.store.begin_log().await?;
        let admitted = batch.admit(&mut tx, checked).await?;
        let fresh = batch
            .dedup_and_attribute(&mut tx, admitted, &self.per_device, position)
            .await?;
        let written = batch.write(&mut tx, &fresh, &self.limits).await?;
        let stored_ids: Vec<String> = fresh.into_iter().map(|s| s.id).collect();
        batch
            .audit(&mut tx, self, role, &stored_ids, written)
            .await?;
        self.store.commit(tx).await?;
        tracing::info!(
            batch_id,
            accepted = stored_ids.len(),
            rejected = written.rejected,
            not_kept = written.not_kept,
            deferred = batch.deferred(),
            "batch ingested"
        );
        Ok(batch.outcomes())
    }
}

impl Ingestor {
    /// Submits the corrected `reading` for quarantine entry `id`; once accepted, the entry is
    /// resolved by the reading it became.
    pub async fn resubmit(
        &self,
        caller: &Caller,
        role: Role,
        id: &str,
        reading: ReadingInput,
        raw: String,
    ) -> Result<Vec<Outcome>, ServiceError> {
        let entry = self
            .store
            .quarantined(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("quarantined reading {id}")))?;
        if !entry.resolved_by.is_empty() {
            return Err(ServiceError::FailedPrecondition(format!(
                "quarantined reading {id} was resolved by {}",
                entry.resolved_by
            )));
        }
        if reading.device_id != entry.device_id {
            return Err(ServiceError::field(
                "reading.device_id",
                format!(
                    "must stay {}, the quarantined reading's device",
                    entry.device_id
                ),
            ));
        }
        let outcomes = self
            .ingest(
                caller,
                role,
                &format!("resubmit-{id}"),
                std::slice::from_ref(&reading),
                &[raw],
            )
            .await?;
        if let Some(Outcome::Accepted { id: reading_id, .. }) = outcomes.first() {
            self.store.resolve(id, reading_id).await?;
        }
        Ok(outcomes)
    }
}
