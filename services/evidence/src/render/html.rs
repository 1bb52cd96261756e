//! One HTML page, readable on screen and printed: the verdict and holes first, then the trace
//! matrix, risks, rule categories, SOUP, audit verification, tests and the run record.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::marks;
use crate::{Evidence, RunRecord, plain};

const STYLE: &str = r#"
body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 1.6em; margin: 0 0 .2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 2px solid #333; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: .3em .8em; font-weight: bold; color: #fff; border-radius: 3px; }
.pass { background: #1b7f3b; } .fail { background: #b3261e; }
.cards { display: flex; flex-wrap: wrap; gap: .6em; margin: .8em 0; }
.card { border: 1px solid #bbb; padding: .4em .8em; min-width: 8em; } .card b { display: block; font-size: 1.5em; }
.covered { background: #d8f0dd; } .uncovered, .failing { background: #f8d7d4; } .suspect { background: #fdf0c4; }
.draft, .retired { background: #eee; }
.ok { color: #1b7f3b; font-weight: bold; } .bad { color: #b3261e; font-weight: bold; }
.scen { font-family: ui-monospace, monospace; font-size: .85em; white-space: nowrap; }
.small { font-size: .85em; color: #444; } ul.holes li { color: #b3261e; }
@media print { body { margin: 0; font-size: 10px; } h2 { break-after: avoid; } tr { break-inside: avoid; } .cards { gap: .3em; } }
"#;

pub fn page(evidence: &Evidence, record: &RunRecord) -> String {
    let id = &evidence.identity;
    let s = &evidence.summary;
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Sentinel " (id.version) " — compliance evidence" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Sentinel " (id.version) " — compliance evidence" }
                p.small {
                    "Commit " code { (id.commit.as_deref().unwrap_or("unknown")) }
                    @if id.dirty == Some(true) { " (with uncommitted changes)" }
                    " · " (id.rustc) " · Cargo.lock SHA-256 " code { (&id.lock_sha256[..16]) } "…"
                    " · run " (record.started) " by " (record.executor)
                }
                @if evidence.passes() {
                    span.verdict.pass { "PASS — no holes in the evidence" }
                } @else {
                    span.verdict.fail { "FAIL — " (evidence.holes.len()) " hole(s) in the evidence" }
                }
                div.cards {
                    div.card { b { (s.requirements) } "requirements" }
                    @for (state, n) in &s.states { div class={"card " (state)} { b { (n) } (state) } }
                    div.card { b { (s.scenario_runs_passed) "/" (s.scenario_runs) } "scenario runs passed" }
                    div.card { b { (s.risks_with_verified_controls) "/" (s.risks) } "risks with verified controls" }
                    div.card { b { (s.rules) } "built-in rules categorised" }
                    div.card { b { (s.soup_direct) " / " (s.soup_locked) } "direct / locked crates" }
                    div.card { b { (s.audit_databases) } "audit logs verified" }
                    div.card { b { (s.threats - s.threats_open) "/" (s.threats) } "threats with controls" }
                }
                (holes(evidence))
                (matrix(evidence))
                (risks(evidence))
                (rules(evidence))
                (soup(evidence))
                (threats(evidence))
                (audit(evidence))
                (tests(evidence))
                (run_record(record))
            }
        }
    };
    markup.into_string()
}

/// Holes, if any: what is missing or failing in the evidence.
fn holes(evidence: &Evidence) -> Markup {
    html! {
        @if !evidence.holes.is_empty() {
            h2 { "Holes" }
            ul.holes { @for hole in &evidence.holes { li { (hole) } } }
        }
    }
}

/// Requirement → risks → scenarios → result on each store.
fn matrix(evidence: &Evidence) -> Markup {
    html! {
        h2 { "Trace matrix (IEC 62304 §5.1.1, §5.2, §5.7.4, §7.3.3)" }
        table {
            tr {
                th { "Requirement" } th { "Kind" } th { "Class" } th { "Risks" } th { "State" }
                th { "Scenarios (feature:line); result on " (evidence.matrix.stores.join(", then ")) " (✓ passed, ✗ failed, – not run)" }
            }
            @for row in &evidence.matrix.rows {
                tr class=(row.state.name()) {
                    td { b { (row.requirement.id) } br; span.small { (row.requirement.title) } }
                    td { (plain(&row.requirement.kind)) }
                    td { (plain(&row.requirement.safety_class)) }
                    td { (row.risks.join(", ")) }
                    td { (row.state.name()) }
                    td {
                        @for link in &row.scenarios {
                            div.scen {
                                (marks(&evidence.matrix.stores, link))
                                " " (link.feature.trim_start_matches("tests/features/")) ":" (link.line)
                            }
                        }
                    }
                }
            }
        }
        @if !evidence.matrix.orphans.is_empty() {
            p.bad { "Scenarios tagging unknown requirements:" }
            ul { @for o in &evidence.matrix.orphans { li { (o.feature) ":" (o.line) " " (o.tag) } } }
        }
    }
}

/// Hazards, their controls and whether each is verified, residual risk.
fn risks(evidence: &Evidence) -> Markup {
    html! {
        h2 { "Risk register (ISO 14971 §5–§7; IEC 62304 §7.1–§7.3)" }
        table {
            tr { th { "Risk" } th { "Hazard → situation → harm" } th { "Severity × probability" } th { "Controls (requirements)" } th { "Residual" } }
            @for r in &evidence.risks {
                tr {
                    td { b { (r.risk.id) } }
                    td { (r.risk.hazard) " → " (r.risk.hazardous_situation) " → " (r.risk.harm) }
                    td { (plain(&r.risk.severity)) " × " (plain(&r.risk.probability)) br; span.small { (plain(&r.initial)) } }
                    td {
                        @for c in &r.control_status {
                            div {
                                @if c.verified { span.ok { "✓ " } } @else { span.bad { "✗ " } }
                                (c.control.measure) " " span.small { "(" (plain(&c.control.kind)) ": " (c.control.requirements.join(", ")) ")" }
                            }
                        }
                    }
                    td { (plain(&r.risk.severity)) " × " (plain(&r.risk.residual_probability)) br; b { (plain(&r.residual)) } br; span.small { (r.risk.residual_rationale) } }
                }
            }
        }
    }
}

/// Each built-in rule's IMDRF category and alarm priority.
fn rules(evidence: &Evidence) -> Markup {
    html! {
        h2 { "Built-in clinical rules: IMDRF SaMD category and alarm priority" }
        table {
            tr { th { "Rule" } th { "Situation" } th { "Significance" } th { "IMDRF" } th { "Priority (IEC 60601-1-8)" } th { "Clinical reference" } th { "Version, approval" } }
            @for rule in &evidence.rules {
                tr {
                    td { b { (rule.name) } br; span.small { (rule.title) } }
                    td { (rule.situation) } td { (rule.significance) } td { b { (rule.category) } }
                    td { (rule.priority) @if rule.urgent_floor { " (urgent floor)" } }
                    td.small { (rule.clinical_reference) }
                    td.small { "v" (rule.version) ", " (rule.approval) }
                }
            }
        }
    }
}

/// The direct dependencies, curated, and the licenses of every locked crate.
fn soup(evidence: &Evidence) -> Markup {
    let s = &evidence.summary;
    html! {
        h2 { "SOUP (IEC 62304 §5.3.3, §5.3.4, §7.1.2–7.1.3, §8.1.2)" }
        p.small {
            (s.soup_locked) " crates locked in Cargo.lock, listed with license, source and checksum in "
            code { "sbom.cdx.json" } " (CycloneDX 1.5). Licenses: "
            @for (license, n) in &evidence.soup.licenses { (license) " (" (n) ") · " }
        }
        p.small { "Anomaly review " (evidence.soup.review.date) ": " (evidence.soup.review.method) " " b { (evidence.soup.review.outcome) } }
        table {
            tr { th { "Crate" } th { "Version" } th { "License" } th { "Scope" } th { "Purpose; why this one" } th { "Requirements on it; what it needs" } th { "Known anomalies" } }
            @for item in &evidence.soup.direct {
                tr {
                    td { b { (item.curated.name) } }
                    td { (item.versions.join(", ")) }
                    td.small { (item.license) }
                    td { (item.curated.scope) }
                    td.small { (item.curated.purpose) "; " i { (item.curated.why) } }
                    td.small { (item.curated.requirements) " " i { (item.curated.needs) } }
                    td.small { (item.curated.anomalies) " " a href=(item.curated.anomaly_list) { "list" } }
                }
            }
        }
    }
}

/// Each store's audit logs of the run, verified.
/// The threat model's STRIDE table.
fn threats(evidence: &Evidence) -> Markup {
    html! {
        h2 { "Threat model (STRIDE)" }
        p.small { "From " code { "security.md" } " in this pack; open threats are residual risk with the issue that builds their control." }
        table {
            tr { th { "Threat" } th { "STRIDE" } th { "What" } th { "Control" } th { "Requirements" } th { "Tests" } }
            @for t in &evidence.threats {
                tr {
                    td { (t.id) } td { (t.stride) }
                    td { @if t.open { span.bad { (t.threat) } } @else { (t.threat) } }
                    td { (t.control) } td { (t.requirements.join(", ")) } td.scen { (t.tests.join(", ")) }
                }
            }
        }
    }
}

fn audit(evidence: &Evidence) -> Markup {
    html! {
        h2 { "Audit log verification of the run's databases" }
        table {
            tr { th { "Store" } th { "Databases" } th { "Records verified" } th { "Intact" } th { "Tampering found (deliberate)" } th { "Failures" } }
            @for a in &evidence.audit {
                tr {
                    td { (a.store) } td.n { (a.databases) } td.n { (a.records) } td.n { (a.intact) }
                    td.n { (a.tampering_found) }
                    td { @if a.failures.is_empty() { span.ok { "none" } } @else { @for f in &a.failures { div.bad { (f.scenario) } } } }
                }
            }
        }
    }
}

/// Each test binary's counts.
fn tests(evidence: &Evidence) -> Markup {
    html! {
        h2 { "Unit and integration tests" }
        @if evidence.tests.is_empty() {
            p.small { "No cargo test log was given to this run." }
        } @else {
            table {
                tr { th { "Test binary" } th { "Passed" } th { "Failed" } th { "Ignored" } }
                @for t in &evidence.tests {
                    tr { td.scen { (t.name) } td.n { (t.passed) } td.n { (t.failed) } td.n { (t.ignored) } }
                }
            }
        }
    }
}

/// The IEC 62304 §5.7.5 record of this run.
fn run_record(record: &RunRecord) -> Markup {
    html! {
        h2 { "Record of the run (IEC 62304 §5.7.5)" }
        table {
            tr { th { "Software" } td { (record.software) } }
            tr { th { "Date" } td { (record.started) " – " (record.finished) } }
            tr { th { "Executor" } td { (record.executor) } }
            @for e in &record.configuration { tr { th { (e.name) } td { (e.value) } } }
            @for e in &record.tools { tr { th { (e.name) } td { (e.value) } } }
            tr { th { "Anomalies" } td { @if record.anomalies.is_empty() { "none" } @else { (record.anomalies.len()) " (see Holes)" } } }
            tr { th { "Verdict" } td { b { (record.verdict) } } }
        }
        p.small { "Every file of this pack is listed with its SHA-256 in " code { "SHA256SUMS" } "; a signed pack carries " code { "SHA256SUMS.sig" } " (Ed25519) and the public key." }
    }
}
