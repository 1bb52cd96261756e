//! From a reading's acknowledgement to its alert on `WatchAlerts`: a simulated ward streams
//! readings through the real ingestion API at a steady rate (default 10 000 readings/s), each
//! batch of 250 opening with a fall event that raises (or updates) an alert; a clinician's
//! `WatchAlerts` stream timestamps each alert change. Prints the latency p50/p99, the rate the
//! evaluator kept up with and the rule evaluations per second:
//! - in one process, on SQLite and on a durable PostgreSQL;
//! - split: the Kubernetes manifests as shipped run as separate processes (`split.rs`) on a
//!   durable PostgreSQL with 1, 2 and 3 rules replicas, with each replica's share of the
//!   evaluation work and the time its partitions take to move when one is killed.
//!
//! Run: `cargo bench -p sentinel --bench alert_latency` (SENTINEL_BENCH_SECONDS, default 10;
//! SENTINEL_BENCH_RATE, default 10000; SENTINEL_BENCH_STORES, default `sqlite,postgres`;
//! SENTINEL_BENCH_SHAPES, default `one,split`; SENTINEL_BENCH_RULES_REPLICAS, default `1,2,3`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

#[path = "alert_latency/split.rs"]
mod split;
#[path = "alert_latency/ward.rs"]
mod ward;

use sentinel_platform::ServiceKind;
use sentinel_testkit::{StoreKind, TestSuite, registry::admin};
use ward::{BATCH, DEVICES, STREAMS, env};

async fn one_process(store: StoreKind, seconds: u64, rate: u64) {
    let (mut config, data_dir) = TestSuite::prepare(StoreKind::Sqlite, &ServiceKind::ALL).await;
    config.database_url = store.fresh_durable_database_url().await;
    config.ingestion.device_readings_per_second = 1_000_000;
    config.ingestion.device_burst = 1_000_000;
    let suite = TestSuite::start_with(config, data_dir).await;
    let ward = ward::admit(&mut admin(&suite).await).await;
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        streams.push(suite.ingestion_as(&ward.gateway).await);
    }
    let watcher = suite.rules_as(&ward.nurse).await;
    let measured = ward::drive(&ward, streams, watcher, seconds, rate).await;
    println!("{:<9} {}", store.name(), measured.summary(rate));
    suite.stop().await;
}

#[tokio::main]
async fn main() {
    let seconds = env("SENTINEL_BENCH_SECONDS", 10);
    let rate = env("SENTINEL_BENCH_RATE", 10_000);
    let stores =
        std::env::var("SENTINEL_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    let shapes = std::env::var("SENTINEL_BENCH_SHAPES").unwrap_or_else(|_| "one,split".into());
    println!(
        "alert latency benchmark: {DEVICES} patients, batches of {BATCH} over {STREAMS} IngestStreams, {seconds} s at {rate} readings/s"
    );
    let postgres = sentinel_testkit::postgres::durable().is_some();
    if shapes.contains("one") {
        println!("one process:");
        for store in StoreKind::ALL {
            if !stores.contains(store.name()) {
                continue;
            }
            if store == StoreKind::Postgres && !postgres {
                println!("{:<9} skipped: PostgreSQL not installed", store.name());
                continue;
            }
            one_process(store, seconds, rate).await;
        }
    }
    if shapes.contains("split") {
        if !postgres {
            println!("split: skipped, PostgreSQL not installed");
            return;
        }
        let replicas =
            std::env::var("SENTINEL_BENCH_RULES_REPLICAS").unwrap_or_else(|_| "1,2,3".into());
        println!(
            "split (the base manifests as separate processes, durable PostgreSQL; registry ×2, ingestion ×2, audit ×1):"
        );
        for n in replicas.split(',').filter_map(|n| n.trim().parse().ok()) {
            split::run(n, seconds, rate).await;
        }
    }
}
