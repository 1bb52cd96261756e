//! gRPC handlers of `sentinel.audit.v1.AuditLog`: validate, identify the caller, call the
//! domain, map the error.

use sentinel_contract::audit::v1::audit_log_server::{AuditLog, AuditLogServer};
use sentinel_platform::Store;

/// The `AuditLog` service over its store.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    #[allow(dead_code)] // read by the RPCs its issue adds
    store: Store,
}

impl AuditLog for AuditLogApi {}

/// The tonic service, ready to mount on a server.
pub fn server(store: Store) -> AuditLogServer<AuditLogApi> {
    AuditLogServer::new(AuditLogApi { store })
}
