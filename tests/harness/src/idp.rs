//! A hospital identity provider for tests: signing keys of its own (an ES256 key made here, an
//! RS256 key from `fixtures/test-idp-rs256.pem`, a key for tests only — ring cannot make RSA
//! keys), its JWKS document in a file or served over HTTP on loopback, key rotation, and bearer
//! tokens minted with the claims a test asks for.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair},
};
use sentinel_platform::config::OidcConfig;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const ISSUER: &str = "https://idp.hospital.test/realms/ward";
pub const AUDIENCE: &str = "sentinel";
/// The group the provider puts ward nurses in, mapped to Sentinel's `clinician`.
pub const NURSES: &str = "ward-nurses";
/// The group mapped to `quality`.
pub const QUALITY: &str = "quality-team";

const RS256_PEM: &str = include_str!("../fixtures/test-idp-rs256.pem");

/// One signing key of the provider.
struct SigningKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

/// What a minted token says; [`IdentityProvider::claims`] gives a valid one to change.
#[derive(Debug, Clone)]
pub struct Claims {
    pub subject: String,
    pub groups: Vec<String>,
    pub issuer: String,
    pub audience: String,
    /// Seconds from now; negative for a token already expired.
    pub expires_in: i64,
    /// Seconds from now the token becomes valid, if it says.
    pub not_before_in: Option<i64>,
    /// Which of the provider's keys signs it (`es-1`, `rs-1`, or one added by rotation).
    pub kid: String,
}

/// The provider.
pub struct IdentityProvider {
    dir: TempDir,
    keys: Vec<SigningKey>,
    published: Arc<Mutex<String>>,
    served: Option<SocketAddr>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("served", &self.served)
            .finish_non_exhaustive()
    }
}

impl Default for IdentityProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl IdentityProvider {
    /// A provider publishing an ES256 key `es-1` and an RS256 key `rs-1`.
    pub fn new() -> Self {
        let mut provider = IdentityProvider {
            dir: tempfile::tempdir().expect("a temp dir"),
            keys: vec![ec_key("es-1"), rsa_key("rs-1")],
            published: Arc::new(Mutex::new(String::new())),
            served: None,
        };
        provider.publish();
        provider
    }

    /// The JWKS document's file.
    pub fn jwks_file(&self) -> PathBuf {
        self.dir.path().join("jwks.json")
    }

    /// Serves the JWKS document over HTTP on loopback; its URL.
    pub async fn serve(&mut self) -> String {
        self.serve_at("127.0.0.1:0".parse().expect("an address"))
            .await
    }

    /// Serves it at `addr` (a port a test reserved).
    pub async fn serve_at(&mut self, addr: SocketAddr) -> String {
        let published = self.published.clone();
        let app = axum::Router::new().route(
            "/certs",
            axum::routing::get(move || {
                let document = published.lock().expect("unpoisoned").clone();
                async move { ([("content-type", "application/json")], document) }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr).await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        self.served = Some(addr);
        format!("http://{addr}/certs")
    }

    /// Sign-in configured for this provider, its keys read from `jwks_url` or else its file.
    /// Nurses are clinicians, the quality team quality.
    pub fn config(&self, jwks_url: Option<String>) -> OidcConfig {
        OidcConfig {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks_file: jwks_url.is_none().then(|| self.jwks_file()),
            jwks_url,
            roles: [
                (NURSES.to_owned(), vec!["clinician".to_owned()]),
                (QUALITY.to_owned(), vec!["quality".to_owned()]),
            ]
            .into(),
            ..OidcConfig::default()
        }
    }

    /// Publishes a new ES256 key `kid` beside the others, as a provider does before it
    /// signs with it.
    pub fn rotate(&mut self, kid: &str) {
        self.keys.push(ec_key(kid));
        self.publish();
    }

    /// Valid claims for `subject` in `groups`, signed by `es-1`, expiring in 5 minutes.
    pub fn claims(subject: &str, groups: &[&str]) -> Claims {
        Claims {
            subject: subject.into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            expires_in: 300,
            not_before_in: None,
            kid: "es-1".into(),
        }
    }

    /// A bearer token saying `claims`, signed by the key it names. A key this provider
    /// never published can be named by [`IdentityProvider::unpublished`].
    pub fn token(&self, claims: &Claims) -> String {
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == claims.kid)
            .expect("a key of this provider");
        sign(key, claims)
    }

    /// A token signed by a key of the same id and kind that this provider never published
    /// (a forgery).
    pub fn forged(&self, claims: &Claims) -> String {
        sign(&ec_key(&claims.kid), claims)
    }

    /// The classic algorithm-confusion forgery: HS256 with the provider's published RSA key
    /// (public, so anyone has it) as the HMAC secret.
    pub fn confused(&self, claims: &Claims) -> String {
        let rsa = self.keys.iter().find(|k| k.alg == Algorithm::RS256);
        let public = rsa.expect("an RSA key").jwk.to_string();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(claims.kid.clone());
        let secret = EncodingKey::from_secret(public.as_bytes());
        jsonwebtoken::encode(&header, &body(claims), &secret).expect("a token")
    }

    /// A token that says it is not signed at all (`alg: none`).
    pub fn unsigned(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(body(claims).to_string());
        format!("{header}.{body}.")
    }

    fn publish(&mut self) {
        let document =
            json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
                .to_string();
        std::fs::write(self.jwks_file(), &document).expect("the JWKS file written");
        *self.published.lock().expect("unpoisoned") = document;
    }
}

fn sign(key: &SigningKey, claims: &Claims) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, &body(claims), &key.encoding).expect("a token")
}

fn body(claims: &Claims) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let mut body = json!({
        "iss": claims.issuer,
        "aud": claims.audience,
        "sub": claims.subject,
        "groups": claims.groups,
        "iat": now,
        "exp": now + claims.expires_in,
        "jti": format!("tok-{now}-{}", claims.subject.len()),
    });
    if let Some(nbf) = claims.not_before_in {
        body["nbf"] = json!(now + nbf);
    }
    body
}

fn ec_key(kid: &str) -> SigningKey {
    let random = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
        .expect("a P-256 key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
        .expect("the key parses");
    // The public key is the uncompressed point 04 || x || y.
    let point = pair.public_key().as_ref();
    SigningKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }),
    }
}

fn rsa_key(kid: &str) -> SigningKey {
    let der: String = RS256_PEM
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .expect("the fixture is PEM");
    let pair = RsaKeyPair::from_der(&der).expect("the fixture is a PKCS#1 RSA key");
    let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    SigningKey {
        kid: kid.into(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(&der),
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        }),
    }
}
