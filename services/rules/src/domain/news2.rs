//! NEWS2, the National Early Warning Score 2 (Royal College of Physicians, London, 2017):
//! seven parameters scored 0–3 by the published chart, summed, and read as a clinical risk
//! band. A score is only given from fresh inputs: a parameter missing or older than the window
//! makes the score incomplete, naming what is missing.

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

/// Scores `vitals` at `now`, accepting only values observed within `window` µs before it.
pub fn score(vitals: &Vitals, scale: SpO2Scale, now: i64, window: i64) -> Outcome {
    fn fresh<T: Copy>(v: Option<Timed<T>>, now: i64, window: i64) -> Option<T> {
        v.filter(|t| t.at <= now && now - t.at <= window)
            .map(|t| t.value)
    }
    let rr = fresh(vitals.respiration_rate, now, window);
    let sat = fresh(vitals.spo2, now, window);
    let oxygen = fresh(vitals.on_oxygen, now, window);
    let sbp = fresh(vitals.systolic, now, window);
    let hr = fresh(vitals.pulse, now, window);
    let acvpu = fresh(vitals.consciousness, now, window);
    let temp = fresh(vitals.temperature, now, window);
    let mut missing = Vec::new();
    for (name, present) in [
        ("respiration_rate", rr.is_some()),
        ("spo2", sat.is_some()),
        ("air_or_oxygen", oxygen.is_some()),
        ("systolic_blood_pressure", sbp.is_some()),
        ("pulse", hr.is_some()),
        ("consciousness", acvpu.is_some()),
        ("temperature", temp.is_some()),
    ] {
        if !present {
            missing.push(name);
        }
    }
    let (Some(rr), Some(sat), Some(oxygen), Some(sbp), Some(hr), Some(acvpu), Some(temp)) =
        (rr, sat, oxygen, sbp, hr, acvpu, temp)
    else {
        return Outcome::Incomplete { missing };
    };
    let parts = vec![
        ("respiration_rate", respiration(rr)),
        ("spo2", spo2(sat, scale, oxygen)),
        ("air_or_oxygen", if oxygen { 2 } else { 0 }),
        ("systolic_blood_pressure", systolic(sbp)),
        ("pulse", pulse(hr)),
        (
            "consciousness",
            if acvpu == Consciousness::Alert { 0 } else { 3 },
        ),
        ("temperature", temperature(temp)),
    ];
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
