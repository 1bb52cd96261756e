//! The client every service records its actions with.

use sentinel_contract::audit::v1 as pb;
use sentinel_platform::{
    ServiceKind,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, CallerKind, Role},
    peer::Peer,
};
use sentinel_testkit::{StoreKind, TestSuite};
use tonic::Code;

use super::stores;

fn approver() -> Caller {
    Caller {
        kind: CallerKind::User,
        id: "user-7f3a".into(),
        roles: vec![Role::RuleApprover],
        credential_id: String::new(),
    }
}

#[tokio::test]
async fn the_trail_records_the_caller_and_the_service() {
    for store in stores() {
        let suite = TestSuite::start(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        let trail = suite.running().peers().trail(ServiceKind::Rules);
        let sequence = trail
            .record(
                &approver(),
                Role::RuleApprover,
                AuditEvent::success(Action::RuleApproved, "rule", "rule-01").with("version", "3"),
            )
            .await
            .unwrap();
        let denied = trail
            .record(
                &approver(),
                Role::RuleApprover,
                AuditEvent::failure(Action::AuthDenied, "rule", "rule-02", "own_rule"),
            )
            .await
            .unwrap();
        assert_eq!((sequence, denied), (0, 1));
        let mut client = suite.audit().await;
        let record = client
            .get(pb::GetRequest { sequence: 0 })
            .await
            .unwrap()
            .into_inner()
            .record
            .unwrap();
        let entry = record.entry.unwrap();
        let actor = entry.actor.unwrap();
        assert_eq!(
            (actor.id.as_str(), actor.role.as_str()),
            ("user-7f3a", "rule-approver")
        );
        assert_eq!(entry.service, "rules");
        assert_eq!(entry.detail.get("version").map(String::as_str), Some("3"));
        let failed = client
            .get(pb::GetRequest { sequence: 1 })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            failed
                .record
                .unwrap()
                .entry
                .unwrap()
                .outcome
                .unwrap()
                .reason,
            "own_rule"
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn the_trail_fails_closed_when_the_audit_log_is_unreachable() {
    let dead = tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
    let trail = AuditTrail::new(Peer::new(dead, "").expect("a peer"), ServiceKind::Registry);
    let err = trail
        .record(
            &approver(),
            Role::Admin,
            AuditEvent::success(Action::DeviceRegistered, "device", "dev-1"),
        )
        .await
        .unwrap_err();
    let status = tonic::Status::from(err);
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("was not done"),
        "{}",
        status.message()
    );
}

/// The trail can only name actions of the closed set (`Action`); the audit log itself refuses
/// any other code a client sends.
#[tokio::test]
async fn an_action_outside_the_closed_set_is_not_recorded() {
    let suite = TestSuite::start(
        StoreKind::Sqlite,
        &[ServiceKind::Registry, ServiceKind::Audit],
    )
    .await;
    let entry = pb::AuditEntry {
        actor: Some(sentinel_contract::common::v1::Actor {
            kind: sentinel_contract::common::v1::actor::Kind::User.into(),
            id: "user-7f3a".into(),
            role: "rule_approver".into(),
        }),
        action: "rule.exploded".into(),
        subject: Some(pb::Subject {
            r#type: "rule".into(),
            id: "r".into(),
        }),
        outcome: Some(pb::Outcome {
            success: true,
            reason: String::new(),
        }),
        service: "rules".into(),
        ..Default::default()
    };
    let status = suite
        .running()
        .peers()
        .audit
        .audit()
        .append(pb::AppendRequest { entry: Some(entry) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    suite.stop().await;
}
