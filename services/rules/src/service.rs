//! Clinical rules as a whole: the rulebook and the alert desk behind the gRPC API, and the
//! background work — loading the built-in library on first start, evaluating the reading log,
//! escalating unacknowledged alerts, watching for silent devices and for the audit log being out,
//! and appending audit records kept while it was — each until shutdown.

use std::time::Duration;

use sentinel_contract::rules::v1::clinical_rules_server::ClinicalRulesServer;
use sentinel_platform::{
    Config, ServiceKind, Started, Store, audit_outbox, auth::Caller, peer::Peers,
};
use tokio::sync::watch;

use crate::{
    audit_watch::AuditWatch,
    desk::Desk,
    devices::Registry,
    domain::alert::Routes,
    escalation::Escalation,
    evaluator::Evaluator,
    grpc::{self, ClinicalRulesApi},
    partitions::LeaseKeeper,
    review::Review,
    rulebook::{self, Rulebook},
    silence_watch::SilenceWatch,
    storage::{RuleStore, alerts::AlertStore, partitions::PartitionStore},
};

/// Serves clinical rules over `store` and starts its background work, which ends at
/// `shutdown`.
pub async fn start(
    config: &Config,
    store: Store,
    peers: &Peers,
    shutdown: watch::Receiver<bool>,
) -> Started<ClinicalRulesServer<ClinicalRulesApi>> {
    let alerts = AlertStore::new(store.clone());
    let (leases, owned) = LeaseKeeper::new(
        PartitionStore::new(store.clone()),
        replica_name(),
        config.rules.partition_lease(),
    );
    leases.begin().await;
    let rules = RuleStore::new(store.clone());
    let trail = peers.trail(ServiceKind::Rules);
    let drain = audit_outbox::spawn_drain(store.clone(), trail.clone(), shutdown.clone());
    let audit_watch = AuditWatch::new(alerts.clone(), trail.clone(), peers.audit.clone());
    let registry = Registry::new(peers.registry.clone());
    let rulebook = Rulebook::new(rules.clone(), trail.clone());
    let evaluator = Evaluator::new(
        rules.clone(),
        alerts.clone(),
        PartitionStore::new(store),
        leases.name().to_owned(),
        trail.clone(),
        peers.ingestion.clone(),
        registry.clone(),
    );
    let escalation = Escalation::new(
        alerts.clone(),
        trail.clone(),
        Duration::from_secs(config.rules.escalate_after_seconds),
        owned.clone(),
        leases.name().to_owned(),
    );
    let silence_watch = SilenceWatch::new(
        rules,
        alerts.clone(),
        trail.clone(),
        registry.clone(),
        Duration::from_secs(config.rules.silence_check_seconds),
        owned.clone(),
        leases.name().to_owned(),
    );
    let review = Review::new(
        rulebook.clone(),
        alerts.clone(),
        peers.ingestion.clone(),
        registry,
    );
    let server = grpc::server(
        rulebook.clone(),
        Desk::new(alerts, trail),
        peers.gate(ServiceKind::Rules),
        shutdown.clone(),
        review,
        Routes {
            tiers: config.rules.tiers.clone(),
            technical: config.rules.technical_route.clone(),
        },
    );
    Started {
        server,
        tasks: vec![
            tokio::spawn(load_library(rulebook, shutdown.clone())),
            tokio::spawn(leases.run(shutdown.clone())),
            tokio::spawn(evaluator.run(owned.clone(), shutdown.clone())),
            tokio::spawn(escalation.run(shutdown.clone())),
            tokio::spawn(silence_watch.run(shutdown.clone())),
            tokio::spawn(audit_watch.run(shutdown)),
            drain,
        ],
        condition: Some(std::sync::Arc::new(PartitionsHeld(owned))),
    }
}

/// Loads the built-in rule library on first start, once the suite answers (its audit record
/// goes through the audit service), retrying until it is stored or the suite stops.
async fn load_library(rulebook: Rulebook, mut shutdown: watch::Receiver<bool>) {
    let loader = Caller::in_process_service(rulebook::LIBRARY);
    loop {
        match rulebook.load_builtin(&loader).await {
            Ok(0) => return,
            Ok(loaded) => {
                tracing::info!(rules = loaded, "built-in rule library loaded");
                return;
            }
            Err(err) => tracing::debug!(error = %err, "rule library not loaded yet; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Ready while this replica holds a partition of patients to evaluate.
#[derive(Debug)]
struct PartitionsHeld(tokio::sync::watch::Receiver<crate::partitions::Owned>);

impl sentinel_platform::health::Condition for PartitionsHeld {
    fn problem(&self) -> Option<String> {
        self.0
            .borrow()
            .is_empty()
            .then(|| "holds no partition of patients to evaluate".to_owned())
    }
}

/// This replica's name in the partition leases: its host — a pod's name, as Kubernetes sets
/// `HOSTNAME` — and this run, so a container restarted in its pod takes its leases back at once.
fn replica_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sentinel".to_owned());
    crate::partitions::replica_name(&host)
}
