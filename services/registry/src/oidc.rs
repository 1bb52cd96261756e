//! Sign-in with the hospital's identity provider (OpenID Connect): a bearer JWT it signed
//! (RS256 or ES256, with a key it publishes) is accepted beside Sentinel's own credentials when
//! its issuer and audience are the configured ones and it is within `nbf`..`exp` (give or take
//! the leeway). The configured claim names the person — the actor of everything they do — and
//! the groups or roles in another claim map to Sentinel roles. Refusals say why
//! ([`Refusal`]); the token itself is never logged or echoed.

mod keys;

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use sentinel_platform::{
    auth::{Caller, CallerKind, Identified, Refusal, Role},
    config::OidcConfig,
};
use serde_json::Value;

pub use keys::{KeyError, Keys};

/// Checks the identity provider's tokens.
#[derive(Debug)]
pub struct SignIn {
    issuer: String,
    audience: String,
    leeway_seconds: u64,
    subject_claim: String,
    roles_claim: String,
    roles: Vec<(String, Vec<Role>)>,
    keys: Arc<Keys>,
}

impl SignIn {
    /// Reads the provider's keys once (a file that cannot be read is refused; an endpoint
    /// that does not answer is tried again in the background) and keeps them fresh.
    pub async fn start(config: &OidcConfig) -> Result<SignIn, KeyError> {
        let keys = Keys::start(config).await?;
        Ok(SignIn {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway_seconds: config.leeway_seconds,
            subject_claim: config.subject_claim.clone(),
            roles_claim: config.roles_claim.clone(),
            roles: config
                .roles
                .iter()
                .map(|(group, codes)| {
                    let roles = codes.iter().filter_map(|c| Role::from_code(c)).collect();
                    (group.clone(), roles)
                })
                .collect(),
            keys,
        })
    }

    /// The person `token` stands for, or why it is refused.
    pub async fn identify(&self, token: &str) -> Identified {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(Refusal::UnsupportedAlgorithm);
        }
        let key = self
            .keys
            .find(header.kid.as_deref(), header.alg)
            .await
            .ok_or(Refusal::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Value>(token, &key, &self.validation(header.alg))
            .map_err(|err| refusal(err.kind()))?
            .claims;
        self.caller(&claims)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway_seconds;
        validation
    }

    /// The caller the verified `claims` describe.
    fn caller(&self, claims: &Value) -> Identified {
        let subject = claim(claims, &self.subject_claim)
            .and_then(Value::as_str)
            .filter(|s| usable_subject(s))
            .ok_or(Refusal::MissingClaim)?;
        let groups = claim(claims, &self.roles_claim)
            .map(names)
            .unwrap_or_default();
        let mut roles: Vec<Role> = Vec::new();
        for (group, granted) in &self.roles {
            if groups.contains(&group.as_str()) {
                for role in granted {
                    if !roles.contains(role) {
                        roles.push(*role);
                    }
                }
            }
        }
        let token_id = claims.get("jti").and_then(Value::as_str).unwrap_or("");
        Ok(Caller {
            kind: CallerKind::User,
            id: subject.to_owned(),
            roles,
            credential_id: credential_id(token_id),
        })
    }
}

/// A claim by its exact name, else by a dotted path into nested objects (Keycloak's
/// `realm_access.roles`); exact first, since some providers' claim names are URLs with dots.
fn claim<'a>(claims: &'a Value, name: &str) -> Option<&'a Value> {
    claims.get(name).or_else(|| {
        name.split('.')
            .try_fold(claims, |value, key| value.get(key))
    })
}

/// The names a groups or roles claim holds: an array of strings, or one space-separated string.
fn names(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(text) => text.split_whitespace().collect(),
        _ => Vec::new(),
    }
}

/// A subject the audit trail can name as its actor: 1–128 bytes, no spaces or control chars.
fn usable_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject.len() <= 128
        && !subject.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What the audit trail records as the credential: the token's id when it has a usable one.
fn credential_id(token_id: &str) -> String {
    if usable_subject(token_id) && token_id.len() <= 64 {
        format!("oidc:{token_id}")
    } else {
        "oidc".to_owned()
    }
}

fn refusal(kind: &ErrorKind) -> Refusal {
    match kind {
        ErrorKind::ExpiredSignature => Refusal::Expired,
        ErrorKind::ImmatureSignature => Refusal::NotYetValid,
        ErrorKind::InvalidIssuer => Refusal::WrongIssuer,
        ErrorKind::InvalidAudience => Refusal::WrongAudience,
        ErrorKind::InvalidSignature => Refusal::BadSignature,
        ErrorKind::InvalidAlgorithm => Refusal::UnsupportedAlgorithm,
        ErrorKind::MissingRequiredClaim(_) => Refusal::MissingClaim,
        _ => Refusal::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claims_are_found_by_name_then_by_path() {
        let claims = json!({
            "realm_access": { "roles": ["ward-nurses"] },
            "https://idp.example/roles": "quality audit",
        });
        assert_eq!(
            claim(&claims, "realm_access.roles").map(names),
            Some(vec!["ward-nurses"])
        );
        assert_eq!(
            claim(&claims, "https://idp.example/roles").map(names),
            Some(vec!["quality", "audit"])
        );
        assert_eq!(claim(&claims, "groups"), None);
    }

    #[test]
    fn only_subjects_the_audit_trail_can_name_are_usable() {
        assert!(usable_subject("f3a1c2d4-nurse.ann@hospital.example"));
        assert!(!usable_subject(""));
        assert!(!usable_subject("ann smith"));
        assert!(!usable_subject(&"x".repeat(129)));
        assert_eq!(credential_id("abc-1"), "oidc:abc-1");
        assert_eq!(credential_id("has space"), "oidc");
    }
}
