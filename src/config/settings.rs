//! The table of settings: every key, declared once. From it `table.rs` makes the layer
//! structs ([`Layer`], [`FeedLayer`], [`WebSubLayer`]), their defaults and merge, each
//! key's check, the `SEEDFEED_*` names, what a reload applies, and the `--help` text;
//! and the tables that are not one value a key: `[authors.{key}]` (read and checked in
//! `authors.rs`) and `[podcast]` with its sections (`podcast.rs`).
//!
//! A key is one row under its doc line: `key: layer type = default, check, reload => the
//! field of `Config` it becomes;`. Adding one takes its row, its line in
//! `config/seedfeed.toml` (a test compares the two), and its conversion in `validate`.

use std::path::PathBuf;

use super::authors::AuthorsLayer;
use super::podcast::PodcastLayer;
use super::table::{any, min, nonempty, range, settings};

settings! {
    /// One layer of configuration; `None` means "this layer does not say".
    Layer / Values {
        /// Folder of the article files (.txt, .md, .html).
        seeds: PathBuf = Some("seeds".into()), any, Restart => seeds;
        /// Folder of the database (seedfeed.db, SQLite), created if missing.
        data: PathBuf = Some("data".into()), any, Restart => data;
        /// Address and port to listen on: IP:PORT, :PORT (every IPv4 interface) or localhost:PORT.
        listen: String = Some("127.0.0.1:8080".into()), nonempty, Restart => listen;
        /// Address of /status and /metrics: IP:PORT, unix:PATH of a Unix socket, or off.
        admin_listen: String = Some("127.0.0.1:8081".into()), nonempty,
            Restart => admin_listen;
        /// Public URL that absolute links start with (unset: http:// and the listen address).
        base_url: String = None, any, Restart => base_url;
        /// Namespace of the entry ids (unset: the host of base_url), recorded in the database at first start.
        id_namespace: String = None, nonempty, Restart => id_namespace;
        /// Entries in /feed.rss, /feed.atom and on the index page, newest first.
        feed_size: usize = Some(50), range(1..=10_000), Live => feed_size;
        /// Milliseconds a file must stay unchanged before it is read.
        settle_ms: u64 = Some(500), any, Restart => settle;
        /// Files larger than this many bytes are rejected unread.
        max_file_bytes: u64 = Some(1024 * 1024), min(1), Restart => max_file_bytes;
        /// Seconds between full comparisons of the seeds folder with the database.
        rescan_interval: u64 = Some(300), min(1), Restart => rescan_interval;
        /// Watcher of the seeds folder: native (Linux only), notify or poll (unset: native on Linux, notify elsewhere).
        watch: String = None, nonempty, Restart => watch;
        /// Milliseconds between two looks at the whole seeds folder when watch is poll.
        poll_interval_ms: u64 = Some(1000), min(100), Restart => poll_interval;
        /// Days a deleted article is still announced in the Atom feeds (RFC 6721).
        tombstone_days: u32 = Some(30), any, Restart => tombstone_days;
        /// Seconds caches may keep a feed or page (Cache-Control: max-age).
        cache_max_age: u32 = Some(300), any, Restart => cache_max_age;
        /// Open connections at most (about 20 KiB each, 27 KiB with a request head under way); at it, a connection waiting for a request or an answer stalled on its client makes room for a newcomer, else a 503.
        max_connections: usize = Some(4096), min(1), Restart => limits.max_connections;
        /// Seconds a request head may take to arrive (and a kept-alive connection to wait).
        header_read_timeout: u64 = Some(10), min(1),
            Restart => limits.header_read_timeout;
        /// At max_connections, seconds an answer must have waited on a client that takes none of it before it may be closed for a newcomer.
        stalled_answer_timeout: u64 = Some(2), min(1),
            Restart => limits.stalled_answer_timeout;
        /// Seconds a connection may move no byte before it is closed.
        idle_timeout: u64 = Some(60), min(1), Restart => limits.idle_timeout;
        /// Seconds one response may take to send.
        request_timeout: u64 = Some(60), min(1), Restart => limits.request_timeout;
        /// Bytes of a request head at most, 8192 or more (hyper's smallest buffer); over it, 431.
        max_header_bytes: usize = Some(16 * 1024), min(8192),
            Restart => limits.max_header_bytes;
        /// Bytes of a request URL at most; a longer one gets 414.
        max_url_bytes: usize = Some(2048), min(64), Restart => max_url_bytes;
        /// HTTP worker threads, each with its own event loop (unset: one per CPU core).
        workers: usize = None, min(1), Restart => workers;
        /// On SIGTERM, seconds to let requests in flight finish before closing.
        shutdown_timeout: u64 = Some(10), any, Restart => limits.shutdown_timeout;
        /// One log line per request.
        access_log: bool = Some(false), any, Restart => access_log;
        /// Log level (error, warn, info, debug, trace) or a tracing filter.
        log_level: String = Some("info".into()), log_filter, Live => log_level;
    }

    /// The `[feed]` table: what the feeds say about themselves.
    [feed] FeedLayer / FeedValues {
        /// Title of the feeds and of the index page.
        title: String = Some("seedfeed".into()), nonempty, Live => feed.title;
        /// Description of the feeds.
        description: String = Some("News articles, syndicated by seedfeed".into()), nonempty,
            Live => feed.description;
        /// Author of the feeds: atom:author in Atom, dc:creator in RSS.
        author: String = Some("seedfeed".into()), nonempty, Live => feed.author;
        /// Language tag of the articles, like en or pt-BR.
        language: String = Some("en".into()), language_tag, Live => feed.language;
        /// What the feeds carry of each article: full (its summary and whole text) or summary (the summary alone).
        content: String = Some("full".into()), nonempty, Live => feed.content;
        /// Copyright statement of the feeds: atom:rights in Atom, copyright in RSS (unset: none).
        rights: String = None, nonempty, Live => feed.rights;
    }

    /// The `[websub]` table: pushing changes to aggregators (W3C WebSub).
    [websub] WebSubLayer / WebSubValues {
        /// Serve a hub at /hub that pushes each new version of a feed to its subscribers.
        hub: bool = Some(false), any, Restart => websub.hub;
        /// External hubs to announce in the feeds and to ping when a feed changes.
        hubs: Vec<String> = Some(Vec::new()), any, Restart => websub.hubs;
        /// Accept subscriber callbacks on loopback, private and link-local addresses.
        allow_private_callbacks: bool = Some(false), any,
            Restart => websub.allow_private_callbacks;
        /// Seconds of a subscription's lease when the subscriber asks for none.
        lease_seconds: u64 = Some(10 * 86_400), min(1), Restart => websub.lease;
        /// Seconds of the shortest lease granted.
        min_lease_seconds: u64 = Some(3_600), min(1), Restart => websub.min_lease;
        /// Seconds of the longest lease granted.
        max_lease_seconds: u64 = Some(30 * 86_400), min(1), Restart => websub.max_lease;
        /// Seconds a failed delivery or ping is retried before it is dropped.
        retry_seconds: u64 = Some(6 * 3_600), min(1), Restart => websub.retry_for;
        /// Seconds an outgoing request (verification, delivery, ping) may take in all.
        request_timeout: u64 = Some(10), min(1), Restart => websub.request_timeout;
        /// Outgoing requests in flight at once, over every host.
        max_concurrent_requests: usize = Some(16), min(1),
            Restart => websub.max_concurrent_requests;
        /// Subscription requests accepted per callback host and minute; more get 429.
        subscribe_per_minute: u32 = Some(30), min(1),
            Restart => websub.subscribe_per_minute;
    }

    /// The `[activitypub]` table: the site as a fediverse account (docs/fediverse.md).
    [activitypub] ActivityPubLayer / ActivityPubValues {
        /// Make the site an ActivityPub actor that Mastodon and the rest of the fediverse can follow.
        enabled: bool = Some(false), any, Restart => activitypub.enabled;
        /// The account's name, as in @news@example.org: letters, digits and _ . -
        username: String = Some("news".into()), nonempty, Restart => activitypub.username;
        /// What the account is: Service (an automated account) or Person.
        actor_type: String = Some("Service".into()), nonempty, Restart => activitypub.actor_type;
        /// What each article is: Note (shown whole in timelines) or Article (Mastodon shows a title and a link).
        object_type: String = Some("Note".into()), nonempty, Restart => activitypub.object_type;
        /// Display name of the account (unset: feed.title).
        name: String = None, nonempty, Restart => activitypub.name;
        /// Profile text of the account (unset: feed.description).
        summary: String = None, nonempty, Restart => activitypub.summary;
        /// Avatar: a path below the seeds folder, or an https:// URL (unset: none).
        icon: String = None, nonempty, Restart => activitypub.icon;
        /// Header image of the profile: a path below the seeds folder, or an https:// URL (unset: none).
        image: String = None, nonempty, Restart => activitypub.image;
        /// The fediverse account credited in link previews (fediverse:creator), like @alice@example.social.
        attribution: String = None, nonempty, Restart => activitypub.attribution;
        /// Send each article's summary as a content warning, behind which Mastodon folds the text.
        content_warning: bool = Some(false), any, Restart => activitypub.content_warning;
        /// Fetch actors and deliver to inboxes on loopback, private and link-local addresses.
        allow_private: bool = Some(false), any, Restart => activitypub.allow_private;
        /// Deliveries sent to one host per second at most.
        deliveries_per_second: u32 = Some(5), min(1), Restart => activitypub.deliveries_per_second;
        /// Requests the inbox accepts per sending host and minute; more get 429.
        inbox_per_minute: u32 = Some(300), min(1), Restart => activitypub.inbox_per_minute;
    }

    /// The `[export]` table: the static export the daemon keeps current (docs/static-hosting.md).
    [export] ExportLayer / ExportValues {
        /// Folder the daemon keeps the static export in, as render --out writes it, after every change (unset: none).
        dir: PathBuf = None, any, Restart => export_dir;
    }

    maps {
        /// The `[authors.{key}]` tables: people articles may name by key (`authors.rs`).
        authors: AuthorsLayer;
        /// `[podcast]` and `[podcast.sections.{slug}]`: the feeds that are podcasts (`podcast.rs`).
        podcast: PodcastLayer;
    }
}

/// What each number counts, for the words of an error ("a whole number of
/// milliseconds"). Every key that holds a number has its unit here (a test checks).
const UNITS: &[(&str, &str)] = &[
    ("feed_size", "entries"),
    ("settle_ms", "milliseconds"),
    ("max_file_bytes", "bytes"),
    ("rescan_interval", "seconds"),
    ("poll_interval_ms", "milliseconds"),
    ("tombstone_days", "days"),
    ("cache_max_age", "seconds"),
    ("max_connections", "connections"),
    ("header_read_timeout", "seconds"),
    ("stalled_answer_timeout", "seconds"),
    ("idle_timeout", "seconds"),
    ("request_timeout", "seconds"),
    ("max_header_bytes", "bytes"),
    ("max_url_bytes", "bytes"),
    ("workers", "threads"),
    ("shutdown_timeout", "seconds"),
    ("websub.lease_seconds", "seconds"),
    ("websub.min_lease_seconds", "seconds"),
    ("websub.max_lease_seconds", "seconds"),
    ("websub.retry_seconds", "seconds"),
    ("websub.request_timeout", "seconds"),
    ("websub.max_concurrent_requests", "requests"),
    ("websub.subscribe_per_minute", "requests a minute"),
    ("activitypub.deliveries_per_second", "deliveries a second"),
    ("activitypub.inbox_per_minute", "requests a minute"),
];

/// The unit of a key that holds a number.
pub(super) fn unit(key: &str) -> Option<&'static str> {
    UNITS
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, unit)| *unit)
}

/// A level or a filter `tracing_subscriber::EnvFilter` accepts. A bare word must be a
/// level: EnvFilter would take "loud" for a target name.
fn log_filter<S: AsRef<str>>(text: &S) -> Result<(), String> {
    nonempty(text)?;
    let text = text.as_ref();
    let is_level = ["off", "error", "warn", "info", "debug", "trace"]
        .contains(&text.to_ascii_lowercase().as_str());
    let is_filter = text.contains(['=', ',']) || is_level;
    if is_filter && tracing_subscriber::EnvFilter::try_new(text).is_ok() {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not a level (error, warn, info, debug, trace) or filter"
        ))
    }
}

/// A BCP 47 language tag in its simple shape: parts of 1 to 8 letters or digits.
fn language_tag<S: AsRef<str>>(text: &S) -> Result<(), String> {
    nonempty(text)?;
    let text = text.as_ref();
    let part_ok = |part: &str| {
        !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric())
    };
    if text.split('-').all(part_ok) {
        Ok(())
    } else {
        Err(format!("{text:?} is not a language tag like en or pt-BR"))
    }
}
