//! What a configuration reloaded on SIGHUP changes. The keys the table marks `Live` take
//! effect at once: what the feeds say about themselves and how much of each article they
//! carry (`[feed]`), the `[authors]` tables, the `[podcast]` tables, `feed_size` and
//! `log_level`. The others are read only at start-up (the folders and the socket are open,
//! the limits are in the workers, ids and archive pages depend on `id_namespace` and
//! `base_url`, the hubs are in every feed); a change to one of them is logged as needing a
//! restart, and the running value stays.

use super::{Config, Reload, SETTINGS};

/// The keys whose value differs, by when they take effect; each list sorted by key, so
/// that the log reads the same whatever the order of the table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub live: Vec<&'static str>,
    pub need_restart: Vec<&'static str>,
}

/// Compares every key of the running configuration with the reloaded one.
pub fn compare(running: &Config, reloaded: &Config) -> Changes {
    let mut changes = Changes::default();
    if running.feed.authors != reloaded.feed.authors {
        changes.live.push(super::authors::TABLE);
    }
    if running.feed.podcasts != reloaded.feed.podcasts {
        changes.live.push(super::podcast::TABLE);
    }
    for setting in SETTINGS {
        if !(setting.changed)(running, reloaded) {
            continue;
        }
        match setting.reload {
            Reload::Live => changes.live.push(setting.key),
            Reload::Restart => changes.need_restart.push(setting.key),
        }
    }
    changes.live.sort_unstable();
    changes.need_restart.sort_unstable();
    changes
}

/// The configuration in force after a reload: the live keys from the reloaded file, the
/// rest as the daemon started with them.
pub fn in_force(running: &Config, reloaded: &Config) -> Config {
    let mut now = running.clone();
    for setting in SETTINGS.iter().filter(|s| s.reload == Reload::Live) {
        (setting.take)(&mut now, reloaded);
    }
    now.feed.authors.clone_from(&reloaded.feed.authors);
    now.feed.podcasts.clone_from(&reloaded.feed.podcasts);
    now
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
        layer.feed.content = Some("summary".into());
        layer.authors = Some(crate::config::AuthorsLayer::from([(
            "jane".to_owned(),
            crate::config::AuthorLayer {
                name: Some("Jane Doe".into()),
                ..Default::default()
            },
        )]));
        let reloaded = config(layer);

        let changes = compare(&running, &reloaded);

        assert_eq!(
            changes.live,
            [
                "authors",
                "feed.content",
                "feed.title",
                "feed_size",
                "log_level"
            ]
        );
        assert_eq!(changes.need_restart, ["data", "listen", "shutdown_timeout"]);
        let now = in_force(&running, &reloaded);
        assert_eq!(now.feed.title, "Renamed");
        assert_eq!(now.feed.content, crate::config::FeedContent::Summary);
        assert_eq!(now.feed_size, 20);
        assert_eq!(now.feed.authors["jane"].name, "Jane Doe");
        assert_eq!(now.log_level, "debug");
        assert_eq!(now.listen, running.listen, "kept until a restart");
        assert_eq!(now.data, running.data);
        // Reloading the same file again reports only what still needs the restart.
        let again = compare(&now, &reloaded);
        assert!(again.live.is_empty(), "{again:?}");
        assert_eq!(again.need_restart, ["data", "listen", "shutdown_timeout"]);
    }

    /// A podcast table is applied at once, like the authors'.
    #[test]
    fn podcasts_are_live() {
        let running = config(Layer::default());
        let file = Layer::from_toml(
            "[podcast]\nimage = \"a.jpg\"\ncategory = \"Comedy\"\nowner_email = \"a@b.org\"",
        )
        .unwrap();
        let reloaded = config(file);
        let changes = compare(&running, &reloaded);
        assert_eq!(changes.live, ["podcast"]);
        assert!(changes.need_restart.is_empty(), "{changes:?}");
        let now = in_force(&running, &reloaded);
        assert_eq!(now.feed.podcasts, reloaded.feed.podcasts);
    }

    #[test]
    fn each_websub_key_is_reported_by_its_name() {
        let running = config(Layer::default());
        let mut layer = Layer::default();
        layer.websub.hubs = Some(vec!["https://hub.example.org/".into()]);
        layer.websub.retry_seconds = Some(60);
        let changes = compare(&running, &config(layer));
        assert!(changes.live.is_empty(), "{changes:?}");
        assert_eq!(
            changes.need_restart,
            ["websub.hubs", "websub.retry_seconds"]
        );
    }
}
