//! The site, clock and entries of the tests that render without a daemon: one site, times
//! in whole seconds, entries and tombstones as the store hands them to the renderer. Pure:
//! the fuzz target includes this file too.

use chrono::{DateTime, Utc};
use seedfeed::config::FeedContent;
use seedfeed::model::{Article, Entry, EntryDraft, EntryId, EntryKey, Tombstone};
use seedfeed::normalize::{EntryContext, entry_id, id_namespace, normalize};
use seedfeed::render::Site;

/// The id namespace the tests' daemons record (the host of their base URL, unset:
/// `http://127.0.0.1:{port}`), which the tests' entries use.
pub const NAMESPACE: &str = "127.0.0.1";

/// When the test site's database was created: 2026-01-01T00:00:00Z.
pub const CREATED: i64 = 1_767_225_600;

/// The site every rendering test renders for.
pub fn site() -> Site {
    site_in(NAMESPACE)
}

/// [`site`] with ids in another namespace (the golden files' ids are in their own).
pub fn site_in(namespace: &str) -> Site {
    Site {
        base: "https://news.example.org".into(),
        title: "Example News".into(),
        description: "Articles & more".into(),
        author: "Example Desk".into(),
        language: "en".into(),
        id_namespace: id_namespace(namespace),
        feed_size: 50,
        created: at(CREATED),
        hubs: Vec::new(),
        content: FeedContent::Full,
        rights: None,
    }
}

/// A fixed moment: `secs` after the Unix epoch.
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// The id the daemon gives `key` under the default namespace.
pub fn id_of(key: &str) -> EntryId {
    entry_id(&id_namespace(NAMESPACE), &EntryKey::new(key))
}

/// The entry the daemon makes of `article` under the key `key`.
pub fn draft(key: &str, article: &Article) -> EntryDraft {
    let context = EntryContext::new(id_namespace(NAMESPACE), &base_url(&site()));
    normalize(EntryKey::new(key), article, &context)
}

/// The base URL of `site`.
pub fn base_url(site: &Site) -> url::Url {
    url::Url::parse(&site.base).unwrap()
}

/// An entry of `site` as the store gives it, with its dates in seconds.
pub fn entry(site: &Site, key: &str, article: &Article, published: i64, updated: i64) -> Entry {
    Entry {
        draft: normalize(
            EntryKey::new(key),
            article,
            &EntryContext::new(site.id_namespace, &base_url(site)),
        ),
        published: at(published),
        updated: at(updated),
    }
}

/// The tombstone of the entry `key` of `site`, deleted at `deleted` seconds.
pub fn tombstone(site: &Site, key: &str, section_slug: Option<&str>, deleted: i64) -> Tombstone {
    let key = EntryKey::new(key);
    Tombstone {
        id: entry_id(&site.id_namespace, &key),
        key,
        deleted: at(deleted),
        category_slug: section_slug.map(str::to_owned),
    }
}
