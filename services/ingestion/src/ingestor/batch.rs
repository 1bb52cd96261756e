//! One batch on its way into the reading log, phase by phase — check, admit, dedup, attribute,
//! write, audit — each deciding the outcome of the readings still undecided. All but the
//! check run in the one transaction that holds the log's lock, so positions follow commits
//! and nothing is acknowledged before the commit.

use std::{collections::HashMap, time::Duration};

use governor::clock::{Clock, DefaultClock};
use ring::digest::{SHA256, digest};
use sentinel_contract::registry::v1::DeviceStatus;
use sentinel_platform::{
    FieldViolation, ServiceError,
    audit_action::Action,
    audit_trail::AuditEvent,
    auth::{Caller, CallerKind, Role},
    ids::new_id,
    time::now_micros,
};
use sqlx::{Any, Transaction};

use sentinel_platform::config::IngestionConfig;

use super::{DeviceLimiter, Devices, Ingestor, Outcome, Submission};
use crate::{
    directory::DeviceInfo,
    domain::{
        attributes, attribution,
        reading::{Attributed, CheckedReading, StoredReading, TimeWindow},
    },
    storage::{Quarantined, ReadingStore},
};

type Tx = Transaction<'static, Any>;
/// A checked reading with its place in the batch.
type Candidate = (usize, CheckedReading);

/// A batch being stored: its submissions and each one's outcome once decided.
pub(super) struct Batch<'a> {
    caller: &'a Caller,
    id: &'a str,
    submissions: &'a [Submission],
    devices: &'a Devices,
    outcomes: Vec<Option<Outcome>>,
    received_at: i64,
}

impl<'a> Batch<'a> {
    pub(super) fn new(
        caller: &'a Caller,
        id: &'a str,
        submissions: &'a [Submission],
        devices: &'a Devices,
    ) -> Self {
        Batch {
            caller,
            id,
            submissions,
            devices,
            outcomes: vec![None; submissions.len()],
            received_at: now_micros(),
        }
    }

    fn decide(&mut self, index: usize, outcome: Outcome) {
        self.outcomes[index] = Some(outcome);
    }

    fn device(&self, id: &str) -> Option<&'a DeviceInfo> {
        self.devices.get(id).and_then(Option::as_ref)
    }

    /// Check: each reading on its own — fields, units, ranges, time window.
    pub(super) fn check(&mut self, window: TimeWindow) -> Vec<Candidate> {
        let mut checked = Vec::with_capacity(self.submissions.len());
        for (index, submission) in self.submissions.iter().enumerate() {
            let reading = match &submission.input {
                Ok(input) => input.check(window),
                Err(violations) => Err(violations.clone()),
            };
            match reading {
                Ok(reading) => checked.push((index, reading)),
                Err(violations) => self.decide(index, Outcome::Rejected(violations)),
            }
        }
        checked
    }

    /// Admit: the device is registered, active and the caller's to submit for, and a LoRaWAN
    /// frame is not a replay (each frame claimed once per batch).
    pub(super) async fn admit(
        &mut self,
        tx: &mut Tx,
        checked: Vec<Candidate>,
    ) -> Result<Vec<Candidate>, ServiceError> {
        let mut frames: HashMap<(String, String, u32), Result<(), FieldViolation>> = HashMap::new();
        let mut admitted = Vec::with_capacity(checked.len());
        for (index, reading) in checked {
            let device = self.device(&reading.device_id);
            if let Err(violation) = admissible(self.caller, device, &reading.device_id) {
                self.decide(index, Outcome::Rejected(vec![violation]));
                continue;
            }
            if let Some(frame) = &self.submissions[index].frame {
                let key = (frame.dev_eui.clone(), frame.session.clone(), frame.f_cnt);
                let verdict = match frames.get(&key) {
                    Some(verdict) => verdict.clone(),
                    None => {
                        let verdict = ReadingStore::claim_frame(tx, frame, self.id).await?;
                        frames.insert(key, verdict.clone());
                        verdict
                    }
                };
                if let Err(violation) = verdict {
                    self.decide(index, Outcome::Rejected(vec![violation]));
                    continue;
                }
            }
            admitted.push((index, reading));
        }
        Ok(admitted)
    }

    /// Dedup, then attribute: a (device, sequence) stored before or earlier in this batch is
    /// the same reading again; a device over its rate is deferred; every other reading gets
    /// an id, the next log position from `position` and the patient bound at its time.
    pub(super) async fn dedup_and_attribute(
        &mut self,
        tx: &mut Tx,
        admitted: Vec<Candidate>,
        per_device: &DeviceLimiter,
        mut position: u64,
    ) -> Result<Vec<StoredReading>, ServiceError> {
        let keys: Vec<(&str, &str)> = admitted
            .iter()
            .map(|(_, r)| (r.device_id.as_str(), r.sequence.as_str()))
            .collect();
        let mut known = ReadingStore::existing(tx, &keys).await?;
        let mut fresh = Vec::with_capacity(admitted.len());
        for (index, reading) in admitted {
            let key = (reading.device_id.clone(), reading.sequence.clone());
            if let Some(id) = known.get(&key) {
                let id = id.clone();
                self.decide(
                    index,
                    Outcome::Accepted {
                        id,
                        duplicate: true,
                        attributed: None,
                    },
                );
                continue;
            }
            if let Err(wait) = per_device.check_key(&reading.device_id) {
                let retry = wait.wait_time_from(DefaultClock::default().now());
                self.decide(
                    index,
                    Outcome::Deferred(retry.max(Duration::from_millis(1))),
                );
                continue;
            }
            let (stored, attributed) = self.attribute(reading, position);
            known.insert(key, stored.id.clone());
            let id = stored.id.clone();
            self.decide(
                index,
                Outcome::Accepted {
                    id,
                    duplicate: false,
                    attributed: Some(attributed),
                },
            );
            fresh.push(stored);
            position += 1;
        }
        Ok(fresh)
    }

    /// Attribute: the reading as stored, on the patient its device (or the device user who
    /// measured) was bound to when it was observed; on nobody when unbound, when the device is
    /// shared and cannot say by a bound user, and for a control-solution test — flagged why.
    fn attribute(&self, mut reading: CheckedReading, position: u64) -> (StoredReading, Attributed) {
        let (patient, attributed) = if reading
            .flags
            .iter()
            .any(|f| f == attribution::CONTROL_SOLUTION)
        {
            (None, Attributed::ControlSolution)
        } else {
            let user = attributes::device_user(&reading.attributes);
            let attribution = match self.device(&reading.device_id) {
                Some(device) => device.attribute(reading.observed_at, user),
                None => attribution::Attribution::Unbound,
            };
            if let Some(flag) = attribution.flag() {
                reading.flags.push(flag.to_owned());
            }
            let (patient, attributed) = Attributed::of(attribution);
            (patient.map(str::to_owned), attributed)
        };
        let stored = StoredReading {
            id: new_id("rdg"),
            position,
            reading,
            received_at: self.received_at,
            patient,
            batch_id: self.id.to_owned(),
        };
        (stored, attributed)
    }

    /// Write: the accepted readings into the log, each rejected one into quarantine with its
    /// violations while the quarantine has room for it (`limits`); one it has no room for is
    /// answered with its violations and why it was not kept.
    pub(super) async fn write(
        &mut self,
        tx: &mut Tx,
        fresh: &[StoredReading],
        limits: &IngestionConfig,
    ) -> Result<Written, ServiceError> {
        ReadingStore::insert(tx, fresh).await?;
        let rejected: Vec<usize> = (0..self.outcomes.len())
            .filter(|i| matches!(self.outcomes[*i], Some(Outcome::Rejected(_))))
            .collect();
        let mut written = Written {
            rejected: rejected.len(),
            not_kept: 0,
        };
        if rejected.is_empty() {
            return Ok(written);
        }
        let mut room = Room::left(tx, limits).await?;
        for index in rejected {
            let device = self.submissions[index].device_id.clone();
            match room.take(tx, &device).await? {
                None => {
                    let entry = self.quarantined(index);
                    ReadingStore::quarantine(tx, &entry).await?;
                }
                Some(full) => {
                    if let Some(Outcome::Rejected(violations)) = &mut self.outcomes[index] {
                        violations.push(full);
                    }
                    written.not_kept += 1;
                }
            }
        }
        Ok(written)
    }

    /// The quarantine entry of rejected reading `index`: the submission as it came, once (cut
    /// to a digest when larger than [`MAX_RAW`]), and its violations, each at most
    /// [`MAX_RULE`] characters, so an entry never echoes a large input twice.
    fn quarantined(&self, index: usize) -> Quarantined {
        let submission = &self.submissions[index];
        let violations = match &self.outcomes[index] {
            Some(Outcome::Rejected(violations)) => violations.as_slice(),
            _ => &[],
        };
        Quarantined {
            id: new_id("qrn"),
            received_at: self.received_at,
            caller: self.caller.id.clone(),
            batch_id: self.id.to_owned(),
            batch_index: index as u32,
            device_id: submission.device_id.clone(),
            raw: kept_raw(&submission.raw),
            violations: violations
                .iter()
                .map(|v| format!("{}: {}", v.field, shortened(&v.rule)))
                .collect::<Vec<_>>()
                .join("\n"),
            resolved_by: String::new(),
        }
    }

    /// Audit: what the batch stored, as counts and a digest of the ids (no readings), before
    /// the commit; a batch that stored and rejected nothing leaves no record. Readings are
    /// stored even while the audit log is out: the record is then kept with them.
    pub(super) async fn audit(
        &self,
        tx: &mut Tx,
        ingestor: &Ingestor,
        role: Role,
        stored_ids: &[String],
        written: Written,
    ) -> Result<(), ServiceError> {
        let rejected = written.rejected;
        if stored_ids.is_empty() && rejected == 0 {
            return Ok(());
        }
        let mut ids = stored_ids.to_vec();
        ids.sort();
        let action = if stored_ids.is_empty() {
            Action::ReadingsQuarantined
        } else {
            Action::ReadingsAccepted
        };
        let mut event = AuditEvent::success(action, "batch", self.id)
            .with("accepted", stored_ids.len().to_string())
            .with("rejected", rejected.to_string())
            .with("devices", self.devices.len().to_string())
            .with(
                "digest",
                hex::encode(digest(&SHA256, ids.join("\n").as_bytes())),
            );
        if written.not_kept > 0 {
            event = event.with("not_kept", written.not_kept.to_string());
        }
        ingestor
            .trail
            .record_or_keep(tx, self.caller, role.code(), event)
            .await?;
        Ok(())
    }

    /// Each submission's outcome, in order.
    pub(super) fn outcomes(self) -> Vec<Outcome> {
        self.outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Rejected(Vec::new())))
            .collect()
    }

    pub(super) fn deferred(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Some(Outcome::Deferred(_))))
            .count()
    }
}

/// What writing a batch stored of its rejected readings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Written {
    pub rejected: usize,
    /// Rejected but not kept: the quarantine had no room.
    pub not_kept: usize,
}

/// How many more rejected readings the quarantine takes: in all, and per device (counted
/// once a device first needs room).
struct Room {
    per_device_cap: u64,
    total: u64,
    per_device: HashMap<String, u64>,
}

impl Room {
    async fn left(tx: &mut Tx, limits: &IngestionConfig) -> Result<Room, ServiceError> {
        let held = ReadingStore::unresolved(tx).await?;
        Ok(Room {
            per_device_cap: u64::from(limits.quarantine_per_device),
            total: limits.quarantine_total.saturating_sub(held),
            per_device: HashMap::new(),
        })
    }

    /// Takes room for one reading of `device`; why not when there is none.
    async fn take(
        &mut self,
        tx: &mut Tx,
        device: &str,
    ) -> Result<Option<FieldViolation>, ServiceError> {
        let left = match self.per_device.entry(device.to_owned()) {
            std::collections::hash_map::Entry::Occupied(counted) => counted.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => {
                let held = ReadingStore::unresolved_of(tx, device).await?;
                new.insert(self.per_device_cap.saturating_sub(held))
            }
        };
        if *left == 0 {
            return Ok(Some(FieldViolation::new(
                "device_id",
                format!(
                    "not kept in quarantine: device {device} has {} unresolved rejected readings \
                     there already (ingestion.quarantine_per_device); fix the device or resubmit them",
                    self.per_device_cap
                ),
            )));
        }
        if self.total == 0 {
            return Ok(Some(FieldViolation::new(
                "device_id",
                "not kept in quarantine: it holds as many unresolved rejected readings as \
                 ingestion.quarantine_total allows",
            )));
        }
        *left -= 1;
        self.total -= 1;
        Ok(None)
    }
}

/// The largest submission kept as it came in a quarantine entry.
const MAX_RAW: usize = 16 * 1024;
/// The longest violation rule kept in a quarantine entry.
const MAX_RULE: usize = 200;

/// The submission as kept: as it came, or its size and SHA-256 when larger than [`MAX_RAW`].
fn kept_raw(raw: &str) -> String {
    if raw.len() <= MAX_RAW {
        return raw.to_owned();
    }
    serde_json::json!({
        "truncated": true,
        "bytes": raw.len(),
        "sha256": hex::encode(digest(&SHA256, raw.as_bytes())),
    })
    .to_string()
}

/// A rule cut to [`MAX_RULE`] characters: rules may quote what was sent.
fn shortened(rule: &str) -> String {
    match rule.char_indices().nth(MAX_RULE) {
        Some((at, _)) => format!("{}…", &rule[..at]),
        None => rule.to_owned(),
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
