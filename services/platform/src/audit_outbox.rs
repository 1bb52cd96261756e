//! Audit records kept while the audit log could not take them, in the acting service's own
//! store (table `audit_outbox`, written in the action's transaction, so the action and its
//! record are durable together), and appended in the order they were kept once the log is back.
//!
//! Each record keeps when it was kept (`detail.kept_at`, RFC 3339), so the log shows both when
//! the action happened and that its record arrived late. Appending is at least once: a process
//! stopped between an append and the removal of its row appends that record again on restart
//! (the same entry, `kept_at` included, so the duplicate is recognisable).

use std::time::Duration;

use prost::Message;
use sentinel_contract::audit::v1 as pb;
use sqlx::{Any, Row, Transaction};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    Backend, ServiceError, Store, audit_trail::AuditTrail, time::now_micros, time::to_timestamp,
};

/// How often the outbox is looked at (an empty one costs one indexed read).
const EVERY: Duration = Duration::from_secs(2);
/// Records taken from the outbox at a time.
const BATCH: i64 = 100;

/// Keeps `entry` in the outbox, in `tx`.
pub async fn keep(
    tx: &mut Transaction<'static, Any>,
    entry: &pb::AuditEntry,
) -> Result<(), ServiceError> {
    let now = now_micros();
    let mut entry = entry.clone();
    entry
        .detail
        .insert("kept_at".to_owned(), to_timestamp(now).to_string());
    sqlx::query("INSERT INTO audit_outbox (entry, kept_at) VALUES ($1, $2)")
        .bind(entry.encode_to_vec())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends what `store`'s outbox holds through `trail` every few seconds, until `shutdown`.
pub fn spawn_drain(
    store: Store,
    trail: AuditTrail,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            match drain(&store, &trail).await {
                Ok(appended) => {
                    if failing || appended > 0 {
                        tracing::info!(appended, "kept audit records appended");
                    }
                    failing = false;
                }
                Err(err) if !failing => {
                    failing = true;
                    tracing::warn!(error = %err, "kept audit records still wait for the audit log");
                }
                Err(_) => {}
            }
        }
    })
}

/// Appends every kept record, oldest first; stops at the first the log does not take.
/// Returns how many were appended.
async fn drain(store: &Store, trail: &AuditTrail) -> Result<u64, ServiceError> {
    let mut appended = 0;
    loop {
        let taken = match store.backend() {
            Backend::Postgres => drain_locked(store, trail).await?,
            Backend::Sqlite => drain_one_by_one(store, trail).await?,
        };
        if taken == 0 {
            trail.set_backlog(false);
            return Ok(appended);
        }
        appended += taken;
    }
}

/// PostgreSQL: replicas sharing the store take different rows (row locks held while they are
/// appended, which block no writer of other tables).
async fn drain_locked(store: &Store, trail: &AuditTrail) -> Result<u64, ServiceError> {
    let mut tx = store.pool().begin().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, entry FROM audit_outbox ORDER BY id LIMIT {BATCH} FOR UPDATE SKIP LOCKED"
    )))
    .fetch_all(&mut *tx)
    .await?;
    let mut appended = 0;
    for row in rows {
        let (id, entry) = decode(&row)?;
        if let Err(status) = trail.append(entry).await {
            tx.commit().await?;
            return Err(not_taken(&status));
        }
        sqlx::query("DELETE FROM audit_outbox WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        appended += 1;
    }
    tx.commit().await?;
    Ok(appended)
}

/// SQLite: one process; each row removed on its own, so the store's single write lock is never
/// held while the audit log answers.
async fn drain_one_by_one(store: &Store, trail: &AuditTrail) -> Result<u64, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, entry FROM audit_outbox ORDER BY id LIMIT {BATCH}"
    )))
    .fetch_all(store.pool())
    .await?;
    let mut appended = 0;
    for row in rows {
        let (id, entry) = decode(&row)?;
        trail
            .append(entry)
            .await
            .map_err(|status| not_taken(&status))?;
        sqlx::query("DELETE FROM audit_outbox WHERE id = $1")
            .bind(id)
            .execute(store.pool())
            .await?;
        appended += 1;
    }
    Ok(appended)
}

fn decode(row: &sqlx::any::AnyRow) -> Result<(i64, pb::AuditEntry), ServiceError> {
    let id: i64 = row.try_get("id")?;
    let bytes: Vec<u8> = row.try_get("entry")?;
    let entry = pb::AuditEntry::decode(bytes.as_slice()).map_err(|err| {
        ServiceError::Internal(format!("kept audit record {id} is unreadable: {err}").into())
    })?;
    Ok((id, entry))
}

fn not_taken(status: &tonic::Status) -> ServiceError {
    ServiceError::Unavailable(format!(
        "the audit log does not take kept records yet: {:?}",
        status.code()
    ))
}
