//! The traceability gate: the test run fails on any [`Hole`].

use std::{collections::BTreeSet, fmt};

use crate::{
    catalogue::{Acceptability, Catalogue, SafetyClass, Status, is_requirement_id},
    outcomes::ScenarioOutcome,
};

/// A gap in the evidence that a requirement is met or a risk controlled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hole {
    /// No scenario tagged with the approved requirement passed on this store.
    Uncovered { requirement: String, store: String },
    /// A scenario failed (or had a skipped or undefined step) on this store.
    Failing { scenario: String, store: String },
    /// A scenario names a requirement the catalogue does not have.
    UnknownRequirement { tag: String, scenario: String },
    /// A scenario names no requirement at all: nothing says what it verifies.
    Untraced { scenario: String },
    /// The requirement's statement changed since its scenarios were last reviewed against it.
    Suspect { requirement: String },
    /// A risk has no control measure.
    Uncontrolled { risk: String },
    /// A control names a requirement the catalogue does not have.
    UnknownControlRequirement { risk: String, requirement: String },
    /// A risk stays unacceptable after its controls.
    Unacceptable { risk: String },
    /// A requirement controls a risk whose severity calls for a higher software safety class.
    ClassTooLow {
        requirement: String,
        class: SafetyClass,
        risk: String,
        needed: SafetyClass,
    },
    /// An id is malformed or used twice, or a required text (a rationale) is empty.
    Malformed { subject: String, problem: String },
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
            Hole::Suspect { requirement } => write!(
                f,
                "{requirement}: statement changed since its scenarios were reviewed (suspect; \
                 review them, then `cargo evidence review {requirement}`)"
            ),
            Hole::Uncontrolled { risk } => write!(f, "{risk}: hazard has no risk control"),
            Hole::UnknownControlRequirement { risk, requirement } => {
                write!(
                    f,
                    "{risk}: a control names unknown requirement {requirement}"
                )
            }
            Hole::Unacceptable { risk } => {
                write!(f, "{risk}: residual risk is unacceptable")
            }
            Hole::ClassTooLow {
                requirement,
                class,
                risk,
                needed,
            } => write!(
                f,
                "{requirement}: safety class {class:?} is below class {needed:?}, which the \
                 severity of {risk} calls for"
            ),
            Hole::Malformed { subject, problem } => write!(f, "{subject}: {problem}"),
        }
    }
}

/// Every hole in the evidence that `outcomes` give for `catalogue`, where each requirement
/// must be verified on each of `stores`. Empty means the gate passes.
pub fn check(catalogue: &Catalogue, outcomes: &[ScenarioOutcome], stores: &[&str]) -> Vec<Hole> {
    let mut holes = BTreeSet::new();
    requirement_holes(catalogue, outcomes, stores, &mut holes);
    risk_holes(catalogue, &mut holes);
    scenario_holes(catalogue, outcomes, &mut holes);
    holes.into_iter().collect()
}

fn malformed(subject: &str, problem: &str) -> Hole {
    Hole::Malformed {
        subject: subject.to_owned(),
        problem: problem.to_owned(),
    }
}

fn empty_texts(subject: &str, texts: &[(&str, &str)], holes: &mut BTreeSet<Hole>) {
    for (text, field) in texts {
        if text.trim().is_empty() {
            holes.insert(malformed(subject, &format!("{field} is empty")));
        }
    }
}

fn requirement_holes(
    catalogue: &Catalogue,
    outcomes: &[ScenarioOutcome],
    stores: &[&str],
    holes: &mut BTreeSet<Hole>,
) {
    let mut seen = BTreeSet::new();
    for requirement in &catalogue.requirements {
        let id = &requirement.id;
        if !is_requirement_id(id) {
            holes.insert(malformed(id, "id is not of the form REQ-<AREA>-NNN"));
        }
        if !seen.insert(id.as_str()) {
            holes.insert(malformed(id, "id is used twice"));
        }
        empty_texts(
            id,
            &[
                (&requirement.title, "title"),
                (&requirement.statement, "statement"),
                (&requirement.source, "source"),
                (&requirement.rationale, "rationale"),
            ],
            holes,
        );
        for risk in catalogue.risks_controlled_by(id) {
            let needed = risk.severity.least_class();
            if requirement.safety_class < needed {
                holes.insert(Hole::ClassTooLow {
                    requirement: id.clone(),
                    class: requirement.safety_class,
                    risk: risk.id.clone(),
                    needed,
                });
            }
        }
        if requirement.status != Status::Approved {
            continue;
        }
        if catalogue.is_suspect(requirement) {
            holes.insert(Hole::Suspect {
                requirement: id.clone(),
            });
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
}

fn risk_holes(catalogue: &Catalogue, holes: &mut BTreeSet<Hole>) {
    let known = catalogue.requirement_ids();
    let mut seen = BTreeSet::new();
    for risk in &catalogue.risks {
        let id = &risk.id;
        if !seen.insert(id.as_str()) {
            holes.insert(malformed(id, "id is used twice"));
        }
        empty_texts(
            id,
            &[
                (&risk.hazard, "hazard"),
                (&risk.hazardous_situation, "hazardous_situation"),
                (&risk.harm, "harm"),
                (&risk.residual_rationale, "residual_rationale"),
            ],
            holes,
        );
        if risk.controls.is_empty() {
            holes.insert(Hole::Uncontrolled { risk: id.clone() });
        }
        for control in &risk.controls {
            if control.measure.trim().is_empty() {
                holes.insert(malformed(id, "a control's measure is empty"));
            }
            if control.requirements.is_empty() {
                holes.insert(malformed(id, "a control names no requirement"));
            }
            for requirement in &control.requirements {
                if !known.contains(requirement.as_str()) {
                    holes.insert(Hole::UnknownControlRequirement {
                        risk: id.clone(),
                        requirement: requirement.clone(),
                    });
                }
            }
        }
        if risk.residual() == Acceptability::Unacceptable {
            holes.insert(Hole::Unacceptable { risk: id.clone() });
        }
    }
}

fn scenario_holes(catalogue: &Catalogue, outcomes: &[ScenarioOutcome], holes: &mut BTreeSet<Hole>) {
    let known = catalogue.requirement_ids();
    for outcome in outcomes {
        let scenario = outcome.label();
        if !outcome.passed {
            holes.insert(Hole::Failing {
                scenario: scenario.clone(),
                store: outcome.store.clone(),
            });
        }
        let requirement_tags = outcome.requirement_tags();
        if requirement_tags.is_empty() {
            holes.insert(Hole::Untraced {
                scenario: scenario.clone(),
            });
        }
        for tag in requirement_tags {
            if !known.contains(tag) {
                holes.insert(Hole::UnknownRequirement {
                    tag: tag.to_owned(),
                    scenario: scenario.clone(),
                });
            }
        }
    }
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
        safety_class = "C"
        source = "issue #3"
        status = "approved"
        rationale = "Orchestrators route only to healthy services."

        [[risk]]
        id = "RISK-001"
        hazard = "a dead service looks alive"
        hazardous_situation = "readings are sent to a service that drops them"
        harm = "a deterioration goes unnoticed"
        severity = "critical"
        probability = "occasional"
        residual_probability = "improbable"
        residual_rationale = "Health is checked live."

        [[risk.control]]
        measure = "health per service"
        type = "protective-measure"
        requirements = ["REQ-SUITE-001"]
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
        let mut catalogue = Catalogue::parse(CATALOGUE).unwrap();
        let fingerprint = catalogue.requirements[0].fingerprint();
        catalogue
            .reviewed
            .insert("REQ-SUITE-001".into(), fingerprint);
        catalogue
    }

    fn holes_of(catalogue: &Catalogue) -> Vec<String> {
        let outcomes = [outcome(&["REQ-SUITE-001"], "sqlite", true)];
        check(catalogue, &outcomes, &["sqlite"])
            .iter()
            .map(ToString::to_string)
            .collect()
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
    fn fails_on_malformed_requirements_and_risks() {
        let mut catalogue = catalogue();
        let mut copy = catalogue.requirements[0].clone();
        copy.rationale = " ".into();
        catalogue.requirements.push(copy);
        catalogue.risks[0].residual_rationale = String::new();
        let holes = holes_of(&catalogue);
        assert!(holes.contains(&"REQ-SUITE-001: id is used twice".to_owned()));
        assert!(holes.contains(&"REQ-SUITE-001: rationale is empty".to_owned()));
        assert!(holes.contains(&"RISK-001: residual_rationale is empty".to_owned()));
    }

    #[test]
    fn fails_on_a_hazard_without_control_and_a_control_naming_an_unknown_requirement() {
        let mut catalogue = catalogue();
        let mut uncontrolled = catalogue.risks[0].clone();
        uncontrolled.id = "RISK-002".into();
        uncontrolled.controls.clear();
        catalogue.risks.push(uncontrolled);
        catalogue.risks[0].controls[0]
            .requirements
            .push("REQ-SUITE-404".into());
        let holes = holes_of(&catalogue);
        assert_eq!(
            holes,
            [
                "RISK-002: hazard has no risk control",
                "RISK-001: a control names unknown requirement REQ-SUITE-404"
            ]
        );
    }

    #[test]
    fn a_changed_statement_makes_its_links_suspect_until_reviewed() {
        let mut catalogue = catalogue();
        catalogue.requirements[0].statement = "Each service reports its health at once.".into();
        assert_eq!(
            check(
                &catalogue,
                &[outcome(&["REQ-SUITE-001"], "sqlite", true)],
                &["sqlite"]
            ),
            [Hole::Suspect {
                requirement: "REQ-SUITE-001".into()
            }]
        );
        // Rewrapping the same words is not a change.
        let mut rewrapped = super::super::catalogue::Requirement {
            statement: "Each service\n  reports its health.".into(),
            ..catalogue.requirements[0].clone()
        };
        assert_eq!(
            rewrapped.fingerprint(),
            self::catalogue().requirements[0].fingerprint()
        );
        rewrapped.statement.clear();
        assert_ne!(
            rewrapped.fingerprint(),
            self::catalogue().requirements[0].fingerprint()
        );
        let text = crate::catalogue::reviews_file(&catalogue, &["REQ-SUITE-001".into()]);
        let reviewed = Catalogue::parse(&text).unwrap().reviewed;
        catalogue.reviewed = reviewed;
        assert!(holes_of(&catalogue).is_empty());
    }

    #[test]
    fn fails_on_an_unacceptable_residual_risk_and_a_class_below_the_risks_severity() {
        let mut catalogue = catalogue();
        catalogue.risks[0].residual_probability = crate::Probability::Probable;
        catalogue.requirements[0].safety_class = SafetyClass::B;
        assert_eq!(
            holes_of(&catalogue),
            [
                "RISK-001: residual risk is unacceptable",
                "REQ-SUITE-001: safety class B is below class C, which the severity of \
                 RISK-001 calls for"
            ]
        );
    }

    #[test]
    fn a_draft_requirement_need_not_be_verified_yet() {
        let mut catalogue = catalogue();
        catalogue.requirements[0].status = Status::Draft;
        assert_eq!(check(&catalogue, &[], &["sqlite"]), []);
    }

    #[test]
    fn the_repository_catalogue_has_no_hole_of_its_own() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../traceability");
        let catalogue = Catalogue::load(&dir).unwrap();
        let outcomes: Vec<ScenarioOutcome> = catalogue
            .requirements
            .iter()
            .map(|r| outcome(&[r.id.as_str()], "sqlite", true))
            .collect();
        assert_eq!(check(&catalogue, &outcomes, &["sqlite"]), []);
    }
}
