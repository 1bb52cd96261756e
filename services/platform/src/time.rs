//! Time as Sentinel stores it: microseconds since the Unix epoch, UTC; and its protobuf form.

use crate::ServiceError;

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

pub fn to_timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// µs of a timestamp, saturating at the ends of the range.
pub fn from_timestamp(timestamp: &prost_types::Timestamp) -> i64 {
    timestamp.seconds.saturating_mul(1_000_000) + i64::from(timestamp.nanos / 1_000)
}

/// µs of a timestamp a caller sent in `field`, refusing malformed or out-of-range ones.
pub fn checked_from_timestamp(
    field: &str,
    timestamp: &prost_types::Timestamp,
) -> Result<i64, ServiceError> {
    if !(0..1_000_000_000).contains(&timestamp.nanos) {
        return Err(ServiceError::field(field, "nanos must be within 0..1e9"));
    }
    // google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
    if !(-62_135_596_800..=253_402_300_799).contains(&timestamp.seconds) {
        return Err(ServiceError::field(
            field,
            "is outside 0001-01-01 .. 9999-12-31, the range of a protobuf Timestamp",
        ));
    }
    timestamp
        .seconds
        .checked_mul(1_000_000)
        .map(|m| m + i64::from(timestamp.nanos / 1_000))
        .ok_or_else(|| ServiceError::field(field, "is out of range"))
}

/// The bounds (µs) of a range a caller sent in `field`; an unset end is 0 (no bound).
pub fn checked_range(
    field: &str,
    range: Option<&sentinel_contract::common::v1::TimeRange>,
) -> Result<(i64, i64), ServiceError> {
    let bound = |name: &str, at: Option<&prost_types::Timestamp>| {
        at.map_or(Ok(0), |t| {
            checked_from_timestamp(&format!("{field}.{name}"), t)
        })
    };
    let range = range.cloned().unwrap_or_default();
    Ok((
        bound("start", range.start.as_ref())?,
        bound("end", range.end.as_ref())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_including_before_the_epoch() {
        for micros in [0, 1, 1_764_000_000_123_456, -1, -1_500_000] {
            assert_eq!(from_timestamp(&to_timestamp(micros)), micros);
            assert_eq!(
                checked_from_timestamp("at", &to_timestamp(micros)).unwrap(),
                micros
            );
        }
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert!(checked_from_timestamp("at", &bad).is_err());
        let huge = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert!(checked_from_timestamp("at", &huge).is_err());
    }
}
