//! Steps of ingestion under load: streams, per-device rate limits, the in-flight bound.

use std::time::Duration;

use cucumber::{given, then, when};
use sentinel_contract::{common::v1 as common, ingestion::v1 as pb};
use sentinel_platform::{Backend, ServiceKind};
use sentinel_testkit::{TestSuite, registry::at};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_types::StatusExt;

use crate::world::{SuiteWorld, store};

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// `count` heart rates of `device`, sequences from `from` on.
fn batch(device: &str, id: &str, from: u32, count: u32) -> pb::IngestRequest {
    pb::IngestRequest {
        batch_id: id.into(),
        readings: (from..from + count)
            .map(|i| pb::ReadingInput {
                device_id: device.into(),
                sequence: i.to_string(),
                observed_at: at(now() - 60_000_000),
                code: Some(common::Coding {
                    system: "http://loinc.org".into(),
                    code: "8867-4".into(),
                    display: String::new(),
                }),
                value: Some(common::Quantity {
                    value: 70.0,
                    unit: "/min".into(),
                }),
                ..Default::default()
            })
            .collect(),
    }
}

#[given(
    expr = "the suite runs with all services, devices limited to {int} reading per second with a burst of {int}"
)]
async fn rate_limited(world: &mut SuiteWorld, rate: u32, burst: u32) {
    let (mut config, data) = TestSuite::prepare(store(), &ServiceKind::ALL).await;
    config.ingestion.device_readings_per_second = rate;
    config.ingestion.device_burst = burst;
    world.suite = Some(TestSuite::start_with(config, data).await);
}

#[given(expr = "the suite runs with all services and at most {int} batch in flight")]
async fn bounded(world: &mut SuiteWorld, in_flight: u32) {
    let (mut config, data) = TestSuite::prepare(store(), &ServiceKind::ALL).await;
    config.ingestion.max_in_flight_batches = in_flight;
    world.suite = Some(TestSuite::start_with(config, data).await);
}

#[when(expr = "device {string} streams batches {string} of {int} readings each")]
async fn streams(world: &mut SuiteWorld, name: String, ids: String, size: u32) {
    let device = world.registry.devices[&name].clone();
    let secret = world.registry.credentials[&name].1.clone();
    let mut client = suite(world).ingestion_as(&secret).await;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut acks = client
        .ingest_stream(ReceiverStream::new(rx))
        .await
        .expect("a stream")
        .into_inner();
    let ids: Vec<&str> = ids.split(',').collect();
    for id in &ids {
        // Batch sN holds sequences from N × size on, so a resent batch is the same readings.
        let n: u32 = id.trim_start_matches('s').parse().expect("s<number>");
        tx.send(batch(&device, id, n * size, size))
            .await
            .expect("sent");
    }
    world.ingestion.acks.clear();
    for _ in &ids {
        let ack = tokio::time::timeout(Duration::from_secs(10), acks.message())
            .await
            .expect("acknowledged in time")
            .expect("no error")
            .expect("an acknowledgement");
        world
            .ingestion
            .acked
            .insert(ack.batch_id.clone(), ack.clone());
        world.ingestion.acks.push(ack);
    }
}

#[then(expr = "the stream acknowledges {string} in order, each with {int} accepted")]
async fn acknowledged(world: &mut SuiteWorld, ids: String, accepted: u32) {
    let got: Vec<&str> = world
        .ingestion
        .acks
        .iter()
        .map(|a| a.batch_id.as_str())
        .collect();
    assert_eq!(got, ids.split(',').collect::<Vec<_>>());
    assert!(
        world
            .ingestion
            .acks
            .iter()
            .all(|a| a.accepted == accepted && a.rejected == 0)
    );
}

#[then(expr = "batch {string} was acknowledged as duplicates")]
async fn acknowledged_as_duplicates(world: &mut SuiteWorld, id: String) {
    let ack = &world.ingestion.acked[&id];
    assert!(
        ack.results.iter().all(|r| r.accepted && r.duplicate),
        "{ack:?}"
    );
}

fn last(world: &SuiteWorld) -> &pb::IngestResponse {
    world
        .ingestion
        .last
        .as_ref()
        .expect("a batch was submitted")
}

#[then(
    expr = "readings {int} to {int} are accepted and readings {int} to {int} are deferred with a retry delay"
)]
async fn deferred(world: &mut SuiteWorld, a: usize, b: usize, c: usize, d: usize) {
    let results = &last(world).results;
    for result in &results[a - 1..b] {
        assert!(result.accepted && !result.duplicate, "{result:?}");
    }
    for result in &results[c - 1..d] {
        assert!(!result.accepted, "{result:?}");
        let wait = result.retry_after.expect("a retry delay");
        assert!(wait.seconds > 0 || wait.nanos > 0);
    }
}

#[when(expr = "{int} seconds pass and device {string} submits batch {string} again")]
async fn later_again(world: &mut SuiteWorld, seconds: u64, name: String, id: String) {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let readings = world.ingestion.batches[&id].clone();
    let secret = world.registry.credentials[&name].1.clone();
    let mut client = suite(world).ingestion_as(&secret).await;
    let response = client
        .ingest(pb::IngestRequest {
            batch_id: id,
            readings,
        })
        .await
        .expect("ingest answers")
        .into_inner();
    world.ingestion.last = Some(response);
}

#[then(expr = "readings {int} to {int} are duplicates and readings {int} to {int} are accepted")]
async fn duplicates_then_accepted(world: &mut SuiteWorld, a: usize, b: usize, c: usize, d: usize) {
    let results = &last(world).results;
    assert!(
        results[a - 1..b].iter().all(|r| r.accepted && r.duplicate),
        "{results:?}"
    );
    assert!(
        results[c - 1..d].iter().all(|r| r.accepted && !r.duplicate),
        "{results:?}"
    );
}

#[given("another writer holds the reading log's write lock")]
async fn hold_lock(world: &mut SuiteWorld) {
    let store = suite(world).store(ServiceKind::Ingestion).clone();
    let mut tx = store.begin_write().await.expect("a write transaction");
    if store.backend() == Backend::Postgres {
        sqlx::query("LOCK TABLE readings IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .expect("locked");
    }
    world.ingestion.blocker = Some(tx);
}

#[when(expr = "device {string} starts a batch of {int} readings that waits for the lock")]
async fn start_waiting(world: &mut SuiteWorld, name: String, count: u32) {
    let device = world.registry.devices[&name].clone();
    let secret = world.registry.credentials[&name].1.clone();
    let mut client = suite(world).ingestion_as(&secret).await;
    let request = batch(&device, "waiting", 0, count);
    world.ingestion.waiting = Some(tokio::spawn(async move { client.ingest(request).await }));
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[when(expr = "device {string} submits another batch meanwhile")]
async fn another_meanwhile(world: &mut SuiteWorld, name: String) {
    let device = world.registry.devices[&name].clone();
    let secret = world.registry.credentials[&name].1.clone();
    let mut client = suite(world).ingestion_as(&secret).await;
    world.ingestion.refused = client
        .ingest(batch(&device, "meanwhile", 100, 5))
        .await
        .err();
}

#[then("that batch is refused as RESOURCE_EXHAUSTED with a retry delay")]
async fn exhausted(world: &mut SuiteWorld) {
    let status = world.ingestion.refused.as_ref().expect("refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let retry = status.get_details_retry_info().expect("RetryInfo");
    assert!(retry.retry_delay.is_some());
}

#[when("the other writer lets go")]
async fn let_go(world: &mut SuiteWorld) {
    let tx = world.ingestion.blocker.take().expect("a held lock");
    tx.rollback().await.expect("rolled back");
}

#[then(expr = "the waiting batch is acknowledged with {int} accepted")]
async fn waiting_done(world: &mut SuiteWorld, accepted: u32) {
    let handle = world.ingestion.waiting.take().expect("a waiting batch");
    let response = tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("in time")
        .expect("joined")
        .expect("acknowledged")
        .into_inner();
    assert_eq!(response.accepted, accepted);
}

#[then(expr = "no reading of device {string} is in quarantine")]
async fn none_quarantined(world: &mut SuiteWorld, name: String) {
    let device = world.registry.devices[&name].clone();
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    let entries = client
        .list_quarantine(pb::ListQuarantineRequest {
            device_id: device,
            include_resolved: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .readings;
    assert!(entries.is_empty(), "{entries:?}");
}

#[when(
    expr = "device {string} submits a heart rate of {word} observed {string} with sequence {string}"
)]
async fn heart_rate_at(
    world: &mut SuiteWorld,
    name: String,
    value: String,
    observed: String,
    sequence: String,
) {
    let minute = 60_000_000;
    let at_micros = match observed.as_str() {
        "now" => now(),
        "in 2099" => 4_070_908_800_000_000,
        "8 days ago" => now() - 8 * 24 * 60 * minute,
        "10 minutes ahead" => now() + 10 * minute,
        other => panic!("unknown time {other}"),
    };
    let device = world.registry.devices[&name].clone();
    let mut request = batch(&device, "rules", 0, 1);
    request.readings[0].sequence = sequence;
    request.readings[0].observed_at = at(at_micros);
    request.readings[0].value = Some(common::Quantity {
        value: value.parse().expect("a number"),
        unit: "/min".into(),
    });
    let secret = world.registry.credentials[&name].1.clone();
    let mut client = suite(world).ingestion_as(&secret).await;
    let response = client
        .ingest(request)
        .await
        .expect("ingest answers")
        .into_inner();
    world.ingestion.last = Some(response);
}

#[given(expr = "device {string} is decommissioned")]
async fn decommissioned(world: &mut SuiteWorld, name: String) {
    let id = world.registry.devices[&name].clone();
    let mut client = sentinel_testkit::registry::admin(suite(world)).await;
    client
        .decommission_device(sentinel_contract::registry::v1::ChangeStatusRequest {
            id,
            reason: "end of life".into(),
        })
        .await
        .expect("decommissioned");
}

#[when(expr = "{int} batches of {int} readings from {int} devices arrive at once")]
async fn flood_arrives(world: &mut SuiteWorld, batches: usize, readings: usize, devices: usize) {
    let suite = world.suite.as_ref().expect("a running suite");
    let flood =
        sentinel_testkit::flood::flood(suite, "pt-flood", (batches, devices, readings)).await;
    world.flood = Some(flood);
}

#[then(
    "every batch is acknowledged and stored whole, or refused as RESOURCE_EXHAUSTED or UNAVAILABLE with RetryInfo"
)]
async fn flood_bounded(world: &mut SuiteWorld) {
    let flood = world.flood.take().expect("a flood");
    assert!(flood.not_retryable.is_empty(), "{flood:?}");
    assert_eq!(flood.refused_without_retry_info, 0, "{flood:?}");
    assert!(flood.not_stored_whole.is_empty(), "{flood:?}");
    assert!(flood.acknowledged > 0, "{flood:?}");
}

#[then("every batch is refused as UNAVAILABLE with RetryInfo")]
async fn flood_unavailable(world: &mut SuiteWorld) {
    let flood = world.flood.take().expect("a flood");
    assert_eq!(flood.acknowledged, 0, "{flood:?}");
    assert_eq!(
        flood.refused.get("Unavailable"),
        Some(&flood.batches),
        "{flood:?}"
    );
    assert_eq!(flood.refused_without_retry_info, 0, "{flood:?}");
}
