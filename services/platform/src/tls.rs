//! TLS for the suite's server and for its own clients, from the PEM files the configuration
//! names (rustls, through tonic).

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::config::TlsConfig;

/// The loaded TLS material of this process.
#[derive(Debug, Clone)]
pub struct Tls {
    identity: Identity,
    ca: Option<Certificate>,
    trust: Option<Certificate>,
    server_name: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{key}: cannot read {path}: {source}")]
pub struct TlsError {
    key: &'static str,
    path: String,
    source: std::io::Error,
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError {
        key,
        path: path.display().to_string(),
        source,
    })
}

impl Tls {
    /// The TLS material `config` names, or `None` when TLS is off.
    pub fn load(config: &TlsConfig) -> Result<Option<Tls>, TlsError> {
        let (Some(cert), Some(key)) = (&config.cert_file, &config.key_file) else {
            return Ok(None);
        };
        let identity = Identity::from_pem(read("tls.cert_file", cert)?, read("tls.key_file", key)?);
        let ca = config
            .ca_file
            .as_ref()
            .map(|ca| read("tls.ca_file", ca).map(Certificate::from_pem))
            .transpose()?;
        let trust = config
            .trust_file
            .as_ref()
            .map(|trust| read("tls.trust_file", trust).map(Certificate::from_pem))
            .transpose()?;
        Ok(Some(Tls {
            identity,
            ca,
            trust,
            server_name: config.server_name.clone(),
        }))
    }

    /// The server's TLS: its identity, and with a CA, client certificates required.
    pub fn server(&self) -> ServerTlsConfig {
        let config = ServerTlsConfig::new().identity(self.identity.clone());
        match &self.ca {
            Some(ca) => config.client_ca_root(ca.clone()),
            None => config,
        }
    }

    /// This process's clients: present the same identity (asked for under mutual TLS) and
    /// trust the CA, the trust bundle, or — with neither — the system's roots, so a server
    /// certificate from a public or hospital CA installed on the host is trusted.
    pub fn client(&self) -> ClientTlsConfig {
        let config = ClientTlsConfig::new()
            .domain_name(self.server_name.clone())
            .identity(self.identity.clone());
        let anchors: Vec<Certificate> = self.ca.iter().chain(&self.trust).cloned().collect();
        if anchors.is_empty() {
            config.with_native_roots()
        } else {
            config.ca_certificates(anchors)
        }
    }
}
