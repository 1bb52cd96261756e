//! Replicas tell each other of what they commit: a clinician whose `WatchAlerts` is served by
//! one rules replica is told of an alert another replica raised at once — PostgreSQL
//! `LISTEN`/`NOTIFY` between the ingestion replicas (reading log) and between the rules replicas
//! (alert change log) — not at the next look, which comes every 30 s while notifications arrive.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use sentinel_contract::{ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules};
use tokio::time::Instant;

use super::{
    Deployed,
    flow::{channel, glucose, holders, wait_until_async},
};
use crate::registry::{issue, register_bound, spec};

/// The replica a clinician's watch is served by.
const WATCHED: &str = "sentinel-rules-0";
/// Alerts raised, one per patient of a partition another replica holds.
const PATIENTS: usize = 5;

/// Once both rules replicas hold partitions: raises an alert for each of [`PATIENTS`] patients
/// whose partition the replica not watched holds, and returns, for each, how long after the
/// reading was acknowledged the watcher on [`WATCHED`] was told of it.
pub async fn alerts_across_replicas(deployed: &Deployed) -> Vec<Duration> {
    wait_until_async(Duration::from_secs(30), async || {
        let held = holders(&deployed.database).await;
        let watched = held.values().filter(|h| *h == WATCHED).count();
        held.len() == 16 && watched > 0 && watched < 16
    })
    .await;
    let held = holders(&deployed.database).await;
    let patients: Vec<String> = (0..)
        .map(|n| format!("told-{n}"))
        .filter(|p| {
            held.get(&sentinel_rules::partitions::of_key(p))
                .is_some_and(|h| h != WATCHED)
        })
        .take(PATIENTS)
        .collect();
    let tls = deployed.tls.as_ref();
    let service = |name: &str| deployed.cluster.services[name];
    let mut admin = registry::device_registry_client::DeviceRegistryClient::new(channel(
        service("sentinel-registry"),
        &deployed.admin,
        tls,
    ));
    let (_, nurse) = issue(
        &mut admin,
        registry::PrincipalKind::User,
        "nurse-watching",
        &["clinician"],
    )
    .await;
    let watched = deployed.cluster.replicas["sentinel-rules"][0].addr;
    let told = watch(channel(watched, &nurse, tls)).await;
    let mut latencies = Vec::new();
    for patient in &patients {
        let device = register_bound(&mut admin, spec(patient), patient, 3_600_000_000).await;
        let (_, secret) = issue(
            &mut admin,
            registry::PrincipalKind::Device,
            &device,
            &["device"],
        )
        .await;
        let mut client = ingestion::reading_ingestion_client::ReadingIngestionClient::new(channel(
            service("sentinel-ingestion"),
            &secret,
            tls,
        ));
        let answer = client
            .ingest(ingestion::IngestRequest {
                batch_id: format!("{patient}-low"),
                readings: vec![glucose(&device, 0)],
            })
            .await
            .expect("the low reading is acknowledged")
            .into_inner();
        let acked = Instant::now();
        let reading = answer.results[0].reading_id.clone();
        wait_until_async(Duration::from_secs(15), async || {
            told.lock().unwrap().contains_key(&reading)
        })
        .await;
        latencies.push(told.lock().unwrap()[&reading].saturating_duration_since(acked));
    }
    latencies
}

/// Watches the alert change log through `client`'s replica; when each reading's alert arrived.
async fn watch(client: crate::Authed) -> Arc<Mutex<HashMap<String, Instant>>> {
    let told: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut stream = rules::clinical_rules_client::ClinicalRulesClient::new(client)
        .watch_alerts(rules::WatchAlertsRequest {
            after: 0,
            routes: Vec::new(),
        })
        .await
        .expect("watching")
        .into_inner();
    let seen = Arc::clone(&told);
    tokio::spawn(async move {
        while let Ok(Some(change)) = stream.message().await {
            let now = Instant::now();
            let mut seen = seen.lock().unwrap();
            for reading in change.reading_ids {
                seen.entry(reading).or_insert(now);
            }
        }
    });
    // Listening (its first follow starts the replica's listener) before anything is raised.
    tokio::time::sleep(Duration::from_millis(500)).await;
    told
}
