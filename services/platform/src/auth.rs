//! Caller identity, used by every service: who is calling ([`Caller`]), in which [`Role`]s, and
//! how a bearer credential is checked. Credentials are random secrets shown once and stored
//! only as SHA-256 digests, compared in constant time.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{
    digest::{SHA256, digest},
    rand::{SecureRandom, SystemRandom},
};
use subtle::ConstantTimeEq;

use crate::error::ServiceError;

macro_rules! roles {
    ($($variant:ident => $code:literal,)*) => {
        /// A role a caller can hold. Handlers ask for roles, never for identities.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Role {
            $($variant,)*
        }

        impl Role {
            pub const ALL: &'static [Role] = &[$(Role::$variant,)*];

            /// The role's code, as credentials and audit records name it.
            pub fn code(self) -> &'static str {
                match self {
                    $(Role::$variant => $code,)*
                }
            }

            pub fn from_code(code: &str) -> Option<Role> {
                match code {
                    $($code => Some(Role::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

roles! {
    Device => "device",
    Gateway => "gateway",
    Clinician => "clinician",
    RuleAuthor => "rule-author",
    RuleApprover => "rule-approver",
    Integrator => "integrator",
    Quality => "quality",
    Admin => "admin",
    Service => "service",
}

impl Role {
    /// Whether a person (not a device, gateway or service) may hold this role.
    pub fn held_by_people(self) -> bool {
        !matches!(self, Role::Device | Role::Gateway | Role::Service)
    }
}

/// Why a presented credential was refused. Its message goes back to the caller and its code to
/// the audit trail; neither ever carries the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownOrRevoked,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    UnknownKey,
    BadSignature,
    UnsupportedAlgorithm,
    MissingClaim,
    Malformed,
    SignInOff,
}

impl Refusal {
    const ALL: &'static [Refusal] = &[
        Refusal::UnknownOrRevoked,
        Refusal::Expired,
        Refusal::NotYetValid,
        Refusal::WrongIssuer,
        Refusal::WrongAudience,
        Refusal::UnknownKey,
        Refusal::BadSignature,
        Refusal::UnsupportedAlgorithm,
        Refusal::MissingClaim,
        Refusal::Malformed,
        Refusal::SignInOff,
    ];

    /// The reason recorded in `auth.denied` and carried in the status's ErrorInfo.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownOrRevoked => "unknown_or_revoked_credential",
            Refusal::Expired => "credential_expired",
            Refusal::NotYetValid => "token_not_yet_valid",
            Refusal::WrongIssuer => "token_wrong_issuer",
            Refusal::WrongAudience => "token_wrong_audience",
            Refusal::UnknownKey => "token_unknown_key",
            Refusal::BadSignature => "token_bad_signature",
            Refusal::UnsupportedAlgorithm => "token_unsupported_algorithm",
            Refusal::MissingClaim => "token_missing_claim",
            Refusal::Malformed => "token_malformed",
            Refusal::SignInOff => "sign_in_not_configured",
        }
    }

    pub fn from_code(code: &str) -> Option<Refusal> {
        Refusal::ALL.iter().copied().find(|r| r.code() == code)
    }

    /// What the caller is told.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::UnknownOrRevoked => "the credential is unknown or revoked",
            Refusal::Expired => "the credential has expired",
            Refusal::NotYetValid => "the token is not valid yet (nbf is in the future)",
            Refusal::WrongIssuer => "the token was issued by an issuer this suite does not trust",
            Refusal::WrongAudience => "the token is meant for another audience",
            Refusal::UnknownKey => {
                "the token is signed by a key the identity provider does not publish"
            }
            Refusal::BadSignature => "the token's signature does not verify",
            Refusal::UnsupportedAlgorithm => {
                "the token is signed with an algorithm other than RS256 or ES256"
            }
            Refusal::MissingClaim => {
                "the token lacks a claim it must carry (iss, aud, exp, or the subject)"
            }
            Refusal::Malformed => "the token is not a well-formed JWT",
            Refusal::SignInOff => "sign-in with an identity provider's token is not configured",
        }
    }
}

/// Who a presented credential stands for, or why it was refused.
pub type Identified = Result<Caller, Refusal>;

/// What kind of party a caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    User,
    Device,
    Gateway,
    Service,
}

impl CallerKind {
    pub fn code(self) -> &'static str {
        match self {
            CallerKind::User => "user",
            CallerKind::Device => "device",
            CallerKind::Gateway => "gateway",
            CallerKind::Service => "service",
        }
    }

    pub fn from_code(code: &str) -> Option<CallerKind> {
        match code {
            "user" => Some(CallerKind::User),
            "device" => Some(CallerKind::Device),
            "gateway" => Some(CallerKind::Gateway),
            "service" => Some(CallerKind::Service),
            _ => None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub kind: CallerKind,
    /// Opaque id of the user, device, gateway or service; never a patient's identifier.
    pub id: String,
    pub roles: Vec<Role>,
    /// The credential it presented (empty for a caller made in-process).
    pub credential_id: String,
}

impl Caller {
    /// A task of this process acting on its own (an evaluator, a scheduler), named `id` in the
    /// audit trail; it presented no credential.
    pub fn in_process_service(id: &str) -> Caller {
        Caller {
            kind: CallerKind::Service,
            id: id.to_owned(),
            roles: vec![Role::Service],
            credential_id: String::new(),
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The first of `roles` the caller holds, or `PERMISSION_DENIED`.
    pub fn require_any(&self, roles: &[Role]) -> Result<Role, ServiceError> {
        roles
            .iter()
            .copied()
            .find(|role| self.has(*role))
            .ok_or_else(|| {
                let wanted: Vec<&str> = roles.iter().map(|r| r.code()).collect();
                ServiceError::PermissionDenied(format!(
                    "this call needs one of the roles {}",
                    wanted.join(", ")
                ))
            })
    }
}

/// The prefix of Sentinel credentials: `snt_<credential id>.<secret>`.
const PREFIX: &str = "snt_";

/// A bearer credential split into the id it is looked up by and the secret it is checked by.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log, a panic message or a trace.
        f.debug_struct("Token")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The id under which a bootstrap credential given verbatim by an operator is stored.
pub const BOOTSTRAP_ID: &str = "bootstrap-admin";

impl Token {
    /// A new credential with 256 random bits of secret.
    pub fn generate() -> Result<Token, ServiceError> {
        let random = SystemRandom::new();
        let mut id = [0u8; 12];
        let mut secret = [0u8; 32];
        random
            .fill(&mut id)
            .and_then(|()| random.fill(&mut secret))
            .map_err(|_| ServiceError::Unavailable("no randomness available".to_owned()))?;
        Ok(Token {
            id: format!("cred-{}", URL_SAFE_NO_PAD.encode(id)),
            secret: URL_SAFE_NO_PAD.encode(secret),
        })
    }

    /// Reads a presented bearer value. A value not in Sentinel's form is taken as the
    /// operator-supplied bootstrap credential.
    pub fn parse(bearer: &str) -> Option<Token> {
        let bearer = bearer.trim();
        if bearer.is_empty() {
            return None;
        }
        match bearer
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
        {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => Some(Token {
                id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            _ => Some(Token {
                id: BOOTSTRAP_ID.to_owned(),
                secret: bearer.to_owned(),
            }),
        }
    }

    /// The bearer value to present. A secret: show it once.
    pub fn bearer(&self) -> String {
        if self.id == BOOTSTRAP_ID {
            self.secret.clone()
        } else {
            format!("{PREFIX}{}.{}", self.id, self.secret)
        }
    }

    pub fn digest(&self) -> SecretDigest {
        SecretDigest::of(&self.secret)
    }
}

/// What is stored of a secret: its SHA-256. Secrets have 256 random bits, so the digest gives
/// nothing away; it is compared in constant time all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDigest(Vec<u8>);

impl SecretDigest {
    pub fn of(secret: &str) -> Self {
        SecretDigest(digest(&SHA256, secret.as_bytes()).as_ref().to_vec())
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SecretDigest(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether `secret` is the one this digest was made from, in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        SecretDigest::of(secret).0.ct_eq(&self.0).into()
    }
}

/// The bearer value of a request's `authorization` metadata, if any.
pub fn bearer<T>(request: &tonic::Request<T>) -> Option<&str> {
    let value = request.metadata().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Whether a bearer value has the shape of a JWT (three base64url parts, the first a JSON
/// object), so it is checked as a token from the identity provider and not as a Sentinel
/// credential.
pub fn looks_like_jwt(bearer: &str) -> bool {
    bearer.starts_with("eyJ") && bearer.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_round_trip_and_verify_only_their_own_secret() {
        let token = Token::generate().unwrap();
        let parsed = Token::parse(&token.bearer()).unwrap();
        assert_eq!(parsed, token);
        let stored = token.digest();
        assert!(stored.matches(&parsed.secret));
        assert!(!stored.matches("guess"));
        let other = Token::generate().unwrap();
        assert!(!stored.matches(&other.secret));
        assert_ne!(token.id, other.id);
    }

    #[test]
    fn a_token_never_shows_its_secret_in_debug() {
        let token = Token::generate().unwrap();
        assert!(!format!("{token:?}").contains(&token.secret));
    }

    #[test]
    fn a_verbatim_operator_token_is_the_bootstrap_credential() {
        let token = Token::parse("  correct-horse-battery-staple-0123456789 ").unwrap();
        assert_eq!(token.id, BOOTSTRAP_ID);
        assert_eq!(token.bearer(), "correct-horse-battery-staple-0123456789");
        assert_eq!(Token::parse(""), None);
    }

    #[test]
    fn roles_are_required_not_assumed() {
        let caller = Caller {
            kind: CallerKind::User,
            id: "user-01".into(),
            roles: vec![Role::RuleAuthor],
            credential_id: String::new(),
        };
        assert_eq!(
            caller
                .require_any(&[Role::RuleAuthor, Role::Admin])
                .unwrap(),
            Role::RuleAuthor
        );
        let err = caller.require_any(&[Role::RuleApprover]).unwrap_err();
        assert_eq!(
            tonic::Status::from(err).code(),
            tonic::Code::PermissionDenied
        );
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(*role));
        }
    }

    #[test]
    fn the_bearer_is_read_from_the_authorization_metadata() {
        let mut request = tonic::Request::new(());
        assert_eq!(bearer(&request), None);
        request
            .metadata_mut()
            .insert("authorization", "Bearer snt_abc.def".parse().unwrap());
        assert_eq!(bearer(&request), Some("snt_abc.def"));
    }
}
