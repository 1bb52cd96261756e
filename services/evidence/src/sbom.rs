//! The CycloneDX 1.5 SBOM of every third-party crate in `Cargo.lock`, written by the CycloneDX
//! project's own library. Deterministic: its serial number derives from the lock file and its
//! timestamp is the commit's, so two packs of one commit carry the same SBOM.

use cyclonedx_bom::{
    models::{
        component::Classification,
        dependency::{Dependencies, Dependency},
        hash::{Hash, HashAlgorithm, HashValue, Hashes},
        license::{LicenseChoice, Licenses},
        property::{Properties, Property},
        tool::{Tool, Tools},
    },
    prelude::*,
};

use crate::{
    EvidenceError,
    identity::Identity,
    soup::{Locked, Soup},
};

fn purl(name: &str, version: &str) -> String {
    Purl::new("cargo", name, version)
        .map(|p| p.to_string())
        .unwrap_or_else(|_| format!("pkg:cargo/{name}@{version}"))
}

/// A name-based UUID (version 5 layout) from the first bytes of a SHA-256 digest.
fn uuid_from(digest: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn license(expression: &str) -> Licenses {
    let spdx = SpdxExpression::parse_lax(expression.to_owned())
        .unwrap_or_else(|_| SpdxExpression::new(expression));
    Licenses(vec![LicenseChoice::Expression(spdx)])
}

/// The SBOM as CycloneDX 1.5 JSON.
pub fn cyclonedx(soup: &Soup, identity: &Identity) -> Result<String, EvidenceError> {
    let digest = ring::digest::digest(&ring::digest::SHA256, identity.lock_sha256.as_bytes());
    let bom = Bom {
        version: 1,
        serial_number: UrnUuid::new(uuid_from(digest.as_ref())).ok(),
        metadata: Some(metadata(identity)),
        components: Some(Components(
            soup.packages.iter().map(|p| component(soup, p)).collect(),
        )),
        dependencies: Some(Dependencies(dependencies(soup))),
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    };
    let validation = bom.validate_version(SpecVersion::V1_5);
    if !validation.passed() {
        return Err(EvidenceError::Tool(format!(
            "the SBOM does not validate as CycloneDX 1.5: {validation:?}"
        )));
    }
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| EvidenceError::Tool(format!("writing the SBOM: {e}")))?;
    String::from_utf8(out).map_err(|e| EvidenceError::Tool(e.to_string()))
}

/// Sentinel itself, the tool that made the SBOM, and when (the commit's time, so two packs of
/// one commit agree).
fn metadata(identity: &Identity) -> Metadata {
    Metadata {
        timestamp: identity
            .commit_time
            .clone()
            .and_then(|t| DateTime::try_from(t).ok()),
        tools: Some(Tools::List(vec![Tool {
            vendor: None,
            name: Some(NormalizedString::new("sentinel-evidence")),
            version: Some(NormalizedString::new(&identity.version)),
            hashes: None,
            external_references: None,
        }])),
        component: Some(Component::new(
            Classification::Application,
            "sentinel",
            &identity.version,
            Some(purl("sentinel", &identity.version)),
        )),
        ..Metadata::default()
    }
}

/// One locked crate: purl, checksum, license, source, and whether Sentinel uses it directly.
fn component(soup: &Soup, package: &Locked) -> Component {
    let reference = purl(&package.name, &package.version);
    let mut component = Component::new(
        Classification::Library,
        &package.name,
        &package.version,
        Some(reference),
    );
    component.purl = Purl::new("cargo", &package.name, &package.version).ok();
    component.hashes = package.checksum.as_ref().map(|sum| {
        Hashes(vec![Hash {
            alg: HashAlgorithm::SHA_256,
            content: HashValue(sum.clone()),
        }])
    });
    component.licenses = package.license.as_deref().map(license);
    let mut properties = Vec::new();
    if let Some(source) = &package.source {
        properties.push(Property::new("cdx:cargo:source", source));
    }
    if let Some(item) = soup.direct.iter().find(|i| i.curated.name == package.name) {
        properties.push(Property::new("sentinel:direct", "true"));
        properties.push(Property::new("sentinel:scope", &item.curated.scope));
    }
    component.properties = Some(Properties(properties));
    component
}

/// The dependency graph: each locked crate with the locked crates it depends on.
fn dependencies(soup: &Soup) -> Vec<Dependency> {
    let reference_of = |spec: &str| -> Option<String> {
        let mut parts = spec.split(' ');
        let name = parts.next()?;
        let version = parts.next();
        soup.packages
            .iter()
            .find(|p| p.name == name && version.is_none_or(|v| v == p.version))
            .map(|p| purl(&p.name, &p.version))
    };
    soup.packages
        .iter()
        .map(|p| Dependency {
            dependency_ref: purl(&p.name, &p.version),
            dependencies: p
                .dependencies
                .iter()
                .filter_map(|d| reference_of(d))
                .collect(),
        })
        .collect()
}
