//! Credentials as the registry keeps them: issued with a random secret shown once, stored as a
//! digest, checked in constant time on every call (so a revocation takes effect at once).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use sentinel_platform::{
    ServiceError,
    auth::{Caller, CallerKind, Identified, Refusal, Role, Token, looks_like_jwt},
    gate::Authenticator,
    private_file::write_private,
    store::Backend,
    time::now_micros,
};

use crate::{
    oidc::SignIn,
    storage::{RegistryStore, StoredCredential},
};

/// The principal the suite's own services act as when they run in one process.
pub const INTERNAL_PRINCIPAL: &str = "sentinel-internal";

#[derive(Debug, Clone)]
pub struct Credentials {
    store: RegistryStore,
    sign_in: Option<Arc<SignIn>>,
}

impl Credentials {
    pub fn new(store: RegistryStore) -> Self {
        Credentials {
            store,
            sign_in: None,
        }
    }

    /// Also accepts the hospital identity provider's tokens, as `sign_in` checks them.
    pub fn with_sign_in(self, sign_in: Arc<SignIn>) -> Self {
        Credentials {
            sign_in: Some(sign_in),
            ..self
        }
    }

    pub fn store(&self) -> &RegistryStore {
        &self.store
    }

    /// The stored form of a new credential for `token`.
    pub fn stored(
        token: &Token,
        kind: CallerKind,
        principal_id: &str,
        roles: &[Role],
    ) -> StoredCredential {
        StoredCredential {
            id: token.id.clone(),
            principal_kind: kind.code().to_owned(),
            principal_id: principal_id.to_owned(),
            roles: roles.iter().map(|r| r.code().to_owned()).collect(),
            digest: token.digest(),
            issued_at: now_micros(),
            revoked_at: None,
            replaced_by: String::new(),
            expires_at: None,
        }
    }

    /// A fresh credential for the suite's own services, when none is configured. Its secret
    /// lives only in this process's memory. On the embedded store, which one process owns, the
    /// previous run's is revoked; on PostgreSQL, where replicas share the store, none is — a
    /// replica must never revoke another's (replicated deployments use the identities of
    /// `sentinel bootstrap`).
    pub async fn mint_internal(&self) -> Result<Token, ServiceError> {
        let token = Token::generate()?;
        let mut tx = self.store.begin().await?;
        if self.store.backend() == Backend::Sqlite {
            for old in self.store.credentials(INTERNAL_PRINCIPAL, false).await? {
                RegistryStore::revoke(&mut tx, &old.id, now_micros(), &token.id).await?;
            }
        }
        let stored = Credentials::stored(
            &token,
            CallerKind::Service,
            INTERNAL_PRINCIPAL,
            &[Role::Service],
        );
        RegistryStore::insert_credential(&mut tx, &stored).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(token)
    }

    /// Makes sure an admin can call the API: the configured bootstrap credential, or — when
    /// none is configured and no admin credential exists — a generated one written to a file
    /// only its owner can read in `data_dir`. Returns that file's path when one was written.
    pub async fn ensure_bootstrap_admin(
        &self,
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<Option<PathBuf>, ServiceError> {
        if let Some(text) = configured {
            let token = Token::parse(text).ok_or_else(|| {
                ServiceError::field("registry.bootstrap_admin_token", "must not be empty")
            })?;
            if token.secret.len() < 24 {
                return Err(ServiceError::field(
                    "registry.bootstrap_admin_token",
                    "must be at least 24 characters",
                ));
            }
            return match self.store.credential(&token.id).await? {
                Some(existing)
                    if existing.revoked_at.is_none() && existing.digest.matches(&token.secret) =>
                {
                    Ok(None)
                }
                Some(_) => Err(ServiceError::FailedPrecondition(format!(
                    "credential {} exists with another secret or was revoked: issue a new admin credential through the API",
                    token.id
                ))),
                None => {
                    let mut tx = self.store.begin().await?;
                    let stored =
                        Credentials::stored(&token, CallerKind::User, "admin", &[Role::Admin]);
                    RegistryStore::insert_credential(&mut tx, &stored).await?;
                    tx.commit().await.map_err(ServiceError::from)?;
                    Ok(None)
                }
            };
        }
        let has_admin = self
            .store
            .credentials("", false)
            .await?
            .iter()
            .any(|c| c.roles.iter().any(|r| r == Role::Admin.code()));
        if has_admin {
            return Ok(None);
        }
        let token = Token::generate()?;
        let path = data_dir.join("admin.token");
        write_private(&path, &token.bearer()).map_err(|e| {
            ServiceError::Unavailable(format!(
                "cannot write the first admin credential to {} ({e}); set registry.bootstrap_admin_token",
                path.display()
            ))
        })?;
        let mut tx = self.store.begin().await?;
        let stored = Credentials::stored(&token, CallerKind::User, "admin", &[Role::Admin]);
        RegistryStore::insert_credential(&mut tx, &stored).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(Some(path))
    }

    /// Who `bearer` stands for: a token of the identity provider, or a live, unexpired
    /// Sentinel credential whose secret matches; otherwise why it is refused.
    pub async fn identify(&self, bearer: &str) -> Result<Identified, ServiceError> {
        if looks_like_jwt(bearer) {
            return Ok(match &self.sign_in {
                Some(sign_in) => sign_in.identify(bearer).await,
                None => Err(Refusal::SignInOff),
            });
        }
        let Some(token) = Token::parse(bearer) else {
            return Ok(Err(Refusal::UnknownOrRevoked));
        };
        let live = self
            .store
            .credential(&token.id)
            .await?
            .filter(|c| c.revoked_at.is_none() && c.digest.matches(&token.secret));
        Ok(match live {
            Some(c) if c.expires_at.is_some_and(|at| at <= now_micros()) => Err(Refusal::Expired),
            Some(c) => caller(&c).ok_or(Refusal::UnknownOrRevoked),
            None => Err(Refusal::UnknownOrRevoked),
        })
    }
}

/// The caller a stored credential stands for.
pub fn caller(credential: &StoredCredential) -> Option<Caller> {
    Some(Caller {
        kind: CallerKind::from_code(&credential.principal_kind)?,
        id: credential.principal_id.clone(),
        roles: credential
            .roles
            .iter()
            .filter_map(|r| Role::from_code(r))
            .collect(),
        credential_id: credential.id.clone(),
    })
}

#[tonic::async_trait]
impl Authenticator for Credentials {
    async fn authenticate(&self, bearer: &str) -> Result<Identified, ServiceError> {
        self.identify(bearer).await
    }
}
