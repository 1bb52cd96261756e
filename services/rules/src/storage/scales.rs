//! Which NEWS2 SpO2 scale each patient is on, as a clinician set it.

use std::collections::HashMap;

use sentinel_platform::ServiceError;
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::alerts::AlertStore;
use crate::domain::news2::SpO2Scale;

/// A patient's scale as set: the scale, who set it, when (µs), why.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSetting {
    pub patient: String,
    pub scale: SpO2Scale,
    pub set_by: String,
    pub set_at: i64,
    pub reason: String,
}

fn code(scale: SpO2Scale) -> i64 {
    match scale {
        SpO2Scale::One => 1,
        SpO2Scale::Two => 2,
    }
}

fn decode(row: &AnyRow) -> Result<ScaleSetting, ServiceError> {
    let scale: i64 = row.try_get("scale").map_err(ServiceError::from)?;
    Ok(ScaleSetting {
        patient: row.try_get("patient").map_err(ServiceError::from)?,
        scale: if scale == 2 {
            SpO2Scale::Two
        } else {
            SpO2Scale::One
        },
        set_by: row.try_get("set_by").map_err(ServiceError::from)?,
        set_at: row.try_get("set_at").map_err(ServiceError::from)?,
        reason: row.try_get("reason").map_err(ServiceError::from)?,
    })
}

impl AlertStore {
    pub async fn set_scale(
        tx: &mut Transaction<'static, Any>,
        setting: &ScaleSetting,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO spo2_scales (patient, scale, set_by, set_at, reason) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (patient) DO UPDATE SET \
             scale = excluded.scale, set_by = excluded.set_by, set_at = excluded.set_at, \
             reason = excluded.reason",
        )
        .bind(&setting.patient)
        .bind(code(setting.scale))
        .bind(&setting.set_by)
        .bind(setting.set_at)
        .bind(&setting.reason)
        .execute(&mut **tx)
        .await
        .map_err(ServiceError::from)?;
        Ok(())
    }

    /// The patients on scale 2.
    pub async fn on_scale_two(&self) -> Result<HashMap<String, SpO2Scale>, ServiceError> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT patient FROM spo2_scales WHERE scale = 2")
                .fetch_all(self.store.pool())
                .await
                .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(|p| (p, SpO2Scale::Two)).collect())
    }

    /// The scale `patient` is on, if a clinician ever set one.
    pub async fn scale_of(&self, patient: &str) -> Result<Option<ScaleSetting>, ServiceError> {
        let row = sqlx::query(
            "SELECT patient, scale, set_by, set_at, reason FROM spo2_scales WHERE patient = $1",
        )
        .bind(patient)
        .fetch_optional(self.store.pool())
        .await
        .map_err(ServiceError::from)?;
        row.as_ref().map(decode).transpose()
    }
}
