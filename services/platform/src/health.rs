//! `grpc.health.v1` status that tells the truth: a service is SERVING only while it can do its
//! work — its store answers, it can authenticate its callers (the registry answers and accepts
//! this process's own credential), and the peers it calls answer SERVING. Services not run by
//! this process are unknown to the health service (NOT_FOUND).
//!
//! What each service needs of others is acyclic, so a split deployment comes up in order
//! without deadlock: the registry needs only its store; the audit log needs the registry (to
//! authenticate) and a log it can append to; ingestion needs the registry; rules need the
//! registry and ingestion. Ingestion and rules do not need the audit log: while it is out they
//! keep their records (`audit_outbox`) and rules raise a technical alert, so an audit outage
//! never takes clinical work out of rotation.
//! A change of readiness is logged once, with the reason, not on every check.

use std::{collections::BTreeMap, time::Duration};

use sentinel_contract::registry::v1 as registry;
use tokio::sync::watch;
use tonic_health::{
    ServingStatus,
    pb::{HealthCheckRequest, health_check_response, health_client::HealthClient},
    server::HealthReporter,
};

use crate::{
    auth::Role,
    peer::{Peer, Peers},
    service::ServiceKind,
    store::Store,
};

/// A service's own condition for being ready, beyond its store and peers (the rules service:
/// it holds a partition of patients).
pub trait Condition: Send + Sync + std::fmt::Debug {
    /// Why the service is not ready now, if it is not.
    fn problem(&self) -> Option<String>;
}

/// How long a check of a peer may take.
const PEER_CHECK: Duration = Duration::from_secs(2);

/// The services `kind` calls and cannot work without. Acyclic (see the module's comment).
pub fn needs(kind: ServiceKind) -> &'static [ServiceKind] {
    match kind {
        ServiceKind::Registry => &[],
        ServiceKind::Audit => &[ServiceKind::Registry],
        ServiceKind::Ingestion => &[ServiceKind::Registry],
        ServiceKind::Rules => &[ServiceKind::Registry, ServiceKind::Ingestion],
    }
}

/// What this process's services are checked against.
#[derive(Debug, Clone)]
pub struct Readiness {
    services: Vec<(ServiceKind, Store)>,
    peers: Peers,
    conditions: Vec<(ServiceKind, std::sync::Arc<dyn Condition>)>,
}

impl Readiness {
    pub fn new(
        services: Vec<(ServiceKind, Store)>,
        peers: Peers,
        conditions: Vec<(ServiceKind, std::sync::Arc<dyn Condition>)>,
    ) -> Self {
        Readiness {
            services,
            peers,
            conditions,
        }
    }

    fn hosts(&self, kind: ServiceKind) -> bool {
        self.services.iter().any(|(k, _)| *k == kind)
    }

    /// Why `kind` cannot work now, if it cannot; `None` when it can.
    async fn problem(&self, kind: ServiceKind, store: &Store) -> Option<String> {
        if let Err(err) = store.ping().await {
            return Some(format!("its store does not answer: {err}"));
        }
        let own = self.conditions.iter().filter(|(k, _)| *k == kind);
        if let Some(problem) = own.filter_map(|(_, c)| c.problem()).next() {
            return Some(problem);
        }
        for &need in needs(kind) {
            let problem = match need {
                ServiceKind::Registry => self.identity_problem().await,
                _ if self.hosts(need) => None,
                _ => self.peer_problem(need).await,
            };
            if problem.is_some() {
                return problem;
            }
        }
        None
    }

    /// Whether callers can be authenticated: the registry (here or a peer) accepts this
    /// process's own credential as a service's.
    async fn identity_problem(&self) -> Option<String> {
        let credential = self.peers.credential();
        if credential.is_empty() {
            return Some("no service credential (set service_token_file)".into());
        }
        if self.hosts(ServiceKind::Registry) {
            return match self.peers.authenticator.authenticate(credential).await {
                Ok(Ok(caller)) if caller.has(Role::Service) => None,
                Ok(Ok(_)) => Some("this process's service credential is not a service's".into()),
                Ok(Err(refusal)) => Some(format!(
                    "this process's service credential is refused: {}",
                    refusal.message()
                )),
                Err(err) => Some(format!("cannot check credentials: {err}")),
            };
        }
        let mut client = self.peers.registry.registry();
        let request = registry::AuthenticateRequest {
            bearer: credential.to_owned(),
        };
        match tokio::time::timeout(PEER_CHECK, client.authenticate(request)).await {
            Ok(Ok(_)) => None,
            Ok(Err(status)) if status.code() == tonic::Code::Unauthenticated => Some(
                "the registry refuses this process's service credential (unknown or revoked)"
                    .into(),
            ),
            Ok(Err(status)) => Some(format!(
                "the registry cannot authenticate callers: {:?}",
                status.code()
            )),
            Err(_) => Some("the registry does not answer".into()),
        }
    }

    /// Whether the peer `kind` answers SERVING.
    async fn peer_problem(&self, kind: ServiceKind) -> Option<String> {
        let peer = match kind {
            ServiceKind::Audit => &self.peers.audit,
            ServiceKind::Ingestion => &self.peers.ingestion,
            ServiceKind::Registry => &self.peers.registry,
            ServiceKind::Rules => return None,
        };
        peer_problem(peer, kind).await
    }
}

/// Why `peer` (running `kind`) is not serving, asked through its health service; `None` when
/// it answers SERVING within the check's time.
pub async fn peer_problem(peer: &Peer, kind: ServiceKind) -> Option<String> {
    let mut client = HealthClient::new(peer.channel());
    let request = HealthCheckRequest {
        service: kind.grpc_name().to_owned(),
    };
    match tokio::time::timeout(PEER_CHECK, client.check(request)).await {
        Ok(Ok(answer))
            if answer.get_ref().status() == health_check_response::ServingStatus::Serving =>
        {
            None
        }
        Ok(Ok(_)) => Some(format!("its peer {kind} is not serving")),
        Ok(Err(status)) => Some(format!("its peer {kind} answers {:?}", status.code())),
        Err(_) => Some(format!("its peer {kind} does not answer")),
    }
}

/// The last problem of each service, to log changes once.
type Last = BTreeMap<ServiceKind, Option<String>>;

/// Sets each service's status from one round of checks. The overall status (the empty service
/// name) is SERVING only when every service is.
async fn report(reporter: &HealthReporter, readiness: &Readiness, last: &mut Last) {
    let mut all_serving = true;
    for (kind, store) in &readiness.services {
        let problem = readiness.problem(*kind, store).await;
        log_change(
            *kind,
            last.get(kind).and_then(Option::as_deref),
            problem.as_deref(),
        );
        let status = match problem {
            None => ServingStatus::Serving,
            Some(_) => {
                all_serving = false;
                ServingStatus::NotServing
            }
        };
        last.insert(*kind, problem);
        reporter.set_service_status(kind.grpc_name(), status).await;
    }
    let overall = if all_serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    reporter.set_service_status("", overall).await;
}

fn log_change(kind: ServiceKind, before: Option<&str>, now: Option<&str>) {
    match (before, now) {
        (before, Some(problem)) if before != Some(problem) => {
            tracing::warn!(service = %kind, reason = problem, "not ready");
        }
        (Some(_), None) => tracing::info!(service = %kind, "ready again"),
        _ => {}
    }
}

/// The first round of checks, before serving, so the first probe gets a true answer. It calls
/// only peers in other processes, never this one's own listener.
pub async fn first_check(reporter: &HealthReporter, readiness: &Readiness) -> Checked {
    let mut last = Last::new();
    report(reporter, readiness, &mut last).await;
    Checked(last)
}

/// What the first check found, for the monitor to go on from.
#[derive(Debug)]
pub struct Checked(Last);

/// Re-checks every `interval` until `shutdown` changes, then reports NOT_SERVING for all, so
/// load balancers stop sending work before the server goes away.
pub async fn monitor(
    reporter: HealthReporter,
    readiness: Readiness,
    Checked(mut last): Checked,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => report(&reporter, &readiness, &mut last).await,
            _ = shutdown.changed() => break,
        }
    }
    for (kind, _) in &readiness.services {
        reporter
            .set_service_status(kind.grpc_name(), ServingStatus::NotServing)
            .await;
    }
    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
}
