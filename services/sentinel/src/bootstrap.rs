//! `sentinel bootstrap`: everything a split deployment needs that is not the database — each
//! service's own credential, the first admin's, the identities the registry makes sure of,
//! and the audit log's signing key — written as files into one directory, each only its owner
//! can read. Kubernetes mounts them as Secrets (`deploy/kubernetes` generates the Secrets from
//! this directory), never as environment variables.
//!
//! With `--tls` it also makes a private CA and the services' certificate (`bootstrap/tls.rs`).
//!
//! Re-running it keeps what is there, so a running deployment stays valid; `--rotate` gives
//! every service a new credential and lists the old ones as revoked, which the registry
//! applies at its next start.

use std::{
    fs,
    path::{Path, PathBuf},
};

use sentinel_platform::{
    ServiceError, ServiceKind,
    auth::{CallerKind, Role, Token},
    private_file::{write_private, write_private_exact},
};
use sentinel_registry::identities::{Identities, Identity};

pub mod tls;

/// The file of the registry's identities.
pub const IDENTITIES_FILE: &str = "identities.toml";
/// The first admin's credential: for the operator, mounted nowhere.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
/// The audit log's signing key, mounted in the audit service only.
pub const SIGNING_KEY_FILE: &str = "audit-signing.key";
/// The principal the first admin credential stands for.
const ADMIN_PRINCIPAL: &str = "admin";

/// The principal `kind`'s own credential stands for.
pub fn service_principal(kind: ServiceKind) -> String {
    format!("sentinel-{}", kind.name())
}

/// The file holding `kind`'s own credential, mounted in that service only.
pub fn token_file(kind: ServiceKind) -> String {
    format!("{}.token", kind.name())
}

/// What to make.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Give every service a new credential, revoking the old ones.
    pub rotate: bool,
    /// The audit log's name, should a signing key be generated.
    pub origin: String,
    /// Make a private CA and the services' certificate (`tls/`), for the TLS overlays.
    pub tls: bool,
    /// Names the certificate carries beside the Services' own (an ingress's host, say).
    pub tls_names: Vec<String>,
}

/// What was made, and what was kept.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
    pub revoked: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Malformed { path: PathBuf, problem: String },
    #[error(transparent)]
    Key(#[from] sentinel_audit::keys::KeyError),
    #[error(transparent)]
    Random(#[from] ServiceError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BootstrapError + '_ {
    move |source| BootstrapError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Makes (or completes) the bootstrap directory.
pub fn run(options: &Options) -> Result<Report, BootstrapError> {
    let out = &options.out;
    sentinel_platform::private_file::create_private_dir(out).map_err(io(out))?;
    let mut report = Report::default();
    let identities_path = out.join(IDENTITIES_FILE);
    let previous = match identities_path.exists() {
        true => Identities::read(&identities_path).map_err(|e| BootstrapError::Malformed {
            path: identities_path.clone(),
            problem: e.to_string(),
        })?,
        false => Identities::default(),
    };
    let mut identities = Identities {
        credential: Vec::new(),
        revoked: previous.revoked.clone(),
    };
    for kind in ServiceKind::ALL {
        let path = out.join(token_file(kind));
        let token = service_token(&path, options.rotate, &mut report)?;
        identities.credential.push(Identity::of(
            &token,
            CallerKind::Service,
            &service_principal(kind),
            &[Role::Service],
        ));
    }
    identities
        .credential
        .push(admin(out, &previous, &mut report)?);
    signing_key(out, &options.origin, &mut report)?;
    database_logins(out, &mut report)?;
    if options.tls {
        tls::make(out, &options.tls_names, &mut report)?;
    }
    identities.revoked.extend(report.revoked.iter().cloned());
    let text = identities
        .to_toml()
        .map_err(|problem| BootstrapError::Malformed {
            path: identities_path.clone(),
            problem,
        })?;
    replace(&identities_path, &text)?;
    report.written.push(identities_path);
    Ok(report)
}

/// The service credential in `path`: kept, or made (and the old one revoked) when rotating.
fn service_token(path: &Path, rotate: bool, report: &mut Report) -> Result<Token, BootstrapError> {
    if path.exists() {
        let old = read_token(path)?;
        if !rotate {
            report.kept.push(path.to_owned());
            return Ok(old);
        }
        report.revoked.push(old.id);
        fs::remove_file(path).map_err(io(path))?;
    }
    let token = Token::generate()?;
    write_private(path, &token.bearer()).map_err(io(path))?;
    report.written.push(path.to_owned());
    Ok(token)
}

/// The first admin: its credential file, or — once the operator has moved that file to a
/// vault — the entry already listed. A new one is made only when there is neither.
fn admin(
    out: &Path,
    previous: &Identities,
    report: &mut Report,
) -> Result<Identity, BootstrapError> {
    let path = out.join(ADMIN_TOKEN_FILE);
    let roles = [Role::Admin];
    if path.exists() {
        report.kept.push(path.clone());
        return Ok(Identity::of(
            &read_token(&path)?,
            CallerKind::User,
            ADMIN_PRINCIPAL,
            &roles,
        ));
    }
    if let Some(listed) = previous
        .credential
        .iter()
        .find(|c| c.principal == ADMIN_PRINCIPAL && !previous.revoked.contains(&c.id))
    {
        return Ok(listed.clone());
    }
    let token = Token::generate()?;
    write_private(&path, &token.bearer()).map_err(io(&path))?;
    report.written.push(path);
    Ok(Identity::of(
        &token,
        CallerKind::User,
        ADMIN_PRINCIPAL,
        &roles,
    ))
}

/// The audit log's signing key: kept when there is one (a new key would be a new log), made
/// otherwise, its public key beside it.
fn signing_key(out: &Path, origin: &str, report: &mut Report) -> Result<(), BootstrapError> {
    let path = out.join(SIGNING_KEY_FILE);
    if path.exists() {
        sentinel_audit::keys::read(&path)?;
        report.kept.push(path);
        return Ok(());
    }
    sentinel_audit::keys::create(&path, origin)?;
    report.written.push(path.with_extension("pub"));
    report.written.push(path);
    Ok(())
}

/// Each service's own database login (`db-<service>.username`, `db-<service>.password`): the
/// role a DBA or CloudNativePG's managed roles create, a member of that service's role only
/// (docs/kubernetes.md). Kept when there; not rotated by `--rotate` (rotate a database password
/// where the role lives).
fn database_logins(out: &Path, report: &mut Report) -> Result<(), BootstrapError> {
    for kind in ServiceKind::ALL {
        let user = out.join(format!("db-{}.username", kind.name()));
        let password = out.join(format!("db-{}.password", kind.name()));
        if user.exists() && password.exists() {
            report.kept.extend([user, password]);
            continue;
        }
        let _ = fs::remove_file(&user);
        let _ = fs::remove_file(&password);
        write_private_exact(&user, &format!("sentinel_{}", kind.name())).map_err(io(&user))?;
        write_private_exact(&password, &Token::generate()?.secret).map_err(io(&password))?;
        report.written.extend([user, password]);
    }
    Ok(())
}

fn read_token(path: &Path) -> Result<Token, BootstrapError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    Token::parse(&text)
        .filter(|token| token.id != sentinel_platform::auth::BOOTSTRAP_ID)
        .ok_or_else(|| BootstrapError::Malformed {
            path: path.to_owned(),
            problem: "not a Sentinel credential (snt_<id>.<secret>)".into(),
        })
}

/// Replaces `path` with `text` at once (a reader sees the old file or the new, whole).
fn replace(path: &Path, text: &str) -> Result<(), BootstrapError> {
    let staging = path.with_extension("toml.new");
    let _ = fs::remove_file(&staging);
    write_private(&staging, text.trim_end()).map_err(io(&staging))?;
    fs::rename(&staging, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path, rotate: bool) -> Options {
        Options {
            out: dir.to_owned(),
            rotate,
            origin: "hospital.example/audit".into(),
            tls: false,
            tls_names: Vec::new(),
        }
    }

    fn identities(dir: &Path) -> Identities {
        Identities::read(&dir.join(IDENTITIES_FILE)).unwrap()
    }

    #[test]
    fn a_rerun_keeps_everything_and_a_rotation_revokes_the_old_service_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let first = run(&options(dir.path(), false)).unwrap();
        assert!(first.kept.is_empty());
        let made = identities(dir.path());
        assert_eq!(made.credential.len(), 5);
        assert!(made.revoked.is_empty());
        for name in ["registry", "ingestion", "rules", "audit"] {
            let principal = format!("sentinel-{name}");
            assert!(made.credential.iter().any(|c| c.principal == principal));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("rules.token"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let again = run(&options(dir.path(), false)).unwrap();
        assert_eq!(identities(dir.path()), made, "a re-run changes nothing");
        assert_eq!(again.written, vec![dir.path().join(IDENTITIES_FILE)]);

        // The operator moves the admin credential to a vault: it stays listed.
        fs::remove_file(dir.path().join(ADMIN_TOKEN_FILE)).unwrap();
        run(&options(dir.path(), false)).unwrap();
        assert_eq!(identities(dir.path()), made);

        let rotated = run(&options(dir.path(), true)).unwrap();
        assert_eq!(rotated.revoked.len(), 4);
        let after = identities(dir.path());
        assert_eq!(after.revoked, rotated.revoked);
        let admin = |ids: &Identities| {
            ids.credential
                .iter()
                .find(|c| c.principal == "admin")
                .cloned()
        };
        assert_eq!(admin(&after), admin(&made), "the admin is not rotated");
        for old in &made.credential {
            if old.principal != "admin" {
                assert!(after.revoked.contains(&old.id));
                assert!(!after.credential.iter().any(|c| c.id == old.id));
            }
        }
    }
}
