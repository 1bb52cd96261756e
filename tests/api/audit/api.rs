use std::collections::BTreeSet;

use sentinel_contract::audit::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::TestSuite;
use tonic::Code;
use tonic_types::StatusExt;

use super::{append, entry, stores, verify};

#[tokio::test]
async fn appended_records_can_be_listed_filtered_and_fetched_on_every_store() {
    for store in stores() {
        let suite = TestSuite::start(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        let mut client = suite.audit().await;
        let first = append(&mut client, entry("user-a", "alert-1")).await;
        let second = append(&mut client, entry("user-b", "alert-2")).await;
        let third = append(&mut client, entry("user-a", "alert-3")).await;
        assert_eq!(
            (first.sequence, second.sequence, third.sequence),
            (0, 1, 2),
            "{}",
            store.name()
        );
        assert!(second.recorded_at.unwrap().seconds >= first.recorded_at.unwrap().seconds);

        let by_actor = client
            .list(pb::ListRequest {
                actor_id: "user-a".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let sequences: Vec<u64> = by_actor.records.iter().map(|r| r.sequence).collect();
        assert_eq!(sequences, [0, 2]);

        let got = client
            .get(pb::GetRequest { sequence: 1 })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.record.as_ref(), Some(&second));
        let fhir: serde_json::Value = serde_json::from_str(&got.fhir_audit_event).unwrap();
        assert_eq!(fhir["resourceType"], "AuditEvent");
        assert_eq!(fhir["agent"][0]["who"]["identifier"]["value"], "user-b");

        let missing = client
            .get(pb::GetRequest { sequence: 99 })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        suite.stop().await;
    }
}

#[tokio::test]
async fn listing_pages_through_every_record_once() {
    let suite = TestSuite::start(
        sentinel_testkit::StoreKind::Sqlite,
        &[ServiceKind::Registry, ServiceKind::Audit],
    )
    .await;
    let mut client = suite.audit().await;
    for i in 0..25 {
        append(&mut client, entry("user-a", &format!("alert-{i}"))).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list(pb::ListRequest {
                page: Some(sentinel_contract::common::v1::PageRequest {
                    page_size: 10,
                    page_token: token.clone(),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.records.iter().map(|r| r.sequence));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, (0..25).collect::<Vec<u64>>());
    let bad = client
        .list(pb::ListRequest {
            page: Some(sentinel_contract::common::v1::PageRequest {
                page_size: 10,
                page_token: "forged".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    suite.stop().await;
}

#[tokio::test]
async fn an_empty_actor_or_an_unknown_action_is_refused_naming_the_field() {
    let suite = TestSuite::start(
        sentinel_testkit::StoreKind::Sqlite,
        &[ServiceKind::Registry, ServiceKind::Audit],
    )
    .await;
    let mut client = suite.audit().await;
    let mut bad = entry("", "alert-1");
    bad.action = "alert.deleted".into();
    let status = client
        .append(pb::AppendRequest { entry: Some(bad) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["entry.actor.id", "entry.action"]);
    // Nothing was written.
    let listed = client
        .list(pb::ListRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.records.is_empty());
    suite.stop().await;
}

#[tokio::test]
async fn sixteen_concurrent_callers_produce_one_gap_free_chain() {
    for store in stores() {
        let suite = TestSuite::start(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
        let mut tasks = Vec::new();
        for caller in 0..16 {
            let mut client = suite.audit().await;
            tasks.push(tokio::spawn(async move {
                let mut sequences = Vec::new();
                for i in 0..25 {
                    let record = append(
                        &mut client,
                        entry(&format!("user-{caller}"), &format!("alert-{i}")),
                    )
                    .await;
                    sequences.push(record.sequence);
                }
                sequences
            }));
        }
        let mut all = BTreeSet::new();
        for task in tasks {
            for sequence in task.await.unwrap() {
                assert!(all.insert(sequence), "sequence {sequence} given twice");
            }
        }
        assert_eq!(all, (0..400).collect::<BTreeSet<u64>>(), "{}", store.name());
        let mut client = suite.audit().await;
        match verify(&mut client).await {
            pb::verify_response::Verdict::Intact(intact) => assert_eq!(intact.tree_size, 400),
            broken => panic!("{}: {broken:?}", store.name()),
        }
        suite.stop().await;
    }
}

#[tokio::test]
async fn a_range_can_be_verified_and_a_reversed_range_is_refused() {
    let suite = super::logged(sentinel_testkit::StoreKind::Sqlite).await;
    let mut client = suite.audit().await;
    let verdict = client
        .verify(pb::VerifyRequest {
            from_sequence: Some(3),
            to_sequence: Some(5),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    match verdict.verdict {
        Some(pb::verify_response::Verdict::Intact(intact)) => {
            assert_eq!((intact.up_to_sequence, intact.tree_size), (5, 6));
        }
        other => panic!("{other:?}"),
    }
    let reversed = client
        .verify(pb::VerifyRequest {
            from_sequence: Some(5),
            to_sequence: Some(3),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reversed.code(), Code::InvalidArgument);
    // A kept head that is no checkpoint of this log is refused naming the field.
    let forged = client
        .verify(pb::VerifyRequest {
            trusted_checkpoint: "sentinel.local/audit\n3\nAAAA\n\n— x y\n".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::InvalidArgument);
    assert!(
        forged.message().contains("trusted_checkpoint"),
        "{}",
        forged.message()
    );
    suite.stop().await;
}
