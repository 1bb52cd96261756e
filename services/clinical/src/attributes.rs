//! What a device says about how it measured, beside the measurement: where on the body, from
//! what sample, and which of its users. Each attribute has a name and a value from a fixed
//! vocabulary, so a reader (a clinician, the FHIR mapping) never meets a value it cannot place.

/// Where on the body the measurement was taken (a thermometer's type, a glucose sample's
/// location).
pub const BODY_SITE: &str = "body-site";
/// What was sampled (a glucose meter's sample type).
pub const SPECIMEN: &str = "specimen";
/// Which user of a shared device measured: its user index (0 to 254, as Bluetooth numbers
/// them) or `unknown`.
pub const DEVICE_USER: &str = "device-user";
/// The device user a device sends when it cannot tell who measured (Bluetooth's 0xFF).
pub const UNKNOWN_USER: &str = "unknown";

/// Most attributes a reading may carry.
pub const MAX: usize = 8;

const BODY_SITES: &[&str] = &[
    "armpit",
    "body",
    "ear",
    "earlobe",
    "finger",
    "alternate-site",
    "gastrointestinal-tract",
    "mouth",
    "rectum",
    "toe",
    "tympanum",
];

const SPECIMENS: &[&str] = &[
    "capillary-whole-blood",
    "capillary-plasma",
    "venous-whole-blood",
    "venous-plasma",
    "arterial-whole-blood",
    "arterial-plasma",
    "undetermined-whole-blood",
    "undetermined-plasma",
    "interstitial-fluid",
    "control-solution",
];

/// Every attribute name.
pub const NAMES: &[&str] = &[BODY_SITE, SPECIMEN, DEVICE_USER];

/// Why `value` is not a value of attribute `name`, if it is not.
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let allowed = match name {
        BODY_SITE => BODY_SITES,
        SPECIMEN => SPECIMENS,
        DEVICE_USER => {
            return match value.parse::<u8>() {
                Ok(0..=254) => Ok(()),
                _ if value == UNKNOWN_USER => Ok(()),
                _ => Err(format!(
                    "`{value}` is not a device user: 0 to 254, or {UNKNOWN_USER}"
                )),
            };
        }
        _ => {
            return Err(format!(
                "`{name}` is not an attribute: {}",
                NAMES.join(", ")
            ));
        }
    };
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(format!("`{value}` is not a {name}: {}", allowed.join(", ")))
    }
}

/// The device user of a reading's attributes: `Some(None)` for the unknown user, `None` when
/// the device named no user.
pub fn device_user(attributes: &[(String, String)]) -> Option<Option<u8>> {
    attributes
        .iter()
        .find(|(name, _)| name == DEVICE_USER)
        .map(|(_, value)| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_from_the_vocabulary() {
        assert!(check(BODY_SITE, "tympanum").is_ok());
        assert!(check(SPECIMEN, "control-solution").is_ok());
        assert!(check(DEVICE_USER, "2").is_ok());
        assert!(
            check(DEVICE_USER, "0").is_ok(),
            "Bluetooth's first user index"
        );
        assert!(check(DEVICE_USER, UNKNOWN_USER).is_ok());
        for (name, value) in [
            (BODY_SITE, "elbow"),
            (DEVICE_USER, "-1"),
            (DEVICE_USER, "255"),
            ("colour", "red"),
        ] {
            assert!(check(name, value).is_err(), "{name}={value}");
        }
    }

    #[test]
    fn the_device_user_is_read_back() {
        let user = |v: &str| vec![(DEVICE_USER.to_owned(), v.to_owned())];
        assert_eq!(device_user(&user("2")), Some(Some(2)));
        assert_eq!(device_user(&user(UNKNOWN_USER)), Some(None));
        assert_eq!(device_user(&[]), None);
    }
}
