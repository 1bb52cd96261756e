//! The evaluation engine: readings in, alert effects out. For each reading it finds the active
//! rules that watch the reading's code (or one of its components), runs each rule's logic on
//! that patient's state, and says what should happen — raise, clear, or why nothing was raised.
//! Plain data in and out: the service around it persists the effects and the cursor together.

use std::collections::HashMap;

use super::{
    classification::Priority,
    logic::{Decision, Sample, ThresholdState, Window},
    rule::{Logic, RuleDefinition},
};

/// A reading as the engine sees it: canonical values only.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub reading_id: String,
    pub patient: Option<String>,
    pub device_id: String,
    /// µs since the epoch.
    pub observed_at: i64,
    pub code: String,
    pub value: Option<f64>,
    /// (code, canonical value) of each component.
    pub components: Vec<(String, f64)>,
}

/// An active rule version the engine evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRule {
    pub rule_id: String,
    pub version: u32,
    pub definition: RuleDefinition,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Raise {
        rule_id: String,
        version: u32,
        patient: String,
        priority: Priority,
        readings: Vec<String>,
    },
    Clear {
        rule_id: String,
        version: u32,
        patient: String,
        reading_id: String,
    },
    /// The condition holds but was not raised, and why — kept so a silence is explainable.
    Suppressed {
        rule_id: String,
        version: u32,
        patient: String,
        reading_id: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
enum State {
    #[default]
    Fresh,
    Threshold(ThresholdState),
    Window(Window),
}

/// Evaluation state for every (rule, patient).
#[derive(Debug, Default)]
pub struct Engine {
    rules: Vec<ActiveRule>,
    states: HashMap<(String, u32, String), State>,
}

impl Engine {
    pub fn new(rules: Vec<ActiveRule>) -> Self {
        Engine {
            rules,
            states: HashMap::new(),
        }
    }

    /// Replaces the active rules; state of versions no longer active is dropped.
    pub fn set_rules(&mut self, rules: Vec<ActiveRule>) {
        self.states.retain(|(id, version, _), _| {
            rules
                .iter()
                .any(|r| &r.rule_id == id && r.version == *version)
        });
        self.rules = rules;
    }

    /// Restores that (rule, patient) has an open alert, so a threshold rule clears it when the
    /// value returns past its clearing level even after a restart.
    pub fn mark_raised(&mut self, rule_id: &str, version: u32, patient: &str) {
        let is_threshold = self.rules.iter().any(|r| {
            r.rule_id == rule_id && r.version == version && r.definition.threshold().is_some()
        });
        if is_threshold {
            self.states.insert(
                (rule_id.to_owned(), version, patient.to_owned()),
                State::Threshold(ThresholdState::already_raised()),
            );
        }
    }

    pub fn rules(&self) -> &[ActiveRule] {
        &self.rules
    }

    /// The value `rule` watches in `reading`, if any.
    fn value_for(rule: &RuleDefinition, reading: &Observed) -> Option<f64> {
        let codes = &rule.applies_to.codes;
        if codes.iter().any(|c| c == &reading.code) {
            return reading.value;
        }
        reading
            .components
            .iter()
            .find(|(code, _)| codes.iter().any(|c| c == code))
            .map(|(_, v)| *v)
    }

    /// What `reading` does to every active rule.
    pub fn evaluate(&mut self, reading: &Observed) -> Vec<Effect> {
        let Some(patient) = reading.patient.clone() else {
            return Vec::new(); // unattributed readings raise nothing for anyone
        };
        let mut effects = Vec::new();
        for rule in &self.rules {
            let definition = &rule.definition;
            if definition
                .applies_to
                .patient
                .as_ref()
                .is_some_and(|p| p != &patient)
            {
                continue;
            }
            let watched = definition
                .applies_to
                .codes
                .iter()
                .any(|c| c == &reading.code)
                || reading
                    .components
                    .iter()
                    .any(|(code, _)| definition.applies_to.codes.contains(code));
            if !watched {
                continue;
            }
            let key = (rule.rule_id.clone(), rule.version, patient.clone());
            let state = self.states.entry(key).or_default();
            let decision = match &definition.logic {
                Logic::Event => Decision::Raise {
                    readings: vec![reading.reading_id.clone()],
                },
                Logic::Threshold { .. } | Logic::Change { .. } | Logic::Rate { .. } => {
                    let Some(value) = Self::value_for(definition, reading) else {
                        continue; // a data-absent reading carries no value to judge
                    };
                    let sample = Sample {
                        at: reading.observed_at,
                        value,
                        reading_id: reading.reading_id.clone(),
                    };
                    step(definition, state, &sample)
                }
                // Silence and NEWS2 are judged on time and on several codes, not per reading.
                Logic::Silence { .. } | Logic::News2 { .. } => continue,
            };
            let (rule_id, version) = (rule.rule_id.clone(), rule.version);
            match decision {
                Decision::Raise { readings } => effects.push(Effect::Raise {
                    rule_id,
                    version,
                    patient: patient.clone(),
                    priority: definition.priority(),
                    readings,
                }),
                Decision::Clear => effects.push(Effect::Clear {
                    rule_id,
                    version,
                    patient: patient.clone(),
                    reading_id: reading.reading_id.clone(),
                }),
                Decision::Pending { since, readings } => effects.push(Effect::Suppressed {
                    rule_id,
                    version,
                    patient: patient.clone(),
                    reading_id: reading.reading_id.clone(),
                    reason: format!(
                        "persistence not yet met: condition held since {since} µs over {readings} reading(s)"
                    ),
                }),
                Decision::Quiet => {}
            }
        }
        effects
    }
}

fn step(definition: &RuleDefinition, state: &mut State, sample: &Sample) -> Decision {
    if let Some(threshold) = definition.threshold() {
        if !matches!(state, State::Threshold(_)) {
            *state = State::Threshold(ThresholdState::default());
        }
        if let State::Threshold(s) = state {
            return threshold.step(s, sample);
        }
    }
    if !matches!(state, State::Window(_)) {
        *state = State::Window(Window::default());
    }
    let State::Window(window) = state else {
        return Decision::Quiet;
    };
    if let Some(change) = definition.change() {
        return change.step(window, sample);
    }
    if let Some(rate) = definition.rate() {
        return rate.step(window, sample);
    }
    Decision::Quiet
}

#[cfg(test)]
mod tests;
