//! Clinical rules through the gRPC API, on SQLite and PostgreSQL.

// A test binary: helpers panic to fail the test that called them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use sentinel_contract::{registry::v1 as registry, rules::v1 as pb};
use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    Authed, StoreKind, TestSuite,
    registry::{admin, issue},
};
use tonic::Code;

type Rules = pb::clinical_rules_client::ClinicalRulesClient<Authed>;

fn stores() -> impl Iterator<Item = StoreKind> {
    StoreKind::ALL.into_iter().filter(|store| store.available())
}

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
    pb::RuleDefinition {
        name: "ward-7-fever".into(),
        title: "Fever on ward 7".into(),
        applies_to: Some(pb::AppliesTo {
            codes: vec!["8310-5".into()],
            ..Default::default()
        }),
        logic: Some(pb::rule_definition::Logic::Threshold(pb::Threshold {
            comparison: pb::Comparison::AtOrAbove.into(),
            trigger,
            clear: trigger - 0.5,
            unit: unit.into(),
            ..Default::default()
        })),
        potential_result: pb::PotentialResult::ReversibleInjury.into(),
        onset: pb::Onset::Delayed.into(),
        situation: pb::Situation::Serious.into(),
        significance: pb::Significance::InformClinicalManagement.into(),
        intended_use: "Fever on a surgical ward.".into(),
        clinical_reference: "NICE NG51".into(),
        ..Default::default()
    }
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
