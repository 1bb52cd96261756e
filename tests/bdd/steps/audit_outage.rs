//! Steps of an audit log out of service: clinical alerting goes on, the admins are told, and
//! what was done meanwhile reaches the log once it is back.

use std::time::Duration;

use cucumber::{then, when};
use sentinel_contract::rules::v1 as pb;
use sentinel_platform::ServiceKind;

use super::rules::{alerts, client, suite};
use crate::world::SuiteWorld;
use sentinel_testkit::TestSuite;

/// The audit log's client: the audit server of its own in the split shape, else the suite.
async fn audit_log(
    world: &SuiteWorld,
) -> sentinel_contract::audit::v1::audit_log_client::AuditLogClient<sentinel_testkit::Authed> {
    match &world.split.audit {
        Some((server, _)) => server.audit().await,
        None => suite(world).audit().await,
    }
}

#[when("the audit log's server crashes")]
async fn audit_crashes(world: &mut SuiteWorld) {
    let (server, _) = world.split.audit.take().expect("the audit server");
    world.split.stopped = Some(server.crash());
}

#[when("the audit log's server starts again on its address and store")]
async fn audit_again(world: &mut SuiteWorld) {
    let (config, data) = world.split.stopped.take().expect("a stopped audit server");
    world.split.audit = Some((TestSuite::start_with(config, data).await, String::new()));
}

/// Polls `check` every 50 ms for up to `seconds`; the last answer when it never held.
async fn within<T>(seconds: u64, mut check: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        match check().await {
            Ok(done) => return done,
            Err(why) if tokio::time::Instant::now() >= deadline => {
                panic!("not within {seconds} s: {why}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[then(expr = "within {int} seconds patient {string} has the open alert {string}")]
async fn open_within(world: &mut SuiteWorld, seconds: u64, patient: String, rule: String) {
    let world = &*world;
    within(seconds, async || {
        let listed = alerts(world, &patient).await;
        match listed
            .iter()
            .any(|a| a.rule_id == rule && a.state() != pb::AlertState::Resolved)
        {
            true => Ok(()),
            false => Err(format!("open alerts of {patient}: {listed:?}")),
        }
    })
    .await;
}

/// The technical alert of `rule`, as the admins' route lists it (`None` when not open).
async fn technical(world: &SuiteWorld, rule: &str) -> Option<pb::Alert> {
    let mut rules = client(world, &world.rules.clinician).await;
    rules
        .list_alerts(pb::ListAlertsRequest {
            open_only: true,
            ..Default::default()
        })
        .await
        .expect("alerts listed")
        .into_inner()
        .alerts
        .into_iter()
        .find(|a| a.rule_id == rule)
}

#[then(
    expr = "within {int} seconds the technical alert {string} is open at high priority, for no patient, routed to {string}"
)]
async fn technical_open(world: &mut SuiteWorld, seconds: u64, rule: String, route: String) {
    let world = &*world;
    let alert = within(seconds, async || {
        technical(world, &rule)
            .await
            .ok_or_else(|| format!("no open {rule}"))
    })
    .await;
    assert!(alert.technical, "{alert:?}");
    assert_eq!(alert.priority(), pb::Priority::High);
    assert_eq!(alert.patient, None);
    assert_eq!(alert.route, route);
    // An integrator subscribed to the route gets it as it happened.
    let mut rules = client(world, &world.rules.clinician).await;
    let mut watched = rules
        .watch_alerts(pb::WatchAlertsRequest {
            after: 0,
            routes: vec![route.clone()],
        })
        .await
        .expect("a watch")
        .into_inner();
    let change = tokio::time::timeout(Duration::from_secs(5), watched.message())
        .await
        .expect("a change in time")
        .expect("a change")
        .expect("the stream open");
    assert_eq!(
        (change.alert_id.as_str(), change.change.as_str()),
        (alert.id.as_str(), "raised")
    );
    assert!(change.technical && change.route == route, "{change:?}");
}

#[then(expr = "within {int} seconds the technical alert {string} is resolved")]
async fn technical_resolved(world: &mut SuiteWorld, seconds: u64, rule: String) {
    let world = &*world;
    within(seconds, async || match technical(world, &rule).await {
        None => Ok(()),
        Some(open) => Err(format!("still open: {open:?}")),
    })
    .await;
}

#[when("the audit database is restored to before the forgery")]
async fn restored(world: &mut SuiteWorld) {
    sentinel_testkit::audit::behind_the_guards(
        suite(world).store(ServiceKind::Audit),
        &["DELETE FROM audit_records WHERE actor_id = 'intruder'"],
    )
    .await;
    // Repaired: the log must verify intact from here on.
    world.audit.tampered = false;
}

#[then(
    expr = "within {int} seconds the audit log holds the {string} of the alert of {string}, each kept while the log was out"
)]
async fn kept_appended(world: &mut SuiteWorld, seconds: u64, actions: String, rule: String) {
    let alert = super::rules::alert_of(world, &rule).await;
    let wanted: Vec<String> = actions.split(',').map(|a| format!("alert.{a}")).collect();
    let world = &*world;
    let entries = within(seconds, async || {
        let entries =
            sentinel_testkit::audit::about_through(audit_log(world).await, &alert.id).await;
        let actions: Vec<String> = entries.iter().map(|e| e.action.clone()).collect();
        match actions == wanted {
            true => Ok(entries),
            false => Err(format!("audited {actions:?}")),
        }
    })
    .await;
    for entry in entries {
        assert!(entry.detail.contains_key("kept_at"), "{entry:?}");
    }
}

#[then(
    expr = "within {int} seconds the readings reported while the log was out are in it, kept as {string}"
)]
async fn readings_kept(world: &mut SuiteWorld, seconds: u64, action: String) {
    let world = &*world;
    within(seconds, async || {
        let mut audit = audit_log(world).await;
        let records = audit
            .list(sentinel_contract::audit::v1::ListRequest::default())
            .await
            .expect("audit list")
            .into_inner()
            .records;
        let kept = records
            .iter()
            .filter_map(|r| r.entry.as_ref())
            .filter(|e| e.action == action && e.detail.contains_key("kept_at"))
            .count();
        match kept {
            0 => Err(format!("no {action} record kept while the log was out")),
            _ => Ok(()),
        }
    })
    .await;
}
