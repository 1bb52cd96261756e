//! Rule evaluation scales out by patient. Patients fall into [`PARTITIONS`] partitions by a
//! stable hash of their reference; each partition is evaluated by the one replica holding its
//! lease in the rules store (PostgreSQL, or the embedded store where one process holds all).
//! A lease lasts `rules.partition_lease_ms` and is renewed at a third of that; the replicas
//! alive share the partitions evenly (one joining makes the others give some up; one dying
//! leaves its partitions to be taken once their leases expire). Each new holder gets a larger
//! fence, and evaluation results commit only while the partition's row still names the replica
//! with its fence (see `PartitionStore::advance`), so a replica that lost its lease — paused,
//! partitioned from the database, or slow — cannot commit, and nothing is evaluated twice.
//!
//! Why this design (docs/rules.md): it needs nothing but the database the rules already use,
//! the partition count bounds how many replicas can share the work, and a partition's readings
//! stay in log order within one replica, which windowed rules and NEWS2 need.

use std::{collections::BTreeMap, time::Duration};

use sentinel_platform::{ServiceError, time::now_micros};
use tokio::sync::watch;

use crate::{
    domain::engine::Observed,
    storage::partitions::{Fence, PartitionStore},
};

/// Partitions of the patients. Fixed: changing it would move patients between partitions.
pub const PARTITIONS: u32 = 16;

/// The partition of a patient (or, for a reading bound to no patient, of its device).
pub fn of_key(key: &str) -> u32 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    u32::try_from(hash % u64::from(PARTITIONS)).unwrap_or(0)
}

/// The partition `reading` belongs to.
pub fn of(reading: &Observed) -> u32 {
    of_key(reading.patient.as_deref().unwrap_or(&reading.device_id))
}

/// Whether the partition of `patient` is among those held: escalation and the silence watch
/// look after the patients whose readings this replica evaluates.
pub fn holds(owned: &Owned, patient: &str) -> bool {
    owned.contains_key(&of_key(patient))
}

/// A replica's name in the leases: its host (a pod's name) and this run, `host/run`.
pub fn replica_name(host: &str) -> String {
    format!("{host}/{}", sentinel_platform::ids::new_id("run"))
}

fn host_of(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(host, _)| host)
}

/// The partitions this replica holds, with their fences.
pub type Owned = BTreeMap<u32, Fence>;

/// Takes, renews and gives up this replica's leases, publishing what it holds.
#[derive(Debug)]
pub struct LeaseKeeper {
    store: PartitionStore,
    me: String,
    lease: Duration,
    owned: watch::Sender<Owned>,
}

impl LeaseKeeper {
    /// A keeper for replica `me`; the receiver sees every change of what it holds.
    pub fn new(
        store: PartitionStore,
        me: String,
        lease: Duration,
    ) -> (Self, watch::Receiver<Owned>) {
        let (owned, rx) = watch::channel(Owned::new());
        (
            LeaseKeeper {
                store,
                me,
                lease,
                owned,
            },
            rx,
        )
    }

    /// This replica's name in the leases.
    pub fn name(&self) -> &str {
        &self.me
    }

    /// Takes this replica's first partitions (after voiding what earlier runs of its host left),
    /// so it starts out ready when there are partitions for it.
    pub async fn begin(&self) {
        if let Err(err) = self.store.void_earlier_runs(host_of(&self.me)).await {
            tracing::warn!(error = %err, "leases of an earlier run not cleared; they run out");
        }
        if let Err(err) = self.round().await {
            tracing::warn!(error = %err, "no partition taken yet; retrying");
        }
    }

    /// Keeps the leases until `shutdown`, then gives them up so others take over at once.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let every = self.lease / 3;
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => break,
            }
            if let Err(err) = self.round().await {
                tracing::warn!(error = %err, "partition leases not renewed; retrying");
            }
        }
        let held = self.owned.send_replace(Owned::new());
        for (part, fence) in held {
            let _ = self.store.release(part, &self.me, fence).await;
        }
    }

    /// One round: say this replica is alive, renew what it holds, give up what is beyond its
    /// share, take free partitions up to its share.
    async fn round(&self) -> Result<(), ServiceError> {
        let now = now_micros();
        let lease = i64::try_from(self.lease.as_micros()).unwrap_or(i64::MAX);
        let until = now.saturating_add(lease);
        self.store.heartbeat(&self.me, now).await?;
        let live = self.store.live(now - lease).await?;
        let share = usize::try_from(u64::from(PARTITIONS).div_ceil(live)).unwrap_or(1);
        let mut owned = self.owned.borrow().clone();
        for (part, fence) in owned.clone() {
            if !self.store.renew(part, &self.me, fence, until).await? {
                tracing::info!(partition = part, "partition lease lost");
                owned.remove(&part);
            }
        }
        while owned.len() > share {
            let Some((part, fence)) = owned.pop_last() else {
                break;
            };
            self.store.release(part, &self.me, fence).await?;
        }
        for part in self.store.free(now).await? {
            if owned.len() >= share {
                break;
            }
            if let Some(fence) = self.store.claim(part, &self.me, now, until).await? {
                owned.insert(part, fence);
            }
        }
        self.owned.send_if_modified(|current| {
            let changed = *current != owned;
            if changed {
                tracing::info!(partitions = ?owned.keys().collect::<Vec<_>>(), "rule partitions held");
                *current = owned;
            }
            changed
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(of_key("pt-1"), of_key("pt-1"));
        let mut counts = [0u32; PARTITIONS as usize];
        for n in 0..16_000 {
            counts[of_key(&format!("patient-{n}")) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }
}
