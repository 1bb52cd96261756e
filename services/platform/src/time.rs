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
    timestamp
        .seconds
        .checked_mul(1_000_000)
        .map(|m| m + i64::from(timestamp.nanos / 1_000))
        .ok_or_else(|| ServiceError::field(field, "is out of range"))
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
