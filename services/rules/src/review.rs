//! What clinicians and rule authors ask of stored readings, orchestrated over the peers:
//! a patient's NEWS2 now, and a backtest of a rule version — both through the same domain
//! functions live evaluation uses, raising nothing.

use sentinel_contract::common::v1 as common;
use sentinel_platform::{
    ServiceError,
    auth::{Caller, Role},
    peer::Peer,
    time::{now_micros, to_timestamp},
};

use crate::{
    devices::{ContextCache, Registry},
    domain::{backtest::Report, news2::SpO2Scale, news2_inputs::News2Inputs},
    readings,
    rulebook::Rulebook,
    storage::alerts::AlertStore,
};

/// Readings one backtest may replay at most.
const BACKTEST_CAP: usize = 1_000_000;
/// Readings one score may read at most (a day of a busy patient's vitals is far fewer).
const SCORE_CAP: usize = 100_000;

/// A patient's NEWS2 inputs within a window ending now, and the scale they are scored on.
#[derive(Debug, Clone)]
pub struct News2Now {
    pub patient: String,
    pub inputs: News2Inputs,
    pub scale: SpO2Scale,
    /// µs since the epoch.
    pub now: i64,
    /// µs.
    pub window: i64,
}

#[derive(Debug, Clone)]
pub struct Review {
    rulebook: Rulebook,
    alerts: AlertStore,
    ingestion: Peer,
    registry: Registry,
}

impl Review {
    pub fn new(
        rulebook: Rulebook,
        alerts: AlertStore,
        ingestion: Peer,
        registry: Registry,
    ) -> Self {
        Review {
            rulebook,
            alerts,
            ingestion,
            registry,
        }
    }

    /// `patient`'s latest NEWS2 inputs observed within `window` (µs) before now, and the
    /// SpO2 scale a clinician put them on (scale 1 unless set).
    pub async fn news2_now(&self, patient: &str, window: i64) -> Result<News2Now, ServiceError> {
        let now = now_micros();
        let range = common::TimeRange {
            start: Some(to_timestamp(now - window)),
            end: Some(to_timestamp(now + 1)),
        };
        let patient_ref = Some(common::PatientRef {
            value: patient.to_owned(),
        });
        let stored = readings::stored(&self.ingestion, range, patient_ref, SCORE_CAP).await?;
        let mut inputs = News2Inputs::default();
        for reading in &stored {
            inputs.take(reading);
        }
        let scale = self
            .alerts
            .scale_of(patient)
            .await?
            .map_or(SpO2Scale::One, |s| s.scale);
        Ok(News2Now {
            patient: patient.to_owned(),
            inputs,
            scale,
            now,
            window,
        })
    }

    /// Replays `version` of `rule_id` over the readings observed in `range` (of `patient`,
    /// when given), each with its device's kind and care setting as live evaluation sees it;
    /// audited, raising nothing.
    pub async fn backtest(
        &self,
        (caller, role): (&Caller, Role),
        (rule_id, version): (&str, u32),
        range: common::TimeRange,
        patient: Option<common::PatientRef>,
    ) -> Result<Report, ServiceError> {
        let mut readings = readings::stored(&self.ingestion, range, patient, BACKTEST_CAP).await?;
        ContextCache::new(self.registry.clone())
            .enrich(&mut readings)
            .await?;
        self.rulebook
            .backtest(caller, role, rule_id, version, &readings)
            .await
    }
}
