//! The requirement and risk catalogue, as structured TOML files in `traceability/`.

use std::{collections::BTreeSet, path::Path};

use serde::Deserialize;

/// What a requirement is about, as IEC 62304 §5.2.2 sorts software requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequirementKind {
    Functional,
    Safety,
    Security,
    Performance,
    Usability,
}

/// One software requirement: `REQ-<AREA>-NNN`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    /// What the software shall do, testably.
    pub statement: String,
    pub kind: RequirementKind,
    /// Why the requirement exists.
    pub rationale: String,
    /// The risks (`RISK-NNN`) whose control this requirement implements.
    #[serde(default)]
    pub risks: Vec<String>,
}

/// One identified risk: `RISK-NNN`. The full ISO 14971 register grows from here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub id: String,
    pub hazard: String,
    pub hazardous_situation: String,
    pub harm: String,
}

/// Every requirement and risk of the product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(default, rename = "requirement")]
    pub requirements: Vec<Requirement>,
    #[serde(default, rename = "risk")]
    pub risks: Vec<Risk>,
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
}

impl Catalogue {
    /// Reads `requirements.toml` and `risks.toml` from `dir`.
    pub fn load(dir: &Path) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::default();
        for name in ["requirements.toml", "risks.toml"] {
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
                    kind = \"functional\"\nrationale = \"r\"\nowner = \"nobody\"\n";
        assert!(Catalogue::parse(text).is_err());
    }
}
