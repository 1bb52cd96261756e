//! The `credentials` table: who holds which roles, by a digest of their secret; revocations
//! and what replaced them.

use sentinel_platform::{ServiceError, auth::SecretDigest};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::RegistryStore;

/// A stored credential: never the secret, only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    pub id: String,
    pub principal_kind: String,
    pub principal_id: String,
    pub roles: Vec<String>,
    pub digest: SecretDigest,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    pub replaced_by: String,
    /// From when it is refused (µs); `None`: valid until revoked.
    pub expires_at: Option<i64>,
}

impl RegistryStore {
    pub async fn insert_credential(
        tx: &mut Transaction<'static, Any>,
        credential: &StoredCredential,
    ) -> Result<(), ServiceError> {
        insert(tx, credential, INSERT_CREDENTIAL).await.map(|_| ())
    }

    /// Inserts `credential` unless one with its id exists (a replica inserted it first);
    /// whether this call inserted it.
    pub async fn insert_credential_if_absent(
        tx: &mut Transaction<'static, Any>,
        credential: &StoredCredential,
    ) -> Result<bool, ServiceError> {
        insert(tx, credential, INSERT_CREDENTIAL_IF_ABSENT)
            .await
            .map(|rows| rows == 1)
    }

    pub async fn credential(&self, id: &str) -> Result<Option<StoredCredential>, ServiceError> {
        let row = sqlx::query(
            "SELECT id, principal_kind, principal_id, roles, secret_digest, issued_at, revoked_at, \
             replaced_by, expires_at FROM credentials WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref().map(decode_credential).transpose()
    }

    pub async fn credentials(
        &self,
        principal_id: &str,
        include_revoked: bool,
    ) -> Result<Vec<StoredCredential>, ServiceError> {
        let rows = sqlx::query(
            "SELECT id, principal_kind, principal_id, roles, secret_digest, issued_at, revoked_at, \
             replaced_by, expires_at FROM credentials WHERE ($1 = '' OR principal_id = $1) \
             AND ($2 = 1 OR revoked_at IS NULL) ORDER BY id",
        )
        .bind(principal_id)
        .bind(i64::from(include_revoked))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(decode_credential).collect()
    }

    /// Revokes a live credential; `false` when it was unknown or already revoked.
    pub async fn revoke(
        tx: &mut Transaction<'static, Any>,
        id: &str,
        at: i64,
        replaced_by: &str,
    ) -> Result<bool, ServiceError> {
        let done = sqlx::query(
            "UPDATE credentials SET revoked_at = $2, replaced_by = $3 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .bind(replaced_by)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

macro_rules! insert_credential_sql {
    () => {
        "INSERT INTO credentials (id, principal_kind, principal_id, roles, secret_digest, \
         issued_at, revoked_at, replaced_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, '', $7)"
    };
}
const INSERT_CREDENTIAL: &str = insert_credential_sql!();
const INSERT_CREDENTIAL_IF_ABSENT: &str =
    concat!(insert_credential_sql!(), " ON CONFLICT (id) DO NOTHING");

async fn insert(
    tx: &mut Transaction<'static, Any>,
    credential: &StoredCredential,
    sql: &'static str,
) -> Result<u64, ServiceError> {
    let done = sqlx::query(sql)
        .bind(&credential.id)
        .bind(&credential.principal_kind)
        .bind(&credential.principal_id)
        .bind(credential.roles.join(","))
        .bind(credential.digest.as_bytes().to_vec())
        .bind(credential.issued_at)
        .bind(credential.expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

fn decode_credential(row: &AnyRow) -> Result<StoredCredential, ServiceError> {
    let roles: String = row.try_get(3)?;
    Ok(StoredCredential {
        id: row.try_get(0)?,
        principal_kind: row.try_get(1)?,
        principal_id: row.try_get(2)?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        digest: SecretDigest::from_bytes(row.try_get(4)?),
        issued_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
        replaced_by: row.try_get(7)?,
        expires_at: row.try_get(8)?,
    })
}
