//! The compliance evidence pack: from the requirement and risk catalogue, the BDD results of a
//! test run on each store, the lock file and the curated SOUP list, the built-in rule library
//! and the audit verification of the run's databases, one pack a quality team files as it is —
//! HTML for people, Markdown and JSON for machines, a CycloneDX SBOM, and a SHA-256 manifest
//! that can be signed. Every hole in the evidence is listed, and makes the command fail.

pub mod audit;
pub mod cli;
pub mod identity;
pub mod manifest;
pub mod pack;
pub mod record;
pub mod render;
pub mod rules;
pub mod sbom;
pub mod soup;
pub mod tests_log;
pub mod threats;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use sentinel_traceability::{Catalogue, Matrix, RiskStatus, ScenarioOutcome, check, register};
use serde::Serialize;

pub use identity::Identity;
pub use record::RunRecord;

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Tool(String),
    #[error("signing key: {0}")]
    Key(String),
}

pub(crate) fn read(path: &Path) -> Result<String, EvidenceError> {
    std::fs::read_to_string(path).map_err(|source| EvidenceError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// How a serde enum names itself (`"drive-clinical-management"`), for pages and tables.
pub(crate) fn plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EvidenceError> {
    toml::from_str(&read(path)?)
        .map_err(|e| EvidenceError::Input(format!("{}: {e}", path.display())))
}

/// What the pack is made from.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The workspace root (a checkout, or a copy of one).
    pub root: PathBuf,
    /// Where the BDD run wrote `<store>.json` and `audit-<store>.json`.
    pub results: PathBuf,
    /// The output of the `cargo test` run, for the unit and integration test counts.
    pub test_log: Option<PathBuf>,
    /// The stores every requirement must be verified on.
    pub stores: Vec<String>,
}

/// Counts for the top of the page.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requirements: usize,
    pub states: BTreeMap<String, usize>,
    pub scenario_runs: usize,
    pub scenario_runs_passed: usize,
    pub risks: usize,
    pub risks_with_verified_controls: usize,
    pub soup_direct: usize,
    pub soup_locked: usize,
    pub rules: usize,
    pub audit_databases: usize,
    pub threats: usize,
    pub threats_open: usize,
    pub holes: usize,
}

/// Everything in the pack but the run record: the same for two runs of one commit.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub identity: Identity,
    pub summary: Summary,
    pub holes: Vec<String>,
    pub matrix: Matrix,
    pub risks: Vec<RiskStatus>,
    pub soup: soup::Soup,
    pub rules: Vec<rules::RuleCategory>,
    pub audit: Vec<audit::StoreAudit>,
    pub tests: Vec<tests_log::TestBinary>,
    pub threats: Vec<threats::Threat>,
    /// The threat model as written (`docs/security.md`), copied into the pack as `security.md`.
    #[serde(skip)]
    pub threat_model: String,
}

impl Evidence {
    pub fn passes(&self) -> bool {
        self.holes.is_empty()
    }
}

/// Gathers the evidence from `inputs`. Holes are part of the evidence, not errors; an error is
/// an input that cannot be read at all.
pub fn assemble(inputs: &Inputs) -> Result<Evidence, EvidenceError> {
    let root = &inputs.root;
    let catalogue = Catalogue::load(&root.join("traceability"))
        .map_err(|e| EvidenceError::Input(e.to_string()))?;
    let mut holes = Vec::new();
    let (outcomes, audits) = results(inputs, &mut holes)?;
    let stores: Vec<&str> = inputs.stores.iter().map(String::as_str).collect();
    holes.extend(
        check(&catalogue, &outcomes, &stores)
            .iter()
            .map(ToString::to_string),
    );
    let matrix = Matrix::build(&catalogue, &outcomes, &stores);
    let risks = register(&catalogue, &matrix);

    let (soup, soup_holes) = soup::gather(root)?;
    holes.extend(soup_holes.iter().map(ToString::to_string));
    for audit in &audits {
        holes.extend(audit.holes());
    }

    let tests = match &inputs.test_log {
        Some(path) => tests_log::parse(&read(path)?),
        None => Vec::new(),
    };
    for binary in tests.iter().filter(|b| b.failed > 0) {
        holes.push(format!(
            "cargo test: {} failed {} test(s)",
            binary.name, binary.failed
        ));
    }
    let rules = rules::categorise()?;
    let (threats, threat_holes) = threats::gather(root, &catalogue)?;
    holes.extend(threat_holes);
    let threat_model =
        std::fs::read_to_string(root.join(threats::THREAT_MODEL)).unwrap_or_default();

    let summary = Summary::of(
        &matrix,
        &outcomes,
        &risks,
        (&soup, &rules, &audits, &threats),
        holes.len(),
    );
    Ok(Evidence {
        identity: Identity::of(root)?,
        summary,
        holes,
        matrix,
        risks,
        soup,
        rules,
        audit: audits,
        tests,
        threats,
        threat_model,
    })
}

/// Each store's BDD outcomes and audit verification from the results directory; a store
/// missing either is a hole.
fn results(
    inputs: &Inputs,
    holes: &mut Vec<String>,
) -> Result<(Vec<ScenarioOutcome>, Vec<audit::StoreAudit>), EvidenceError> {
    let mut outcomes: Vec<ScenarioOutcome> = Vec::new();
    let mut audits = Vec::new();
    for store in &inputs.stores {
        let report = inputs.results.join(format!("{store}.json"));
        if !report.exists() {
            holes.push(format!(
                "{store}: no BDD results ({} is missing)",
                report.display()
            ));
            continue;
        }
        let json = read(&report)?;
        outcomes.extend(
            sentinel_traceability::from_cucumber_json(&json, store)
                .map_err(|e| EvidenceError::Input(format!("{}: {e}", report.display())))?,
        );
        if inputs.results.join(audit::file_name(store)).exists() {
            audits.push(audit::read(&inputs.results, store)?);
        } else {
            holes.push(format!(
                "{store}: no audit log verification of the run's databases"
            ));
        }
    }
    Ok((outcomes, audits))
}

impl Summary {
    fn of(
        matrix: &Matrix,
        outcomes: &[ScenarioOutcome],
        risks: &[RiskStatus],
        (soup, rules, audits, threats): (
            &soup::Soup,
            &[rules::RuleCategory],
            &[audit::StoreAudit],
            &[threats::Threat],
        ),
        holes: usize,
    ) -> Summary {
        Summary {
            requirements: matrix.rows.len(),
            states: matrix.tally(),
            scenario_runs: outcomes.len(),
            scenario_runs_passed: outcomes.iter().filter(|o| o.passed).count(),
            risks: risks.len(),
            risks_with_verified_controls: risks.iter().filter(|r| r.controls_verified).count(),
            soup_direct: soup.direct.len(),
            soup_locked: soup.locked,
            rules: rules.len(),
            audit_databases: audits.iter().map(|a| a.databases).sum(),
            threats: threats.len(),
            threats_open: threats.iter().filter(|t| t.open).count(),
            holes,
        }
    }
}
