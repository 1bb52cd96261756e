//! Durable reading ingestion through the real gRPC API over loopback — streams of batches from
//! many devices, and unary batches — next to the ceiling: the same rows written directly by
//! the same store in 1000-row transactions. On SQLite (WAL, synchronous=FULL) and a durable
//! PostgreSQL.
//!
//! Run: `cargo bench -p sentinel --bench ingest`. Knobs: SENTINEL_BENCH_SECONDS (per phase,
//! default 10), SENTINEL_BENCH_STORES (`sqlite,postgres`), SENTINEL_BENCH_SOAK_SECONDS (run the
//! stream phase that long and print the process's resident memory every 30 s).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sentinel_contract::{common::v1 as common, ingestion::v1 as pb, registry::v1 as registry};
use sentinel_ingestion::{
    domain::reading::{Quantity, ReadingInput, StoredReading, TimeWindow},
    storage::ReadingStore,
};
use sentinel_platform::{ServiceKind, ids::new_id, time::now_micros};
use sentinel_testkit::{
    StoreKind, TestSuite,
    registry::{admin, at, issue, register_bound, spec},
};
use tokio_stream::wrappers::ReceiverStream;

const DEVICES: usize = 200;
const BATCH: usize = 500;
/// Batches each stream keeps unacknowledged.
const WINDOW: usize = 4;

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
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

/// A realistic mix: heart rate, temperature in °F, SpO2, glucose in mmol/L, blood pressure.
fn reading(device: &str, sequence: u64, observed: i64) -> pb::ReadingInput {
    let loinc = |code: &str| {
        Some(common::Coding {
            system: "http://loinc.org".into(),
            code: code.into(),
            display: String::new(),
        })
    };
    let q = |value: f64, unit: &str| {
        Some(common::Quantity {
            value,
            unit: unit.into(),
        })
    };
    let mut input = pb::ReadingInput {
        device_id: device.into(),
        sequence: sequence.to_string(),
        observed_at: at(observed),
        ..Default::default()
    };
    match sequence % 5 {
        0 => {
            let rate = 60.0 + (sequence % 40) as f64;
            (input.code, input.value) = (loinc("8867-4"), q(rate, "/min"));
        }
        1 => (input.code, input.value) = (loinc("8310-5"), q(98.6, "[degF]")),
        2 => (input.code, input.value) = (loinc("59408-5"), q(97.0, "%")),
        3 => (input.code, input.value) = (loinc("2339-0"), q(5.4, "mmol/L")),
        _ => {
            input.code = loinc("85354-9");
            input.components = vec![
                pb::Component {
                    code: loinc("8480-6"),
                    value: q(120.0, "mm[Hg]"),
                },
                pb::Component {
                    code: loinc("8462-4"),
                    value: q(80.0, "mm[Hg]"),
                },
            ];
        }
    }
    input
}

/// Hands out sequence numbers, so every phase writes new readings.
struct Sequencer(AtomicU64);

impl Sequencer {
    /// A batch spanning 50 devices, 10 readings each.
    fn batch(&self, devices: &[String], id: u64) -> pb::IngestRequest {
        let first = self.0.fetch_add(BATCH as u64, Ordering::Relaxed);
        let observed = now_micros() - 60_000_000;
        let offset = (id as usize * 50) % devices.len();
        pb::IngestRequest {
            batch_id: format!("bench-{first}"),
            readings: (0..BATCH as u64)
                .map(|i| {
                    let device = &devices[(offset + (i as usize % 50)) % devices.len()];
                    reading(device, first + i, observed)
                })
                .collect(),
        }
    }
}

type Client = sentinel_contract::ingestion::v1::reading_ingestion_client::ReadingIngestionClient<
    sentinel_testkit::Authed,
>;

/// `STREAMS` streams, each keeping `WINDOW` batches in flight, for `seconds`: readings/s and
/// each batch's send-to-acknowledgement latency.
async fn streams(
    clients: &[Client],
    devices: &Arc<Vec<String>>,
    sequencer: &Arc<Sequencer>,
    seconds: u64,
) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (s, client) in clients.iter().enumerate() {
        let mut client = client.clone();
        let devices = Arc::clone(devices);
        let sequencer = Arc::clone(sequencer);
        tasks.push(tokio::spawn(async move {
            let (tx, rx) = tokio::sync::mpsc::channel(WINDOW);
            let mut acks = client
                .ingest_stream(ReceiverStream::new(rx))
                .await
                .expect("stream")
                .into_inner();
            let mut sent = std::collections::VecDeque::new();
            let mut latencies = Vec::new();
            let mut accepted = 0u64;
            let mut n = s as u64 * 1_000_000;
            loop {
                while sent.len() < WINDOW && Instant::now() < deadline {
                    tx.send(sequencer.batch(&devices, n)).await.expect("sent");
                    sent.push_back(Instant::now());
                    n += 1;
                }
                let Some(at) = sent.pop_front() else { break };
                let ack = acks.message().await.expect("ack").expect("an ack");
                latencies.push(at.elapsed());
                accepted += u64::from(ack.accepted);
            }
            (accepted, latencies)
        }));
    }
    let mut latencies = Vec::new();
    let mut accepted = 0;
    for task in tasks {
        let (a, l) = task.await.unwrap();
        accepted += a;
        latencies.extend(l);
    }
    latencies.sort();
    (accepted as f64 / started.elapsed().as_secs_f64(), latencies)
}

/// The same kind of rows written straight into the same store: 1000-row transactions under
/// the log's lock, with no gRPC, no checks, no audit record.
async fn ceiling(
    store: &ReadingStore,
    devices: &[String],
    sequencer: &Sequencer,
    seconds: u64,
) -> f64 {
    let started = Instant::now();
    let mut written = 0u64;
    let window = TimeWindow {
        now: now_micros(),
        max_future: 300_000_000,
        max_past: 3_600_000_000,
    };
    while started.elapsed() < Duration::from_secs(seconds) {
        let batch = sequencer.batch(devices, written / BATCH as u64);
        let (mut tx, mut position) = store.begin_log().await.unwrap();
        let mut rows = Vec::with_capacity(1000);
        for _ in 0..2 {
            for input in &batch.readings {
                let mut input = to_domain(input);
                input.sequence = format!("raw-{}", new_id("r"));
                let reading = input.check(window).expect("valid");
                rows.push(StoredReading {
                    id: new_id("rdg"),
                    position,
                    reading,
                    received_at: now_micros(),
                    patient: Some("pt-bench".into()),
                    batch_id: batch.batch_id.clone(),
                });
                position += 1;
            }
        }
        let t0 = Instant::now();
        ReadingStore::insert(&mut tx, &rows).await.unwrap();
        let t1 = Instant::now();
        tx.commit().await.unwrap();
        if std::env::var("SENTINEL_BENCH_TRACE").is_ok() {
            println!("insert {:?} commit {:?}", t1 - t0, t1.elapsed());
        }
        written += rows.len() as u64;
    }
    written as f64 / started.elapsed().as_secs_f64()
}

fn to_domain(input: &pb::ReadingInput) -> ReadingInput {
    let q = |q: &Option<common::Quantity>| {
        q.as_ref().map(|q| Quantity {
            value: q.value,
            unit: q.unit.clone(),
        })
    };
    let code = input.code.clone().unwrap_or_default();
    ReadingInput {
        device_id: input.device_id.clone(),
        sequence: input.sequence.clone(),
        observed_at: input
            .observed_at
            .as_ref()
            .map(sentinel_platform::time::from_timestamp),
        system: code.system,
        code: code.code,
        value: q(&input.value),
        components: input
            .components
            .iter()
            .map(|c| (c.code.clone().unwrap_or_default().code, q(&c.value)))
            .collect(),
        flags: Vec::new(),
        data_absent_reason: String::new(),
        attributes: Vec::new(),
    }
}

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let seconds = env("SENTINEL_BENCH_SECONDS", 10);
    let streams_n = env("SENTINEL_BENCH_STREAMS", 4) as usize;
    let soak = env("SENTINEL_BENCH_SOAK_SECONDS", 0);
    let stores =
        std::env::var("SENTINEL_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    println!(
        "ingest benchmark: {DEVICES} devices, batches of {BATCH} readings (50 devices each), \
         {streams_n} streams × {WINDOW} batches in flight, {seconds} s per phase"
    );
    for store in StoreKind::ALL {
        if !stores.contains(store.name()) {
            continue;
        }
        if store == StoreKind::Postgres && sentinel_testkit::postgres::durable().is_none() {
            println!("{:<9} skipped: PostgreSQL not installed", store.name());
            continue;
        }
        // Ingestion and what it needs; the rules service (which would evaluate every reading on
        // the same two cores) is measured by the alert_latency benchmark.
        let (mut config, data_dir) = TestSuite::prepare(
            StoreKind::Sqlite,
            &[
                ServiceKind::Registry,
                ServiceKind::Ingestion,
                ServiceKind::Audit,
            ],
        )
        .await;
        config.database_url = store.fresh_durable_database_url().await;
        config.ingestion.device_readings_per_second = 1_000_000;
        config.ingestion.device_burst = 1_000_000;
        let suite = TestSuite::start_with(config, data_dir).await;
        let mut registry = admin(&suite).await;
        let mut devices = Vec::new();
        for d in 0..DEVICES {
            let id = register_bound(
                &mut registry,
                spec(&format!("BENCH-{d}")),
                &format!("pt-{d}"),
                86_400_000_000,
            )
            .await;
            devices.push(id);
        }
        let (_, secret) = issue(
            &mut registry,
            registry::PrincipalKind::Gateway,
            "gw-home-7",
            &["gateway"],
        )
        .await;
        let mut clients = Vec::new();
        for _ in 0..streams_n {
            clients.push(suite.ingestion_as(&secret).await);
        }
        let devices = Arc::new(devices);
        let sequencer = Arc::new(Sequencer(AtomicU64::new(0)));
        streams(&clients, &devices, &sequencer, 2).await; // warm up
        let raw = ceiling(
            &ReadingStore::new(suite.store(ServiceKind::Ingestion).clone()),
            &devices,
            &sequencer,
            seconds,
        )
        .await;
        println!(
            "{:<9} ceiling (direct 1000-row transactions): {raw:>9.0} rows/s",
            store.name()
        );
        let (rate, latencies) = streams(&clients, &devices, &sequencer, seconds).await;
        println!(
            "{:<9} gRPC IngestStream: {rate:>9.0} readings/s ({:.0}% of ceiling)   ack p50 {:>6.1} ms   p99 {:>6.1} ms",
            store.name(),
            100.0 * rate / raw,
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
        );
        if soak > 0 {
            let started = Instant::now();
            println!(
                "{:<9} soak: resident memory {:.0} MiB at start",
                store.name(),
                resident_mib()
            );
            while started.elapsed() < Duration::from_secs(soak) {
                let (rate, latencies) = streams(&clients, &devices, &sequencer, 30).await;
                println!(
                    "{:<9} soak t={:>4} s: {rate:>8.0} readings/s   p99 {:>6.1} ms   resident {:.0} MiB",
                    store.name(),
                    started.elapsed().as_secs(),
                    percentile(&latencies, 0.99),
                    resident_mib()
                );
            }
        }
        suite.stop().await;
    }
}
