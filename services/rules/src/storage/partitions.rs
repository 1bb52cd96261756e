//! The `rule_partitions` and `rule_replicas` tables: who holds which partition's lease, with
//! which fence, until when, and how far each partition has been evaluated.

use std::collections::BTreeMap;

use sentinel_platform::{ServiceError, Store};
use sqlx::{Any, Transaction};

/// A partition's lease as this replica holds it: the fence it took it with.
pub type Fence = i64;

#[derive(Debug, Clone)]
pub struct PartitionStore {
    store: Store,
}

impl PartitionStore {
    pub fn new(store: Store) -> Self {
        PartitionStore { store }
    }

    /// Leases left by an earlier run that cannot be running any more are void, so a restart
    /// goes on at once instead of waiting for them to run out: on the embedded store, which one
    /// process owns, all of them; on PostgreSQL those of `host` (a container restarted in its
    /// pod: one process per pod). Fences still guard against a holder that was not gone.
    pub async fn void_earlier_runs(&self, host: &str) -> Result<(), ServiceError> {
        let prefix = format!("{host}/");
        let length = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
        // An earlier run counted as alive would also halve this one's share for a lease.
        let (leases, replicas) = match self.store.backend() {
            sentinel_platform::Backend::Sqlite => (
                sqlx::query("UPDATE rule_partitions SET owner = '', expires_at = 0"),
                sqlx::query("DELETE FROM rule_replicas"),
            ),
            sentinel_platform::Backend::Postgres => (
                sqlx::query(
                    "UPDATE rule_partitions SET owner = '', expires_at = 0 \
                     WHERE substr(owner, 1, $2) = $1",
                )
                .bind(prefix.clone())
                .bind(length),
                sqlx::query("DELETE FROM rule_replicas WHERE substr(id, 1, $2) = $1")
                    .bind(prefix.clone())
                    .bind(length),
            ),
        };
        leases.execute(self.store.pool()).await?;
        replicas.execute(self.store.pool()).await?;
        Ok(())
    }

    /// Records that replica `me` is alive at `now`.
    pub async fn heartbeat(&self, me: &str, now: i64) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO rule_replicas (id, seen_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(me)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Replicas seen since `since`; those not seen for long are forgotten.
    pub async fn live(&self, since: i64) -> Result<u64, ServiceError> {
        sqlx::query("DELETE FROM rule_replicas WHERE seen_at < $1")
            .bind(since - 3_600_000_000)
            .execute(self.store.pool())
            .await?;
        let live: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rule_replicas WHERE seen_at >= $1")
                .bind(since)
                .fetch_one(self.store.pool())
                .await?;
        Ok(u64::try_from(live).unwrap_or(1).max(1))
    }

    /// Extends `me`'s lease of `part` to `until`; false when it is no longer `me`'s.
    pub async fn renew(
        &self,
        part: u32,
        me: &str,
        fence: Fence,
        until: i64,
    ) -> Result<bool, ServiceError> {
        let done = sqlx::query(
            "UPDATE rule_partitions SET expires_at = $4 WHERE part = $1 AND owner = $2 AND fence = $3",
        )
        .bind(i64::from(part))
        .bind(me)
        .bind(fence)
        .bind(until)
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives `part` up, so another replica may take it at once.
    pub async fn release(&self, part: u32, me: &str, fence: Fence) -> Result<(), ServiceError> {
        sqlx::query(
            "UPDATE rule_partitions SET owner = '', expires_at = 0 \
             WHERE part = $1 AND owner = $2 AND fence = $3",
        )
        .bind(i64::from(part))
        .bind(me)
        .bind(fence)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Partitions nobody holds at `now` (never held, released, or their lease expired).
    pub async fn free(&self, now: i64) -> Result<Vec<u32>, ServiceError> {
        let parts: Vec<i64> = sqlx::query_scalar(
            "SELECT part FROM rule_partitions WHERE owner = '' OR expires_at < $1 ORDER BY part",
        )
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        Ok(parts
            .into_iter()
            .filter_map(|p| u32::try_from(p).ok())
            .collect())
    }

    /// Takes `part` for `me` until `until` if it is still free at `now`; the new fence.
    pub async fn claim(
        &self,
        part: u32,
        me: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<Fence>, ServiceError> {
        Ok(sqlx::query_scalar(
            "UPDATE rule_partitions SET owner = $2, fence = fence + 1, expires_at = $4 \
             WHERE part = $1 AND (owner = '' OR expires_at < $3) RETURNING fence",
        )
        .bind(i64::from(part))
        .bind(me)
        .bind(now)
        .bind(until)
        .fetch_optional(self.store.pool())
        .await?)
    }

    /// How far each of `parts` has been evaluated.
    pub async fn positions(&self, parts: &[u32]) -> Result<BTreeMap<u32, u64>, ServiceError> {
        let mut positions = BTreeMap::new();
        for &part in parts {
            let position: i64 =
                sqlx::query_scalar("SELECT position FROM rule_partitions WHERE part = $1")
                    .bind(i64::from(part))
                    .fetch_one(self.store.pool())
                    .await?;
            positions.insert(part, u64::try_from(position).unwrap_or(0));
        }
        Ok(positions)
    }

    /// In `tx`: moves every partition `held` on to `position` (never back) if `me` still holds
    /// each with its fence, in one statement. False when one moved on: the transaction must not
    /// commit. The rows stay locked until `tx` ends, so a replica taking a partition over waits
    /// for this commit.
    pub async fn advance(
        tx: &mut Transaction<'static, Any>,
        me: &str,
        held: &BTreeMap<u32, Fence>,
        position: u64,
    ) -> Result<bool, ServiceError> {
        if held.is_empty() {
            return Ok(true);
        }
        // Two parameters per partition after the owner and the position: at most 16 × 2 + 2.
        let fenced: Vec<String> = (0..held.len())
            .map(|n| format!("(part = ${} AND fence = ${})", 3 + 2 * n, 4 + 2 * n))
            .collect();
        let statement = format!(
            "UPDATE rule_partitions SET position = CASE WHEN position < $2 THEN $2 ELSE position END \
             WHERE owner = $1 AND ({})",
            fenced.join(" OR ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(me)
            .bind(i64::try_from(position).unwrap_or(i64::MAX));
        for (&part, &fence) in held {
            query = query.bind(i64::from(part)).bind(fence);
        }
        let done = query.execute(&mut **tx).await?;
        Ok(done.rows_affected() == held.len() as u64)
    }

    /// Whether `me` still holds `part` with `fence`, checked inside `tx` by touching the lease
    /// row: a take-over then waits for `tx` to end (PostgreSQL row lock; SQLite's one writer),
    /// so what `tx` writes on the strength of the lease cannot interleave with losing it.
    pub async fn still_held(
        tx: &mut Transaction<'static, Any>,
        me: &str,
        part: u32,
        fence: Fence,
    ) -> Result<bool, ServiceError> {
        let done = sqlx::query(
            "UPDATE rule_partitions SET fence = fence WHERE part = $1 AND owner = $2 AND fence = $3",
        )
        .bind(i64::from(part))
        .bind(me)
        .bind(fence)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether `me` still holds, with the fences of `owned`, the partition of every one of
    /// `patients` (see [`PartitionStore::still_held`]).
    pub async fn still_held_for<'p>(
        tx: &mut Transaction<'static, Any>,
        me: &str,
        owned: &BTreeMap<u32, Fence>,
        patients: impl IntoIterator<Item = &'p str>,
    ) -> Result<bool, ServiceError> {
        let parts: std::collections::BTreeSet<u32> = patients
            .into_iter()
            .map(crate::partitions::of_key)
            .collect();
        for part in parts {
            let Some(&fence) = owned.get(&part) else {
                return Ok(false);
            };
            if !Self::still_held(tx, me, part, fence).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
