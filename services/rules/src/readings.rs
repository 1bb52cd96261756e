//! Readings as the rules service gets them from reading ingestion, through its contract.

use sentinel_contract::{common::v1 as common, ingestion::v1 as ingestion};
use sentinel_platform::{
    ServiceError,
    peer::{self, Peer},
    time::from_timestamp,
};

use crate::domain::engine::Observed;

/// A stored reading as the engine sees it.
pub fn observed(reading: &ingestion::Reading) -> Observed {
    Observed {
        reading_id: reading.id.clone(),
        patient: reading
            .patient
            .as_ref()
            .map(|p| p.value.clone())
            .filter(|p| !p.is_empty()),
        device_id: reading.device_id.clone(),
        observed_at: reading.observed_at.as_ref().map_or(0, from_timestamp),
        code: reading
            .code
            .as_ref()
            .map(|c| c.code.clone())
            .unwrap_or_default(),
        value: reading.value.as_ref().map(|q| q.value),
        components: reading
            .components
            .iter()
            .filter_map(|c| Some((c.code.as_ref()?.code.clone(), c.value.as_ref()?.value)))
            .collect(),
        device: None,
    }
}

/// Stored readings observed in `range` (of `patient`, when given), in log order, at most `cap`.
pub async fn stored(
    ingestion: &Peer,
    range: common::TimeRange,
    patient: Option<common::PatientRef>,
    cap: usize,
) -> Result<Vec<Observed>, ServiceError> {
    let query = ingestion::ListReadingsRequest {
        patient,
        observed: Some(range),
        ..Default::default()
    };
    list(ingestion, query, cap).await.and_then(|readings| {
        if readings.len() > cap {
            Err(ServiceError::field(
                "observed",
                format!("holds more than {cap} readings: backtest a shorter range or one patient"),
            ))
        } else {
            Ok(readings.iter().map(observed).collect())
        }
    })
}

/// Readings of `code` observed from `from` (µs) at log positions up to `up_to`, in log order,
/// each with its position; stops after `cap` (more than `cap` means there were more).
pub async fn of_code_until(
    ingestion: &Peer,
    code: &str,
    from: i64,
    up_to: u64,
    cap: usize,
) -> Result<Vec<(Observed, u64)>, ServiceError> {
    let query = ingestion::ListReadingsRequest {
        observed: Some(common::TimeRange {
            start: Some(sentinel_platform::time::to_timestamp(from)),
            end: None,
        }),
        code: code.to_owned(),
        up_to_position: up_to,
        ..Default::default()
    };
    let readings = list(ingestion, query, cap).await?;
    Ok(readings.iter().map(|r| (observed(r), r.position)).collect())
}

/// Every page of `query`, until more than `cap` readings have come.
async fn list(
    ingestion: &Peer,
    query: ingestion::ListReadingsRequest,
    cap: usize,
) -> Result<Vec<ingestion::Reading>, ServiceError> {
    let mut readings = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ingestion::ListReadingsRequest {
            page: Some(common::PageRequest {
                page_size: 1_000,
                page_token: page_token.clone(),
            }),
            ..query.clone()
        };
        let page = peer::idempotent(|| {
            let mut client = ingestion.ingestion();
            let request = request.clone();
            async move { client.list_readings(request).await }
        })
        .await
        .map_err(|s| ServiceError::Unavailable(format!("reading ingestion: {}", s.message())))?
        .into_inner();
        readings.extend(page.readings);
        page_token = page.page.map(|p| p.next_page_token).unwrap_or_default();
        if page_token.is_empty() || readings.len() > cap {
            return Ok(readings);
        }
    }
}
