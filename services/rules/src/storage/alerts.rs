//! Alerts. Their change log is in `alert_changes.rs`, suppressions in `suppressions.rs`, and
//! how far the evaluator got (per partition of patients) in `partitions.rs`, beside this file.

use sentinel_platform::{Backend, ServiceError, Store, feed::Feed};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use crate::domain::{
    alert::{Alert, State},
    classification::Priority,
};

/// An alert as stored: which rule version and patient it belongs to, and its life.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    pub id: String,
    pub rule_id: String,
    pub rule_version: u32,
    pub patient: String,
    pub updated_at: i64,
    pub alert: Alert,
}

#[derive(Debug, Clone)]
pub struct AlertStore {
    pub(super) store: Store,
    /// The change log's followers, woken by each commit.
    pub(super) feed: Feed,
}

pub(super) fn corrupt(what: &str) -> ServiceError {
    ServiceError::Internal(format!("stored {what} is not valid").into())
}

pub fn state_code(state: State) -> &'static str {
    match state {
        State::Raised => "raised",
        State::Acknowledged => "acknowledged",
        State::Resolved => "resolved",
    }
}

fn state_from(code: &str) -> Option<State> {
    [State::Raised, State::Acknowledged, State::Resolved]
        .into_iter()
        .find(|s| state_code(*s) == code)
}

pub fn priority_code(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "low",
        Priority::Medium => "medium",
        Priority::High => "high",
    }
}

fn priority_from(code: &str) -> Option<Priority> {
    [Priority::Low, Priority::Medium, Priority::High]
        .into_iter()
        .find(|p| priority_code(*p) == code)
}

pub(super) fn ids(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

const ALERT_COLUMNS: &str = "SELECT id, rule_id, rule_version, patient, state, priority, raised_at, updated_at, \
     snoozed_until, tier, last_escalated_at, readings, urgent_floor, latching FROM alerts";

impl AlertStore {
    pub fn new(store: Store) -> Self {
        AlertStore {
            feed: Feed::of(&store, "alert_changes"),
            store,
        }
    }

    /// Commits a transaction begun with [`AlertStore::begin`]; watchers see its changes at once.
    pub async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), ServiceError> {
        self.feed.commit(tx).await
    }

    /// A transaction holding the alerts' write lock: changes get log positions in commit order.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, ServiceError> {
        let mut tx = self.store.begin_write().await?;
        if self.store.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE alerts IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// The open alert of (rule, patient), if any.
    pub async fn open_for(
        tx: &mut Transaction<'static, Any>,
        rule_id: &str,
        patient: &str,
    ) -> Result<Option<StoredAlert>, ServiceError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALERT_COLUMNS} WHERE rule_id = $1 AND patient = $2 AND state <> 'resolved'"
        )))
        .bind(rule_id)
        .bind(patient)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    pub async fn locked(
        tx: &mut Transaction<'static, Any>,
        id: &str,
    ) -> Result<Option<StoredAlert>, ServiceError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALERT_COLUMNS} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    pub async fn insert(
        tx: &mut Transaction<'static, Any>,
        a: &StoredAlert,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO alerts (id, rule_id, rule_version, patient, state, priority, raised_at, updated_at, \
             snoozed_until, tier, last_escalated_at, readings, urgent_floor, latching) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&a.id)
        .bind(&a.rule_id)
        .bind(i64::from(a.rule_version))
        .bind(&a.patient)
        .bind(state_code(a.alert.state))
        .bind(priority_code(a.alert.priority))
        .bind(a.alert.raised_at)
        .bind(a.updated_at)
        .bind(a.alert.snoozed_until)
        .bind(i64::from(a.alert.tier))
        .bind(a.alert.last_escalated_at)
        .bind(a.alert.readings.join(","))
        .bind(i64::from(a.alert.urgent_floor))
        .bind(i64::from(a.alert.latching))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn update(
        tx: &mut Transaction<'static, Any>,
        a: &StoredAlert,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "UPDATE alerts SET state = $2, priority = $3, updated_at = $4, snoozed_until = $5, tier = $6, \
             last_escalated_at = $7, readings = $8, rule_version = $9 WHERE id = $1",
        )
        .bind(&a.id)
        .bind(state_code(a.alert.state))
        .bind(priority_code(a.alert.priority))
        .bind(a.updated_at)
        .bind(a.alert.snoozed_until)
        .bind(i64::from(a.alert.tier))
        .bind(a.alert.last_escalated_at)
        .bind(a.alert.readings.join(","))
        .bind(i64::from(a.rule_version))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredAlert>, ServiceError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALERT_COLUMNS} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Alerts of `patient` (all when empty), open ones only when asked, newest first.
    pub async fn list(
        &self,
        patient: &str,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<StoredAlert>, ServiceError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ALERT_COLUMNS} WHERE ($1 = '' OR patient = $1) AND ($2 = 0 OR state <> 'resolved') \
             ORDER BY raised_at DESC, id LIMIT $3"
        )))
        .bind(patient)
        .bind(i64::from(open_only))
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode).collect()
    }
}

fn decode(row: &AnyRow) -> Result<StoredAlert, ServiceError> {
    let version: i64 = row.try_get("rule_version")?;
    let state: String = row.try_get("state")?;
    let priority: String = row.try_get("priority")?;
    let tier: i64 = row.try_get("tier")?;
    let readings: String = row.try_get("readings")?;
    let urgent: i64 = row.try_get("urgent_floor")?;
    let latching: i64 = row.try_get("latching")?;
    Ok(StoredAlert {
        id: row.try_get("id")?,
        rule_id: row.try_get("rule_id")?,
        rule_version: u32::try_from(version).map_err(|_| corrupt("version"))?,
        patient: row.try_get("patient")?,
        updated_at: row.try_get("updated_at")?,
        alert: Alert {
            state: state_from(&state).ok_or_else(|| corrupt("state"))?,
            priority: priority_from(&priority).ok_or_else(|| corrupt("priority"))?,
            raised_at: row.try_get("raised_at")?,
            snoozed_until: row.try_get("snoozed_until")?,
            tier: u32::try_from(tier).map_err(|_| corrupt("tier"))?,
            last_escalated_at: row.try_get("last_escalated_at")?,
            readings: ids(&readings),
            urgent_floor: urgent != 0,
            latching: latching != 0,
        },
    })
}
