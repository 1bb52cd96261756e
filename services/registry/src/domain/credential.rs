//! The principals credentials stand for, and which roles each kind may hold.

use sentinel_platform::{
    FieldViolation,
    auth::{CallerKind, Role},
};

use super::device::is_code;

/// What a new credential stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalSpec {
    pub kind: CallerKind,
    pub id: String,
    pub roles: Vec<Role>,
    /// When the credential stops working (µs); `None`: valid until revoked.
    pub expires_at: Option<i64>,
}

/// The roles a principal of `kind` may hold: a device only `device`, a gateway only `gateway`,
/// a service only `service`, a user any of the people's roles.
pub fn allowed_roles(kind: CallerKind) -> &'static [Role] {
    match kind {
        CallerKind::Device => &[Role::Device],
        CallerKind::Gateway => &[Role::Gateway],
        CallerKind::Service => &[Role::Service],
        CallerKind::User => &[
            Role::Clinician,
            Role::RuleAuthor,
            Role::RuleApprover,
            Role::Integrator,
            Role::Quality,
            Role::Admin,
        ],
    }
}

/// Checks a credential request: kind, id, role codes and an expiry after `now` (µs).
pub fn parse(
    kind: Option<CallerKind>,
    id: &str,
    roles: &[String],
    expires_at: Option<i64>,
    now: i64,
) -> Result<PrincipalSpec, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if expires_at.is_some_and(|at| at <= now) {
        violations.push(FieldViolation::new("expires_at", "must be in the future"));
    }
    if kind.is_none() {
        violations.push(FieldViolation::new(
            "kind",
            "must be user, device, gateway or service",
        ));
    }
    if !is_code(id) {
        violations.push(FieldViolation::new(
            "principal_id",
            "must be a lowercase id of a-z, 0-9 and - (at most 64)",
        ));
    }
    let mut parsed = Vec::new();
    if roles.is_empty() {
        violations.push(FieldViolation::new("roles", "must name at least one role"));
    }
    for code in roles {
        match Role::from_code(code) {
            Some(role) if kind.is_none_or(|k| allowed_roles(k).contains(&role)) => {
                parsed.push(role);
            }
            Some(_) => violations.push(FieldViolation::new(
                "roles",
                format!(
                    "`{code}` is not a role a {} principal may hold",
                    kind.map_or("", CallerKind::code)
                ),
            )),
            None => violations.push(FieldViolation::new(
                "roles",
                format!("unknown role `{code}`"),
            )),
        }
    }
    match kind {
        Some(kind) if violations.is_empty() => Ok(PrincipalSpec {
            kind,
            id: id.to_owned(),
            roles: parsed,
            expires_at,
        }),
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_holds_only_its_roles() {
        assert!(
            parse(
                Some(CallerKind::User),
                "nurse-ann",
                &["clinician".into(), "quality".into()],
                Some(2),
                1
            )
            .is_ok()
        );
        assert!(
            parse(
                Some(CallerKind::Device),
                "dev-1",
                &["device".into()],
                None,
                1
            )
            .is_ok()
        );
        let err = parse(
            Some(CallerKind::Device),
            "dev-1",
            &["admin".into()],
            None,
            1,
        )
        .unwrap_err();
        assert_eq!(err[0].field, "roles");
        let err = parse(None, "Bad Id", &["wizard".into()], Some(1), 1).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["expires_at", "kind", "principal_id", "roles"]);
    }
}
