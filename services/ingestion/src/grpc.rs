//! gRPC handlers of `sentinel.ingestion.v1.ReadingIngestion`: validate, identify the caller, call the
//! domain, map the error.

use sentinel_contract::ingestion::v1::reading_ingestion_server::{
    ReadingIngestion, ReadingIngestionServer,
};
use sentinel_platform::Store;

/// The `ReadingIngestion` service over its store.
#[derive(Debug, Clone)]
pub struct ReadingIngestionApi {
    #[allow(dead_code)] // read by the RPCs its issue adds
    store: Store,
}

impl ReadingIngestion for ReadingIngestionApi {}

/// The tonic service, ready to mount on a server.
pub fn server(store: Store) -> ReadingIngestionServer<ReadingIngestionApi> {
    ReadingIngestionServer::new(ReadingIngestionApi { store })
}
