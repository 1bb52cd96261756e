//! The audit service as a whole: its chain, the writer and checkpoint tasks.

use std::{path::Path, sync::Arc};

use sentinel_platform::{Store, config::AuditConfig};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    appender::{self, Appender},
    chain::{AuditChain, Cadence, ChainError},
    keys::{self, KeyError},
    storage::AuditStore,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot open the audit log: {0}")]
    Chain(#[from] ChainError),
}

/// A running audit service.
#[derive(Debug, Clone)]
pub struct AuditService {
    pub chain: Arc<AuditChain>,
    pub appender: Appender,
}

impl AuditService {
    /// Loads the signing key, opens the chain over `store` and starts the writer and the
    /// checkpoint timer, which stops when `shutdown` changes.
    pub async fn start(
        store: Store,
        config: &AuditConfig,
        data_dir: &Path,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(AuditService, Vec<JoinHandle<()>>), StartError> {
        let signer = keys::load_signer(config, data_dir)?;
        let cadence = Cadence {
            every_records: config.checkpoint_every_records,
            every: config.checkpoint_every(),
        };
        let chain = Arc::new(AuditChain::open(AuditStore::new(store), signer, cadence).await?);
        let (appender, writer) = Appender::spawn(chain.clone());
        let timer = appender::spawn_checkpoints(chain.clone(), cadence.every, shutdown);
        Ok((AuditService { chain, appender }, vec![writer, timer]))
    }
}
