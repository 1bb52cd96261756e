//! Admission of a call: who presents which credential ([`Authenticator`]), and whether they
//! hold a role the call accepts ([`Gatekeeper`]). Denials are audited as `auth.denied`, without
//! the presented secret, and repeats are summarised ([`crate::denials`]).

use std::{sync::Arc, time::Duration};

use sentinel_contract::registry::v1 as registry;
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    ServiceError,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{
        BOOTSTRAP_ID, Caller, CallerKind, Identified, Refusal, Role, Token, bearer, looks_like_jwt,
    },
    denials::{self, Denials, Kind, Noted, Summary},
    error::ERROR_DOMAIN,
    peer::{self, Peer},
    throttle::Throttle,
};

/// Finds the caller a bearer credential stands for, or says why it is refused.
#[tonic::async_trait]
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    async fn authenticate(&self, bearer: &str) -> Result<Identified, ServiceError>;
}

/// Asks the device registry, on every call, so that a revocation takes effect at once.
#[derive(Debug, Clone)]
pub struct RegistryAuthenticator {
    registry: Peer,
}

impl RegistryAuthenticator {
    /// Authenticates through the device registry `registry`.
    pub fn new(registry: Peer) -> Self {
        RegistryAuthenticator { registry }
    }
}

/// The registry's answer as a caller.
pub fn caller_from_principal(principal: registry::Principal) -> Option<Caller> {
    let kind = match registry::PrincipalKind::try_from(principal.kind).ok()? {
        registry::PrincipalKind::User => CallerKind::User,
        registry::PrincipalKind::Device => CallerKind::Device,
        registry::PrincipalKind::Gateway => CallerKind::Gateway,
        registry::PrincipalKind::Service => CallerKind::Service,
        registry::PrincipalKind::Unspecified => return None,
    };
    Some(Caller {
        kind,
        id: principal.id,
        roles: principal
            .roles
            .iter()
            .filter_map(|r| Role::from_code(r))
            .collect(),
        credential_id: principal.credential_id,
    })
}

#[tonic::async_trait]
impl Authenticator for RegistryAuthenticator {
    async fn authenticate(&self, bearer: &str) -> Result<Identified, ServiceError> {
        let request = registry::AuthenticateRequest {
            bearer: bearer.to_owned(),
        };
        let answer = peer::idempotent(|| {
            let mut client = self.registry.registry();
            let request = request.clone();
            async move { client.authenticate(request).await }
        });
        match answer.await {
            Ok(principal) => {
                Ok(caller_from_principal(principal.into_inner()).ok_or(Refusal::UnknownOrRevoked))
            }
            Err(status) if status.code() == Code::Unauthenticated => Ok(Err(refusal_of(&status))),
            Err(status) if status.code() == Code::NotFound => Ok(Err(Refusal::UnknownOrRevoked)),
            Err(status) => {
                tracing::error!(code = ?status.code(), "the registry could not authenticate a caller");
                Err(ServiceError::Unavailable(
                    "cannot check credentials right now".into(),
                ))
            }
        }
    }
}

/// Why the registry refused a credential, as its ErrorInfo says.
fn refusal_of(status: &tonic::Status) -> Refusal {
    status
        .get_details_error_info()
        .filter(|info| info.domain == ERROR_DOMAIN)
        .and_then(|info| Refusal::from_code(&info.reason))
        .unwrap_or(Refusal::UnknownOrRevoked)
}

/// The one place a handler asks "may this request do this?".
#[derive(Debug, Clone)]
pub struct Gatekeeper {
    authenticator: Arc<dyn Authenticator>,
    trail: AuditTrail,
    denials: Arc<Denials>,
    throttle: Arc<Throttle>,
}

impl Gatekeeper {
    /// Admits callers `authenticator` knows; denials go to `trail`, repeats summarised once
    /// per `summary_window`.
    pub fn new(
        authenticator: Arc<dyn Authenticator>,
        trail: AuditTrail,
        summary_window: Duration,
    ) -> Self {
        let denials = Denials::new(summary_window);
        let summaries = trail.clone();
        denials::spawn_summaries(&denials, move |ended| {
            let trail = summaries.clone();
            async move { record_summaries(&trail, ended, summary_window).await }
        });
        Gatekeeper {
            authenticator,
            trail,
            denials,
            throttle: Arc::new(Throttle::default()),
        }
    }

    /// Holds back refused callers by `throttle`'s budgets instead of the defaults.
    pub fn throttled(self, throttle: Throttle) -> Self {
        Gatekeeper {
            throttle: Arc::new(throttle),
            ..self
        }
    }

    pub fn trail(&self) -> &AuditTrail {
        &self.trail
    }

    /// The caller of `request` if it presents a valid credential holding one of `roles`, and
    /// the role it acts in. Otherwise `UNAUTHENTICATED` or `PERMISSION_DENIED`, audited.
    pub async fn admit<T>(
        &self,
        request: &tonic::Request<T>,
        rpc: &'static str,
        roles: &[Role],
    ) -> Result<(Caller, Role), ServiceError> {
        let presented = bearer(request);
        let key = refusal_key(request, presented);
        if let Some(wait) = self.throttle.held(&key) {
            return Err(self.deny(None, rpc, "throttled", throttled(wait)).await);
        }
        let Some(presented) = presented else {
            self.throttle.refused(&key);
            return Err(self
                .deny(
                    None,
                    rpc,
                    "no_credential",
                    ServiceError::Unauthenticated(
                        "no credential presented: send `authorization: Bearer <credential>`".into(),
                    ),
                )
                .await);
        };
        let caller = match self.authenticator.authenticate(presented).await? {
            Ok(caller) => caller,
            Err(refusal) => {
                self.throttle.refused(&key);
                return Err(self
                    .deny(None, rpc, refusal.code(), ServiceError::Refused(refusal))
                    .await);
            }
        };
        let caller_key = format!("caller:{}", caller.id);
        if let Some(wait) = self.throttle.held(&caller_key) {
            return Err(self
                .deny(Some(&caller), rpc, "throttled", throttled(wait))
                .await);
        }
        match caller.require_any(roles) {
            Ok(role) => Ok((caller, role)),
            Err(err) => {
                self.throttle.refused(&caller_key);
                Err(self
                    .deny(Some(&caller), rpc, "permission_denied", err)
                    .await)
            }
        }
    }

    /// Records a denial (best effort: the call is refused whether or not the record is
    /// stored) and hands back the error to return.
    /// Only the first denial of its kind in a window is recorded (and logged) at once; the
    /// rest are counted (see [`crate::denials`]).
    async fn deny(
        &self,
        caller: Option<&Caller>,
        rpc: &'static str,
        reason: &'static str,
        err: ServiceError,
    ) -> ServiceError {
        let kind = Kind {
            rpc,
            reason,
            caller_id: caller.map(|c| c.id.clone()).unwrap_or_default(),
        };
        if self.denials.note(kind, caller) == Noted::Counted {
            tracing::debug!(rpc, reason, "call denied (counted)");
            return err;
        }
        let event = AuditEvent::failure(Action::AuthDenied, "rpc", rpc, reason);
        let event = match caller {
            Some(caller) if !caller.credential_id.is_empty() => {
                event.with("credential", caller.credential_id.clone())
            }
            _ => event,
        };
        record_denial(&self.trail, caller, event).await;
        tracing::info!(rpc, reason, "call denied");
        err
    }
}

/// Who a refusal of `request` counts against: the Sentinel credential it presents, else the
/// address it came from (no credential, a verbatim operator token, an identity provider's
/// token).
fn refusal_key<T>(request: &tonic::Request<T>, presented: Option<&str>) -> String {
    match presented
        .filter(|p| !looks_like_jwt(p))
        .and_then(Token::parse)
    {
        Some(token) if token.id != BOOTSTRAP_ID => format!("credential:{}", token.id),
        _ => match request.remote_addr() {
            Some(addr) => format!("addr:{}", addr.ip()),
            None => "addr:unknown".to_owned(),
        },
    }
}

/// The answer to a call held back.
fn throttled(wait: Duration) -> ServiceError {
    ServiceError::ResourceExhausted {
        reason: "too many refused calls from this credential, caller or address: retry later"
            .into(),
        retry_after: wait,
    }
}

/// Records a denial by `caller` (anonymous when unknown), best effort.
async fn record_denial(trail: &AuditTrail, caller: Option<&Caller>, event: AuditEvent) {
    let anonymous = Caller {
        kind: CallerKind::User,
        id: "anonymous".into(),
        roles: Vec::new(),
        credential_id: String::new(),
    };
    let who = caller.unwrap_or(&anonymous);
    let role = match caller {
        Some(caller) => caller
            .roles
            .first()
            .copied()
            .unwrap_or(Role::Service)
            .code(),
        None => "none",
    };
    let rpc = event.subject_id.clone();
    if let Err(audit) = trail.record_as(who, role, event).await {
        tracing::error!(error = %audit, rpc, "could not audit a denied call");
    }
}

/// One record per kind of denial that repeated in the window that ended, with the count.
async fn record_summaries(trail: &AuditTrail, ended: Vec<Summary>, window: Duration) {
    for summary in ended {
        let event = AuditEvent::failure(
            Action::AuthDenied,
            "rpc",
            summary.kind.rpc,
            summary.kind.reason,
        )
        .with("repeated", summary.repeated.to_string())
        .with("window_seconds", window.as_secs().max(1).to_string());
        record_denial(trail, summary.caller.as_ref(), event).await;
        tracing::info!(
            rpc = summary.kind.rpc,
            reason = summary.kind.reason,
            repeated = summary.repeated,
            "calls denied in the last window"
        );
    }
}
