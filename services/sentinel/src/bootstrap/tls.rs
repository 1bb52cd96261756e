//! `sentinel bootstrap --tls`: a private CA for Sentinel and one certificate it signs for every
//! service, usable as server and as client certificate (mutual TLS), for deployments without
//! cert-manager. `tls/` holds exactly what the Secret `sentinel-tls` needs — `tls.crt`,
//! `tls.key`, `ca.crt`, as cert-manager writes it — so `kubectl create secret generic
//! sentinel-tls --from-file=<out>/tls/` makes it; the CA's key stays beside, in `tls-ca.key`,
//! mounted nowhere. The set is kept whole on a re-run, or made whole; nothing renews it (delete
//! it and re-run before `tls.crt` expires, or let cert-manager do it: `tls/cert-manager.yaml`).

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sentinel_platform::{ServiceKind, private_file::write_private};
use time::{Duration, OffsetDateTime};

use super::{BootstrapError, Report, io};

/// The directory of the Secret's files, inside the bootstrap's output.
pub const DIR: &str = "tls";
/// The CA's private key: for issuing again, mounted nowhere.
pub const CA_KEY_FILE: &str = "tls-ca.key";
/// The name every service expects of its peers (`tls.server_name` in the TLS overlays).
pub const SERVER_NAME: &str = "sentinel.sentinel.svc";
/// The namespace the manifests deploy into.
const NAMESPACE: &str = "sentinel";
/// How long the services' certificate is valid: 397 days, the most browsers accept of a
/// server certificate, so the same habit serves every client.
const CERTIFICATE_DAYS: i64 = 397;
/// How long the CA is valid.
const CA_DAYS: i64 = 10 * 365;

/// The names the services' certificate carries: the shared server name, and each Service's
/// short, namespaced and fully qualified name; then `extra` (an ingress's host, say).
pub fn names(extra: &[String]) -> Vec<String> {
    let mut names = vec![SERVER_NAME.to_owned()];
    for kind in ServiceKind::ALL {
        let service = format!("sentinel-{}", kind.name());
        names.push(format!("{service}.{NAMESPACE}.svc.cluster.local"));
        names.push(format!("{service}.{NAMESPACE}.svc"));
        names.push(service);
    }
    names.extend(extra.iter().cloned());
    names
}

/// Makes the TLS set in `out` unless it is all there; refuses a partial set (a certificate
/// without its key, say) rather than guess which half to trust.
pub fn make(out: &Path, extra_names: &[String], report: &mut Report) -> Result<(), BootstrapError> {
    let dir = out.join(DIR);
    let files = [
        dir.join("tls.crt"),
        dir.join("tls.key"),
        dir.join("ca.crt"),
        out.join(CA_KEY_FILE),
    ];
    let present: Vec<&Path> = files
        .iter()
        .filter(|f| f.exists())
        .map(|f| f.as_path())
        .collect();
    if present.len() == files.len() {
        report.kept.extend(files);
        return Ok(());
    }
    if !present.is_empty() {
        return Err(BootstrapError::Malformed {
            path: dir,
            problem: format!(
                "a partial TLS set ({present:?}): remove {} and {CA_KEY_FILE} to make a new one",
                DIR
            ),
        });
    }
    sentinel_platform::private_file::create_private_dir(&dir).map_err(io(&dir))?;
    let pem = issue(&names(extra_names)).map_err(|e| BootstrapError::Malformed {
        path: dir.clone(),
        problem: format!("cannot make the certificates: {e}"),
    })?;
    for (path, text) in files.iter().zip([pem.cert, pem.key, pem.ca, pem.ca_key]) {
        write_private(path, &text).map_err(io(path))?;
    }
    report.written.extend(files);
    Ok(())
}

struct Pem {
    cert: String,
    key: String,
    ca: String,
    ca_key: String,
}

fn issue(names: &[String]) -> Result<Pem, rcgen::Error> {
    let now = OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(DnType::CommonName, "Sentinel CA");
    ca.not_before = now - Duration::hours(1);
    ca.not_after = now + Duration::days(CA_DAYS);
    let ca_cert = ca.self_signed(&ca_key)?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names.to_vec())?;
    leaf.distinguished_name
        .push(DnType::CommonName, SERVER_NAME.to_owned());
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    // An hour's grace for clocks a little behind.
    leaf.not_before = now - Duration::hours(1);
    leaf.not_after = now + Duration::days(CERTIFICATE_DAYS);
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
        ca: ca_cert.pem(),
        ca_key: ca_key_pem,
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn the_set_is_made_whole_kept_whole_and_a_partial_one_refused() {
        let out = tempfile::tempdir().unwrap();
        let mut report = Report::default();
        make(
            out.path(),
            &["sentinel.hospital.example".into()],
            &mut report,
        )
        .unwrap();
        assert_eq!(report.written.len(), 4);
        let cert = fs::read_to_string(out.path().join("tls/tls.crt")).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        let mut entries: Vec<String> = fs::read_dir(out.path().join(DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            ["ca.crt", "tls.crt", "tls.key"],
            "only the Secret's files"
        );

        let mut again = Report::default();
        make(out.path(), &[], &mut again).unwrap();
        assert_eq!((again.written.len(), again.kept.len()), (0, 4));
        assert_eq!(
            fs::read_to_string(out.path().join("tls/tls.crt")).unwrap(),
            cert
        );

        fs::remove_file(out.path().join("tls/tls.key")).unwrap();
        let refused = make(out.path(), &[], &mut Report::default()).unwrap_err();
        assert!(refused.to_string().contains("partial TLS set"), "{refused}");
    }

    #[test]
    fn the_certificate_names_every_service() {
        let names = names(&[]);
        assert_eq!(names[0], SERVER_NAME);
        for service in ["registry", "ingestion", "rules", "audit"] {
            assert!(names.contains(&format!("sentinel-{service}")));
            assert!(names.contains(&format!("sentinel-{service}.sentinel.svc")));
        }
    }
}
