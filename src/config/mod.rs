//! Configuration: every layer (built-in defaults, the TOML file, `SEEDFEED_*` environment,
//! command-line flags) is the same all-`Option` [`Layer`]; they are merged once, in that
//! order, and the result is validated once into a [`Config`].
//!
//! Each key is declared once, in the table of `settings.rs`: the layer structs, defaults,
//! merge, per-key checks, environment names (`env.rs`), what a reload applies
//! (`reload.rs`) and the help text (`help.rs`) all come from it. `validate` here converts
//! the checked values into the typed [`Config`] and holds the rules between keys.

mod admin;
mod env;
mod help;
pub mod reload;
mod settings;
mod table;
mod watch;

pub use admin::AdminListen;
pub use env::env_layer;
pub use help::{flag_help, settings_help};
pub use settings::{FeedLayer, Layer, SETTINGS, WebSubLayer};
pub use table::{Reload, Setting};
pub use watch::WatchBackend;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use settings::WebSubValues;

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

impl Layer {
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
}

/// The validated configuration the daemon and the commands run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub seeds: PathBuf,
    pub data: PathBuf,
    pub listen: SocketAddr,
    /// Where `/status` and `/metrics` are served: never on `listen`.
    pub admin_listen: AdminListen,
    /// Where absolute URLs point. `None`: derived from the bound address at start-up.
    pub base_url: Option<Url>,
    /// Set: the namespace a new database records; unset, it records its base URL's host.
    pub id_namespace: Option<String>,
    pub feed_size: usize,
    pub settle: Duration,
    pub max_file_bytes: u64,
    pub rescan_interval: Duration,
    /// Which backend watches the seeds folder: the one named, else the platform's default.
    pub watch: WatchBackend,
    /// How often the poll backend looks at the whole folder.
    pub poll_interval: Duration,
    /// How long deleted entries are announced as RFC 6721 tombstones.
    pub tombstone_days: u32,
    /// `Cache-Control: max-age` of documents that change (seconds).
    pub cache_max_age: u32,
    pub limits: Limits,
    /// HTTP worker threads, each with its own event loop on the shared listening socket.
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

/// Checks every key (its row's check in the table), then converts the values into a
/// [`Config`] and applies the rules between keys; the messages name the key at fault.
/// `layer` is the merged layers, the defaults included.
pub fn validate(layer: Layer) -> Result<Config, ConfigError> {
    let values = layer.resolve()?;
    let listen = values
        .listen
        .parse::<SocketAddr>()
        .map_err(|e| ConfigError::Invalid {
            key: "listen",
            message: format!(
                "{:?} is not an address like 127.0.0.1:8080 ({e})",
                values.listen
            ),
        })?;
    let admin_listen = admin_listen(&values.admin_listen, listen)?;
    let base_url = values.base_url.as_deref().map(parse_base_url).transpose()?;
    let watch = values
        .watch
        .as_deref()
        .map_or(
            Ok(WatchBackend::platform_default()),
            WatchBackend::from_name,
        )
        .map_err(|message| ConfigError::Invalid {
            key: "watch",
            message,
        })?;
    let limits = Limits {
        max_connections: values.max_connections,
        header_read_timeout: Duration::from_secs(values.header_read_timeout),
        idle_timeout: Duration::from_secs(values.idle_timeout),
        request_timeout: Duration::from_secs(values.request_timeout),
        shutdown_timeout: Duration::from_secs(values.shutdown_timeout),
        max_header_bytes: values.max_header_bytes,
    };
    Ok(Config {
        seeds: values.seeds,
        data: values.data,
        listen,
        admin_listen,
        base_url,
        id_namespace: values.id_namespace,
        feed_size: values.feed_size,
        settle: Duration::from_millis(values.settle_ms),
        max_file_bytes: values.max_file_bytes,
        rescan_interval: Duration::from_secs(values.rescan_interval),
        watch,
        poll_interval: Duration::from_millis(values.poll_interval_ms),
        tombstone_days: values.tombstone_days,
        cache_max_age: values.cache_max_age,
        limits,
        workers: values
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        max_url_bytes: values.max_url_bytes,
        access_log: values.access_log,
        log_level: values.log_level,
        feed: FeedMeta {
            title: values.feed.title,
            description: values.feed.description,
            author: values.feed.author,
            language: values.feed.language,
        },
        websub: websub_config(values.websub)?,
    })
}

/// The admin listener's address, which must not be the public one.
fn admin_listen(text: &str, listen: SocketAddr) -> Result<AdminListen, ConfigError> {
    let invalid = |message| ConfigError::Invalid {
        key: "admin_listen",
        message,
    };
    let admin = AdminListen::from_text(text).map_err(invalid)?;
    if admin == AdminListen::Tcp(listen) && listen.port() != 0 {
        return Err(invalid(format!(
            "{listen} is also `listen`: the admin listener needs an address of its own"
        )));
    }
    Ok(admin)
}

/// The hubs as URLs, and the default lease between its bounds.
fn websub_config(values: WebSubValues) -> Result<WebSubConfig, ConfigError> {
    let mut hubs = Vec::new();
    for text in values.hubs {
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
    let (lease, min_lease, max_lease) = (
        values.lease_seconds,
        values.min_lease_seconds,
        values.max_lease_seconds,
    );
    if !(min_lease <= lease && lease <= max_lease) {
        return Err(ConfigError::Invalid {
            key: "websub.lease_seconds",
            message: format!(
                "{lease} is not between min_lease_seconds ({min_lease}) and \
                 max_lease_seconds ({max_lease})"
            ),
        });
    }
    Ok(WebSubConfig {
        hub: values.hub,
        hubs,
        allow_private_callbacks: values.allow_private_callbacks,
        lease: Duration::from_secs(lease),
        min_lease: Duration::from_secs(min_lease),
        max_lease: Duration::from_secs(max_lease),
        retry_for: Duration::from_secs(values.retry_seconds),
        request_timeout: Duration::from_secs(values.request_timeout),
        max_concurrent_requests: values.max_concurrent_requests,
        subscribe_per_minute: values.subscribe_per_minute,
    })
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

/// The default namespace of the entry ids: the base URL's host, and its path when it
/// has one (`news.example.org`, `example.github.io/news`); not the scheme or the port,
/// so a move to https or behind a proxy keeps the ids.
pub fn namespace_host(base: &Url) -> String {
    let host = base.host_str().unwrap_or_default();
    match base.path().trim_end_matches('/') {
        "" => host.to_owned(),
        path => format!("{host}{path}"),
    }
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
            (
                Layer {
                    watch: Some("inotify".into()),
                    ..Layer::default()
                },
                "watch",
            ),
            (
                Layer {
                    poll_interval_ms: Some(10),
                    ..Layer::default()
                },
                "poll_interval_ms",
            ),
        ] {
            match validate(layer.over(Layer::defaults())) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn each_check_of_the_table_names_its_key() {
        let mut layer = Layer::defaults();
        layer.websub.subscribe_per_minute = Some(0);
        let err = validate(layer).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config key `websub.subscribe_per_minute`: 0 is below the minimum of 1"
        );
        let mut layer = Layer::defaults();
        layer.feed.language = Some("en_US".into());
        let err = validate(layer).unwrap_err();
        assert!(err.to_string().contains("`feed.language`"), "{err}");
        let layer = Layer {
            workers: Some(0),
            ..Layer::defaults()
        };
        let err = validate(layer).unwrap_err();
        assert!(err.to_string().contains("`workers`"), "{err}");
        let layer = Layer {
            feed_size: Some(10_001),
            ..Layer::defaults()
        };
        let err = validate(layer).unwrap_err();
        assert!(
            err.to_string().ends_with("10001 is outside 1..=10000"),
            "{err}"
        );
    }

    #[test]
    fn rules_between_keys_and_missing_values_name_the_key() {
        let mut layer = Layer::defaults();
        layer.websub.min_lease_seconds = Some(20 * 86_400);
        let err = validate(layer).unwrap_err();
        assert!(err.to_string().contains("`websub.lease_seconds`"), "{err}");
        // Without the defaults under it, a layer misses keys.
        let err = validate(Layer::default()).unwrap_err();
        assert_eq!(err.to_string(), "config key `seeds`: must be set");
    }

    /// `watch` and `poll_interval_ms` come from any layer like every key, and a backend
    /// that does not exist is an error naming the key.
    #[test]
    fn the_watcher_is_chosen_by_name() {
        let defaults = validate(Layer::defaults()).unwrap();
        assert_eq!(defaults.watch, WatchBackend::platform_default());
        assert_eq!(defaults.poll_interval, Duration::from_secs(1));
        let vars = |pairs: &[(&str, &str)]| {
            env_layer(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
        };
        let env = vars(&[
            ("SEEDFEED_WATCH", "poll"),
            ("SEEDFEED_POLL_INTERVAL_MS", "250"),
        ]);
        let config = validate(env.over(Layer::defaults())).unwrap();
        assert_eq!(config.watch, WatchBackend::Poll);
        assert_eq!(config.poll_interval, Duration::from_millis(250));
        let file = Layer::from_toml("watch = \"notify\"").unwrap();
        assert_eq!(
            validate(file.over(Layer::defaults())).unwrap().watch,
            WatchBackend::Notify
        );
        let env = vars(&[("SEEDFEED_WATCH", "fsevents")]);
        let err = validate(env.over(Layer::defaults())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config key `watch`: \"fsevents\" is not native, notify or poll"
        );
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

    /// The documented example must load, name every key of the table, and hold the
    /// defaults.
    #[test]
    fn example_config_loads_and_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/seedfeed.toml");
        let from_file = validate(Layer::from_file(&path).unwrap()).unwrap();
        assert_eq!(from_file, validate(Layer::defaults()).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        // Every key of the table, in its table: `title` under `[feed]` for `feed.title`.
        assert!(SETTINGS.len() > 10, "{SETTINGS:?}");
        for setting in SETTINGS {
            let (table, name) = setting.key.split_once('.').unwrap_or(("", setting.key));
            let body = text
                .split("\n[")
                .find(|part| part.starts_with(&format!("{table}]")) || table.is_empty())
                .unwrap();
            assert!(
                body.contains(&format!("\n{name} = ")) || body.contains(&format!("\n# {name} = ")),
                "config/seedfeed.toml does not document `{}`",
                setting.key
            );
        }
    }
}
