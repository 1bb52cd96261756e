//! The `quarantine` table: rejected readings kept, as submitted, for inspection and
//! resubmission.

use sentinel_platform::ServiceError;
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::ReadingStore;

/// A rejected reading kept for inspection and resubmission.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub id: String,
    pub received_at: i64,
    pub caller: String,
    pub batch_id: String,
    pub batch_index: u32,
    pub device_id: String,
    /// The reading as submitted, as JSON.
    pub raw: String,
    /// `field: rule` lines.
    pub violations: String,
    /// The reading a resubmission became; empty while unresolved.
    pub resolved_by: String,
}

impl ReadingStore {
    pub async fn quarantine(
        tx: &mut Transaction<'static, Any>,
        entry: &Quarantined,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO quarantine (id, received_at, caller, batch_id, batch_index, device_id, raw, violations) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&entry.id)
        .bind(entry.received_at)
        .bind(&entry.caller)
        .bind(&entry.batch_id)
        .bind(i64::from(entry.batch_index))
        .bind(&entry.device_id)
        .bind(&entry.raw)
        .bind(&entry.violations)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// How many unresolved quarantined readings `device_id` has.
    pub async fn unresolved_of(
        tx: &mut Transaction<'static, Any>,
        device_id: &str,
    ) -> Result<u64, ServiceError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM quarantine WHERE device_id = $1 AND resolved_by = ''",
        )
        .bind(device_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// How many unresolved quarantined readings all devices have together.
    pub async fn unresolved(tx: &mut Transaction<'static, Any>) -> Result<u64, ServiceError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM quarantine WHERE resolved_by = ''")
                .fetch_one(&mut **tx)
                .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Quarantined readings of `device_id` (all when empty) with an id above `after`, oldest id
    /// first; resolved ones only when asked.
    pub async fn quarantine_page(
        &self,
        device_id: &str,
        include_resolved: bool,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Quarantined>, ServiceError> {
        let rows = sqlx::query(
            "SELECT id, received_at, caller, batch_id, batch_index, device_id, raw, violations, resolved_by \
             FROM quarantine WHERE id > $1 AND ($2 = '' OR device_id = $2) AND ($3 = 1 OR resolved_by = '') \
             ORDER BY id LIMIT $4",
        )
        .bind(after)
        .bind(device_id)
        .bind(i64::from(include_resolved))
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode_quarantined).collect()
    }

    pub async fn quarantined(&self, id: &str) -> Result<Option<Quarantined>, ServiceError> {
        let row = sqlx::query(
            "SELECT id, received_at, caller, batch_id, batch_index, device_id, raw, violations, resolved_by \
             FROM quarantine WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref().map(decode_quarantined).transpose()
    }

    /// Marks an unresolved entry resolved by `reading_id`; `false` when it was resolved already.
    pub async fn resolve(&self, id: &str, reading_id: &str) -> Result<bool, ServiceError> {
        let done = sqlx::query(
            "UPDATE quarantine SET resolved_by = $2 WHERE id = $1 AND resolved_by = ''",
        )
        .bind(id)
        .bind(reading_id)
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn decode_quarantined(row: &AnyRow) -> Result<Quarantined, ServiceError> {
    let index: i64 = row.try_get("batch_index")?;
    Ok(Quarantined {
        id: row.try_get("id")?,
        received_at: row.try_get("received_at")?,
        caller: row.try_get("caller")?,
        batch_id: row.try_get("batch_id")?,
        batch_index: index as u32,
        device_id: row.try_get("device_id")?,
        raw: row.try_get("raw")?,
        violations: row.try_get("violations")?,
        resolved_by: row.try_get("resolved_by")?,
    })
}
