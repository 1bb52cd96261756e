//! The pack as Markdown: the same tables as the page, for diffs and review tools. Holds no run
//! record, so two runs of one commit give the same file.

use std::fmt::Write as _;

use super::marks;
use crate::{Evidence, plain};

/// Keeps a cell on one line and its pipes literal.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

pub fn document(evidence: &Evidence) -> String {
    let id = &evidence.identity;
    let mut md = String::new();
    let _ = writeln!(md, "# Sentinel {} — compliance evidence\n", id.version);
    let _ = writeln!(
        md,
        "Commit `{}`{} · {} · Cargo.lock SHA-256 `{}`\n",
        id.commit.as_deref().unwrap_or("unknown"),
        if id.dirty == Some(true) {
            " (dirty)"
        } else {
            ""
        },
        id.rustc,
        id.lock_sha256
    );
    let verdict = if evidence.passes() { "PASS" } else { "FAIL" };
    let _ = writeln!(md, "**{verdict}** — {} hole(s)\n", evidence.holes.len());
    for hole in &evidence.holes {
        let _ = writeln!(md, "- {}", cell(hole));
    }

    matrix(&mut md, evidence);
    risks(&mut md, evidence);
    rules(&mut md, evidence);
    soup(&mut md, evidence);
    threats(&mut md, evidence);
    audit(&mut md, evidence);
    tests(&mut md, evidence);
    md
}

/// The threat model's STRIDE table: each threat with its control, requirements and tests.
fn threats(md: &mut String, evidence: &Evidence) {
    let _ = writeln!(
        md,
        "\n## Threat model\n\n{} threats, {} open; the model is `security.md`.\n",
        evidence.summary.threats, evidence.summary.threats_open
    );
    let _ = writeln!(
        md,
        "| Threat | STRIDE | What | Control | Requirements | Tests |\n|---|---|---|---|---|---|"
    );
    for t in &evidence.threats {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            t.id,
            t.stride,
            cell(&t.threat),
            cell(&t.control),
            t.requirements.join(", "),
            t.tests.join(", ")
        );
    }
}

/// Requirement → risks → scenarios → result on each store.
fn matrix(md: &mut String, evidence: &Evidence) {
    let _ = writeln!(md, "\n## Trace matrix\n");
    let _ = writeln!(
        md,
        "| Requirement | Title | Kind | Class | Risks | State | Scenarios ({}) |\n|---|---|---|---|---|---|---|",
        evidence.matrix.stores.join(" / ")
    );
    for row in &evidence.matrix.rows {
        let scenarios: Vec<String> = row
            .scenarios
            .iter()
            .map(|l| {
                format!(
                    "{} {}:{}",
                    marks(&evidence.matrix.stores, l),
                    l.feature,
                    l.line
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.requirement.id,
            cell(&row.requirement.title),
            plain(&row.requirement.kind),
            plain(&row.requirement.safety_class),
            row.risks.join(", "),
            row.state.name(),
            scenarios.join("<br>")
        );
    }
}

/// Hazards, their controls and whether each is verified, residual risk.
fn risks(md: &mut String, evidence: &Evidence) {
    let _ = writeln!(md, "\n## Risk register\n");
    let _ = writeln!(
        md,
        "| Risk | Hazard | Harm | Initial | Controls | Residual |\n|---|---|---|---|---|---|"
    );
    for r in &evidence.risks {
        let controls: Vec<String> = r
            .control_status
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({})",
                    if c.verified { "✓" } else { "✗" },
                    cell(&c.control.measure),
                    c.control.requirements.join(", ")
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} × {} = {} | {} | {} × {} = {} |",
            r.risk.id,
            cell(&r.risk.hazard),
            cell(&r.risk.harm),
            plain(&r.risk.severity),
            plain(&r.risk.probability),
            plain(&r.initial),
            controls.join("<br>"),
            plain(&r.risk.severity),
            plain(&r.risk.residual_probability),
            plain(&r.residual)
        );
    }
}

/// Each built-in rule's IMDRF category and alarm priority.
fn rules(md: &mut String, evidence: &Evidence) {
    let _ = writeln!(md, "\n## Built-in rules\n");
    let _ = writeln!(
        md,
        "| Rule | Situation | Significance | IMDRF category | Priority | Clinical reference |\n|---|---|---|---|---|---|"
    );
    for rule in &evidence.rules {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {}{} | {} |",
            rule.name,
            rule.situation,
            rule.significance,
            rule.category,
            rule.priority,
            if rule.urgent_floor {
                " (urgent floor)"
            } else {
                ""
            },
            cell(&rule.clinical_reference)
        );
    }
}

/// The direct dependencies, curated.
fn soup(md: &mut String, evidence: &Evidence) {
    let _ = writeln!(
        md,
        "\n## SOUP\n\n{} crates locked; the SBOM is `sbom.cdx.json`. Anomaly review {}: {}\n",
        evidence.soup.locked,
        evidence.soup.review.date,
        cell(&evidence.soup.review.outcome)
    );
    let _ = writeln!(
        md,
        "| Crate | Version | License | Scope | Purpose | Why | Known anomalies |\n|---|---|---|---|---|---|---|"
    );
    for item in &evidence.soup.direct {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            item.curated.name,
            item.versions.join(", "),
            cell(&item.license),
            item.curated.scope,
            cell(&item.curated.purpose),
            cell(&item.curated.why),
            cell(&item.curated.anomalies)
        );
    }
}

/// Each store's audit logs of the run, verified.
fn audit(md: &mut String, evidence: &Evidence) {
    let _ = writeln!(md, "\n## Audit log verification\n");
    let _ = writeln!(
        md,
        "| Store | Databases | Records | Intact | Tampering found | Failures |\n|---|---|---|---|---|---|"
    );
    for a in &evidence.audit {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            a.store,
            a.databases,
            a.records,
            a.intact,
            a.tampering_found,
            a.failures.len()
        );
    }
}

/// Each test binary's counts, when a test log was given.
fn tests(md: &mut String, evidence: &Evidence) {
    if !evidence.tests.is_empty() {
        let _ = writeln!(md, "\n## Unit and integration tests\n");
        let _ = writeln!(
            md,
            "| Test binary | Passed | Failed | Ignored |\n|---|---|---|---|"
        );
        for t in &evidence.tests {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                t.name, t.passed, t.failed, t.ignored
            );
        }
    }
}
