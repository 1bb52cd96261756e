//! The requirement and risk catalogue, as structured TOML files in `traceability/`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use serde::{Deserialize, Serialize};

/// What a requirement is about, as IEC 62304 §5.2.2 sorts software requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequirementKind {
    Functional,
    Safety,
    Security,
    Performance,
    Usability,
}

/// IEC 62304 §4.3 software safety class of the items that implement a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum SafetyClass {
    /// No injury or damage to health is possible.
    A,
    /// Non-serious injury is possible.
    B,
    /// Death or serious injury is possible.
    C,
}

/// Where a requirement stands: only approved requirements must be verified for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Approved,
    Draft,
    Retired,
}

/// One software requirement: `REQ-<AREA>-NNN`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    /// What the software shall do, testably.
    pub statement: String,
    pub kind: RequirementKind,
    pub safety_class: SafetyClass,
    /// Where the requirement came from (an issue, a standard, a user need).
    pub source: String,
    pub status: Status,
    /// Why the requirement exists.
    pub rationale: String,
}

impl Requirement {
    /// A fingerprint of the statement, blind to how its lines are wrapped: when it changes, the
    /// scenarios reviewed against the old text are suspect (as Doorstop marks links).
    pub fn fingerprint(&self) -> String {
        let words: Vec<&str> = self.statement.split_whitespace().collect();
        let digest = ring::digest::digest(&ring::digest::SHA256, words.join(" ").as_bytes());
        hex::encode(&digest.as_ref()[..8])
    }
}

/// ISO 14971 severity of a harm, in the risk management plan's five steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Negligible = 1,
    Minor,
    Serious,
    Critical,
    Catastrophic,
}

impl Severity {
    /// The least software safety class that may implement a control of a harm this severe.
    pub fn least_class(self) -> SafetyClass {
        match self {
            Severity::Negligible => SafetyClass::A,
            Severity::Minor => SafetyClass::B,
            _ => SafetyClass::C,
        }
    }
}

/// ISO 14971 probability of occurrence of harm, in five steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Probability {
    Improbable = 1,
    Remote,
    Occasional,
    Probable,
    Frequent,
}

/// Whether a risk is acceptable, by the plan's criteria on severity × probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Acceptability {
    Acceptable,
    /// As low as reasonably practicable: acceptable with a rationale.
    Alarp,
    Unacceptable,
}

impl Acceptability {
    pub fn of(severity: Severity, probability: Probability) -> Acceptability {
        match severity as u8 * probability as u8 {
            0..=4 => Acceptability::Acceptable,
            5..=9 => Acceptability::Alarp,
            _ => Acceptability::Unacceptable,
        }
    }
}

/// The ISO 14971 §7.1 option a control takes, in the order the standard prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlType {
    InherentSafety,
    ProtectiveMeasure,
    InformationForSafety,
}

/// One risk control measure and the requirements that implement it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub measure: String,
    #[serde(rename = "type")]
    pub kind: ControlType,
    pub requirements: Vec<String>,
}

/// One identified risk: `RISK-NNN`, an entry of the ISO 14971 risk register.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub id: String,
    pub hazard: String,
    pub hazardous_situation: String,
    pub harm: String,
    pub severity: Severity,
    pub probability: Probability,
    #[serde(default, rename = "control")]
    pub controls: Vec<Control>,
    /// Probability once the controls are in place and verified.
    pub residual_probability: Probability,
    /// Why the residual risk is acceptable.
    pub residual_rationale: String,
}

impl Risk {
    pub fn initial(&self) -> Acceptability {
        Acceptability::of(self.severity, self.probability)
    }

    pub fn residual(&self) -> Acceptability {
        Acceptability::of(self.severity, self.residual_probability)
    }

    /// Whether any of the risk's controls is implemented by `requirement`.
    pub fn controlled_by(&self, requirement: &str) -> bool {
        self.controls
            .iter()
            .any(|c| c.requirements.iter().any(|r| r == requirement))
    }
}

/// Every requirement and risk of the product, and the statement fingerprints last reviewed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(default, rename = "requirement")]
    pub requirements: Vec<Requirement>,
    #[serde(default, rename = "risk")]
    pub risks: Vec<Risk>,
    /// Requirement id → the fingerprint of its statement when its scenarios were last reviewed.
    #[serde(default)]
    pub reviewed: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid catalogue: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("unknown requirement {0}")]
    UnknownRequirement(String),
}

impl Catalogue {
    /// Reads `requirements.toml`, `risks.toml` and `reviews.toml` from `dir`.
    pub fn load(dir: &Path) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::default();
        for name in ["requirements.toml", "risks.toml", REVIEWS] {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogueError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let part = Catalogue::parse(&text).map_err(|source| CatalogueError::Parse {
                path: path.display().to_string(),
                source: Box::new(source),
            })?;
            catalogue.requirements.extend(part.requirements);
            catalogue.risks.extend(part.risks);
            catalogue.reviewed.extend(part.reviewed);
        }
        Ok(catalogue)
    }

    pub fn parse(text: &str) -> Result<Catalogue, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn requirement_ids(&self) -> BTreeSet<&str> {
        self.requirements.iter().map(|r| r.id.as_str()).collect()
    }

    pub fn risk_ids(&self) -> BTreeSet<&str> {
        self.risks.iter().map(|r| r.id.as_str()).collect()
    }

    /// The risks whose control `requirement` implements.
    pub fn risks_controlled_by(&self, requirement: &str) -> Vec<&Risk> {
        self.risks
            .iter()
            .filter(|r| r.controlled_by(requirement))
            .collect()
    }

    /// Whether the requirement's statement changed since its scenarios were last reviewed.
    pub fn is_suspect(&self, requirement: &Requirement) -> bool {
        self.reviewed.get(&requirement.id) != Some(&requirement.fingerprint())
    }
}

/// The file of reviewed fingerprints, beside the requirements.
pub const REVIEWS: &str = "reviews.toml";

/// Records in `dir`'s `reviews.toml` that the scenarios of `ids` were reviewed against their
/// current statements, clearing their suspect links.
pub fn record_review(dir: &Path, ids: &[String]) -> Result<(), CatalogueError> {
    let catalogue = Catalogue::load(dir)?;
    let known = catalogue.requirement_ids();
    if let Some(unknown) = ids.iter().find(|id| !known.contains(id.as_str())) {
        return Err(CatalogueError::UnknownRequirement(unknown.clone()));
    }
    let path = dir.join(REVIEWS);
    std::fs::write(&path, reviews_file(&catalogue, ids)).map_err(|source| CatalogueError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// `reviews.toml` with `ids` marked reviewed against their current statements, keeping the
/// other entries as they were.
pub(crate) fn reviews_file(catalogue: &Catalogue, ids: &[String]) -> String {
    let mut reviewed = catalogue.reviewed.clone();
    for requirement in &catalogue.requirements {
        if ids.contains(&requirement.id) {
            reviewed.insert(requirement.id.clone(), requirement.fingerprint());
        }
    }
    let mut text = String::from(
        "# Fingerprints of requirement statements as they were when their scenarios were last\n\
         # reviewed against them. Written by `cargo evidence review REQ-...`; do not edit by hand.\n\n\
         [reviewed]\n",
    );
    for (id, fingerprint) in reviewed {
        text.push_str(&format!("\"{id}\" = \"{fingerprint}\"\n"));
    }
    text
}

/// Whether `id` has the form `REQ-<AREA>-NNN` (area in capitals, three or more digits).
pub fn is_requirement_id(id: &str) -> bool {
    let mut parts = id.splitn(3, '-');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("REQ"), Some(area), Some(number))
            if !area.is_empty()
                && area.chars().all(|c| c.is_ascii_uppercase())
                && number.len() >= 3
                && number.chars().all(|c| c.is_ascii_digit())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_ids_have_an_area_and_a_number() {
        assert!(is_requirement_id("REQ-SUITE-001"));
        assert!(is_requirement_id("REQ-AUDIT-1234"));
        assert!(!is_requirement_id("REQ-suite-001"));
        assert!(!is_requirement_id("REQ-SUITE-01"));
        assert!(!is_requirement_id("REQ-001"));
        assert!(!is_requirement_id("RISK-001"));
    }

    #[test]
    fn the_repository_catalogue_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../traceability");
        let catalogue = Catalogue::load(&dir).unwrap();
        assert!(!catalogue.requirements.is_empty());
        assert!(!catalogue.risks.is_empty());
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = "[[requirement]]\nid = \"REQ-X-001\"\ntitle = \"t\"\nstatement = \"s\"\n\
                    kind = \"functional\"\nsafety_class = \"A\"\nsource = \"s\"\n\
                    status = \"approved\"\nrationale = \"r\"\nowner = \"nobody\"\n";
        assert!(Catalogue::parse(text).is_err());
    }
}
