//! Audit log helpers shared by the integration tests and the BDD steps.

use sentinel_audit::{
    domain::{
        checkpoint::{Checkpoint, LogSigner},
        merkle::MerkleTree,
    },
    storage::AuditStore,
};
use sentinel_contract::{audit::v1 as pb, common::v1 as common};
use sentinel_platform::{Backend, Store};
use sqlx::Executor;

/// A valid entry: user `actor` did `action` to `subject_type` `subject_id`, in the rules
/// service, successfully.
pub fn entry(actor: &str, action: &str, subject_type: &str, subject_id: &str) -> pb::AuditEntry {
    pb::AuditEntry {
        actor: Some(common::Actor {
            kind: common::actor::Kind::User.into(),
            id: actor.to_owned(),
            role: "clinician".to_owned(),
        }),
        action: action.to_owned(),
        subject: Some(pb::Subject {
            r#type: subject_type.to_owned(),
            id: subject_id.to_owned(),
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

/// Runs `statements` against the audit store with its append-only guards out of the way, as
/// an attacker holding the SQLite file or a PostgreSQL superuser could.
pub async fn behind_the_guards(store: &Store, statements: &[&str]) {
    let mut conn = store.pool().acquire().await.expect("a connection");
    let disable: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER IF EXISTS audit_records_no_update",
            "DROP TRIGGER IF EXISTS audit_records_no_delete",
            "DROP TRIGGER IF EXISTS audit_checkpoints_no_update",
            "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete",
        ],
        Backend::Postgres => &[
            "ALTER TABLE audit_records DISABLE TRIGGER USER",
            "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER",
        ],
    };
    for statement in disable.iter().chain(statements) {
        conn.execute(sqlx::AssertSqlSafe(statement.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// Tampers with a log of at least ten records in the way `name` says.
pub async fn tamper(store: &Store, name: &str) {
    if name == "appends a record forged without the key" {
        forge_append(store).await;
    } else {
        behind_the_guards(store, tampering(name)).await;
    }
}

/// Appends a record as a competent forger would: well-formed, with its leaf hash computed
/// correctly and a signature over the head it makes — but by the forger's own key. Appending
/// needs no bypass: the tables accept INSERT.
pub async fn forge_append(store: &Store) {
    let audit = AuditStore::new(store.clone());
    let head = audit.head().await.expect("the head");
    let mut forged = audit
        .get(head.size - 1)
        .await
        .expect("the last record")
        .expect("a last record");
    forged.record.sequence = head.size;
    forged.record.entry.actor.id = "intruder".to_owned();
    let leaf = forged.record.leaf_hash();
    let mut tree = MerkleTree::new();
    let mut snapshot = audit.snapshot().await.expect("a snapshot");
    for stored in snapshot.page(0, u32::MAX).await.expect("records") {
        tree.push(stored.record.leaf_hash());
    }
    tree.push(leaf);
    let forger = LogSigner::generate("sentinel.local/audit").expect("a key");
    let head = Checkpoint {
        origin: forger.name().to_owned(),
        size: tree.len(),
        root: tree.root(tree.len()).expect("a root"),
    };
    forged.leaf_hash = leaf.to_vec();
    forged.signature = forger.sign(&head);
    let mut tx = store.pool().begin().await.expect("a transaction");
    AuditStore::insert(&mut tx, &forged)
        .await
        .expect("the insert");
    tx.commit().await.expect("commit");
}

/// The SQL of each way the tests tamper with a log of at least ten records.
pub fn tampering(name: &str) -> &'static [&'static str] {
    match name {
        "changes the actor of record 6" => {
            &["UPDATE audit_records SET actor_id = 'nobody-did-it' WHERE sequence = 6"]
        }
        "changes the outcome of record 6" => {
            &["UPDATE audit_records SET outcome = 'failure', reason = 'denied' WHERE sequence = 6"]
        }
        "deletes record 4" => &["DELETE FROM audit_records WHERE sequence = 4"],
        "swaps records 4 and 5" => &[
            "UPDATE audit_records SET sequence = -1 WHERE sequence = 4",
            "UPDATE audit_records SET sequence = 4 WHERE sequence = 5",
            "UPDATE audit_records SET sequence = 5 WHERE sequence = -1",
        ],
        "deletes every record" => &["DELETE FROM audit_records WHERE sequence >= 0"],
        "cuts the log to 6 records and removes its checkpoints" => &[
            "DELETE FROM audit_records WHERE sequence >= 6",
            "DELETE FROM audit_checkpoints",
        ],
        "empties the log and its checkpoints" => {
            &["DELETE FROM audit_records", "DELETE FROM audit_checkpoints"]
        }
        other => panic!("no tampering called {other:?}"),
    }
}

/// The audit entries about `subject_id`, oldest first, read as the suite's own service.
pub async fn about(suite: &crate::TestSuite, subject_id: &str) -> Vec<pb::AuditEntry> {
    about_through(suite.audit().await, subject_id).await
}

/// The entries about `subject_id`, asked through `client` (e.g. over TLS).
pub async fn about_through(
    mut client: pb::audit_log_client::AuditLogClient<crate::Authed>,
    subject_id: &str,
) -> Vec<pb::AuditEntry> {
    let records = client
        .list(pb::ListRequest::default())
        .await
        .expect("audit list")
        .into_inner()
        .records;
    records
        .into_iter()
        .filter_map(|r| r.entry)
        .filter(|e| e.subject.as_ref().is_some_and(|s| s.id == subject_id))
        .collect()
}

/// `message` (of Sentinel's contract, named `name`) in the proto3 JSON mapping, as grpcurl
/// prints an answer.
pub fn as_json<T: prost::Message>(name: &str, message: &T) -> String {
    let pool = prost_reflect::DescriptorPool::decode(sentinel_contract::FILE_DESCRIPTOR_SET)
        .expect("the contract's descriptors");
    let descriptor = pool
        .get_message_by_name(name)
        .expect("a message of the contract");
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
            .expect("the message decodes");
    serde_json::to_string_pretty(&dynamic).expect("JSON")
}
