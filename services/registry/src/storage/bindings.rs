//! The `bindings` table: which patient a device was bound to, from when until when.

use sentinel_platform::ServiceError;
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::RegistryStore;
use crate::domain::binding::Binding;

/// A binding's columns, in the order `decode_binding` reads them.
pub(super) const BINDING_COLUMNS: &str = "id, device_id, patient, start_at, end_at, device_user";

impl RegistryStore {
    /// The device's bindings, oldest first, read under its lock in `tx`.
    pub async fn bindings_in(
        tx: &mut Transaction<'static, Any>,
        device_id: &str,
    ) -> Result<Vec<Binding>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE device_id = $1 ORDER BY start_at"
        )))
        .bind(device_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(decode_binding).collect()
    }

    pub async fn bindings(&self, device_id: &str) -> Result<Vec<Binding>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE device_id = $1 ORDER BY start_at"
        )))
        .bind(device_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode_binding).collect()
    }

    pub async fn open_binding(
        tx: &mut Transaction<'static, Any>,
        binding: &Binding,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO bindings (id, device_id, patient, start_at, end_at, device_user) \
             VALUES ($1, $2, $3, $4, NULL, $5)",
        )
        .bind(&binding.id)
        .bind(&binding.device_id)
        .bind(&binding.patient)
        .bind(binding.start)
        .bind(binding.user.map(i64::from))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn close_binding(
        tx: &mut Transaction<'static, Any>,
        id: &str,
        end: i64,
    ) -> Result<(), ServiceError> {
        sqlx::query("UPDATE bindings SET end_at = $2 WHERE id = $1")
            .bind(id)
            .bind(end)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

pub(super) fn decode_binding(row: &AnyRow) -> Result<Binding, ServiceError> {
    Ok(Binding {
        id: row.try_get(0)?,
        device_id: row.try_get(1)?,
        patient: row.try_get(2)?,
        start: row.try_get(3)?,
        end: row.try_get(4)?,
        user: row
            .try_get::<Option<i64>, _>(5)?
            .map(|user| u8::try_from(user).map_err(|_| super::corrupt("binding user slot")))
            .transpose()?,
    })
}
