//! Steps that start the suite in-process and ask it about health and reflection.

use std::time::Duration;

use cucumber::{gherkin::Step, given, then, when};
use sentinel_platform::ServiceKind;
use sentinel_testkit::{TestSuite, process, reflection};
use tonic_health::pb::health_check_response::ServingStatus;

use crate::world::{SuiteWorld, store};

fn services(list: &str) -> Vec<ServiceKind> {
    list.split(',')
        .map(|name| name.parse().expect("a service name"))
        .collect()
}

/// The first column of a step's table, without its header.
fn column(step: &Step) -> Vec<String> {
    let table = step.table.as_ref().expect("the step has a table");
    table
        .rows
        .iter()
        .skip(1)
        .map(|row| row[0].clone())
        .collect()
}

#[given("the suite runs with all services")]
async fn all_services(world: &mut SuiteWorld) {
    world.suite = Some(TestSuite::start(store(), &ServiceKind::ALL).await);
}

#[given(expr = "the suite runs with the services {string}")]
async fn some_services(world: &mut SuiteWorld, list: String) {
    world.suite = Some(TestSuite::start(store(), &services(&list)).await);
}

#[given(expr = "the suite runs with the services {string} checking health every {int} ms")]
async fn services_with_health_interval(world: &mut SuiteWorld, list: String, interval: u64) {
    let (mut config, data_dir) = TestSuite::prepare(store(), &services(&list)).await;
    config.health.check_interval_ms = interval;
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[when(expr = "the store of the {word} service stops answering")]
async fn store_stops(world: &mut SuiteWorld, service: String) {
    let kind: ServiceKind = service.parse().expect("a service name");
    let suite = world.suite.as_ref().expect("a running suite");
    let (_, store) = suite
        .running()
        .services()
        .iter()
        .find(|(k, _)| *k == kind)
        .expect("the service runs");
    store.close().await;
}

fn status(name: &str) -> Result<ServingStatus, tonic::Code> {
    match name {
        "SERVING" => Ok(ServingStatus::Serving),
        "NOT_SERVING" => Ok(ServingStatus::NotServing),
        "NOT_FOUND" => Err(tonic::Code::NotFound),
        other => panic!("unknown health answer {other}"),
    }
}

async fn assert_health(world: &SuiteWorld, service: &str, expected: &str) {
    let answer = process::health(world.addr(), service)
        .await
        .map_err(|s| s.code());
    assert_eq!(answer, status(expected), "health of {service:?}");
}

#[then(regex = r"^health reports (SERVING|NOT_SERVING|NOT_FOUND) for each of:$")]
async fn health_of_each(world: &mut SuiteWorld, expected: String, step: &Step) {
    for service in column(step) {
        assert_health(world, &service, &expected).await;
    }
}

#[then(regex = r#"^health reports (SERVING|NOT_SERVING|NOT_FOUND) for "([^"]+)"$"#)]
async fn health_of_one(world: &mut SuiteWorld, expected: String, service: String) {
    assert_health(world, &service, &expected).await;
}

#[then(regex = r"^health reports (SERVING|NOT_SERVING) for the whole server$")]
async fn health_of_server(world: &mut SuiteWorld, expected: String) {
    assert_health(world, "", &expected).await;
}

#[then(regex = r#"^within (\d+) seconds health reports (SERVING|NOT_SERVING) for "([^"]+)"$"#)]
async fn health_within(world: &mut SuiteWorld, seconds: u64, expected: String, service: String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let answer = process::health(world.addr(), &service)
            .await
            .map_err(|s| s.code());
        if answer == status(&expected) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health of {service} is {answer:?} after {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[when(expr = "a client lists the services by reflection {word}")]
async fn list_by_reflection(world: &mut SuiteWorld, version: String) {
    let version = version.parse().expect("v1 or v1alpha");
    world.listed = reflection::list_services(world.addr(), version)
        .await
        .expect("reflection answers");
}

#[then("the listed services are exactly:")]
async fn listed_exactly(world: &mut SuiteWorld, step: &Step) {
    let mut expected = column(step);
    expected.sort();
    assert_eq!(world.listed, expected);
}

#[when(expr = "a client asks reflection for the file defining {string}")]
async fn file_defining(world: &mut SuiteWorld, symbol: String) {
    world.listed = reflection::files_containing(world.addr(), &symbol)
        .await
        .expect("reflection answers");
}

#[then(expr = "reflection answers with the file {string}")]
async fn answers_with_file(world: &mut SuiteWorld, file: String) {
    assert_eq!(
        world.listed.first(),
        Some(&file),
        "files: {:?}",
        world.listed
    );
}

#[given("the suite runs with mutual TLS from a fresh certificate authority")]
async fn mutual_tls(world: &mut SuiteWorld) {
    let pki = sentinel_testkit::tls::Pki::generate();
    let (mut config, data_dir) =
        TestSuite::prepare(store(), &[ServiceKind::Registry, ServiceKind::Audit]).await;
    config.tls = pki.install(data_dir.path());
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
    world.pki = Some(pki);
}

#[given(
    "the suite runs with mutual TLS from a fresh certificate authority and a plaintext health listener"
)]
async fn mutual_tls_with_health(world: &mut SuiteWorld) {
    let pki = sentinel_testkit::tls::Pki::generate();
    let (mut config, data_dir) =
        TestSuite::prepare(store(), &[ServiceKind::Registry, ServiceKind::Audit]).await;
    config.tls = pki.install(data_dir.path());
    let health = sentinel_testkit::process::free_address();
    config.health.listen = Some(health);
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
    world.pki = Some(pki);
}

#[then(expr = "the health listener answers {word} in plaintext for {string}")]
async fn plaintext_health(world: &mut SuiteWorld, expected: String, service: String) {
    let suite = world.suite.as_ref().expect("a running suite");
    let addr = suite.config().health.listen.expect("a health listener");
    let answer = sentinel_testkit::process::health(addr, &service).await;
    match status(&expected) {
        Ok(want) => assert_eq!(answer.ok(), Some(want), "{service}"),
        Err(code) => assert_eq!(answer.err().map(|s| s.code()), Some(code), "{service}"),
    }
}

#[given(
    "the suite runs with server-only TLS from a fresh certificate authority, trusting it for its own calls"
)]
async fn server_only_tls(world: &mut SuiteWorld) {
    let pki = sentinel_testkit::tls::Pki::generate();
    let (mut config, data_dir) =
        TestSuite::prepare(store(), &[ServiceKind::Registry, ServiceKind::Audit]).await;
    config.tls = pki.install_server_only(data_dir.path());
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
    world.pki = Some(pki);
}

#[then(
    regex = r"^an admin (without a client certificate|with a certificate from that authority) registers a device, audited through the suite's own TLS calls$"
)]
async fn registers_over_tls(world: &mut SuiteWorld, certificate: String) {
    use sentinel_contract::registry::v1 as pb;
    let pki = world.pki.as_ref().expect("a PKI");
    let suite = world.suite.as_ref().expect("a running suite");
    let identity = certificate.starts_with("with").then_some(pki);
    let channel = sentinel_testkit::tls::connect(world.addr(), Some(pki.client(identity)))
        .await
        .expect("a TLS connection");
    let admin = sentinel_testkit::Bearer::new(&suite.admin_token());
    let mut registry = pb::device_registry_client::DeviceRegistryClient::with_interceptor(
        channel.clone(),
        admin.clone(),
    );
    let device = registry
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(sentinel_testkit::registry::spec("SN-TLS-SERVER")),
        })
        .await
        .expect("registered: the change was audited over the suite's own TLS client")
        .into_inner();
    let audit = sentinel_contract::audit::v1::audit_log_client::AuditLogClient::with_interceptor(
        channel, admin,
    );
    let audited = sentinel_testkit::audit::about_through(audit, &device.id).await;
    assert_eq!(
        audited.first().map(|e| e.action.as_str()),
        Some("device.registered")
    );
}

#[then(
    regex = r"^a (client with a certificate from that authority|client without a certificate|client with a certificate from another authority|plaintext client) is (served|refused)$"
)]
async fn tls_client(world: &mut SuiteWorld, client: String, outcome: String) {
    let pki = world.pki.as_ref().expect("a PKI");
    let stranger = sentinel_testkit::tls::Pki::generate();
    let tls = match client.as_str() {
        "client with a certificate from that authority" => Some(pki.client(Some(pki))),
        "client without a certificate" => Some(pki.client(None)),
        "client with a certificate from another authority" => Some(pki.client(Some(&stranger))),
        _ => None,
    };
    let answer = sentinel_testkit::tls::health(world.addr(), tls).await;
    match outcome.as_str() {
        "served" => assert_eq!(answer, Ok(ServingStatus::Serving)),
        _ => assert!(answer.is_err(), "{client} was served"),
    }
}
