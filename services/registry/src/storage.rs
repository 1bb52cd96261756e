//! The registry's own tables: devices and their status history here, bindings
//! (`storage/bindings.rs`) and credentials (`storage/credentials.rs`). All SQL of the registry
//! is in these three files.

use sentinel_platform::{Backend, Migrations, ServiceError, Store};
use sqlx::{Any, Row, Transaction, any::AnyRow, migrate::Migrator};

use crate::domain::{
    binding::Binding,
    device::{Device, DeviceSpec, DeviceStatus, StatusEntry},
};

mod bindings;

use bindings::{BINDING_COLUMNS, decode_binding};
mod credentials;

pub use credentials::StoredCredential;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// This service's migrations for each backend, applied when its store opens.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};

/// Filters of a device listing; empty ones match everything.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub kind: String,
    pub care_setting: String,
    pub status: String,
    pub patient: String,
}

#[derive(Debug, Clone)]
pub struct RegistryStore {
    store: Store,
}

const DEVICE_COLUMNS_SQL: &str = "SELECT d.id, d.serial, d.manufacturer, d.model, d.udi_di, d.udi_pi, \
     d.firmware_version, d.kind, d.care_setting, d.transport, d.security, d.gateway_id, \
     d.expected_interval_seconds, d.time_zone, d.status, d.registered_at, \
     (SELECT CASE WHEN COUNT(DISTINCT b.patient) = 1 THEN MIN(b.patient) END FROM bindings b \
      WHERE b.device_id = d.id AND b.end_at IS NULL) AS patient \
     FROM devices d";

impl RegistryStore {
    pub fn new(store: Store) -> Self {
        RegistryStore { store }
    }

    /// A transaction holding the write lock on `device_id` (SQLite: the database's; PostgreSQL:
    /// the device's row), so checks and the changes they allow cannot interleave.
    /// A plain transaction, for changes that need no device lock.
    pub fn backend(&self) -> sentinel_platform::store::Backend {
        self.store.backend()
    }

    pub async fn begin(&self) -> Result<Transaction<'static, Any>, ServiceError> {
        self.store.pool().begin().await.map_err(ServiceError::from)
    }

    pub async fn lock_device(
        &self,
        device_id: &str,
    ) -> Result<Transaction<'static, Any>, ServiceError> {
        let mut tx = self.store.begin_write().await?;
        let sql = match self.store.backend() {
            Backend::Sqlite => "SELECT id FROM devices WHERE id = $1",
            Backend::Postgres => "SELECT id FROM devices WHERE id = $1 FOR UPDATE",
        };
        let found = sqlx::query(sql)
            .bind(device_id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(ServiceError::NotFound(format!("device {device_id}")));
        }
        Ok(tx)
    }

    pub async fn insert_device(
        tx: &mut Transaction<'static, Any>,
        device: &Device,
    ) -> Result<(), ServiceError> {
        let spec = &device.spec;
        let inserted = sqlx::query(
            "INSERT INTO devices (id, serial, manufacturer, model, udi_di, udi_pi, firmware_version, \
             kind, care_setting, transport, security, gateway_id, expected_interval_seconds, status, \
             registered_at, time_zone) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&device.id)
        .bind(&spec.serial)
        .bind(&spec.manufacturer)
        .bind(&spec.model)
        .bind(&spec.udi_di)
        .bind(&spec.udi_pi)
        .bind(&spec.firmware_version)
        .bind(&spec.kind)
        .bind(&spec.care_setting)
        .bind(&spec.transport)
        .bind(&spec.security)
        .bind(&spec.gateway_id)
        .bind(i64::from(spec.expected_interval_seconds))
        .bind(device.status.code())
        .bind(device.registered_at)
        .bind(&spec.time_zone)
        .execute(&mut **tx)
        .await;
        if let Err(err) = inserted {
            if err
                .as_database_error()
                .is_some_and(|e| e.is_unique_violation())
            {
                return Err(ServiceError::AlreadyExists(format!(
                    "{} already registered a device with serial {}",
                    spec.manufacturer, spec.serial
                )));
            }
            return Err(err.into());
        }
        for (step, entry) in device.history.iter().enumerate() {
            insert_history(tx, &device.id, step, entry).await?;
        }
        Ok(())
    }

    pub async fn device(&self, id: &str) -> Result<Option<Device>, ServiceError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEVICE_COLUMNS_SQL} WHERE d.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut device = decode_device(&row)?;
        device.history = self.history(id).await?;
        Ok(Some(device))
    }

    /// Devices (without their status history) and their bindings, for many ids in two
    /// queries; unknown ids are left out.
    pub async fn devices_with_bindings(
        &self,
        ids: &[String],
    ) -> Result<Vec<(Device, Vec<Binding>)>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let list = placeholders.join(", ");
        let mut devices = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEVICE_COLUMNS_SQL} WHERE d.id IN ({list})"
        )));
        let mut bindings = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BINDING_COLUMNS} FROM bindings WHERE device_id IN ({list}) ORDER BY start_at"
        )));
        for id in ids {
            devices = devices.bind(id.clone());
            bindings = bindings.bind(id.clone());
        }
        let devices = devices.fetch_all(self.store.pool()).await?;
        let bindings = bindings.fetch_all(self.store.pool()).await?;
        let bindings: Vec<Binding> = bindings
            .iter()
            .map(decode_binding)
            .collect::<Result<_, _>>()?;
        devices
            .iter()
            .map(|row| {
                let device = decode_device(row)?;
                let own = bindings
                    .iter()
                    .filter(|b| b.device_id == device.id)
                    .cloned()
                    .collect();
                Ok((device, own))
            })
            .collect()
    }

    async fn history(&self, id: &str) -> Result<Vec<StatusEntry>, ServiceError> {
        let rows = sqlx::query(
            "SELECT status, at, reason, changed_by FROM device_status_history \
             WHERE device_id = $1 ORDER BY step",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get(0)?;
                Ok(StatusEntry {
                    status: DeviceStatus::from_code(&status).ok_or_else(|| corrupt("status"))?,
                    at: row.try_get(1)?,
                    reason: row.try_get(2)?,
                    by: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Replaces the mutable fields of the device's spec.
    pub async fn update_spec(
        tx: &mut Transaction<'static, Any>,
        id: &str,
        spec: &DeviceSpec,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "UPDATE devices SET model = $2, udi_pi = $3, firmware_version = $4, care_setting = $5, \
             transport = $6, security = $7, gateway_id = $8, expected_interval_seconds = $9, \
             time_zone = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(&spec.model)
        .bind(&spec.udi_pi)
        .bind(&spec.firmware_version)
        .bind(&spec.care_setting)
        .bind(&spec.transport)
        .bind(&spec.security)
        .bind(&spec.gateway_id)
        .bind(i64::from(spec.expected_interval_seconds))
        .bind(&spec.time_zone)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The device's status, read under its lock.
    pub async fn status_in(
        tx: &mut Transaction<'static, Any>,
        id: &str,
    ) -> Result<DeviceStatus, ServiceError> {
        let current: String = sqlx::query_scalar("SELECT status FROM devices WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        DeviceStatus::from_code(&current).ok_or_else(|| corrupt("status"))
    }

    /// Sets the device's status and appends the step to its history.
    pub async fn set_status(
        tx: &mut Transaction<'static, Any>,
        id: &str,
        entry: &StatusEntry,
    ) -> Result<(), ServiceError> {
        let steps: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM device_status_history WHERE device_id = $1")
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
        sqlx::query("UPDATE devices SET status = $2 WHERE id = $1")
            .bind(id)
            .bind(entry.status.code())
            .execute(&mut **tx)
            .await?;
        insert_history(tx, id, steps as usize, entry).await
    }

    pub async fn list_devices(
        &self,
        filter: &DeviceFilter,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Device>, ServiceError> {
        let sql = format!(
            "{DEVICE_COLUMNS_SQL} WHERE d.id > $1 \
             AND ($2 = '' OR d.kind = $2) AND ($3 = '' OR d.care_setting = $3) \
             AND ($4 = '' OR d.status = $4) \
             AND ($5 = '' OR EXISTS (SELECT 1 FROM bindings b WHERE b.device_id = d.id \
                                     AND b.end_at IS NULL AND b.patient = $5)) \
             ORDER BY d.id LIMIT $6"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(&filter.kind)
            .bind(&filter.care_setting)
            .bind(&filter.status)
            .bind(&filter.patient)
            .bind(i64::from(limit))
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(decode_device).collect()
    }
}

async fn insert_history(
    tx: &mut Transaction<'static, Any>,
    device_id: &str,
    step: usize,
    entry: &StatusEntry,
) -> Result<(), ServiceError> {
    sqlx::query(
        "INSERT INTO device_status_history (device_id, step, status, at, reason, changed_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(device_id)
    .bind(step as i64)
    .bind(entry.status.code())
    .bind(entry.at)
    .bind(&entry.reason)
    .bind(&entry.by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) fn corrupt(what: &str) -> ServiceError {
    ServiceError::Internal(format!("stored {what} is not valid").into())
}

fn decode_device(row: &AnyRow) -> Result<Device, ServiceError> {
    let status: String = row.try_get("status")?;
    let interval: i64 = row.try_get("expected_interval_seconds")?;
    Ok(Device {
        id: row.try_get("id")?,
        spec: DeviceSpec {
            serial: row.try_get("serial")?,
            manufacturer: row.try_get("manufacturer")?,
            model: row.try_get("model")?,
            udi_di: row.try_get("udi_di")?,
            udi_pi: row.try_get("udi_pi")?,
            firmware_version: row.try_get("firmware_version")?,
            kind: row.try_get("kind")?,
            care_setting: row.try_get("care_setting")?,
            transport: row.try_get("transport")?,
            security: row.try_get("security")?,
            gateway_id: row.try_get("gateway_id")?,
            expected_interval_seconds: u32::try_from(interval).map_err(|_| corrupt("interval"))?,
            time_zone: row.try_get("time_zone")?,
        },
        status: DeviceStatus::from_code(&status).ok_or_else(|| corrupt("status"))?,
        registered_at: row.try_get("registered_at")?,
        history: Vec::new(),
        current_patient: row.try_get("patient")?,
    })
}
