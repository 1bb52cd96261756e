//! `IngestStream`, per-device rate limits, the in-flight bound, and commit order under
//! concurrent writers.

use std::{collections::HashSet, time::Duration};

use sentinel_contract::ingestion::v1 as pb;
use sentinel_testkit::{StoreKind, TestSuite};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_types::StatusExt;

use super::{ALL, Ingestion, ingest, now, reading, setup, stores};

fn batch(device: &str, id: &str, from: u32, count: u32) -> pb::IngestRequest {
    let t = now() - 60_000_000;
    pb::IngestRequest {
        batch_id: id.into(),
        readings: (from..from + count)
            .map(|i| reading(device, &i.to_string(), "8867-4", 70.0, "/min", t))
            .collect(),
    }
}

/// Opens a stream: batches go in through the sender, acknowledgements come out of the stream.
async fn open(
    client: &mut Ingestion,
) -> (
    mpsc::Sender<pb::IngestRequest>,
    tonic::Streaming<pb::IngestResponse>,
) {
    let (tx, rx) = mpsc::channel(16);
    let acks = client
        .ingest_stream(ReceiverStream::new(rx))
        .await
        .expect("open stream")
        .into_inner();
    (tx, acks)
}

#[tokio::test]
async fn streamed_batches_are_acknowledged_by_id_and_survive_a_crash_without_duplicates() {
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let (tx, mut acks) = open(&mut client).await;
        for n in 0..3 {
            tx.send(batch(&device, &format!("s-{n}"), n * 10, 10))
                .await
                .unwrap();
        }
        for n in 0..3 {
            let ack = acks.message().await.unwrap().unwrap();
            assert_eq!(ack.batch_id, format!("s-{n}"), "{}", store.name());
            assert_eq!(ack.accepted, 10);
        }
        // A fourth batch goes out and the server dies before its acknowledgement is read.
        tx.send(batch(&device, "s-3", 30, 10)).await.unwrap();
        let (config, data) = suite.crash();
        let again = TestSuite::start_with(config, data).await;
        let token = again.admin_token();
        let mut admin = again.ingestion_as(&token).await;
        // The client reconnects and sends the unacknowledged batch again, and one it had.
        let mut retried = pb::reading_ingestion_client::ReadingIngestionClient::with_interceptor(
            again.channel().await,
            sentinel_testkit::Bearer::new(again.running().service_token()),
        );
        let (tx, mut acks) = open(&mut retried).await;
        tx.send(batch(&device, "s-2", 20, 10)).await.unwrap();
        tx.send(batch(&device, "s-3", 30, 10)).await.unwrap();
        let redone = acks.message().await.unwrap().unwrap();
        assert!(redone.results.iter().all(|r| r.accepted && r.duplicate));
        let last = acks.message().await.unwrap().unwrap();
        assert_eq!(last.accepted, 10);
        let stored = admin
            .list_readings(pb::ListReadingsRequest {
                device_id: device.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .readings;
        let sequences: HashSet<_> = stored.iter().map(|r| r.sequence.clone()).collect();
        assert_eq!(stored.len(), 40, "{}: every reading once", store.name());
        assert_eq!(sequences.len(), 40);
        again.stop().await;
    }
}

#[tokio::test]
async fn a_device_past_its_rate_limit_is_told_when_to_retry_and_nothing_is_quarantined() {
    for store in stores() {
        let (mut config, data) = TestSuite::prepare(store, &ALL).await;
        config.ingestion.device_readings_per_second = 1;
        config.ingestion.device_burst = 3;
        let suite = TestSuite::start_with(config, data).await;
        let (device, mut client) = super::device_client(&suite).await;
        let response = ingest(&mut client, "burst", batch(&device, "x", 0, 5).readings).await;
        assert_eq!(response.accepted, 3, "{}", store.name());
        for result in &response.results[3..] {
            assert!(!result.accepted);
            let wait = result.retry_after.expect("retry_after");
            assert!(wait.seconds > 0 || wait.nanos > 0);
            assert_eq!(
                result.violations[0].field,
                format!("readings[{}].device_id", result.index)
            );
        }
        let mut admin = suite.ingestion_as(&suite.admin_token()).await;
        let quarantined = admin
            .list_quarantine(pb::ListQuarantineRequest::default())
            .await
            .unwrap()
            .into_inner()
            .readings;
        assert!(quarantined.is_empty());
        // After the wait the refused readings are taken.
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let later = ingest(&mut client, "burst", batch(&device, "x", 0, 5).readings).await;
        assert_eq!(later.accepted, 5, "{later:?}");
        assert_eq!(later.results.iter().filter(|r| r.duplicate).count(), 3);
        suite.stop().await;
    }
}

#[tokio::test]
async fn past_the_in_flight_bound_callers_get_resource_exhausted_with_retry_info() {
    let (mut config, data) = TestSuite::prepare(StoreKind::Sqlite, &ALL).await;
    config.ingestion.max_in_flight_batches = 1;
    let suite = TestSuite::start_with(config, data).await;
    let (device, client) = super::device_client(&suite).await;
    // Another writer holds the store's write lock, so the first batch waits inside its slot.
    sqlx::any::install_default_drivers();
    let path = suite.data_dir().join("ingestion.db");
    let mut blocker =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let mut first_client = client.clone();
    let first_batch = batch(&device, "first", 0, 10);
    let first = tokio::spawn(async move { first_client.ingest(first_batch).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut second = client.clone();
    let status = second
        .ingest(batch(&device, "second", 100, 10))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    let retry = status.get_details_retry_info().expect("RetryInfo");
    assert!(retry.retry_delay.is_some());
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    let first = first.await.unwrap().expect("the first batch completes");
    assert_eq!(first.into_inner().accepted, 10);
    suite.stop().await;
}

#[tokio::test]
async fn concurrent_writers_never_let_a_follower_skip_a_reading() {
    const WRITERS: u32 = 4;
    const BATCHES: u32 = 15;
    const SIZE: u32 = 10;
    for store in stores() {
        let (suite, device, client) = setup(store).await;
        let mut follower = pb::reading_ingestion_client::ReadingIngestionClient::with_interceptor(
            suite.channel().await,
            sentinel_testkit::Bearer::new(suite.running().service_token()),
        );
        let mut followed = follower
            .follow_readings(pb::FollowReadingsRequest { after: 0 })
            .await
            .unwrap()
            .into_inner();
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let mut client = client.clone();
            let device = device.clone();
            writers.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for b in 0..BATCHES {
                    let from = (w * BATCHES + b) * SIZE;
                    let ack = client
                        .ingest(batch(&device, &format!("w{w}-b{b}"), from, SIZE))
                        .await
                        .unwrap()
                        .into_inner();
                    ids.extend(ack.results.into_iter().map(|r| r.reading_id));
                }
                ids
            }));
        }
        let mut acked = HashSet::new();
        for writer in writers {
            acked.extend(writer.await.unwrap());
        }
        let total = (WRITERS * BATCHES * SIZE) as usize;
        assert_eq!(acked.len(), total);
        let mut positions = Vec::new();
        let mut seen = HashSet::new();
        while positions.len() < total {
            let next = tokio::time::timeout(Duration::from_secs(10), followed.message())
                .await
                .expect("the follower gets every reading")
                .unwrap()
                .unwrap();
            positions.push(next.position);
            seen.insert(next.reading.unwrap().id);
        }
        // Positions are handed out in commit order: 1, 2, 3, … without a gap or a repeat.
        let expected: Vec<u64> = (1..=total as u64).collect();
        assert_eq!(positions, expected, "{}", store.name());
        assert_eq!(seen, acked);
        suite.stop().await;
    }
}

/// Replicas on one PostgreSQL: a follower served by one replica is told of readings committed
/// through another by notification, not at its next look (every 30 s while notifications
/// arrive). Five commits each seen within 500 ms: by polling alone that happens about once in
/// a thousand runs.
#[tokio::test]
async fn a_follower_on_one_replica_hears_at_once_of_commits_through_another() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let (mut config, first_dir) = TestSuite::prepare(StoreKind::Postgres, &ALL).await;
    // One audit log, one key: both replicas sign with the bootstrap's.
    let _files = TestSuite::bootstrap_shared(&mut config);
    let first = TestSuite::start_with(config.clone(), first_dir).await;
    let second_dir = tempfile::tempdir().unwrap();
    let mut second_config = config;
    second_config.data_dir = second_dir.path().to_owned();
    let second = TestSuite::start_with(second_config, second_dir).await;
    let (device, mut client) = super::device_client(&first).await;
    let mut follower = pb::reading_ingestion_client::ReadingIngestionClient::with_interceptor(
        second.channel().await,
        sentinel_testkit::Bearer::new(second.running().service_token()),
    );
    let mut followed = follower
        .follow_readings(pb::FollowReadingsRequest { after: 0 })
        .await
        .unwrap()
        .into_inner();
    client
        .ingest(batch(&device, "warm-up", 0, 1))
        .await
        .unwrap();
    next(&mut followed).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // both replicas listening by now
    let mut slowest = Duration::ZERO;
    for n in 1..=5 {
        client
            .ingest(batch(&device, &format!("b{n}"), n, 1))
            .await
            .unwrap();
        let acked = std::time::Instant::now();
        next(&mut followed).await;
        slowest = slowest.max(acked.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        slowest < Duration::from_millis(500),
        "the slowest of five took {slowest:?}: heard by polling, not by notification"
    );
    second.stop().await;
    first.stop().await;
}

async fn next(followed: &mut tonic::Streaming<pb::LoggedReading>) -> pb::LoggedReading {
    tokio::time::timeout(Duration::from_secs(10), followed.message())
        .await
        .expect("the reading reaches the other replica's follower")
        .unwrap()
        .unwrap()
}
