//! The registry domain: devices and their lifecycle, patients' bindings over time, and the
//! principals credentials stand for. Plain types and rules; no transport, no SQL.

pub mod binding;
pub mod credential;
pub mod device;
