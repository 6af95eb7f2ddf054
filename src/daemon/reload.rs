//! What a configuration reloaded on SIGHUP changes. Some keys take effect at once: what
//! the feeds say about themselves (`[feed]`), `feed_size` and `log_level`. The others are
//! read only at start-up (the folders and the socket are open, the limits are in the
//! workers, ids and archive pages depend on `id_namespace` and `base_url`); a change to
//! one of them is logged as needing a restart, and the running value stays.

use crate::config::{Config, FeedMeta, Limits};

/// The keys whose value differs, by when they take effect.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub live: Vec<&'static str>,
    pub need_restart: Vec<&'static str>,
}

/// Compares every key of the running configuration with the reloaded one. The
/// destructuring is exhaustive, so a new key cannot be forgotten here.
pub fn compare(running: &Config, reloaded: &Config) -> Changes {
    let Config {
        seeds,
        data,
        listen,
        base_url,
        id_namespace,
        feed_size,
        settle,
        max_file_bytes,
        rescan_interval,
        tombstone_days,
        cache_max_age,
        limits,
        workers,
        max_url_bytes,
        access_log,
        log_level,
        feed,
        websub,
    } = reloaded;
    let Limits {
        max_connections,
        header_read_timeout,
        idle_timeout,
        request_timeout,
        max_header_bytes,
        shutdown_timeout,
    } = limits;
    let FeedMeta {
        title,
        description,
        author,
        language,
    } = feed;
    let was = running;
    let live = [
        ("feed.title", *title != was.feed.title),
        ("feed.description", *description != was.feed.description),
        ("feed.author", *author != was.feed.author),
        ("feed.language", *language != was.feed.language),
        ("feed_size", *feed_size != was.feed_size),
        ("log_level", *log_level != was.log_level),
    ];
    let need_restart = [
        ("seeds", *seeds != was.seeds),
        ("data", *data != was.data),
        ("listen", *listen != was.listen),
        ("base_url", *base_url != was.base_url),
        ("id_namespace", *id_namespace != was.id_namespace),
        ("settle_ms", *settle != was.settle),
        ("max_file_bytes", *max_file_bytes != was.max_file_bytes),
        ("rescan_interval", *rescan_interval != was.rescan_interval),
        ("tombstone_days", *tombstone_days != was.tombstone_days),
        ("cache_max_age", *cache_max_age != was.cache_max_age),
        (
            "max_connections",
            *max_connections != was.limits.max_connections,
        ),
        (
            "header_read_timeout",
            *header_read_timeout != was.limits.header_read_timeout,
        ),
        ("idle_timeout", *idle_timeout != was.limits.idle_timeout),
        (
            "request_timeout",
            *request_timeout != was.limits.request_timeout,
        ),
        (
            "max_header_bytes",
            *max_header_bytes != was.limits.max_header_bytes,
        ),
        (
            "shutdown_timeout",
            *shutdown_timeout != was.limits.shutdown_timeout,
        ),
        ("workers", *workers != was.workers),
        ("max_url_bytes", *max_url_bytes != was.max_url_bytes),
        ("access_log", *access_log != was.access_log),
        // The hubs are in every feed and the hub's limits in its tasks.
        ("websub", *websub != was.websub),
    ];
    let changed = |keys: &[(&'static str, bool)]| {
        keys.iter()
            .filter(|(_, changed)| *changed)
            .map(|(key, _)| *key)
            .collect()
    };
    Changes {
        live: changed(&live),
        need_restart: changed(&need_restart),
    }
}

/// The configuration in force after a reload: the live keys from the reloaded file, the
/// rest as the daemon started with them.
pub fn in_force(running: &Config, reloaded: &Config) -> Config {
    Config {
        feed: reloaded.feed.clone(),
        feed_size: reloaded.feed_size,
        log_level: reloaded.log_level.clone(),
        ..running.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layer, validate};

    fn config(layer: Layer) -> Config {
        validate(layer.over(Layer::defaults())).unwrap()
    }

    #[test]
    fn the_same_file_changes_nothing() {
        let running = config(Layer::default());
        assert_eq!(compare(&running, &running.clone()), Changes::default());
    }

    #[test]
    fn feed_settings_and_log_level_are_live_the_rest_needs_a_restart() {
        let running = config(Layer::default());
        let mut layer = Layer {
            listen: Some("127.0.0.1:9999".into()),
            data: Some("elsewhere".into()),
            feed_size: Some(20),
            log_level: Some("debug".into()),
            shutdown_timeout: Some(3),
            ..Layer::default()
        };
        layer.feed.title = Some("Renamed".into());
        let reloaded = config(layer);

        let changes = compare(&running, &reloaded);

        assert_eq!(changes.live, ["feed.title", "feed_size", "log_level"]);
        assert_eq!(changes.need_restart, ["data", "listen", "shutdown_timeout"]);
        let now = in_force(&running, &reloaded);
        assert_eq!(now.feed.title, "Renamed");
        assert_eq!(now.feed_size, 20);
        assert_eq!(now.log_level, "debug");
        assert_eq!(now.listen, running.listen, "kept until a restart");
        assert_eq!(now.data, running.data);
        // Reloading the same file again reports only what still needs the restart.
        let again = compare(&now, &reloaded);
        assert!(again.live.is_empty(), "{again:?}");
        assert_eq!(again.need_restart, ["data", "listen", "shutdown_timeout"]);
    }
}
