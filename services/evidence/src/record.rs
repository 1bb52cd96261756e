//! The IEC 62304 §5.7.5 record of the run: what was tested, how, by whom, when, with which
//! tools, and what went wrong. The one part of the pack that differs between two runs.

use std::{path::Path, time::SystemTime};

use serde::Serialize;

use crate::{Evidence, identity::output};

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    pub value: String,
}

fn entry(name: &str, value: impl Into<String>) -> Entry {
    Entry {
        name: name.to_owned(),
        value: value.into(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub started: String,
    pub finished: String,
    pub executor: String,
    pub software: String,
    pub configuration: Vec<Entry>,
    pub tools: Vec<Entry>,
    /// Every hole found: the anomalies of this run.
    pub anomalies: Vec<String>,
    pub verdict: String,
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn locked_version(evidence: &Evidence, name: &str) -> String {
    evidence
        .soup
        .direct
        .iter()
        .find(|i| i.curated.name == name)
        .map(|i| i.versions.join(", "))
        .unwrap_or_else(|| "not locked".to_owned())
}

impl RunRecord {
    pub fn of(evidence: &Evidence, root: &Path, started: String, test_command: &str) -> RunRecord {
        let identity = &evidence.identity;
        let user = std::env::var("SENTINEL_EVIDENCE_EXECUTOR")
            .or_else(|_| std::env::var("USER"))
            .ok()
            .or_else(|| output("id", &["-un"], root))
            .unwrap_or_else(|| "unknown".to_owned());
        let host = output("hostname", &[], root).unwrap_or_else(|| "unknown host".to_owned());
        let software = format!(
            "{} {} at commit {}{}",
            identity.product,
            identity.version,
            identity.commit.as_deref().unwrap_or("(not a git checkout)"),
            if identity.dirty == Some(true) {
                " with uncommitted changes"
            } else {
                ""
            }
        );
        RunRecord {
            started,
            finished: now(),
            executor: format!("{user} on {host}"),
            software,
            configuration: vec![
                entry("stores", evidence.matrix.stores.join(", ")),
                entry("test command", test_command),
                entry(
                    "operating system",
                    output("uname", &["-srm"], root).unwrap_or_else(|| "unknown".into()),
                ),
                entry("Cargo.lock SHA-256", identity.lock_sha256.clone()),
            ],
            tools: vec![
                entry("rustc", identity.rustc.clone()),
                entry("cargo", identity.cargo.clone()),
                entry(
                    "PostgreSQL server",
                    output("postgres", &["--version"], root).unwrap_or_else(|| "not found".into()),
                ),
                entry(
                    "cucumber (BDD runner)",
                    locked_version(evidence, "cucumber"),
                ),
                entry(
                    "cyclonedx-bom (SBOM)",
                    locked_version(evidence, "cyclonedx-bom"),
                ),
                entry("sentinel-evidence", identity.version.clone()),
            ],
            anomalies: evidence.holes.clone(),
            verdict: if evidence.passes() { "pass" } else { "fail" }.to_owned(),
        }
    }
}
