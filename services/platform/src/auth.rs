//! Caller identity: who is calling and in which roles. The device registry issue fills in how
//! callers authenticate; what every service relies on is here: the [`Caller`] a handler reads
//! from the request, the [`Role`] check, and constant-time comparison of secrets.

use ring::hmac;

use crate::error::ServiceError;

/// A role a caller can hold. Handlers ask for roles, never for identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A device or gateway submitting readings.
    Device,
    /// A clinician who watches and acknowledges alerts.
    Clinician,
    /// Someone who drafts clinical rules.
    RuleAuthor,
    /// Someone who approves clinical rules written by others.
    RuleApprover,
    /// A quality or security officer reading the audit log.
    Auditor,
    /// Someone who registers devices and manages credentials.
    Administrator,
    /// Another Sentinel service.
    Service,
}

impl Role {
    /// The role's code, as audit records and configuration name it.
    pub fn code(self) -> &'static str {
        match self {
            Role::Device => "device",
            Role::Clinician => "clinician",
            Role::RuleAuthor => "rule-author",
            Role::RuleApprover => "rule-approver",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
            Role::Service => "service",
        }
    }
}

/// What kind of party a caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    User,
    Device,
    Service,
}

/// An authenticated caller, placed in the request's extensions by the authentication layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub kind: CallerKind,
    /// Opaque id of the user, device or service; never a patient's identifier.
    pub id: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// `PERMISSION_DENIED` unless the caller holds `role`.
    pub fn require(&self, role: Role) -> Result<(), ServiceError> {
        if self.has(role) {
            Ok(())
        } else {
            Err(ServiceError::PermissionDenied(format!(
                "caller lacks the {role:?} role"
            )))
        }
    }

    /// The caller of a request, or `UNAUTHENTICATED` when none was established.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<&Caller, ServiceError> {
        request
            .extensions()
            .get::<Caller>()
            .ok_or_else(|| ServiceError::Unauthenticated("no credentials presented".to_owned()))
    }
}

/// A secret (an API token, a device credential) kept only as a keyed digest, so the store
/// never holds the secret itself and checks run in constant time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDigest(Vec<u8>);

/// The server's key for digesting secrets, loaded from a file or the environment.
#[derive(Debug)]
pub struct SecretKey(hmac::Key);

impl SecretKey {
    pub fn new(key_material: &[u8]) -> Self {
        SecretKey(hmac::Key::new(hmac::HMAC_SHA256, key_material))
    }

    pub fn digest(&self, secret: &[u8]) -> SecretDigest {
        SecretDigest(hmac::sign(&self.0, secret).as_ref().to_vec())
    }

    /// Whether `presented` is the secret behind `digest`, compared in constant time.
    pub fn verify(&self, presented: &[u8], digest: &SecretDigest) -> bool {
        hmac::verify(&self.0, presented, &digest.0).is_ok()
    }
}

impl SecretDigest {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SecretDigest(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_only_against_its_own_digest() {
        let key = SecretKey::new(b"server key material");
        let digest = key.digest(b"device-token-1");
        assert!(key.verify(b"device-token-1", &digest));
        assert!(!key.verify(b"device-token-2", &digest));
        assert!(!key.verify(b"", &digest));
        let other_key = SecretKey::new(b"another server");
        assert!(!other_key.verify(b"device-token-1", &digest));
    }

    #[test]
    fn roles_are_required_not_assumed() {
        let caller = Caller {
            kind: CallerKind::User,
            id: "user-01".into(),
            roles: vec![Role::RuleAuthor],
        };
        assert!(caller.require(Role::RuleAuthor).is_ok());
        let err = caller.require(Role::RuleApprover).unwrap_err();
        assert_eq!(
            tonic::Status::from(err).code(),
            tonic::Code::PermissionDenied
        );
    }

    #[test]
    fn a_request_without_a_caller_is_unauthenticated() {
        let request = tonic::Request::new(());
        let err = Caller::of(&request).unwrap_err();
        assert_eq!(
            tonic::Status::from(err).code(),
            tonic::Code::Unauthenticated
        );
    }
}
