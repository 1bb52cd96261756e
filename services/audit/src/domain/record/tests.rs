use super::*;

pub(crate) fn fields() -> EntryFields {
    EntryFields {
        actor_kind: Some(ActorKind::User),
        actor_id: "user-7f3a".into(),
        actor_role: "rule-approver".into(),
        action: "rule.approved".into(),
        subject_type: "rule".into(),
        subject_id: "rule-01HZX".into(),
        success: true,
        reason: String::new(),
        service: "rules".into(),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        detail: [("version".to_owned(), "3".to_owned())]
            .into_iter()
            .collect(),
    }
}

fn fields_named(violations: &[FieldViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.field.as_str()).collect()
}

#[test]
fn a_complete_entry_parses() {
    let entry = fields().parse().unwrap();
    assert_eq!(entry.action, Action::RuleApproved);
    assert_eq!(entry.outcome, Outcome::Success);
}

#[test]
fn an_empty_actor_and_an_unknown_action_are_named() {
    let mut bad = fields();
    bad.actor_id = String::new();
    bad.action = "rule.deleted".into();
    let violations = bad.parse().unwrap_err();
    assert_eq!(
        fields_named(&violations),
        ["entry.actor.id", "entry.action"]
    );
    assert!(violations[1].rule.contains("unknown action `rule.deleted`"));
}

#[test]
fn every_field_rule_is_enforced() {
    type Breakage = fn(&mut EntryFields);
    let cases: Vec<(Breakage, &str)> = vec![
        (|f| f.actor_kind = None, "entry.actor.kind"),
        (|f| f.actor_id = "has space".into(), "entry.actor.id"),
        (|f| f.actor_id = "x".repeat(129), "entry.actor.id"),
        (
            |f| f.actor_role = "Rule Approver".into(),
            "entry.actor.role",
        ),
        (|f| f.subject_type = String::new(), "entry.subject.type"),
        (|f| f.subject_id = String::new(), "entry.subject.id"),
        (|f| f.reason = "why".into(), "entry.outcome.reason"),
        (|f| f.success = false, "entry.outcome.reason"),
        (|f| f.service = "billing".into(), "entry.service"),
        (
            |f| f.trace_id = "00000000000000000000000000000000".into(),
            "entry.trace_id",
        ),
        (
            |f| f.trace_id = "4BF92F3577B34DA6A3CE929D0E0E4736".into(),
            "entry.trace_id",
        ),
        (
            |f| {
                f.detail.insert("note".into(), "line\nbreak".into());
            },
            "entry.detail[note]",
        ),
        (
            |f| f.detail = (0..17).map(|i| (format!("k{i}"), String::new())).collect(),
            "entry.detail",
        ),
    ];
    for (break_it, field) in cases {
        let mut bad = fields();
        break_it(&mut bad);
        let violations = bad.parse().unwrap_err();
        assert_eq!(fields_named(&violations), [field], "{violations:?}");
    }
}

fn record() -> AuditRecord {
    AuditRecord {
        sequence: 41,
        recorded_at: 1_764_000_000_123_456,
        entry: fields().parse().unwrap(),
    }
}

#[test]
fn the_canonical_encoding_is_stable() {
    // A known answer: changing the encoding changes every hash ever signed, so it must be a
    // new ENCODING_VERSION, never an edit.
    let bytes = record().canonical_bytes();
    assert_eq!(bytes[0], 1);
    assert_eq!(&bytes[1..9], &41u64.to_be_bytes());
    assert_eq!(
        hex::encode(record().leaf_hash()),
        include_str!("leaf_hash_v1.txt").trim()
    );
}

#[test]
fn every_field_is_covered_by_the_hash() {
    let base = record().leaf_hash();
    let changes: Vec<fn(&mut AuditRecord)> = vec![
        |r| r.sequence += 1,
        |r| r.recorded_at += 1,
        |r| r.entry.actor.kind = ActorKind::Service,
        |r| r.entry.actor.id.push('x'),
        |r| r.entry.actor.role.push('x'),
        |r| r.entry.action = Action::RuleRetired,
        |r| r.entry.subject.kind.push('x'),
        |r| r.entry.subject.id.push('x'),
        |r| r.entry.outcome = Outcome::Failure(String::new()),
        |r| r.entry.service = "audit".into(),
        |r| r.entry.trace_id.clear(),
        |r| {
            r.entry.detail.insert("version".into(), "4".into());
        },
        |r| {
            r.entry.detail.insert("extra".into(), String::new());
        },
    ];
    for change in changes {
        let mut changed = record();
        change(&mut changed);
        assert_ne!(changed.leaf_hash(), base, "{changed:?}");
    }
}

#[test]
fn length_prefixes_keep_fields_apart() {
    // "ab" + "c" and "a" + "bc" must not encode alike.
    let mut one = record();
    one.entry.actor.id = "ab".into();
    one.entry.actor.role = "c".into();
    let mut two = record();
    two.entry.actor.id = "a".into();
    two.entry.actor.role = "bc".into();
    assert_ne!(one.canonical_bytes(), two.canonical_bytes());
}
