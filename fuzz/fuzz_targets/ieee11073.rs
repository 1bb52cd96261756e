//! Any 16- or 32-bit word as an IEEE 11073 SFLOAT or FLOAT: a finite value or a special one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_ingestion::decode::ieee11073::{Number, float, sfloat};

fuzz_target!(|data: [u8; 4]| {
    for number in [sfloat(u16::from_le_bytes([data[0], data[1]])), float(u32::from_le_bytes(data))] {
        if let Number::Value(v) = number {
            assert!(v.is_finite());
        }
    }
});
