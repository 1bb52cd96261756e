//! The traceability gate: the test run fails on any [`Hole`].

use std::{collections::BTreeSet, fmt};

use crate::{
    catalogue::{Catalogue, is_requirement_id},
    outcomes::ScenarioOutcome,
};

/// A gap in the evidence that a requirement is met.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hole {
    /// No scenario tagged with the requirement passed on this store.
    Uncovered { requirement: String, store: String },
    /// A scenario failed (or had a skipped or undefined step) on this store.
    Failing { scenario: String, store: String },
    /// A scenario names a requirement the catalogue does not have.
    UnknownRequirement { tag: String, scenario: String },
    /// A scenario names no requirement at all: nothing says what it verifies.
    Untraced { scenario: String },
    /// A requirement links a risk the register does not have.
    UnknownRisk { requirement: String, risk: String },
    /// A requirement's id is malformed or used twice, or a required text is empty.
    Malformed {
        requirement: String,
        problem: String,
    },
}

impl fmt::Display for Hole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hole::Uncovered { requirement, store } => {
                write!(f, "{requirement}: no passing scenario on {store}")
            }
            Hole::Failing { scenario, store } => write!(f, "{scenario}: fails on {store}"),
            Hole::UnknownRequirement { tag, scenario } => {
                write!(f, "{scenario}: tags unknown requirement {tag}")
            }
            Hole::Untraced { scenario } => write!(f, "{scenario}: tags no requirement"),
            Hole::UnknownRisk { requirement, risk } => {
                write!(f, "{requirement}: links unknown risk {risk}")
            }
            Hole::Malformed {
                requirement,
                problem,
            } => write!(f, "{requirement}: {problem}"),
        }
    }
}

/// Every hole in the evidence that `outcomes` give for `catalogue`, where each requirement
/// must be verified on each of `stores`. Empty means the gate passes.
pub fn check(catalogue: &Catalogue, outcomes: &[ScenarioOutcome], stores: &[&str]) -> Vec<Hole> {
    let mut holes = BTreeSet::new();
    let known = catalogue.requirement_ids();
    let risks = catalogue.risk_ids();

    let mut seen = BTreeSet::new();
    for requirement in &catalogue.requirements {
        let id = &requirement.id;
        let malformed = |problem: &str| Hole::Malformed {
            requirement: id.clone(),
            problem: problem.to_owned(),
        };
        if !is_requirement_id(id) {
            holes.insert(malformed("id is not of the form REQ-<AREA>-NNN"));
        }
        if !seen.insert(id.as_str()) {
            holes.insert(malformed("id is used twice"));
        }
        for (text, field) in [
            (&requirement.title, "title"),
            (&requirement.statement, "statement"),
            (&requirement.rationale, "rationale"),
        ] {
            if text.trim().is_empty() {
                holes.insert(malformed(&format!("{field} is empty")));
            }
        }
        for risk in &requirement.risks {
            if !risks.contains(risk.as_str()) {
                holes.insert(Hole::UnknownRisk {
                    requirement: id.clone(),
                    risk: risk.clone(),
                });
            }
        }
        for store in stores {
            let verified = outcomes
                .iter()
                .any(|o| o.store == *store && o.passed && o.tags.iter().any(|t| t == id));
            if !verified {
                holes.insert(Hole::Uncovered {
                    requirement: id.clone(),
                    store: (*store).to_owned(),
                });
            }
        }
    }

    for outcome in outcomes {
        let scenario = format!("{}:{} ({})", outcome.feature, outcome.line, outcome.name);
        if !outcome.passed {
            holes.insert(Hole::Failing {
                scenario: scenario.clone(),
                store: outcome.store.clone(),
            });
        }
        let requirement_tags: Vec<&String> = outcome
            .tags
            .iter()
            .filter(|t| t.starts_with("REQ-"))
            .collect();
        if requirement_tags.is_empty() {
            holes.insert(Hole::Untraced {
                scenario: scenario.clone(),
            });
        }
        for tag in requirement_tags {
            if !known.contains(tag.as_str()) {
                holes.insert(Hole::UnknownRequirement {
                    tag: tag.clone(),
                    scenario: scenario.clone(),
                });
            }
        }
    }
    holes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOGUE: &str = r#"
        [[requirement]]
        id = "REQ-SUITE-001"
        title = "Health"
        statement = "Each service reports its health."
        kind = "functional"
        rationale = "Orchestrators route only to healthy services."
        risks = ["RISK-001"]

        [[risk]]
        id = "RISK-001"
        hazard = "a dead service looks alive"
        hazardous_situation = "readings are sent to a service that drops them"
        harm = "a deterioration goes unnoticed"
    "#;

    fn outcome(tags: &[&str], store: &str, passed: bool) -> ScenarioOutcome {
        ScenarioOutcome {
            feature: "tests/features/health.feature".into(),
            line: 3,
            name: "serving".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            store: store.into(),
            passed,
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue::parse(CATALOGUE).unwrap()
    }

    #[test]
    fn passes_when_every_requirement_passes_on_every_store() {
        let outcomes = [
            outcome(&["REQ-SUITE-001"], "sqlite", true),
            outcome(&["REQ-SUITE-001"], "postgres", true),
        ];
        assert_eq!(check(&catalogue(), &outcomes, &["sqlite", "postgres"]), []);
    }

    #[test]
    fn fails_on_a_requirement_with_no_scenario() {
        let holes = check(&catalogue(), &[], &["sqlite"]);
        assert_eq!(
            holes,
            [Hole::Uncovered {
                requirement: "REQ-SUITE-001".into(),
                store: "sqlite".into()
            }]
        );
    }

    #[test]
    fn fails_on_a_requirement_verified_on_one_store_only() {
        let outcomes = [outcome(&["REQ-SUITE-001"], "sqlite", true)];
        let holes = check(&catalogue(), &outcomes, &["sqlite", "postgres"]);
        assert_eq!(
            holes,
            [Hole::Uncovered {
                requirement: "REQ-SUITE-001".into(),
                store: "postgres".into()
            }]
        );
    }

    #[test]
    fn fails_on_a_scenario_tagging_an_unknown_requirement() {
        let outcomes = [
            outcome(&["REQ-SUITE-001"], "sqlite", true),
            outcome(&["REQ-SUITE-999"], "sqlite", true),
        ];
        let holes = check(&catalogue(), &outcomes, &["sqlite"]);
        assert_eq!(holes.len(), 1);
        assert!(matches!(
            &holes[0],
            Hole::UnknownRequirement { tag, .. } if tag == "REQ-SUITE-999"
        ));
        assert!(
            holes[0]
                .to_string()
                .contains("tags unknown requirement REQ-SUITE-999")
        );
    }

    #[test]
    fn fails_on_a_failing_or_skipped_scenario_even_when_another_passes() {
        let outcomes = [
            outcome(&["REQ-SUITE-001"], "sqlite", true),
            outcome(&["REQ-SUITE-001"], "sqlite", false),
        ];
        let holes = check(&catalogue(), &outcomes, &["sqlite"]);
        assert!(matches!(&holes[..], [Hole::Failing { .. }]), "{holes:?}");
    }

    #[test]
    fn fails_on_a_scenario_that_verifies_nothing() {
        let outcomes = [
            outcome(&["REQ-SUITE-001"], "sqlite", true),
            outcome(&["smoke"], "sqlite", true),
        ];
        let holes = check(&catalogue(), &outcomes, &["sqlite"]);
        assert!(matches!(&holes[..], [Hole::Untraced { .. }]), "{holes:?}");
    }

    #[test]
    fn fails_on_a_link_to_an_unknown_risk_and_on_malformed_requirements() {
        let mut catalogue = catalogue();
        catalogue.requirements[0].risks.push("RISK-404".into());
        let mut copy = catalogue.requirements[0].clone();
        copy.rationale = " ".into();
        catalogue.requirements.push(copy);
        let outcomes = [outcome(&["REQ-SUITE-001"], "sqlite", true)];
        let holes: Vec<String> = check(&catalogue, &outcomes, &["sqlite"])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(holes.contains(&"REQ-SUITE-001: links unknown risk RISK-404".to_owned()));
        assert!(holes.contains(&"REQ-SUITE-001: id is used twice".to_owned()));
        assert!(holes.contains(&"REQ-SUITE-001: rationale is empty".to_owned()));
    }
}
