//! Alerts, their change log, suppressions and the evaluator's cursor.

use sentinel_platform::{
    Backend, ServiceError, Store,
    feed::{Feed, FeedStream, PAGE},
};
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

/// One change of an alert, at its place in the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertChange {
    pub position: u64,
    pub alert_id: String,
    pub change: String,
    pub at: i64,
    pub actor: String,
    pub rule_version: u32,
    pub readings: Vec<String>,
    /// The tier the alert stood at after the change.
    pub tier: u32,
}

impl AlertChange {
    /// `change` of `alert` as it stands after it (its rule version and tier), by `actor` at
    /// `at`, for `readings`; the log gives it its position when recorded.
    pub fn of(
        alert: &StoredAlert,
        change: &str,
        actor: &str,
        at: i64,
        readings: &[String],
    ) -> Self {
        AlertChange {
            position: 0,
            alert_id: alert.id.clone(),
            change: change.to_owned(),
            at,
            actor: actor.to_owned(),
            rule_version: alert.rule_version,
            readings: readings.to_vec(),
            tier: alert.alert.tier,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AlertStore {
    pub(super) store: Store,
    /// The change log's followers, woken by each commit.
    feed: Feed,
}

fn corrupt(what: &str) -> ServiceError {
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

fn ids(text: &str) -> Vec<String> {
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
            store,
            feed: Feed::new(),
        }
    }

    /// Commits a transaction begun with [`AlertStore::begin`]; watchers see its changes at once.
    pub async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), ServiceError> {
        self.feed.commit(tx).await
    }

    /// The change log after `after`, then each change as it is committed, until `shutdown`.
    /// `show` turns a change into what the watcher gets, or `None` to pass it over.
    pub fn watch<T: Send + 'static>(
        &self,
        after: u64,
        shutdown: tokio::sync::watch::Receiver<bool>,
        show: impl Fn(&AlertChange) -> Option<T> + Send + Sync + 'static,
    ) -> FeedStream<T> {
        let alerts = self.clone();
        let show = std::sync::Arc::new(show);
        self.feed.follow(after, shutdown, move |after| {
            let (alerts, show) = (alerts.clone(), show.clone());
            async move {
                let page = alerts.changes_after(after, PAGE).await?;
                Ok(page.iter().map(|c| (c.position, show(c))).collect())
            }
        })
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

    /// The last reading-log position the evaluator finished.
    pub async fn cursor(&self, name: &str) -> Result<u64, ServiceError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM evaluator_cursor WHERE name = $1")
                .bind(name)
                .fetch_optional(self.store.pool())
                .await?;
        Ok(position.map_or(0, |p| p as u64))
    }

    pub async fn set_cursor(
        tx: &mut Transaction<'static, Any>,
        name: &str,
        position: u64,
    ) -> Result<(), ServiceError> {
        let updated = sqlx::query("UPDATE evaluator_cursor SET position = $2 WHERE name = $1")
            .bind(name)
            .bind(position as i64)
            .execute(&mut **tx)
            .await?;
        if updated.rows_affected() == 0 {
            sqlx::query("INSERT INTO evaluator_cursor (name, position) VALUES ($1, $2)")
                .bind(name)
                .bind(position as i64)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
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

    /// Appends a change to the log at the next position; returns it.
    pub async fn record_change(
        tx: &mut Transaction<'static, Any>,
        change: &AlertChange,
    ) -> Result<u64, ServiceError> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM alert_changes")
            .fetch_one(&mut **tx)
            .await?;
        let position = last.map_or(1, |p| p as u64 + 1);
        sqlx::query(
            "INSERT INTO alert_changes (position, alert_id, change, at, actor, rule_version, readings, tier) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(position as i64)
        .bind(&change.alert_id)
        .bind(&change.change)
        .bind(change.at)
        .bind(&change.actor)
        .bind(i64::from(change.rule_version))
        .bind(change.readings.join(","))
        .bind(i64::from(change.tier))
        .execute(&mut **tx)
        .await?;
        Ok(position)
    }

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

    /// Changes after log position `after`, in order.
    pub async fn changes_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AlertChange>, ServiceError> {
        let rows = sqlx::query(
            "SELECT position, alert_id, change, at, actor, rule_version, readings, tier FROM alert_changes \
             WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after as i64)
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode_change).collect()
    }

    /// Every change of one alert, in order.
    pub async fn changes_of(&self, alert_id: &str) -> Result<Vec<AlertChange>, ServiceError> {
        let rows = sqlx::query(
            "SELECT position, alert_id, change, at, actor, rule_version, readings, tier FROM alert_changes \
             WHERE alert_id = $1 ORDER BY position",
        )
        .bind(alert_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode_change).collect()
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

fn decode_change(row: &AnyRow) -> Result<AlertChange, ServiceError> {
    let position: i64 = row.try_get("position")?;
    let version: i64 = row.try_get("rule_version")?;
    let readings: String = row.try_get("readings")?;
    let tier: i64 = row.try_get("tier")?;
    Ok(AlertChange {
        position: position as u64,
        alert_id: row.try_get("alert_id")?,
        change: row.try_get("change")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        rule_version: u32::try_from(version).map_err(|_| corrupt("version"))?,
        readings: ids(&readings),
        tier: u32::try_from(tier).map_err(|_| corrupt("tier"))?,
    })
}
