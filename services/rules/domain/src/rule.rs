//! A clinical rule as data: what it applies to, its logic (thresholds in the canonical unit of
//! the code they watch), the judgements its alert priority and IMDRF category derive from, its
//! intended use and clinical reference. `problems` refuses a rule that cannot be evaluated.

use sentinel_clinical::{care, catalogue};
use serde::{Deserialize, Serialize};

use super::{
    classification::{self, Category, Onset, PotentialResult, Priority, Significance, Situation},
    logic::{Change, Comparison, Persistence, Rate, Threshold},
    news2::Risk,
    silence::DeviceContext,
};

/// What a rule watches; empty lists match everything.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppliesTo {
    /// LOINC codes or Sentinel event codes.
    pub codes: Vec<String>,
    pub device_kinds: Vec<String>,
    pub care_settings: Vec<String>,
    /// One patient, for a personal threshold.
    pub patient: Option<String>,
}

impl AppliesTo {
    /// Whether the rule depends on a device's kind or care setting.
    pub fn names_devices(&self) -> bool {
        !self.device_kinds.is_empty() || !self.care_settings.is_empty()
    }

    /// Whether a reading of `patient` from a device like `device` is this rule's concern (codes
    /// aside). A rule naming device kinds or care settings never applies to an unknown device.
    pub fn admits(&self, patient: &str, device: Option<&DeviceContext>) -> bool {
        let listed = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l == v))
        };
        self.patient.as_deref().is_none_or(|p| p == patient)
            && listed(&self.device_kinds, device.map(|d| d.kind.as_str()))
            && listed(&self.care_settings, device.map(|d| d.care_setting.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Logic {
    Threshold {
        comparison: Comparison,
        trigger: f64,
        clear: f64,
        unit: String,
        #[serde(default)]
        persistence_seconds: u32,
        #[serde(default)]
        persistence_readings: u32,
    },
    Change {
        rising: bool,
        by: f64,
        unit: String,
        window_minutes: u32,
    },
    Rate {
        per_minute: f64,
        unit: String,
        window_minutes: u32,
        min_samples: u32,
    },
    Event,
    Silence {
        /// Silence is more than `factor` × the device's expected interval.
        factor: u32,
    },
    News2 {
        at_least: Risk,
        window_minutes: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDefinition {
    /// A stable name, lowercase with hyphens.
    pub name: String,
    pub title: String,
    pub applies_to: AppliesTo,
    pub logic: Logic,
    /// IEC 60601-1-8 Table 1 inputs.
    pub potential_result: PotentialResult,
    pub onset: Onset,
    /// IMDRF SaMD inputs.
    pub situation: Situation,
    pub significance: Significance,
    pub intended_use: String,
    pub clinical_reference: String,
    /// A latching alert stays until a person resolves it, even when the condition clears.
    #[serde(default)]
    pub latching: bool,
    /// An urgent floor cannot be snoozed or disabled for a patient.
    #[serde(default)]
    pub urgent_floor: bool,
}

fn minutes(m: u32) -> i64 {
    i64::from(m) * 60_000_000
}

impl RuleDefinition {
    pub fn priority(&self) -> Priority {
        classification::priority(self.potential_result, self.onset)
    }

    pub fn category(&self) -> Category {
        classification::category(self.situation, self.significance)
    }

    /// The threshold logic with its persistence, if this is a threshold rule.
    pub fn threshold(&self) -> Option<Threshold> {
        match &self.logic {
            Logic::Threshold {
                comparison,
                trigger,
                clear,
                persistence_seconds,
                persistence_readings,
                ..
            } => Some(Threshold {
                comparison: *comparison,
                trigger: *trigger,
                clear: *clear,
                persistence: match (persistence_seconds, persistence_readings) {
                    (0, 0) => Persistence::Immediate,
                    (s, 0) => Persistence::Seconds(*s),
                    (_, n) => Persistence::Readings(*n),
                },
            }),
            _ => None,
        }
    }

    pub fn change(&self) -> Option<Change> {
        match &self.logic {
            Logic::Change {
                rising,
                by,
                window_minutes,
                ..
            } => Some(Change {
                rising: *rising,
                by: *by,
                window: minutes(*window_minutes),
            }),
            _ => None,
        }
    }

    pub fn rate(&self) -> Option<Rate> {
        match &self.logic {
            Logic::Rate {
                per_minute,
                window_minutes,
                min_samples,
                ..
            } => Some(Rate {
                per_minute: *per_minute,
                window: minutes(*window_minutes),
                min_samples: *min_samples,
            }),
            _ => None,
        }
    }

    /// Why the rule cannot be evaluated, as (field, rule); empty when it can.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Problems::default();
        self.check_description(&mut problems);
        self.check_scope(&mut problems);
        self.check_logic(&mut problems);
        problems.0
    }

    /// Its name, and what a clinician reads about it.
    fn check_description(&self, problems: &mut Problems) {
        let name_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if self.name.is_empty() || !self.name.chars().all(name_chars) {
            problems.add("name", "must be lowercase letters, digits and hyphens");
        }
        for (field, text) in [
            ("title", &self.title),
            ("intended_use", &self.intended_use),
            ("clinical_reference", &self.clinical_reference),
        ] {
            if text.trim().is_empty() {
                problems.add(field, "is required");
            }
        }
    }

    /// What it watches: care settings and codes Sentinel knows.
    fn check_scope(&self, problems: &mut Problems) {
        // A rule naming a setting no device can be registered in would never fire.
        let settings = &self.applies_to.care_settings;
        if let Some(unknown) = settings
            .iter()
            .find(|s| !care::SETTINGS.contains(&s.as_str()))
        {
            problems.add(
                "applies_to.care_settings",
                format!(
                    "`{unknown}` is not a care setting: must be one of {}",
                    care::SETTINGS.join(", ")
                ),
            );
        }
        let codes = &self.applies_to.codes;
        let needs_codes = !matches!(self.logic, Logic::Silence { .. } | Logic::News2 { .. });
        if needs_codes && codes.is_empty() {
            problems.add(
                "applies_to.codes",
                "name at least one code this rule watches",
            );
        }
        for code in codes {
            if catalogue::measure(code).is_none() && !catalogue::is_event(code) {
                problems.add(
                    "applies_to.codes",
                    format!("`{code}` is not a code Sentinel knows"),
                );
            }
        }
    }

    /// A watched code compared in a unit other than its canonical one, if any.
    fn unit_problem(&self, unit: &str) -> Option<String> {
        self.applies_to.codes.iter().find_map(|code| {
            let measure = catalogue::measure(code)?;
            (measure.canonical_unit != unit).then(|| {
                format!(
                    "{code} is compared in {}, its canonical unit, not `{unit}`",
                    measure.canonical_unit
                )
            })
        })
    }

    /// Its logic, with each problem named by the field of `logic` that has it.
    fn check_logic(&self, problems: &mut Problems) {
        if let Logic::Threshold { unit, .. } | Logic::Change { unit, .. } | Logic::Rate { unit, .. } =
            &self.logic
            && let Some(rule) = self.unit_problem(unit)
        {
            problems.add("logic.unit", rule);
        }
        match &self.logic {
            Logic::Threshold { .. } => {
                for (field, rule) in self.threshold().map(|t| t.problems()).unwrap_or_default() {
                    let field = format!("logic.{}", field.trim_start_matches("threshold."));
                    problems.add(&field, rule);
                }
            }
            Logic::Change { .. } => {
                for (field, rule) in self.change().map(|c| c.problems()).unwrap_or_default() {
                    let field = match field {
                        "change.window" => "logic.window_minutes",
                        _ => "logic.by",
                    };
                    problems.add(field, rule);
                }
            }
            Logic::Rate { .. } => {
                for (field, rule) in self.rate().map(|r| r.problems()).unwrap_or_default() {
                    let field = format!("logic.{}", field.trim_start_matches("rate."))
                        .replace("logic.window", "logic.window_minutes");
                    problems.add(&field, rule);
                }
            }
            Logic::Event => {
                if self
                    .applies_to
                    .codes
                    .iter()
                    .any(|c| !catalogue::is_event(c))
                {
                    problems.add("applies_to.codes", "an event rule watches event codes only");
                }
            }
            Logic::Silence { factor } => {
                if *factor == 0 {
                    problems.add("logic.factor", "must be greater than 0");
                }
            }
            Logic::News2 { window_minutes, .. } => {
                if *window_minutes == 0 {
                    problems.add("logic.window_minutes", "must be greater than 0");
                }
            }
        }
    }
}

/// Problems found so far, as (field, rule), in the order they were found.
#[derive(Debug, Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: &str, rule: impl Into<String>) {
        self.0.push((field.to_owned(), rule.into()));
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Library {
    rule: Vec<RuleDefinition>,
}

/// The built-in rule library, shipped as data (`services/rules/library/builtin.toml`).
pub fn builtin() -> Result<Vec<RuleDefinition>, toml::de::Error> {
    Ok(toml::from_str::<Library>(include_str!("../../library/builtin.toml"))?.rule)
}

#[cfg(test)]
mod tests;
