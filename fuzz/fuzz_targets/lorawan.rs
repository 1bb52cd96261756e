//! Any bytes as an uplink of either network server: parsed or refused naming a field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_ingestion::decode::lorawan::{self, NetworkServer};

fuzz_target!(|data: &[u8]| {
    for server in [NetworkServer::ChirpStackV4, NetworkServer::TheThingsStackV3] {
        if let Err(err) = lorawan::parse(server, data) {
            assert!(!err.field().is_empty());
        }
    }
});
