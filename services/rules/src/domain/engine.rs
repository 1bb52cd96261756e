//! The evaluation engine: readings in, alert effects out. For each reading it finds the active
//! rules that watch the reading's code (or one of its components), runs each rule's logic on
//! that patient's state, and says what should happen — raise, clear, or why nothing was raised.
//! Plain data in and out: the service around it persists the effects and the cursor together.

use std::collections::HashMap;

use super::{
    classification::Priority,
    logic::{Decision, Sample, ThresholdState, Window},
    news2::{self, Consciousness, SpO2Scale, Timed, Vitals},
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

#[derive(Debug, Clone, Default, PartialEq)]
enum State {
    #[default]
    Fresh,
    Threshold(ThresholdState),
    Window(Window),
}

/// A patient's latest NEWS2 inputs, with the reading behind each (keyed by parameter name).
#[derive(Debug, Clone, Default)]
pub struct News2Inputs {
    pub vitals: Vitals,
    pub readings: HashMap<&'static str, String>,
}

impl News2Inputs {
    /// Takes `reading` in if it is a NEWS2 input newer than what is known; whether it was.
    pub fn take(&mut self, reading: &Observed) -> bool {
        let at = reading.observed_at;
        let newer = |old: Option<i64>| old.is_none_or(|old| at >= old);
        let v = &mut self.vitals;
        let value = reading.value;
        let slot: Option<&'static str> = match reading.code.as_str() {
            "9279-1" if newer(v.respiration_rate.map(|t| t.at)) => value.map(|x| {
                v.respiration_rate = Some(Timed { value: x, at });
                "respiration_rate"
            }),
            "59408-5" | "2708-6" if newer(v.spo2.map(|t| t.at)) => value.map(|x| {
                v.spo2 = Some(Timed { value: x, at });
                "spo2"
            }),
            "3151-8" if newer(v.on_oxygen.map(|t| t.at)) => value.map(|x| {
                v.on_oxygen = Some(Timed { value: x > 0.0, at });
                "air_or_oxygen"
            }),
            "8867-4" if newer(v.pulse.map(|t| t.at)) => value.map(|x| {
                v.pulse = Some(Timed { value: x, at });
                "pulse"
            }),
            "8310-5" if newer(v.temperature.map(|t| t.at)) => value.map(|x| {
                v.temperature = Some(Timed { value: x, at });
                "temperature"
            }),
            "85354-9" if newer(v.systolic.map(|t| t.at)) => reading
                .components
                .iter()
                .find(|(c, _)| c == "8480-6")
                .map(|(_, x)| {
                    v.systolic = Some(Timed { value: *x, at });
                    "systolic_blood_pressure"
                }),
            code if code.starts_with("consciousness-") && newer(v.consciousness.map(|t| t.at)) => {
                let level = match code {
                    "consciousness-alert" => Some(Consciousness::Alert),
                    "consciousness-new-confusion" => Some(Consciousness::NewConfusion),
                    "consciousness-voice" => Some(Consciousness::Voice),
                    "consciousness-pain" => Some(Consciousness::Pain),
                    "consciousness-unresponsive" => Some(Consciousness::Unresponsive),
                    _ => None,
                };
                level.map(|level| {
                    v.consciousness = Some(Timed { value: level, at });
                    "consciousness"
                })
            }
            _ => None,
        };
        if let Some(slot) = slot {
            self.readings.insert(slot, reading.reading_id.clone());
        }
        slot.is_some()
    }
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
        let Some(patient) = reading.patient.clone() else {
            return Vec::new(); // unattributed readings raise nothing for anyone
        };
        let mut effects = Vec::new();
        let latest = self.latest.entry(patient.clone()).or_default();
        let news2_input = latest.take(reading);
        let scale = self.scales.get(&patient).copied().unwrap_or_default();
        for rule in &self.rules {
            let definition = &rule.definition;
            if !definition
                .applies_to
                .admits(&patient, reading.device.as_ref())
            {
                continue;
            }
            if let Logic::News2 {
                at_least,
                window_minutes,
            } = &definition.logic
            {
                if !news2_input {
                    continue;
                }
                let window = i64::from(*window_minutes) * 60_000_000;
                // Scored at the reading's observation time, so a backtest scores as live does.
                let outcome = news2::score(&latest.vitals, scale, reading.observed_at, window);
                let (rule_id, version) = (rule.rule_id.clone(), rule.version);
                match outcome {
                    news2::Outcome::Complete(score) if score.risk >= *at_least => {
                        let mut readings: Vec<String> = latest.readings.values().cloned().collect();
                        readings.sort();
                        effects.push(Effect::Raise {
                            rule_id,
                            version,
                            patient: patient.clone(),
                            priority: definition.priority(),
                            readings,
                        });
                    }
                    news2::Outcome::Complete(_) => effects.push(Effect::Clear {
                        rule_id,
                        version,
                        patient: patient.clone(),
                        reading_id: reading.reading_id.clone(),
                    }),
                    // No score from missing or stale inputs: nothing is raised or cleared.
                    news2::Outcome::Incomplete { .. } => {}
                }
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
                    let Some(sample) = Self::sample_for(definition, reading) else {
                        continue; // a data-absent reading carries no value to judge
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
