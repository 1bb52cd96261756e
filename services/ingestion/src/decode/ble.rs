//! Bluetooth SIG health characteristics (GATT Specification Supplement): Temperature
//! Measurement, Blood Pressure Measurement, Glucose Measurement, Heart Rate Measurement, PLX
//! Spot-Check and Continuous Measurement, Weight Measurement. Each decoder is a pure function
//! from the characteristic's bytes to observations; where the characteristic carries a time it
//! is the device's local clock, without a zone, and [`super::resolve`] decides what it means.

use super::{
    DecodeError, Observation,
    ieee11073::{Number, float, sfloat},
};
use crate::domain::{
    attributes::{BODY_SITE, DEVICE_USER, SPECIMEN, UNKNOWN_USER},
    attribution,
    catalogue::LOINC,
};

mod plx;

use plx::{plx_continuous, plx_spot_check};

/// The characteristics Sentinel decodes, by their GATT names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Characteristic {
    TemperatureMeasurement,
    BloodPressureMeasurement,
    GlucoseMeasurement,
    HeartRateMeasurement,
    PlxSpotCheckMeasurement,
    PlxContinuousMeasurement,
    WeightMeasurement,
}

impl Characteristic {
    pub const ALL: [Characteristic; 7] = [
        Characteristic::TemperatureMeasurement,
        Characteristic::BloodPressureMeasurement,
        Characteristic::GlucoseMeasurement,
        Characteristic::HeartRateMeasurement,
        Characteristic::PlxSpotCheckMeasurement,
        Characteristic::PlxContinuousMeasurement,
        Characteristic::WeightMeasurement,
    ];
}

/// A civil date and time from a device clock: no zone, no offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceClock {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// What one characteristic value says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measurement {
    pub observations: Vec<Observation>,
    /// The device's clock at the measurement, when it sent one and it was set.
    pub clock: Option<DeviceClock>,
    /// Minutes to add to `clock` (Glucose Measurement's time offset).
    pub clock_offset_minutes: i16,
    /// The device's own sequence number, when the characteristic has one.
    pub sequence: Option<u16>,
}

/// Reads little-endian fields in order, naming the field a short payload lacks.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes, at: 0 }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let slice = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or(DecodeError::Truncated {
                field,
                offset: self.at,
                length: self.bytes.len(),
            })?;
        self.at += n;
        Ok(slice)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u24(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(3, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }

    fn sfloat(&mut self, field: &'static str) -> Result<Number, DecodeError> {
        Ok(sfloat(self.u16(field)?))
    }

    fn float(&mut self, field: &'static str) -> Result<Number, DecodeError> {
        let b = self.take(4, field)?;
        Ok(float(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    }

    /// A Date Time characteristic (7 bytes); `None` when the device says its clock is unknown
    /// (year, month or day 0).
    fn clock(&mut self) -> Result<Option<DeviceClock>, DecodeError> {
        let year = self.u16("time_stamp")?;
        let b = self.take(5, "time_stamp")?;
        let clock = DeviceClock {
            year,
            month: b[0],
            day: b[1],
            hour: b[2],
            minute: b[3],
            second: b[4],
        };
        Ok((year != 0 && clock.month != 0 && clock.day != 0).then_some(clock))
    }
}

fn bit(flags: u32, n: u32) -> bool {
    flags & (1 << n) != 0
}

/// Flag names for the set bits of `status`, from a table of (bit, name).
fn status_flags(status: u32, names: &[(u32, &str)]) -> Vec<String> {
    names
        .iter()
        .filter(|(n, _)| bit(status, *n))
        .map(|(_, name)| (*name).to_owned())
        .collect()
}

fn scalar(code: &'static str, number: Number, unit: &'static str, factor: f64) -> Observation {
    Observation::scalar(LOINC, code, number, unit, factor)
}

/// A User ID field (Blood Pressure, Weight): which user of a shared device measured, recorded
/// on every observation so the reading is attributed through that user's binding.
/// The Bluetooth user index runs 0 to 254; 0xFF is the unknown user.
fn device_user(user: u8, observations: &mut [Observation]) {
    let user = match user {
        0xFF => UNKNOWN_USER.to_owned(),
        user => user.to_string(),
    };
    for observation in observations {
        observation.attribute(DEVICE_USER, &user);
    }
}

/// Decodes one characteristic value.
pub fn decode(characteristic: Characteristic, bytes: &[u8]) -> Result<Measurement, DecodeError> {
    let mut fields = Fields::new(bytes);
    let measurement = match characteristic {
        Characteristic::TemperatureMeasurement => temperature(&mut fields)?,
        Characteristic::BloodPressureMeasurement => blood_pressure(&mut fields)?,
        Characteristic::GlucoseMeasurement => glucose(&mut fields)?,
        Characteristic::HeartRateMeasurement => heart_rate(&mut fields)?,
        Characteristic::PlxSpotCheckMeasurement => plx_spot_check(&mut fields)?,
        Characteristic::PlxContinuousMeasurement => plx_continuous(&mut fields)?,
        Characteristic::WeightMeasurement => weight(&mut fields)?,
    };
    Ok(measurement)
}

/// Temperature Measurement (0x2A1C): flags, FLOAT temperature in °C or °F, time, type.
fn temperature(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let value = fields.float("temperature_measurement_value")?;
    let unit = if bit(flags, 0) { "[degF]" } else { "Cel" };
    let clock = if bit(flags, 1) { fields.clock()? } else { None };
    let mut observation = scalar("8310-5", value, unit, 1.0);
    if bit(flags, 2) {
        let site = match fields.u8("temperature_type")? {
            1 => "armpit",
            2 => "body",
            3 => "ear",
            4 => "finger",
            5 => "gastrointestinal-tract",
            6 => "mouth",
            7 => "rectum",
            8 => "toe",
            9 => "tympanum",
            // Reserved: the temperature stands without a site.
            _ => "",
        };
        if !site.is_empty() {
            observation.attribute(BODY_SITE, site);
        }
    }
    Ok(Measurement {
        observations: vec![observation],
        clock,
        ..Measurement::default()
    })
}

/// Blood Pressure Measurement (0x2A35): flags, SFLOAT systolic, diastolic and mean arterial
/// pressure in mmHg or kPa, time, pulse rate, user id, measurement status.
fn blood_pressure(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let unit = if bit(flags, 0) { "kPa" } else { "mm[Hg]" };
    let systolic = fields.sfloat("systolic")?;
    let diastolic = fields.sfloat("diastolic")?;
    let mean = fields.sfloat("mean_arterial_pressure")?;
    let clock = if bit(flags, 1) { fields.clock()? } else { None };
    let pulse = if bit(flags, 2) {
        Some(fields.sfloat("pulse_rate")?)
    } else {
        None
    };
    let user = if bit(flags, 3) {
        Some(fields.u8("user_id")?)
    } else {
        None
    };
    let status = if bit(flags, 4) {
        u32::from(fields.u16("measurement_status")?)
    } else {
        0
    };
    let mut status_names = status_flags(
        status,
        &[
            (0, "body-movement"),
            (1, "cuff-too-loose"),
            (2, "irregular-pulse"),
            (5, "improper-measurement-position"),
        ],
    );
    match (status >> 3) & 0b11 {
        1 => status_names.push("pulse-rate-above-range".to_owned()),
        2 => status_names.push("pulse-rate-below-range".to_owned()),
        _ => {}
    }
    let mut panel = Observation::panel(
        LOINC,
        "85354-9",
        &[("8480-6", systolic), ("8462-4", diastolic)],
        unit,
    );
    // A cuff that computes no mean sends it as a special value: the panel stands without it.
    panel.optional_component("8478-0", mean, unit);
    panel.flags.extend(status_names.iter().cloned());
    let mut observations = vec![panel];
    if let Some(pulse) = pulse {
        let mut rate = scalar("8867-4", pulse, "/min", 1.0);
        rate.flags.extend(status_names);
        observations.push(rate);
    }
    if let Some(user) = user {
        device_user(user, &mut observations);
    }
    Ok(Measurement {
        observations,
        clock,
        ..Measurement::default()
    })
}

/// Glucose Measurement (0x2A18): flags, sequence number, base time, time offset, SFLOAT
/// concentration in kg/L or mol/L with type and sample location, sensor status annunciation.
fn glucose(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let sequence = fields.u16("sequence_number")?;
    let clock = fields.clock()?;
    let offset = if bit(flags, 0) {
        fields.u16("time_offset")? as i16
    } else {
        0
    };
    let mut observations = Vec::new();
    if bit(flags, 1) {
        let concentration = fields.sfloat("glucose_concentration")?;
        let type_location = fields.u8("type_sample_location")?;
        let status = if bit(flags, 3) {
            u32::from(fields.u16("sensor_status_annunciation")?)
        } else {
            0
        };
        // Type 9 is interstitial fluid (a continuous monitor); the others are blood or plasma.
        let interstitial = type_location & 0x0F == 9;
        let (specimen, site) = sample(type_location);
        let mut observation = if bit(flags, 2) {
            // mol/L → mmol/L
            scalar("15074-8", concentration, "mmol/L", 1_000.0)
        } else {
            // kg/L → mg/dL
            let code = if interstitial { "99504-3" } else { "2339-0" };
            scalar(code, concentration, "mg/dL", 100_000.0)
        };
        observation.flags.extend(status_flags(
            status,
            &[
                (0, "battery-low"),
                (1, "sensor-malfunction"),
                (2, "sample-size-insufficient"),
                (3, "strip-insertion-error"),
                (4, "strip-type-incorrect"),
                (5, "result-above-device-range"),
                (6, "result-below-device-range"),
                (7, "temperature-too-high"),
                (8, "temperature-too-low"),
                (9, "read-interrupted"),
                (10, "general-device-fault"),
                (11, "time-fault"),
            ],
        ));
        if let Some(specimen) = specimen {
            observation.attribute(SPECIMEN, specimen);
        }
        if let Some(site) = site {
            observation.attribute(BODY_SITE, site);
        }
        // A control solution checks the meter, not the patient: kept, and said so.
        if specimen == Some("control-solution") || type_location >> 4 == 4 {
            observation
                .flags
                .push(attribution::CONTROL_SOLUTION.to_owned());
        }
        observations.push(observation);
    } else if bit(flags, 3) {
        return Err(DecodeError::Invalid {
            field: "flags",
            rule: "sensor status without a concentration is not a measurement".to_owned(),
        });
    }
    Ok(Measurement {
        observations,
        clock,
        clock_offset_minutes: offset,
        sequence: Some(sequence),
    })
}

/// The Type-Sample Location field of a glucose measurement: what was sampled (low nibble) and
/// where (high nibble). A reserved or "not available" nibble names nothing: the concentration
/// stands without it.
fn sample(type_location: u8) -> (Option<&'static str>, Option<&'static str>) {
    let specimen = match type_location & 0x0F {
        1 => Some("capillary-whole-blood"),
        2 => Some("capillary-plasma"),
        3 => Some("venous-whole-blood"),
        4 => Some("venous-plasma"),
        5 => Some("arterial-whole-blood"),
        6 => Some("arterial-plasma"),
        7 => Some("undetermined-whole-blood"),
        8 => Some("undetermined-plasma"),
        9 => Some("interstitial-fluid"),
        10 => Some("control-solution"),
        _ => None,
    };
    let site = match type_location >> 4 {
        1 => Some("finger"),
        2 => Some("alternate-site"),
        3 => Some("earlobe"),
        // 4 is a control solution, which is no body site (flagged as such).
        _ => None,
    };
    (specimen, site)
}

/// Heart Rate Measurement (0x2A37): flags, UINT8 or UINT16 beats per minute, energy
/// expended, RR intervals. No time: the receipt time is the observation time.
fn heart_rate(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let rate = if bit(flags, 0) {
        fields.u16("heart_rate_measurement_value")?
    } else {
        u16::from(fields.u8("heart_rate_measurement_value")?)
    };
    if bit(flags, 3) {
        fields.u16("energy_expended")?;
    }
    // RR intervals (1/1024 s each) fill the rest of the value; they must come in whole pairs.
    if bit(flags, 4)
        && !fields
            .bytes
            .len()
            .saturating_sub(fields.at)
            .is_multiple_of(2)
    {
        return Err(DecodeError::Truncated {
            field: "rr_interval",
            offset: fields.at,
            length: fields.bytes.len(),
        });
    }
    let mut observation = scalar("8867-4", Number::Value(f64::from(rate)), "/min", 1.0);
    if bit(flags, 4) {
        while fields.at < fields.bytes.len() {
            // 1/1024 s → ms
            let rr = f64::from(fields.u16("rr_interval")?) * 1_000.0 / 1_024.0;
            observation.optional_component("147240", Number::Value(rr), "ms");
        }
    }
    // Bit 2: contact detection supported; bit 1: contact detected.
    if bit(flags, 2) && !bit(flags, 1) {
        observation
            .flags
            .push("sensor-contact-not-detected".to_owned());
    }
    Ok(Measurement {
        observations: vec![observation],
        ..Measurement::default()
    })
}

/// Weight Measurement (0x2A9D): flags, UINT16 weight (0.005 kg or 0.01 lb steps; 0xFFFF
/// "measurement unsuccessful"), time, user id, BMI and height.
fn weight(fields: &mut Fields<'_>) -> Result<Measurement, DecodeError> {
    let flags = u32::from(fields.u8("flags")?);
    let raw = fields.u16("weight")?;
    let clock = if bit(flags, 1) { fields.clock()? } else { None };
    let user = if bit(flags, 2) {
        Some(fields.u8("user_id")?)
    } else {
        None
    };
    let imperial = bit(flags, 0);
    let (unit, step) = if imperial {
        ("[lb_av]", 100.0)
    } else {
        ("kg", 200.0)
    };
    let observation = if raw == 0xFFFF {
        let mut absent = scalar("29463-7", Number::NaN, unit, 1.0);
        absent.data_absent_reason = "error".to_owned();
        absent.flags.push("measurement-unsuccessful".to_owned());
        absent
    } else {
        scalar("29463-7", Number::Value(f64::from(raw) / step), unit, 1.0)
    };
    let mut observations = vec![observation];
    if bit(flags, 3) {
        // BMI in 0.1 kg/m²; height in 1 mm or 0.1 in steps.
        let bmi = f64::from(fields.u16("bmi")?) / 10.0;
        let height = f64::from(fields.u16("height")?);
        observations.push(scalar("39156-5", Number::Value(bmi), "kg/m2", 1.0));
        observations.push(if imperial {
            scalar("8302-2", Number::Value(height / 10.0), "[in_i]", 1.0)
        } else {
            scalar("8302-2", Number::Value(height / 10.0), "cm", 1.0)
        });
    }
    if let Some(user) = user {
        device_user(user, &mut observations);
    }
    Ok(Measurement {
        observations,
        clock,
        ..Measurement::default()
    })
}

#[cfg(test)]
mod tests;
