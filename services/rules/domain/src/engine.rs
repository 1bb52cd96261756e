//! The evaluation engine: readings in, alert effects out. For each reading it finds the active
//! rules that watch the reading's code (or one of its components), runs each rule's logic on
//! that patient's state, and says what should happen — raise, clear, or why nothing was raised.
//! Plain data in and out: the service around it persists the effects and the cursor together.

use std::collections::HashMap;

use super::{
    classification::Priority,
    logic::{Decision, Sample, ThresholdState, Window},
    news2::{self, SpO2Scale},
    news2_inputs::News2Inputs,
    rule::{Logic, RuleDefinition},
    silence::DeviceContext,
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
    /// The device's kind and care setting, when a rule needs them (else `None`).
    pub device: Option<DeviceContext>,
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

impl Effect {
    /// The patient the effect is for.
    pub fn patient(&self) -> &str {
        match self {
            Effect::Raise { patient, .. }
            | Effect::Clear { patient, .. }
            | Effect::Suppressed { patient, .. } => patient,
        }
    }
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
    latest: HashMap<String, News2Inputs>,
    /// Patients a clinician put on SpO2 scale 2; everyone else is on scale 1.
    scales: HashMap<String, SpO2Scale>,
}

impl Engine {
    pub fn new(rules: Vec<ActiveRule>) -> Self {
        Engine {
            rules,
            states: HashMap::new(),
            latest: HashMap::new(),
            scales: HashMap::new(),
        }
    }

    /// Replaces which patients are on which SpO2 scale.
    pub fn set_scales(&mut self, scales: HashMap<String, SpO2Scale>) {
        self.scales = scales;
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

    /// Whether any active rule depends on a device's kind or care setting.
    pub fn needs_devices(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.definition.applies_to.names_devices())
    }

    /// What to re-read after a restart so windows and NEWS2 inputs are as they were: each code
    /// a change, rate or NEWS2 rule watches, with the longest window it is watched over (µs).
    pub fn warm_up_plan(&self) -> Vec<(String, i64)> {
        let mut plan: HashMap<String, i64> = HashMap::new();
        for rule in &self.rules {
            let definition = &rule.definition;
            let (codes, window): (Vec<String>, i64) = match &definition.logic {
                Logic::Change { window_minutes, .. } | Logic::Rate { window_minutes, .. } => (
                    definition.applies_to.codes.clone(),
                    i64::from(*window_minutes) * 60_000_000,
                ),
                Logic::News2 { window_minutes, .. } => (
                    news2::INPUT_CODES.iter().map(|c| (*c).to_owned()).collect(),
                    i64::from(*window_minutes) * 60_000_000,
                ),
                _ => continue,
            };
            for code in codes {
                let longest = plan.entry(code).or_insert(0);
                *longest = (*longest).max(window);
            }
        }
        let mut plan: Vec<(String, i64)> = plan.into_iter().collect();
        plan.sort();
        plan
    }

    /// Takes in a reading evaluated before a restart: it fills change and rate windows and the
    /// patient's NEWS2 inputs, and decides nothing (its effects were stored then).
    pub fn warm(&mut self, reading: &Observed) {
        let Some(patient) = reading.patient.clone() else {
            return;
        };
        self.latest
            .entry(patient.clone())
            .or_default()
            .take(reading);
        for rule in &self.rules {
            let definition = &rule.definition;
            if !matches!(definition.logic, Logic::Change { .. } | Logic::Rate { .. })
                || !definition
                    .applies_to
                    .admits(&patient, reading.device.as_ref())
            {
                continue;
            }
            let Some(sample) = Self::sample_for(definition, reading) else {
                continue;
            };
            let key = (rule.rule_id.clone(), rule.version, patient.clone());
            step(definition, self.states.entry(key).or_default(), &sample);
        }
    }

    /// The sample `rule` watches in `reading` — the reading's value, or a watched component's —
    /// if any.
    fn sample_for(rule: &RuleDefinition, reading: &Observed) -> Option<Sample> {
        let codes = &rule.applies_to.codes;
        let value = if codes.iter().any(|c| c == &reading.code) {
            reading.value
        } else {
            reading
                .components
                .iter()
                .find(|(code, _)| codes.iter().any(|c| c == code))
                .map(|(_, v)| *v)
        }?;
        Some(Sample {
            at: reading.observed_at,
            value,
            reading_id: reading.reading_id.clone(),
        })
    }

    /// What `reading` does to every active rule.
    pub fn evaluate(&mut self, reading: &Observed) -> Vec<Effect> {
        let Some(patient) = reading.patient.as_deref() else {
            return Vec::new(); // unattributed readings raise nothing for anyone
        };
        let Engine {
            rules,
            states,
            latest,
            scales,
        } = self;
        let latest = latest.entry(patient.to_owned()).or_default();
        let news2_input = latest.take(reading);
        let scale = scales.get(patient).copied().unwrap_or_default();
        rules
            .iter()
            .filter(|rule| {
                let applies = &rule.definition.applies_to;
                applies.admits(patient, reading.device.as_ref())
            })
            .filter_map(|rule| match &rule.definition.logic {
                Logic::News2 {
                    at_least,
                    window_minutes,
                } => news2_input
                    .then(|| {
                        let window = i64::from(*window_minutes) * 60_000_000;
                        judge_news2(rule, latest, scale, (*at_least, window), reading)
                    })
                    .flatten(),
                _ => judge_reading(rule, states, patient, reading),
            })
            .collect()
    }
}

/// A NEWS2 rule on the patient's latest inputs, scored at the reading's observation time (so a
/// backtest scores as live does): raise at or above its risk, clear below, nothing when an
/// input is missing or stale.
fn judge_news2(
    rule: &ActiveRule,
    latest: &News2Inputs,
    scale: SpO2Scale,
    (at_least, window): (news2::Risk, i64),
    reading: &Observed,
) -> Option<Effect> {
    let patient = reading.patient.clone().unwrap_or_default();
    match news2::score(&latest.vitals, scale, reading.observed_at, window) {
        news2::Outcome::Complete(score) if score.risk >= at_least => {
            let mut readings: Vec<String> = latest.readings.values().cloned().collect();
            readings.sort();
            Some(Effect::Raise {
                rule_id: rule.rule_id.clone(),
                version: rule.version,
                patient,
                priority: rule.definition.priority(),
                readings,
            })
        }
        news2::Outcome::Complete(_) => Some(Effect::Clear {
            rule_id: rule.rule_id.clone(),
            version: rule.version,
            patient,
            reading_id: reading.reading_id.clone(),
        }),
        news2::Outcome::Incomplete { .. } => None,
    }
}

/// A rule judged reading by reading (event, threshold, change, rate), if it watches the
/// reading's code or one of its components.
fn judge_reading(
    rule: &ActiveRule,
    states: &mut HashMap<(String, u32, String), State>,
    patient: &str,
    reading: &Observed,
) -> Option<Effect> {
    let definition = &rule.definition;
    let codes = &definition.applies_to.codes;
    let watched = codes.iter().any(|c| c == &reading.code)
        || reading
            .components
            .iter()
            .any(|(code, _)| codes.contains(code));
    if !watched {
        return None;
    }
    let key = (rule.rule_id.clone(), rule.version, patient.to_owned());
    let decision = match &definition.logic {
        Logic::Event => Decision::Raise {
            readings: vec![reading.reading_id.clone()],
        },
        Logic::Threshold { .. } | Logic::Change { .. } | Logic::Rate { .. } => {
            // A data-absent reading carries no value to judge.
            let sample = Engine::sample_for(definition, reading)?;
            step(definition, states.entry(key).or_default(), &sample)
        }
        // Silence and NEWS2 are judged on time and on several codes, not per reading.
        Logic::Silence { .. } | Logic::News2 { .. } => return None,
    };
    effect_of(decision, rule, patient, reading)
}

/// The effect a rule's decision on `reading` has.
fn effect_of(
    decision: Decision,
    rule: &ActiveRule,
    patient: &str,
    reading: &Observed,
) -> Option<Effect> {
    let (rule_id, version, patient) = (rule.rule_id.clone(), rule.version, patient.to_owned());
    match decision {
        Decision::Raise { readings } => Some(Effect::Raise {
            rule_id,
            version,
            patient,
            priority: rule.definition.priority(),
            readings,
        }),
        Decision::Clear => Some(Effect::Clear {
            rule_id,
            version,
            patient,
            reading_id: reading.reading_id.clone(),
        }),
        Decision::Pending { since, readings } => Some(Effect::Suppressed {
            rule_id,
            version,
            patient,
            reading_id: reading.reading_id.clone(),
            reason: format!(
                "persistence not yet met: condition held since {since} µs over {readings} reading(s)"
            ),
        }),
        Decision::Quiet => None,
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
