//! What idle streams cost: `sentinel serve` (the real binary, one process) with 100 idle
//! `FollowReadings` and 100 idle `WatchAlerts` streams open, nothing ingested; the server
//! process's CPU over the window (from /proc), against the same server with no stream open,
//! measured in the same run. Followers are woken by commits (and, across replicas, by
//! PostgreSQL notifications), so idle ones should cost next to nothing.
//!
//! Run: `cargo bench -p sentinel --bench idle_followers` (SENTINEL_BENCH_SECONDS, default 10;
//! SENTINEL_BENCH_FOLLOWERS, default 200; SENTINEL_BENCH_STORES, default `sqlite,postgres`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::{ffi::OsString, path::Path, time::Duration};

use sentinel_contract::{ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules};
use sentinel_testkit::{
    Bearer, StoreKind,
    process::{self, Started},
    registry::issue,
    split::bounded::usage,
};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU of `pid` over `seconds`, as a percentage of one core.
async fn cpu(pid: u32, seconds: u64) -> f64 {
    let (_, before) = usage(pid);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (_, after) = usage(pid);
    (after - before) * 100.0 / seconds as f64
}

async fn run(store: StoreKind, followers: usize, seconds: u64) {
    let data = tempfile::tempdir().unwrap();
    let addr = process::free_address();
    let mut environment = vec![("SENTINEL_LISTEN".to_owned(), addr.to_string())];
    if let Some(url) = store.fresh_durable_database_url().await {
        environment.push(("SENTINEL_DATABASE_URL".to_owned(), url));
    }
    let args: Vec<OsString> = vec!["serve".into(), "--data-dir".into(), data.path().into()];
    let binary = Path::new(env!("CARGO_BIN_EXE_sentinel"));
    let Started::Serving(server) = process::start(binary, &args, &environment, addr).await else {
        panic!("sentinel did not start");
    };
    let admin = process::first_admin(addr, data.path()).await;
    let channel = admin.channel.clone();
    let mut registry_client = admin.registry;
    let (_, follower) = issue(
        &mut registry_client,
        registry::PrincipalKind::Service,
        "idle-follower",
        &["service"],
    )
    .await;
    let (_, nurse) = issue(
        &mut registry_client,
        registry::PrincipalKind::User,
        "idle-nurse",
        &["clinician"],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // start-up work done
    let quiet = cpu(server.pid(), seconds).await;
    let mut streams = Vec::new();
    for n in 0..followers {
        let channel = channel.clone();
        if n % 2 == 0 {
            let mut client =
                ingestion::reading_ingestion_client::ReadingIngestionClient::with_interceptor(
                    channel,
                    Bearer::new(&follower),
                );
            let stream = client
                .follow_readings(ingestion::FollowReadingsRequest { after: 0 })
                .await
                .unwrap();
            streams.push(tokio::spawn(async move {
                let mut stream = stream.into_inner();
                while let Ok(Some(_)) = stream.message().await {}
            }));
        } else {
            let mut client = rules::clinical_rules_client::ClinicalRulesClient::with_interceptor(
                channel,
                Bearer::new(&nurse),
            );
            let stream = client
                .watch_alerts(rules::WatchAlertsRequest {
                    after: 0,
                    routes: Vec::new(),
                })
                .await
                .unwrap();
            streams.push(tokio::spawn(async move {
                let mut stream = stream.into_inner();
                while let Ok(Some(_)) = stream.message().await {}
            }));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // every stream caught up and waiting
    let idle = cpu(server.pid(), seconds).await;
    let (rss, _) = usage(server.pid());
    println!(
        "{:<9} server CPU over {seconds} s: {quiet:.1} % of a core with no stream, {idle:.1} % with {followers} idle streams \
         ({:.1} percentage points for the streams); resident {} MiB",
        store.name(),
        idle - quiet,
        rss / 1024,
    );
    for stream in streams {
        stream.abort();
    }
    server.terminate().await;
}

#[tokio::main]
async fn main() {
    let seconds = env("SENTINEL_BENCH_SECONDS", 10);
    let followers = env("SENTINEL_BENCH_FOLLOWERS", 200) as usize;
    let stores =
        std::env::var("SENTINEL_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    println!(
        "idle followers benchmark: {followers} idle streams (half FollowReadings, half WatchAlerts)"
    );
    for store in StoreKind::ALL {
        if !stores.contains(store.name()) {
            continue;
        }
        if store == StoreKind::Postgres && sentinel_testkit::postgres::durable().is_none() {
            println!("{:<9} skipped: PostgreSQL not installed", store.name());
            continue;
        }
        run(store, followers, seconds).await;
    }
}
