//! The verification of the audit log of every database the BDD run used: each scenario's suite
//! is asked, through the audit service's own `Verify`, whether its log is intact once the
//! scenario ends (`target/cucumber/audit-<store>.json`, written by the BDD runner).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::EvidenceError;

/// One scenario's database, verified after the scenario.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogCheck {
    pub scenario: String,
    /// Records checked.
    pub checked: u64,
    pub intact: bool,
    /// What was wrong, for a broken log.
    #[serde(default)]
    pub problem: String,
    /// The scenario altered its log on purpose (to show tampering is found).
    #[serde(default)]
    pub tampered: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoreAudit {
    pub store: String,
    pub databases: usize,
    pub records: u64,
    pub intact: usize,
    /// Logs the scenario tampered with and verification found broken, as it must.
    pub tampering_found: usize,
    /// Logs that verified wrongly: broken without tampering, or intact despite it.
    pub failures: Vec<LogCheck>,
}

impl StoreAudit {
    pub fn holes(&self) -> Vec<String> {
        self.failures
            .iter()
            .map(|f| {
                if f.tampered {
                    format!(
                        "audit log of {} on {}: tampered with, yet verified intact",
                        f.scenario, self.store
                    )
                } else {
                    format!(
                        "audit log of {} on {}: does not verify: {}",
                        f.scenario, self.store, f.problem
                    )
                }
            })
            .collect()
    }
}

pub fn file_name(store: &str) -> String {
    format!("audit-{store}.json")
}

/// The report of `store`'s run in `results`.
pub fn read(results: &Path, store: &str) -> Result<StoreAudit, EvidenceError> {
    let path = results.join(file_name(store));
    let mut checks: Vec<LogCheck> = serde_json::from_str(&crate::read(&path)?)
        .map_err(|e| EvidenceError::Input(format!("{}: {e}", path.display())))?;
    checks.sort_by(|a, b| a.scenario.cmp(&b.scenario));
    Ok(StoreAudit {
        store: store.to_owned(),
        databases: checks.len(),
        records: checks.iter().map(|c| c.checked).sum(),
        intact: checks.iter().filter(|c| c.intact && !c.tampered).count(),
        tampering_found: checks.iter().filter(|c| !c.intact && c.tampered).count(),
        failures: checks
            .into_iter()
            .filter(|c| c.intact == c.tampered)
            .collect(),
    })
}
