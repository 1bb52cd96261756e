//! Steps of reading ingestion.

use cucumber::{gherkin::Step, given, then, when};
use sentinel_contract::{common::v1 as common, ingestion::v1 as pb, registry::v1 as registry};
use sentinel_testkit::{
    TestSuite,
    registry::{admin, at, issue, register_bound},
};

use crate::world::SuiteWorld;

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

#[given(expr = "device {string} is bound to patient {string} and holds a device credential")]
async fn bound_device(world: &mut SuiteWorld, name: String, patient_ref: String) {
    let spec = sentinel_testkit::registry::spec(&name);
    bind_new(world, &name, &patient_ref, spec).await;
}

/// Registers a device as `spec`, binds it to `patient_ref` and gives it a credential.
pub(crate) async fn bind_new(
    world: &mut SuiteWorld,
    name: &str,
    patient_ref: &str,
    spec: registry::DeviceSpec,
) {
    let mut client = admin(suite(world)).await;
    // Bound for the whole backfill window, so week-old readings are the patient's too.
    let id = register_bound(&mut client, spec, patient_ref, 8 * 86_400_000_000).await;
    let credential = issue(
        &mut client,
        registry::PrincipalKind::Device,
        &id,
        &["device"],
    )
    .await;
    world.registry.devices.insert(name.to_owned(), id);
    world
        .registry
        .credentials
        .insert(name.to_owned(), credential);
}

pub(crate) async fn submit(
    world: &mut SuiteWorld,
    name: &str,
    batch: &str,
    readings: Vec<pb::ReadingInput>,
) {
    let secret = world.registry.credentials[name].1.clone();
    let mut client = suite(world).ingestion_as(&secret).await;
    let response = client
        .ingest(pb::IngestRequest {
            batch_id: batch.to_owned(),
            readings: readings.clone(),
        })
        .await
        .expect("ingest answers")
        .into_inner();
    world.ingestion.batches.insert(batch.to_owned(), readings);
    if world.ingestion.first.is_none() {
        world.ingestion.first = Some(response.clone());
    }
    world.ingestion.last = Some(response);
}

#[when(expr = "device {string} submits batch {string} with the readings:")]
async fn submits(world: &mut SuiteWorld, name: String, batch: String, step: &Step) {
    let device = world.registry.devices[&name].clone();
    let observed = now() - 60_000_000;
    let table = step.table.as_ref().expect("a table");
    let readings = table
        .rows
        .iter()
        .skip(1)
        .map(|row| pb::ReadingInput {
            device_id: device.clone(),
            sequence: row[0].clone(),
            observed_at: at(observed),
            code: Some(common::Coding {
                system: "http://loinc.org".into(),
                code: row[1].clone(),
                display: String::new(),
            }),
            value: Some(common::Quantity {
                value: row[2].parse().expect("a number"),
                unit: row[3].clone(),
            }),
            ..Default::default()
        })
        .collect();
    submit(world, &name, &batch, readings).await;
}

/// `code=value …` in mm[Hg], or `N components` of made-up codes.
fn panel_components(text: &str) -> Vec<pb::Component> {
    let component = |code: &str, value: f64| pb::Component {
        code: Some(common::Coding {
            system: "http://loinc.org".into(),
            code: code.into(),
            display: String::new(),
        }),
        value: Some(common::Quantity {
            value,
            unit: "mm[Hg]".into(),
        }),
    };
    if let Some(count) = text.strip_suffix(" components") {
        let count: usize = count.parse().expect("a count");
        return (0..count)
            .map(|i| component(&format!("{i}-0"), 100.0))
            .collect();
    }
    text.split_whitespace()
        .map(|pair| {
            let (code, value) = pair.split_once('=').expect("code=value");
            component(code, value.parse().expect("a number"))
        })
        .collect()
}

#[when(expr = "device {string} submits a blood-pressure panel with the components {string}")]
async fn submits_panel(world: &mut SuiteWorld, name: String, components: String) {
    let reading = pb::ReadingInput {
        device_id: world.registry.devices[&name].clone(),
        sequence: "bp-1".into(),
        observed_at: at(now() - 60_000_000),
        code: Some(common::Coding {
            system: "http://loinc.org".into(),
            code: "85354-9".into(),
            display: String::new(),
        }),
        components: panel_components(&components),
        ..Default::default()
    };
    submit(world, &name, "bp", vec![reading]).await;
}

#[when(expr = "device {string} submits batch {string} again")]
async fn submits_again(world: &mut SuiteWorld, name: String, batch: String) {
    let readings = world.ingestion.batches[&batch].clone();
    submit(world, &name, &batch, readings).await;
}

pub(crate) fn last(world: &SuiteWorld) -> &pb::IngestResponse {
    world
        .ingestion
        .last
        .as_ref()
        .expect("a batch was submitted")
}

#[then(expr = "readings {int} and {int} are accepted")]
async fn accepted(world: &mut SuiteWorld, first: usize, second: usize) {
    for n in [first, second] {
        let result = &last(world).results[n - 1];
        assert!(result.accepted, "reading {n}: {:?}", result.violations);
    }
}

#[then(expr = "reading {int} is refused naming {string}")]
async fn refused(world: &mut SuiteWorld, n: usize, field: String) {
    let result = &last(world).results[n - 1];
    assert!(!result.accepted);
    let fields: Vec<&str> = result.violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, [field.as_str()]);
}

async fn stored(world: &SuiteWorld, n: usize) -> pb::Reading {
    let id = last(world).results[n - 1].reading_id.clone();
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    client
        .get_reading(pb::GetReadingRequest { id })
        .await
        .expect("the reading")
        .into_inner()
}

#[then(expr = "reading {int} is stored with the components {string}")]
async fn stored_with_components(world: &mut SuiteWorld, n: usize, components: String) {
    let reading = stored(world, n).await;
    let got: Vec<(String, f64)> = reading
        .components
        .iter()
        .map(|c| {
            (
                c.code.clone().unwrap_or_default().code,
                c.value.clone().unwrap_or_default().value,
            )
        })
        .collect();
    let want: Vec<(String, f64)> = panel_components(&components)
        .into_iter()
        .map(|c| {
            (
                c.code.unwrap_or_default().code,
                c.value.unwrap_or_default().value,
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[then(
    expr = "accepted reading {int} is stored as {float} {string} beside the original {float} {string}"
)]
async fn stored_as(
    world: &mut SuiteWorld,
    n: usize,
    value: f64,
    unit: String,
    original: f64,
    original_unit: String,
) {
    let reading = stored(world, n).await;
    let canonical = reading.value.expect("a value");
    let sent = reading.original.expect("the original");
    assert!((canonical.value - value).abs() < 1e-4, "{canonical:?}");
    assert_eq!(canonical.unit, unit);
    assert!((sent.value - original).abs() < 1e-9);
    assert_eq!(sent.unit, original_unit);
}

#[then(expr = "the accepted readings are attributed to patient {string}")]
async fn attributed(world: &mut SuiteWorld, patient_ref: String) {
    let accepted: Vec<usize> = last(world)
        .results
        .iter()
        .filter(|r| r.accepted)
        .map(|r| r.index as usize + 1)
        .collect();
    for n in accepted {
        let reading = stored(world, n).await;
        assert_eq!(reading.patient.map(|p| p.value), Some(patient_ref.clone()));
        assert!(!reading.unattributed);
    }
}

#[then(expr = "{int} readings of the batch are in quarantine")]
async fn quarantined(world: &mut SuiteWorld, count: u32) {
    assert_eq!(last(world).rejected, count);
    let batch_id = last(world).batch_id.clone();
    let audited = sentinel_testkit::audit::about(suite(world), &batch_id).await;
    assert_eq!(
        audited[0].detail.get("rejected").map(String::as_str),
        Some(count.to_string().as_str())
    );
}

#[then("every reading of the retry is acknowledged as a duplicate of the original")]
async fn duplicates(world: &mut SuiteWorld) {
    let first = world.ingestion.first.as_ref().expect("a first answer");
    let again = last(world);
    for (original, retry) in first.results.iter().zip(&again.results) {
        assert!(retry.accepted && retry.duplicate);
        assert_eq!(retry.reading_id, original.reading_id);
    }
}

#[then(expr = "device {string} has {int} stored readings")]
async fn stored_count(world: &mut SuiteWorld, name: String, count: usize) {
    let device = world.registry.devices[&name].clone();
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    let listed = client
        .list_readings(pb::ListReadingsRequest {
            device_id: device,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.readings.len(), count);
}

#[then(expr = "the audit log records {string} for batch {string} with {int} accepted")]
async fn batch_audited(world: &mut SuiteWorld, action: String, batch: String, count: u32) {
    let audited = sentinel_testkit::audit::about(suite(world), &batch).await;
    assert_eq!(audited.len(), 1, "audited once");
    assert_eq!(audited[0].action, action);
    assert_eq!(
        audited[0].detail.get("accepted").map(String::as_str),
        Some(count.to_string().as_str())
    );
    assert_eq!(audited[0].detail.get("digest").map(String::len), Some(64));
}

#[when("the suite crashes and starts again on the same store")]
async fn crash(world: &mut SuiteWorld) {
    let (config, data) = world.suite.take().expect("a running suite").crash();
    world.suite = Some(TestSuite::start_with(config, data).await);
}

#[then(expr = "a follower resuming after position {int} receives positions {string}")]
async fn follower(world: &mut SuiteWorld, after: u64, expected: String) {
    let expected: Vec<u64> = expected
        .split(',')
        .map(|p| p.parse().expect("a position"))
        .collect();
    let mut client = pb::reading_ingestion_client::ReadingIngestionClient::with_interceptor(
        suite(world).channel().await,
        sentinel_testkit::Bearer::new(suite(world).running().service_token()),
    );
    let mut stream = client
        .follow_readings(pb::FollowReadingsRequest { after })
        .await
        .expect("a stream")
        .into_inner();
    let mut got = Vec::new();
    for _ in 0..expected.len() {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.message()).await;
        got.push(
            next.expect("in time")
                .expect("a message")
                .expect("a reading")
                .position,
        );
    }
    assert_eq!(got, expected);
}

async fn quarantine(
    world: &SuiteWorld,
    name: &str,
    include_resolved: bool,
) -> Vec<pb::QuarantinedReading> {
    let device = world.registry.devices[name].clone();
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    client
        .list_quarantine(pb::ListQuarantineRequest {
            device_id: device,
            include_resolved,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .readings
}

#[then(
    expr = "the quarantine of device {string} lists {int} reading whose violation names {string}"
)]
async fn quarantine_lists(world: &mut SuiteWorld, name: String, count: usize, field: String) {
    let entries = quarantine(world, &name, false).await;
    assert_eq!(entries.len(), count);
    assert_eq!(entries[0].violations[0].field, field);
}

#[when(expr = "the admin resubmits it corrected to {float} {string}")]
async fn resubmits(world: &mut SuiteWorld, value: f64, unit: String) {
    let entry = quarantine(world, "cgm-1", false).await.remove(0);
    let batch = world
        .ingestion
        .batches
        .values()
        .find(|b| b.iter().any(|r| r.device_id == entry.device_id))
        .expect("the batch")
        .clone();
    let mut corrected = batch.into_iter().next().expect("a reading");
    corrected.value = Some(common::Quantity { value, unit });
    let mut client = suite(world).ingestion_as(&suite(world).admin_token()).await;
    let answer = client
        .resubmit(pb::ResubmitRequest {
            quarantine_id: entry.id,
            reading: Some(corrected),
        })
        .await
        .expect("resubmitted")
        .into_inner();
    world.ingestion.last = Some(answer);
}

#[then("the resubmission is accepted and the quarantine entry is resolved by it")]
async fn resolved(world: &mut SuiteWorld) {
    let answer = last(world).clone();
    assert_eq!(answer.accepted, 1);
    assert!(quarantine(world, "cgm-1", false).await.is_empty());
    let all = quarantine(world, "cgm-1", true).await;
    assert_eq!(all[0].resolved_by, answer.results[0].reading_id);
}
