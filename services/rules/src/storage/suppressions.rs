//! Suppressions: a condition that held but raised nothing, and why — kept so a silence is
//! explainable.

use sentinel_platform::ServiceError;
use sqlx::{Any, Row, Transaction};

use super::alerts::{AlertStore, corrupt};

impl AlertStore {
    #[allow(clippy::too_many_arguments)]
    pub async fn suppress(
        tx: &mut Transaction<'static, Any>,
        id: &str,
        rule_id: &str,
        rule_version: u32,
        patient: &str,
        reading_id: &str,
        reason: &str,
        at: i64,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO suppressions (id, rule_id, rule_version, patient, reading_id, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(rule_id)
        .bind(i64::from(rule_version))
        .bind(patient)
        .bind(reading_id)
        .bind(reason)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Why conditions of `patient` did not raise, newest first.
    pub async fn suppressions(
        &self,
        patient: &str,
        limit: u32,
    ) -> Result<Vec<(String, u32, String, String, i64)>, ServiceError> {
        let rows = sqlx::query(
            "SELECT rule_id, rule_version, reading_id, reason, at FROM suppressions WHERE patient = $1 \
             ORDER BY at DESC LIMIT $2",
        )
        .bind(patient)
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let version: i64 = row.try_get("rule_version")?;
                Ok((
                    row.try_get("rule_id")?,
                    u32::try_from(version).map_err(|_| corrupt("version"))?,
                    row.try_get("reading_id")?,
                    row.try_get("reason")?,
                    row.try_get("at")?,
                ))
            })
            .collect()
    }
}
