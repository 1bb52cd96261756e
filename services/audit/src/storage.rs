//! The audit service's own tables: `audit_records` and `audit_checkpoints`, append-only
//! (enforced by the database: see the migrations). All SQL of the audit service is here.

use sentinel_platform::audit_action::Action;
use std::collections::BTreeMap;

use sentinel_platform::{Backend, Migrations, Store};
use sqlx::{Any, AnyPool, Executor, Row, Transaction, any::AnyRow, migrate::Migrator};

use crate::domain::{
    merkle::Hash,
    record::{Actor, ActorKind, AuditEntry, AuditRecord, Outcome, Subject},
    verify::StoredRecord,
};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// This service's migrations for each backend, applied when its store opens.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &SQLITE,
    postgres: &POSTGRES,
};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored row that does not decode: itself a sign of tampering.
    #[error("audit record {sequence} is unreadable: {problem}")]
    Corrupt { sequence: i64, problem: String },
}

/// The head of the log, read under the append lock.
#[derive(Debug, Clone, Default)]
pub struct Head {
    pub size: u64,
    pub last_recorded_at: i64,
    pub last_signature: Vec<u8>,
    pub last_checkpoint_size: u64,
    pub last_checkpoint_at: i64,
}

/// Filters of a listing; empty ones match everything.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub actor_id: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    /// Microseconds since the epoch; 0 means unbounded.
    pub recorded_from: i64,
    pub recorded_before: i64,
}

/// A published checkpoint.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    pub root: Vec<u8>,
    pub note: String,
}

/// The advisory lock appenders take on PostgreSQL ("SNTAUDIT" in ASCII).
const APPEND_LOCK: i64 = 0x534e_5441_5544_4954;

/// The audit tables of one store.
#[derive(Debug, Clone)]
pub struct AuditStore {
    store: Store,
}

impl AuditStore {
    pub fn new(store: Store) -> Self {
        AuditStore { store }
    }

    pub fn pool(&self) -> &AnyPool {
        self.store.pool()
    }

    /// Begins the one transaction that may append, holding the log's write lock until it
    /// ends, so appends from every process are serialised and the log never forks. On
    /// PostgreSQL the lock is a transaction-scoped advisory lock: unlike a table lock it needs no
    /// privilege beyond the appender role's SELECT and INSERT.
    pub async fn begin_append(&self) -> Result<(Transaction<'static, Any>, Head), StorageError> {
        let mut tx = self.store.begin_write().await?;
        if self.store.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(APPEND_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let head = read_head_in(&mut tx).await?;
        Ok((tx, head))
    }

    pub async fn insert(
        tx: &mut Transaction<'static, Any>,
        stored: &StoredRecord,
    ) -> Result<(), StorageError> {
        let record = &stored.record;
        let entry = &record.entry;
        let (outcome, reason) = match &entry.outcome {
            Outcome::Success => ("success", ""),
            Outcome::Failure(reason) => ("failure", reason.as_str()),
        };
        let detail = serde_json::to_string(&entry.detail).unwrap_or_else(|_| "{}".to_owned());
        sqlx::query(
            "INSERT INTO audit_records (sequence, recorded_at, actor_kind, actor_id, actor_role, \
             action, subject_type, subject_id, outcome, reason, service, trace_id, detail, \
             leaf_hash, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(record.sequence as i64)
        .bind(record.recorded_at)
        .bind(entry.actor.kind.code())
        .bind(&entry.actor.id)
        .bind(&entry.actor.role)
        .bind(entry.action.code())
        .bind(&entry.subject.kind)
        .bind(&entry.subject.id)
        .bind(outcome)
        .bind(reason)
        .bind(&entry.service)
        .bind(&entry.trace_id)
        .bind(detail)
        .bind(stored.leaf_hash.clone())
        .bind(stored.signature.clone())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn insert_checkpoint(
        tx: &mut Transaction<'static, Any>,
        size: u64,
        root: &Hash,
        note: &str,
        published_at: i64,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, note, published_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(size as i64)
        .bind(root.to_vec())
        .bind(note)
        .bind(published_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Leaf hashes of the records `[from, to)`, in order, read inside `tx`.
    pub async fn leaf_hashes(
        tx: &mut Transaction<'static, Any>,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        let rows = sqlx::query(
            "SELECT sequence, leaf_hash FROM audit_records \
             WHERE sequence >= $1 AND sequence < $2 ORDER BY sequence",
        )
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?)))
            .collect()
    }

    /// The current head, outside any append (for readers).
    pub async fn head(&self) -> Result<Head, StorageError> {
        let mut tx = self.pool().begin().await?;
        let head = read_head_in(&mut tx).await?;
        tx.commit().await?;
        Ok(head)
    }

    pub async fn get(&self, sequence: u64) -> Result<Option<StoredRecord>, StorageError> {
        let sql = "SELECT sequence, recorded_at, actor_kind, actor_id, actor_role, action, \
                   subject_type, subject_id, outcome, reason, service, trace_id, detail, \
                   leaf_hash, signature FROM audit_records WHERE sequence = $1";
        let row = sqlx::query(sql)
            .bind(sequence as i64)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Records matching `filter` with a sequence above `after` (or from 0), in order.
    pub async fn list(
        &self,
        filter: &ListFilter,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredRecord>, StorageError> {
        list_on(self.pool(), filter, after, limit).await
    }

    /// The log as it is now, records and checkpoints together, for verification and export.
    pub async fn snapshot(&self) -> Result<Snapshot, StorageError> {
        Ok(Snapshot {
            tx: self.store.begin_snapshot().await?,
        })
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        let row = sqlx::query(
            "SELECT tree_size, root_hash, note FROM audit_checkpoints \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(StoredCheckpoint {
                tree_size: row.try_get::<i64, _>(0)? as u64,
                root: row.try_get(1)?,
                note: row.try_get(2)?,
            })
        })
        .transpose()
    }

    /// The signature stored with record `sequence`: the signature of the head at its size.
    pub async fn signature(&self, sequence: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let row = sqlx::query("SELECT signature FROM audit_records WHERE sequence = $1")
            .bind(sequence as i64)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }
}

/// One consistent view of the log: records and checkpoints read in one read-only transaction,
/// so a log appended to while it is read is seen as it was at one instant — a checkpoint never
/// covers a record the snapshot does not hold.
#[derive(Debug)]
pub struct Snapshot {
    tx: Transaction<'static, Any>,
}

impl Snapshot {
    /// Up to `limit` records from sequence `from` on, in order.
    pub async fn page(&mut self, from: u64, limit: u32) -> Result<Vec<StoredRecord>, StorageError> {
        list_on(
            &mut *self.tx,
            &ListFilter::default(),
            from.checked_sub(1),
            limit,
        )
        .await
    }

    /// Every published checkpoint, smallest first.
    pub async fn checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, StorageError> {
        let rows = sqlx::query(
            "SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredCheckpoint {
                    tree_size: row.try_get::<i64, _>(0)? as u64,
                    root: row.try_get(1)?,
                    note: row.try_get(2)?,
                })
            })
            .collect()
    }
}

/// Records matching `filter` with a sequence above `after` (or from 0), in order, read on
/// `on` (the pool, or a snapshot's transaction).
async fn list_on<'e>(
    on: impl Executor<'e, Database = Any>,
    filter: &ListFilter,
    after: Option<u64>,
    limit: u32,
) -> Result<Vec<StoredRecord>, StorageError> {
    let sql = "SELECT sequence, recorded_at, actor_kind, actor_id, actor_role, action, \
               subject_type, subject_id, outcome, reason, service, trace_id, detail, \
               leaf_hash, signature FROM audit_records \
               WHERE sequence > $1 \
               AND ($2 = '' OR actor_id = $2) \
               AND ($3 = '' OR action = $3) \
               AND ($4 = '' OR subject_type = $4) \
               AND ($5 = '' OR subject_id = $5) \
               AND ($6 = 0 OR recorded_at >= $6) \
               AND ($7 = 0 OR recorded_at < $7) \
               ORDER BY sequence LIMIT $8";
    let rows = sqlx::query(sql)
        .bind(after.map_or(-1, |after| after as i64))
        .bind(&filter.actor_id)
        .bind(&filter.action)
        .bind(&filter.subject_type)
        .bind(&filter.subject_id)
        .bind(filter.recorded_from)
        .bind(filter.recorded_before)
        .bind(i64::from(limit))
        .fetch_all(on)
        .await?;
    rows.iter().map(decode).collect()
}

/// The head of the log as seen inside `tx`.
pub async fn read_head_in(tx: &mut Transaction<'static, Any>) -> Result<Head, StorageError> {
    let mut head = Head::default();
    if let Some(row) = sqlx::query(
        "SELECT sequence, recorded_at, signature FROM audit_records \
         ORDER BY sequence DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?
    {
        head.size = row.try_get::<i64, _>(0)? as u64 + 1;
        head.last_recorded_at = row.try_get(1)?;
        head.last_signature = row.try_get(2)?;
    }
    if let Some(row) = sqlx::query(
        "SELECT tree_size, published_at FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?
    {
        head.last_checkpoint_size = row.try_get::<i64, _>(0)? as u64;
        head.last_checkpoint_at = row.try_get(1)?;
    }
    Ok(head)
}

fn decode(row: &AnyRow) -> Result<StoredRecord, StorageError> {
    let sequence: i64 = row.try_get("sequence")?;
    let corrupt = |problem: &str| StorageError::Corrupt {
        sequence,
        problem: problem.to_owned(),
    };
    let actor_kind: String = row.try_get("actor_kind")?;
    let action: String = row.try_get("action")?;
    let outcome: String = row.try_get("outcome")?;
    let reason: String = row.try_get("reason")?;
    let detail: String = row.try_get("detail")?;
    let record = AuditRecord {
        sequence: u64::try_from(sequence).map_err(|_| corrupt("negative sequence"))?,
        recorded_at: row.try_get("recorded_at")?,
        entry: AuditEntry {
            actor: Actor {
                kind: ActorKind::from_code(&actor_kind)
                    .ok_or_else(|| corrupt("unknown actor kind"))?,
                id: row.try_get("actor_id")?,
                role: row.try_get("actor_role")?,
            },
            action: Action::from_code(&action).ok_or_else(|| corrupt("unknown action"))?,
            subject: Subject {
                kind: row.try_get("subject_type")?,
                id: row.try_get("subject_id")?,
            },
            outcome: match outcome.as_str() {
                "success" => Outcome::Success,
                "failure" => Outcome::Failure(reason),
                _ => return Err(corrupt("unknown outcome")),
            },
            service: row.try_get("service")?,
            trace_id: row.try_get("trace_id")?,
            detail: serde_json::from_str::<BTreeMap<String, String>>(&detail)
                .map_err(|_| corrupt("detail is not a JSON object of strings"))?,
        },
    };
    Ok(StoredRecord {
        record,
        leaf_hash: row.try_get("leaf_hash")?,
        signature: row.try_get("signature")?,
    })
}
