//! LoRaWAN frames: what makes a retry a retry and a replay a replay.

/// The LoRaWAN frame a reading was decoded from: a frame counter is used once per session,
/// and seen again only with the same content (a retry), never with other content (a replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub dev_eui: String,
    pub session: String,
    pub f_cnt: u32,
    pub digest: String,
}
