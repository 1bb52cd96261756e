//! The simulated ward both shapes are measured with: its devices and patients, the batches its
//! gateways send, and one run — readings streamed at a steady rate, a clinician's `WatchAlerts`
//! timestamping each alert change — measured from each marker's acknowledgement to its alert.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sentinel_contract::{
    common::v1 as common, ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules,
};
use sentinel_platform::time::now_micros;
use sentinel_testkit::{
    Authed,
    registry::{at, issue, register_bound, spec},
};
use tokio_stream::wrappers::ReceiverStream;

pub type Ingestion = ingestion::reading_ingestion_client::ReadingIngestionClient<Authed>;
pub type Rules = rules::clinical_rules_client::ClinicalRulesClient<Authed>;
pub type Registry = registry::device_registry_client::DeviceRegistryClient<Authed>;

pub const DEVICES: usize = 200;
pub const BATCH: usize = 250;
pub const STREAMS: usize = 4;

pub fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
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
pub fn batch(devices: &[String], n: u64) -> ingestion::IngestRequest {
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
pub fn rules_per_reading() -> f64 {
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

/// The ward's people and credentials: device ids (device `d` bound to patient `pt-d`), a
/// gateway's and a clinician's secret.
pub struct Ward {
    pub devices: Vec<String>,
    pub gateway: String,
    pub nurse: String,
}

/// Registers the ward through `registry` (an admin's client).
pub async fn admit(registry: &mut Registry) -> Ward {
    let mut devices = Vec::new();
    for d in 0..DEVICES {
        let id = register_bound(
            registry,
            spec(&format!("WARD-{d}")),
            &format!("pt-{d}"),
            86_400_000_000,
        )
        .await;
        devices.push(id);
    }
    let (_, gateway) = issue(
        registry,
        registry::PrincipalKind::Gateway,
        "gw-home-7",
        &["gateway"],
    )
    .await;
    let (_, nurse) = issue(
        registry,
        registry::PrincipalKind::User,
        "nurse",
        &["clinician"],
    )
    .await;
    Ward {
        devices,
        gateway,
        nurse,
    }
}

/// What one run measured.
pub struct Measured {
    pub ingested: u64,
    pub readings_per_second: f64,
    /// From the first batch until every marker's alert change was seen (or 30 s more).
    pub evaluated_seconds: f64,
    /// Acknowledgement → `WatchAlerts`, sorted.
    pub latencies: Vec<Duration>,
    pub missing: usize,
    /// Readings sent per patient.
    pub per_patient: HashMap<String, u64>,
}

impl Measured {
    pub fn evaluations_per_second(&self) -> f64 {
        self.ingested as f64 * rules_per_reading() / self.evaluated_seconds
    }

    pub fn summary(&self, rate: u64) -> String {
        format!(
            "offered {rate} readings/s: ingested {:>7.0}/s; all evaluated after {:.1} s ({:.0} rule evaluations/s); \
             ack → WatchAlerts p50 {:.1} ms  p99 {:.1} ms  ({} markers, {} not seen)",
            self.readings_per_second,
            self.evaluated_seconds,
            self.evaluations_per_second(),
            percentile(&self.latencies, 0.50),
            percentile(&self.latencies, 0.99),
            self.latencies.len(),
            self.missing,
        )
    }
}

/// Streams the ward's batches at `rate` for `seconds` through `streams` (one `IngestStream`
/// each, batches dealt round-robin) while `watcher` timestamps each alert change.
pub async fn drive(
    ward: &Ward,
    streams: Vec<Ingestion>,
    mut watcher: Rules,
    seconds: u64,
    rate: u64,
) -> Measured {
    // The clinician's view: when each marker's alert change arrives.
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut watch = watcher
        .watch_alerts(rules::WatchAlertsRequest {
            after: 0,
            routes: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let watching = {
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
    let acked: Arc<Mutex<HashMap<String, (Instant, String)>>> = Arc::default();
    let mut senders = Vec::new();
    let mut ack_readers = Vec::new();
    for mut client in streams {
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
    let patient_of: HashMap<&str, String> = ward
        .devices
        .iter()
        .enumerate()
        .map(|(d, id)| (id.as_str(), format!("pt-{d}")))
        .collect();
    let mut per_patient: HashMap<String, u64> = HashMap::new();
    for n in 0..batches {
        ticker.tick().await;
        let sender = &senders[n as usize % senders.len()];
        let batch = batch(&ward.devices, n);
        for reading in &batch.readings {
            *per_patient
                .entry(patient_of[reading.device_id.as_str()].clone())
                .or_default() += 1;
        }
        if sender.send(batch).await.is_err() {
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
    watching.abort();
    latencies.sort();
    Measured {
        ingested,
        readings_per_second: ingested as f64 / ingest_seconds,
        evaluated_seconds,
        missing: markers.len() - latencies.len(),
        latencies,
        per_patient,
    }
}
