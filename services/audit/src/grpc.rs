//! gRPC handlers of `sentinel.audit.v1.AuditLog`: validate, identify the caller, call the
//! domain, map the error.

use sentinel_contract::audit::v1::{
    self as pb,
    audit_log_server::{AuditLog, AuditLogServer},
};
use sentinel_platform::Store;

/// The `AuditLog` service over its store.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    #[allow(dead_code)] // read by the RPCs its issue adds
    store: Store,
}

#[tonic::async_trait]
impl AuditLog for AuditLogApi {
    async fn append(
        &self,
        _: tonic::Request<pb::AppendRequest>,
    ) -> Result<tonic::Response<pb::AppendResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
    async fn list(
        &self,
        _: tonic::Request<pb::ListRequest>,
    ) -> Result<tonic::Response<pb::ListResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
    async fn get(
        &self,
        _: tonic::Request<pb::GetRequest>,
    ) -> Result<tonic::Response<pb::GetResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
    async fn verify(
        &self,
        _: tonic::Request<pb::VerifyRequest>,
    ) -> Result<tonic::Response<pb::VerifyResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
    async fn latest_checkpoint(
        &self,
        _: tonic::Request<pb::LatestCheckpointRequest>,
    ) -> Result<tonic::Response<pb::Checkpoint>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
    async fn prove_inclusion(
        &self,
        _: tonic::Request<pb::ProveInclusionRequest>,
    ) -> Result<tonic::Response<pb::InclusionProof>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
    async fn prove_consistency(
        &self,
        _: tonic::Request<pb::ProveConsistencyRequest>,
    ) -> Result<tonic::Response<pb::ConsistencyProof>, tonic::Status> {
        Err(tonic::Status::unimplemented("wip"))
    }
}

/// The tonic service, ready to mount on a server.
pub fn server(store: Store) -> AuditLogServer<AuditLogApi> {
    AuditLogServer::new(AuditLogApi { store })
}
