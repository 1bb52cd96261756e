//! The layers above the defaults — the `SENTINEL_` environment and command-line flags — and
//! where a value came from, for error messages.

use figment::{
    Metadata, Profile, Provider,
    providers::Serialized,
    value::{Dict, Map, Value},
};
use serde::Serialize;

use super::{ConfigError, NOT_CONFIGURATION};

/// Values given as command-line flags; `None` leaves the lower layers' value in place.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "log")]
    pub log_format: Option<LogFormatFlag>,
}

/// `--log-format` nests under `log.format`.
#[derive(Debug, Clone, Serialize)]
pub struct LogFormatFlag {
    pub format: String,
}

pub(super) fn from_figment(err: figment::Error) -> ConfigError {
    // figment reports every error it met; the first is the one to fix first.
    let first = err.into_iter().next();
    let Some(err) = first else {
        return ConfigError::new("?", "unreadable configuration");
    };
    let key = if err.path.is_empty() {
        "(file)".to_owned()
    } else {
        err.path.join(".")
    };
    let keys: Vec<&str> = err.path.iter().map(String::as_str).collect();
    let profile = err.profile.clone().unwrap_or_default();
    ConfigError {
        origin: err.metadata.as_ref().map(|md| origin(md, &profile, &keys)),
        key,
        rule: err.kind.to_string(),
    }
}

/// Where a value came from: `file /etc/sentinel.toml`, `environment variable SENTINEL_LISTEN`,
/// `command-line flag --listen`, or `default`.
pub(super) fn origin(metadata: &Metadata, profile: &Profile, keys: &[&str]) -> String {
    match &metadata.source {
        Some(figment::Source::File(path)) => format!("file {}", path.display()),
        _ if metadata.name.starts_with("environment") || metadata.name.starts_with("command") => {
            format!("{} {}", metadata.name, metadata.interpolate(profile, keys))
        }
        _ => "default".to_owned(),
    }
}

/// The `SENTINEL_` environment, with `__` nesting (`SENTINEL_LOG__FORMAT=json`).
pub(super) struct EnvLayer(Vec<(String, String)>);

impl<I: IntoIterator<Item = (String, String)>> From<I> for EnvLayer {
    fn from(vars: I) -> Self {
        EnvLayer(vars.into_iter().collect())
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable")
            .interpolater(|_, keys| format!("SENTINEL_{}", keys.join("__").to_ascii_uppercase()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        // figment's own `Env` reads only the process environment; this layer takes the
        // variables it is given, with the same parsing of values.
        let mut layer = Dict::new();
        for (name, value) in &self.0 {
            let Some(key) = strip_prefix_ignore_case(name, "SENTINEL_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if key.is_empty() || NOT_CONFIGURATION.contains(&key.as_str()) {
                continue;
            }
            let value: Value = value.parse().unwrap_or_else(|never| match never {});
            if let Value::Dict(_, nested) = figment::util::nest(&key.replace("__", "."), value) {
                merge_into(&mut layer, nested);
            }
        }
        Ok(Profile::Default.collect(layer))
    }
}

/// Deep-merges `from` into `into`; a later variable wins over an earlier one.
fn merge_into(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => {
                merge_into(existing, nested);
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

/// Flags sit on top of every other layer.
pub(super) struct Flags(pub(super) FlagOverrides);

impl Provider for Flags {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flag").interpolater(|_, keys| {
            let flag = match keys {
                ["log", "format"] => "log-format".to_owned(),
                _ => keys.join("-").replace('_', "-"),
            };
            format!("--{flag}")
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.0).data()
    }
}
