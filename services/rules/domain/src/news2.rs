//! NEWS2, the National Early Warning Score 2 (Royal College of Physicians, London, 2017):
//! seven parameters scored 0–3 by the published chart, summed, and read as a clinical risk
//! band. A score is only given from fresh inputs: a parameter missing or older than the window
//! makes the score incomplete, naming what is missing.

/// The codes NEWS2 reads its inputs from: respiration rate, SpO2 (two codes), inhaled oxygen,
/// the blood-pressure panel (for its systolic component), pulse, ACVPU events, temperature.
pub const INPUT_CODES: &[&str] = &[
    "9279-1",
    "59408-5",
    "2708-6",
    "3151-8",
    "85354-9",
    "8867-4",
    "consciousness-alert",
    "consciousness-new-confusion",
    "consciousness-voice",
    "consciousness-pain",
    "consciousness-unresponsive",
    "8310-5",
];

/// A measured value and when it was observed (µs since the epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timed<T> {
    pub value: T,
    pub at: i64,
}

/// ACVPU: alert, or new confusion / responds to voice / to pain / unresponsive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consciousness {
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

/// Which SpO2 scale the patient is on: scale 2 only for those a clinician has put on it
/// (hypercapnic respiratory failure, target 88–92 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpO2Scale {
    #[default]
    One,
    Two,
}

/// The latest value of each parameter, as known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vitals {
    pub respiration_rate: Option<Timed<f64>>,
    pub spo2: Option<Timed<f64>>,
    /// Whether the patient is on supplemental oxygen.
    pub on_oxygen: Option<Timed<bool>>,
    pub systolic: Option<Timed<f64>>,
    pub pulse: Option<Timed<f64>>,
    pub consciousness: Option<Timed<Consciousness>>,
    pub temperature: Option<Timed<f64>>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    Low,
    /// A score of 3 in any single parameter (total below 5): an urgent ward-based response.
    LowMedium,
    Medium,
    High,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub total: u8,
    /// Each parameter's name and its score, in chart order.
    pub parts: Vec<(&'static str, u8)>,
    pub risk: Risk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Complete(Score),
    /// Parameters missing, or older than the window: no score.
    Incomplete {
        missing: Vec<&'static str>,
    },
}

fn respiration(rate: f64) -> u8 {
    match rate.round() as i64 {
        ..=8 => 3,
        9..=11 => 1,
        12..=20 => 0,
        21..=24 => 2,
        _ => 3,
    }
}

fn spo2(saturation: f64, scale: SpO2Scale, on_oxygen: bool) -> u8 {
    let s = saturation.round() as i64;
    match scale {
        SpO2Scale::One => match s {
            ..=91 => 3,
            92..=93 => 2,
            94..=95 => 1,
            _ => 0,
        },
        SpO2Scale::Two => match (s, on_oxygen) {
            (..=83, _) => 3,
            (84..=85, _) => 2,
            (86..=87, _) => 1,
            (88..=92, _) | (93.., false) => 0,
            (93..=94, true) => 1,
            (95..=96, true) => 2,
            (_, true) => 3,
        },
    }
}

fn systolic(pressure: f64) -> u8 {
    match pressure.round() as i64 {
        ..=90 => 3,
        91..=100 => 2,
        101..=110 => 1,
        111..=219 => 0,
        _ => 3,
    }
}

fn pulse(rate: f64) -> u8 {
    match rate.round() as i64 {
        ..=40 => 3,
        41..=50 => 1,
        51..=90 => 0,
        91..=110 => 1,
        111..=130 => 2,
        _ => 3,
    }
}

/// Temperature is charted to one decimal.
fn temperature(celsius: f64) -> u8 {
    let tenths = (celsius * 10.0).round() as i64;
    match tenths {
        ..=350 => 3,
        351..=360 => 1,
        361..=380 => 0,
        381..=390 => 1,
        _ => 2,
    }
}

/// Each parameter's points in chart order, `None` where the vital is missing or older than
/// `window` µs before `now` (on scale 2 SpO2 also needs to know air or oxygen).
pub fn parameters(
    vitals: &Vitals,
    scale: SpO2Scale,
    now: i64,
    window: i64,
) -> Vec<(&'static str, Option<u8>)> {
    fn fresh<T: Copy>(v: Option<Timed<T>>, now: i64, window: i64) -> Option<T> {
        v.filter(|t| t.at <= now && now - t.at <= window)
            .map(|t| t.value)
    }
    let oxygen = fresh(vitals.on_oxygen, now, window);
    let saturation = fresh(vitals.spo2, now, window).and_then(|sat| match scale {
        SpO2Scale::One => Some(spo2(sat, scale, false)),
        SpO2Scale::Two => oxygen.map(|on| spo2(sat, scale, on)),
    });
    vec![
        (
            "respiration_rate",
            fresh(vitals.respiration_rate, now, window).map(respiration),
        ),
        ("spo2", saturation),
        ("air_or_oxygen", oxygen.map(|on| if on { 2 } else { 0 })),
        (
            "systolic_blood_pressure",
            fresh(vitals.systolic, now, window).map(systolic),
        ),
        ("pulse", fresh(vitals.pulse, now, window).map(pulse)),
        (
            "consciousness",
            fresh(vitals.consciousness, now, window)
                .map(|c| if c == Consciousness::Alert { 0 } else { 3 }),
        ),
        (
            "temperature",
            fresh(vitals.temperature, now, window).map(temperature),
        ),
    ]
}

/// Scores `vitals` at `now`, accepting only values observed within `window` µs before it.
pub fn score(vitals: &Vitals, scale: SpO2Scale, now: i64, window: i64) -> Outcome {
    let all = parameters(vitals, scale, now, window);
    let missing: Vec<&'static str> = all
        .iter()
        .filter(|(_, points)| points.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        return Outcome::Incomplete { missing };
    }
    let parts: Vec<(&'static str, u8)> = all
        .into_iter()
        .filter_map(|(name, points)| Some((name, points?)))
        .collect();
    let total: u8 = parts.iter().map(|(_, s)| s).sum();
    let risk = match total {
        7.. => Risk::High,
        5..=6 => Risk::Medium,
        _ if parts.iter().any(|(_, s)| *s == 3) => Risk::LowMedium,
        _ => Risk::Low,
    };
    Outcome::Complete(Score { total, parts, risk })
}

#[cfg(test)]
mod tests;
