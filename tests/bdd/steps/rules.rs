//! Steps of clinical rules: drafting, four-eyes review, activation, the built-in library.

use std::time::Duration;

use cucumber::{given, then, when};
use sentinel_contract::{registry::v1 as registry, rules::v1 as pb};
use sentinel_testkit::{
    TestSuite,
    registry::{admin, issue},
};

use crate::world::SuiteWorld;

pub(crate) fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

pub(crate) async fn client(
    world: &SuiteWorld,
    name: &str,
) -> pb::clinical_rules_client::ClinicalRulesClient<sentinel_testkit::Authed> {
    suite(world).rules_as(&world.rules.secrets[name]).await
}

#[given(expr = "{string} is a rule-author and rule-approver, and {string} a rule-approver")]
async fn people(world: &mut SuiteWorld, author: String, approver: String) {
    let mut registry_client = admin(suite(world)).await;
    for (name, roles) in [
        (author, vec!["rule-author", "rule-approver"]),
        (approver, vec!["rule-approver"]),
    ] {
        let (_, secret) = issue(
            &mut registry_client,
            registry::PrincipalKind::User,
            &name,
            &roles,
        )
        .await;
        world.rules.secrets.insert(name, secret);
    }
}

async fn draft(world: &mut SuiteWorld, who: &str, rule_id: String, definition: pb::RuleDefinition) {
    let mut rules = client(world, who).await;
    match rules
        .create_draft(pb::CreateDraftRequest {
            rule_id,
            definition: Some(definition),
        })
        .await
    {
        Ok(version) => {
            let version = version.into_inner();
            world.rules.rule_id = version.rule_id;
            world.rules.version = version.version;
            world.rules.refused = None;
        }
        Err(status) => world.rules.refused = Some(status),
    }
}

#[when(expr = "{string} drafts the rule {string} at or above {float} {string} for code {string}")]
async fn drafts(
    world: &mut SuiteWorld,
    who: String,
    name: String,
    trigger: f64,
    unit: String,
    code: String,
) {
    draft(
        world,
        &who,
        String::new(),
        sentinel_testkit::rules::threshold(&name, trigger, &unit, &code),
    )
    .await;
}

#[when(
    expr = "{string} drafts the rule {string} at or above {float} {string} for code {string} on {string} devices in {string} care"
)]
// One parameter per placeholder of the step's text.
#[allow(clippy::too_many_arguments)]
async fn drafts_for_devices(
    world: &mut SuiteWorld,
    who: String,
    name: String,
    trigger: f64,
    unit: String,
    code: String,
    kinds: String,
    settings: String,
) {
    let list = |text: &str| -> Vec<String> {
        text.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut definition = sentinel_testkit::rules::threshold(&name, trigger, &unit, &code);
    if let Some(applies_to) = definition.applies_to.as_mut() {
        applies_to.device_kinds = list(&kinds);
        applies_to.care_settings = list(&settings);
    }
    draft(world, &who, String::new(), definition).await;
}

#[when(expr = "{string} drafts a new version at or above {float} {string}")]
async fn drafts_version(world: &mut SuiteWorld, who: String, trigger: f64, unit: String) {
    let rule_id = world.rules.rule_id.clone();
    draft(
        world,
        &who,
        rule_id,
        sentinel_testkit::rules::threshold("ward-7-fever", trigger, &unit, "8310-5"),
    )
    .await;
}

#[when(regex = r#"^"([^"]+)" (submits|approves|activates|retires|rejects) it$"#)]
async fn takes_step(world: &mut SuiteWorld, who: String, action: String) {
    let mut rules = client(world, &who).await;
    let request = pb::RuleStepRequest {
        rule_id: world.rules.rule_id.clone(),
        version: world.rules.version,
        reason: String::new(),
    };
    let outcome = match action.as_str() {
        "submits" => rules.submit_rule(request).await,
        "approves" => rules.approve_rule(request).await,
        "activates" => rules.activate_rule(request).await,
        "retires" => rules.retire_rule(request).await,
        _ => rules.reject_rule(request).await,
    };
    world.rules.refused = outcome.err();
}

fn code(name: &str) -> tonic::Code {
    match name {
        "PERMISSION_DENIED" => tonic::Code::PermissionDenied,
        "FAILED_PRECONDITION" => tonic::Code::FailedPrecondition,
        "INVALID_ARGUMENT" => tonic::Code::InvalidArgument,
        other => panic!("unknown code {other}"),
    }
}

#[then(expr = "the step is refused as {word}")]
async fn step_refused(world: &mut SuiteWorld, expected: String) {
    let status = world.rules.refused.take().expect("the step was refused");
    assert_eq!(status.code(), code(&expected), "{status:?}");
}

#[then(regex = r#"^the (?:draft|setting) is refused as (\w+) naming "([^"]+)"$"#)]
async fn draft_refused(world: &mut SuiteWorld, expected: String, field: String) {
    let status = world.rules.refused.take().expect("the draft was refused");
    assert_eq!(status.code(), code(&expected), "{status:?}");
    let details =
        tonic_types::StatusExt::get_details_bad_request(&status).expect("field violations");
    let fields: Vec<&str> = details
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert!(fields.contains(&field.as_str()), "{fields:?}");
}

#[then(expr = "the rule's versions are {string}")]
async fn versions(world: &mut SuiteWorld, expected: String) {
    let mut rules = client(world, "bob").await;
    let rule = rules
        .get_rule(pb::GetRuleRequest {
            rule_id: world.rules.rule_id.clone(),
        })
        .await
        .expect("the rule")
        .into_inner();
    let got: Vec<String> = rule
        .versions
        .iter()
        .map(|v| {
            v.status()
                .as_str_name()
                .trim_start_matches("RULE_STATUS_")
                .to_lowercase()
        })
        .collect();
    assert_eq!(got.join(","), expected);
}

#[then(expr = "the audit log records {string} for the rule")]
async fn audited(world: &mut SuiteWorld, actions: String) {
    let entries = sentinel_testkit::audit::about(suite(world), &world.rules.rule_id).await;
    let got: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(got, actions.split(',').collect::<Vec<_>>());
}

#[then(expr = "the built-in rule {string} is active with priority {string} and category {string}")]
async fn builtin(world: &mut SuiteWorld, name: String, priority: String, category: String) {
    let mut rules = client(world, "bob").await;
    let mut found = None;
    for _ in 0..100 {
        let listed = rules
            .list_rules(pb::ListRulesRequest {
                status: pb::RuleStatus::Active.into(),
            })
            .await
            .expect("listed")
            .into_inner()
            .rules;
        found = listed
            .into_iter()
            .find(|r| r.definition.as_ref().is_some_and(|d| d.name == name));
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rule = found.expect("the built-in rule is active");
    assert_eq!(rule.origin, "builtin");
    assert_eq!(
        rule.priority()
            .as_str_name()
            .trim_start_matches("PRIORITY_")
            .to_lowercase(),
        priority
    );
    assert_eq!(
        rule.category()
            .as_str_name()
            .trim_start_matches("SAMD_CATEGORY_"),
        category
    );
}

#[given(expr = "{string} is a clinician")]
async fn clinician(world: &mut SuiteWorld, name: String) {
    let mut registry_client = admin(suite(world)).await;
    let (_, secret) = issue(
        &mut registry_client,
        registry::PrincipalKind::User,
        &name,
        &["clinician"],
    )
    .await;
    world.rules.secrets.insert(name.clone(), secret);
    world.rules.clinician = name;
}

pub(crate) async fn alerts(world: &SuiteWorld, patient: &str) -> Vec<pb::Alert> {
    let mut rules = client(world, &world.rules.clinician).await;
    rules
        .list_alerts(pb::ListAlertsRequest {
            patient: sentinel_testkit::registry::patient(patient),
            ..Default::default()
        })
        .await
        .expect("alerts listed")
        .into_inner()
        .alerts
}

/// Waits (the evaluator follows the log asynchronously) until `check` holds.
pub(crate) async fn eventually<T>(mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(done) = check().await {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the expected state was never reached");
}

#[then(expr = "patient {string} has open alerts {string}")]
async fn open_alerts(world: &mut SuiteWorld, patient: String, expected: String) {
    super::series::judged(world).await;
    let want = wanted_rules(world, &expected);
    // Every reading before the marker has been judged, so the answer is already stored.
    let listed = alerts(world, &patient).await;
    assert_eq!(
        open_rules(&listed),
        want,
        "open alerts of {patient}: {listed:?}"
    );
}

/// The rule ids a step lists, sorted; "the drafted rule" stands for the id the last drafted
/// rule was given.
pub(crate) fn wanted_rules<'a>(world: &'a SuiteWorld, expected: &'a str) -> Vec<&'a str> {
    let mut want: Vec<&str> = expected
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "the drafted rule" {
                world.rules.rule_id.as_str()
            } else {
                s
            }
        })
        .collect();
    want.sort_unstable();
    want
}

/// The rule ids of the alerts not yet resolved, sorted.
pub(crate) fn open_rules(listed: &[pb::Alert]) -> Vec<&str> {
    let mut open: Vec<&str> = listed
        .iter()
        .filter(|a| a.state() != pb::AlertState::Resolved)
        .map(|a| a.rule_id.as_str())
        .collect();
    open.sort_unstable();
    open
}

pub(crate) async fn alert_of(world: &SuiteWorld, rule: &str) -> pb::Alert {
    alerts(world, "pt-1")
        .await
        .into_iter()
        .find(|a| a.rule_id == rule)
        .expect("an alert of the rule")
}

#[then(expr = "the alert of {string} has priority {string}")]
async fn alert_priority(world: &mut SuiteWorld, rule: String, priority: String) {
    let alert = alert_of(world, &rule).await;
    assert_eq!(
        alert
            .priority()
            .as_str_name()
            .trim_start_matches("PRIORITY_")
            .to_lowercase(),
        priority
    );
}

#[then(expr = "the alert of {string} shows the changes {string}")]
async fn alert_changes(world: &mut SuiteWorld, rule: String, expected: String) {
    let world = &*world;
    eventually(async || {
        let alert = alert_of(world, &rule).await;
        let mut rules = client(world, &world.rules.clinician).await;
        let detail = rules
            .get_alert(pb::GetAlertRequest { id: alert.id })
            .await
            .expect("the alert")
            .into_inner();
        let changes: Vec<&str> = detail.changes.iter().map(|c| c.change.as_str()).collect();
        (changes.join(",") == expected).then_some(())
    })
    .await;
}

#[when(regex = r#"^"([^"]+)" (acknowledges|resolves) the alert of "([^"]+)"$"#)]
async fn alert_action(world: &mut SuiteWorld, who: String, action: String, rule: String) {
    let alert = alert_of(world, &rule).await;
    let mut rules = client(world, &who).await;
    let request = pb::AlertActionRequest {
        id: alert.id,
        note: String::new(),
    };
    let outcome = if action == "acknowledges" {
        rules.acknowledge_alert(request).await
    } else {
        rules.resolve_alert(request).await
    };
    world.rules.refused = outcome.err();
}

#[when(expr = "{string} snoozes the alert of {string} for {int} seconds")]
async fn snooze(world: &mut SuiteWorld, who: String, rule: String, seconds: u32) {
    let alert = alert_of(world, &rule).await;
    let mut rules = client(world, &who).await;
    world.rules.refused = rules
        .snooze_alert(pb::SnoozeAlertRequest {
            id: alert.id,
            seconds,
        })
        .await
        .err();
}

#[then(expr = "the alert action is refused as {word}")]
async fn action_refused(world: &mut SuiteWorld, expected: String) {
    let status = world.rules.refused.take().expect("the action was refused");
    assert_eq!(status.code(), code(&expected), "{status:?}");
}

#[then(expr = "only the alert of {string} is snoozed")]
async fn only_snoozed(world: &mut SuiteWorld, rule: String) {
    assert!(world.rules.refused.is_none(), "{:?}", world.rules.refused);
    for alert in alerts(world, "pt-1").await {
        assert_eq!(
            alert.snoozed_until.is_some(),
            alert.rule_id == rule,
            "{}",
            alert.rule_id
        );
    }
}

#[then(expr = "patient {string} has a suppression of {string} saying {string}")]
async fn suppression(world: &mut SuiteWorld, patient: String, rule: String, reason: String) {
    let world = &*world;
    eventually(async || {
        let mut rules = client(world, &world.rules.clinician).await;
        let listed = rules
            .list_suppressions(pb::ListSuppressionsRequest {
                patient: sentinel_testkit::registry::patient(&patient),
                limit: 0,
            })
            .await
            .expect("suppressions")
            .into_inner()
            .suppressions;
        listed
            .iter()
            .any(|s| s.rule_id == rule && s.reason.contains(&reason))
            .then_some(())
    })
    .await;
}

#[given(
    expr = "the suite runs with all services, escalating unacknowledged alerts after {int} seconds"
)]
async fn escalating(world: &mut SuiteWorld, seconds: u64) {
    let (mut config, data) =
        TestSuite::prepare(crate::world::store(), &sentinel_platform::ServiceKind::ALL).await;
    config.rules.escalate_after_seconds = seconds;
    world.suite = Some(TestSuite::start_with(config, data).await);
}

#[then(expr = "the alert of {string} escalates to priority {string} at tier {int} or beyond")]
async fn escalates(world: &mut SuiteWorld, rule: String, priority: String, tier: u32) {
    let world = &*world;
    eventually(async || {
        let alert = alert_of(world, &rule).await;
        let name = alert
            .priority()
            .as_str_name()
            .trim_start_matches("PRIORITY_")
            .to_lowercase();
        (name == priority && alert.tier >= tier).then_some(())
    })
    .await;
}

#[when(expr = "{int} seconds pass")]
async fn seconds_pass(_world: &mut SuiteWorld, seconds: u64) {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
}

#[when(expr = "{string} backtests {string} version {int} over the last hour")]
async fn backtests(world: &mut SuiteWorld, who: String, rule: String, version: u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let mut rules = client(world, &who).await;
    let report = rules
        .backtest(pb::BacktestRequest {
            rule_id: rule,
            version,
            observed: Some(sentinel_contract::common::v1::TimeRange {
                start: sentinel_testkit::registry::at(now - 3_600_000_000),
                end: sentinel_testkit::registry::at(now + 60_000_000),
            }),
            patient: None,
        })
        .await
        .expect("a backtest report")
        .into_inner();
    world.rules.backtest = Some(report);
}

#[then(
    expr = "the backtest reports the live alert of {string}: same readings, resolved, {int} on today's count"
)]
async fn backtest_matches(world: &mut SuiteWorld, rule: String, per_day: u32) {
    let live = alert_of(world, &rule).await;
    let report = world.rules.backtest.as_ref().expect("a backtest was run");
    assert_eq!(report.alerts.len(), 1, "{report:?}");
    let simulated = &report.alerts[0];
    assert_eq!(simulated.reading_ids, live.reading_ids);
    assert!(simulated.resolved_at.is_some());
    assert_eq!(live.state(), pb::AlertState::Resolved);
    assert_eq!(
        report.per_day.iter().map(|d| d.alerts).sum::<u32>(),
        per_day
    );
    assert_eq!(report.readings_evaluated, 3);
}

#[then(expr = "patient {string} has {int} alert in all")]
async fn alerts_in_all(world: &mut SuiteWorld, patient: String, count: usize) {
    assert_eq!(alerts(world, &patient).await.len(), count);
}

#[when(
    expr = "device {string} reports deteriorating NEWS2 vitals with a temperature taken {int} minutes ago"
)]
async fn news2_vitals(world: &mut SuiteWorld, name: String, temperature_age: i64) {
    use sentinel_contract::{common::v1 as common, ingestion::v1 as ingestion};
    let device = world.registry.devices[&name].clone();
    let secret = world.registry.credentials[&name].1.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let minute = 60_000_000;
    let coding = |system: &str, code: &str| {
        Some(common::Coding {
            system: system.into(),
            code: code.into(),
            display: String::new(),
        })
    };
    let quantity = |value: f64, unit: &str| {
        Some(common::Quantity {
            value,
            unit: unit.into(),
        })
    };
    let loinc = "http://loinc.org";
    let reading = |seq: &str, minutes_ago: i64, code, value| ingestion::ReadingInput {
        device_id: device.clone(),
        sequence: seq.into(),
        observed_at: sentinel_testkit::registry::at(now - minutes_ago * minute),
        code,
        value,
        ..Default::default()
    };
    let mut pressure = reading("n-bp", 4, coding(loinc, "85354-9"), None);
    pressure.components = vec![
        ingestion::Component {
            code: coding(loinc, "8480-6"),
            value: quantity(95.0, "mm[Hg]"),
        },
        ingestion::Component {
            code: coding(loinc, "8462-4"),
            value: quantity(60.0, "mm[Hg]"),
        },
    ];
    // In log order, the temperature first, so the score is complete at the last reading.
    let readings = vec![
        reading(
            "n-t",
            temperature_age,
            coding(loinc, "8310-5"),
            quantity(37.0, "Cel"),
        ),
        reading("n-rr", 6, coding(loinc, "9279-1"), quantity(26.0, "/min")),
        reading("n-sat", 5, coding(loinc, "59408-5"), quantity(90.0, "%")),
        reading("n-o2", 5, coding(loinc, "3151-8"), quantity(2.0, "L/min")),
        pressure,
        reading(
            "n-acvpu",
            3,
            coding("urn:sentinel:event", "consciousness-alert"),
            None,
        ),
        reading("n-hr", 2, coding(loinc, "8867-4"), quantity(115.0, "/min")),
    ];
    let mut client = suite(world).ingestion_as(&secret).await;
    let response = client
        .ingest(ingestion::IngestRequest {
            batch_id: "news2".into(),
            readings,
        })
        .await
        .expect("ingested")
        .into_inner();
    assert_eq!(response.rejected, 0, "{response:?}");
}

#[then(expr = "the alert of {string} cites {int} readings")]
async fn cites(world: &mut SuiteWorld, rule: String, count: usize) {
    let alert = alert_of(world, &rule).await;
    assert_eq!(alert.reading_ids.len(), count, "{:?}", alert.reading_ids);
}

#[then(expr = "patient {string} has no NEWS2 alert")]
async fn no_news2(world: &mut SuiteWorld, patient: String) {
    use sentinel_contract::{common::v1 as common, ingestion::v1 as ingestion};
    // A marker after the vitals: once its alert is visible the evaluator has judged every
    // reading before it (the log is evaluated in order).
    let (device, secret) = {
        let name = world
            .registry
            .devices
            .keys()
            .next()
            .expect("a device")
            .clone();
        (
            world.registry.devices[&name].clone(),
            world.registry.credentials[&name].1.clone(),
        )
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let mut client = suite(world).ingestion_as(&secret).await;
    client
        .ingest(ingestion::IngestRequest {
            batch_id: "marker".into(),
            readings: vec![ingestion::ReadingInput {
                device_id: device,
                sequence: "marker".into(),
                observed_at: sentinel_testkit::registry::at(now - 60_000_000),
                code: Some(common::Coding {
                    system: "urn:sentinel:event".into(),
                    code: "fall-detected".into(),
                    display: String::new(),
                }),
                ..Default::default()
            }],
        })
        .await
        .expect("ingested");
    let world = &*world;
    let listed = eventually(async || {
        let listed = alerts(world, &patient).await;
        listed
            .iter()
            .any(|a| a.rule_id == "rule-fall")
            .then_some(listed)
    })
    .await;
    assert!(
        !listed.iter().any(|a| a.rule_id.starts_with("rule-news2")),
        "{listed:?}"
    );
}

#[then(
    expr = "a watcher of route {string} first sees the alert of {string} {string} at tier {int}"
)]
async fn routed(world: &mut SuiteWorld, route: String, rule: String, change: String, tier: u32) {
    let alert = alert_of(world, &rule).await;
    let mut rules = client(world, &world.rules.clinician).await;
    let mut stream = rules
        .watch_alerts(pb::WatchAlertsRequest {
            after: 0,
            routes: vec![route.clone()],
        })
        .await
        .expect("watching")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let next = stream
                .message()
                .await
                .expect("the stream")
                .expect("a change");
            assert_eq!(next.route, route, "{next:?}");
            if next.alert_id == alert.id {
                return next;
            }
        }
    })
    .await
    .expect("a change routed there in time");
    assert_eq!(
        (first.change.as_str(), first.tier),
        (change.as_str(), tier),
        "{first:?}"
    );
}
