//! The NEWS2 calls: a clinician's SpO2 scale for a patient, and a patient's score now.

use sentinel_contract::rules::v1 as pb;
use sentinel_platform::{ServiceError, time::to_timestamp};

use super::{convert, required};
use crate::{
    domain::news2::{self, Consciousness, SpO2Scale, Timed, Vitals},
    review::News2Now,
};

/// NEWS2 window when the request names none: the built-in NEWS2 rules'.
const DEFAULT_WINDOW_MINUTES: u32 = 240;
const MAX_WINDOW_MINUTES: u32 = 1_440;

pub fn scale(scale: SpO2Scale) -> pb::SpO2Scale {
    match scale {
        SpO2Scale::One => pb::SpO2Scale::Spo2Scale1,
        SpO2Scale::Two => pb::SpO2Scale::Spo2Scale2,
    }
}

pub fn scale_request(
    request: &pb::SetSpO2ScaleRequest,
) -> Result<(String, SpO2Scale), ServiceError> {
    let patient = request
        .patient
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_default();
    required("patient", &patient)?;
    let chosen = match request.scale() {
        pb::SpO2Scale::Spo2Scale1 => SpO2Scale::One,
        pb::SpO2Scale::Spo2Scale2 => SpO2Scale::Two,
        pb::SpO2Scale::Spo2ScaleUnspecified => {
            return Err(ServiceError::field(
                "scale",
                "must be SPO2_SCALE_1 or SPO2_SCALE_2",
            ));
        }
    };
    required("reason", request.reason.trim())?;
    Ok((patient, chosen))
}

pub fn setting(setting: &crate::storage::scales::ScaleSetting) -> pb::SpO2ScaleSetting {
    pb::SpO2ScaleSetting {
        patient: convert::patient_ref(&setting.patient),
        scale: scale(setting.scale).into(),
        set_by: setting.set_by.clone(),
        set_at: Some(to_timestamp(setting.set_at)),
        reason: setting.reason.clone(),
    }
}

/// Each vital's value as the contract states it, with when it was observed.
fn values(vitals: &Vitals) -> Vec<(&'static str, Option<Timed<f64>>)> {
    let level = |c: Consciousness| match c {
        Consciousness::Alert => 0.0,
        Consciousness::NewConfusion => 1.0,
        Consciousness::Voice => 2.0,
        Consciousness::Pain => 3.0,
        Consciousness::Unresponsive => 4.0,
    };
    let map = |t: Option<Timed<bool>>| {
        t.map(|t| Timed {
            value: if t.value { 1.0 } else { 0.0 },
            at: t.at,
        })
    };
    vec![
        ("respiration_rate", vitals.respiration_rate),
        ("spo2", vitals.spo2),
        ("air_or_oxygen", map(vitals.on_oxygen)),
        ("systolic_blood_pressure", vitals.systolic),
        ("pulse", vitals.pulse),
        (
            "consciousness",
            vitals.consciousness.map(|t| Timed {
                value: level(t.value),
                at: t.at,
            }),
        ),
        ("temperature", vitals.temperature),
    ]
}

/// The minutes a `ScoreNews2` request looks back, as µs.
pub fn window(request: &pb::ScoreNews2Request) -> Result<i64, ServiceError> {
    let minutes = match request.window_minutes {
        0 => DEFAULT_WINDOW_MINUTES,
        m if m > MAX_WINDOW_MINUTES => {
            return Err(ServiceError::field(
                "window_minutes",
                format!("must be at most {MAX_WINDOW_MINUTES}"),
            ));
        }
        m => m,
    };
    Ok(i64::from(minutes) * 60_000_000)
}

/// The patient's NEWS2 now as the contract states it: each parameter within the window with
/// its points and reading, then the total and risk, or what is missing.
pub fn score(now: &News2Now) -> pb::News2Score {
    let News2Now {
        inputs,
        scale: on,
        now: at,
        window,
        ..
    } = now;
    let (at, window) = (*at, *window);
    let points = news2::parameters(&inputs.vitals, *on, at, window);
    let parameters = values(&inputs.vitals)
        .into_iter()
        .zip(&points)
        .filter_map(|((name, value), (_, points))| {
            let value = value.filter(|v| v.at <= at && at - v.at <= window)?;
            Some(pb::News2Parameter {
                name: name.to_owned(),
                value: value.value,
                points: points.map_or(0, u32::from),
                reading_id: inputs.readings.get(name).cloned().unwrap_or_default(),
                observed_at: Some(to_timestamp(value.at)),
            })
        })
        .collect();
    let mut answer = pb::News2Score {
        patient: convert::patient_ref(&now.patient),
        scale: scale(*on).into(),
        parameters,
        scored_at: Some(to_timestamp(at)),
        ..Default::default()
    };
    match news2::score(&inputs.vitals, *on, at, window) {
        news2::Outcome::Complete(score) => {
            answer.complete = true;
            answer.total = u32::from(score.total);
            answer.risk = convert::risk(score.risk).into();
        }
        news2::Outcome::Incomplete { missing } => {
            answer.missing = missing.into_iter().map(str::to_owned).collect();
        }
    }
    answer
}
