//! The invariant of the whole pipeline, parse → normalize → render, for one input: what
//! the fuzz target (`fuzz/fuzz_targets/pipeline.rs`) checks on every input it makes, and
//! what `tests/fuzz_regressions.rs` checks on every input the fuzzer ever found a fault
//! with. One file, included by both, so that the two cannot drift apart.
//!
//! For any bytes: parsing does not panic; a rejected input is a reason, not a fault. For
//! an accepted one: parsing and normalizing it again gives the same entry, whose id is
//! the UUIDv5 of its key; every document rendered from it (the main and section feeds in
//! RSS, Atom and JSON Feed, the OPML list, an archive page, the entry's HTML page and the
//! index) is well-formed: XML parses, JSON parses, and the HTML pages carry the title
//! escaped.

use chrono::{DateTime, Utc};
use seedfeed::model::{Entry, EntryKey};
use seedfeed::normalize::{entry_id, escape_html, id_namespace, normalize};
use seedfeed::parse::parse_article;
use seedfeed::render::{
    Archive, FeedDoc, Format, Site, category_stem, category_title, entry_page, index_page,
    opml_list, render_feed,
};

/// The key the input is stored under.
const KEY: &str = "fuzz_input";

fn site() -> Site {
    Site {
        base: "https://news.example.org".into(),
        title: "Example News".into(),
        description: "Articles & more".into(),
        author: "Example Desk".into(),
        language: "en".into(),
        id_namespace: id_namespace("seedfeed"),
        feed_size: 50,
        hubs: Vec::new(),
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Checks the invariant for one input; the error says which part broke, and where.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let Ok(parsed) = parse_article(bytes) else {
        return Ok(());
    };
    let Ok(reparsed) = parse_article(bytes) else {
        return Err("accepted once, rejected the second time".into());
    };
    let namespace = id_namespace("seedfeed");
    let key = EntryKey::new(KEY);
    let draft = normalize(key.clone(), &parsed.article, &namespace);
    let again = normalize(key.clone(), &reparsed.article, &namespace);
    if draft != again {
        return Err(format!(
            "parsing and normalizing twice differ:\n{draft:?}\n{again:?}"
        ));
    }
    if draft.id != entry_id(&namespace, &key) {
        return Err(format!("id {} is not the UUIDv5 of the key", draft.id));
    }
    let title = escape_html(&draft.title);
    let entry = Entry {
        draft,
        published: at(1_700_000_000),
        updated: at(1_700_000_600),
    };
    let entries = std::slice::from_ref(&entry);

    // Every kind of document, with the titles and ids `Renderer` gives it, rendered
    // without its compressed variants: they are bytes of the same document, and
    // compressing would take most of each run's time.
    let site = site();
    let main_id = site.feed_id("feed");
    let main = FeedDoc {
        title: &site.title,
        id: &main_id,
        stem: "/feed",
        current_stem: "/feed",
        entries,
        tombstones: &[],
        archive: Archive::Subscription {
            newest_page: Some(1),
        },
    };
    // A section's feed is titled with the section's text, which comes from the input.
    let section = entry.draft.category.as_ref().map(|c| {
        (
            category_title(&site, c),
            site.feed_id(&format!("category:{}", c.slug)),
            category_stem(&c.slug),
        )
    });
    let mut feeds = vec![main];
    if let Some((title, id, stem)) = &section {
        feeds.push(FeedDoc {
            title,
            id,
            stem,
            current_stem: stem,
            archive: Archive::None,
            ..main
        });
    }
    feeds.push(FeedDoc {
        stem: "/archive/1",
        archive: Archive::Page { number: 1 },
        ..main
    });
    let mut documents: Vec<(String, Vec<u8>)> = Vec::new();
    for feed in &feeds {
        for format in Format::ALL {
            let body = render_feed(&site, feed, format)
                .map_err(|e| format!("rendering {}: {e}", feed.path(format)))?;
            documents.push((feed.path(format), body));
        }
    }
    let categories: Vec<_> = entry.draft.category.iter().cloned().collect();
    documents.push((
        "/feeds.opml".into(),
        opml_list(&site, &categories, entry.updated),
    ));
    documents.push(("/".into(), index_page(&site, entries, &categories)));
    documents.push((
        "/entries/fuzz_input".into(),
        entry_page(&site, &entry).body.to_vec(),
    ));

    for (path, body) in &documents {
        let text = std::str::from_utf8(body).map_err(|e| format!("{path} is not UTF-8: {e}"))?;
        if path.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| format!("{path} is not JSON: {e}\n{text}"))?;
        } else if path.ends_with(".rss")
            || path.ends_with(".atom")
            || path.ends_with(".opml")
            || path.ends_with(".xsl")
        {
            roxmltree::Document::parse(text)
                .map_err(|e| format!("{path} is not well-formed XML: {e}\n{text}"))?;
        } else if (path == "/" || path.starts_with("/entries/")) && !text.contains(&title) {
            return Err(format!("{path} lacks the escaped title {title:?}\n{text}"));
        }
    }
    Ok(())
}
