//! The identities a deployment is bootstrapped with (`identities.toml`, written by
//! `sentinel bootstrap`): each service's own credential and the first admin's, as ids, roles
//! and SHA-256 digests — never a secret, so the file may be mounted where the secrets are not.
//! The registry makes sure of them at every start: a credential listed is inserted if absent
//! (several replicas may start at once), one listed as revoked is revoked. Nothing else is
//! touched, so replicas starting or restarting never revoke one another.

use std::path::Path;

use sentinel_platform::{
    ServiceError,
    auth::{CallerKind, Role, SecretDigest, Token},
    time::now_micros,
};
use serde::{Deserialize, Serialize};

use crate::{
    credentials::Credentials,
    storage::{RegistryStore, StoredCredential},
};

/// The contents of `identities.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identities {
    /// Credentials every start makes sure exist.
    #[serde(default)]
    pub credential: Vec<Identity>,
    /// Ids of credentials replaced by a rotation: revoked at start.
    #[serde(default)]
    pub revoked: Vec<String>,
}

/// One credential, as the registry stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub id: String,
    /// `service` or `user`.
    pub kind: String,
    /// The principal it stands for, e.g. `sentinel-ingestion` or `admin`.
    pub principal: String,
    pub roles: Vec<String>,
    /// SHA-256 of the secret, hex.
    pub sha256: String,
}

impl Identity {
    /// The listed form of `token`, held by `principal` of `kind` in `roles`.
    pub fn of(token: &Token, kind: CallerKind, principal: &str, roles: &[Role]) -> Identity {
        Identity {
            id: token.id.clone(),
            kind: kind.code().to_owned(),
            principal: principal.to_owned(),
            roles: roles.iter().map(|r| r.code().to_owned()).collect(),
            sha256: hex::encode(token.digest().as_bytes()),
        }
    }

    fn stored(&self) -> Result<StoredCredential, String> {
        let kind = CallerKind::from_code(&self.kind)
            .ok_or_else(|| format!("credential {}: unknown kind `{}`", self.id, self.kind))?;
        if let Some(role) = self.roles.iter().find(|r| Role::from_code(r).is_none()) {
            return Err(format!("credential {}: unknown role `{role}`", self.id));
        }
        let digest = hex::decode(&self.sha256)
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| format!("credential {}: sha256 is not 64 hex digits", self.id))?;
        Ok(StoredCredential {
            id: self.id.clone(),
            principal_kind: kind.code().to_owned(),
            principal_id: self.principal.clone(),
            roles: self.roles.clone(),
            digest: SecretDigest::from_bytes(digest),
            issued_at: now_micros(),
            revoked_at: None,
            replaced_by: String::new(),
            expires_at: None,
        })
    }
}

/// Why an identities file was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentitiesError {
    #[error("registry.identities_file: cannot read {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("registry.identities_file: {path} is malformed: {problem}")]
    Malformed { path: String, problem: String },
    #[error(transparent)]
    Store(#[from] ServiceError),
}

impl Identities {
    pub fn read(path: &Path) -> Result<Identities, IdentitiesError> {
        let text = std::fs::read_to_string(path).map_err(|source| IdentitiesError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
        Identities::parse(&text).map_err(|problem| IdentitiesError::Malformed {
            path: path.display().to_string(),
            problem,
        })
    }

    pub fn parse(text: &str) -> Result<Identities, String> {
        let identities: Identities = toml::from_str(text).map_err(|e| e.to_string())?;
        for identity in &identities.credential {
            identity.stored()?;
        }
        Ok(identities)
    }

    /// The file's text, with a header saying what it is.
    pub fn to_toml(&self) -> Result<String, String> {
        let body = toml::to_string(self).map_err(|e| e.to_string())?;
        Ok(format!(
            "# Written by `sentinel bootstrap`: the registry makes sure of these credentials at\n\
             # every start. Digests only — no secret is in this file.\n\n{body}"
        ))
    }
}

/// What making sure of the identities changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ensured {
    pub inserted: usize,
    pub revoked: usize,
}

impl Credentials {
    /// Inserts the listed credentials that are absent and revokes the ones listed as revoked,
    /// in one transaction. A listed id stored with another digest is refused: the file and the
    /// database disagree about who holds it.
    pub async fn ensure_identities(
        &self,
        identities: &Identities,
    ) -> Result<Ensured, IdentitiesError> {
        let mut ensured = Ensured::default();
        let mut tx = self.store().begin().await?;
        for identity in &identities.credential {
            let stored = identity
                .stored()
                .map_err(|problem| IdentitiesError::Malformed {
                    path: "registry.identities_file".into(),
                    problem,
                })?;
            if RegistryStore::insert_credential_if_absent(&mut tx, &stored).await? {
                ensured.inserted += 1;
                continue;
            }
            match self.store().credential(&stored.id).await? {
                Some(existing) if existing.digest == stored.digest => {}
                _ => {
                    return Err(ServiceError::FailedPrecondition(format!(
                        "credential {} is stored with another secret: run `sentinel bootstrap --rotate` or issue it anew",
                        stored.id
                    ))
                    .into());
                }
            }
        }
        for id in &identities.revoked {
            if RegistryStore::revoke(&mut tx, id, now_micros(), "").await? {
                ensured.revoked += 1;
            }
        }
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(ensured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_round_trip_and_hold_no_secret() {
        let token = Token::generate().unwrap();
        let identities = Identities {
            credential: vec![Identity::of(
                &token,
                CallerKind::Service,
                "sentinel-rules",
                &[Role::Service],
            )],
            revoked: vec!["cred-old".into()],
        };
        let text = identities.to_toml().unwrap();
        assert!(!text.contains(&token.secret));
        assert_eq!(Identities::parse(&text).unwrap(), identities);
    }

    #[test]
    fn malformed_entries_are_refused() {
        let bad_digest = "[[credential]]\nid = \"c\"\nkind = \"service\"\nprincipal = \"p\"\nroles = [\"service\"]\nsha256 = \"abc\"\n";
        assert!(
            Identities::parse(bad_digest)
                .unwrap_err()
                .contains("sha256")
        );
        let bad_role = bad_digest.replace("[\"service\"]", "[\"root\"]");
        assert!(Identities::parse(&bad_role).unwrap_err().contains("role"));
    }
}
