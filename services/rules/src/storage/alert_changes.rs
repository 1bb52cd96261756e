//! The alert change log: every change of every alert at its position, followed by watchers.

use sentinel_platform::{
    ServiceError,
    feed::{FeedStream, PAGE},
};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::alerts::{AlertStore, StoredAlert, corrupt, ids};
use crate::domain::alert::{Change, is_technical};

/// One change of an alert, at its place in the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertChange {
    pub position: u64,
    pub alert_id: String,
    pub change: Change,
    pub at: i64,
    pub actor: String,
    pub rule_version: u32,
    pub readings: Vec<String>,
    /// The tier the alert stood at after the change.
    pub tier: u32,
    /// A change of a technical alert (about the suite itself, not a patient).
    pub technical: bool,
}

impl AlertChange {
    /// `change` of `alert` as it stands after it (its rule version and tier), by `actor` at
    /// `at`, for `readings`; the log gives it its position when recorded.
    pub fn of(
        alert: &StoredAlert,
        change: Change,
        actor: &str,
        at: i64,
        readings: &[String],
    ) -> Self {
        AlertChange {
            position: 0,
            alert_id: alert.id.clone(),
            change,
            at,
            actor: actor.to_owned(),
            rule_version: alert.rule_version,
            readings: readings.to_vec(),
            tier: alert.alert.tier,
            technical: is_technical(&alert.rule_id),
        }
    }
}

impl AlertStore {
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
            "INSERT INTO alert_changes (position, alert_id, change, at, actor, rule_version, readings, tier, technical) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(position as i64)
        .bind(&change.alert_id)
        .bind(change.change.code())
        .bind(change.at)
        .bind(&change.actor)
        .bind(i64::from(change.rule_version))
        .bind(change.readings.join(","))
        .bind(i64::from(change.tier))
        .bind(i64::from(change.technical))
        .execute(&mut **tx)
        .await?;
        Ok(position)
    }

    /// Changes after log position `after`, in order.
    pub async fn changes_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AlertChange>, ServiceError> {
        let rows = sqlx::query(
            "SELECT position, alert_id, change, at, actor, rule_version, readings, tier, technical FROM alert_changes \
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
            "SELECT position, alert_id, change, at, actor, rule_version, readings, tier, technical FROM alert_changes \
             WHERE alert_id = $1 ORDER BY position",
        )
        .bind(alert_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode_change).collect()
    }
}

fn decode_change(row: &AnyRow) -> Result<AlertChange, ServiceError> {
    let change: String = row.try_get("change")?;
    let position: i64 = row.try_get("position")?;
    let version: i64 = row.try_get("rule_version")?;
    let readings: String = row.try_get("readings")?;
    let tier: i64 = row.try_get("tier")?;
    let technical: i64 = row.try_get("technical")?;
    Ok(AlertChange {
        position: position as u64,
        alert_id: row.try_get("alert_id")?,
        change: Change::from_code(&change).ok_or_else(|| corrupt("change"))?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        rule_version: u32::try_from(version).map_err(|_| corrupt("version"))?,
        readings: ids(&readings),
        tier: u32::try_from(tier).map_err(|_| corrupt("tier"))?,
        technical: technical != 0,
    })
}
