//! gRPC handlers of `sentinel.rules.v1.ClinicalRules`: admit the caller, convert, call the
//! rulebook, answer.

mod convert;

use sentinel_contract::rules::v1::{
    self as pb,
    clinical_rules_server::{ClinicalRules, ClinicalRulesServer},
};
use sentinel_platform::{
    ServiceError,
    auth::Role::{Admin, Clinician, Quality, RuleApprover, RuleAuthor, Service},
    gate::Gatekeeper,
};
use tonic::{Request, Response, Status};

use crate::{domain::lifecycle::Step, rulebook::Rulebook};

/// The `ClinicalRules` service.
#[derive(Debug, Clone)]
pub struct ClinicalRulesApi {
    rulebook: Rulebook,
    gate: Gatekeeper,
}

/// The tonic service, ready to mount on a server.
pub fn server(rulebook: Rulebook, gate: Gatekeeper) -> ClinicalRulesServer<ClinicalRulesApi> {
    ClinicalRulesServer::new(ClinicalRulesApi { rulebook, gate })
}

type Reply<T> = Result<Response<T>, Status>;

const READERS: &[sentinel_platform::auth::Role] =
    &[Clinician, RuleAuthor, RuleApprover, Quality, Admin, Service];

fn required(field: &str, value: &str) -> Result<(), ServiceError> {
    if value.is_empty() {
        return Err(ServiceError::field(field, "is required"));
    }
    Ok(())
}

impl ClinicalRulesApi {
    async fn step(
        &self,
        request: Request<pb::RuleStepRequest>,
        rpc: &'static str,
        roles: &[sentinel_platform::auth::Role],
        step: Step,
    ) -> Reply<pb::RuleVersion> {
        let (caller, role) = self.gate.admit(&request, rpc, roles).await?;
        let request = request.into_inner();
        required("rule_id", &request.rule_id)?;
        let version = self
            .rulebook
            .step(
                &caller,
                role,
                &request.rule_id,
                request.version,
                step,
                &request.reason,
            )
            .await?;
        Ok(Response::new(convert::version(&version)))
    }
}

#[tonic::async_trait]
impl ClinicalRules for ClinicalRulesApi {
    #[tracing::instrument(skip_all)]
    async fn create_draft(
        &self,
        request: Request<pb::CreateDraftRequest>,
    ) -> Reply<pb::RuleVersion> {
        let (caller, role) = self
            .gate
            .admit(&request, "CreateDraft", &[RuleAuthor])
            .await?;
        let request = request.into_inner();
        let definition = convert::definition(request.definition)?;
        let rule_id = Some(request.rule_id.as_str()).filter(|id| !id.is_empty());
        let version = self
            .rulebook
            .create_draft(&caller, role, rule_id, definition)
            .await?;
        Ok(Response::new(convert::version(&version)))
    }

    #[tracing::instrument(skip_all)]
    async fn update_draft(
        &self,
        request: Request<pb::UpdateDraftRequest>,
    ) -> Reply<pb::RuleVersion> {
        let (caller, role) = self
            .gate
            .admit(&request, "UpdateDraft", &[RuleAuthor])
            .await?;
        let request = request.into_inner();
        required("rule_id", &request.rule_id)?;
        let definition = convert::definition(request.definition)?;
        let version = self
            .rulebook
            .update_draft(&caller, role, &request.rule_id, request.version, definition)
            .await?;
        Ok(Response::new(convert::version(&version)))
    }

    async fn submit_rule(&self, request: Request<pb::RuleStepRequest>) -> Reply<pb::RuleVersion> {
        self.step(request, "SubmitRule", &[RuleAuthor], Step::Submit)
            .await
    }

    async fn approve_rule(&self, request: Request<pb::RuleStepRequest>) -> Reply<pb::RuleVersion> {
        self.step(request, "ApproveRule", &[RuleApprover], Step::Approve)
            .await
    }

    async fn reject_rule(&self, request: Request<pb::RuleStepRequest>) -> Reply<pb::RuleVersion> {
        self.step(request, "RejectRule", &[RuleApprover], Step::Reject)
            .await
    }

    async fn activate_rule(&self, request: Request<pb::RuleStepRequest>) -> Reply<pb::RuleVersion> {
        self.step(
            request,
            "ActivateRule",
            &[RuleApprover, Admin],
            Step::Activate,
        )
        .await
    }

    async fn retire_rule(&self, request: Request<pb::RuleStepRequest>) -> Reply<pb::RuleVersion> {
        self.step(request, "RetireRule", &[RuleApprover, Admin], Step::Retire)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn get_rule(&self, request: Request<pb::GetRuleRequest>) -> Reply<pb::Rule> {
        self.gate.admit(&request, "GetRule", READERS).await?;
        let rule_id = request.into_inner().rule_id;
        required("rule_id", &rule_id)?;
        let versions = self.rulebook.store().versions(&rule_id).await?;
        if versions.is_empty() {
            return Err(ServiceError::NotFound(format!("rule {rule_id}")).into());
        }
        Ok(Response::new(pb::Rule {
            rule_id,
            versions: versions.iter().map(convert::version).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_rules(
        &self,
        request: Request<pb::ListRulesRequest>,
    ) -> Reply<pb::ListRulesResponse> {
        self.gate.admit(&request, "ListRules", READERS).await?;
        let wanted = request.into_inner().status();
        let rules = self
            .rulebook
            .store()
            .latest()
            .await?
            .iter()
            .filter(|v| {
                wanted == pb::RuleStatus::Unspecified || convert::status(v.status) == wanted
            })
            .map(convert::version)
            .collect();
        Ok(Response::new(pb::ListRulesResponse { rules }))
    }
}
