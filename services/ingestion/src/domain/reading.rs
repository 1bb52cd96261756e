//! A submitted reading, checked field by field and normalised to its code's canonical unit,
//! keeping the value and unit the device sent beside it.

use sentinel_platform::FieldViolation;

use super::{
    attributes, attribution,
    catalogue::{self, DIASTOLIC, EVENTS, Kind, LOINC, MEAN_ARTERIAL, Measure, Part, SYSTOLIC},
};

/// A quantity: a value in a UCUM unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub unit: String,
}

/// A reading as submitted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadingInput {
    pub device_id: String,
    pub sequence: String,
    /// µs since the epoch, UTC; `None` when missing.
    pub observed_at: Option<i64>,
    pub system: String,
    pub code: String,
    pub value: Option<Quantity>,
    /// (code, value) of each component.
    pub components: Vec<(String, Option<Quantity>)>,
    pub flags: Vec<String>,
    pub data_absent_reason: String,
    /// (name, value): body site, specimen, device user.
    pub attributes: Vec<(String, String)>,
}

/// A value in the canonical unit, with what the device sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    pub canonical: Quantity,
    pub original: Quantity,
}

/// A reading that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedReading {
    pub device_id: String,
    pub sequence: String,
    pub observed_at: i64,
    pub system: String,
    pub code: String,
    pub value: Option<Normalised>,
    pub components: Vec<(String, Normalised)>,
    pub flags: Vec<String>,
    pub data_absent_reason: String,
    pub attributes: Vec<(String, String)>,
}

/// Whom a stored reading was put on, or why on nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributed {
    Patient,
    DeviceUnbound,
    UserNotBound,
    UserUnknown,
    NoUser,
    ControlSolution,
}

impl Attributed {
    /// The patient of `attribution` (a binding's patient) and how the reading was attributed.
    pub fn of(attribution: attribution::Attribution<&str>) -> (Option<&str>, Attributed) {
        use attribution::Attribution as A;
        match attribution {
            A::Bound(patient) => (Some(patient), Attributed::Patient),
            A::Unbound => (None, Attributed::DeviceUnbound),
            A::UserNotBound => (None, Attributed::UserNotBound),
            A::UserUnknown => (None, Attributed::UserUnknown),
            A::NoUser => (None, Attributed::NoUser),
        }
    }
}

/// A reading as stored: checked, normalised, placed in the log and attributed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReading {
    pub id: String,
    /// Its place in the followable log.
    pub position: u64,
    pub reading: CheckedReading,
    pub received_at: i64,
    /// The patient bound to the device at `observed_at`; `None` when bound to nobody.
    pub patient: Option<String>,
    pub batch_id: String,
}

/// How far in the future (device clock ahead) and how far in the past (backfill) an
/// observation time may be, in µs.
#[derive(Debug, Clone, Copy)]
pub struct TimeWindow {
    pub now: i64,
    pub max_future: i64,
    pub max_past: i64,
}

/// FHIR's data-absent-reason codes.
pub const DATA_ABSENT_REASONS: &[&str] = &[
    "unknown",
    "asked-unknown",
    "temp-unknown",
    "not-asked",
    "asked-declined",
    "masked",
    "not-applicable",
    "unsupported",
    "as-text",
    "error",
    "not-a-number",
    "negative-infinity",
    "positive-infinity",
    "not-performed",
    "not-permitted",
];

fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks a quantity against `measure` and converts it.
fn normalise(
    field: &str,
    quantity: Option<&Quantity>,
    measure: &Measure,
    violations: &mut Vec<FieldViolation>,
) -> Option<Normalised> {
    let Some(quantity) = quantity else {
        violations.push(FieldViolation::new(
            field,
            format!(
                "is required for {} (or set data_absent_reason)",
                measure.code
            ),
        ));
        return None;
    };
    if !quantity.value.is_finite() {
        violations.push(FieldViolation::new(
            format!("{field}.value"),
            "must be a finite number: a device's NaN or NRes goes in data_absent_reason",
        ));
        return None;
    }
    let Some(conversion) = measure.conversion(&quantity.unit) else {
        violations.push(FieldViolation::new(
            format!("{field}.unit"),
            format!(
                "`{}` does not fit {} ({}): use one of {}",
                quantity.unit,
                measure.code,
                measure.display,
                measure.accepted_units()
            ),
        ));
        return None;
    };
    let canonical = conversion.apply(quantity.value);
    let (low, high) = measure.plausible;
    if !(low..=high).contains(&canonical) {
        violations.push(FieldViolation::new(
            format!("{field}.value"),
            format!(
                "{canonical:.2} {} is not physiologically plausible for {}: expected {low} to {high}",
                measure.canonical_unit, measure.display
            ),
        ));
        return None;
    }
    Some(Normalised {
        canonical: Quantity {
            value: canonical,
            unit: measure.canonical_unit.to_owned(),
        },
        original: quantity.clone(),
    })
}

/// A measurement as checked: its canonical value, or its canonical components.
type Measured = (Option<Normalised>, Vec<(String, Normalised)>);

impl ReadingInput {
    /// Checks every field; on success the reading normalised to its canonical unit.
    pub fn check(&self, window: TimeWindow) -> Result<CheckedReading, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        self.check_identity(&mut violations);
        self.check_time(window, &mut violations);
        self.check_flags(&mut violations);
        self.check_attributes(&mut violations);
        let (value, components) = self.check_measurement(&mut violations);
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(CheckedReading {
            device_id: self.device_id.clone(),
            sequence: self.sequence.clone(),
            observed_at: self.observed_at.unwrap_or_default(),
            system: self.system.clone(),
            code: self.code.clone(),
            value,
            components,
            flags: self.flags.clone(),
            data_absent_reason: self.data_absent_reason.clone(),
            attributes: self.attributes.clone(),
        })
    }

    /// Which device sent it, and its place in the device's sequence.
    fn check_identity(&self, violations: &mut Vec<FieldViolation>) {
        if self.device_id.is_empty() {
            violations.push(FieldViolation::new("device_id", "must not be empty"));
        }
        let sequence = &self.sequence;
        if sequence.is_empty() || sequence.len() > 128 || sequence.chars().any(char::is_control) {
            violations.push(FieldViolation::new(
                "sequence",
                "must be 1 to 128 printable characters",
            ));
        }
    }

    /// When it was observed: given, not beyond the clock-skew allowance, within the backfill
    /// window.
    fn check_time(&self, window: TimeWindow, violations: &mut Vec<FieldViolation>) {
        let rule = match self.observed_at {
            None => "is required".to_owned(),
            Some(at) if at > window.now + window.max_future => format!(
                "is {} s in the future, more than the {} s allowed for clock skew",
                (at - window.now) / 1_000_000,
                window.max_future / 1_000_000
            ),
            Some(at) if at < window.now - window.max_past => format!(
                "is older than the {} h backfill window",
                window.max_past / 3_600_000_000
            ),
            Some(_) => return,
        };
        violations.push(FieldViolation::new("observed_at", rule));
    }

    /// Its flags, and why a value is absent.
    fn check_flags(&self, violations: &mut Vec<FieldViolation>) {
        if self.flags.len() > 16 || self.flags.iter().any(|f| !is_code(f)) {
            violations.push(FieldViolation::new(
                "flags",
                "at most 16 lowercase codes such as device-clock-not-set",
            ));
        }
        if self.absent() && !DATA_ABSENT_REASONS.contains(&self.data_absent_reason.as_str()) {
            violations.push(FieldViolation::new(
                "data_absent_reason",
                format!("must be one of {}", DATA_ABSENT_REASONS.join(", ")),
            ));
        }
    }

    /// Its attributes: known names, each once, with values of their vocabulary.
    fn check_attributes(&self, violations: &mut Vec<FieldViolation>) {
        if self.attributes.len() > attributes::MAX {
            violations.push(FieldViolation::new(
                "attributes",
                format!("at most {} attributes", attributes::MAX),
            ));
            return;
        }
        for (i, (name, value)) in self.attributes.iter().enumerate() {
            let field = format!("attributes[{i}]");
            if self.attributes[..i].iter().any(|(n, _)| n == name) {
                violations.push(FieldViolation::new(
                    field,
                    format!("`{name}` is given twice"),
                ));
            } else if let Err(rule) = attributes::check(name, value) {
                violations.push(FieldViolation::new(field, rule));
            }
        }
    }

    fn absent(&self) -> bool {
        !self.data_absent_reason.is_empty()
    }

    /// What it measured, by kind: an event carries nothing, a scalar its value, a panel its
    /// components, each normalised to its canonical unit.
    fn check_measurement(&self, violations: &mut Vec<FieldViolation>) -> Measured {
        match catalogue::lookup(&self.system, &self.code) {
            None => {
                violations.push(FieldViolation::new(
                    "code",
                    format!(
                        "`{}` in `{}` is not a known measurement: LOINC ({LOINC}) {} or events ({EVENTS})",
                        self.code,
                        self.system,
                        catalogue::codes().collect::<Vec<_>>().join(", ")
                    ),
                ));
                (None, Vec::new())
            }
            Some(Kind::Event { .. }) => {
                if self.value.is_some() || !self.components.is_empty() {
                    violations.push(FieldViolation::new("value", "an event carries no value"));
                }
                (None, Vec::new())
            }
            Some(Kind::Scalar(measure, parts)) => (
                self.check_scalar(&measure, violations),
                self.check_parts(measure.code, parts, violations),
            ),
            Some(Kind::Panel {
                code,
                components: parts,
                ..
            }) => {
                if self.value.is_some() {
                    violations.push(FieldViolation::new(
                        "value",
                        format!("{code} is a panel: send its components"),
                    ));
                }
                let components = if self.absent() {
                    Vec::new()
                } else {
                    self.check_parts(code, parts, violations)
                };
                (None, components)
            }
        }
    }

    fn check_scalar(
        &self,
        measure: &Measure,
        violations: &mut Vec<FieldViolation>,
    ) -> Option<Normalised> {
        if !self.absent() {
            return normalise("value", self.value.as_ref(), measure, violations);
        }
        if self.value.is_some() {
            violations.push(FieldViolation::new(
                "value",
                "must be unset when data_absent_reason is set",
            ));
        }
        None
    }

    /// The components of `code`: each known to it, given no more often than it allows (once,
    /// for a panel's parts), the required ones present, each normalised; in the order of the
    /// definition. A blood pressure's parts must agree with one another.
    fn check_parts(
        &self,
        code: &str,
        parts: &[Part],
        violations: &mut Vec<FieldViolation>,
    ) -> Vec<(String, Normalised)> {
        let most: usize = parts.iter().map(|p| p.max).sum();
        if self.components.len() > most {
            let rule = match most {
                0 => format!("{code} has no components"),
                _ => format!("{} given: {code} has at most {most}", self.components.len()),
            };
            violations.push(FieldViolation::new("components", rule));
            return Vec::new();
        }
        for (other, _) in &self.components {
            if !parts.iter().any(|p| p.measure.code == other) {
                violations.push(FieldViolation::new(
                    "components",
                    format!("`{other}` is not a component of {code}"),
                ));
            }
        }
        let mut components = Vec::new();
        for part in parts {
            let field = format!("components[{}]", part.measure.code);
            let given: Vec<_> = self
                .components
                .iter()
                .filter(|(c, _)| c == part.measure.code)
                .collect();
            if given.is_empty() && part.required {
                violations.push(FieldViolation::new(field, "is required"));
            } else if given.len() > part.max {
                let rule = match part.max {
                    1 => format!("is given {} times: a reading carries it once", given.len()),
                    max => format!("is given {} times: at most {max}", given.len()),
                };
                violations.push(FieldViolation::new(field, rule));
            } else {
                for (c, quantity) in given {
                    if let Some(n) = normalise(&field, quantity.as_ref(), &part.measure, violations)
                    {
                        components.push((c.clone(), n));
                    }
                }
            }
        }
        check_blood_pressure(&components, violations);
        components
    }
}

/// Systolic above diastolic, and a mean arterial pressure between them.
fn check_blood_pressure(components: &[(String, Normalised)], violations: &mut Vec<FieldViolation>) {
    let value = |measure: &Measure| {
        components
            .iter()
            .find(|(c, _)| c == measure.code)
            .map(|(_, n)| n.canonical.value)
    };
    let (Some(systolic), Some(diastolic)) = (value(&SYSTOLIC), value(&DIASTOLIC)) else {
        return;
    };
    if systolic <= diastolic {
        violations.push(FieldViolation::new(
            "components",
            "systolic must be above diastolic",
        ));
    } else if let Some(mean) = value(&MEAN_ARTERIAL)
        && !(diastolic..=systolic).contains(&mean)
    {
        violations.push(FieldViolation::new(
            format!("components[{}]", MEAN_ARTERIAL.code),
            "a mean arterial pressure lies between diastolic and systolic",
        ));
    }
}

#[cfg(test)]
mod tests;
