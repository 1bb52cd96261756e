//! The IMDRF SaMD categorisation of every rule in the built-in library, with the IEC 60601-1-8
//! priority of its alerts, computed by the same functions the rules service uses.

use serde::Serialize;

use crate::{EvidenceError, plain};

#[derive(Debug, Clone, Serialize)]
pub struct RuleCategory {
    pub name: String,
    pub title: String,
    pub situation: String,
    pub significance: String,
    /// IMDRF category I–IV, derived from situation × significance.
    pub category: String,
    pub potential_result: String,
    pub onset: String,
    /// IEC 60601-1-8 priority, derived from potential result × onset.
    pub priority: String,
    pub urgent_floor: bool,
    pub intended_use: String,
    pub clinical_reference: String,
    pub version: u32,
    pub approval: String,
}

/// The library's rules in the order the library lists them.
pub fn categorise() -> Result<Vec<RuleCategory>, EvidenceError> {
    let library = sentinel_rules_domain::rule::builtin()
        .map_err(|e| EvidenceError::Tool(format!("the built-in rule library: {e}")))?;
    Ok(library
        .into_iter()
        .map(|rule| RuleCategory {
            category: format!("{:?}", rule.category()),
            priority: plain(&rule.priority()),
            situation: plain(&rule.situation),
            significance: plain(&rule.significance),
            potential_result: plain(&rule.potential_result),
            onset: plain(&rule.onset),
            urgent_floor: rule.urgent_floor,
            version: 1,
            approval: "approved with the library release; loaded as an active rule on first start \
                       (audited as rule.loaded)"
                .to_owned(),
            name: rule.name,
            title: rule.title,
            intended_use: rule.intended_use,
            clinical_reference: rule.clinical_reference,
        })
        .collect())
}
