//! The trace matrix (requirement → risks it controls → scenarios → result on each store) and
//! the risk register with each control's verification status: what the evidence pack shows.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    catalogue::{Acceptability, Catalogue, Control, Requirement, Risk, Status},
    outcomes::ScenarioOutcome,
};

/// Where a requirement's verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Every store has a passing scenario, none fails, and the links were reviewed.
    Covered,
    /// A store has no passing scenario for it.
    Uncovered,
    /// One of its scenarios fails on some store.
    Failing,
    /// Its statement changed since its scenarios were reviewed.
    Suspect,
    /// Not approved yet: shown, not required.
    Draft,
    Retired,
}

impl State {
    /// The state as the pack names it (the same words as its JSON form).
    pub fn name(self) -> &'static str {
        match self {
            State::Covered => "covered",
            State::Uncovered => "uncovered",
            State::Failing => "failing",
            State::Suspect => "suspect",
            State::Draft => "draft",
            State::Retired => "retired",
        }
    }
}

/// How one scenario ended on one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    Failed,
    NotRun,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioLink {
    pub feature: String,
    pub line: usize,
    pub name: String,
    /// Store name → verdict, one per store of the run.
    pub results: BTreeMap<String, Verdict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub requirement: Requirement,
    pub fingerprint: String,
    pub reviewed_fingerprint: Option<String>,
    pub risks: Vec<String>,
    pub state: State,
    pub scenarios: Vec<ScenarioLink>,
}

/// A scenario tagging a requirement the catalogue does not have.
#[derive(Debug, Clone, Serialize)]
pub struct Orphan {
    pub feature: String,
    pub line: usize,
    pub name: String,
    pub tag: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub stores: Vec<String>,
    pub rows: Vec<Row>,
    pub orphans: Vec<Orphan>,
}

impl Matrix {
    pub fn build(catalogue: &Catalogue, outcomes: &[ScenarioOutcome], stores: &[&str]) -> Matrix {
        let known = catalogue.requirement_ids();
        let rows = catalogue
            .requirements
            .iter()
            .map(|requirement| row(catalogue, requirement, outcomes, stores))
            .collect();
        let mut orphans: Vec<Orphan> = Vec::new();
        for outcome in outcomes {
            for tag in outcome.requirement_tags() {
                let listed = orphans.iter().any(|o| {
                    o.feature == outcome.feature && o.line == outcome.line && o.tag == tag
                });
                if !known.contains(tag) && !listed {
                    orphans.push(Orphan {
                        feature: outcome.feature.clone(),
                        line: outcome.line,
                        name: outcome.name.clone(),
                        tag: tag.to_owned(),
                    });
                }
            }
        }
        Matrix {
            stores: stores.iter().map(|s| (*s).to_owned()).collect(),
            rows,
            orphans,
        }
    }

    pub fn state_of(&self, requirement: &str) -> Option<State> {
        self.rows
            .iter()
            .find(|r| r.requirement.id == requirement)
            .map(|r| r.state)
    }

    /// How many requirements are in each state.
    pub fn tally(&self) -> BTreeMap<String, usize> {
        let mut tally = BTreeMap::new();
        for row in &self.rows {
            *tally.entry(row.state.name().to_owned()).or_insert(0) += 1;
        }
        tally
    }
}

fn row(
    catalogue: &Catalogue,
    requirement: &Requirement,
    outcomes: &[ScenarioOutcome],
    stores: &[&str],
) -> Row {
    let id = requirement.id.as_str();
    let scenarios = links(id, outcomes, stores);
    let failing = scenarios
        .iter()
        .any(|s| s.results.values().any(|v| *v == Verdict::Failed));
    let uncovered = stores.iter().any(|store| {
        !scenarios
            .iter()
            .any(|s| s.results.get(*store) == Some(&Verdict::Passed))
    });
    let state = match requirement.status {
        Status::Draft => State::Draft,
        Status::Retired => State::Retired,
        Status::Approved if failing => State::Failing,
        Status::Approved if uncovered => State::Uncovered,
        Status::Approved if catalogue.is_suspect(requirement) => State::Suspect,
        Status::Approved => State::Covered,
    };
    Row {
        requirement: requirement.clone(),
        fingerprint: requirement.fingerprint(),
        reviewed_fingerprint: catalogue.reviewed.get(id).cloned(),
        risks: catalogue
            .risks_controlled_by(id)
            .iter()
            .map(|r| r.id.clone())
            .collect(),
        state,
        scenarios,
    }
}

/// The scenarios tagging requirement `id`, each with its result on every store, in feature and
/// line order.
fn links(id: &str, outcomes: &[ScenarioOutcome], stores: &[&str]) -> Vec<ScenarioLink> {
    let mut scenarios: Vec<ScenarioLink> = Vec::new();
    for outcome in outcomes.iter().filter(|o| o.tags.iter().any(|t| t == id)) {
        let position = scenarios
            .iter()
            .position(|s| s.feature == outcome.feature && s.line == outcome.line);
        let link = match position {
            Some(i) => &mut scenarios[i],
            None => {
                scenarios.push(ScenarioLink {
                    feature: outcome.feature.clone(),
                    line: outcome.line,
                    name: outcome.name.clone(),
                    results: stores
                        .iter()
                        .map(|s| ((*s).to_owned(), Verdict::NotRun))
                        .collect(),
                });
                let last = scenarios.len() - 1;
                &mut scenarios[last]
            }
        };
        let verdict = if outcome.passed {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        // An outline's examples share a line: one failing example fails the link.
        let entry = link
            .results
            .entry(outcome.store.clone())
            .or_insert(Verdict::NotRun);
        if *entry != Verdict::Failed {
            *entry = verdict;
        }
    }
    scenarios.sort_by(|a, b| (&a.feature, a.line).cmp(&(&b.feature, b.line)));
    scenarios
}

/// A control and whether every requirement implementing it is covered.
#[derive(Debug, Clone, Serialize)]
pub struct ControlStatus {
    #[serde(flatten)]
    pub control: Control,
    pub verified: bool,
}

/// A risk with its acceptability before and after control and its controls' status.
#[derive(Debug, Clone, Serialize)]
pub struct RiskStatus {
    #[serde(flatten)]
    pub risk: Risk,
    pub initial: Acceptability,
    pub residual: Acceptability,
    pub controls_verified: bool,
    pub control_status: Vec<ControlStatus>,
}

/// The risk register, each control judged by the matrix.
pub fn register(catalogue: &Catalogue, matrix: &Matrix) -> Vec<RiskStatus> {
    catalogue
        .risks
        .iter()
        .map(|risk| {
            let control_status: Vec<ControlStatus> = risk
                .controls
                .iter()
                .map(|control| ControlStatus {
                    control: control.clone(),
                    verified: control
                        .requirements
                        .iter()
                        .all(|r| matrix.state_of(r) == Some(State::Covered)),
                })
                .collect();
            RiskStatus {
                risk: Risk {
                    controls: Vec::new(),
                    ..risk.clone()
                },
                initial: risk.initial(),
                residual: risk.residual(),
                controls_verified: !control_status.is_empty()
                    && control_status.iter().all(|c| c.verified),
                control_status,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOGUE: &str = r#"
        [[requirement]]
        id = "REQ-A-001"
        title = "a"
        statement = "A does a."
        kind = "safety"
        safety_class = "C"
        source = "test"
        status = "approved"
        rationale = "r"

        [[requirement]]
        id = "REQ-A-002"
        title = "b"
        statement = "B does b."
        kind = "functional"
        safety_class = "C"
        source = "test"
        status = "approved"
        rationale = "r"

        [[risk]]
        id = "RISK-001"
        hazard = "h"
        hazardous_situation = "s"
        harm = "x"
        severity = "critical"
        probability = "probable"
        residual_probability = "improbable"
        residual_rationale = "r"

        [[risk.control]]
        measure = "m"
        type = "inherent-safety"
        requirements = ["REQ-A-001"]

        [[risk.control]]
        measure = "n"
        type = "protective-measure"
        requirements = ["REQ-A-002"]
    "#;

    fn outcome(tags: &[&str], line: usize, store: &str, passed: bool) -> ScenarioOutcome {
        ScenarioOutcome {
            feature: "tests/features/a.feature".into(),
            line,
            name: format!("scenario {line}"),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            store: store.into(),
            passed,
        }
    }

    #[test]
    fn states_and_control_verification_follow_the_results() {
        let mut catalogue = Catalogue::parse(CATALOGUE).unwrap();
        let fingerprint = catalogue.requirements[0].fingerprint();
        catalogue.reviewed.insert("REQ-A-001".into(), fingerprint);
        let outcomes = [
            outcome(&["REQ-A-001"], 3, "sqlite", true),
            outcome(&["REQ-A-001"], 3, "postgres", true),
            outcome(&["REQ-A-002"], 9, "sqlite", true),
            outcome(&["REQ-A-002"], 9, "postgres", false),
            outcome(&["REQ-Z-999"], 12, "sqlite", true),
        ];
        let matrix = Matrix::build(&catalogue, &outcomes, &["sqlite", "postgres"]);
        assert_eq!(matrix.state_of("REQ-A-001"), Some(State::Covered));
        assert_eq!(matrix.state_of("REQ-A-002"), Some(State::Failing));
        assert_eq!(matrix.rows[0].risks, ["RISK-001"]);
        assert_eq!(
            matrix.rows[1].scenarios[0].results["postgres"],
            Verdict::Failed
        );
        assert_eq!(matrix.orphans.len(), 1);
        assert_eq!(matrix.orphans[0].tag, "REQ-Z-999");

        let register = register(&catalogue, &matrix);
        assert!(register[0].control_status[0].verified);
        assert!(!register[0].control_status[1].verified);
        assert!(!register[0].controls_verified);
        assert_eq!(register[0].initial, Acceptability::Unacceptable);
        assert_eq!(register[0].residual, Acceptability::Acceptable);
    }

    #[test]
    fn a_requirement_not_run_on_a_store_is_uncovered_and_an_unreviewed_one_suspect() {
        let catalogue = Catalogue::parse(CATALOGUE).unwrap();
        let outcomes = [
            outcome(&["REQ-A-001"], 3, "sqlite", true),
            outcome(&["REQ-A-002"], 9, "sqlite", true),
            outcome(&["REQ-A-002"], 9, "postgres", true),
        ];
        let matrix = Matrix::build(&catalogue, &outcomes, &["sqlite", "postgres"]);
        assert_eq!(matrix.state_of("REQ-A-001"), Some(State::Uncovered));
        assert_eq!(
            matrix.rows[0].scenarios[0].results["postgres"],
            Verdict::NotRun
        );
        assert_eq!(matrix.state_of("REQ-A-002"), Some(State::Suspect));
    }
}
