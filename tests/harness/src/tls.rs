//! A throwaway PKI for TLS tests, and clients that connect with or without a certificate.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sentinel_platform::config::TlsConfig;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A CA and a certificate it signed for `localhost`, usable as server and as client (PEM).
#[derive(Debug, Clone)]
pub struct Pki {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

impl Pki {
    pub fn generate() -> Pki {
        Pki::generate_for(&["localhost"])
    }

    /// A CA and a certificate it signed for `names` (the first is the one clients expect).
    pub fn generate_for(names: &[&str]) -> Pki {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.distinguished_name
            .push(DnType::CommonName, "Sentinel test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("a key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf = CertificateParams::new(names).expect("leaf params");
        leaf.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = leaf.signed_by(&key, &issuer).expect("a certificate");
        Pki {
            ca: ca_cert.pem(),
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Writes the files into `dir` and returns the configuration that uses them (mutual TLS).
    pub fn install(&self, dir: &Path) -> TlsConfig {
        for (name, pem) in [
            ("ca.pem", &self.ca),
            ("cert.pem", &self.cert),
            ("key.pem", &self.key),
        ] {
            std::fs::write(dir.join(name), pem).expect("write PEM");
        }
        TlsConfig {
            cert_file: Some(dir.join("cert.pem")),
            key_file: Some(dir.join("key.pem")),
            ca_file: Some(dir.join("ca.pem")),
            trust_file: None,
            server_name: "localhost".into(),
            allow_plaintext: false,
        }
    }

    /// Server-only TLS: the server presents its certificate, clients present none, and this
    /// process's own clients trust the CA through `tls.trust_file`.
    pub fn install_server_only(&self, dir: &Path) -> TlsConfig {
        let mutual = self.install(dir);
        TlsConfig {
            trust_file: mutual.ca_file,
            ca_file: None,
            ..mutual
        }
    }

    /// Client TLS trusting this CA, presenting `identity`'s certificate if given.
    pub fn client(&self, identity: Option<&Pki>) -> ClientTlsConfig {
        self.client_of("localhost", identity)
    }

    /// Like [`Pki::client`], expecting the server to be `name`.
    pub fn client_of(&self, name: &str, identity: Option<&Pki>) -> ClientTlsConfig {
        let config = ClientTlsConfig::new()
            .domain_name(name)
            .ca_certificate(Certificate::from_pem(&self.ca));
        match identity {
            Some(pki) => config.identity(Identity::from_pem(&pki.cert, &pki.key)),
            None => config,
        }
    }
}

/// Connects to `addr` over TLS with `tls`, or in plaintext without.
pub async fn connect(
    addr: std::net::SocketAddr,
    tls: Option<ClientTlsConfig>,
) -> Result<Channel, String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint =
        Endpoint::from_shared(format!("{scheme}://{addr}")).map_err(|e| e.to_string())?;
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| e.to_string())?;
    }
    endpoint.connect().await.map_err(|e| e.to_string())
}

/// The overall health `addr` answers over `tls` (an error when the connection is refused).
pub async fn health(
    addr: std::net::SocketAddr,
    tls: Option<ClientTlsConfig>,
) -> Result<ServingStatus, String> {
    let channel = connect(addr, tls).await?;
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|r| r.into_inner().status())
        .map_err(|s| s.to_string())
}
