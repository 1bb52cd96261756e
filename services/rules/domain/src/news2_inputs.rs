//! NEWS2 input gathering: from a patient's readings, the latest value of each of the seven
//! NEWS2 parameters and the reading it came from. Live evaluation, backtests and `ScoreNews2`
//! gather through this one place, then score with [`crate::news2::score`].

use std::collections::HashMap;

use super::{
    engine::Observed,
    news2::{Consciousness, Timed, Vitals},
};

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
