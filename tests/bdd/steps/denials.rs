//! Steps of refused calls: recorded once per kind, summarised, never amplified.

use std::time::Duration;

use cucumber::{given, then, when};
use sentinel_contract::{audit::v1 as audit, registry::v1 as registry};
use sentinel_platform::ServiceKind;
use sentinel_testkit::{Bearer, TestSuite, process, registry::admin};

use tonic_types::StatusExt;

use crate::world::{SuiteWorld, store};

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

#[given(expr = "the suite runs with the services {string} summarising denials every {int} ms")]
async fn summarising(world: &mut SuiteWorld, list: String, every: u64) {
    let services: Vec<ServiceKind> = list
        .split(',')
        .map(|s| s.parse().expect("a service"))
        .collect();
    let (mut config, data_dir) = TestSuite::prepare(store(), &services).await;
    config.audit.denial_summary_ms = every;
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[when(expr = "{int} calls without a credential ask the registry for a device")]
async fn anonymous_calls(world: &mut SuiteWorld, count: usize) {
    let mut client =
        registry::device_registry_client::DeviceRegistryClient::new(suite(world).channel().await);
    let started = std::time::Instant::now();
    for _ in 0..count {
        let status = client
            .get_device(registry::GetDeviceRequest { id: "dev-x".into() })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
    world.split.burst = started.elapsed();
}

/// The auth.denied records about `rpc` with `reason`, as their `repeated` detail (0 if none).
async fn denials(world: &SuiteWorld, rpc: &str, reason: &str) -> Vec<u64> {
    sentinel_testkit::audit::about(suite(world), rpc)
        .await
        .into_iter()
        .filter(|e| e.action == "auth.denied")
        .filter(|e| e.outcome.as_ref().is_some_and(|o| o.reason == reason))
        .map(|e| {
            e.detail
                .get("repeated")
                .map_or(0, |n| n.parse().expect("a count"))
        })
        .collect()
}

#[then(
    expr = "within {int} seconds the audit log accounts for all {int} refused calls of {string} with reason {string}, in one record in full and at most one summary per window"
)]
async fn accounted(world: &mut SuiteWorld, seconds: u64, calls: u64, rpc: String, reason: String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let found = denials(world, &rpc, &reason).await;
        // A record in full stands for one call; a summary for the repeats it counts.
        let accounted: u64 = found.iter().map(|n| (*n).max(1)).sum();
        if accounted == calls {
            assert_eq!(found.first(), Some(&0), "the first is in full: {found:?}");
            // At most one summary per window, and a window summarised had one in full (a
            // summary may land after the next window's first record).
            let summaries = found.iter().filter(|n| **n > 0).count();
            assert!(summaries <= found.len() - summaries, "{found:?}");
            // The calls spanned this many windows at most (one partly before, one after).
            let window = suite(world).config().audit.denial_summary();
            let windows = world.split.burst.as_millis() / window.as_millis() + 2;
            let in_full = found.iter().filter(|n| **n == 0).count() as u128;
            assert!(
                in_full <= windows,
                "{in_full} in full over {windows} windows: {found:?}"
            );
            return;
        }
        assert!(accounted < calls, "{found:?}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all accounted for: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[given(
    expr = "the suite runs with the services {string} and the audit log in a server of its own, with its own service credential"
)]
async fn audit_apart(world: &mut SuiteWorld, list: String) {
    let services: Vec<ServiceKind> = list
        .split(',')
        .map(|s| s.parse().expect("a service"))
        .collect();
    let audit_addr = process::free_address();
    let (mut config, data_dir) = TestSuite::prepare(store(), &services).await;
    // The identities come from a bootstrap in the suite's data directory (its admin too).
    let files = data_dir.path().to_owned();
    sentinel::bootstrap::run(&sentinel::bootstrap::Options {
        out: files.clone(),
        rotate: false,
        origin: config.audit.origin.clone(),
        tls: false,
        tls_names: Vec::new(),
    })
    .expect("bootstrap");
    config.peers.audit = Some(format!("http://{audit_addr}"));
    config.registry.identities_file = Some(files.join("identities.toml"));
    config.service_token_file = Some(files.join("registry.token"));
    config.read_secret_files().expect("readable");
    let core = TestSuite::start_with(config, data_dir).await;

    let (mut config, data_dir) = TestSuite::prepare(store(), &[ServiceKind::Audit]).await;
    config.listen = audit_addr;
    config.peers.registry = Some(format!("http://{}", core.addr()));
    config.audit.signing_key_file = Some(files.join("audit-signing.key"));
    config.service_token_file = Some(files.join("audit.token"));
    config.health.check_interval_ms = 100;
    config.read_secret_files().expect("readable");
    let id = sentinel_platform::auth::Token::parse(
        config
            .service_token
            .as_ref()
            .expect("a credential")
            .expose(),
    )
    .expect("a credential")
    .id;
    world.split.audit = Some((TestSuite::start_with(config, data_dir).await, id));
    world.suite = Some(core);
}

#[when("the audit log's service credential is revoked")]
async fn revoke_audit(world: &mut SuiteWorld) {
    let id = world
        .split
        .audit
        .as_ref()
        .expect("the audit server")
        .1
        .clone();
    admin(suite(world))
        .await
        .revoke_credential(registry::CredentialRef { id })
        .await
        .expect("revoked");
}

#[when(expr = "a client calls the audit log {int} times")]
async fn call_audit(world: &mut SuiteWorld, times: usize) {
    let (server, _) = world.split.audit.as_ref().expect("the audit server");
    let mut client = audit::audit_log_client::AuditLogClient::with_interceptor(
        server.channel().await,
        Bearer::new(&suite(world).admin_token()),
    );
    world.split.refused.clear();
    for _ in 0..times {
        if let Err(status) = client.list(audit::ListRequest::default()).await {
            world.split.refused.push(status.code());
        }
    }
    assert_eq!(world.split.refused.len(), times, "every call refused");
}

#[then("the calls are refused as UNAVAILABLE or UNAUTHENTICATED")]
async fn refused_retryably(world: &mut SuiteWorld) {
    for code in &world.split.refused {
        assert!(
            matches!(
                code,
                tonic::Code::Unavailable | tonic::Code::Unauthenticated
            ),
            "{code:?}"
        );
    }
}

/// auth.denied records in the audit server's store, read behind its API.
async fn denied_records(world: &SuiteWorld) -> i64 {
    let (server, _) = world.split.audit.as_ref().expect("the audit server");
    sqlx::query_scalar("SELECT count(*) FROM audit_records WHERE action = 'auth.denied'")
        .fetch_one(server.store(ServiceKind::Audit).pool())
        .await
        .expect("count")
}

#[then(
    expr = "the number of auth.denied records stops growing within {int} seconds, at {int} or fewer"
)]
async fn stops_growing(world: &mut SuiteWorld, seconds: u64, most: i64) {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let settled = denied_records(world).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = denied_records(world).await;
    assert_eq!(settled, later, "still growing: {settled} then {later}");
    assert!(later <= most, "{later} denial records");
}

#[when(expr = "{int} calls without a credential ask the registry for a device at once")]
async fn anonymous_flood(world: &mut SuiteWorld, count: usize) {
    let client =
        registry::device_registry_client::DeviceRegistryClient::new(suite(world).channel().await);
    // At once, so the budget has little time to refill between them, however slow the machine.
    let calls: Vec<_> = (0..count)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move {
                let status = client
                    .get_device(registry::GetDeviceRequest { id: "dev-x".into() })
                    .await
                    .expect_err("refused");
                if status.code() == tonic::Code::ResourceExhausted {
                    assert!(status.get_details_retry_info().is_some(), "{status:?}");
                }
                status.code()
            })
        })
        .collect();
    let mut codes = Vec::with_capacity(count);
    for call in calls {
        codes.push(call.await.expect("the call ran"));
    }
    world.split.refused = codes;
}

#[then(
    expr = "at least {int} were refused as UNAUTHENTICATED and at least {int} as RESOURCE_EXHAUSTED with RetryInfo"
)]
async fn held_back(world: &mut SuiteWorld, refused: usize, held: usize) {
    let codes = &world.split.refused;
    let count = |code| codes.iter().filter(|c| **c == code).count();
    let (unauthenticated, exhausted) = (
        count(tonic::Code::Unauthenticated),
        count(tonic::Code::ResourceExhausted),
    );
    assert_eq!(unauthenticated + exhausted, codes.len(), "{codes:?}");
    assert!(
        unauthenticated >= refused,
        "{unauthenticated} unauthenticated"
    );
    assert!(exhausted >= held, "{exhausted} held back");
}

#[then("the admin, from the same address, is still answered")]
async fn admin_answered(world: &mut SuiteWorld) {
    let suite = suite(world);
    suite
        .registry_as(&suite.admin_token())
        .await
        .list_devices(registry::ListDevicesRequest::default())
        .await
        .expect("answered");
}
