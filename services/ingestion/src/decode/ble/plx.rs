//! Pulse oximetry (PLX): Spot-Check and Continuous Measurement, SpO2 and pulse rate with the
//! measurement and device status bits kept as flags.

use super::{Fields, Measurement, bit, scalar, status_flags};
use crate::decode::{DecodeError, Observation, ieee11073::Number};

const PLX_MEASUREMENT_STATUS: &[(u32, &str)] = &[
    (5, "measurement-ongoing"),
    (6, "early-estimated-data"),
    (7, "validated-data"),
    (8, "fully-qualified-data"),
    (9, "data-from-storage"),
    (10, "data-for-demonstration"),
    (11, "data-for-testing"),
    (12, "calibration-ongoing"),
    (13, "measurement-unavailable"),
    (14, "questionable-measurement"),
    (15, "invalid-measurement"),
];

const PLX_DEVICE_STATUS: &[(u32, &str)] = &[
    (1, "equipment-malfunction"),
    (2, "signal-processing-irregularity"),
    (3, "inadequate-signal"),
    (4, "poor-signal"),
    (5, "low-perfusion"),
    (6, "erratic-signal"),
    (7, "nonpulsatile-signal"),
    (8, "questionable-pulse"),
    (10, "sensor-interference"),
    (11, "sensor-unconnected"),
    (12, "unknown-sensor"),
    (13, "sensor-displaced"),
    (14, "sensor-malfunctioning"),
    (15, "sensor-disconnected"),
];

/// SpO2 (with the pulse amplitude index when sent) and pulse rate observations sharing the
/// status flags.
fn plx_pair(
    spo2: Number,
    pulse: Number,
    index: Option<Number>,
    flags: &[String],
) -> Vec<Observation> {
    let mut saturation = scalar("59408-5", spo2, "%", 1.0);
    if let Some(index) = index {
        saturation.optional_component("150488", index, "%");
    }
    saturation.flags.extend_from_slice(flags);
    let mut rate = scalar("8867-4", pulse, "/min", 1.0);
    rate.flags.extend_from_slice(flags);
    vec![saturation, rate]
}

/// PLX Spot-Check Measurement (0x2A5E): flags, SFLOAT SpO2 (%) and pulse rate (/min), time,
/// measurement status, device and sensor status, pulse amplitude index.
pub(super) fn plx_spot_check(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let spo2 = fields.sfloat("spo2")?;
    let pulse = fields.sfloat("pulse_rate")?;
    let clock = if bit(flags, 0) { fields.clock()? } else { None };
    let mut status = Vec::new();
    if bit(flags, 1) {
        let measurement = u32::from(fields.u16("measurement_status")?);
        status.extend(status_flags(measurement, PLX_MEASUREMENT_STATUS));
    }
    if bit(flags, 2) {
        let device = fields.u24("device_and_sensor_status")?;
        status.extend(status_flags(device, PLX_DEVICE_STATUS));
    }
    let index = if bit(flags, 3) {
        Some(fields.sfloat("pulse_amplitude_index")?)
    } else {
        None
    };
    if bit(flags, 4) {
        status.push("device-clock-not-set".to_owned());
    }
    Ok(Measurement {
        observations: plx_pair(spo2, pulse, index, &status),
        // A clock the device says is not set is no clock at all.
        clock: clock.filter(|_| !bit(flags, 4)),
        ..Measurement::default()
    })
}

/// PLX Continuous Measurement (0x2A5F): flags, SpO2PR-Normal, optional Fast and Slow
/// pairs, measurement status, device and sensor status, pulse amplitude index. No time.
pub(super) fn plx_continuous(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let spo2 = fields.sfloat("spo2_normal")?;
    let pulse = fields.sfloat("pulse_rate_normal")?;
    if bit(flags, 0) {
        fields.sfloat("spo2_fast")?;
        fields.sfloat("pulse_rate_fast")?;
    }
    if bit(flags, 1) {
        fields.sfloat("spo2_slow")?;
        fields.sfloat("pulse_rate_slow")?;
    }
    let mut status = Vec::new();
    if bit(flags, 2) {
        let measurement = u32::from(fields.u16("measurement_status")?);
        status.extend(status_flags(measurement, PLX_MEASUREMENT_STATUS));
    }
    if bit(flags, 3) {
        let device = fields.u24("device_and_sensor_status")?;
        status.extend(status_flags(device, PLX_DEVICE_STATUS));
    }
    let index = if bit(flags, 4) {
        Some(fields.sfloat("pulse_amplitude_index")?)
    } else {
        None
    };
    Ok(Measurement {
        observations: plx_pair(spo2, pulse, index, &status),
        ..Measurement::default()
    })
}
