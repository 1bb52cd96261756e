//! The kinds of rule logic, as plain state machines over samples of one patient's one
//! measurement: each sample in, at most one decision out — raise, clear, or why nothing was
//! raised (a suppression, recorded so any silence is explainable).

use std::collections::VecDeque;

/// One value of a measurement, in its canonical unit, with the reading it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// µs since the epoch (observed_at).
    pub at: i64,
    pub value: f64,
    pub reading_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    Below,
    AtOrBelow,
    Above,
    AtOrAbove,
}

impl Comparison {
    fn holds(self, value: f64, level: f64) -> bool {
        match self {
            Comparison::Below => value < level,
            Comparison::AtOrBelow => value <= level,
            Comparison::Above => value > level,
            Comparison::AtOrAbove => value >= level,
        }
    }

    fn is_low(self) -> bool {
        matches!(self, Comparison::Below | Comparison::AtOrBelow)
    }
}

/// How long a condition must hold before it raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    Immediate,
    Seconds(u32),
    Readings(u32),
}

/// What a sample decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The condition is met: raise (or keep) the alert; the readings that caused it.
    Raise { readings: Vec<String> },
    /// The condition no longer holds (past the clearing level).
    Clear,
    /// The condition holds but persistence is not yet met: recorded, not raised.
    Pending { since: i64, readings: u32 },
    /// Nothing to do.
    Quiet,
}

/// Threshold with persistence and a separate clearing level (hysteresis): raises once
/// `comparison(value, trigger)` has held for the persistence; once raised, clears only when the
/// value is back past `clear`, so a value wavering at the trigger does not flap.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub comparison: Comparison,
    pub trigger: f64,
    pub clear: f64,
    pub persistence: Persistence,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThresholdState {
    pub raised: bool,
    /// Readings in the current breach, oldest first.
    breach: Vec<(i64, String)>,
}

impl ThresholdState {
    /// The state of a rule whose alert is open (after a restart, from the stored alerts).
    pub fn already_raised() -> Self {
        ThresholdState {
            raised: true,
            breach: Vec::new(),
        }
    }
}

impl Threshold {
    /// Why the rule cannot be evaluated, as (field, rule).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !self.trigger.is_finite() || !self.clear.is_finite() {
            problems.push(("threshold.trigger", "must be a finite number".to_owned()));
        }
        let wrong_side = if self.comparison.is_low() {
            self.clear < self.trigger
        } else {
            self.clear > self.trigger
        };
        if wrong_side {
            problems.push((
                "threshold.clear",
                "must lie on the normal side of the trigger (hysteresis)".to_owned(),
            ));
        }
        if matches!(
            self.persistence,
            Persistence::Seconds(0) | Persistence::Readings(0)
        ) {
            problems.push(("threshold.persistence", "must be greater than 0".to_owned()));
        }
        problems
    }

    pub fn step(&self, state: &mut ThresholdState, sample: &Sample) -> Decision {
        let breached = self.comparison.holds(sample.value, self.trigger);
        if state.raised {
            // Cleared only past the clearing level, not merely back over the trigger.
            let cleared = if self.comparison.is_low() {
                sample.value >= self.clear
            } else {
                sample.value <= self.clear
            };
            if cleared {
                state.raised = false;
                state.breach.clear();
                return Decision::Clear;
            }
            if breached {
                state.breach.push((sample.at, sample.reading_id.clone()));
                return Decision::Raise {
                    readings: vec![sample.reading_id.clone()],
                };
            }
            return Decision::Quiet;
        }
        if !breached {
            state.breach.clear();
            return Decision::Quiet;
        }
        state.breach.push((sample.at, sample.reading_id.clone()));
        let since = state.breach[0].0;
        let count = state.breach.len() as u32;
        let met = match self.persistence {
            Persistence::Immediate => true,
            Persistence::Seconds(s) => sample.at - since >= i64::from(s) * 1_000_000,
            Persistence::Readings(n) => count >= n,
        };
        if met {
            state.raised = true;
            Decision::Raise {
                readings: state.breach.iter().map(|(_, id)| id.clone()).collect(),
            }
        } else {
            Decision::Pending {
                since,
                readings: count,
            }
        }
    }
}

/// Slack for amounts computed from decimal readings: 37.8 − 36.8 is 0.9999999999999964 in
/// binary floating point, and a rise of exactly the rule's amount must meet it.
const ROUNDING: f64 = 1e-9;

/// A change over a window: a rise or fall of at least `by` (canonical unit) from the window's
/// lowest (rise) or highest (fall) value to the latest — "temperature up by ≥ 1.0 °C within 4 h",
/// "weight up by > 2.3 kg in 7 days".
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub rising: bool,
    pub by: f64,
    /// µs.
    pub window: i64,
}

/// A rate over a window, per minute, by least squares over the window's samples: "glucose
/// falling faster than 2 mg/dL/min" is `per_minute: -2.0`, falling.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub per_minute: f64,
    /// µs.
    pub window: i64,
    /// Samples needed in the window before a rate is trusted.
    pub min_samples: u32,
}

/// The samples of the last window, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    samples: VecDeque<Sample>,
}

impl Window {
    fn push(&mut self, sample: &Sample, width: i64) {
        // Late samples are placed in time order; the window is what was observed, not received.
        let at = self.samples.partition_point(|s| s.at <= sample.at);
        self.samples.insert(at, sample.clone());
        let newest = self.samples.back().map_or(sample.at, |s| s.at);
        while self.samples.front().is_some_and(|s| newest - s.at > width) {
            self.samples.pop_front();
        }
    }
}

impl Change {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.window <= 0 {
            problems.push(("change.window", "must be greater than 0".to_owned()));
        }
        if !(self.by.is_finite() && self.by > 0.0) {
            problems.push(("change.by", "must be a positive amount".to_owned()));
        }
        problems
    }

    pub fn step(&self, window: &mut Window, sample: &Sample) -> Decision {
        window.push(sample, self.window);
        let latest = window
            .samples
            .back()
            .cloned()
            .unwrap_or_else(|| sample.clone());
        let extreme = window
            .samples
            .iter()
            .min_by(|a, b| {
                let order = a.value.total_cmp(&b.value);
                if self.rising { order } else { order.reverse() }
            })
            .cloned()
            .unwrap_or_else(|| sample.clone());
        let change = latest.value - extreme.value;
        let met = if self.rising {
            change >= self.by - ROUNDING
        } else {
            -change >= self.by - ROUNDING
        };
        if met && extreme.at < latest.at {
            Decision::Raise {
                readings: vec![extreme.reading_id, latest.reading_id],
            }
        } else {
            Decision::Clear
        }
    }
}

impl Rate {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.window <= 0 {
            problems.push(("rate.window", "must be greater than 0".to_owned()));
        }
        if !self.per_minute.is_finite() || self.per_minute == 0.0 {
            problems.push(("rate.per_minute", "must be a non-zero rate".to_owned()));
        }
        if self.min_samples < 2 {
            problems.push((
                "rate.min_samples",
                "at least 2 samples make a rate".to_owned(),
            ));
        }
        problems
    }

    /// The least-squares slope of the window, per minute.
    fn slope(samples: &VecDeque<Sample>) -> Option<f64> {
        let n = samples.len() as f64;
        let t0 = samples.front()?.at;
        let xs: Vec<f64> = samples.iter().map(|s| (s.at - t0) as f64 / 60e6).collect();
        let mean_x = xs.iter().sum::<f64>() / n;
        let mean_y = samples.iter().map(|s| s.value).sum::<f64>() / n;
        let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
        if sxx == 0.0 {
            return None;
        }
        let sxy: f64 = xs
            .iter()
            .zip(samples)
            .map(|(x, s)| (x - mean_x) * (s.value - mean_y))
            .sum();
        Some(sxy / sxx)
    }

    pub fn step(&self, window: &mut Window, sample: &Sample) -> Decision {
        window.push(sample, self.window);
        if (window.samples.len() as u32) < self.min_samples {
            return Decision::Pending {
                since: window.samples.front().map_or(sample.at, |s| s.at),
                readings: window.samples.len() as u32,
            };
        }
        let Some(slope) = Self::slope(&window.samples) else {
            return Decision::Quiet;
        };
        let met = if self.per_minute < 0.0 {
            slope <= self.per_minute + ROUNDING
        } else {
            slope >= self.per_minute - ROUNDING
        };
        if met {
            Decision::Raise {
                readings: window
                    .samples
                    .iter()
                    .map(|s| s.reading_id.clone())
                    .collect(),
            }
        } else {
            Decision::Clear
        }
    }
}

/// Device silence: nothing received within `factor` × the device's expected interval.
pub fn silent(last_reading_at: i64, expected_interval_s: u32, factor: u32, now: i64) -> bool {
    now - last_reading_at > i64::from(expected_interval_s) * i64::from(factor) * 1_000_000
}

#[cfg(test)]
mod tests;
