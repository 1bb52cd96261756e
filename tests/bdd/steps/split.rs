//! Steps of the split shape: reading ingestion as a server of its own (its own listener, store
//! and credential), reaching the registry and the audit log of the scenario's suite only at
//! their network address, as a separate Deployment does.

use cucumber::{given, then, when};
use sentinel_contract::{ingestion::v1 as pb, registry::v1 as registry};
use sentinel_platform::{ServiceKind, config::Secret};
use sentinel_testkit::{
    TestSuite,
    readings::loinc,
    registry::{admin, issue},
};

use crate::world::{SuiteWorld, store};

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

fn edge(world: &SuiteWorld) -> &TestSuite {
    world
        .split
        .edge
        .as_ref()
        .expect("reading ingestion in a server of its own")
}

#[given(
    "reading ingestion runs in a server of its own, with its own store and service credential and the suite as its peers"
)]
async fn edge_starts(world: &mut SuiteWorld) {
    let core = suite(world);
    let mut client = admin(core).await;
    let (_, credential) = issue(
        &mut client,
        registry::PrincipalKind::Service,
        "ingestion-edge",
        &["service"],
    )
    .await;
    let (mut config, data_dir) = TestSuite::prepare(store(), &[ServiceKind::Ingestion]).await;
    let here = format!("http://{}", core.addr());
    config.peers.registry = Some(here.clone());
    config.peers.audit = Some(here);
    config.service_token = Some(Secret(credential));
    config.health.check_interval_ms = 100;
    world.split.edge = Some(TestSuite::start_with(config, data_dir).await);
}

#[when(expr = "device {string} sends batch {string} to that server")]
async fn sends(world: &mut SuiteWorld, name: String, batch: String) {
    let (device, secret) = (
        world.registry.devices[&name].clone(),
        world.registry.credentials[&name].1.clone(),
    );
    let now = sentinel_platform::time::now_micros();
    let reading = loinc(&device, &batch, ("8310-5", 37.2, "Cel"), now);
    let answer = edge(world)
        .ingestion_as(&secret)
        .await
        .ingest(pb::IngestRequest {
            batch_id: batch,
            readings: vec![reading],
        })
        .await;
    world.split.answer = Some(answer.map(tonic::Response::into_inner));
}

#[then(expr = "that server accepts the batch, attributed to patient {string}")]
async fn accepted(world: &mut SuiteWorld, patient: String) {
    let answer = match world.split.answer.take().expect("an answer") {
        Ok(answer) => answer,
        Err(status) => panic!("the batch was refused: {status:?}"),
    };
    assert_eq!(answer.accepted, 1, "{answer:?}");
    let id = answer.results[0].reading_id.clone();
    // The suite's admin reads it back through that server, which asks the suite who
    // that is.
    let stored = edge(world)
        .ingestion_as(&suite(world).admin_token())
        .await
        .get_reading(pb::GetReadingRequest { id })
        .await
        .expect("the reading is stored")
        .into_inner();
    assert_eq!(stored.patient.map(|p| p.value), Some(patient));
}

#[then("that server refuses the batch as UNAVAILABLE")]
async fn unavailable(world: &mut SuiteWorld) {
    let status = match world.split.answer.take().expect("an answer") {
        Ok(answer) => panic!("the batch was answered while its peers were down: {answer:?}"),
        Err(status) => status,
    };
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
}

#[when("the suite stops")]
async fn core_stops(world: &mut SuiteWorld) {
    let core = world.suite.take().expect("a running suite");
    let mut config = core.config().clone();
    // It comes back where its peers expect it.
    config.listen = core.addr();
    let data_dir = core.stop_keeping_data().await;
    world.split.stopped = Some((config, data_dir));
}

#[when("the suite starts again on its address and store")]
async fn core_restarts(world: &mut SuiteWorld) {
    let (config, data_dir) = world.split.stopped.take().expect("a stopped suite");
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[then(expr = "within {int} seconds health of the {word} server reports {word}")]
async fn server_health(world: &mut SuiteWorld, seconds: u64, which: String, status: String) {
    let server = match which.as_str() {
        "ingestion" => edge(world),
        "audit" => &world.split.audit.as_ref().expect("the audit server").0,
        other => panic!("no {other} server"),
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let answer = server
            .health("")
            .await
            .map(|s| s.as_str_name().to_owned())
            .map_err(|s| s.code());
        if answer.as_deref() == Ok(status.as_str()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health of the {which} server: {answer:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
