//! The `SEEDFEED_*` environment as a [`Layer`]: each key of the table of settings has a
//! variable named after it. Variables come in as an iterator of pairs, so tests never touch
//! the process environment.

use super::{ConfigError, Layer, SETTINGS, Setting};

const PREFIX: &str = "SEEDFEED_";

/// Names the command line reads itself; not configuration keys.
const NOT_KEYS: &[&str] = &["SEEDFEED_CONFIG"];

/// Short names, and the setting's own name they stand for.
const ALIASES: &[(&str, &str)] = &[("SEEDFEED_LOG", "SEEDFEED_LOG_LEVEL")];

/// Builds a layer from `SEEDFEED_<KEY>` variables (`SEEDFEED_FEED_TITLE` for `feed.title`).
/// `SEEDFEED_LOG` is a short alias of `SEEDFEED_LOG_LEVEL`. An unknown `SEEDFEED_*` name
/// is an error, as an unknown key in the file is: a typo must not pass silently, and the
/// nearest known name is suggested. Each value is read as its key's type (the error says
/// what is expected, in words); a list (`SEEDFEED_WEBSUB_HUBS`) is separated by commas or
/// spaces.
pub fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for (var, value) in vars {
        if !var.starts_with(PREFIX) || NOT_KEYS.contains(&var.as_str()) {
            continue;
        }
        let Some(setting) = setting_for(&var) else {
            let message = unknown_var(&var);
            return Err(ConfigError::Env { var, message });
        };
        setting
            .set_from_env(&mut layer, &value)
            .map_err(|message| ConfigError::Env {
                message: format!("{message} (config key `{}`)", setting.key),
                var,
            })?;
    }
    Ok(layer)
}

/// What is wrong with a `SEEDFEED_*` name that is no setting's: the nearest name that is.
/// Names are compared without the prefix they all share, which is no evidence.
fn unknown_var(var: &str) -> String {
    let names: Vec<String> = SETTINGS
        .iter()
        .map(Setting::env_var)
        .chain(ALIASES.iter().map(|(alias, _)| alias.to_string()))
        .chain(NOT_KEYS.iter().map(|name| name.to_string()))
        .collect();
    let unprefixed = |name: &str| name.strip_prefix(PREFIX).unwrap_or(name).to_owned();
    let candidates: Vec<(String, String)> = names
        .iter()
        .map(|name| (unprefixed(name), name.clone()))
        .collect();
    let candidates = candidates
        .iter()
        .map(|(bare, name)| (bare.as_str(), name.clone()));
    match super::suggest::nearest(&unprefixed(var), candidates) {
        Some(name) => format!("no such setting; did you mean {name}?"),
        None => "no such setting (see config/seedfeed.toml for the keys)".into(),
    }
}

/// The setting a variable sets, through its alias if it is one.
fn setting_for(var: &str) -> Option<&'static Setting> {
    let var = ALIASES
        .iter()
        .find(|(alias, _)| *alias == var)
        .map_or(var, |(_, name)| *name);
    SETTINGS.iter().find(|setting| setting.env_var() == var)
}

impl Setting {
    /// `SEEDFEED_` and the key in capitals, `_` for `.`: `SEEDFEED_FEED_TITLE`.
    pub fn env_var(&self) -> String {
        format!(
            "{PREFIX}{}",
            self.key.to_ascii_uppercase().replace('.', "_")
        )
    }

    /// The other names of this setting's variable (`SEEDFEED_LOG`).
    pub fn env_aliases(&self) -> impl Iterator<Item = &'static str> {
        let var = self.env_var();
        ALIASES
            .iter()
            .filter(move |(_, name)| *name == var)
            .map(|(alias, _)| *alias)
    }
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

    #[test]
    fn every_key_has_its_own_variable() {
        let mut names: Vec<String> = SETTINGS.iter().map(Setting::env_var).collect();
        names.extend(ALIASES.iter().map(|(alias, _)| alias.to_string()));
        names.extend(NOT_KEYS.iter().map(|name| name.to_string()));
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "two keys share a variable: {names:?}");
        for (alias, name) in ALIASES {
            assert!(
                SETTINGS.iter().any(|setting| setting.env_var() == *name),
                "{alias} stands for {name}, which is no setting"
            );
        }
    }

    #[test]
    fn each_type_reads_its_variable() {
        let layer = env_layer(vars(&[
            ("SEEDFEED_SEEDS", "/srv/seeds"),
            ("SEEDFEED_ACCESS_LOG", "yes"),
            (
                "SEEDFEED_WEBSUB_HUBS",
                "https://a.example/, https://b.example/",
            ),
            ("SEEDFEED_WEBSUB_SUBSCRIBE_PER_MINUTE", " 5 "),
        ]))
        .unwrap();
        assert_eq!(
            layer.seeds.as_deref(),
            Some(std::path::Path::new("/srv/seeds"))
        );
        assert_eq!(layer.access_log, Some(true));
        assert_eq!(
            layer.websub.hubs.unwrap(),
            ["https://a.example/", "https://b.example/"]
        );
        assert_eq!(layer.websub.subscribe_per_minute, Some(5));
        let err = env_layer(vars(&[("SEEDFEED_WEBSUB_HUB", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("SEEDFEED_WEBSUB_HUB"), "{err}");
    }

    /// A malformed value says what is expected in words, and which key it is for; an
    /// unknown name suggests the nearest known one.
    #[test]
    fn errors_say_what_is_expected_and_what_was_meant() {
        for (pairs, expected) in [
            (
                ("SEEDFEED_SETTLE_MS", "fast"),
                "environment variable SEEDFEED_SETTLE_MS: \"fast\" is not a whole number \
                 of milliseconds (config key `settle_ms`)",
            ),
            (
                ("SEEDFEED_ACCESS_LOG", "maybe"),
                "environment variable SEEDFEED_ACCESS_LOG: \"maybe\" is not true or false \
                 (config key `access_log`)",
            ),
            (
                ("SEEDFEED_WEBSUB_LEASE_SECONDS", "-1"),
                "environment variable SEEDFEED_WEBSUB_LEASE_SECONDS: \"-1\" is not a whole \
                 number of seconds (config key `websub.lease_seconds`)",
            ),
            (
                ("SEEDFEED_FEEDSIZE", "7"),
                "environment variable SEEDFEED_FEEDSIZE: no such setting; did you mean \
                 SEEDFEED_FEED_SIZE?",
            ),
            (
                ("SEEDFEED_CONFIG_FILE", "x"),
                "environment variable SEEDFEED_CONFIG_FILE: no such setting; did you mean \
                 SEEDFEED_CONFIG?",
            ),
            (
                ("SEEDFEED_COLOUR", "blue"),
                "environment variable SEEDFEED_COLOUR: no such setting (see \
                 config/seedfeed.toml for the keys)",
            ),
        ] {
            let err = env_layer(vars(&[pairs])).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }
}
