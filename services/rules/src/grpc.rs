//! gRPC handlers of `sentinel.rules.v1.ClinicalRules`: admit the caller, convert, call the
//! rulebook, the alert desk or the review, answer.
//!
//! Longer than our usual 400 lines, on purpose: it is the one `impl` of the generated trait,
//! 23 RPCs of a few lines each in the same four steps; the conversions live in `convert`,
//! the orchestration in the service layer (`desk`, `review`), so what is left here is only
//! the list of calls, and splitting it would hide which RPC admits which roles.

mod convert;
mod news2;

use sentinel_contract::rules::v1::{
    self as pb,
    clinical_rules_server::{ClinicalRules, ClinicalRulesServer},
};
use sentinel_platform::{
    ServiceError,
    auth::Role::{Admin, Clinician, Integrator, Quality, RuleApprover, RuleAuthor, Service},
    gate::Gatekeeper,
};
use std::pin::Pin;

use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::{
    desk::{Action, Desk},
    domain::{alert::Routes, lifecycle::Step},
    review::Review,
    rulebook::Rulebook,
};

/// The `ClinicalRules` service.
#[derive(Debug, Clone)]
pub struct ClinicalRulesApi {
    rulebook: Rulebook,
    desk: Desk,
    gate: Gatekeeper,
    /// Changes when the suite shuts down: open watch streams end.
    shutdown: watch::Receiver<bool>,
    /// Backtests and NEWS2 scores over stored readings.
    review: Review,
    /// Who each escalation tier routes to (`rules.tiers`), and technical alerts
    /// (`rules.technical_route`).
    routes: Routes,
}

/// The tonic service, ready to mount on a server.
pub fn server(
    rulebook: Rulebook,
    desk: Desk,
    gate: Gatekeeper,
    shutdown: watch::Receiver<bool>,
    review: Review,
    routes: Routes,
) -> ClinicalRulesServer<ClinicalRulesApi> {
    ClinicalRulesServer::new(ClinicalRulesApi {
        rulebook,
        desk,
        gate,
        shutdown,
        review,
        routes,
    })
}

const ALERT_READERS: &[sentinel_platform::auth::Role] =
    &[Clinician, Quality, Admin, Integrator, Service];

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
    async fn act(
        &self,
        request: Request<pb::AlertActionRequest>,
        rpc: &'static str,
        action: Action,
    ) -> Reply<pb::Alert> {
        let (caller, role) = self.gate.admit(&request, rpc, &[Clinician]).await?;
        let request = request.into_inner();
        required("id", &request.id)?;
        let alert = self
            .desk
            .act(&caller, role, &request.id, action, &request.note)
            .await?;
        Ok(Response::new(convert::alert(&alert, &self.routes)))
    }

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

    #[tracing::instrument(skip_all)]
    async fn list_alerts(
        &self,
        request: Request<pb::ListAlertsRequest>,
    ) -> Reply<pb::ListAlertsResponse> {
        self.gate
            .admit(&request, "ListAlerts", ALERT_READERS)
            .await?;
        let request = request.into_inner();
        let limit = match request.limit {
            0 => 100,
            n => n.min(1_000),
        };
        let patient = request.patient.map(|p| p.value).unwrap_or_default();
        let alerts = self
            .desk
            .alerts()
            .list(&patient, request.open_only, limit)
            .await?;
        Ok(Response::new(pb::ListAlertsResponse {
            alerts: alerts
                .iter()
                .map(|a| convert::alert(a, &self.routes))
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_alert(&self, request: Request<pb::GetAlertRequest>) -> Reply<pb::AlertDetail> {
        self.gate.admit(&request, "GetAlert", ALERT_READERS).await?;
        let id = request.into_inner().id;
        required("id", &id)?;
        let alert = self
            .desk
            .alerts()
            .get(&id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("alert {id}")))?;
        let changes = self.desk.alerts().changes_of(&id).await?;
        Ok(Response::new(pb::AlertDetail {
            alert: Some(convert::alert(&alert, &self.routes)),
            changes: changes
                .iter()
                .map(|c| convert::change(c, &self.routes))
                .collect(),
        }))
    }

    async fn acknowledge_alert(
        &self,
        request: Request<pb::AlertActionRequest>,
    ) -> Reply<pb::Alert> {
        self.act(request, "AcknowledgeAlert", Action::Acknowledge)
            .await
    }

    async fn resolve_alert(&self, request: Request<pb::AlertActionRequest>) -> Reply<pb::Alert> {
        self.act(request, "ResolveAlert", Action::Resolve).await
    }

    #[tracing::instrument(skip_all)]
    async fn snooze_alert(&self, request: Request<pb::SnoozeAlertRequest>) -> Reply<pb::Alert> {
        let (caller, role) = self
            .gate
            .admit(&request, "SnoozeAlert", &[Clinician])
            .await?;
        let request = request.into_inner();
        required("id", &request.id)?;
        let alert = self
            .desk
            .act(
                &caller,
                role,
                &request.id,
                Action::Snooze {
                    seconds: request.seconds,
                },
                "",
            )
            .await?;
        Ok(Response::new(convert::alert(&alert, &self.routes)))
    }

    type WatchAlertsStream = Pin<Box<dyn Stream<Item = Result<pb::AlertChange, Status>> + Send>>;

    #[tracing::instrument(skip_all)]
    async fn watch_alerts(
        &self,
        request: Request<pb::WatchAlertsRequest>,
    ) -> Reply<Self::WatchAlertsStream> {
        self.gate
            .admit(&request, "WatchAlerts", &[Clinician, Integrator, Service])
            .await?;
        let request = request.into_inner();
        let (wanted, routes) = (request.routes, self.routes.clone());
        let stream =
            self.desk
                .alerts()
                .watch(request.after, self.shutdown.clone(), move |change| {
                    let change = convert::change(change, &routes);
                    (wanted.is_empty() || wanted.contains(&change.route)).then_some(change)
                });
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_suppressions(
        &self,
        request: Request<pb::ListSuppressionsRequest>,
    ) -> Reply<pb::ListSuppressionsResponse> {
        self.gate
            .admit(&request, "ListSuppressions", &[Clinician, Quality, Admin])
            .await?;
        let request = request.into_inner();
        let patient = request.patient.map(|p| p.value).unwrap_or_default();
        required("patient", &patient)?;
        let limit = match request.limit {
            0 => 100,
            n => n.min(1_000),
        };
        let rows = self.desk.alerts().suppressions(&patient, limit).await?;
        Ok(Response::new(pb::ListSuppressionsResponse {
            suppressions: rows.into_iter().map(convert::suppression).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn backtest(&self, request: Request<pb::BacktestRequest>) -> Reply<pb::BacktestResponse> {
        let (caller, role) = self
            .gate
            .admit(&request, "Backtest", &[RuleAuthor, RuleApprover])
            .await?;
        let request = request.into_inner();
        required("rule_id", &request.rule_id)?;
        let range = request.observed.unwrap_or_default();
        if range.start.is_none() || range.end.is_none() {
            return Err(ServiceError::field("observed", "needs a start and an end").into());
        }
        let patient = request.patient.filter(|p| !p.value.is_empty());
        let report = self
            .review
            .backtest(
                (&caller, role),
                (&request.rule_id, request.version),
                range,
                patient,
            )
            .await?;
        Ok(Response::new(convert::backtest(&report)))
    }

    #[tracing::instrument(skip_all)]
    async fn set_sp_o2_scale(
        &self,
        request: Request<pb::SetSpO2ScaleRequest>,
    ) -> Reply<pb::SpO2ScaleSetting> {
        let (caller, role) = self
            .gate
            .admit(&request, "SetSpO2Scale", &[Clinician])
            .await?;
        let (patient, scale) = news2::scale_request(request.get_ref())?;
        let setting = self
            .desk
            .set_spo2_scale(
                &caller,
                role,
                &patient,
                scale,
                request.get_ref().reason.trim(),
            )
            .await?;
        Ok(Response::new(news2::setting(&setting)))
    }

    #[tracing::instrument(skip_all)]
    async fn score_news2(&self, request: Request<pb::ScoreNews2Request>) -> Reply<pb::News2Score> {
        self.gate
            .admit(
                &request,
                "ScoreNews2",
                &[Clinician, Quality, Admin, Integrator, Service],
            )
            .await?;
        let request = request.into_inner();
        let patient = request.patient.as_ref().map(|p| p.value.as_str());
        let patient = patient.unwrap_or_default();
        required("patient", patient)?;
        let window = news2::window(&request)?;
        let now = self.review.news2_now(patient, window).await?;
        Ok(Response::new(news2::score(&now)))
    }
}
