//! Any bytes as any Bluetooth health characteristic: decoded or refused, never a panic, never a
//! value that is not finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_ingestion::decode::ble::{self, Characteristic};

const CHARACTERISTICS: [Characteristic; 7] = Characteristic::ALL;

fuzz_target!(|data: &[u8]| {
    let Some((&which, payload)) = data.split_first() else {
        return;
    };
    let characteristic = CHARACTERISTICS[usize::from(which) % CHARACTERISTICS.len()];
    if let Ok(measurement) = ble::decode(characteristic, payload) {
        for observation in &measurement.observations {
            if let Some(quantity) = &observation.value {
                assert!(quantity.value.is_finite(), "{observation:?}");
            }
        }
    }
});
