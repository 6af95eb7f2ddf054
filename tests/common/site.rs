//! The site, clock and entries of the tests that render without a daemon: one site, times
//! in whole seconds, entries and tombstones as the store hands them to the renderer, and
//! entries carrying every field front matter can give. Pure: the fuzz target includes
//! this file too.

use chrono::{DateTime, Utc};
use seedfeed::config::FeedContent;
use seedfeed::model::{
    Article, Author, Category, Enclosure, Entry, EntryDraft, EntryId, EntryKey, EntryMeta, Image,
    Person, Tombstone,
};
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
        authors: Default::default(),
        podcasts: Default::default(),
        fediverse: None,
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

/// The key of the `[authors]` table of [`site_with_authors`], and the person it names.
pub const AUTHOR_KEY: &str = "jane";

pub fn configured_author() -> Person {
    Person {
        name: "Jane Doe".into(),
        email: Some("jane@example.org".into()),
        uri: Some("https://example.org/jane".into()),
    }
}

/// [`site_in`] with an `[authors.jane]` table.
pub fn site_with_authors(namespace: &str) -> Site {
    let mut site = site_in(namespace);
    site.authors.insert(AUTHOR_KEY.into(), configured_author());
    site
}

/// The id an article of [`entry_with_meta`] keeps from the system it was moved from.
pub const GIVEN_ID: &str = "tag:example.org,2020:post-1";

/// A tag, an author or a section as the store hands it: its name and its slug.
pub fn term(name: &str, slug: &str) -> Category {
    Category {
        term: name.into(),
        slug: slug.into(),
    }
}

/// Everything front matter can give, with markup where text goes: two authors (one the
/// key of `[authors.jane]`, one a name with an e-mail address of its own), the tags
/// `C++` and `<b>`, an image whose URL and alternative text hold markup characters, a
/// link post's target, the language, a comments page, an episode (an enclosure whose URL
/// holds markup characters).
pub fn full_meta() -> EntryMeta {
    EntryMeta {
        tags: vec![term("C++", "c"), term("<b>", "b")],
        authors: vec![
            Author {
                person: Person {
                    name: AUTHOR_KEY.into(),
                    ..Person::default()
                },
                slug: AUTHOR_KEY.into(),
            },
            Author {
                person: Person {
                    name: "Bob <Smith> & Co".into(),
                    email: Some("bob@example.com".into()),
                    uri: None,
                },
                slug: "bob-smith-co".into(),
            },
        ],
        image: Some(Image {
            url: "https://img.example.org/a.jpg?w=800&h=600".into(),
            alt: Some("A <b>bold</b> view & more".into()),
            width: Some(800),
            height: Some(600),
        }),
        enclosure: Some(Enclosure {
            url: "https://example.org/media/episode%201.mp3?a=1&b=2".into(),
            media_type: "audio/mpeg".into(),
            length: 12_345_678,
            duration_secs: Some(1_805),
        }),
        lang: Some("fr".into()),
        external_url: Some("https://elsewhere.example.com/story?id=1&x=2".into()),
        comments: Some("https://news.example.org/comments/1?page=1&sort=new".into()),
        date: Some(at(1_700_000_000)),
        updated_date: None,
        episode: None,
    }
}

/// An entry of `site` with [`full_meta`] and the id [`GIVEN_ID`] kept from an older
/// system, as the store gives it.
pub fn entry_with_meta(site: &Site, key: &str, article: &Article, published: i64) -> Entry {
    let mut entry = entry(site, key, article, published, published);
    entry.draft.meta = full_meta();
    entry.draft.id = EntryId::given(GIVEN_ID).unwrap();
    entry.draft.id_given = true;
    entry
}
