//! IEEE 11073-20601 medical number formats as Bluetooth health characteristics carry them:
//! SFLOAT (16 bits: 4-bit exponent, 12-bit mantissa) and FLOAT (32 bits: 8-bit exponent,
//! 24-bit mantissa), both base 10, two's complement, with reserved mantissas for values a
//! device could not measure.

/// A decoded medical number: a value, or the special value the device sent instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Value(f64),
    /// Not a Number: the device had no valid result.
    NaN,
    /// Not at this Resolution: the value cannot be represented in the format.
    NRes,
    PositiveInfinity,
    NegativeInfinity,
    /// Reserved for future use by IEEE 11073; never valid.
    Reserved,
}

impl Number {
    /// The FHIR data-absent-reason for a special value; `None` for a value.
    pub fn absent_reason(self) -> Option<&'static str> {
        match self {
            Number::Value(_) => None,
            Number::NaN => Some("not-a-number"),
            Number::NRes | Number::Reserved => Some("error"),
            Number::PositiveInfinity => Some("positive-infinity"),
            Number::NegativeInfinity => Some("negative-infinity"),
        }
    }
}

/// mantissa × 10^exponent, dividing for negative exponents so 364e-1 is exactly 36.4.
fn scale(mantissa: i32, exponent: i32) -> f64 {
    let power = 10f64.powi(exponent.abs());
    if exponent < 0 {
        f64::from(mantissa) / power
    } else {
        f64::from(mantissa) * power
    }
}

/// Sign-extends the low `bits` of `raw`.
fn signed(raw: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((raw << shift) as i32) >> shift
}

/// Decodes a 16-bit SFLOAT.
pub fn sfloat(raw: u16) -> Number {
    match raw {
        0x07FF => Number::NaN,
        0x0800 => Number::NRes,
        0x07FE => Number::PositiveInfinity,
        0x0802 => Number::NegativeInfinity,
        0x0801 => Number::Reserved,
        _ => Number::Value(scale(
            signed(u32::from(raw & 0x0FFF), 12),
            signed(u32::from(raw >> 12), 4),
        )),
    }
}

/// Decodes a 32-bit FLOAT.
pub fn float(raw: u32) -> Number {
    match raw {
        0x007F_FFFF => Number::NaN,
        0x0080_0000 => Number::NRes,
        0x007F_FFFE => Number::PositiveInfinity,
        0x0080_0002 => Number::NegativeInfinity,
        0x0080_0001 => Number::Reserved,
        _ => Number::Value(scale(signed(raw & 0x00FF_FFFF, 24), signed(raw >> 24, 8))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values from IEEE 11073-20601 §F.8 (SFLOAT-Type, FLOAT-Type): special values at exponent 0,
    // two's-complement mantissa and exponent, and the examples of the Bluetooth SIG
    // "Personal Health Devices Transcoding" white paper (v1.6, §2.2).
    #[test]
    fn sfloat_values() {
        assert_eq!(sfloat(0x0072), Number::Value(114.0));
        assert_eq!(sfloat(0xF16C), Number::Value(36.4));
        assert_eq!(sfloat(0xFFFF), Number::Value(-0.1));
        assert_eq!(sfloat(0x0FFF), Number::Value(-1.0));
        assert_eq!(sfloat(0x2001), Number::Value(100.0));
        assert_eq!(sfloat(0x07FD), Number::Value(2045.0));
        assert_eq!(sfloat(0x0803), Number::Value(-2045.0));
        assert_eq!(sfloat(0xE0C8), Number::Value(2.0));
        assert_eq!(sfloat(0x8001), Number::Value(1e-8));
    }

    #[test]
    fn sfloat_special_values() {
        assert_eq!(sfloat(0x07FF), Number::NaN);
        assert_eq!(sfloat(0x0800), Number::NRes);
        assert_eq!(sfloat(0x07FE), Number::PositiveInfinity);
        assert_eq!(sfloat(0x0802), Number::NegativeInfinity);
        assert_eq!(sfloat(0x0801), Number::Reserved);
        // The same mantissas under another exponent are ordinary numbers.
        assert_eq!(sfloat(0x17FF), Number::Value(20470.0));
    }

    #[test]
    fn float_values() {
        // 36.4 °C as the Health Thermometer profile sends it: 0xFF00016C.
        assert_eq!(float(0xFF00_016C), Number::Value(36.4));
        assert_eq!(float(0x0000_0072), Number::Value(114.0));
        assert_eq!(float(0xFE00_0E4A), Number::Value(36.58));
        assert_eq!(float(0x00FF_FFFF), Number::Value(-1.0));
        assert_eq!(float(0x0180_0000), Number::Value(-83_886_080.0));
    }

    #[test]
    fn float_special_values() {
        assert_eq!(float(0x007F_FFFF), Number::NaN);
        assert_eq!(float(0x0080_0000), Number::NRes);
        assert_eq!(float(0x007F_FFFE), Number::PositiveInfinity);
        assert_eq!(float(0x0080_0002), Number::NegativeInfinity);
        assert_eq!(float(0x0080_0001), Number::Reserved);
        assert_eq!(Number::NaN.absent_reason(), Some("not-a-number"));
        assert_eq!(Number::Value(1.0).absent_reason(), None);
    }
}
