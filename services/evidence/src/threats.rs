//! The threat model (`docs/security.md`, IEC 81001-5-1): its STRIDE table read into threats
//! with their controls, requirements and tests, and checked against the catalogue and the
//! repository — a threat must name requirements that exist and tests that are there, a feature
//! it names must hold a scenario of one of its requirements, and every security requirement must
//! answer some threat. Threats marked open are carried as residual risk, not holes.

use std::path::Path;

use sentinel_traceability::{Catalogue, catalogue::RequirementKind};
use serde::Serialize;

use crate::{EvidenceError, read};

/// Where the threat model is, in the repository and in the pack (`security.md`).
pub const THREAT_MODEL: &str = "docs/security.md";

/// One row of the STRIDE table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threat {
    pub id: String,
    pub stride: String,
    pub threat: String,
    pub control: String,
    pub requirements: Vec<String>,
    pub tests: Vec<String>,
    /// Its control is still to be built.
    pub open: bool,
}

/// The threats of the model under `root`, and the holes in it.
pub fn gather(
    root: &Path,
    catalogue: &Catalogue,
) -> Result<(Vec<Threat>, Vec<String>), EvidenceError> {
    let path = root.join(THREAT_MODEL);
    if !path.exists() {
        return Ok((Vec::new(), vec![format!("{THREAT_MODEL}: no threat model")]));
    }
    let threats = parse(&read(&path)?);
    let mut holes = Vec::new();
    if threats.is_empty() {
        holes.push(format!("{THREAT_MODEL}: no threat in its table"));
    }
    for threat in threats.iter().filter(|t| !t.open) {
        holes.extend(check(root, catalogue, threat));
    }
    for requirement in &catalogue.requirements {
        let answered = threats
            .iter()
            .any(|t| t.requirements.contains(&requirement.id));
        if requirement.kind == RequirementKind::Security && !answered {
            holes.push(format!(
                "{}: security requirement that answers no threat in {THREAT_MODEL}",
                requirement.id
            ));
        }
    }
    Ok((threats, holes))
}

/// The table rows (`| T-nn | … |`) of the document.
pub fn parse(document: &str) -> Vec<Threat> {
    document
        .lines()
        .filter(|line| line.starts_with("| T-"))
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let [id, stride, threat, control, requirements, tests] = cells[..] else {
                return None;
            };
            Some(Threat {
                id: id.to_owned(),
                stride: stride.to_owned(),
                threat: threat.to_owned(),
                control: control.to_owned(),
                requirements: list(requirements),
                tests: list(tests),
                open: threat.starts_with("**Open**"),
            })
        })
        .collect()
}

/// The items of a comma-separated cell (`—` for none).
fn list(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty() && *item != "—")
        .map(str::to_owned)
        .collect()
}

fn check(root: &Path, catalogue: &Catalogue, threat: &Threat) -> Vec<String> {
    let mut holes = Vec::new();
    let hole = |what: String| format!("{} ({THREAT_MODEL}): {what}", threat.id);
    if threat.requirements.is_empty() || threat.tests.is_empty() {
        holes.push(hole("names no requirement or no test".into()));
    }
    for id in &threat.requirements {
        if !catalogue.requirements.iter().any(|r| &r.id == id) {
            holes.push(hole(format!("{id} is not a requirement")));
        }
    }
    for test in &threat.tests {
        let Ok(text) = std::fs::read_to_string(root.join(test)) else {
            holes.push(hole(format!("{test} is not in the repository")));
            continue;
        };
        let tagged = threat
            .requirements
            .iter()
            .any(|id| text.contains(&format!("@{id}")));
        if test.ends_with(".feature") && !tagged {
            holes.push(hole(format!("{test} has no scenario of its requirements")));
        }
    }
    holes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_with_their_lists_and_open_ones_marked() {
        let document = "| id | x |\n| --- | --- |\n\
            | T-01 | S | spoofing | credentials | REQ-AUTH-001, REQ-SEC-003 | tests/features/a.feature |\n\
            | T-02 | D | **Open** (issue #1): floods | — | — | — |\n\
            | not a row |\n";
        let threats = parse(document);
        assert_eq!(threats.len(), 2);
        assert_eq!(threats[0].requirements, ["REQ-AUTH-001", "REQ-SEC-003"]);
        assert_eq!(threats[0].tests, ["tests/features/a.feature"]);
        assert!(!threats[0].open);
        assert!(threats[1].open);
        assert!(threats[1].requirements.is_empty());
    }
}
