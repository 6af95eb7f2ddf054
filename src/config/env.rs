//! The `SEEDFEED_*` environment as a [`Layer`]. Variables come in as an iterator of pairs,
//! so tests never touch the process environment.

use std::path::PathBuf;
use std::str::FromStr;

use super::{ConfigError, Layer};

const PREFIX: &str = "SEEDFEED_";

/// Names the command line reads itself; not configuration keys.
const NOT_KEYS: &[&str] = &["SEEDFEED_CONFIG"];

/// Builds a layer from `SEEDFEED_<KEY>` variables (`SEEDFEED_FEED_TITLE` for `feed.title`).
/// `SEEDFEED_LOG` is a short alias of `SEEDFEED_LOG_LEVEL`. An unknown `SEEDFEED_*` name
/// is an error, as an unknown key in the file is: a typo must not pass silently.
pub fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for (var, value) in vars {
        let Some(name) = var.strip_prefix(PREFIX) else {
            continue;
        };
        if NOT_KEYS.contains(&var.as_str()) {
            continue;
        }
        match name {
            "SEEDS" => layer.seeds = Some(PathBuf::from(value)),
            "DATA" => layer.data = Some(PathBuf::from(value)),
            "LISTEN" => layer.listen = Some(value),
            "BASE_URL" => layer.base_url = Some(value),
            "ID_NAMESPACE" => layer.id_namespace = Some(value),
            "FEED_SIZE" => layer.feed_size = Some(number(&var, &value)?),
            "SETTLE_MS" => layer.settle_ms = Some(number(&var, &value)?),
            "MAX_FILE_BYTES" => layer.max_file_bytes = Some(number(&var, &value)?),
            "RESCAN_INTERVAL" => layer.rescan_interval = Some(number(&var, &value)?),
            "TOMBSTONE_DAYS" => layer.tombstone_days = Some(number(&var, &value)?),
            "CACHE_MAX_AGE" => layer.cache_max_age = Some(number(&var, &value)?),
            "MAX_CONNECTIONS" => layer.max_connections = Some(number(&var, &value)?),
            "WORKERS" => layer.workers = Some(number(&var, &value)?),
            "HEADER_READ_TIMEOUT" => layer.header_read_timeout = Some(number(&var, &value)?),
            "IDLE_TIMEOUT" => layer.idle_timeout = Some(number(&var, &value)?),
            "REQUEST_TIMEOUT" => layer.request_timeout = Some(number(&var, &value)?),
            "SHUTDOWN_TIMEOUT" => layer.shutdown_timeout = Some(number(&var, &value)?),
            "MAX_HEADER_BYTES" => layer.max_header_bytes = Some(number(&var, &value)?),
            "MAX_URL_BYTES" => layer.max_url_bytes = Some(number(&var, &value)?),
            "ACCESS_LOG" => layer.access_log = Some(boolean(&var, &value)?),
            "LOG" | "LOG_LEVEL" => layer.log_level = Some(value),
            "FEED_TITLE" => layer.feed.title = Some(value),
            "FEED_DESCRIPTION" => layer.feed.description = Some(value),
            "FEED_AUTHOR" => layer.feed.author = Some(value),
            "FEED_LANGUAGE" => layer.feed.language = Some(value),
            "WEBSUB_HUB" => layer.websub.hub = Some(boolean(&var, &value)?),
            // A list in one variable: URLs separated by commas or spaces.
            "WEBSUB_HUBS" => {
                layer.websub.hubs = Some(
                    value
                        .split([',', ' '])
                        .filter(|url| !url.is_empty())
                        .map(str::to_owned)
                        .collect(),
                )
            }
            "WEBSUB_ALLOW_PRIVATE_CALLBACKS" => {
                layer.websub.allow_private_callbacks = Some(boolean(&var, &value)?)
            }
            "WEBSUB_LEASE_SECONDS" => layer.websub.lease_seconds = Some(number(&var, &value)?),
            "WEBSUB_MIN_LEASE_SECONDS" => {
                layer.websub.min_lease_seconds = Some(number(&var, &value)?)
            }
            "WEBSUB_MAX_LEASE_SECONDS" => {
                layer.websub.max_lease_seconds = Some(number(&var, &value)?)
            }
            "WEBSUB_RETRY_SECONDS" => layer.websub.retry_seconds = Some(number(&var, &value)?),
            "WEBSUB_REQUEST_TIMEOUT" => layer.websub.request_timeout = Some(number(&var, &value)?),
            "WEBSUB_MAX_CONCURRENT_REQUESTS" => {
                layer.websub.max_concurrent_requests = Some(number(&var, &value)?)
            }
            "WEBSUB_SUBSCRIBE_PER_MINUTE" => {
                layer.websub.subscribe_per_minute = Some(number(&var, &value)?)
            }
            _ => {
                return Err(ConfigError::Env {
                    var,
                    message: "no such setting (see config/seedfeed.toml for the keys)".into(),
                });
            }
        }
    }
    Ok(layer)
}

fn boolean(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            var: var.to_owned(),
            message: format!("{value:?} is not true or false"),
        }),
    }
}

fn number<T: FromStr>(var: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e| ConfigError::Env {
        var: var.to_owned(),
        message: format!("{value:?} is not a number ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn maps_names_to_keys() {
        let layer = env_layer(vars(&[
            ("PATH", "/bin"),
            ("SEEDFEED_FEED_SIZE", "7"),
            ("SEEDFEED_FEED_TITLE", "2026"),
            ("SEEDFEED_LOG", "debug"),
            ("SEEDFEED_CONFIG", "x.toml"),
        ]))
        .unwrap();
        assert_eq!(layer.feed_size, Some(7));
        assert_eq!(layer.feed.title.as_deref(), Some("2026"));
        assert_eq!(layer.log_level.as_deref(), Some("debug"));
    }

    #[test]
    fn unknown_and_malformed_are_errors_naming_the_variable() {
        let err = env_layer(vars(&[("SEEDFEED_FEEDSIZE", "7")])).unwrap_err();
        assert!(err.to_string().contains("SEEDFEED_FEEDSIZE"), "{err}");
        let err = env_layer(vars(&[("SEEDFEED_FEED_SIZE", "many")])).unwrap_err();
        assert!(err.to_string().contains("SEEDFEED_FEED_SIZE"), "{err}");
    }
}
