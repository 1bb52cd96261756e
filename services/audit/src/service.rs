//! The audit service as a whole: its chain, the writer and checkpoint tasks.

use std::sync::Arc;

use crate::witness::WitnessFile;

use sentinel_contract::audit::v1::audit_log_server::AuditLogServer;
use sentinel_platform::{Config, ServiceKind, Started, Store, health, peer::Peers};
use tokio::sync::watch;

use crate::{
    appender::{self, Appender},
    chain::{AuditChain, Cadence},
    grpc::{self, AuditLogApi},
    keys::{self, KeyError},
    storage::AuditStore,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The audit service is ready only while its log can take records.
#[derive(Debug)]
struct LogState(Arc<AuditChain>);

impl health::Condition for LogState {
    fn problem(&self) -> Option<String> {
        self.0.problem()
    }
}

/// A running audit service.
#[derive(Debug, Clone)]
pub struct AuditService {
    pub chain: Arc<AuditChain>,
    pub appender: Appender,
}

impl AuditService {
    /// Loads the signing key, opens the chain over `store` and serves it, with the writer and
    /// the checkpoint timer, which stops when `shutdown` changes. Callers are admitted through
    /// `peers`.
    pub async fn start(
        config: &Config,
        store: Store,
        peers: &Peers,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Started<AuditLogServer<AuditLogApi>>, StartError> {
        let signer = keys::load_signer(&config.audit, &config.data_dir)?;
        let cadence = Cadence {
            every_records: config.audit.checkpoint_every_records,
            every: config.audit.checkpoint_every(),
        };
        let witness = config.audit.witness_file.clone().map(WitnessFile::new);
        let chain = Arc::new(
            AuditChain::open(AuditStore::new(store), signer, cadence)
                .await
                .witnessed_by(witness),
        );
        let (appender, writer) = Appender::spawn(chain.clone());
        let timer = appender::spawn_checkpoints(chain.clone(), cadence.every, shutdown);
        let service = AuditService {
            chain: chain.clone(),
            appender,
        };
        Ok(Started {
            server: grpc::server(service, peers.gate(ServiceKind::Audit)),
            tasks: vec![writer, timer],
            condition: Some(Arc::new(LogState(chain))),
        })
    }
}
