//! The identity provider's signing keys (a JWKS document), from a file or its `jwks_uri`,
//! read again every refresh period and — when a token names a key not yet known, as after the
//! provider rotates its keys — sooner, at most once per [`EARLIEST_AGAIN`]. A failed read keeps
//! the keys already known.

use std::{
    path::PathBuf,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};
use sentinel_platform::config::OidcConfig;
use tokio::{sync::Mutex, time::Instant};

/// The soonest the keys are read again after the last read.
const EARLIEST_AGAIN: Duration = Duration::from_secs(5);
/// How long fetching the keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest key document accepted.
const MAX_DOCUMENT: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("registry.oidc.jwks_file: cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("registry.oidc.jwks_url: {0}")]
    Fetch(String),
    #[error("{origin}: not a JWKS document with an RS256 or ES256 signing key: {problem}")]
    Document { origin: String, problem: String },
}

/// One usable signing key.
#[derive(Clone)]
struct Key {
    id: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

#[derive(Debug)]
enum Source {
    File(PathBuf),
    Url {
        url: String,
        client: reqwest::Client,
    },
}

/// The provider's current keys.
pub struct Keys {
    source: Source,
    current: RwLock<Arc<Vec<Key>>>,
    /// When the keys were last read (held while reading, so one read runs at a time).
    last_read: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// Reads the keys once and refreshes them every `jwks_refresh_seconds` while they are used.
    pub async fn start(config: &OidcConfig) -> Result<Arc<Keys>, KeyError> {
        let source = match (&config.jwks_file, &config.jwks_url) {
            (Some(path), _) => Source::File(path.clone()),
            (None, Some(url)) => Source::Url {
                url: url.clone(),
                client: reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .build()
                    .map_err(|e| KeyError::Fetch(e.to_string()))?,
            },
            (None, None) => return Err(KeyError::Fetch("no key source configured".into())),
        };
        let keys = Arc::new(Keys {
            source,
            current: RwLock::new(Arc::new(Vec::new())),
            last_read: Mutex::new(None),
        });
        match keys.read_again().await {
            Ok(count) => tracing::info!(keys = count, "identity provider's signing keys read"),
            // A key file is the operator's to fix now; an endpoint may come back.
            Err(err @ (KeyError::File { .. } | KeyError::Document { .. }))
                if matches!(keys.source, Source::File(_)) =>
            {
                return Err(err);
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the identity provider's keys yet; its tokens are refused until they are read");
            }
        }
        refresh_periodically(
            Arc::downgrade(&keys),
            Duration::from_secs(config.jwks_refresh_seconds),
        );
        Ok(keys)
    }

    /// The key a token with header `kid` and `alg` is verified with. An unknown id makes the
    /// keys read again first, unless they were read less than [`EARLIEST_AGAIN`] ago.
    pub async fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        if let Some(key) = self.lookup(kid, alg) {
            return Some(key);
        }
        let due = self
            .last_read
            .lock()
            .await
            .is_none_or(|at| at.elapsed() >= EARLIEST_AGAIN);
        if due && let Err(err) = self.read_again().await {
            tracing::warn!(error = %err, "cannot read the identity provider's keys again");
        }
        self.lookup(kid, alg)
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let keys = self.current.read().ok()?.clone();
        let mut fitting = keys.iter().filter(|k| k.alg == alg);
        match kid {
            Some(kid) => fitting.find(|k| k.id.as_deref() == Some(kid)),
            // Without a key id, only a provider with one key of that kind is unambiguous.
            None => match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            },
        }
        .map(|k| k.key.clone())
    }

    /// Reads the keys from the source now; the number of usable keys read.
    async fn read_again(&self) -> Result<usize, KeyError> {
        let mut last_read = self.last_read.lock().await;
        *last_read = Some(Instant::now());
        let (origin, document) = match &self.source {
            Source::File(path) => (
                path.display().to_string(),
                tokio::fs::read(path)
                    .await
                    .map_err(|source| KeyError::File {
                        path: path.display().to_string(),
                        source,
                    })?,
            ),
            Source::Url { url, client } => (url.clone(), fetch(client, url).await?),
        };
        let keys =
            usable_keys(&document).map_err(|problem| KeyError::Document { origin, problem })?;
        let count = keys.len();
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(keys);
        }
        Ok(count)
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, KeyError> {
    let fail = |e: reqwest::Error| KeyError::Fetch(e.without_url().to_string());
    let response = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(fail)?;
    if response.content_length().unwrap_or(0) > MAX_DOCUMENT as u64 {
        return Err(KeyError::Fetch(
            "the key document is larger than 1 MiB".into(),
        ));
    }
    let body = response.bytes().await.map_err(fail)?;
    if body.len() > MAX_DOCUMENT {
        return Err(KeyError::Fetch(
            "the key document is larger than 1 MiB".into(),
        ));
    }
    Ok(body.to_vec())
}

/// Reads the keys again every `period` (every [`EARLIEST_AGAIN`] while none is known) until
/// the keys are dropped.
fn refresh_periodically(keys: Weak<Keys>, period: Duration) {
    tokio::spawn(async move {
        loop {
            let known = match keys.upgrade() {
                Some(keys) => keys.current.read().is_ok_and(|k| !k.is_empty()),
                None => return,
            };
            tokio::time::sleep(if known { period } else { EARLIEST_AGAIN }).await;
            let Some(keys) = keys.upgrade() else { return };
            if let Err(err) = keys.read_again().await {
                tracing::warn!(error = %err, "cannot read the identity provider's keys again");
            }
        }
    });
}

/// The RS256 and ES256 signing keys of a JWKS document. Keys of other kinds, for encryption,
/// or that do not parse are skipped (a provider may publish them beside its signing keys); a
/// document with no usable key is refused.
fn usable_keys(document: &[u8]) -> Result<Vec<Key>, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(document).map_err(|e| e.to_string())?;
    let keys: Vec<Key> = document
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| usable(&jwk))
        .collect();
    if keys.is_empty() {
        return Err("no usable key".into());
    }
    Ok(keys)
}

fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let (alg, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != declared) {
        return None;
    }
    Some(Key {
        id: jwk.common.key_id.clone(),
        alg,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_signing_keys_of_the_two_algorithms_are_kept() {
        let document = br#"{"keys":[
            {"kty":"EC","crv":"P-256","kid":"ec-1","use":"sig","alg":"ES256",
             "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"EC","crv":"P-256","kid":"ec-enc","use":"enc",
             "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty":"oct","k":"c2VjcmV0","kid":"hmac"},
            {"kty":"weird"}
        ]}"#;
        let keys = usable_keys(document).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].id.as_deref(), Some("ec-1"));
        assert!(usable_keys(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).is_err());
        assert!(usable_keys(b"not json").is_err());
    }
}
