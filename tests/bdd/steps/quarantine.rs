//! Steps of a bounded quarantine: a cap per device, and a large input kept once.

use cucumber::{given, then, when};
use sentinel_contract::ingestion::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::{TestSuite, readings::loinc};

use super::{
    ingestion::{last, submit},
    rules::suite,
};
use crate::world::{SuiteWorld, store};

#[given(
    expr = "the suite runs with all services, keeping at most {int} rejected readings per device in quarantine"
)]
async fn capped(world: &mut SuiteWorld, cap: u32) {
    let (mut config, data_dir) = TestSuite::prepare(store(), &ServiceKind::ALL).await;
    config.ingestion.quarantine_per_device = cap;
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

async fn quarantine_of(world: &SuiteWorld, name: &str) -> Vec<pb::QuarantinedReading> {
    suite(world)
        .ingestion_as(&suite(world).admin_token())
        .await
        .list_quarantine(pb::ListQuarantineRequest {
            device_id: world.registry.devices[name].clone(),
            ..Default::default()
        })
        .await
        .expect("the quarantine")
        .into_inner()
        .readings
}

#[when(expr = "device {string} submits {int} readings in units nobody uses, as batch {string}")]
async fn submits_junk(world: &mut SuiteWorld, name: String, count: usize, batch: String) {
    let device = world.registry.devices[&name].clone();
    let now = sentinel_platform::time::now_micros();
    let readings = (0..count)
        .map(|i| {
            loinc(
                &device,
                &format!("junk-{i}"),
                ("8310-5", 37.0, "parsecs"),
                now,
            )
        })
        .collect();
    submit(world, &name, &batch, readings).await;
}

#[then(
    expr = "{int} of the batch's readings were refused and not kept, saying so, and device {string} has {int} in quarantine"
)]
async fn kept_and_not(world: &mut SuiteWorld, not_kept: usize, name: String, kept: usize) {
    let answer = last(world).clone();
    assert_eq!(answer.accepted, 0, "{answer:?}");
    let says_not_kept = |r: &pb::ReadingResult| {
        r.violations.iter().any(|v| {
            v.field.ends_with(".device_id") && v.rule.starts_with("not kept in quarantine")
        })
    };
    assert_eq!(
        answer.results.iter().filter(|r| says_not_kept(r)).count(),
        not_kept
    );
    assert_eq!(quarantine_of(world, &name).await.len(), kept);
    let audited = sentinel_testkit::audit::about(suite(world), &answer.batch_id).await;
    assert_eq!(
        audited[0].detail.get("not_kept"),
        Some(&not_kept.to_string()),
        "{audited:?}"
    );
}

#[when(expr = "device {string} submits a reading whose unit is {int} characters long")]
async fn submits_long_unit(world: &mut SuiteWorld, name: String, length: usize) {
    let device = world.registry.devices[&name].clone();
    let unit = "m".repeat(length);
    let now = sentinel_platform::time::now_micros();
    let reading = loinc(&device, "long-1", ("8310-5", 37.0, &unit), now);
    submit(world, &name, "long", vec![reading]).await;
}

#[then(
    expr = "the quarantine of device {string} keeps the reading's size and SHA-256 in place of it, and no violation longer than {int} characters"
)]
async fn kept_once(world: &mut SuiteWorld, name: String, longest: usize) {
    assert_eq!(last(world).rejected, 1, "{:?}", last(world));
    let entries = quarantine_of(world, &name).await;
    let entry = entries.last().expect("an entry");
    let raw: serde_json::Value = serde_json::from_str(&entry.raw_json).expect("JSON");
    assert_eq!(raw["truncated"], true, "{raw}");
    assert_eq!(raw["sha256"].as_str().map(str::len), Some(64), "{raw}");
    for violation in &entry.violations {
        assert!(
            violation.rule.chars().count() <= longest,
            "{}",
            violation.rule.len()
        );
    }
}
