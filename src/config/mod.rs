//! Configuration: every layer (built-in defaults, the TOML file, `SEEDFEED_*` environment,
//! command-line flags) is the same all-`Option` [`Layer`]; they are merged once, in that
//! order, and the result is validated once into a [`Config`].

mod env;

pub use env::env_layer;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// One layer of configuration; `None` means "this layer does not say".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub seeds: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub listen: Option<String>,
    pub base_url: Option<String>,
    pub id_namespace: Option<String>,
    pub feed_size: Option<usize>,
    pub settle_ms: Option<u64>,
    pub max_file_bytes: Option<u64>,
    pub rescan_interval: Option<u64>,
    pub tombstone_days: Option<u32>,
    pub cache_max_age: Option<u32>,
    pub max_connections: Option<usize>,
    pub workers: Option<usize>,
    pub header_read_timeout: Option<u64>,
    pub idle_timeout: Option<u64>,
    pub request_timeout: Option<u64>,
    pub shutdown_timeout: Option<u64>,
    pub max_header_bytes: Option<usize>,
    pub max_url_bytes: Option<usize>,
    pub access_log: Option<bool>,
    pub log_level: Option<String>,
    #[serde(default)]
    pub feed: FeedLayer,
    #[serde(default)]
    pub websub: WebSubLayer,
}

/// The `[feed]` table: what the feeds say about themselves.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeedLayer {
    pub title: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub language: Option<String>,
}

/// The `[websub]` table: pushing changes to aggregators (W3C WebSub).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebSubLayer {
    pub hub: Option<bool>,
    pub hubs: Option<Vec<String>>,
    pub allow_private_callbacks: Option<bool>,
    pub lease_seconds: Option<u64>,
    pub min_lease_seconds: Option<u64>,
    pub max_lease_seconds: Option<u64>,
    pub retry_seconds: Option<u64>,
    pub request_timeout: Option<u64>,
    pub max_concurrent_requests: Option<usize>,
    pub subscribe_per_minute: Option<u32>,
}

impl Layer {
    /// The built-in defaults, which make `seedfeed serve` work from a fresh clone.
    pub fn defaults() -> Self {
        Self {
            seeds: Some(PathBuf::from("seeds")),
            data: Some(PathBuf::from("data")),
            listen: Some("127.0.0.1:8080".into()),
            base_url: None,
            id_namespace: Some("seedfeed".into()),
            feed_size: Some(50),
            settle_ms: Some(500),
            max_file_bytes: Some(1024 * 1024),
            rescan_interval: Some(300),
            tombstone_days: Some(30),
            cache_max_age: Some(300),
            max_connections: Some(1024),
            workers: None,
            header_read_timeout: Some(10),
            idle_timeout: Some(60),
            request_timeout: Some(60),
            shutdown_timeout: Some(10),
            max_header_bytes: Some(16 * 1024),
            max_url_bytes: Some(2048),
            access_log: Some(false),
            log_level: Some("info".into()),
            feed: FeedLayer {
                title: Some("seedfeed".into()),
                description: Some("News articles, syndicated by seedfeed".into()),
                author: Some("seedfeed".into()),
                language: Some("en".into()),
            },
            websub: WebSubLayer {
                hub: Some(false),
                hubs: Some(Vec::new()),
                allow_private_callbacks: Some(false),
                lease_seconds: Some(10 * 86_400),
                min_lease_seconds: Some(3_600),
                max_lease_seconds: Some(30 * 86_400),
                retry_seconds: Some(6 * 3_600),
                request_timeout: Some(10),
                max_concurrent_requests: Some(16),
                subscribe_per_minute: Some(30),
            },
        }
    }

    /// Reads a TOML file. Unknown keys are an error naming the key and the file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    /// `self` wins wherever it says something; `lower` fills the rest.
    pub fn over(self, lower: Layer) -> Layer {
        Layer {
            seeds: self.seeds.or(lower.seeds),
            data: self.data.or(lower.data),
            listen: self.listen.or(lower.listen),
            base_url: self.base_url.or(lower.base_url),
            id_namespace: self.id_namespace.or(lower.id_namespace),
            feed_size: self.feed_size.or(lower.feed_size),
            settle_ms: self.settle_ms.or(lower.settle_ms),
            max_file_bytes: self.max_file_bytes.or(lower.max_file_bytes),
            rescan_interval: self.rescan_interval.or(lower.rescan_interval),
            tombstone_days: self.tombstone_days.or(lower.tombstone_days),
            cache_max_age: self.cache_max_age.or(lower.cache_max_age),
            max_connections: self.max_connections.or(lower.max_connections),
            workers: self.workers.or(lower.workers),
            header_read_timeout: self.header_read_timeout.or(lower.header_read_timeout),
            idle_timeout: self.idle_timeout.or(lower.idle_timeout),
            request_timeout: self.request_timeout.or(lower.request_timeout),
            shutdown_timeout: self.shutdown_timeout.or(lower.shutdown_timeout),
            max_header_bytes: self.max_header_bytes.or(lower.max_header_bytes),
            max_url_bytes: self.max_url_bytes.or(lower.max_url_bytes),
            access_log: self.access_log.or(lower.access_log),
            log_level: self.log_level.or(lower.log_level),
            feed: FeedLayer {
                title: self.feed.title.or(lower.feed.title),
                description: self.feed.description.or(lower.feed.description),
                author: self.feed.author.or(lower.feed.author),
                language: self.feed.language.or(lower.feed.language),
            },
            websub: self.websub.over(lower.websub),
        }
    }
}

impl WebSubLayer {
    fn over(self, lower: WebSubLayer) -> WebSubLayer {
        WebSubLayer {
            hub: self.hub.or(lower.hub),
            hubs: self.hubs.or(lower.hubs),
            allow_private_callbacks: self
                .allow_private_callbacks
                .or(lower.allow_private_callbacks),
            lease_seconds: self.lease_seconds.or(lower.lease_seconds),
            min_lease_seconds: self.min_lease_seconds.or(lower.min_lease_seconds),
            max_lease_seconds: self.max_lease_seconds.or(lower.max_lease_seconds),
            retry_seconds: self.retry_seconds.or(lower.retry_seconds),
            request_timeout: self.request_timeout.or(lower.request_timeout),
            max_concurrent_requests: self
                .max_concurrent_requests
                .or(lower.max_concurrent_requests),
            subscribe_per_minute: self.subscribe_per_minute.or(lower.subscribe_per_minute),
        }
    }
}

/// The validated configuration the daemon and the commands run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub seeds: PathBuf,
    pub data: PathBuf,
    pub listen: SocketAddr,
    /// Where absolute URLs point. `None`: derived from the bound address at start-up.
    pub base_url: Option<Url>,
    pub id_namespace: String,
    pub feed_size: usize,
    pub settle: Duration,
    pub max_file_bytes: u64,
    pub rescan_interval: Duration,
    /// How long deleted entries are announced as RFC 6721 tombstones.
    pub tombstone_days: u32,
    /// `Cache-Control: max-age` of documents that change (seconds).
    pub cache_max_age: u32,
    pub limits: Limits,
    /// HTTP worker threads, each with its own listening socket.
    pub workers: usize,
    pub max_url_bytes: usize,
    pub access_log: bool,
    pub log_level: String,
    pub feed: FeedMeta,
    pub websub: WebSubConfig,
}

/// How seedfeed pushes changes: the hubs it announces and pings, and its own hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSubConfig {
    /// Serve the built-in hub at `/hub`.
    pub hub: bool,
    /// External hubs, announced in every feed and pinged when a feed changes.
    pub hubs: Vec<Url>,
    /// Accept callbacks on loopback, private and link-local addresses (tests, intranets).
    pub allow_private_callbacks: bool,
    /// The lease granted when a subscriber asks for none, and the bounds of any other.
    pub lease: Duration,
    pub min_lease: Duration,
    pub max_lease: Duration,
    /// How long a failed delivery or ping is retried before it is dropped.
    pub retry_for: Duration,
    /// The longest an outgoing request may take, connection included.
    pub request_timeout: Duration,
    /// Outgoing requests in flight at once, over every host.
    pub max_concurrent_requests: usize,
    /// Subscription requests accepted per callback host and minute.
    pub subscribe_per_minute: u32,
}

/// What one HTTP connection may take; the listener gives each connection these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    pub max_header_bytes: usize,
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMeta {
    pub title: String,
    pub description: String,
    pub author: String,
    pub language: String,
}

/// Where the layers above the defaults come from.
#[derive(Debug, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Layer,
    pub flags: Layer,
}

/// Merges defaults < file < environment < flags and validates the result.
pub fn load(sources: Sources) -> Result<Config, ConfigError> {
    let file = match &sources.file {
        Some(path) => Layer::from_file(path)?,
        None => Layer::default(),
    };
    let merged = sources
        .flags
        .over(sources.env)
        .over(file)
        .over(Layer::defaults());
    validate(merged)
}

/// Checks every value once; the messages name the key at fault.
pub fn validate(layer: Layer) -> Result<Config, ConfigError> {
    let defaults = Layer::defaults();
    let required = |value: Option<String>, key: &'static str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Invalid {
                key,
                message: "must not be empty".into(),
            })
    };
    let listen_text = required(layer.listen, "listen")?;
    let listen = listen_text
        .parse::<SocketAddr>()
        .map_err(|e| ConfigError::Invalid {
            key: "listen",
            message: format!("{listen_text:?} is not an address like 127.0.0.1:8080 ({e})"),
        })?;
    let base_url = layer.base_url.as_deref().map(parse_base_url).transpose()?;
    let feed_size = layer.feed_size.or(defaults.feed_size).unwrap_or(50);
    if !(1..=10_000).contains(&feed_size) {
        return Err(ConfigError::Invalid {
            key: "feed_size",
            message: format!("{feed_size} is outside 1..=10000"),
        });
    }
    let max_file_bytes = layer.max_file_bytes.unwrap_or(1024 * 1024);
    if max_file_bytes == 0 {
        return Err(ConfigError::Invalid {
            key: "max_file_bytes",
            message: "must be at least 1".into(),
        });
    }
    let rescan_interval = layer.rescan_interval.unwrap_or(300);
    if rescan_interval == 0 {
        return Err(ConfigError::Invalid {
            key: "rescan_interval",
            message: "must be at least 1 second".into(),
        });
    }
    let seconds =
        |value: Option<u64>, key: &'static str| at_least(value, key, 1).map(Duration::from_secs);
    let limits = Limits {
        max_connections: at_least(layer.max_connections, "max_connections", 1)?,
        header_read_timeout: seconds(layer.header_read_timeout, "header_read_timeout")?,
        idle_timeout: seconds(layer.idle_timeout, "idle_timeout")?,
        request_timeout: seconds(layer.request_timeout, "request_timeout")?,
        shutdown_timeout: Duration::from_secs(layer.shutdown_timeout.unwrap_or(10)),
        // hyper's smallest read buffer is 8 KiB.
        max_header_bytes: at_least(layer.max_header_bytes, "max_header_bytes", 8192)?,
    };
    let log_level = required(layer.log_level, "log_level")?;
    // A bare word must be a level: EnvFilter would take "loud" for a target name.
    let is_level = |word: &str| {
        ["off", "error", "warn", "info", "debug", "trace"]
            .contains(&word.to_ascii_lowercase().as_str())
    };
    let is_filter = log_level.contains(['=', ',']) || is_level(&log_level);
    if !is_filter || tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
        return Err(ConfigError::Invalid {
            key: "log_level",
            message: format!(
                "{log_level:?} is not a level (error, warn, info, debug, trace) or filter"
            ),
        });
    }
    let language = required(layer.feed.language, "feed.language")?;
    if !language.split('-').all(|part| {
        !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric())
    }) {
        return Err(ConfigError::Invalid {
            key: "feed.language",
            message: format!("{language:?} is not a language tag like en or pt-BR"),
        });
    }
    let websub = validate_websub(layer.websub)?;
    Ok(Config {
        seeds: layer.seeds.unwrap_or_else(|| PathBuf::from("seeds")),
        data: layer.data.unwrap_or_else(|| PathBuf::from("data")),
        listen,
        base_url,
        id_namespace: required(layer.id_namespace, "id_namespace")?,
        feed_size,
        settle: Duration::from_millis(layer.settle_ms.unwrap_or(500)),
        max_file_bytes,
        rescan_interval: Duration::from_secs(rescan_interval),
        tombstone_days: layer.tombstone_days.unwrap_or(30),
        cache_max_age: layer.cache_max_age.unwrap_or(300),
        limits,
        workers: match layer.workers {
            Some(n) => at_least(Some(n), "workers", 1)?,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        },
        max_url_bytes: at_least(layer.max_url_bytes, "max_url_bytes", 64)?,
        access_log: layer.access_log.unwrap_or(false),
        log_level,
        feed: FeedMeta {
            title: required(layer.feed.title, "feed.title")?,
            description: required(layer.feed.description, "feed.description")?,
            author: required(layer.feed.author, "feed.author")?,
            language,
        },
        websub,
    })
}

fn validate_websub(layer: WebSubLayer) -> Result<WebSubConfig, ConfigError> {
    let mut hubs = Vec::new();
    for text in layer.hubs.unwrap_or_default() {
        let url = Url::parse(&text).map_err(|e| ConfigError::Invalid {
            key: "websub.hubs",
            message: format!("{text:?} is not a URL ({e})"),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::Invalid {
                key: "websub.hubs",
                message: format!("{text:?} must be an http:// or https:// URL"),
            });
        }
        hubs.push(url);
    }
    let seconds =
        |value: Option<u64>, key: &'static str| at_least(value, key, 1).map(Duration::from_secs);
    let lease = seconds(layer.lease_seconds, "websub.lease_seconds")?;
    let min_lease = seconds(layer.min_lease_seconds, "websub.min_lease_seconds")?;
    let max_lease = seconds(layer.max_lease_seconds, "websub.max_lease_seconds")?;
    if !(min_lease <= lease && lease <= max_lease) {
        return Err(ConfigError::Invalid {
            key: "websub.lease_seconds",
            message: format!(
                "{} is not between min_lease_seconds ({}) and max_lease_seconds ({})",
                lease.as_secs(),
                min_lease.as_secs(),
                max_lease.as_secs()
            ),
        });
    }
    Ok(WebSubConfig {
        hub: layer.hub.unwrap_or(false),
        hubs,
        allow_private_callbacks: layer.allow_private_callbacks.unwrap_or(false),
        lease,
        min_lease,
        max_lease,
        retry_for: seconds(layer.retry_seconds, "websub.retry_seconds")?,
        request_timeout: seconds(layer.request_timeout, "websub.request_timeout")?,
        max_concurrent_requests: at_least(
            layer.max_concurrent_requests,
            "websub.max_concurrent_requests",
            1,
        )?,
        subscribe_per_minute: at_least(
            layer.subscribe_per_minute,
            "websub.subscribe_per_minute",
            1,
        )?,
    })
}

/// A number that must be set (the defaults do) and at least `min`.
fn at_least<T: PartialOrd + Copy + std::fmt::Display>(
    value: Option<T>,
    key: &'static str,
    min: T,
) -> Result<T, ConfigError> {
    match value {
        Some(v) if v >= min => Ok(v),
        Some(v) => Err(ConfigError::Invalid {
            key,
            message: format!("{v} is below the minimum of {min}"),
        }),
        None => Err(ConfigError::Invalid {
            key,
            message: "must be set".into(),
        }),
    }
}

/// An absolute http(s) URL without query or fragment; the trailing slash is dropped so
/// paths can be appended as `{base}/feed.atom`.
pub fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        key: "base_url",
        message,
    };
    let url = Url::parse(text).map_err(|e| invalid(format!("{text:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(format!(
            "{text:?} must be an http:// or https:// URL"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{text:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

/// The base URL as a string without a trailing slash.
pub fn base_str(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// The base URL the daemon uses when none is configured: its own bound address, with a
/// wildcard address replaced by loopback (a wildcard is not something a reader can open).
pub fn base_url_for(addr: SocketAddr) -> Url {
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    Url::parse(&format!("http://{host}:{}", addr.port()))
        .expect("an IP address and a port form a valid URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let config = validate(Layer::defaults()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.feed_size, 50);
        assert_eq!(config.max_file_bytes, 1 << 20);
        assert_eq!(config.base_url, None);
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let file = Layer::from_toml(
            "feed_size = 10\nsettle_ms = 100\nlisten = \"127.0.0.1:1\"\n[feed]\ntitle = \"File\"",
        )
        .unwrap();
        let env = Layer {
            feed_size: Some(20),
            listen: Some("127.0.0.1:2".into()),
            ..Layer::default()
        };
        let flags = Layer {
            listen: Some("127.0.0.1:3".into()),
            ..Layer::default()
        };
        let config = validate(flags.over(env).over(file).over(Layer::defaults())).unwrap();
        assert_eq!(config.listen.port(), 3);
        assert_eq!(config.feed_size, 20);
        assert_eq!(config.settle, Duration::from_millis(100));
        assert_eq!(config.feed.title, "File");
        assert_eq!(config.feed.language, "en");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Layer::from_toml("seeds = \"s\"\nfeed_sise = 3\n").unwrap_err();
        assert!(err.contains("feed_sise"), "{err}");
        let err = Layer::from_toml("[feed]\ntitel = \"x\"\n").unwrap_err();
        assert!(err.contains("titel"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (layer, key) in [
            (
                Layer {
                    listen: Some("nope".into()),
                    ..Layer::default()
                },
                "listen",
            ),
            (
                Layer {
                    base_url: Some("ftp://x".into()),
                    ..Layer::default()
                },
                "base_url",
            ),
            (
                Layer {
                    feed_size: Some(0),
                    ..Layer::default()
                },
                "feed_size",
            ),
            (
                Layer {
                    log_level: Some("loud".into()),
                    ..Layer::default()
                },
                "log_level",
            ),
        ] {
            match validate(layer.over(Layer::defaults())) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn base_url_from_bound_address() {
        assert_eq!(
            base_url_for("0.0.0.0:8080".parse().unwrap()).as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            base_str(&base_url_for("127.0.0.1:9".parse().unwrap())),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            base_str(&parse_base_url("https://x.org/news/").unwrap()),
            "https://x.org/news"
        );
    }
}

#[cfg(test)]
mod example_file_tests {
    use super::*;

    /// The documented example must load, name every key, and hold the defaults.
    #[test]
    fn example_config_loads_and_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/seedfeed.toml");
        let from_file = validate(Layer::from_file(&path).unwrap()).unwrap();
        assert_eq!(from_file, validate(Layer::defaults()).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        // Every key a layer can hold (base_url has no default, so it is named here).
        let defaults: toml::Table =
            toml::from_str(&toml::to_string(&Layer::defaults()).unwrap()).unwrap();
        let mut keys = vec!["base_url".to_owned()];
        for (key, value) in &defaults {
            match value.as_table() {
                Some(table) => keys.extend(table.keys().cloned()),
                None => keys.push(key.clone()),
            }
        }
        assert!(keys.len() > 10, "{keys:?}");
        for key in keys {
            assert!(
                text.contains(&format!("{key} = ")),
                "config/seedfeed.toml does not document `{key}`"
            );
        }
    }
}
