//! Reading ingestion as a whole: the ingestor over its store, asking the device registry about
//! devices and recording batches in the audit log, both through `peers`; records kept while the
//! audit log was out are appended by the outbox drain once it is back.

use std::sync::Arc;

use sentinel_contract::ingestion::v1::reading_ingestion_server::ReadingIngestionServer;
use sentinel_platform::{Config, ServiceKind, Started, Store, audit_outbox, peer::Peers};
use tokio::sync::watch;

use crate::{
    directory::RegistryDirectory,
    grpc::{self, ReadingIngestionApi},
    ingestor::Ingestor,
    storage::ReadingStore,
};

/// Serves reading ingestion over `store` until `shutdown` (open follower streams end then).
pub fn start(
    config: &Config,
    store: Store,
    peers: &Peers,
    shutdown: watch::Receiver<bool>,
) -> Started<ReadingIngestionServer<ReadingIngestionApi>> {
    let trail = peers.trail(ServiceKind::Ingestion);
    let drain = audit_outbox::spawn_drain(store.clone(), trail.clone(), shutdown.clone());
    let ingestor = Ingestor::new(
        ReadingStore::new(store),
        Arc::new(RegistryDirectory::new(peers.registry.clone())),
        trail,
        config.ingestion.clone(),
        shutdown,
    );
    Started {
        server: grpc::server(ingestor, peers.gate(ServiceKind::Ingestion)),
        tasks: vec![drain],
        condition: None,
    }
}
