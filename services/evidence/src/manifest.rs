//! The pack's manifest: the SHA-256 of every file, in `sha256sum` format so anyone can check it
//! with coreutils, and an optional Ed25519 signature of the manifest with a key from a file
//! (PKCS#8, PEM or DER, as `openssl genpkey -algorithm ed25519` writes it). The public key is
//! written beside it as PEM, so `openssl pkeyutl -verify -rawin` checks the signature too.

use std::path::Path;

use base64::Engine as _;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

use crate::{EvidenceError, identity::sha256_hex};

pub const MANIFEST: &str = "SHA256SUMS";
pub const SIGNATURE: &str = "SHA256SUMS.sig";
pub const PUBLIC_KEY: &str = "signing-key.pub.pem";

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn der_of(bytes: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains("-----BEGIN") {
        return Ok(bytes.to_vec());
    }
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| EvidenceError::Key(format!("not PEM: {e}")))
}

/// The manifest of `files` (names relative to `dir`, sorted).
pub fn manifest(dir: &Path, files: &[String]) -> Result<String, EvidenceError> {
    let mut names = files.to_vec();
    names.sort();
    let mut text = String::new();
    for name in names {
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(|source| EvidenceError::Read {
            path: path.display().to_string(),
            source,
        })?;
        text.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
    }
    Ok(text)
}

/// Signs `manifest` with the Ed25519 key in `key_file`: (signature, public key PEM).
pub fn sign(manifest: &str, key_file: &Path) -> Result<(Vec<u8>, String), EvidenceError> {
    let bytes = std::fs::read(key_file).map_err(|source| EvidenceError::Read {
        path: key_file.display().to_string(),
        source,
    })?;
    let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der_of(&bytes)?)
        .map_err(|e| EvidenceError::Key(format!("not an Ed25519 PKCS#8 key: {e}")))?;
    let mut spki = SPKI_PREFIX.to_vec();
    spki.extend_from_slice(key.public_key().as_ref());
    Ok((
        key.sign(manifest.as_bytes()).as_ref().to_vec(),
        pem("PUBLIC KEY", &spki),
    ))
}

/// Checks a pack: every file against the manifest, no file unlisted, and, given a public key
/// (PEM or DER SubjectPublicKeyInfo), the manifest's signature. Returns what is wrong.
pub fn verify(dir: &Path, public_key: Option<&Path>) -> Result<Vec<String>, EvidenceError> {
    let text = crate::read(&dir.join(MANIFEST))?;
    let mut problems = Vec::new();
    let mut listed = Vec::new();
    for line in text.lines() {
        let Some((sum, name)) = line.split_once("  ") else {
            problems.push(format!("{MANIFEST}: malformed line {line:?}"));
            continue;
        };
        listed.push(name.to_owned());
        match std::fs::read(dir.join(name)) {
            Ok(bytes) if sha256_hex(&bytes) == sum => {}
            Ok(_) => problems.push(format!("{name}: differs from the manifest")),
            Err(_) => problems.push(format!("{name}: listed in the manifest but missing")),
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|source| EvidenceError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ![MANIFEST, SIGNATURE, PUBLIC_KEY].contains(&name.as_str()) && !listed.contains(&name) {
            problems.push(format!("{name}: not in the manifest"));
        }
    }
    if let Some(key_file) = public_key {
        let bytes = std::fs::read(key_file).map_err(|source| EvidenceError::Read {
            path: key_file.display().to_string(),
            source,
        })?;
        let der = der_of(&bytes)?;
        let raw = der.strip_prefix(&SPKI_PREFIX[..]).unwrap_or(&der);
        let signature = std::fs::read(dir.join(SIGNATURE)).unwrap_or_default();
        if UnparsedPublicKey::new(&ED25519, raw)
            .verify(text.as_bytes(), &signature)
            .is_err()
        {
            problems.push(format!(
                "{SIGNATURE}: not a signature of {MANIFEST} by this key"
            ));
        }
    }
    Ok(problems)
}
