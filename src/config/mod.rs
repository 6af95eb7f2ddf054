//! Configuration: every layer (built-in defaults, the TOML file, `SEEDFEED_*` environment,
//! command-line flags) is the same all-`Option` [`Layer`]; they are merged once, in that
//! order, and the result is validated once into a [`Config`].
//!
//! Each key is declared once, in the table of `settings.rs`: the layer structs, defaults,
//! merge, per-key checks, environment names (`env.rs`), what a reload applies
//! (`reload.rs`) and the help text (`help.rs`) all come from it. `validate` here converts
//! the checked values into the typed [`Config`] and holds the rules between keys.
//!
//! Errors are for the person who wrote the value: an unknown key or variable names the
//! nearest known one (`suggest.rs`), a value of the wrong type says what is expected in
//! words, and a value that fails its check says which layer set it (the file, a
//! `SEEDFEED_*` variable or a flag).

mod activitypub;
mod admin;
mod authors;
mod content;
mod env;
mod help;
mod podcast;
pub mod reload;
mod settings;
mod suggest;
mod table;
mod watch;

pub use activitypub::{ActivityPubConfig, ActorImage, ActorType, ObjectType};
pub use admin::AdminListen;
pub use authors::{AuthorLayer, AuthorsLayer, is_email};
pub use content::FeedContent;
pub use env::env_layer;
pub use help::{flag_help, settings_help};
pub use podcast::{
    APPLE_CATEGORIES, Podcast, PodcastCategory, PodcastLayer, PodcastMedium, PodcastTableLayer,
    PodcastType, Podcasts,
};
pub use settings::{ActivityPubLayer, ExportLayer, FeedLayer, Layer, SETTINGS, WebSubLayer};
pub use table::{Reload, Setting};
pub use watch::WatchBackend;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::model::Person;
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

    /// Reads the text of a config file. Each key is read through its row of the table,
    /// so that an unknown one names the nearest known one and a value of the wrong type
    /// says what is expected in words; the error is the first key at fault.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        let mut layer = Layer::default();
        for (name, value) in &table {
            match (Setting::named(name), value) {
                (None, _) if name == authors::TABLE => {
                    layer.authors = Some(authors::from_toml(value)?);
                }
                (None, _) if name == podcast::TABLE => {
                    layer.podcast = Some(podcast::from_toml(value)?);
                }
                (Some(setting), _) => setting
                    .set_from_toml(&mut layer, value)
                    .map_err(|message| format!("key `{name}`: {message}"))?,
                (None, toml::Value::Table(keys)) if is_table(name) => {
                    for (key, value) in keys {
                        let setting = Setting::named(&format!("{name}.{key}"))
                            .ok_or_else(|| unknown_key(key, Some(name)))?;
                        setting
                            .set_from_toml(&mut layer, value)
                            .map_err(|message| format!("key `{key}` in [{name}]: {message}"))?;
                    }
                }
                (None, _) if is_table(name) => {
                    return Err(format!(
                        "`{name}` is a table: write [{name}] and its keys on the lines below it"
                    ));
                }
                // `[author.jane]`: a table of tables, so the nearest is `[authors]`, not
                // the `author` key of `[feed]`.
                (None, toml::Value::Table(_)) if authors::is_near(name) => {
                    return Err(format!(
                        "unknown key `{name}`; did you mean [{}.KEY]?",
                        authors::TABLE
                    ));
                }
                (None, toml::Value::Table(_)) if podcast::is_near(name) => {
                    return Err(format!(
                        "unknown key `{name}`; did you mean [{}]?",
                        podcast::TABLE
                    ));
                }
                (None, _) => return Err(unknown_key(name, None)),
            }
        }
        Ok(layer)
    }
}

/// Whether `name` is a table of the file (`[feed]`).
fn is_table(name: &str) -> bool {
    SETTINGS.iter().any(|setting| {
        setting
            .key
            .split_once('.')
            .is_some_and(|(table, _)| table == name)
    })
}

/// The error of an unknown key of the file (in `table`, or at the top level), with the
/// nearest known key or table: its own table's keys first, then the others'.
fn unknown_key(name: &str, table: Option<&str>) -> String {
    let place = |key: &'static str| match (key.split_once('.'), table) {
        (Some((t, bare)), Some(own)) if t == own => (bare, format!("`{bare}`")),
        (Some((t, bare)), _) => (bare, format!("`{bare}` in [{t}]")),
        (None, None) => (key, format!("`{key}`")),
        (None, Some(_)) => (key, format!("`{key}` at the top, above any [table]")),
    };
    let own_first = SETTINGS
        .iter()
        .filter(|s| s.key.split_once('.').map(|(t, _)| t) == table)
        .chain(
            SETTINGS
                .iter()
                .filter(|s| s.key.split_once('.').map(|(t, _)| t) != table),
        )
        .map(|s| place(s.key));
    let tables = SETTINGS
        .iter()
        .filter_map(|s| s.key.split_once('.').map(|(t, _)| t))
        .filter(|_| table.is_none())
        .map(|t| (t, format!("[{t}]")));
    let at = table.map(|t| format!(" in [{t}]")).unwrap_or_default();
    match suggest::nearest(name, own_first.chain(tables)) {
        Some(known) => format!("unknown key `{name}`{at}; did you mean {known}?"),
        None => format!("unknown key `{name}`{at} (config/seedfeed.toml lists every key)"),
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
    pub activitypub: ActivityPubConfig,
    /// `[export] dir`: the folder the daemon keeps the static export in, if any.
    pub export_dir: Option<PathBuf>,
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
    /// At the cap, how long an answer must have found no room in its socket before its
    /// connection may be closed for a newcomer.
    pub stalled_answer_timeout: Duration,
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
    /// Whether the feeds carry the whole article or its summary alone.
    pub content: FeedContent,
    /// The feeds' copyright statement, when there is one.
    pub rights: Option<String>,
    /// The `[authors.{key}]` tables: the people articles may name by key.
    pub authors: BTreeMap<String, Person>,
    /// `[podcast]` and `[podcast.sections.{slug}]`: the feeds that are podcasts.
    pub podcasts: Podcasts,
}

/// Where the layers above the defaults come from.
#[derive(Debug, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Layer,
    pub flags: Layer,
}

/// Merges defaults < file < environment < flags and validates the result. A value that
/// fails its check says which layer set it.
pub fn load(sources: Sources) -> Result<Config, ConfigError> {
    let file = match &sources.file {
        Some(path) => Layer::from_file(path)?,
        None => Layer::default(),
    };
    let merged = sources
        .flags
        .clone()
        .over(sources.env.clone())
        .over(file.clone())
        .over(Layer::defaults());
    validate(merged).map_err(|error| error.with_origin(&sources, &file))
}

impl ConfigError {
    /// An invalid value, with the layer that set it: the flag, the variable or the file.
    fn with_origin(self, sources: &Sources, file: &Layer) -> Self {
        let Self::Invalid { key, message } = self else {
            return self;
        };
        let origin = Setting::named(key).and_then(|setting| {
            if (setting.is_set)(&sources.flags) {
                Some(format!("set by --{}", key.replace('_', "-")))
            } else if (setting.is_set)(&sources.env) {
                Some(format!("set by {}", setting.env_var()))
            } else if (setting.is_set)(file) {
                let path = sources
                    .file
                    .as_deref()
                    .unwrap_or(Path::new("the config file"));
                Some(format!("set in {}", path.display()))
            } else {
                None
            }
        });
        let message = match origin {
            Some(origin) => format!("{message} ({origin})"),
            None => message,
        };
        Self::Invalid { key, message }
    }
}

/// Checks every key (its row's check in the table), then converts the values into a
/// [`Config`] and applies the rules between keys; the messages name the key at fault.
/// `layer` is the merged layers, the defaults included.
pub fn validate(layer: Layer) -> Result<Config, ConfigError> {
    let values = layer.resolve()?;
    let listen = parse_listen(&values.listen).map_err(|message| ConfigError::Invalid {
        key: "listen",
        message,
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
    let content =
        FeedContent::from_name(&values.feed.content).map_err(|message| ConfigError::Invalid {
            key: "feed.content",
            message,
        })?;
    let limits = Limits {
        max_connections: values.max_connections,
        header_read_timeout: Duration::from_secs(values.header_read_timeout),
        stalled_answer_timeout: Duration::from_secs(values.stalled_answer_timeout),
        idle_timeout: Duration::from_secs(values.idle_timeout),
        request_timeout: Duration::from_secs(values.request_timeout),
        shutdown_timeout: Duration::from_secs(values.shutdown_timeout),
        max_header_bytes: values.max_header_bytes,
    };
    let export_dir = export_dir(values.export.dir, &values.seeds, &values.data)?;
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
            content,
            rights: values.feed.rights,
            authors: authors::validate(values.authors)?,
            podcasts: podcast::validate(values.podcast)?,
        },
        websub: websub_config(values.websub)?,
        activitypub: activitypub::validate(values.activitypub)?,
        export_dir,
    })
}

/// The export folder, which must be apart from the seeds folder (the daemon would read
/// its own pages as articles) and the data folder, compared as absolute paths.
fn export_dir(
    dir: Option<PathBuf>,
    seeds: &Path,
    data: &Path,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    if dir.as_os_str().is_empty() {
        return Err(ConfigError::Invalid {
            key: "export.dir",
            message: "must not be empty".into(),
        });
    }
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let export = absolute(&dir);
    for (name, other) in [("seeds", absolute(seeds)), ("data", absolute(data))] {
        if export.starts_with(&other) || other.starts_with(&export) {
            return Err(ConfigError::Invalid {
                key: "export.dir",
                message: format!(
                    "{} overlaps the {name} folder {}: the export needs a folder of its own",
                    dir.display(),
                    other.display()
                ),
            });
        }
    }
    Ok(Some(dir))
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

/// The address a `listen` value names: an IP address and a port (`127.0.0.1:8080`,
/// `[::1]:8080`); a port alone (`:8080`, or `*:8080`), which listens on every IPv4
/// interface, as `0.0.0.0:8080` (Go reads `:8080` so; `[::]:8080` listens on IPv6 too,
/// where the system has it); or `localhost:8080`, the IPv4 loopback `127.0.0.1:8080`
/// (never a lookup: RFC 6761 reserves the name for loopback). No other name is looked
/// up: an address that depends on DNS at start-up fails in ways far from its cause.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let trimmed = text.trim();
    if let Ok(addr) = trimmed.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let expected = || {
        format!(
            "{text:?} is not an address like 127.0.0.1:8080, [::1]:8080, :8080 (every \
             interface) or localhost:8080"
        )
    };
    let (host, port) = trimmed.rsplit_once(':').ok_or_else(expected)?;
    let port: u16 = port.parse().map_err(|_| expected())?;
    let ip = match host {
        "" | "*" => Ipv4Addr::UNSPECIFIED,
        host if host.eq_ignore_ascii_case("localhost") => Ipv4Addr::LOCALHOST,
        _ => return Err(expected()),
    };
    Ok(SocketAddr::new(ip.into(), port))
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

impl Config {
    /// The base URL links start with: `base_url`, or (unset) the address the daemon
    /// listens on, `addr` (the bound one, when the port was chosen by the system).
    pub fn base_url_or(&self, addr: SocketAddr) -> Url {
        self.base_url.clone().unwrap_or_else(|| base_url_for(addr))
    }
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

/// Logs, once at start-up, that every link will point at an address only this machine
/// can open: the daemon listens on every interface (`0.0.0.0`, `::`, `:8080`), so it is
/// meant to be reached from elsewhere, but `base_url` is not set, so the links are made
/// from the loopback address ([`base_url_for`]). Says what to set.
pub fn warn_if_links_are_local(bound: SocketAddr, base_url: Option<&Url>) {
    if base_url.is_some() || !bound.ip().is_unspecified() {
        return;
    }
    let links = base_url_for(bound);
    tracing::warn!(
        listen = %bound,
        links = base_str(&links),
        "base_url is not set and the server is on every interface: every link in the feeds \
         and pages points at {}, which readers on other machines cannot open; set base_url \
         in the config file, SEEDFEED_BASE_URL or --base-url to the address readers use",
        base_str(&links)
    );
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

    /// An unknown key of the file names the key meant: in its own table first, else
    /// where it belongs.
    #[test]
    fn unknown_keys_suggest_the_nearest_known_one() {
        for (toml, expected) in [
            (
                "feed_sise = 3",
                "unknown key `feed_sise`; did you mean `feed_size`?",
            ),
            (
                "[feed]\ntitel = \"x\"",
                "unknown key `titel` in [feed]; did you mean `title`?",
            ),
            (
                "settle = 500",
                "unknown key `settle`; did you mean `settle_ms`?",
            ),
            (
                "title = \"News\"",
                "unknown key `title`; did you mean `title` in [feed]?",
            ),
            (
                "[feed]\nfeed_size = 3",
                "unknown key `feed_size` in [feed]; did you mean `feed_size` at the top, above any [table]?",
            ),
            (
                "[webusb]\nhub = true",
                "unknown key `webusb`; did you mean [websub]?",
            ),
            (
                "colour = \"blue\"",
                "unknown key `colour` (config/seedfeed.toml lists every key)",
            ),
            (
                "feed = \"x\"",
                "`feed` is a table: write [feed] and its keys on the lines below it",
            ),
        ] {
            assert_eq!(Layer::from_toml(toml).unwrap_err(), expected, "{toml}");
        }
    }

    /// A value of the wrong type in the file says what is expected, in words, and how to
    /// write it when it was only quoted.
    #[test]
    fn bad_values_in_the_file_say_what_is_expected_in_words() {
        for (toml, expected) in [
            (
                "settle_ms = \"fast\"",
                "key `settle_ms`: \"fast\" is not a whole number of milliseconds",
            ),
            (
                "rescan_interval = 1.5",
                "key `rescan_interval`: 1.5 is not a whole number of seconds",
            ),
            (
                "feed_size = -3",
                "key `feed_size`: -3 is not a whole number of entries",
            ),
            (
                "settle_ms = \"500\"",
                "key `settle_ms`: \"500\" is not a whole number of milliseconds; \
                 write it without quotes: settle_ms = 500",
            ),
            (
                "access_log = \"yes\"",
                "key `access_log`: \"yes\" is not true or false; write it without quotes: \
                 access_log = true",
            ),
            ("access_log = 1", "key `access_log`: 1 is not true or false"),
            (
                "[feed]\ntitle = 3",
                "key `title` in [feed]: 3 is not text in quotes",
            ),
            ("listen = 8080", "key `listen`: 8080 is not text in quotes"),
            (
                "[websub]\nhubs = \"https://hub.example/\"",
                "key `hubs` in [websub]: \"https://hub.example/\" is not a list of texts in \
                 quotes, like [\"https://hub.example/\"]; write it without quotes: hubs = \
                 [\"https://hub.example/\"]",
            ),
        ] {
            assert_eq!(Layer::from_toml(toml).unwrap_err(), expected, "{toml}");
        }
        // Every type still reads what it should.
        let layer = Layer::from_toml(
            "seeds = \"s\"\nsettle_ms = 20\naccess_log = true\n\
             [websub]\nhubs = [\"https://a.example/\"]\n[feed]\ntitle = \"T\"",
        )
        .unwrap();
        assert_eq!(layer.seeds, Some(PathBuf::from("s")));
        assert_eq!(layer.settle_ms, Some(20));
        assert_eq!(layer.access_log, Some(true));
        assert_eq!(layer.websub.hubs.unwrap(), ["https://a.example/"]);
        assert_eq!(layer.feed.title.as_deref(), Some("T"));
    }

    /// Every key that holds a number says what it counts.
    #[test]
    fn every_number_has_a_unit() {
        for setting in SETTINGS {
            if setting.expected == "a whole number" {
                assert!(
                    settings::unit(setting.key).is_some(),
                    "`{}` holds a number: give it a unit in UNITS (settings.rs)",
                    setting.key
                );
            }
        }
    }

    /// A value that fails its check names the layer that set it.
    #[test]
    fn an_invalid_value_names_the_layer_that_set_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("seedfeed.toml");
        std::fs::write(&file, "feed_size = 0\n").unwrap();
        let load_with = |env: Layer, flags: Layer| {
            load(Sources {
                file: Some(file.clone()),
                env,
                flags,
            })
            .unwrap_err()
            .to_string()
        };
        let err = load_with(Layer::default(), Layer::default());
        assert_eq!(
            err,
            format!(
                "config key `feed_size`: 0 is not between 1 and 10000 (set in {})",
                file.display()
            )
        );
        let env = Layer {
            feed_size: Some(20_000),
            ..Layer::default()
        };
        let err = load_with(env, Layer::default());
        assert!(err.ends_with("(set by SEEDFEED_FEED_SIZE)"), "{err}");
        // The file's feed_size, put right by the environment, is not the fault here.
        let env = Layer {
            feed_size: Some(5),
            ..Layer::default()
        };
        let flags = Layer {
            listen: Some("nowhere".into()),
            ..Layer::default()
        };
        let err = load_with(env, flags);
        assert!(err.starts_with("config key `listen`: \"nowhere\""), "{err}");
        assert!(err.ends_with("(set by --listen)"), "{err}");
    }

    /// `:8080` is every IPv4 interface, `localhost:8080` the IPv4 loopback; other names
    /// are not looked up.
    #[test]
    fn listen_takes_a_port_alone_and_localhost() {
        for (text, addr) in [
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            ("[::1]:8080", "[::1]:8080"),
            ("[::]:80", "[::]:80"),
            (":8080", "0.0.0.0:8080"),
            ("*:8080", "0.0.0.0:8080"),
            ("localhost:8080", "127.0.0.1:8080"),
            ("LocalHost:0", "127.0.0.1:0"),
            (" :9 ", "0.0.0.0:9"),
        ] {
            assert_eq!(parse_listen(text).unwrap().to_string(), addr, "{text}");
        }
        for text in [
            "8080",
            "localhost",
            ":",
            ":http",
            ":70000",
            "example.org:80",
            "nope",
        ] {
            let err = parse_listen(text).unwrap_err();
            assert!(
                err.contains("is not an address like 127.0.0.1:8080") && err.contains(":8080"),
                "{text}: {err}"
            );
        }
        let layer = Layer {
            listen: Some(":8080".into()),
            ..Layer::defaults()
        };
        let config = validate(layer).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(
            base_str(&base_url_for(config.listen)),
            "http://127.0.0.1:8080"
        );
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
    fn the_export_folder_keeps_apart_from_the_seeds_and_the_data() {
        let with = |dir: &str| {
            let mut layer = Layer::defaults();
            layer.seeds = Some("site/seeds".into());
            layer.data = Some("/var/lib/seedfeed".into());
            layer.export.dir = Some(dir.into());
            validate(layer)
        };
        for overlapping in [
            "site/seeds/out",
            "site",
            "./site/seeds",
            "/var/lib/seedfeed",
        ] {
            let err = with(overlapping).unwrap_err();
            assert!(
                err.to_string().contains("`export.dir`"),
                "{overlapping}: {err}"
            );
        }
        let config = with("site/export").unwrap();
        assert_eq!(config.export_dir, Some(PathBuf::from("site/export")));
        assert_eq!(validate(Layer::defaults()).unwrap().export_dir, None);
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
            err.to_string()
                .ends_with("10001 is not between 1 and 10000"),
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

    /// `[feed] content` is full or summary, from any layer; another word is refused with
    /// the key, the value and the words it may be.
    #[test]
    fn feed_content_is_full_or_summary() {
        assert_eq!(
            validate(Layer::defaults()).unwrap().feed.content,
            FeedContent::Full
        );
        let file = Layer::from_toml("[feed]\ncontent = \"summary\"").unwrap();
        assert_eq!(
            validate(file.over(Layer::defaults())).unwrap().feed.content,
            FeedContent::Summary
        );
        let env = env_layer([("SEEDFEED_FEED_CONTENT".to_owned(), "summary".to_owned())]);
        assert_eq!(
            validate(env.unwrap().over(Layer::defaults()))
                .unwrap()
                .feed
                .content,
            FeedContent::Summary
        );
        for (toml, value) in [
            ("[feed]\ncontent = \"excerpt\"", "\"excerpt\""),
            ("[feed]\ncontent = \"Full\"", "\"Full\""),
        ] {
            let file = Layer::from_toml(toml).unwrap();
            let err = validate(file.over(Layer::defaults())).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "config key `feed.content`: {value} is not full (the whole article) or \
                     summary (its first paragraph)"
                ),
                "{toml}"
            );
        }
        assert_eq!(
            Layer::from_toml("[feed]\ncontent = true").unwrap_err(),
            "key `content` in [feed]: true is not text in quotes"
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

    /// The commented example of `config/seedfeed.toml` that starts at `# {header}` and
    /// ends at the first blank line, uncommented, validated over the defaults.
    fn example_config(header: &str) -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/seedfeed.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let example = text.split_once(&format!("\n# {header}\n")).unwrap().1;
        let uncommented: String = std::iter::once(header)
            .chain(
                example
                    .lines()
                    .take_while(|line| !line.is_empty())
                    .map(|line| line.trim_start_matches("# ")),
            )
            .collect::<Vec<_>>()
            .join("\n");
        validate(
            Layer::from_toml(&uncommented)
                .unwrap()
                .over(Layer::defaults()),
        )
        .unwrap()
    }

    /// The commented `[podcast]` example, uncommented, is a valid podcast with a section.
    #[test]
    fn the_example_podcast_loads() {
        let config = example_config("[podcast]");
        let podcasts = &config.feed.podcasts;
        let main = podcasts.main.as_ref().unwrap();
        assert_eq!(main.image, "podcast/cover.jpg");
        assert_eq!(main.owner_email, "jane@example.org");
        assert_eq!(main.owner_name.as_deref(), Some("Jane Doe"));
        assert_eq!(podcasts.sections["tech"].category.name, "Technology");
        assert_eq!(podcasts.sections["tech"].image, main.image);
    }

    /// The commented `[authors.jane]` example, uncommented, is a valid author.
    #[test]
    fn the_example_author_loads() {
        let config = example_config("[authors.jane]");
        let jane = &config.feed.authors["jane"];
        assert_eq!(jane.name, "Jane Doe");
        assert_eq!(jane.email.as_deref(), Some("jane@example.org"));
        assert_eq!(jane.uri.as_deref(), Some("https://example.org/jane"));
    }
}
