//! Writes the pack's files, then the manifest of them and, given a key, its signature.

use std::path::Path;

use crate::{Evidence, EvidenceError, RunRecord, manifest, render, sbom};

/// The files of a pack, besides the manifest, its signature and the public key.
pub const FILES: [&str; 6] = [
    "evidence.html",
    "evidence.md",
    "evidence.json",
    "run-record.json",
    "sbom.cdx.json",
    "security.md",
];

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), EvidenceError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| EvidenceError::Write {
        path: path.display().to_string(),
        source,
    })
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, EvidenceError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| EvidenceError::Tool(e.to_string()))
}

/// Writes the pack into `out` (created if need be; files of an earlier pack are replaced).
pub fn write_pack(
    evidence: &Evidence,
    record: &RunRecord,
    out: &Path,
    sign_key: Option<&Path>,
) -> Result<(), EvidenceError> {
    std::fs::create_dir_all(out).map_err(|source| EvidenceError::Write {
        path: out.display().to_string(),
        source,
    })?;
    for stale in [manifest::SIGNATURE, manifest::PUBLIC_KEY] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    write(
        out,
        "evidence.html",
        render::html::page(evidence, record).as_bytes(),
    )?;
    write(
        out,
        "evidence.md",
        render::markdown::document(evidence).as_bytes(),
    )?;
    write(out, "evidence.json", json(evidence)?.as_bytes())?;
    write(out, "run-record.json", json(record)?.as_bytes())?;
    write(
        out,
        "sbom.cdx.json",
        sbom::cyclonedx(&evidence.soup, &evidence.identity)?.as_bytes(),
    )?;
    write(out, "security.md", evidence.threat_model.as_bytes())?;
    let files: Vec<String> = FILES.iter().map(|f| (*f).to_owned()).collect();
    let sums = manifest::manifest(out, &files)?;
    write(out, manifest::MANIFEST, sums.as_bytes())?;
    if let Some(key) = sign_key {
        let (signature, public) = manifest::sign(&sums, key)?;
        write(out, manifest::SIGNATURE, &signature)?;
        write(out, manifest::PUBLIC_KEY, public.as_bytes())?;
    }
    Ok(())
}
