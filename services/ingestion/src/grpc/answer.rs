//! What ingestion answers: each reading's outcome as a result, violations named by where the
//! reading sat in the request; quarantined readings as the contract states them.

use sentinel_contract::ingestion::v1 as pb;

use super::convert;
use crate::{ingestor::Outcome, payloads::PayloadOutcome, storage::Quarantined};

/// The result of reading `index` (violations prefixed with `prefix`), and whether it was
/// accepted.
pub fn result(prefix: &str, index: usize, outcome: Outcome) -> (pb::ReadingResult, bool) {
    let mut result = pb::ReadingResult {
        index: index as u32,
        ..Default::default()
    };
    match outcome {
        Outcome::Accepted {
            id,
            duplicate,
            attributed,
        } => {
            result.accepted = true;
            result.reading_id = id;
            result.duplicate = duplicate;
            result.set_attribution(
                attributed.map_or(pb::Attribution::Unspecified, convert::attribution),
            );
        }
        Outcome::Rejected(violations) => {
            result.violations = violations
                .into_iter()
                .map(|v| pb::Violation {
                    field: format!("{prefix}[{index}].{}", v.field),
                    rule: v.rule,
                })
                .collect();
        }
        Outcome::Deferred(wait) => {
            result.violations = vec![pb::Violation {
                field: format!("{prefix}[{index}].device_id"),
                rule: "the device's rate limit is reached: send this reading again later"
                    .to_owned(),
            }];
            result.retry_after = prost_types::Duration::try_from(wait).ok();
        }
    }
    let accepted = result.accepted;
    (result, accepted)
}

/// The answer to a batch: one result per reading, violations named by their index.
pub fn batch(batch_id: String, outcomes: Vec<Outcome>) -> pb::IngestResponse {
    let mut response = pb::IngestResponse {
        batch_id,
        ..Default::default()
    };
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let (result, accepted) = result("readings", index, outcome);
        if accepted {
            response.accepted += 1;
        } else {
            response.rejected += 1;
        }
        response.results.push(result);
    }
    response
}

/// The answer to a batch of payloads: per payload, why it did not decode or each reading's
/// result, violations named by payload and reading index.
pub fn payloads(batch_id: String, outcomes: Vec<PayloadOutcome>) -> pb::IngestPayloadsResponse {
    let mut response = pb::IngestPayloadsResponse {
        batch_id,
        ..Default::default()
    };
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let prefix = format!("payloads[{index}]");
        let readings_prefix = format!("{prefix}.readings");
        if !outcome.violations.is_empty() {
            response.rejected += 1;
        }
        let readings = outcome
            .readings
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let (result, accepted) = result(&readings_prefix, i, o);
                if accepted {
                    response.accepted += 1;
                } else {
                    response.rejected += 1;
                }
                result
            })
            .collect();
        response.results.push(pb::PayloadResult {
            index: index as u32,
            violations: outcome
                .violations
                .into_iter()
                .map(|v| pb::Violation {
                    field: format!("{prefix}.{}", v.field),
                    rule: v.rule,
                })
                .collect(),
            readings,
        });
    }
    response
}

/// A quarantined reading as the contract states it, its violations one per line again.
pub fn quarantined(e: Quarantined) -> pb::QuarantinedReading {
    pb::QuarantinedReading {
        id: e.id,
        received_at: Some(convert::timestamp(e.received_at)),
        caller: e.caller,
        batch_id: e.batch_id,
        batch_index: e.batch_index,
        device_id: e.device_id,
        raw_json: e.raw,
        violations: e
            .violations
            .lines()
            .map(|line| {
                let (field, rule) = line.split_once(": ").unwrap_or((line, ""));
                pb::Violation {
                    field: field.to_owned(),
                    rule: rule.to_owned(),
                }
            })
            .collect(),
        resolved_by: e.resolved_by,
    }
}
