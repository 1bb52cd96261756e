//! The split shape: the base manifests run as separate processes (`sentinel_testkit::split`) on
//! a durable PostgreSQL, with `rules` rules replicas. The ward's gateways stream through the
//! ingestion Service and the clinician watches through the rules Service, each a proxy over
//! ready replicas as kube-proxy is. Afterwards: each rules replica's share of the readings
//! (from the partitions it held, which must not have moved during the run), and, with more than
//! one replica, how long its partitions took to move after one was killed.

use std::{collections::BTreeMap, path::Path};

use sentinel_testkit::split::{
    self, Plan,
    flow::{channel, holders},
    manifests::Container,
};

use super::ward::{self, Ingestion, Registry, Rules, STREAMS};

/// Waits until the 16 partitions are shared as the leases share them: every rules replica
/// holding some and none more than ⌈16 / replicas⌉ (with 3: 6, 6 and 4).
async fn settled(database: &str, rules: usize) -> BTreeMap<u32, String> {
    let share = 16usize.div_ceil(rules);
    for _ in 0..600 {
        let held = holders(database).await;
        let mut per_pod: BTreeMap<&str, usize> = BTreeMap::new();
        for pod in held.values() {
            *per_pod.entry(pod).or_default() += 1;
        }
        if held.len() == 16 && per_pod.len() == rules && per_pod.values().all(|n| *n <= share) {
            return held;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the partitions never settled among {rules} rules replicas");
}

pub async fn run(rules: usize, seconds: u64, rate: u64) {
    let replicas = move |c: &Container| match c.name.as_str() {
        "sentinel-rules" => rules,
        "sentinel-audit" => 1,
        _ => 2,
    };
    let plan = Plan {
        durable: true,
        replicas: &replicas,
        env: vec![
            (
                "sentinel-ingestion",
                "SENTINEL_INGESTION__DEVICE_READINGS_PER_SECOND",
                "1000000".into(),
            ),
            (
                "sentinel-ingestion",
                "SENTINEL_INGESTION__DEVICE_BURST",
                "1000000".into(),
            ),
        ],
        ..Plan::as_shipped("base")
    };
    let mut deployed = split::deploy_with(Path::new(env!("CARGO_BIN_EXE_sentinel")), plan).await;
    let service = |name: &str| deployed.cluster.services[name];
    let ward = ward::admit(&mut Registry::new(channel(
        service("sentinel-registry"),
        &deployed.admin,
        None,
    )))
    .await;
    let streams: Vec<Ingestion> = (0..STREAMS)
        .map(|_| Ingestion::new(channel(service("sentinel-ingestion"), &ward.gateway, None)))
        .collect();
    let watcher = Rules::new(channel(service("sentinel-rules"), &ward.nurse, None));
    let before = settled(&deployed.database, rules).await;
    let measured = ward::drive(&ward, streams, watcher, seconds, rate).await;
    let after = holders(&deployed.database).await;
    println!("rules ×{rules}  {}", measured.summary(rate));
    print_shares(&measured, &before, &after);
    if rules > 1 {
        deployed.cluster.kill("sentinel-rules", 0).await;
        let took = split::flow::taken_over(deployed.database.clone(), "sentinel-rules-0").await;
        println!(
            "          sentinel-rules-0 killed (SIGKILL): its partitions taken over in {:.1} s",
            took.as_secs_f64()
        );
    }
}

/// Each replica's share of the readings, from the partitions it held throughout.
fn print_shares(
    measured: &ward::Measured,
    before: &BTreeMap<u32, String>,
    after: &BTreeMap<u32, String>,
) {
    if before != after {
        println!("          partitions moved during the run: {before:?} → {after:?}");
        return;
    }
    let mut per_pod: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for (patient, readings) in &measured.per_patient {
        let part = sentinel_rules::partitions::of_key(patient);
        let entry = per_pod.entry(&before[&part]).or_default();
        entry.1 += readings;
    }
    for pod in before.values() {
        per_pod.entry(pod).or_default().0 += 1;
    }
    let total: u64 = measured.per_patient.values().sum();
    let shares: Vec<String> = per_pod
        .iter()
        .map(|(pod, (parts, readings))| {
            format!(
                "{pod}: {parts} partitions, {:.0} % of readings",
                *readings as f64 * 100.0 / total.max(1) as f64
            )
        })
        .collect();
    println!("          work share: {}", shares.join("; "));
}
