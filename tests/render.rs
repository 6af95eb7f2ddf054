//! Rendering with a fixed clock: golden files reviewed by eye, every document read back
//! with an independent parser, and output that never breaks whatever the article holds.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;

use chrono::{DateTime, Utc};
use seedfeed::model::{Article, Entry, EntryKey};
use seedfeed::normalize::{id_namespace, normalize};
use seedfeed::parse::parse_article;
use seedfeed::render::{Renderer, Site, Snapshot};

fn site() -> Site {
    Site {
        base: "https://news.example.org".into(),
        title: "Example News".into(),
        description: "Articles & more".into(),
        author: "Example Desk".into(),
        language: "en".into(),
        feed_id: "urn:uuid:8e3c3f9e-8f1c-5b36-9a5f-4d0a6c1b2f10".into(),
        feed_size: 50,
    }
}

fn entry(key: &str, article: &Article, published: i64, updated: i64) -> Entry {
    Entry {
        draft: normalize(EntryKey::new(key), article, &id_namespace("golden")),
        published: DateTime::from_timestamp(published, 0).unwrap(),
        updated: DateTime::from_timestamp(updated, 0).unwrap(),
    }
}

fn sample() -> Article {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/000_9b018788d1e41f8c.txt"))
            .unwrap();
    parse_article(&bytes).unwrap().article
}

/// The article every markup hazard at once: text that looks like tags, a CDATA end,
/// entities, quotes, and characters XML forbids (removed by the parser).
fn hostile() -> Article {
    let text = "Tech & <Science>\n\n<b>Bold</b> ]]> &amp; \"quotes\" 'apostrophes'\n\n\n\u{1}Caption ]]]]><![CDATA[>\u{b}\n\n\n\n<script>alert(1)</script> ]]> end\u{ffff}\n\nMore from GlobalPost: </li><li>injected";
    parse_article(text.as_bytes()).unwrap().article
}

fn entries() -> Vec<Entry> {
    // Newest first, as the store gives them.
    vec![
        entry("zz-hostile", &hostile(), 1_700_000_300, 1_700_000_900),
        entry(
            "000_9b018788d1e41f8c",
            &sample(),
            1_700_000_000,
            1_700_000_000,
        ),
    ]
}

fn snapshot() -> Snapshot {
    let mut renderer = Renderer::new(site());
    let entries = entries();
    renderer.set_pages(&entries);
    renderer.snapshot(&entries).unwrap()
}

fn body(snapshot: &Snapshot, path: &str) -> String {
    String::from_utf8(snapshot.get(path).unwrap().body.to_vec()).unwrap()
}

/// Compares with `tests/fixtures/golden/NAME`; `UPDATE_GOLDEN=1` rewrites the file, to be
/// reviewed in the diff.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 to review):\n{actual}"
    );
}

#[test]
fn documents_match_their_golden_files() {
    let snapshot = snapshot();
    golden("feed.rss", &body(&snapshot, "/feed.rss"));
    golden("feed.atom", &body(&snapshot, "/feed.atom"));
    golden("index.html", &body(&snapshot, "/"));
    golden(
        "entry.html",
        &body(&snapshot, "/entries/000_9b018788d1e41f8c"),
    );
}

#[test]
fn an_unchanged_input_renders_the_same_bytes() {
    let (a, b) = (snapshot(), snapshot());
    let mut paths: Vec<_> = a.paths().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/",
            "/entries/000_9b018788d1e41f8c",
            "/entries/zz-hostile",
            "/feed.atom",
            "/feed.rss"
        ]
    );
    for path in paths {
        assert_eq!(a.get(path), b.get(path), "{path}");
    }
    // The feed's date is its newest entry's update, not the time of rendering.
    let atom = a.get("/feed.atom").unwrap();
    assert_eq!(
        atom.last_modified,
        DateTime::<Utc>::from_timestamp(1_700_000_900, 0).unwrap()
    );
}

#[test]
fn both_feeds_read_back_with_feed_rs() {
    let snapshot = snapshot();
    let expected = entries();
    for path in ["/feed.atom", "/feed.rss"] {
        let feed = feed_rs::parser::parse(snapshot.get(path).unwrap().body.as_ref())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(feed.title.unwrap().content, "Example News", "{path}");
        assert_eq!(feed.entries.len(), expected.len(), "{path}");
        for (got, want) in feed.entries.iter().zip(&expected) {
            let draft = &want.draft;
            assert_eq!(got.id, draft.id.to_string(), "{path}");
            assert_eq!(got.title.as_ref().unwrap().content, draft.title, "{path}");
            assert_eq!(
                got.links[0].href,
                format!("https://news.example.org/entries/{}", draft.key),
                "{path}"
            );
            assert_eq!(got.published, Some(want.published), "{path}");
            assert_eq!(
                got.content.as_ref().unwrap().body.as_deref(),
                Some(draft.content_html.as_str()),
                "{path}"
            );
            assert_eq!(
                got.categories[0].term,
                draft.section.clone().unwrap(),
                "{path}"
            );
        }
        let atom_updated = feed.entries[0].updated;
        if path == "/feed.atom" {
            assert_eq!(atom_updated, Some(expected[0].updated));
        }
    }
}

#[test]
fn hostile_text_stays_text() {
    let article = hostile();
    assert_eq!(article.section.as_deref(), Some("Tech & <Science>"));
    assert_eq!(
        article.title,
        "<b>Bold</b> ]]> &amp; \"quotes\" 'apostrophes'"
    );
    assert_eq!(article.related, ["</li><li>injected"]);
    let snapshot = snapshot();
    let atom = feed_rs::parser::parse(snapshot.get("/feed.atom").unwrap().body.as_ref()).unwrap();
    let content = atom.entries[0]
        .content
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert!(
        !content.contains("<script>") && !content.contains("<b>"),
        "{content}"
    );
    assert!(
        content.contains("&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; end"),
        "{content}"
    );
    let page = body(&snapshot, "/entries/zz-hostile");
    assert!(
        !page.contains("<script>") && page.contains("&lt;b&gt;Bold&lt;/b&gt;"),
        "{page}"
    );
}
