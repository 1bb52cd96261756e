//! Steps of NEWS2: a patient's score now, and the SpO2 scale a clinician puts them on.

use cucumber::{then, when};
use sentinel_contract::rules::v1 as pb;
use sentinel_testkit::registry::patient;

use super::rules::client;
use crate::world::SuiteWorld;

async fn news2(world: &mut SuiteWorld, patient_ref: &str) -> pb::News2Score {
    // Scored from stored readings: no need to wait for the evaluator.
    let mut rules = client(world, &world.rules.clinician).await;
    rules
        .score_news2(pb::ScoreNews2Request {
            patient: patient(patient_ref),
            window_minutes: 0,
        })
        .await
        .expect("a NEWS2 answer")
        .into_inner()
}

async fn set_scale(
    world: &SuiteWorld,
    who: &str,
    patient_ref: &str,
    scale: u8,
    reason: String,
) -> Result<pb::SpO2ScaleSetting, tonic::Status> {
    let mut rules = client(world, who).await;
    rules
        .set_sp_o2_scale(pb::SetSpO2ScaleRequest {
            patient: patient(patient_ref),
            scale: match scale {
                0 => pb::SpO2Scale::Spo2ScaleUnspecified,
                1 => pb::SpO2Scale::Spo2Scale1,
                _ => pb::SpO2Scale::Spo2Scale2,
            }
            .into(),
            reason,
        })
        .await
        .map(tonic::Response::into_inner)
}

#[when(expr = "{string} puts patient {string} on SpO2 scale {int} because {string}")]
async fn puts_on_scale(
    world: &mut SuiteWorld,
    who: String,
    patient_ref: String,
    scale: u8,
    reason: String,
) {
    let setting = set_scale(world, &who, &patient_ref, scale, reason)
        .await
        .expect("scale set");
    assert_eq!(setting.set_by, who);
}

#[when(expr = "{string} tries to put patient {string} on SpO2 scale {int} because {string}")]
async fn tries_scale(
    world: &mut SuiteWorld,
    who: String,
    patient_ref: String,
    scale: u8,
    reason: String,
) {
    let refused = set_scale(world, &who, &patient_ref, scale, reason)
        .await
        .expect_err("the setting is refused");
    world.rules.refused = Some(refused);
}

#[then(expr = "the audit log records {string} for patient {string}")]
async fn audited_for_patient(world: &mut SuiteWorld, action: String, patient_ref: String) {
    let entries = sentinel_testkit::audit::about(super::rules::suite(world), &patient_ref).await;
    assert!(entries.iter().any(|e| e.action == action), "{entries:?}");
}

#[then(expr = "the NEWS2 of patient {string} gives {word} {int} point(s)")]
async fn gives(world: &mut SuiteWorld, patient_ref: String, parameter: String, points: u32) {
    let score = news2(world, &patient_ref).await;
    let found = score
        .parameters
        .iter()
        .find(|p| p.name == parameter)
        .unwrap_or_else(|| panic!("no {parameter} in {score:?}"));
    assert_eq!(found.points, points, "{score:?}");
    assert!(!found.reading_id.is_empty(), "{score:?}");
}

#[then(expr = "the NEWS2 of patient {string} is {int}, {word} risk")]
async fn scored(world: &mut SuiteWorld, patient_ref: String, total: u32, risk: String) {
    let score = news2(world, &patient_ref).await;
    assert!(score.complete, "{score:?}");
    assert_eq!(score.total, total, "{score:?}");
    assert_eq!(
        score
            .risk()
            .as_str_name()
            .trim_start_matches("NEWS2_RISK_")
            .to_lowercase()
            .replace('_', "-"),
        risk,
        "{score:?}"
    );
}

#[then(expr = "the NEWS2 of patient {string} is incomplete, missing {string}")]
async fn incomplete(world: &mut SuiteWorld, patient_ref: String, missing: String) {
    let score = news2(world, &patient_ref).await;
    assert!(!score.complete, "{score:?}");
    assert_eq!(score.missing.join(","), missing, "{score:?}");
    assert_eq!(score.total, 0);
}
