//! Ingesting a batch: check each reading, look its device up, attribute it to the patient
//! bound at the time, and store the good ones in one transaction under the log's lock —
//! deduplicated by (device, sequence), with the batch's audit record appended before commit —
//! while the bad ones go to quarantine with their violations. Nothing is acknowledged before
//! the commit.

use std::{collections::HashMap, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use ring::digest::{SHA256, digest};
use sentinel_contract::registry::v1::DeviceStatus;
use sentinel_platform::{
    FieldViolation, ServiceError,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, CallerKind, Role},
    config::IngestionConfig,
    ids::new_id,
    time::now_micros,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::{
    directory::{DeviceDirectory, DeviceInfo},
    domain::reading::{CheckedReading, ReadingInput, StoredReading, TimeWindow},
    storage::{Quarantined, ReadingStore},
};

/// What became of one reading of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted {
        id: String,
        duplicate: bool,
    },
    Rejected(Vec<FieldViolation>),
    /// Refused for now (the device's rate limit): not stored, not quarantined; send it again
    /// after this long.
    Deferred(Duration),
}

/// The LoRaWAN frame a reading was decoded from: a frame counter is used once per session,
/// and seen again only with the same content (a retry), never with other content (a replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub dev_eui: String,
    pub session: String,
    pub f_cnt: u32,
    pub digest: String,
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
        let window = self.window();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; submissions.len()];
        let mut checked: Vec<(usize, CheckedReading)> = Vec::new();
        for (index, submission) in submissions.iter().enumerate() {
            let reading = match &submission.input {
                Ok(input) => input.check(window),
                Err(violations) => Err(violations.clone()),
            };
            match reading {
                Ok(reading) => checked.push((index, reading)),
                Err(violations) => outcomes[index] = Some(Outcome::Rejected(violations)),
            }
        }
        let received_at = now_micros();
        let (mut tx, mut position) = self.store.begin_log().await?;
        let mut frames: HashMap<(String, String, u32), Result<(), FieldViolation>> = HashMap::new();
        let mut candidates = Vec::with_capacity(checked.len());
        for (index, reading) in checked {
            let device = devices.get(&reading.device_id).and_then(Option::as_ref);
            if let Err(violation) = admissible(caller, device, &reading.device_id) {
                outcomes[index] = Some(Outcome::Rejected(vec![violation]));
                continue;
            }
            if let Some(frame) = &submissions[index].frame {
                let key = (frame.dev_eui.clone(), frame.session.clone(), frame.f_cnt);
                let verdict = match frames.get(&key) {
                    Some(verdict) => verdict.clone(),
                    None => {
                        let verdict = ReadingStore::claim_frame(&mut tx, frame, batch_id).await?;
                        frames.insert(key, verdict.clone());
                        verdict
                    }
                };
                if let Err(violation) = verdict {
                    outcomes[index] = Some(Outcome::Rejected(vec![violation]));
                    continue;
                }
            }
            candidates.push((index, reading));
        }
        let keys: Vec<(&str, &str)> = candidates
            .iter()
            .map(|(_, r)| (r.device_id.as_str(), r.sequence.as_str()))
            .collect();
        let mut known = ReadingStore::existing(&mut tx, &keys).await?;
        let mut stored = Vec::with_capacity(candidates.len());
        for (index, reading) in candidates {
            let key = (reading.device_id.clone(), reading.sequence.clone());
            // Stored before, or earlier in this very batch: the same reading again.
            if let Some(id) = known.get(&key) {
                outcomes[index] = Some(Outcome::Accepted {
                    id: id.clone(),
                    duplicate: true,
                });
                continue;
            }
            if let Err(wait) = self.per_device.check_key(&reading.device_id) {
                let retry = wait.wait_time_from(DefaultClock::default().now());
                outcomes[index] = Some(Outcome::Deferred(retry.max(Duration::from_millis(1))));
                continue;
            }
            let device = devices.get(&reading.device_id).and_then(Option::as_ref);
            let patient = device
                .and_then(|d| d.patient_at(reading.observed_at))
                .map(str::to_owned);
            let id = new_id("rdg");
            known.insert(key, id.clone());
            outcomes[index] = Some(Outcome::Accepted {
                id: id.clone(),
                duplicate: false,
            });
            stored.push(StoredReading {
                id,
                position,
                reading,
                received_at,
                patient,
                batch_id: batch_id.to_owned(),
            });
            position += 1;
        }
        ReadingStore::insert(&mut tx, &stored).await?;
        let stored_ids: Vec<String> = stored.into_iter().map(|s| s.id).collect();
        let mut rejected = 0;
        let mut deferred = 0;
        for (index, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Some(Outcome::Rejected(violations)) => {
                    rejected += 1;
                    let submission = &submissions[index];
                    let entry = Quarantined {
                        id: new_id("qrn"),
                        received_at,
                        caller: caller.id.clone(),
                        batch_id: batch_id.to_owned(),
                        batch_index: index as u32,
                        device_id: submission.device_id.clone(),
                        raw: submission.raw.clone(),
                        violations: violations
                            .iter()
                            .map(|v| format!("{}: {}", v.field, v.rule))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        resolved_by: String::new(),
                    };
                    ReadingStore::quarantine(&mut tx, &entry).await?;
                }
                Some(Outcome::Deferred(_)) => deferred += 1,
                _ => {}
            }
        }
        if !stored_ids.is_empty() || rejected > 0 {
            let mut ids = stored_ids.clone();
            ids.sort();
            let hex = hex::encode(digest(&SHA256, ids.join("\n").as_bytes()));
            let action = if stored_ids.is_empty() {
                Action::ReadingsQuarantined
            } else {
                Action::ReadingsAccepted
            };
            let event = AuditEvent::success(action, "batch", batch_id)
                .with("accepted", stored_ids.len().to_string())
                .with("rejected", rejected.to_string())
                .with("devices", devices.len().to_string())
                .with("digest", hex);
            self.trail.record(caller, role, event).await?;
        }
        self.store.commit(tx).await?;
        tracing::info!(
            batch_id,
            accepted = stored_ids.len(),
            rejected,
            deferred,
            "batch ingested"
        );
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Rejected(Vec::new())))
            .collect())
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

/// Whether `caller` may submit for the device: registered and active, and the device itself,
/// its gateway, an integrator or a service.
fn admissible(
    caller: &Caller,
    device: Option<&DeviceInfo>,
    device_id: &str,
) -> Result<(), FieldViolation> {
    let Some(device) = device else {
        return Err(FieldViolation::new(
            "device_id",
            format!("no device {device_id} is registered"),
        ));
    };
    if device.status != DeviceStatus::Active {
        return Err(FieldViolation::new(
            "device_id",
            format!(
                "device {device_id} is not active: it is {}",
                device.status.as_str_name()
            ),
        ));
    }
    let allowed = match caller.kind {
        CallerKind::Device => caller.id == device.id,
        CallerKind::Gateway => caller.id == device.gateway_id,
        CallerKind::User | CallerKind::Service => {
            // Ingest admits integrators and services; Resubmit also admins correcting data.
            caller.has(Role::Integrator) || caller.has(Role::Service) || caller.has(Role::Admin)
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(FieldViolation::new(
            "device_id",
            "this caller may not submit readings for this device",
        ))
    }
}
