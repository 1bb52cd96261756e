//! Ingesting a batch: check each reading, look its device up, attribute it to the patient
//! bound at the time, and store the good ones in one transaction under the log's lock —
//! deduplicated by (device, sequence), with the batch's audit record appended before commit —
//! while the bad ones go to quarantine with their violations. Nothing is acknowledged before
//! the commit.

use std::{collections::HashMap, sync::Arc, time::Duration};

use ring::digest::{SHA256, digest};
use sentinel_contract::registry::v1::DeviceStatus;
use sentinel_platform::{
    FieldViolation, ServiceError,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, CallerKind, Role},
    config::IngestionConfig,
    ids::new_id,
    time::now_micros,
};
use tokio::sync::{Notify, Semaphore, watch};

use crate::{
    directory::{DeviceDirectory, DeviceInfo},
    domain::reading::{CheckedReading, ReadingInput, StoredReading, TimeWindow},
    storage::{Quarantined, ReadingStore},
};

/// What became of one reading of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted { id: String, duplicate: bool },
    Rejected(Vec<FieldViolation>),
}

#[derive(Debug, Clone)]
pub struct Ingestor {
    store: ReadingStore,
    directory: Arc<dyn DeviceDirectory>,
    trail: AuditTrail,
    limits: IngestionConfig,
    in_flight: Arc<Semaphore>,
    /// Woken after each commit, so followers in this process see new readings at once.
    pub committed: Arc<Notify>,
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
        Ingestor {
            shutdown,
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight_batches as usize)),
            store,
            directory,
            trail,
            limits,
            committed: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &ReadingStore {
        &self.store
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

    /// Ingests `inputs` (with `raw`, each reading as submitted, for the quarantine) for `caller`.
    pub async fn ingest(
        &self,
        caller: &Caller,
        role: Role,
        batch_id: &str,
        inputs: &[ReadingInput],
        raw: &[String],
    ) -> Result<Vec<Outcome>, ServiceError> {
        if inputs.len() > self.limits.max_batch as usize {
            return Err(ServiceError::field(
                "readings",
                format!(
                    "at most {} readings per batch; split it",
                    self.limits.max_batch
                ),
            ));
        }
        let _permit =
            self.in_flight
                .try_acquire()
                .map_err(|_| ServiceError::ResourceExhausted {
                    reason: "too many batches in flight".to_owned(),
                    retry_after: Duration::from_millis(200),
                })?;
        let window = self.window();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; inputs.len()];
        let mut checked: Vec<(usize, CheckedReading)> = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            match input.check(window) {
                Ok(reading) => checked.push((index, reading)),
                Err(violations) => outcomes[index] = Some(Outcome::Rejected(violations)),
            }
        }
        let mut devices: HashMap<String, Option<DeviceInfo>> = HashMap::new();
        for (_, reading) in &checked {
            if !devices.contains_key(&reading.device_id) {
                let info = self.directory.device(&reading.device_id).await?;
                devices.insert(reading.device_id.clone(), info);
            }
        }
        let received_at = now_micros();
        let (mut tx, mut position) = self.store.begin_log().await?;
        let mut stored_ids = Vec::new();
        for (index, reading) in checked {
            let device = devices.get(&reading.device_id).and_then(Option::as_ref);
            if let Err(violation) = admissible(caller, device, &reading.device_id) {
                outcomes[index] = Some(Outcome::Rejected(vec![violation]));
                continue;
            }
            if let Some(id) =
                ReadingStore::existing(&mut tx, &reading.device_id, &reading.sequence).await?
            {
                outcomes[index] = Some(Outcome::Accepted {
                    id,
                    duplicate: true,
                });
                continue;
            }
            let patient = device
                .and_then(|d| d.patient_at(reading.observed_at))
                .map(str::to_owned);
            let stored = StoredReading {
                id: new_id("rdg"),
                position,
                reading,
                received_at,
                patient,
                batch_id: batch_id.to_owned(),
            };
            ReadingStore::insert(&mut tx, &stored).await?;
            position += 1;
            stored_ids.push(stored.id.clone());
            outcomes[index] = Some(Outcome::Accepted {
                id: stored.id,
                duplicate: false,
            });
        }
        let mut rejected = 0;
        for (index, outcome) in outcomes.iter().enumerate() {
            if let Some(Outcome::Rejected(violations)) = outcome {
                rejected += 1;
                let entry = Quarantined {
                    id: new_id("qrn"),
                    received_at,
                    caller: caller.id.clone(),
                    batch_id: batch_id.to_owned(),
                    batch_index: index as u32,
                    device_id: inputs[index].device_id.clone(),
                    raw: raw.get(index).cloned().unwrap_or_default(),
                    violations: violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.rule))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    resolved_by: String::new(),
                };
                ReadingStore::quarantine(&mut tx, &entry).await?;
            }
        }
        if !stored_ids.is_empty() || rejected > 0 {
            let mut ids = stored_ids.clone();
            ids.sort();
            let hex: String = digest(&SHA256, ids.join("\n").as_bytes())
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let action = if stored_ids.is_empty() {
                "readings.quarantined"
            } else {
                "readings.accepted"
            };
            let event = AuditEvent::success(action, "batch", batch_id)
                .with("accepted", stored_ids.len().to_string())
                .with("rejected", rejected.to_string())
                .with("devices", devices.len().to_string())
                .with("digest", hex);
            self.trail.record(caller, role, event).await?;
        }
        tx.commit().await.map_err(ServiceError::from)?;
        self.committed.notify_waiters();
        tracing::info!(
            batch_id,
            accepted = stored_ids.len(),
            rejected,
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
