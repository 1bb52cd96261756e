//! Device payload decoders: raw bytes or network-server JSON in, readings out. Pure functions;
//! the ingestion path checks what they produce exactly as it checks a submitted reading.

pub mod ble;
pub mod ieee11073;
pub mod lorawan;

use jiff::{civil::DateTime, tz::TimeZone};

use self::{ble::DeviceClock, ieee11073::Number};
use crate::domain::reading::Quantity;

/// Why a payload could not be decoded, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Truncated {
        field: &'static str,
        offset: usize,
        length: usize,
    },
    Invalid {
        field: &'static str,
        rule: String,
    },
}

impl DecodeError {
    pub fn field(&self) -> &'static str {
        match self {
            DecodeError::Truncated { field, .. } | DecodeError::Invalid { field, .. } => field,
        }
    }

    pub fn rule(&self) -> String {
        match self {
            DecodeError::Truncated { offset, length, .. } => {
                format!(
                    "payload truncated: this field starts at byte {offset}, but the payload has only {length} bytes"
                )
            }
            DecodeError::Invalid { rule, .. } => rule.clone(),
        }
    }
}

/// One decoded observation, not yet checked: the code, its value (or why there is none) and
/// the device's flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    pub system: String,
    pub code: String,
    pub value: Option<Quantity>,
    pub components: Vec<(String, Option<Quantity>)>,
    pub flags: Vec<String>,
    pub data_absent_reason: String,
    /// (name, value): where and from what it was measured, which user measured.
    pub attributes: Vec<(String, String)>,
}

/// `value` × `factor`, rounded to 6 decimals so unit prefixes (kg/L → mg/dL) leave no binary
/// noise behind.
fn scaled(value: f64, factor: f64) -> f64 {
    if factor == 1.0 {
        value
    } else {
        (value * factor * 1e6).round() / 1e6
    }
}

impl Observation {
    /// A single quantity; a special value becomes a data-absent reason.
    pub fn scalar(system: &str, code: &str, number: Number, unit: &str, factor: f64) -> Self {
        let mut observation = Observation {
            system: system.to_owned(),
            code: code.to_owned(),
            ..Observation::default()
        };
        match number {
            Number::Value(value) => {
                observation.value = Some(Quantity {
                    value: scaled(value, factor),
                    unit: unit.to_owned(),
                });
            }
            special => observation.mark_absent(special),
        }
        observation
    }

    /// A panel of quantities in one unit; when any part is a special value the whole panel is
    /// absent, since half a blood pressure is not one.
    pub fn panel(system: &str, code: &str, parts: &[(&str, Number)], unit: &str) -> Self {
        let mut observation = Observation {
            system: system.to_owned(),
            code: code.to_owned(),
            ..Observation::default()
        };
        if let Some((_, special)) = parts.iter().find(|(_, n)| !matches!(n, Number::Value(_))) {
            observation.mark_absent(*special);
            return observation;
        }
        observation.components = parts
            .iter()
            .map(|(code, number)| {
                let value = match number {
                    Number::Value(v) => *v,
                    _ => f64::NAN,
                };
                (
                    (*code).to_owned(),
                    Some(Quantity {
                        value,
                        unit: unit.to_owned(),
                    }),
                )
            })
            .collect();
        observation
    }

    /// A component the device may leave out (a mean arterial pressure, an RR interval): added
    /// when it is a value; a special value is no component.
    pub fn optional_component(&mut self, code: &str, number: Number, unit: &str) {
        // An absent panel stays absent: nothing of it is a value.
        if !self.data_absent_reason.is_empty() {
            return;
        }
        if let Number::Value(value) = number {
            self.components.push((
                code.to_owned(),
                Some(Quantity {
                    value: scaled(value, 1.0),
                    unit: unit.to_owned(),
                }),
            ));
        }
    }

    pub fn attribute(&mut self, name: &str, value: &str) {
        self.attributes.push((name.to_owned(), value.to_owned()));
    }

    fn mark_absent(&mut self, special: Number) {
        self.data_absent_reason = special.absent_reason().unwrap_or("error").to_owned();
        if special == Number::NRes {
            self.flags.push("not-at-this-resolution".to_owned());
        }
    }
}

/// Where an observation time came from; recorded on the reading as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// The device's clock, read in the device's configured time zone.
    DeviceZone,
    /// The device's clock carried an explicit UTC time (network-server JSON).
    Payload,
    /// The gateway's receipt time: the device sent no clock, or no zone is configured for it.
    GatewayReceipt,
    /// Sentinel's receipt time: neither the device nor the gateway said when.
    ServerReceipt,
}

impl TimeSource {
    pub fn flag(self) -> &'static str {
        match self {
            TimeSource::DeviceZone => "time-from-device-clock",
            TimeSource::Payload => "time-from-payload",
            TimeSource::GatewayReceipt => "time-from-gateway-receipt",
            TimeSource::ServerReceipt => "time-from-server-receipt",
        }
    }
}

/// The observation time (µs since the epoch) of a measurement whose device clock read `clock`
/// plus `offset_minutes`: in the device's `zone` when one is configured, otherwise the
/// gateway's receipt time, otherwise the server's.
pub fn observed_at(
    clock: Option<DeviceClock>,
    offset_minutes: i16,
    zone: Option<&str>,
    gateway_received_at: Option<i64>,
    server_now: i64,
) -> Result<(i64, TimeSource), DecodeError> {
    if let (Some(clock), Some(zone)) = (clock, zone) {
        let invalid = |rule: String| DecodeError::Invalid {
            field: "time_stamp",
            rule,
        };
        let civil = DateTime::new(
            i16::try_from(clock.year).map_err(|_| invalid("year out of range".to_owned()))?,
            clock.month as i8,
            clock.day as i8,
            clock.hour as i8,
            clock.minute as i8,
            clock.second as i8,
            0,
        )
        .map_err(|e| invalid(format!("not a valid date and time: {e}")))?;
        let tz = TimeZone::get(zone).map_err(|e| DecodeError::Invalid {
            field: "time_zone",
            rule: format!("the device's time zone `{zone}` is unknown: {e}"),
        })?;
        let zoned = civil
            .to_zoned(tz)
            .map_err(|e| invalid(format!("not a time in {zone}: {e}")))?;
        let at = zoned.timestamp().as_microsecond() + i64::from(offset_minutes) * 60_000_000;
        return Ok((at, TimeSource::DeviceZone));
    }
    Ok(match gateway_received_at {
        Some(at) => (at, TimeSource::GatewayReceipt),
        None => (server_now, TimeSource::ServerReceipt),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> DeviceClock {
        DeviceClock {
            year: 2026,
            month: 7,
            day: 1,
            hour: 8,
            minute: 30,
            second: 0,
        }
    }

    #[test]
    fn device_clock_is_read_in_the_device_zone() {
        // 08:30 in Berlin in summer (UTC+2) is 06:30 UTC.
        let (at, source) = observed_at(Some(clock()), 0, Some("Europe/Berlin"), None, 0).unwrap();
        assert_eq!(source, TimeSource::DeviceZone);
        let expected = "2026-07-01T06:30:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_microsecond();
        assert_eq!(at, expected);
        let (with_offset, _) =
            observed_at(Some(clock()), -5, Some("Europe/Berlin"), None, 0).unwrap();
        assert_eq!(with_offset, expected - 5 * 60_000_000);
    }

    #[test]
    fn without_a_zone_the_gateway_receipt_time_decides() {
        assert_eq!(
            observed_at(Some(clock()), 0, None, Some(42), 7).unwrap(),
            (42, TimeSource::GatewayReceipt)
        );
        assert_eq!(
            observed_at(None, 0, Some("Europe/Berlin"), None, 7).unwrap(),
            (7, TimeSource::ServerReceipt)
        );
    }

    #[test]
    fn impossible_clocks_and_zones_are_errors() {
        let mut bad = clock();
        bad.month = 13;
        let err = observed_at(Some(bad), 0, Some("UTC"), None, 0).unwrap_err();
        assert_eq!(err.field(), "time_stamp");
        let err = observed_at(Some(clock()), 0, Some("Mars/Olympus"), None, 0).unwrap_err();
        assert_eq!(err.field(), "time_zone");
    }
}
