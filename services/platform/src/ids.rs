//! Opaque, sortable identifiers: a prefix, the creation time in milliseconds (hex, fixed
//! width, so ids sort by creation), and 64 random bits.

use ring::rand::{SecureRandom, SystemRandom};

/// A new id such as `dev-0194f1c2a3b4-9f86d081884c7d65`.
pub fn new_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut random = [0u8; 8];
    // Without randomness the time alone still orders ids; collisions are then caught by keys.
    let _ = SystemRandom::new().fill(&mut random);
    format!("{prefix}-{millis:012x}-{}", hex::encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_prefixed_and_sort_by_creation() {
        let first = new_id("dev");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id("dev");
        assert!(first.starts_with("dev-"));
        assert_ne!(first, second);
        assert!(first < second);
    }
}
