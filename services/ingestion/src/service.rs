//! Reading ingestion as a whole: the ingestor over its store, asking the device registry about
//! devices and recording batches in the audit log, both through `peers`.

use std::sync::Arc;

use sentinel_contract::ingestion::v1::reading_ingestion_server::ReadingIngestionServer;
use sentinel_platform::{Config, ServiceKind, Started, Store, peer::Peers};
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
    let ingestor = Ingestor::new(
        ReadingStore::new(store),
        Arc::new(RegistryDirectory::new(peers.registry.clone())),
        peers.trail(ServiceKind::Ingestion),
        config.ingestion.clone(),
        shutdown,
    );
    Started {
        server: grpc::server(ingestor, peers.gate(ServiceKind::Ingestion)),
        tasks: Vec::new(),
        condition: None,
    }
}
