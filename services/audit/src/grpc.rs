//! gRPC handlers of `sentinel.audit.v1.AuditLog`: validate, call the chain, map the error.

mod convert;

pub use convert::audit_record;

use sentinel_contract::audit::v1::{
    self as pb,
    audit_log_server::{AuditLog, AuditLogServer},
};
use sentinel_platform::{
    ServiceError,
    auth::Role::{self, Admin, Quality, Service},
    gate::Gatekeeper,
    page::Page,
    time::checked_range,
};
use tonic::{Request, Response, Status};

use crate::{
    AuditService,
    domain::{fhir, verify::Verdict},
    storage::ListFilter,
};

pub use convert::{micros, timestamp};

/// Who may read the log: quality (the auditors), admins, and Sentinel's own services.
const READERS: &[Role] = &[Quality, Admin, Service];

/// The `AuditLog` service over the running audit service.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    service: AuditService,
    gate: Gatekeeper,
}

/// The tonic service, ready to mount on a server.
pub fn server(service: AuditService, gate: Gatekeeper) -> AuditLogServer<AuditLogApi> {
    AuditLogServer::new(AuditLogApi { service, gate })
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl AuditLog for AuditLogApi {
    #[tracing::instrument(skip_all)]
    async fn append(&self, request: Request<pb::AppendRequest>) -> Reply<pb::AppendResponse> {
        self.gate.admit(&request, "Append", &[Service]).await?;
        let entry = convert::entry(request.into_inner().entry)?;
        let action = entry.action.code();
        let stored = self
            .service
            .appender
            .append(entry)
            .await
            .map_err(convert::append_error)?;
        tracing::debug!(
            sequence = stored.record.sequence,
            action,
            "audit record appended"
        );
        Ok(Response::new(pb::AppendResponse {
            record: Some(convert::record(&stored)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self, request: Request<pb::ListRequest>) -> Reply<pb::ListResponse> {
        self.gate.admit(&request, "List", READERS).await?;
        let request = request.into_inner();
        let subject = request.subject.unwrap_or_default();
        let (recorded_from, recorded_before) =
            checked_range("recorded", request.recorded.as_ref())?;
        let page = Page::of(request.page);
        let filter = ListFilter {
            actor_id: request.actor_id,
            action: request.action,
            subject_type: subject.r#type,
            subject_id: subject.id,
            recorded_from,
            recorded_before,
        };
        let after = convert::after(&page.token)?;
        let records = self
            .service
            .chain
            .store()
            .list(&filter, after, page.size)
            .await
            .map_err(|err| convert::chain_error(err.into()))?;
        Ok(Response::new(pb::ListResponse {
            records: records.iter().map(convert::record).collect(),
            page: Some(page.next(&records, |last| convert::page_token(last.record.sequence))),
        }))
    }

    #[tracing::instrument(skip_all, fields(sequence = request.get_ref().sequence))]
    async fn get(&self, request: Request<pb::GetRequest>) -> Reply<pb::GetResponse> {
        self.gate.admit(&request, "Get", READERS).await?;
        let sequence = request.into_inner().sequence;
        let stored = self
            .service
            .chain
            .store()
            .get(sequence)
            .await
            .map_err(|err| convert::chain_error(err.into()))?
            .ok_or_else(|| ServiceError::NotFound(format!("audit record {sequence}")))?;
        let fhir = fhir::audit_event(&stored.record, self.service.chain.origin());
        Ok(Response::new(pb::GetResponse {
            record: Some(convert::record(&stored)),
            fhir_audit_event: fhir.to_string(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn verify(&self, request: Request<pb::VerifyRequest>) -> Reply<pb::VerifyResponse> {
        self.gate.admit(&request, "Verify", READERS).await?;
        let request = request.into_inner();
        let from = request.from_sequence.unwrap_or(0);
        if request.to_sequence.is_some_and(|to| to < from) {
            return Err(
                ServiceError::field("to_sequence", "must not be below from_sequence").into(),
            );
        }
        let trusted = match request.trusted_checkpoint.as_str() {
            "" => None,
            _ if request.from_sequence.is_some() || request.to_sequence.is_some() => {
                return Err(ServiceError::field(
                    "trusted_checkpoint",
                    "checks the whole log: give no range with it",
                )
                .into());
            }
            note => Some(self.service.chain.verifier().open(note).map_err(|err| {
                ServiceError::field(
                    "trusted_checkpoint",
                    format!("not a checkpoint signed by this log: {err}"),
                )
            })?),
        };
        let (verdict, checked) = self
            .service
            .chain
            .verify(from, request.to_sequence, trusted)
            .await
            .map_err(convert::chain_error)?;
        let verdict = match verdict {
            Verdict::Intact { size, root } => {
                tracing::info!(size, "audit log verified intact");
                pb::verify_response::Verdict::Intact(pb::Intact {
                    up_to_sequence: size.saturating_sub(1),
                    head_hash: root.to_vec(),
                    tree_size: size,
                })
            }
            Verdict::Broken { sequence, problem } => {
                tracing::error!(sequence, %problem, "audit log verification failed");
                pb::verify_response::Verdict::Broken(pb::Broken {
                    sequence,
                    problem: problem.to_string(),
                })
            }
        };
        Ok(Response::new(pb::VerifyResponse {
            verdict: Some(verdict),
            checked,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn latest_checkpoint(
        &self,
        request: Request<pb::LatestCheckpointRequest>,
    ) -> Reply<pb::Checkpoint> {
        self.gate
            .admit(&request, "LatestCheckpoint", READERS)
            .await?;
        let chain = &self.service.chain;
        let latest = chain
            .store()
            .latest_checkpoint()
            .await
            .map_err(|err| convert::chain_error(err.into()))?
            .ok_or_else(|| ServiceError::NotFound("no checkpoint published yet".to_owned()))?;
        Ok(Response::new(pb::Checkpoint {
            tree_size: latest.tree_size,
            root_hash: latest.root,
            signed_note: latest.note,
            verifier_key: chain.verifier().to_text(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn prove_inclusion(
        &self,
        request: Request<pb::ProveInclusionRequest>,
    ) -> Reply<pb::InclusionProof> {
        self.gate.admit(&request, "ProveInclusion", READERS).await?;
        let request = request.into_inner();
        let chain = &self.service.chain;
        let (stored, path, head) = chain
            .prove_inclusion(request.sequence, request.tree_size)
            .await
            .map_err(convert::chain_error)?;
        Ok(Response::new(pb::InclusionProof {
            sequence: request.sequence,
            leaf_hash: stored.record.leaf_hash().to_vec(),
            path: path.iter().map(|h| h.to_vec()).collect(),
            checkpoint: Some(convert::checkpoint(&head, chain.verifier())),
            record: Some(convert::record(&stored)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn prove_consistency(
        &self,
        request: Request<pb::ProveConsistencyRequest>,
    ) -> Reply<pb::ConsistencyProof> {
        self.gate
            .admit(&request, "ProveConsistency", READERS)
            .await?;
        let request = request.into_inner();
        let chain = &self.service.chain;
        let (path, first, second) = chain
            .prove_consistency(request.first_size, request.second_size)
            .await
            .map_err(convert::chain_error)?;
        Ok(Response::new(pb::ConsistencyProof {
            path: path.iter().map(|h| h.to_vec()).collect(),
            first: Some(convert::checkpoint(&first, chain.verifier())),
            second: Some(convert::checkpoint(&second, chain.verifier())),
        }))
    }
}
