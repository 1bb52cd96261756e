//! Steps of rule evaluation partitioned by patient: leases read and taken behind the API, as
//! another replica would take them.

use std::time::Duration;

use cucumber::{given, then, when};
use sentinel_platform::{ServiceKind, time::now_micros};
use sentinel_testkit::TestSuite;

use crate::world::{SuiteWorld, store};

fn rules_store(world: &SuiteWorld) -> &sentinel_platform::Store {
    world
        .suite
        .as_ref()
        .expect("a running suite")
        .store(ServiceKind::Rules)
}

#[given(expr = "the suite runs with all services, with partition leases of {int} ms")]
async fn with_leases(world: &mut SuiteWorld, lease: u64) {
    start_with_leases(world, lease, |_| {}).await;
}

#[given(
    expr = "the suite runs with all services, with partition leases of {int} ms, escalating unacknowledged alerts after {int} seconds"
)]
async fn with_leases_escalating(world: &mut SuiteWorld, lease: u64, seconds: u64) {
    start_with_leases(world, lease, |rules| rules.escalate_after_seconds = seconds).await;
}

#[given(
    expr = "the suite runs with all services, with partition leases of {int} ms, judging device silence every second"
)]
async fn with_leases_judging_silence(world: &mut SuiteWorld, lease: u64) {
    start_with_leases(world, lease, |rules| rules.silence_check_seconds = 1).await;
}

async fn start_with_leases(
    world: &mut SuiteWorld,
    lease: u64,
    rules: impl FnOnce(&mut sentinel_platform::config::RulesConfig),
) {
    let (mut config, data_dir) = TestSuite::prepare(store(), &ServiceKind::ALL).await;
    config.rules.partition_lease_ms = lease;
    config.health.check_interval_ms = 100;
    rules(&mut config.rules);
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[given(expr = "within {int} seconds one replica holds all {int} partitions")]
async fn held_before(world: &mut SuiteWorld, seconds: u64, count: i64) {
    holds_all(world, seconds, count).await;
}

#[then(expr = "within {int} seconds one replica holds all {int} partitions")]
async fn holds_all(world: &mut SuiteWorld, seconds: u64, count: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT owner FROM rule_partitions WHERE owner <> '' AND expires_at > $1",
        )
        .bind(now_micros())
        .fetch_all(rules_store(world).pool())
        .await
        .expect("leases");
        let one = owners.windows(2).all(|w| w[0] == w[1]);
        if owners.len() as i64 == count && one {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "held: {owners:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[when(
    expr = "another replica takes the lease of the partition of patient {string} for {int} seconds"
)]
async fn ghost_takes(world: &mut SuiteWorld, patient: String, seconds: i64) {
    let part = sentinel_rules::partitions::of_key(&patient);
    sqlx::query(
        "UPDATE rule_partitions SET owner = 'another-replica', fence = fence + 1, expires_at = $2 \
         WHERE part = $1",
    )
    .bind(i64::from(part))
    .bind(now_micros() + seconds * 1_000_000)
    .execute(rules_store(world).pool())
    .await
    .expect("lease taken");
}

#[when(expr = "another replica takes the lease of every partition for {int} seconds")]
async fn ghost_takes_all(world: &mut SuiteWorld, seconds: i64) {
    sqlx::query(
        "UPDATE rule_partitions SET owner = 'another-replica', fence = fence + 1, expires_at = $1",
    )
    .bind(now_micros() + seconds * 1_000_000)
    .execute(rules_store(world).pool())
    .await
    .expect("leases taken");
}

#[then(expr = "for {int} second patient {string} has {int} alert in all")]
async fn stays(world: &mut SuiteWorld, seconds: u64, patient: String, count: usize) {
    let until = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < until {
        let listed = super::rules::alerts(world, &patient).await;
        assert_eq!(listed.len(), count, "{listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[then(expr = "for {int} seconds the alert of {string} stays at priority {string}")]
async fn stays_at(world: &mut SuiteWorld, seconds: u64, rule: String, priority: String) {
    let until = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < until {
        let alert = super::rules::alerts(world, "pt-1")
            .await
            .into_iter()
            .find(|a| a.rule_id == rule)
            .expect("an alert of the rule");
        assert_eq!(
            alert.priority().as_str_name(),
            format!("PRIORITY_{}", priority.to_uppercase()),
            "{alert:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
