//! Where care happens, as devices are registered and as rules name it.

/// The care settings a device is registered in; a rule may name only these.
pub const SETTINGS: &[&str] = &["on-body", "in-home", "in-clinic"];
