//! What a hospital does through the Services: register and bind devices, send glucose readings
//! (low, high, low, …, so the built-in hypoglycaemia rule raises on every low after a high and
//! clears on every high), acknowledge the alerts left open — while one replica of each service
//! is killed mid-stream and started again. Then: every acknowledged reading is stored, every
//! expected alert was raised exactly once.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use crate::{
    Authed, Bearer,
    registry::{at, device_with_credential, issue, patient},
};
use sentinel_contract::{
    common::v1 as common, ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules,
};
use tonic::{Code, transport::ClientTlsConfig};

use super::cluster::Cluster;

const DEVICES: usize = 6;
/// Odd: the last round is low, so every patient ends with one open alert to acknowledge.
const ROUNDS: usize = 11;
/// The round after which one replica of each service is killed.
const KILL_AFTER: usize = 4;
const RULE: &str = "rule-hypoglycaemia-level-1";

#[derive(Debug)]
pub struct Outcome {
    pub take_over: Duration,
    pub acknowledged: usize,
    pub raised: usize,
    /// Alerts the readings call for: one per low after a high, per patient.
    pub expected: usize,
    pub acknowledged_alerts: usize,
    pub killed: Vec<String>,
}

pub async fn wait_until(timeout: Duration, ready: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !ready() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `ready` answers true, at most `timeout`.
pub async fn wait_until_async(timeout: Duration, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !ready().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A client of the Service at `addr` presenting `token`, over TLS when `tls` is given.
pub fn channel(addr: SocketAddr, token: &str, tls: Option<&ClientTlsConfig>) -> Authed {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint =
        tonic::transport::Endpoint::from_shared(format!("{scheme}://{addr}")).unwrap();
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls.clone()).unwrap();
    }
    tonic::service::interceptor::InterceptedService::new(
        endpoint.connect_lazy(),
        Bearer::new(token),
    )
}

/// Glucose reading `round` of `device`: low (65 mg/dL) on even rounds, normal (110) on odd.
pub fn glucose(device: &str, round: usize) -> ingestion::ReadingInput {
    ingestion::ReadingInput {
        device_id: device.to_owned(),
        sequence: format!("r{round}"),
        observed_at: at(sentinel_platform::time::now_micros()),
        code: Some(common::Coding {
            system: "http://loinc.org".into(),
            code: "2339-0".into(),
            ..Default::default()
        }),
        value: Some(common::Quantity {
            value: if round.is_multiple_of(2) { 65.0 } else { 110.0 },
            unit: "mg/dL".into(),
        }),
        ..Default::default()
    }
}

/// Sends one reading until it is acknowledged, as a gateway does; the codes it was refused with.
async fn send(
    (addr, tls): (SocketAddr, Option<&ClientTlsConfig>),
    secret: &str,
    device: &str,
    round: usize,
) -> (String, Vec<Code>) {
    let mut client = ingestion::reading_ingestion_client::ReadingIngestionClient::new(channel(
        addr, secret, tls,
    ));
    let mut refused = Vec::new();
    for _ in 0..600 {
        let request = ingestion::IngestRequest {
            batch_id: format!("{device}-{round}"),
            readings: vec![glucose(device, round)],
        };
        match client.ingest(request).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                assert_eq!(answer.accepted, 1, "{answer:?}");
                return (answer.results[0].reading_id.clone(), refused);
            }
            Err(status) => {
                refused.push(status.code());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("reading {device}/{round} never acknowledged: {refused:?}");
}

/// Partition → the host (pod) holding its lease.
pub async fn holders(database: &str) -> BTreeMap<u32, String> {
    let pool = sqlx::PgPool::connect(database).await.unwrap();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT part, owner FROM rules.rule_partitions WHERE owner <> '' AND expires_at > $1",
    )
    .bind(sentinel_platform::time::now_micros())
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(part, owner)| {
            let host = owner.split('/').next().unwrap_or_default().to_owned();
            (u32::try_from(part).unwrap(), host)
        })
        .collect()
}

/// Waits until every partition of patients is held by a replica other than `dead` (a pod's
/// host name); how long that took.
pub async fn taken_over(database: String, dead: &str) -> Duration {
    let started = tokio::time::Instant::now();
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    let prefix = format!("{dead}/%");
    loop {
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rules.rule_partitions \
             WHERE owner <> '' AND owner NOT LIKE $1 AND expires_at > $2",
        )
        .bind(&prefix)
        .bind(sentinel_platform::time::now_micros())
        .fetch_one(&pool)
        .await
        .unwrap();
        if held == 16 {
            let took = started.elapsed();
            pool.close().await;
            return took;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "partitions not taken over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn run(
    cluster: &mut Cluster,
    admin: &str,
    database: &str,
    tls: Option<&ClientTlsConfig>,
) -> Outcome {
    let service = |name: &str| cluster.services[name];
    let (registry_addr, ingestion_addr, rules_addr) = (
        service("sentinel-registry"),
        service("sentinel-ingestion"),
        service("sentinel-rules"),
    );
    let mut admin_client = registry::device_registry_client::DeviceRegistryClient::new(channel(
        registry_addr,
        admin,
        tls,
    ));
    let mut devices = Vec::new();
    for n in 0..DEVICES {
        let patient = format!("pt-{n}");
        let (id, secret) = device_with_credential(
            &mut admin_client,
            &format!("split-{n}"),
            &patient,
            3_600_000_000,
        )
        .await;
        devices.push((id, secret, patient));
    }
    let (_, nurse) = issue(
        &mut admin_client,
        registry::PrincipalKind::User,
        "nurse",
        &["clinician"],
    )
    .await;

    let mut acknowledged = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut killed = Vec::new();
    let mut take_over = None;
    for round in 0..ROUNDS {
        if round == KILL_AFTER {
            for deployment in [
                "sentinel-registry",
                "sentinel-ingestion",
                "sentinel-rules",
                "sentinel-audit",
            ] {
                cluster.kill(deployment, 0).await;
                killed.push(deployment.to_owned());
            }
            let database = database.to_owned();
            take_over = Some(tokio::spawn(async move {
                taken_over(database, "sentinel-rules-0").await
            }));
        }
        // The gateway keeps sending while replicas are down; they come back a round later (the
        // rules replica once the other took its partitions over).
        if round == KILL_AFTER + 1 {
            for deployment in killed.iter().filter(|d| *d != "sentinel-rules") {
                cluster.restart(deployment, 0).await;
            }
        }
        for (device, secret, _) in &devices {
            let (id, codes) = send((ingestion_addr, tls), secret, device, round).await;
            acknowledged.push(id);
            for code in codes {
                *refused.entry(format!("{code:?}")).or_default() += 1;
            }
        }
    }
    let take_over = take_over.expect("a replica killed").await.unwrap();
    println!(
        "rules partitions taken over {:.1} s after the replica holding them was killed",
        take_over.as_secs_f64()
    );
    cluster.restart("sentinel-rules", 0).await;
    println!("refused on the way (then retried): {refused:?}");
    assert!(
        !refused.contains_key("Internal"),
        "a retryable condition answered INTERNAL: {refused:?}"
    );

    let mut rules_client =
        rules::clinical_rules_client::ClinicalRulesClient::new(channel(rules_addr, &nurse, tls));
    let expected = ROUNDS.div_ceil(2);
    let mut raised = 0;
    let mut acknowledged_alerts = 0;
    for (_, _, patient_ref) in &devices {
        let alerts = settled_alerts(&mut rules_client, patient_ref, expected).await;
        raised += alerts.len();
        let open: Vec<&rules::Alert> = alerts
            .iter()
            .filter(|a| a.state() == rules::AlertState::Raised)
            .collect();
        assert_eq!(
            open.len(),
            1,
            "{patient_ref}: the last low leaves one alert open: {alerts:?}"
        );
        rules_client
            .acknowledge_alert(rules::AlertActionRequest {
                id: open[0].id.clone(),
                note: "seen".into(),
            })
            .await
            .expect("acknowledged");
        acknowledged_alerts += 1;
    }
    assert_eq!(
        raised,
        expected * DEVICES,
        "every expected alert raised exactly once"
    );

    // Nothing acknowledged was lost.
    let mut readings = ingestion::reading_ingestion_client::ReadingIngestionClient::new(channel(
        ingestion_addr,
        admin,
        tls,
    ));
    for id in &acknowledged {
        readings
            .get_reading(ingestion::GetReadingRequest { id: id.clone() })
            .await
            .unwrap_or_else(|s| panic!("acknowledged reading {id} lost: {s:?}"));
    }
    Outcome {
        take_over,
        acknowledged: acknowledged.len(),
        raised,
        expected: expected * DEVICES,
        acknowledged_alerts,
        killed,
    }
}

/// The patient's alerts of the rule once evaluation has caught up (`expected` of them), or
/// whatever there is after a minute.
async fn settled_alerts(
    client: &mut rules::clinical_rules_client::ClinicalRulesClient<Authed>,
    patient_ref: &str,
    expected: usize,
) -> Vec<rules::Alert> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let alerts: Vec<rules::Alert> = match client
            .list_alerts(rules::ListAlertsRequest {
                patient: patient(patient_ref),
                open_only: false,
                limit: 1000,
            })
            .await
        {
            Ok(answer) => answer
                .into_inner()
                .alerts
                .into_iter()
                .filter(|a| a.rule_id == RULE)
                .collect(),
            Err(_) => Vec::new(),
        };
        let caught_up = alerts.len() >= expected
            && alerts
                .iter()
                .filter(|a| a.state() == rules::AlertState::Raised)
                .count()
                == 1;
        if caught_up || tokio::time::Instant::now() > deadline {
            assert_eq!(alerts.len(), expected, "{patient_ref}: {alerts:?}");
            return alerts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
