//! The rules service's own tables. No other service reads them.

pub mod alert_changes;
pub mod alerts;
pub mod last_seen;
pub mod partitions;
pub mod scales;
pub mod suppressions;

use sentinel_platform::{Backend, Migrations, ServiceError, Store};
use sqlx::{Any, Row, Transaction, any::AnyRow, migrate::Migrator};

use crate::domain::{engine::ActiveRule, lifecycle::Status, rule::RuleDefinition};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// This service's migrations for each backend, applied when its store opens.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};

/// One version of a rule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleVersion {
    pub rule_id: String,
    pub version: u32,
    pub status: Status,
    pub definition: RuleDefinition,
    pub author: String,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    /// `builtin` or `authored` (read from the rule; not written with the version).
    pub origin: String,
}

#[derive(Debug, Clone)]
pub struct RuleStore {
    store: Store,
}

const VERSION_COLUMNS: &str = "SELECT v.rule_id, v.version, v.status, v.definition, v.author, v.created_at, \
     v.submitted_at, v.approved_by, v.approved_at, v.activated_at, v.retired_at, r.origin \
     FROM rule_versions v JOIN rules r ON r.id = v.rule_id";

impl RuleStore {
    pub fn new(store: Store) -> Self {
        RuleStore { store }
    }

    /// A transaction for a change to rules; changes are serialised (SQLite by its write lock,
    /// PostgreSQL by a lock on the rules table).
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, ServiceError> {
        let mut tx = self.store.begin_write().await?;
        if self.store.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE rules IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Whether any rule of `origin` exists (the built-in library loads once).
    pub async fn has_origin(&self, origin: &str) -> Result<bool, ServiceError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rules WHERE origin = $1")
            .bind(origin)
            .fetch_one(self.store.pool())
            .await?;
        Ok(count > 0)
    }

    pub async fn insert_rule(
        tx: &mut Transaction<'static, Any>,
        id: &str,
        name: &str,
        origin: &str,
        at: i64,
    ) -> Result<(), ServiceError> {
        let inserted =
            sqlx::query("INSERT INTO rules (id, name, origin, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(name)
                .bind(origin)
                .bind(at)
                .execute(&mut **tx)
                .await;
        match inserted {
            Err(err)
                if err
                    .as_database_error()
                    .is_some_and(|e| e.is_unique_violation()) =>
            {
                Err(ServiceError::AlreadyExists(format!("a rule named {name}")))
            }
            other => other.map(|_| ()).map_err(ServiceError::from),
        }
    }

    pub async fn insert_version(
        tx: &mut Transaction<'static, Any>,
        v: &RuleVersion,
    ) -> Result<(), ServiceError> {
        let definition = serde_json::to_string(&v.definition).map_err(ServiceError::internal)?;
        sqlx::query(
            "INSERT INTO rule_versions (rule_id, version, status, definition, author, created_at, submitted_at, \
             approved_by, approved_at, activated_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&v.rule_id)
        .bind(i64::from(v.version))
        .bind(v.status.code())
        .bind(definition)
        .bind(&v.author)
        .bind(v.created_at)
        .bind(v.submitted_at)
        .bind(v.approved_by.clone())
        .bind(v.approved_at)
        .bind(v.activated_at)
        .bind(v.retired_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Records a version's new status and who took the step when.
    pub async fn update_version(
        tx: &mut Transaction<'static, Any>,
        v: &RuleVersion,
    ) -> Result<(), ServiceError> {
        let definition = serde_json::to_string(&v.definition).map_err(ServiceError::internal)?;
        sqlx::query(
            "UPDATE rule_versions SET status = $3, definition = $4, submitted_at = $5, approved_by = $6, \
             approved_at = $7, activated_at = $8, retired_at = $9 WHERE rule_id = $1 AND version = $2",
        )
        .bind(&v.rule_id)
        .bind(i64::from(v.version))
        .bind(v.status.code())
        .bind(definition)
        .bind(v.submitted_at)
        .bind(v.approved_by.clone())
        .bind(v.approved_at)
        .bind(v.activated_at)
        .bind(v.retired_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Every version of a rule, oldest first.
    pub async fn versions(&self, rule_id: &str) -> Result<Vec<RuleVersion>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VERSION_COLUMNS} WHERE v.rule_id = $1 ORDER BY v.version"
        )))
        .bind(rule_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The latest version of every rule, by rule id.
    pub async fn latest(&self) -> Result<Vec<RuleVersion>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VERSION_COLUMNS} WHERE v.version = (SELECT MAX(l.version) FROM rule_versions l \
             WHERE l.rule_id = v.rule_id) ORDER BY v.rule_id"
        )))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Every version of a rule, inside `tx` (for a change that reads before it writes).
    pub async fn versions_in(
        tx: &mut Transaction<'static, Any>,
        rule_id: &str,
    ) -> Result<Vec<RuleVersion>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VERSION_COLUMNS} WHERE v.rule_id = $1 ORDER BY v.version"
        )))
        .bind(rule_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The versions in `status`, by rule and version.
    pub async fn in_status(&self, status: Status) -> Result<Vec<RuleVersion>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VERSION_COLUMNS} WHERE v.status = $1 ORDER BY v.rule_id, v.version"
        )))
        .bind(status.code())
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The active versions, as the engine evaluates them.
    pub async fn active(&self) -> Result<Vec<ActiveRule>, ServiceError> {
        Ok(self
            .in_status(Status::Active)
            .await?
            .into_iter()
            .map(|v| ActiveRule {
                rule_id: v.rule_id,
                version: v.version,
                definition: v.definition,
            })
            .collect())
    }
}

fn corrupt(what: &str) -> ServiceError {
    ServiceError::Internal(format!("stored {what} is not valid").into())
}

fn decode(row: &AnyRow) -> Result<RuleVersion, ServiceError> {
    let status: String = row.try_get("status")?;
    let version: i64 = row.try_get("version")?;
    let definition: String = row.try_get("definition")?;
    Ok(RuleVersion {
        rule_id: row.try_get("rule_id")?,
        version: u32::try_from(version).map_err(|_| corrupt("version"))?,
        status: Status::from_code(&status).ok_or_else(|| corrupt("status"))?,
        definition: serde_json::from_str(&definition).map_err(|_| corrupt("definition"))?,
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        submitted_at: row.try_get("submitted_at")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: row.try_get("approved_at")?,
        activated_at: row.try_get("activated_at")?,
        retired_at: row.try_get("retired_at")?,
        origin: row.try_get("origin")?,
    })
}
