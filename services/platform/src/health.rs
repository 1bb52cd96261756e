//! `grpc.health.v1` status that tells the truth: a service is SERVING only while its store
//! answers. Services not run by this process are unknown to the health service (NOT_FOUND).

use std::time::Duration;

use tokio::sync::watch;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{service::ServiceKind, store::Store};

/// Sets each service's status from one check of its store. The overall status (the empty
/// service name) is SERVING only when every service is.
pub async fn report(reporter: &HealthReporter, services: &[(ServiceKind, Store)]) {
    let mut all_serving = true;
    for (kind, store) in services {
        let status = match store.ping().await {
            Ok(()) => ServingStatus::Serving,
            Err(err) => {
                tracing::warn!(service = %kind, error = %err, "store check failed");
                all_serving = false;
                ServingStatus::NotServing
            }
        };
        reporter.set_service_status(kind.grpc_name(), status).await;
    }
    let overall = if all_serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    reporter.set_service_status("", overall).await;
}

/// Re-checks every `interval` until `shutdown` changes, then reports NOT_SERVING for all, so
/// load balancers stop sending work before the server goes away.
pub async fn monitor(
    reporter: HealthReporter,
    services: Vec<(ServiceKind, Store)>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => report(&reporter, &services).await,
            _ = shutdown.changed() => break,
        }
    }
    for (kind, _) in &services {
        reporter
            .set_service_status(kind.grpc_name(), ServingStatus::NotServing)
            .await;
    }
    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
}
