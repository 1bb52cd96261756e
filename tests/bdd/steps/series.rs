//! Steps that feed a patient's readings as one line of text, and wait for the evaluator.
//!
//! A series is `;`-separated readings, each `<code> [<value> <unit>] [at -<n><s|m|h|d>]`:
//! `8310-5 36.8 Cel at -4h; 8310-5 37.8 Cel`. A blood-pressure panel is `85354-9 185/95 mm[Hg]`,
//! a coded event is its bare code (`fall-detected`). Without `at`, a reading is a minute old.

use cucumber::{given, then, when};
use sentinel_contract::{
    common::v1 as common, ingestion::v1 as ingestion, registry::v1 as registry,
};
use sentinel_testkit::registry::{admin, at, issue, register_bound, spec};

use super::rules::{alerts, client, eventually, open_rules, suite, wanted_rules};
use crate::world::SuiteWorld;

const LOINC: &str = "http://loinc.org";
const EVENTS: &str = "urn:sentinel:event";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn coding(system: &str, code: &str) -> Option<common::Coding> {
    Some(common::Coding {
        system: system.into(),
        code: code.into(),
        display: String::new(),
    })
}

fn quantity(value: &str, unit: &str) -> Option<common::Quantity> {
    Some(common::Quantity {
        value: value.parse().expect("a number"),
        unit: unit.into(),
    })
}

/// `-4h` as µs before now.
fn offset(text: &str) -> i64 {
    let text = text.trim_start_matches('-');
    let (number, unit) = text.split_at(text.len() - 1);
    let number: f64 = number.parse().expect("an offset like -4h");
    let seconds = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => panic!("unknown offset unit {other}"),
    };
    (number * seconds * 1e6) as i64
}

/// The readings a series describes, for `device`, numbered from `first`.
pub(crate) fn readings(device: &str, series: &str, first: u32) -> Vec<ingestion::ReadingInput> {
    let now = now();
    series
        .split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .enumerate()
        .map(|(i, item)| {
            let (what, when) = match item.split_once(" at ") {
                Some((what, when)) => (what, now - offset(when.trim())),
                None => (item, now - 60_000_000),
            };
            let parts: Vec<&str> = what.split_whitespace().collect();
            let mut reading = ingestion::ReadingInput {
                device_id: device.to_owned(),
                sequence: format!("s{}", first + i as u32),
                observed_at: at(when),
                ..Default::default()
            };
            match parts.as_slice() {
                [code] => reading.code = coding(EVENTS, code),
                ["85354-9", pressure, unit] => {
                    let (systolic, diastolic) = pressure.split_once('/').expect("sys/dia");
                    reading.code = coding(LOINC, "85354-9");
                    reading.components = vec![
                        ingestion::Component {
                            code: coding(LOINC, "8480-6"),
                            value: quantity(systolic, unit),
                        },
                        ingestion::Component {
                            code: coding(LOINC, "8462-4"),
                            value: quantity(diastolic, unit),
                        },
                    ];
                }
                [code, value, unit] => {
                    reading.code = coding(LOINC, code);
                    reading.value = quantity(value, unit);
                }
                _ => panic!("cannot read the series item {item:?}"),
            }
            reading
        })
        .collect()
}

#[when(expr = "device {string} reports {string}")]
async fn reports(world: &mut SuiteWorld, name: String, series: String) {
    let device = world.registry.devices[&name].clone();
    let secret = world.registry.credentials[&name].1.clone();
    let first = world.rules.sequence;
    let readings = readings(&device, &series, first);
    world.rules.sequence += readings.len() as u32;
    let mut client = suite(world).ingestion_as(&secret).await;
    let response = client
        .ingest(ingestion::IngestRequest {
            batch_id: format!("series-{first}"),
            readings,
        })
        .await
        .expect("ingest answers")
        .into_inner();
    assert_eq!(response.rejected, 0, "{response:?}");
}

/// Returns once the evaluator has judged every reading ingested so far: it evaluates the log in
/// order, so once a fall reported after them has been raised (for a patient of its own), it has
/// passed them too. Without this, "no alert" would pass before the evaluator looked.
pub(crate) async fn judged(world: &mut SuiteWorld) {
    if world.rules.marker.is_none() {
        let mut registry_client = admin(suite(world)).await;
        let id = register_bound(
            &mut registry_client,
            spec("evaluation-marker"),
            "marker",
            3_600_000_000,
        )
        .await;
        let (_, secret) = issue(
            &mut registry_client,
            registry::PrincipalKind::Device,
            &id,
            &["device"],
        )
        .await;
        world.rules.marker = Some((id, secret));
    }
    let (device, secret) = world.rules.marker.clone().expect("a marker device");
    let first = world.rules.sequence;
    world.rules.sequence += 1;
    let mut ingestion_client = suite(world).ingestion_as(&secret).await;
    let response = ingestion_client
        .ingest(ingestion::IngestRequest {
            batch_id: format!("marker-{first}"),
            readings: readings(&device, "fall-detected", first),
        })
        .await
        .expect("ingest answers")
        .into_inner();
    let reading_id = response.results[0].reading_id.clone();
    let world = &*world;
    eventually(async || {
        let alert = alerts(world, "marker")
            .await
            .into_iter()
            .find(|a| a.rule_id == "rule-fall")?;
        let mut rules = client(world, &world.rules.clinician).await;
        let detail = rules
            .get_alert(sentinel_contract::rules::v1::GetAlertRequest { id: alert.id })
            .await
            .ok()?
            .into_inner();
        detail
            .changes
            .iter()
            .any(|c| c.reading_ids.contains(&reading_id))
            .then_some(())
    })
    .await;
}

#[then(expr = "the evaluator has judged every reading")]
async fn every_reading_judged(world: &mut SuiteWorld) {
    judged(world).await;
}

#[given(expr = "the suite runs with all services, judging device silence every second")]
async fn judging_silence(world: &mut SuiteWorld) {
    let (mut config, data) = sentinel_testkit::TestSuite::prepare(
        crate::world::store(),
        &sentinel_platform::ServiceKind::ALL,
    )
    .await;
    config.rules.silence_check_seconds = 1;
    world.suite = Some(sentinel_testkit::TestSuite::start_with(config, data).await);
}

#[given(
    expr = "a {string} {string}, expected every {int} seconds, is bound to patient {string} and holds a device credential"
)]
async fn expected_device(
    world: &mut SuiteWorld,
    kind: String,
    name: String,
    interval: u32,
    patient_ref: String,
) {
    let mut spec = sentinel_testkit::registry::spec(&name);
    spec.kind = kind;
    spec.expected_interval_seconds = interval;
    super::ingestion::bind_new(world, &name, &patient_ref, spec).await;
}

#[then(expr = "within {int} seconds patient {string} has open alerts {string}")]
async fn open_alerts_within(
    world: &mut SuiteWorld,
    seconds: u64,
    patient: String,
    expected: String,
) {
    let want = wanted_rules(world, &expected);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let listed = alerts(world, &patient).await;
        if open_rules(&listed) == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "open alerts of {patient}: {listed:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
