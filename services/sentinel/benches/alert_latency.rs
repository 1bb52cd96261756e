//! From a reading's acknowledgement to its alert on `WatchAlerts`: a simulated ward streams
//! readings through the real ingestion API at a steady rate (default 10 000 readings/s), each
//! batch of 250 opening with a fall event that raises (or updates) an alert; a clinician's
//! `WatchAlerts` stream timestamps each alert change. Prints the latency p50/p99, the rate the evaluator kept up with
//! and the rule evaluations per second, on SQLite and on a durable PostgreSQL.
//!
//! Run: `cargo bench -p sentinel --bench alert_latency` (SENTINEL_BENCH_SECONDS, default 10;
//! SENTINEL_BENCH_RATE, default 10000; SENTINEL_BENCH_STORES, default `sqlite,postgres`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sentinel_contract::{
    common::v1 as common, ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules,
};
use sentinel_platform::{ServiceKind, time::now_micros};
use sentinel_testkit::{
    StoreKind, TestSuite,
    registry::{admin, at, issue, register_bound, spec},
};
use tokio_stream::wrappers::ReceiverStream;

const DEVICES: usize = 200;
const BATCH: usize = 250;
const STREAMS: usize = 4;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

fn coding(system: &str, code: &str) -> Option<common::Coding> {
    Some(common::Coding {
        system: system.into(),
        code: code.into(),
        display: String::new(),
    })
}

/// Batch `n`: heart rates and glucose across the ward's devices, and one fall (the marker),
/// first in the batch.
fn batch(devices: &[String], n: u64) -> ingestion::IngestRequest {
    let observed = at(now_micros() - 1_000_000);
    let readings = (0..BATCH)
        .map(|i| {
            let device = &devices[(n as usize * 7 + i) % devices.len()];
            let mut reading = ingestion::ReadingInput {
                device_id: device.clone(),
                sequence: format!("{n}-{i}"),
                observed_at: observed,
                ..Default::default()
            };
            if i == 0 {
                reading.code = coding("urn:sentinel:event", "fall-detected");
            } else if i % 2 == 0 {
                reading.code = coding("http://loinc.org", "8867-4");
                reading.value = Some(common::Quantity {
                    value: 72.0,
                    unit: "/min".into(),
                });
            } else {
                reading.code = coding("http://loinc.org", "2339-0");
                reading.value = Some(common::Quantity {
                    value: 110.0,
                    unit: "mg/dL".into(),
                });
            }
            reading
        })
        .collect();
    ingestion::IngestRequest {
        batch_id: format!("ward-{n}"),
        readings,
    }
}

/// Active built-in rules each reading of the mix is evaluated against, on average.
fn rules_per_reading() -> f64 {
    let library = sentinel_rules::domain::rule::builtin().unwrap();
    let news2_inputs = ["8867-4"];
    let count = |code: &str| {
        library
            .iter()
            .filter(|r| {
                r.applies_to.codes.iter().any(|c| c == code)
                    || (matches!(r.logic, sentinel_rules::domain::rule::Logic::News2 { .. })
                        && news2_inputs.contains(&code))
            })
            .count() as f64
    };
    let others = (BATCH - 1) as f64 / 2.0;
    let per_batch = count("fall-detected") + others * count("8867-4") + others * count("2339-0");
    per_batch / BATCH as f64
}

async fn run(store: StoreKind, seconds: u64, rate: u64) {
    let (mut config, data_dir) = TestSuite::prepare(StoreKind::Sqlite, &ServiceKind::ALL).await;
    config.database_url = store.fresh_durable_database_url().await;
    config.ingestion.device_readings_per_second = 1_000_000;
    config.ingestion.device_burst = 1_000_000;
    let suite = TestSuite::start_with(config, data_dir).await;
    let mut registry_client = admin(&suite).await;
    let mut devices = Vec::new();
    for d in 0..DEVICES {
        let id = register_bound(
            &mut registry_client,
            spec(&format!("WARD-{d}")),
            &format!("pt-{d}"),
            86_400_000_000,
        )
        .await;
        devices.push(id);
    }
    let (_, gateway) = issue(
        &mut registry_client,
        registry::PrincipalKind::Gateway,
        "gw-home-7",
        &["gateway"],
    )
    .await;
    let (_, nurse) = issue(
        &mut registry_client,
        registry::PrincipalKind::User,
        "nurse",
        &["clinician"],
    )
    .await;
    // The clinician's view: when each marker's alert change arrives.
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut watch = suite
        .rules_as(&nurse)
        .await
        .watch_alerts(rules::WatchAlertsRequest {
            after: 0,
            routes: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let watcher = {
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok(Some(change)) = watch.message().await {
                let now = Instant::now();
                let mut seen = seen.lock().unwrap();
                for reading in change.reading_ids {
                    seen.entry(reading).or_insert(now);
                }
            }
        })
    };
    // Wait for the library and the evaluator to be in place.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Four gateways' streams, batches dealt round-robin.
    let acked: Arc<Mutex<HashMap<String, (Instant, String)>>> = Arc::default();
    let mut senders = Vec::new();
    let mut ack_readers = Vec::new();
    for _ in 0..STREAMS {
        let mut client = suite.ingestion_as(&gateway).await;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let mut acks = client
            .ingest_stream(ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        let acked = Arc::clone(&acked);
        ack_readers.push(tokio::spawn(async move {
            let mut count = 0u64;
            loop {
                match acks.message().await {
                    Ok(Some(ack)) => {
                        count += u64::from(ack.accepted);
                        let marker = ack
                            .results
                            .first()
                            .map(|r| r.reading_id.clone())
                            .unwrap_or_default();
                        acked
                            .lock()
                            .unwrap()
                            .insert(ack.batch_id, (Instant::now(), marker));
                    }
                    Ok(None) => return count,
                    Err(status) => {
                        println!("stream ended: {status:?}");
                        return count;
                    }
                }
            }
        }));
        senders.push(tx);
    }
    let interval = Duration::from_secs_f64(BATCH as f64 / rate as f64);
    let started = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    let batches = (seconds as f64 / interval.as_secs_f64()) as u64;
    for n in 0..batches {
        ticker.tick().await;
        let sender = &senders[n as usize % STREAMS];
        if sender.send(batch(&devices, n)).await.is_err() {
            break;
        }
    }
    drop(senders);
    let mut ingested = 0;
    for reader in ack_readers {
        ingested += reader.await.unwrap();
    }
    let ingest_seconds = started.elapsed().as_secs_f64();
    // Let evaluation catch up, then measure.
    let deadline = Instant::now() + Duration::from_secs(30);
    let markers: Vec<(Instant, String)> = acked.lock().unwrap().values().cloned().collect();
    while Instant::now() < deadline {
        let done = {
            let seen = seen.lock().unwrap();
            markers.iter().all(|(_, id)| seen.contains_key(id))
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let evaluated_seconds = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = {
        let seen = seen.lock().unwrap();
        markers
            .iter()
            .filter_map(|(acked_at, id)| {
                seen.get(id).map(|s| s.saturating_duration_since(*acked_at))
            })
            .collect()
    };
    let missing = markers.len() - latencies.len();
    latencies.sort();
    let readings_per_second = ingested as f64 / ingest_seconds;
    println!(
        "{:<9} offered {rate} readings/s: ingested {readings_per_second:>7.0}/s; all evaluated after {evaluated_seconds:.1} s \
         ({:.0} rule evaluations/s); ack → WatchAlerts p50 {:.1} ms  p99 {:.1} ms  ({} markers, {missing} not seen)",
        store.name(),
        ingested as f64 * rules_per_reading() / evaluated_seconds,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.len(),
    );
    watcher.abort();
    suite.stop().await;
}

#[tokio::main]
async fn main() {
    let seconds = env("SENTINEL_BENCH_SECONDS", 10);
    let rate = env("SENTINEL_BENCH_RATE", 10_000);
    let stores =
        std::env::var("SENTINEL_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    println!(
        "alert latency benchmark: {DEVICES} patients, batches of {BATCH} over {STREAMS} IngestStreams, {seconds} s at {rate} readings/s"
    );
    for store in StoreKind::ALL {
        if !stores.contains(store.name()) {
            continue;
        }
        if store == StoreKind::Postgres && sentinel_testkit::postgres::durable().is_none() {
            println!("{:<9} skipped: PostgreSQL not installed", store.name());
            continue;
        }
        run(store, seconds, rate).await;
    }
}
