//! The ingestion service's own tables: `readings` (the followable log), `quarantine`
//! (`storage/quarantine.rs`) and the LoRaWAN frames seen (`storage/frames.rs`).

use std::collections::HashMap;

use sentinel_platform::{
    Backend, Migrations, ServiceError, Store,
    feed::{Feed, FeedStream, PAGE},
};
use serde_json::json;
use sqlx::{Any, Row, Transaction, any::AnyRow, migrate::Migrator};

use crate::domain::reading::{CheckedReading, Normalised, Quantity, StoredReading};

/// Rows per multi-row statement: 19 parameters each stays far below SQLite's 32 766 and
/// PostgreSQL's 65 535 parameters per statement.
const ROWS_PER_STATEMENT: usize = 25;

mod frames;
mod quarantine;

pub use quarantine::Quarantined;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// This service's migrations for each backend, applied when its store opens.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};

/// Filters of a listing; empty ones match everything.
#[derive(Debug, Clone, Default)]
pub struct ReadingFilter {
    pub device_id: String,
    pub patient: String,
    pub observed_from: i64,
    pub observed_before: i64,
    /// Empty: every code.
    pub code: String,
    /// 0: no bound.
    pub up_to_position: u64,
}

#[derive(Debug, Clone)]
pub struct ReadingStore {
    store: Store,
    /// The reading log's followers, woken by each commit.
    feed: Feed,
}

const COLUMNS: &str = "SELECT id, position, device_id, sequence, observed_at, received_at, code_system, code, \
     value, unit, original_value, original_unit, components, flags, data_absent_reason, patient, batch_id, attributes \
     FROM readings";

impl ReadingStore {
    pub fn new(store: Store) -> Self {
        ReadingStore {
            feed: Feed::of(&store, "readings"),
            store,
        }
    }

    /// Commits a transaction begun with [`ReadingStore::begin_log`]; followers see its
    /// readings at once.
    pub async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), ServiceError> {
        self.feed.commit(tx).await
    }

    /// The reading log after `after`, then each reading as it is committed, until `shutdown`.
    pub fn follow<T: Send + 'static>(
        &self,
        after: u64,
        shutdown: tokio::sync::watch::Receiver<bool>,
        show: impl Fn(&StoredReading) -> T + Send + Sync + 'static,
    ) -> FeedStream<T> {
        let readings = self.clone();
        let show = std::sync::Arc::new(show);
        self.feed.follow(after, shutdown, move |after| {
            let (readings, show) = (readings.clone(), show.clone());
            async move {
                let page = readings
                    .list(&ReadingFilter::default(), after, PAGE)
                    .await?;
                Ok(page.iter().map(|r| (r.position, Some(show(r)))).collect())
            }
        })
    }

    /// A transaction holding the log's write lock, and the next free position: positions are
    /// handed out in commit order.
    pub async fn begin_log(&self) -> Result<(Transaction<'static, Any>, u64), ServiceError> {
        let mut tx = self.store.begin_write().await?;
        if self.store.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE readings IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM readings")
            .fetch_one(&mut *tx)
            .await?;
        Ok((tx, last.map_or(1, |p| p as u64 + 1)))
    }

    /// The ids of readings already stored under any of `keys` (device, sequence).
    pub async fn existing(
        tx: &mut Transaction<'static, Any>,
        keys: &[(&str, &str)],
    ) -> Result<HashMap<(String, String), String>, ServiceError> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT * 8) {
            let pairs: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT device_id, sequence, id FROM readings WHERE (device_id, sequence) IN (VALUES {})",
                pairs.join(", ")
            );
            // Not a prepared statement: PostgreSQL's generic plan for it scans the table,
            // while a plan for the values at hand uses the (device_id, sequence) index.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
            for (device, sequence) in chunk {
                query = query.bind(*device).bind(*sequence);
            }
            for row in query.fetch_all(&mut **tx).await? {
                let device: String = row.try_get("device_id")?;
                let sequence: String = row.try_get("sequence")?;
                let id: String = row.try_get("id")?;
                found.insert((device, sequence), id);
            }
        }
        Ok(found)
    }

    /// Stores `readings`, many rows per statement: a batch costs a few round trips, not one
    /// per reading.
    pub async fn insert(
        tx: &mut Transaction<'static, Any>,
        readings: &[StoredReading],
    ) -> Result<(), ServiceError> {
        for chunk in readings.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(insert_sql(chunk.len())));
            for stored in chunk {
                let r = &stored.reading;
                query = query
                    .bind(stored.id.clone())
                    .bind(stored.position as i64)
                    .bind(r.device_id.clone())
                    .bind(r.sequence.clone())
                    .bind(r.observed_at)
                    .bind(stored.received_at)
                    .bind(r.system.clone())
                    .bind(r.code.clone())
                    .bind(r.value.as_ref().map_or(0.0, |v| v.canonical.value))
                    .bind(r.value.as_ref().map(|v| v.canonical.unit.clone()))
                    .bind(r.value.as_ref().map_or(0.0, |v| v.original.value))
                    .bind(r.value.as_ref().map(|v| v.original.unit.clone()))
                    .bind(components_json(r))
                    .bind(r.flags.join(","))
                    .bind(r.data_absent_reason.clone())
                    .bind(stored.patient.clone())
                    .bind(stored.batch_id.clone())
                    .bind(i64::from(r.value.is_some()))
                    .bind(attributes_json(r));
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredReading>, ServiceError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Readings matching `filter` after log position `after`, in log order.
    pub async fn list(
        &self,
        filter: &ReadingFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredReading>, ServiceError> {
        let sql = format!(
            "{COLUMNS} WHERE position > $1 AND ($2 = '' OR device_id = $2) AND ($3 = '' OR patient = $3) \
             AND ($4 = 0 OR observed_at >= $4) AND ($5 = 0 OR observed_at < $5) \
             AND ($7 = '' OR code = $7) AND ($8 = 0 OR position <= $8) ORDER BY position LIMIT $6"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after as i64)
            .bind(&filter.device_id)
            .bind(&filter.patient)
            .bind(filter.observed_from)
            .bind(filter.observed_before)
            .bind(i64::from(limit))
            .bind(&filter.code)
            .bind(filter.up_to_position as i64)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(decode).collect()
    }
}

fn decode(row: &AnyRow) -> Result<StoredReading, ServiceError> {
    let value: Option<f64> = row.try_get("value")?;
    let unit: Option<String> = row.try_get("unit")?;
    let original_value: Option<f64> = row.try_get("original_value")?;
    let original_unit: Option<String> = row.try_get("original_unit")?;
    let normalised = match (value, unit, original_value, original_unit) {
        (Some(value), Some(unit), Some(original_value), Some(original_unit)) => Some(Normalised {
            canonical: Quantity { value, unit },
            original: Quantity {
                value: original_value,
                unit: original_unit,
            },
        }),
        _ => None,
    };
    let components: String = row.try_get("components")?;
    let components: Vec<serde_json::Value> = serde_json::from_str(&components).unwrap_or_default();
    let components = components
        .iter()
        .filter_map(|c| {
            Some((
                c["code"].as_str()?.to_owned(),
                Normalised {
                    canonical: Quantity {
                        value: c["value"].as_f64()?,
                        unit: c["unit"].as_str()?.to_owned(),
                    },
                    original: Quantity {
                        value: c["original_value"].as_f64()?,
                        unit: c["original_unit"].as_str()?.to_owned(),
                    },
                },
            ))
        })
        .collect();
    let flags: String = row.try_get("flags")?;
    let attributes: String = row.try_get("attributes")?;
    let attributes: Vec<serde_json::Value> = serde_json::from_str(&attributes).unwrap_or_default();
    let attributes = attributes
        .iter()
        .filter_map(|a| {
            Some((
                a["name"].as_str()?.to_owned(),
                a["value"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let position: i64 = row.try_get("position")?;
    Ok(StoredReading {
        id: row.try_get("id")?,
        position: position as u64,
        reading: CheckedReading {
            device_id: row.try_get("device_id")?,
            sequence: row.try_get("sequence")?,
            observed_at: row.try_get("observed_at")?,
            system: row.try_get("code_system")?,
            code: row.try_get("code")?,
            value: normalised,
            components,
            flags: flags
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
            data_absent_reason: row.try_get("data_absent_reason")?,
            attributes,
        },
        received_at: row.try_get("received_at")?,
        patient: row.try_get("patient")?,
        batch_id: row.try_get("batch_id")?,
    })
}

/// The multi-row insert of `rows` readings, 19 parameters a row. A value is bound as a number
/// even when absent (0, with flag 0 turning it into NULL): a prepared statement keeps the
/// parameter types of its first use, and sqlx's Any driver types a NULL number differently
/// from a number, so a chunk opening with an event (no value) would otherwise break the
/// statement for the next chunk.
fn insert_sql(rows: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|row| {
            let p = |n: usize| format!("${}", row * 19 + n);
            let numbers = [1, 2, 3, 4, 5, 6, 7, 8].map(p).join(", ");
            let rest = [12, 13, 14, 15, 16, 17].map(p).join(", ");
            format!(
                "({numbers}, CASE WHEN {flag} = 1 THEN {value} END, {unit}, \
                 CASE WHEN {flag} = 1 THEN {original} END, {rest}, {attributes})",
                flag = p(18),
                value = p(9),
                unit = p(10),
                original = p(11),
                attributes = p(19),
            )
        })
        .collect();
    format!(
        "INSERT INTO readings (id, position, device_id, sequence, observed_at, received_at, code_system, \
         code, value, unit, original_value, original_unit, components, flags, data_absent_reason, patient, batch_id, \
         attributes) VALUES {}",
        rows.join(", ")
    )
}

/// A reading's components as stored: canonical and original value and unit of each.
fn components_json(reading: &CheckedReading) -> String {
    let components: Vec<serde_json::Value> = reading
        .components
        .iter()
        .map(|(code, n)| {
            json!({"code": code, "value": n.canonical.value, "unit": n.canonical.unit,
                   "original_value": n.original.value, "original_unit": n.original.unit})
        })
        .collect();
    serde_json::Value::Array(components).to_string()
}

/// A reading's attributes as stored.
fn attributes_json(reading: &CheckedReading) -> String {
    let attributes: Vec<serde_json::Value> = reading
        .attributes
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    serde_json::Value::Array(attributes).to_string()
}
