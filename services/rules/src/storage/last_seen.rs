//! The latest reading received from each device, for judging device silence.

use sentinel_platform::ServiceError;
use sqlx::{Any, Row, Transaction};

use super::alerts::AlertStore;

/// A device's latest reading: (device id, reading id, received at µs).
pub type Seen = (String, String, i64);

/// Rows per upsert statement (three parameters each).
const CHUNK: usize = 100;

impl AlertStore {
    /// Records each device's latest reading, unless a later one is already stored.
    pub async fn saw(
        tx: &mut Transaction<'static, Any>,
        seen: &[Seen],
    ) -> Result<(), ServiceError> {
        for chunk in seen.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO device_last_seen (device_id, reading_id, received_at) VALUES {} \
                 ON CONFLICT (device_id) DO UPDATE SET reading_id = excluded.reading_id, \
                 received_at = excluded.received_at \
                 WHERE excluded.received_at >= device_last_seen.received_at",
                values.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (device, reading, at) in chunk {
                query = query.bind(device).bind(reading).bind(*at);
            }
            query.execute(&mut **tx).await.map_err(ServiceError::from)?;
        }
        Ok(())
    }

    /// Every device's latest reading.
    pub async fn last_seen(&self) -> Result<Vec<Seen>, ServiceError> {
        let rows = sqlx::query("SELECT device_id, reading_id, received_at FROM device_last_seen")
            .fetch_all(self.store.pool())
            .await
            .map_err(ServiceError::from)?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("device_id").map_err(ServiceError::from)?,
                    row.try_get("reading_id").map_err(ServiceError::from)?,
                    row.try_get("received_at").map_err(ServiceError::from)?,
                ))
            })
            .collect()
    }
}
