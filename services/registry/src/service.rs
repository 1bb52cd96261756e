//! The device registry as a whole. It starts in two steps because every other service's
//! identity comes from it: [`RegistryService::prepare`] mints the credential this process's
//! services present to each other and makes sure a first admin exists; [`RegistryService::start`]
//! then serves, once the suite has connected its peers with that credential.

use std::sync::Arc;

use sentinel_contract::registry::v1::device_registry_server::DeviceRegistryServer;
use sentinel_platform::{
    Config, ServiceError, ServiceKind, Started, Store, gate::Authenticator, peer::Peers,
};

use crate::{
    credentials::Credentials,
    grpc::{self, DeviceRegistryApi},
    identities::{Identities, IdentitiesError},
    oidc::{KeyError, SignIn},
    registry::Registry,
    storage::RegistryStore,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare callers' identity: {0}")]
    Identity(#[from] ServiceError),
    #[error(transparent)]
    Identities(#[from] IdentitiesError),
    #[error(transparent)]
    SignIn(#[from] KeyError),
    #[error("registry.bootstrap_admin_token_file: cannot read {path}: {source}")]
    BootstrapFile {
        path: String,
        source: std::io::Error,
    },
}

/// A prepared registry: its credentials and the credential of this process's services.
#[derive(Debug)]
pub struct RegistryService {
    credentials: Credentials,
    internal: String,
}

impl RegistryService {
    /// Makes sure of the bootstrap identities, takes this process's service credential (the
    /// configured one, or one minted for this process) and makes sure an admin can call the API.
    pub async fn prepare(config: &Config, store: Store) -> Result<RegistryService, StartError> {
        let mut credentials = Credentials::new(RegistryStore::new(store));
        if let Some(oidc) = &config.registry.oidc {
            let sign_in = SignIn::start(oidc).await?;
            credentials = credentials.with_sign_in(Arc::new(sign_in));
            tracing::info!(issuer = %oidc.issuer, "sign-in with the identity provider's tokens on");
        }
        if let Some(path) = &config.registry.identities_file {
            let ensured = credentials
                .ensure_identities(&Identities::read(path)?)
                .await?;
            tracing::info!(
                inserted = ensured.inserted,
                revoked = ensured.revoked,
                "bootstrap identities in place"
            );
        }
        // A configured identity is shared by replicas; only the one-process suite mints its own.
        let internal = match &config.service_token {
            Some(token) => token.expose().to_owned(),
            None => credentials.mint_internal().await?.bearer(),
        };
        let configured = bootstrap_token(config)?;
        if let Some(path) = credentials
            .ensure_bootstrap_admin(configured.as_deref(), &config.data_dir)
            .await?
        {
            // The path only: the secret never reaches a log.
            tracing::info!(path = %path.display(), "first admin credential written; present it as `authorization: Bearer <contents>`");
        }
        Ok(RegistryService {
            credentials,
            internal,
        })
    }

    /// The credential this process's services present to each other (role `service`).
    pub fn internal_credential(&self) -> &str {
        &self.internal
    }

    /// Checks callers against the registry's own store, without a call.
    pub fn authenticator(&self) -> Arc<dyn Authenticator> {
        Arc::new(self.credentials.clone())
    }

    /// Serves the registry; denials and changes are audited through `peers`.
    pub fn start(self, peers: &Peers) -> Started<DeviceRegistryServer<DeviceRegistryApi>> {
        let registry = Registry::new(self.credentials, peers.trail(ServiceKind::Registry));
        Started {
            server: grpc::server(registry, peers.gate(ServiceKind::Registry)),
            tasks: Vec::new(),
            condition: None,
        }
    }
}

/// The configured first admin credential, given verbatim or in a file.
fn bootstrap_token(config: &Config) -> Result<Option<String>, StartError> {
    if let Some(token) = &config.registry.bootstrap_admin_token {
        return Ok(Some(token.expose().to_owned()));
    }
    match &config.registry.bootstrap_admin_token_file {
        Some(path) => std::fs::read_to_string(path)
            .map(|t| Some(t.trim().to_owned()))
            .map_err(|source| StartError::BootstrapFile {
                path: path.display().to_string(),
                source,
            }),
        None => Ok(None),
    }
}
