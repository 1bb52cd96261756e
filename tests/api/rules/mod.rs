//! Clinical rules through the gRPC API, on SQLite and PostgreSQL.

use sentinel_testkit::stores;
use std::time::Duration;

use sentinel_contract::{registry::v1 as registry, rules::v1 as pb};
use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    Authed, TestSuite,
    registry::{admin, issue},
};
use tonic::Code;

type Rules = pb::clinical_rules_client::ClinicalRulesClient<Authed>;

/// A client for a user holding `roles`.
async fn user(suite: &TestSuite, id: &str, roles: &[&str]) -> Rules {
    let mut client = admin(suite).await;
    let (_, secret) = issue(&mut client, registry::PrincipalKind::User, id, roles).await;
    suite.rules_as(&secret).await
}

/// The active rules once the library has loaded.
async fn active(client: &mut Rules) -> Vec<pb::RuleVersion> {
    for _ in 0..100 {
        let rules = client
            .list_rules(pb::ListRulesRequest {
                status: pb::RuleStatus::Active.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .rules;
        if !rules.is_empty() {
            return rules;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the built-in library never loaded");
}

fn fever(trigger: f64, unit: &str) -> pb::RuleDefinition {
    sentinel_testkit::rules::threshold("ward-7-fever", trigger, unit, "8310-5")
}

#[tokio::test]
async fn the_builtin_library_loads_once_with_priorities_and_categories() {
    for store in stores() {
        let suite = TestSuite::start(store, &ServiceKind::ALL).await;
        let mut reader = user(&suite, "qa-1", &["quality"]).await;
        let rules = active(&mut reader).await;
        assert_eq!(rules.len(), 17, "{}", store.name());
        let fall = rules
            .iter()
            .find(|r| r.definition.as_ref().unwrap().name == "fall")
            .unwrap();
        assert_eq!(fall.priority(), pb::Priority::High);
        assert_eq!(fall.category(), pb::SamdCategory::Ii);
        assert_eq!(fall.origin, "builtin");
        // A second start on the same store loads nothing twice.
        let config = suite.config().clone();
        let data = suite.stop_keeping_data().await;
        let again = TestSuite::start_with(config, data).await;
        let mut reader = user(&again, "qa-2", &["quality"]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(active(&mut reader).await.len(), 17);
        let loads = sentinel_testkit::audit::about(&again, "builtin").await;
        assert_eq!(
            loads.iter().filter(|e| e.action == "rule.loaded").count(),
            1
        );
        again.stop().await;
    }
}

#[tokio::test]
async fn a_rule_is_drafted_reviewed_by_a_second_person_and_activated() {
    for store in stores() {
        let suite = TestSuite::start(store, &ServiceKind::ALL).await;
        let mut ann = user(&suite, "ann", &["rule-author", "rule-approver"]).await;
        let mut bob = user(&suite, "bob", &["rule-approver"]).await;
        // A threshold in °F for a code compared in °C cannot be evaluated.
        let status = ann
            .create_draft(pb::CreateDraftRequest {
                rule_id: String::new(),
                definition: Some(fever(100.4, "[degF]")),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{}", store.name());
        assert!(
            status.message().contains("definition.logic.unit"),
            "{}",
            status.message()
        );
        let draft = ann
            .create_draft(pb::CreateDraftRequest {
                rule_id: String::new(),
                definition: Some(fever(38.3, "Cel")),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(draft.status(), pb::RuleStatus::Draft);
        assert_eq!(draft.category(), pb::SamdCategory::I);
        let step = |version: u32| pb::RuleStepRequest {
            rule_id: draft.rule_id.clone(),
            version,
            reason: String::new(),
        };
        // Activating a draft skips review: refused.
        let status = bob.activate_rule(step(1)).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        ann.submit_rule(step(1)).await.unwrap();
        // Four eyes: the author may not approve her own rule.
        let status = ann.approve_rule(step(1)).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        let approved = bob.approve_rule(step(1)).await.unwrap().into_inner();
        assert_eq!(approved.approved_by, "bob");
        bob.activate_rule(step(1)).await.unwrap();
        // Version 2 replaces version 1 once active; every version is kept.
        ann.create_draft(pb::CreateDraftRequest {
            rule_id: draft.rule_id.clone(),
            definition: Some(fever(38.5, "Cel")),
        })
        .await
        .unwrap();
        ann.submit_rule(step(2)).await.unwrap();
        bob.approve_rule(step(2)).await.unwrap();
        bob.activate_rule(step(2)).await.unwrap();
        let rule = bob
            .get_rule(pb::GetRuleRequest {
                rule_id: draft.rule_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let statuses: Vec<_> = rule.versions.iter().map(pb::RuleVersion::status).collect();
        assert_eq!(statuses, [pb::RuleStatus::Retired, pb::RuleStatus::Active]);
        // Every step is in the audit log.
        let audited = sentinel_testkit::audit::about(&suite, &draft.rule_id).await;
        let actions: Vec<&str> = audited.iter().map(|e| e.action.as_str()).collect();
        for action in [
            "rule.drafted",
            "rule.submitted",
            "rule.approved",
            "rule.activated",
        ] {
            assert!(actions.contains(&action), "{action}: {actions:?}");
        }
        suite.stop().await;
    }
}

mod alerts {
    use std::time::Duration;

    use sentinel_contract::{
        common::v1 as common, ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as pb,
    };
    use sentinel_platform::ServiceKind;
    use sentinel_testkit::{
        TestSuite,
        registry::{admin, at, issue, patient, register_bound, spec},
    };
    use tonic::Code;

    use super::{Rules, stores, user};

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64
    }

    /// A device bound to `pt-9` and an ingestion client with its credential.
    async fn device(
        suite: &TestSuite,
    ) -> (
        String,
        ingestion::reading_ingestion_client::ReadingIngestionClient<sentinel_testkit::Authed>,
    ) {
        let mut client = admin(suite).await;
        let id = register_bound(&mut client, spec("CGM-9"), "pt-9", 3_600_000_000).await;
        let (_, secret) = issue(
            &mut client,
            registry::PrincipalKind::Device,
            &id,
            &["device"],
        )
        .await;
        (id, suite.ingestion_as(&secret).await)
    }

    fn glucose(
        device: &str,
        sequence: &str,
        value: f64,
        minutes_ago: i64,
    ) -> ingestion::ReadingInput {
        ingestion::ReadingInput {
            device_id: device.into(),
            sequence: sequence.into(),
            observed_at: at(now() - minutes_ago * 60_000_000),
            code: Some(common::Coding {
                system: "http://loinc.org".into(),
                code: "2339-0".into(),
                display: String::new(),
            }),
            value: Some(common::Quantity {
                value,
                unit: "mg/dL".into(),
            }),
            ..Default::default()
        }
    }

    /// Waits until the patient's alerts satisfy `done`.
    async fn alerts_until(
        rules: &mut Rules,
        done: impl Fn(&[pb::Alert]) -> bool,
    ) -> Vec<pb::Alert> {
        for _ in 0..200 {
            let alerts = rules
                .list_alerts(pb::ListAlertsRequest {
                    patient: patient("pt-9"),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .alerts;
            if done(&alerts) {
                return alerts;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("alerts never reached the expected state");
    }

    fn of<'a>(alerts: &'a [pb::Alert], rule: &str) -> Vec<&'a pb::Alert> {
        alerts.iter().filter(|a| a.rule_id == rule).collect()
    }

    #[tokio::test]
    async fn a_low_glucose_raises_once_updates_on_repeat_and_resolves_when_it_clears() {
        for store in stores() {
            let suite = TestSuite::start(store, &ServiceKind::ALL).await;
            let (device, mut readings) = device(&suite).await;
            let mut nurse = user(&suite, "nurse-1", &["clinician"]).await;
            readings
                .ingest(ingestion::IngestRequest {
                    batch_id: "g1".into(),
                    readings: vec![glucose(&device, "1", 50.0, 10)],
                })
                .await
                .unwrap();
            let alerts = alerts_until(&mut nurse, |a| a.len() == 2).await;
            let level2 = of(&alerts, "rule-hypoglycaemia-level-2")[0].clone();
            assert_eq!(level2.priority(), pb::Priority::High, "{}", store.name());
            assert!(level2.urgent_floor);
            // An urgent floor cannot be snoozed.
            let refused = nurse
                .snooze_alert(pb::SnoozeAlertRequest {
                    id: level2.id.clone(),
                    seconds: 600,
                })
                .await
                .unwrap_err();
            assert_eq!(refused.code(), Code::FailedPrecondition);
            // A second low reading updates the open alerts; nothing new is raised.
            readings
                .ingest(ingestion::IngestRequest {
                    batch_id: "g2".into(),
                    readings: vec![glucose(&device, "2", 52.0, 5)],
                })
                .await
                .unwrap();
            let alerts =
                alerts_until(&mut nurse, |a| a.iter().all(|x| x.reading_ids.len() == 2)).await;
            assert_eq!(alerts.len(), 2);
            // Back to 85 mg/dL: both clear (non-latching).
            readings
                .ingest(ingestion::IngestRequest {
                    batch_id: "g3".into(),
                    readings: vec![glucose(&device, "3", 85.0, 1)],
                })
                .await
                .unwrap();
            let alerts = alerts_until(&mut nurse, |a| {
                a.iter().all(|x| x.state() == pb::AlertState::Resolved)
            })
            .await;
            let detail = nurse
                .get_alert(pb::GetAlertRequest {
                    id: level2.id.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            let changes: Vec<&str> = detail.changes.iter().map(|c| c.change.as_str()).collect();
            assert_eq!(changes, ["raised", "updated", "resolved"]);
            assert_eq!(detail.changes[0].rule_version, 1);
            // Acknowledging a resolved alert is refused.
            let refused = nurse
                .acknowledge_alert(pb::AlertActionRequest {
                    id: alerts[0].id.clone(),
                    note: String::new(),
                })
                .await
                .unwrap_err();
            assert_eq!(refused.code(), Code::FailedPrecondition);
            // WatchAlerts replays every change in order.
            let mut watch = nurse
                .watch_alerts(pb::WatchAlertsRequest {
                    after: 0,
                    routes: Vec::new(),
                })
                .await
                .unwrap()
                .into_inner();
            let mut positions = Vec::new();
            for _ in 0..6 {
                positions.push(watch.message().await.unwrap().unwrap().position);
            }
            assert_eq!(positions, [1, 2, 3, 4, 5, 6]);
            suite.stop().await;
        }
    }

    #[tokio::test]
    async fn a_restart_neither_loses_nor_repeats_alerts() {
        for store in stores() {
            let suite = TestSuite::start(store, &ServiceKind::ALL).await;
            let (device, mut readings) = device(&suite).await;
            let mut nurse = user(&suite, "nurse-2", &["clinician"]).await;
            readings
                .ingest(ingestion::IngestRequest {
                    batch_id: "r1".into(),
                    readings: vec![glucose(&device, "1", 60.0, 10)],
                })
                .await
                .unwrap();
            alerts_until(&mut nurse, |a| a.len() == 1).await;
            let config = suite.config().clone();
            let data = suite.stop_keeping_data().await;
            let again = TestSuite::start_with(config, data).await;
            let mut nurse = user(&again, "nurse-3", &["clinician"]).await;
            let (_, secret) = {
                let mut client = admin(&again).await;
                issue(
                    &mut client,
                    registry::PrincipalKind::Device,
                    &device,
                    &["device"],
                )
                .await
            };
            let mut readings = again.ingestion_as(&secret).await;
            readings
                .ingest(ingestion::IngestRequest {
                    batch_id: "r2".into(),
                    readings: vec![glucose(&device, "2", 62.0, 5)],
                })
                .await
                .unwrap();
            let alerts =
                alerts_until(&mut nurse, |a| a.len() == 1 && a[0].reading_ids.len() == 2).await;
            let detail = nurse
                .get_alert(pb::GetAlertRequest {
                    id: alerts[0].id.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            let changes: Vec<&str> = detail.changes.iter().map(|c| c.change.as_str()).collect();
            assert_eq!(changes, ["raised", "updated"], "{}", store.name());
            // Back to normal after the restart: the open alert still clears.
            readings
                .ingest(ingestion::IngestRequest {
                    batch_id: "r3".into(),
                    readings: vec![glucose(&device, "3", 90.0, 1)],
                })
                .await
                .unwrap();
            alerts_until(&mut nurse, |a| {
                a.len() == 1 && a[0].state() == pb::AlertState::Resolved
            })
            .await;
            again.stop().await;
        }
    }
}
