//! The log's signing key: from `audit.signing_key` (environment), from the file
//! `audit.signing_key_file`, or — on an embedded first run with neither set — generated into
//! the data directory, so a newcomer's first `serve` just works.

use std::{
    fs,
    path::{Path, PathBuf},
};

use sentinel_platform::{config::AuditConfig, private_file::write_private};

use crate::domain::checkpoint::LogSigner;

/// Why the audit service cannot start: it refuses rather than run without a trustworthy key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("audit signing key file {path} cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit signing key {origin} is malformed: {problem}")]
    Malformed { origin: String, problem: String },
    #[error(
        "no audit signing key configured, and none can be created in {path}: {source} (set audit.signing_key_file or SENTINEL_AUDIT__SIGNING_KEY)"
    )]
    CannotCreate {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where a generated key is kept, beside the SQLite stores.
pub fn default_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit-signing.key")
}

/// The signer the configuration gives, generating one on first start if none is configured.
pub fn load_signer(config: &AuditConfig, data_dir: &Path) -> Result<LogSigner, KeyError> {
    if let Some(text) = &config.signing_key {
        return parse(text.expose(), "from SENTINEL_AUDIT__SIGNING_KEY");
    }
    if let Some(path) = &config.signing_key_file {
        return read(path);
    }
    let path = default_key_path(data_dir);
    if path.exists() {
        return read(&path);
    }
    create(&path, &config.origin)
}

fn parse(text: &str, origin: &str) -> Result<LogSigner, KeyError> {
    LogSigner::from_text(text).map_err(|err| KeyError::Malformed {
        origin: origin.to_owned(),
        problem: err.to_string(),
    })
}

/// The key in the file at `path`.
pub fn read(path: &Path) -> Result<LogSigner, KeyError> {
    let text = fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, &format!("in {}", path.display()))
}

/// Generates a key named `origin` into a new private file at `path`, its public key beside it
/// (`.pub`), for verifiers.
pub fn create(path: &Path, origin: &str) -> Result<LogSigner, KeyError> {
    let cannot = |source| KeyError::CannotCreate {
        path: path.to_owned(),
        source,
    };
    let signer = LogSigner::generate(origin).map_err(|err| KeyError::Malformed {
        origin: "audit.origin".to_owned(),
        problem: err.to_string(),
    })?;
    write_private(path, &signer.to_text()).map_err(cannot)?;
    let public = path.with_extension("pub");
    // Its owner's alone too: a public key others could rewrite would vouch for a forged log.
    let _ = fs::remove_file(&public);
    write_private(&public, &signer.verifier().to_text()).map_err(cannot)?;
    tracing::info!(
        key_file = %path.display(),
        public_key_file = %public.display(),
        "generated the audit log's signing key; its public key, for verifiers: {}",
        signer.verifier().to_text()
    );
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuditConfig {
        AuditConfig::default()
    }

    #[test]
    fn a_first_start_generates_a_private_key_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_signer(&config(), dir.path()).unwrap();
        let second = load_signer(&config(), dir.path()).unwrap();
        assert_eq!(first.verifier(), second.verifier());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(default_key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let public = fs::read_to_string(dir.path().join("audit-signing.pub")).unwrap();
        assert_eq!(public.trim(), first.verifier().to_text());
    }

    #[test]
    fn a_configured_key_that_is_missing_or_malformed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = AuditConfig {
            signing_key_file: Some(dir.path().join("nope.key")),
            ..config()
        };
        let err = load_signer(&missing, dir.path()).unwrap_err();
        assert!(err.to_string().contains("nope.key cannot be read"), "{err}");

        let bad = dir.path().join("bad.key");
        fs::write(&bad, "PRIVATE+KEY+x+00000000+AAAA").unwrap();
        let malformed = AuditConfig {
            signing_key_file: Some(bad),
            ..config()
        };
        let err = load_signer(&malformed, dir.path()).unwrap_err();
        assert!(err.to_string().contains("malformed"), "{err}");

        let from_env = AuditConfig {
            signing_key: Some(sentinel_platform::config::Secret("not a key".into())),
            ..config()
        };
        let err = load_signer(&from_env, dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("SENTINEL_AUDIT__SIGNING_KEY"),
            "{err}"
        );
        assert!(
            !dir.path().join("audit-signing.key").exists(),
            "no key generated beside a configured one"
        );
    }

    #[test]
    fn a_key_from_the_environment_is_used_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let signer = LogSigner::generate("hospital.example/audit").unwrap();
        let configured = AuditConfig {
            signing_key: Some(sentinel_platform::config::Secret(signer.to_text())),
            ..config()
        };
        let loaded = load_signer(&configured, dir.path()).unwrap();
        assert_eq!(loaded.verifier(), signer.verifier());
    }
}
