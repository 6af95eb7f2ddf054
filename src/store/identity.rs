//! What makes this database's site itself: the namespace its entry ids are in, and when
//! it was created, both recorded in `meta` at first start.
//!
//! Ids are UUIDv5 of the key in the namespace, so two sites with a file of the same
//! name (`about.txt`) give it the same id when they share a namespace, and aggregators
//! that de-duplicate by id drop one of them. Unless `id_namespace` is set, a new
//! database takes the host (and path) of its base URL. Once recorded, the namespace is
//! the database's: a later `id_namespace` or a move to a new domain is warned about and
//! ignored, so no id ever changes.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::read::{read_meta, write_meta};
use super::{Store, StoreError};

/// The namespace of every database from before namespaces were recorded, unless its
/// configuration set one.
pub const LEGACY_NAMESPACE: &str = "seedfeed";

const NAMESPACE_KEY: &str = "id_namespace";
const SOURCE_KEY: &str = "id_namespace_source";
const CREATED_KEY: &str = "created";

/// Where a namespace came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `id_namespace` in the configuration.
    Config,
    /// The host of the base URL.
    Host,
    /// A database with entries from before namespaces were recorded.
    Legacy,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Host => "host",
            Self::Legacy => "legacy",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "config" => Self::Config,
            "host" => Self::Host,
            _ => Self::Legacy,
        }
    }
}

/// A namespace and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub source: Source,
}

/// The database's identity, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub namespace: Namespace,
    /// When the database was created (for one from before this was recorded: when it was
    /// first opened by a seedfeed that records it).
    pub created: DateTime<Utc>,
}

/// What to use: the recorded namespace when there is one, else the configured one, else
/// (a new database) the host, or (entries from before recording) the legacy default.
/// The warning says why a configured namespace or a new host is not used.
pub fn choose_namespace(
    recorded: Option<&Namespace>,
    configured: Option<&str>,
    host: &str,
    has_entries: bool,
) -> (Namespace, Option<String>) {
    let Some(recorded) = recorded else {
        let source = match (configured, has_entries) {
            (Some(_), _) => Source::Config,
            (None, true) => Source::Legacy,
            (None, false) => Source::Host,
        };
        let name = match source {
            Source::Config => configured.unwrap_or_default(),
            Source::Legacy => LEGACY_NAMESPACE,
            Source::Host => host,
        };
        let name = name.to_owned();
        return (Namespace { name, source }, None);
    };
    let warning = match configured {
        Some(configured) if configured != recorded.name => Some(format!(
            "id_namespace is \"{configured}\" in the configuration, but this database's ids \
             are in the namespace \"{}\", recorded when it was created; keeping that one, so \
             that no id changes (remove id_namespace to silence this)",
            recorded.name
        )),
        None if recorded.source == Source::Host && host != recorded.name => Some(format!(
            "the base URL's host is now {host}, and this database's ids are in the namespace \
             of {}, where it was created; keeping that one, so that readers and aggregators \
             see no new ids (set id_namespace = \"{}\" to say so and silence this)",
            recorded.name, recorded.name
        )),
        _ => None,
    };
    (recorded.clone(), warning)
}

/// What the database holds of its identity.
struct Recorded {
    namespace: Option<Namespace>,
    created: Option<DateTime<Utc>>,
    has_entries: bool,
}

fn read_recorded(conn: &Connection) -> rusqlite::Result<Recorded> {
    let read = |key: &str| read_meta(conn, key);
    let namespace = match (read(NAMESPACE_KEY)?, read(SOURCE_KEY)?) {
        (Some(name), source) => Some(Namespace {
            name,
            source: source.map_or(Source::Legacy, |s| Source::parse(&s)),
        }),
        (None, _) => None,
    };
    let created = read(CREATED_KEY)?
        .and_then(|ms| ms.parse().ok())
        .and_then(DateTime::from_timestamp_millis);
    let has_entries = conn.query_row("SELECT EXISTS (SELECT 1 FROM entries)", [], |r| r.get(0))?;
    Ok(Recorded {
        namespace,
        created,
        has_entries,
    })
}

impl Store {
    /// The namespace this database's ids are in, or would be at its first start, without
    /// writing anything or warning: for the commands that show ids (`check`, `parse`).
    pub fn namespace_in_use(
        &self,
        configured: Option<&str>,
        host: &str,
    ) -> Result<Namespace, StoreError> {
        let recorded = read_recorded(&self.conn)?;
        let (namespace, _) = choose_namespace(
            recorded.namespace.as_ref(),
            configured,
            host,
            recorded.has_entries,
        );
        Ok(namespace)
    }

    /// The database's identity: recorded at its first start (the namespace from
    /// [`choose_namespace`], the creation time `now`), read afterwards. A namespace or
    /// host that differs from the recorded one is logged as a warning.
    pub fn identity(
        &mut self,
        configured: Option<&str>,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, StoreError> {
        let tx = self.conn.transaction()?;
        let Recorded {
            namespace: recorded,
            created,
            has_entries,
        } = read_recorded(&tx)?;
        let (namespace, warning) =
            choose_namespace(recorded.as_ref(), configured, host, has_entries);
        if let Some(warning) = warning {
            tracing::warn!("{warning}");
        }
        let write = |key: &str, value: &str| write_meta(&tx, key, value);
        if recorded.is_none() {
            write(NAMESPACE_KEY, &namespace.name)?;
            write(SOURCE_KEY, namespace.source.as_str())?;
            tracing::info!(namespace = %namespace.name, from = namespace.source.as_str(), "recorded the namespace of the entry ids");
        }
        let created = match created {
            Some(created) => created,
            None => {
                // To the millisecond, as it is stored: the same date now and after.
                let ms = now.timestamp_millis();
                write(CREATED_KEY, &ms.to_string())?;
                DateTime::from_timestamp_millis(ms).unwrap_or(now)
            }
        };
        tx.commit()?;
        Ok(Identity { namespace, created })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(name: &str, source: Source) -> Namespace {
        Namespace {
            name: name.into(),
            source,
        }
    }

    #[test]
    fn a_new_database_takes_the_configured_namespace_or_the_host() {
        let (chosen, warning) = choose_namespace(None, None, "news.example.org", false);
        assert_eq!(chosen, namespace("news.example.org", Source::Host));
        assert_eq!(warning, None);
        let (chosen, _) = choose_namespace(None, Some("mine"), "news.example.org", false);
        assert_eq!(chosen, namespace("mine", Source::Config));
    }

    /// A database with entries from before namespaces were recorded keeps the ids it has:
    /// the old default, or what its configuration says.
    #[test]
    fn entries_from_before_recording_keep_their_namespace() {
        let (chosen, _) = choose_namespace(None, None, "news.example.org", true);
        assert_eq!(chosen, namespace(LEGACY_NAMESPACE, Source::Legacy));
        let (chosen, _) = choose_namespace(None, Some("mine"), "news.example.org", true);
        assert_eq!(chosen, namespace("mine", Source::Config));
    }

    #[test]
    fn the_recorded_namespace_wins_and_a_change_is_warned_about() {
        let recorded = namespace("old.example.org", Source::Host);
        let same = choose_namespace(Some(&recorded), None, "old.example.org", true);
        assert_eq!(same, (recorded.clone(), None));
        let (chosen, warning) = choose_namespace(Some(&recorded), None, "new.example.org", true);
        assert_eq!(chosen, recorded);
        assert!(warning.unwrap().contains("now new.example.org"));
        let (chosen, warning) = choose_namespace(Some(&recorded), Some("x"), "a.org", true);
        assert_eq!(chosen, recorded);
        assert!(warning.unwrap().contains("\"x\""));
        // A namespace from the configuration does not move with the host.
        let configured = namespace("mine", Source::Config);
        assert_eq!(
            choose_namespace(Some(&configured), None, "new.example.org", true),
            (configured, None)
        );
    }

    #[test]
    fn the_identity_is_recorded_once() {
        let mut store = Store::open_in_memory().unwrap();
        let first = DateTime::from_timestamp_millis(1_000).unwrap();
        let identity = store.identity(None, "a.example", first).unwrap();
        assert_eq!(identity.namespace, namespace("a.example", Source::Host));
        assert_eq!(identity.created, first);
        let later = DateTime::from_timestamp_millis(9_000).unwrap();
        let again = store.identity(Some("other"), "b.example", later).unwrap();
        assert_eq!(again, identity);
    }
}
