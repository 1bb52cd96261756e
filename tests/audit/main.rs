//! The audit log through its gRPC API, on SQLite and on a throwaway PostgreSQL: appends and
//! queries, concurrency, proofs an outside verifier checks with the public key alone, the
//! database's own refusal of UPDATE and DELETE, and tampering done behind its back.

// A test binary: helpers panic to fail the test that called them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod api;
mod cli;
mod proofs;
mod tamper;
mod trail;

use sentinel_contract::{audit::v1 as pb, common::v1 as common};
use sentinel_testkit::StoreKind;

fn stores() -> impl Iterator<Item = StoreKind> {
    StoreKind::ALL.into_iter().filter(|store| store.available())
}

/// A valid entry: user `actor` acknowledged alert `subject`.
fn entry(actor: &str, subject: &str) -> pb::AuditEntry {
    pb::AuditEntry {
        actor: Some(common::Actor {
            kind: common::actor::Kind::User.into(),
            id: actor.to_owned(),
            role: "clinician".to_owned(),
        }),
        action: "alert.acknowledged".to_owned(),
        subject: Some(pb::Subject {
            r#type: "alert".to_owned(),
            id: subject.to_owned(),
        }),
        outcome: Some(pb::Outcome {
            success: true,
            reason: String::new(),
        }),
        service: "rules".to_owned(),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
        detail: [("priority".to_owned(), "high".to_owned())]
            .into_iter()
            .collect(),
    }
}

async fn append(
    client: &mut pb::audit_log_client::AuditLogClient<tonic::transport::Channel>,
    entry: pb::AuditEntry,
) -> pb::AuditRecord {
    client
        .append(pb::AppendRequest { entry: Some(entry) })
        .await
        .expect("append")
        .into_inner()
        .record
        .expect("the stored record")
}

async fn verify(
    client: &mut pb::audit_log_client::AuditLogClient<tonic::transport::Channel>,
) -> pb::verify_response::Verdict {
    client
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify answers")
        .into_inner()
        .verdict
        .expect("a verdict")
}
