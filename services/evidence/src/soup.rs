//! The SOUP list (IEC 62304 §5.3.3–5.3.4, §8.1.2): every crate in `Cargo.lock`, from `cargo
//! metadata` and the lock file, merged with the curated fields of each direct dependency
//! (`docs/soup.toml`), and the CycloneDX SBOM made from them.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use serde::{Deserialize, Serialize};

use crate::EvidenceError;

/// Where the curated list lives, relative to the workspace root.
pub const CURATED: &str = "docs/soup.toml";

/// The known-anomaly review of the locked versions (IEC 62304 §7.1.3).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub date: String,
    pub method: String,
    pub outcome: String,
}

/// The §5.3.3–5.3.4 fields a person writes for one direct dependency.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Curated {
    pub name: String,
    /// runtime | build | test | tooling.
    pub scope: String,
    pub purpose: String,
    /// Why this crate (the selection rationale).
    pub why: String,
    /// The functional and performance requirements Sentinel relies on it for.
    pub requirements: String,
    /// The hardware and software it needs to run.
    pub needs: String,
    /// Where its known anomalies are published.
    pub anomaly_list: String,
    /// Anomalies known to affect Sentinel, and how Sentinel avoids them.
    #[serde(default)]
    pub anomalies: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CuratedFile {
    review: Review,
    soup: Vec<Curated>,
}

/// One crate of `Cargo.lock`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Locked {
    pub name: String,
    pub version: String,
    pub source: Option<String>,
    pub checksum: Option<String>,
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// From `cargo metadata`.
    #[serde(default)]
    pub license: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LockFile {
    package: Vec<Locked>,
}

/// A direct dependency: its curated fields with what the lock file says of it.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub curated: Curated,
    pub versions: Vec<String>,
    pub license: String,
    /// How the workspace uses it: normal, build, dev.
    pub kinds: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Soup {
    pub review: Review,
    pub direct: Vec<Item>,
    /// Every third-party crate in the lock file.
    pub locked: usize,
    /// How many locked crates carry each license expression.
    pub licenses: BTreeMap<String, usize>,
    #[serde(skip)]
    pub packages: Vec<Locked>,
}

/// A gap in the SOUP list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SoupHole {
    Missing(String),
    Stale(String),
    Empty { name: String, field: &'static str },
}

impl std::fmt::Display for SoupHole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SoupHole::Missing(name) => write!(
                f,
                "SOUP {name}: direct dependency without a rationale (no entry in {CURATED})"
            ),
            SoupHole::Stale(name) => write!(
                f,
                "SOUP {name}: listed in {CURATED} but no longer in Cargo.lock"
            ),
            SoupHole::Empty { name, field } => {
                write!(f, "SOUP {name}: {field} is empty in {CURATED}")
            }
        }
    }
}

/// Reads the curated list, `Cargo.lock` and `cargo metadata` of the workspace at `root`.
pub fn gather(root: &Path) -> Result<(Soup, Vec<SoupHole>), EvidenceError> {
    let curated: CuratedFile = crate::read_toml(&root.join(CURATED))?;
    let lock: LockFile = crate::read_toml(&root.join("Cargo.lock"))?;
    let metadata = cargo_metadata::MetadataCommand::new()
        .current_dir(root)
        .manifest_path(root.join("Cargo.toml"))
        .other_options(vec!["--locked".to_owned()])
        .exec()
        .map_err(|e| EvidenceError::Tool(format!("cargo metadata: {e}")))?;
    let packages = locked_packages(lock, &metadata);
    let direct = direct_dependencies(&metadata);
    let (mut items, mut holes) = curated_items(&curated, &packages, &direct);
    for name in direct.keys() {
        if !curated.soup.iter().any(|c| &c.name == name) {
            holes.push(SoupHole::Missing(name.clone()));
        }
    }
    items.sort_by(|a, b| a.curated.name.cmp(&b.curated.name));
    holes.sort();
    let mut tally = BTreeMap::new();
    for package in &packages {
        let license = package.license.clone().unwrap_or_default();
        *tally.entry(license).or_insert(0) += 1;
    }
    Ok((
        Soup {
            review: curated.review,
            direct: items,
            locked: packages.len(),
            licenses: tally,
            packages,
        },
        holes,
    ))
}

/// Every crate locked from a registry, with its license as `cargo metadata` reports it, by
/// name and version.
fn locked_packages(lock: LockFile, metadata: &cargo_metadata::Metadata) -> Vec<Locked> {
    let licenses: BTreeMap<(String, String), String> = metadata
        .packages
        .iter()
        .map(|p| {
            (
                (p.name.to_string(), p.version.to_string()),
                p.license
                    .clone()
                    .unwrap_or_else(|| "NOASSERTION".to_owned()),
            )
        })
        .collect();
    let mut packages: Vec<Locked> = lock
        .package
        .into_iter()
        .filter(|p| p.source.is_some())
        .map(|mut p| {
            p.license = licenses.get(&(p.name.clone(), p.version.clone())).cloned();
            p
        })
        .collect();
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    packages
}

/// The workspace's direct dependencies from a registry, each with the kinds it is used as
/// (normal, dev, build).
fn direct_dependencies(metadata: &cargo_metadata::Metadata) -> BTreeMap<String, BTreeSet<String>> {
    let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in metadata.workspace_packages() {
        for dependency in package.dependencies.iter().filter(|d| d.source.is_some()) {
            let kind = match dependency.kind {
                cargo_metadata::DependencyKind::Development => "dev",
                cargo_metadata::DependencyKind::Build => "build",
                _ => "normal",
            };
            direct
                .entry(dependency.name.clone())
                .or_default()
                .insert(kind.to_owned());
        }
    }
    direct
}

/// Each curated entry with its locked versions, license and kinds; an entry with an empty
/// field or no longer locked is a hole.
fn curated_items(
    curated: &CuratedFile,
    packages: &[Locked],
    direct: &BTreeMap<String, BTreeSet<String>>,
) -> (Vec<Item>, Vec<SoupHole>) {
    let mut holes = Vec::new();
    let mut items = Vec::new();
    for entry in &curated.soup {
        for (field, text) in [
            ("purpose", &entry.purpose),
            ("why", &entry.why),
            ("requirements", &entry.requirements),
            ("needs", &entry.needs),
            ("anomaly_list", &entry.anomaly_list),
        ] {
            if text.trim().is_empty() {
                holes.push(SoupHole::Empty {
                    name: entry.name.clone(),
                    field,
                });
            }
        }
        let locked: Vec<&Locked> = packages.iter().filter(|p| p.name == entry.name).collect();
        if locked.is_empty() {
            holes.push(SoupHole::Stale(entry.name.clone()));
        }
        items.push(Item {
            curated: entry.clone(),
            versions: locked.iter().map(|p| p.version.clone()).collect(),
            license: locked
                .first()
                .and_then(|p| p.license.clone())
                .unwrap_or_default(),
            kinds: direct
                .get(&entry.name)
                .map(|k| k.iter().cloned().collect())
                .unwrap_or_default(),
        });
    }
    (items, holes)
}
