//! Audit appends per second through the real gRPC API over loopback, from one caller and from
//! 16 concurrent callers, on SQLite (WAL, synchronous=FULL) and on a durable PostgreSQL, with
//! latency percentiles and the rate of full verification.
//!
//! Run: `cargo bench -p sentinel --bench audit_append` (SENTINEL_BENCH_APPENDS scales it).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use sentinel_contract::audit::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::{StoreKind, TestSuite, audit::entry};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

/// Appends `per_caller` records from each of `callers` concurrent clients; returns appends/s
/// and every append's latency.
async fn run(suite: &TestSuite, callers: usize, per_caller: usize) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let mut client = suite.audit().await;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_caller);
            for i in 0..per_caller {
                let request = pb::AppendRequest {
                    entry: Some(entry(
                        &format!("user-{caller}"),
                        "alert.acknowledged",
                        "alert",
                        &format!("alert-{i}"),
                    )),
                };
                let sent = Instant::now();
                client.append(request).await.expect("append");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let rate = (callers * per_caller) as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (rate, latencies)
}

#[tokio::main]
async fn main() {
    let appends: usize = std::env::var("SENTINEL_BENCH_APPENDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    println!("audit append benchmark: gRPC over loopback, {appends} appends per run");
    for store in StoreKind::ALL {
        if store == StoreKind::Postgres && sentinel_testkit::postgres::durable().is_none() {
            println!("{:<9} skipped: PostgreSQL not installed", store.name());
            continue;
        }
        let (mut config, data_dir) = TestSuite::prepare(
            StoreKind::Sqlite,
            &[ServiceKind::Registry, ServiceKind::Audit],
        )
        .await;
        config.database_url = store.fresh_durable_database_url().await;
        let suite = TestSuite::start_with(config, data_dir).await;
        run(&suite, 4, 50).await; // warm up connections and pages
        for callers in [1, 16] {
            let (rate, latencies) = run(&suite, callers, appends / callers).await;
            println!(
                "{:<9} {:>2} caller(s): {:>8.0} appends/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
                store.name(),
                callers,
                rate,
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
            );
        }
        let mut client = suite.audit().await;
        let started = Instant::now();
        let verdict = client
            .verify(pb::VerifyRequest::default())
            .await
            .unwrap()
            .into_inner();
        let seconds = started.elapsed().as_secs_f64();
        assert!(matches!(
            verdict.verdict,
            Some(pb::verify_response::Verdict::Intact(_))
        ));
        println!(
            "{:<9} verify: {} records in {:.2} s ({:.0} records/s)",
            store.name(),
            verdict.checked,
            seconds,
            verdict.checked as f64 / seconds
        );
        suite.stop().await;
    }
}
