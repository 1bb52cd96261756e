//! Many large batches at once, from many devices: what a gateway fleet reconnecting after an
//! outage sends. Tells which batches were acknowledged (and checks they are stored whole) and
//! how the others were refused.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicUsize, Ordering},
};

use sentinel_contract::{common::v1 as common, ingestion::v1 as pb};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    TestSuite,
    readings::loinc,
    registry::{admin, device_with_credential},
};

/// Serials of the flooding devices, new in every flood.
static SERIALS: AtomicUsize = AtomicUsize::new(0);

/// What became of the batches.
#[derive(Debug, Default)]
pub struct Flood {
    pub batches: usize,
    pub acknowledged: usize,
    /// Refusals by code, and whether each carried RetryInfo.
    pub refused: BTreeMap<String, usize>,
    pub refused_without_retry_info: usize,
    /// Refusals a client would not retry (INTERNAL, UNKNOWN, …): must stay 0.
    pub not_retryable: Vec<String>,
    /// Devices whose stored readings differ from what was acknowledged for them.
    pub not_stored_whole: Vec<String>,
}

/// Sends `batches` batches of `readings` heart rates at once, round robin from `devices` new
/// devices bound to `patient`, then counts what each device has stored.
pub async fn flood(
    suite: &TestSuite,
    patient: &str,
    (batches, devices, readings): (usize, usize, usize),
) -> Flood {
    let mut admin_client = admin(suite).await;
    let mut senders = Vec::with_capacity(devices);
    for _ in 0..devices {
        let serial = format!("SN-FLOOD-{}", SERIALS.fetch_add(1, Ordering::Relaxed));
        let (id, secret) =
            device_with_credential(&mut admin_client, &serial, patient, 3_600_000_000).await;
        senders.push((id, suite.ingestion_as(&secret).await));
    }
    let start = sentinel_platform::time::now_micros() - 600_000_000;
    let tasks: Vec<_> = (0..batches)
        .map(|b| {
            let (device, mut client) = senders[b % devices].clone();
            tokio::spawn(async move {
                let batch = (0..readings)
                    .map(|i| {
                        let observed = start + ((b * readings + i) as i64) * 1_000;
                        loinc(
                            &device,
                            &format!("{b}-{i}"),
                            ("8867-4", 70.0, "/min"),
                            observed,
                        )
                    })
                    .collect();
                let answer = client
                    .ingest(pb::IngestRequest {
                        batch_id: format!("flood-{b}"),
                        readings: batch,
                    })
                    .await;
                (device, answer)
            })
        })
        .collect();
    let mut flood = Flood {
        batches,
        ..Flood::default()
    };
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let (device, answer) = task.await.expect("the call ran");
        match answer {
            Ok(answer) if answer.get_ref().accepted as usize == readings => {
                flood.acknowledged += 1;
                *expected.entry(device).or_default() += readings;
            }
            Ok(answer) => flood
                .not_retryable
                .push(format!("partly accepted: {answer:?}")),
            Err(status) => {
                if !matches!(status.code(), Code::ResourceExhausted | Code::Unavailable) {
                    flood.not_retryable.push(format!("{status:?}"));
                }
                if status.get_details_retry_info().is_none() {
                    flood.refused_without_retry_info += 1;
                }
                *flood
                    .refused
                    .entry(format!("{:?}", status.code()))
                    .or_default() += 1;
            }
        }
    }
    let reader = suite.ingestion_as(&suite.admin_token()).await;
    for (device, count) in expected {
        if stored(reader.clone(), &device).await != count {
            flood.not_stored_whole.push(device);
        }
    }
    flood
}

/// How many readings of `device` are stored.
async fn stored(
    mut client: pb::reading_ingestion_client::ReadingIngestionClient<crate::Authed>,
    device: &str,
) -> usize {
    let mut count = 0;
    let mut token = String::new();
    loop {
        let page = client
            .list_readings(pb::ListReadingsRequest {
                device_id: device.to_owned(),
                page: Some(common::PageRequest {
                    page_size: 1000,
                    page_token: token.clone(),
                }),
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        count += page.readings.len();
        token = page.page.map(|p| p.next_page_token).unwrap_or_default();
        if token.is_empty() {
            return count;
        }
    }
}
