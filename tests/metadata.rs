//! What an article's front matter gives (authors, tags, an image, a link post's target,
//! a language, a comments page, an id kept from an older system; an enclosure, an image's
//! size) in every document, read
//! back with independent parsers (feed-rs, roxmltree, serde_json); and the feeds, pages
//! and lists of each tag and each author beside the sections'.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::articles::sample_article;
use common::feeds::{
    ATOM_NS, DC_NS, MEDIA_NS, feed_links, html_links, html_texts, opml_urls, rss_enclosures,
    unescape_html,
};
use common::site::{
    AUTHOR_KEY, GIVEN_ID, configured_author, entry, entry_with_meta, full_meta, site_with_authors,
    term, tombstone,
};
use seedfeed::model::{Article, Entry, EntryId, Person};
use seedfeed::parse::parse_article;
use seedfeed::render::{
    Listing, Renderer, Site, Snapshot, Term, TermKind, Terms, entry_document, listing_page,
};

const BASE: &str = "https://news.example.org";

fn site() -> Site {
    site_with_authors("metadata")
}

fn sample() -> Article {
    parse_article(&sample_article()).unwrap().article
}

/// Newest first: an entry with every field front matter gives, and the plain sample.
fn entries() -> Vec<Entry> {
    vec![
        entry_with_meta(&site(), "with-meta", &sample(), 1_700_000_500),
        entry(&site(), "plain", &sample(), 1_700_000_000, 1_700_000_000),
    ]
}

fn snapshot(renderer: &mut Renderer, entries: &[Entry]) -> Snapshot {
    renderer.snapshot(entries, &[]).unwrap()
}

fn text(snapshot: &Snapshot, path: &str) -> String {
    let document = snapshot
        .get(path)
        .unwrap_or_else(|| panic!("{path} is not in the snapshot"));
    String::from_utf8(document.body.to_vec()).unwrap()
}

/// The people an entry names, as a reader shows them: (name, email, uri).
fn people(entry: &feed_rs::model::Entry) -> Vec<(String, Option<String>, Option<String>)> {
    entry
        .authors
        .iter()
        .map(|p| {
            let name = p.name.clone().unwrap_or_default();
            (unescape_html(&name), p.email.clone(), p.uri.clone())
        })
        .collect()
}

#[test]
fn atom_carries_authors_tags_links_language_image_and_enclosure() {
    let snapshot = snapshot(&mut Renderer::new(site()), &entries());
    let xml = text(&snapshot, "/feed.atom");
    let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    let got = &feed.entries[0];
    assert_eq!(got.id, GIVEN_ID, "the id kept from the older system");
    assert_eq!(
        people(got),
        [
            (
                "Jane Doe".to_owned(),
                Some("jane@example.org".to_owned()),
                Some("https://example.org/jane".to_owned())
            ),
            (
                "Bob <Smith> & Co".to_owned(),
                Some("bob@example.com".to_owned()),
                None
            ),
        ]
    );
    let categories: Vec<(&str, Option<&str>)> = got
        .categories
        .iter()
        .map(|c| (c.term.as_str(), c.scheme.as_deref()))
        .collect();
    let tags = format!("{BASE}/tags/");
    assert_eq!(
        categories,
        [
            ("Conflict & Justice", None),
            ("C++", Some(tags.as_str())),
            ("<b>", Some(tags.as_str()))
        ]
    );
    let links: Vec<(&str, &str)> = got
        .links
        .iter()
        .map(|l| (l.rel.as_deref().unwrap_or("alternate"), l.href.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            ("alternate", "https://news.example.org/entries/with-meta/"),
            ("related", "https://elsewhere.example.com/story?id=1&x=2"),
            (
                "replies",
                "https://news.example.org/comments/1?page=1&sort=new"
            ),
            ("enclosure", EPISODE),
        ]
    );
    let enclosure = got
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("enclosure"));
    let enclosure = enclosure.unwrap();
    assert_eq!(enclosure.media_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(enclosure.length, Some(12_345_678));
    assert_image(&got.media, "/feed.atom");
    // The entry without metadata names nobody: the feed's author stands for it.
    assert!(feed.entries[1].authors.is_empty());
    assert_eq!(people_of_feed(&feed), ["Example Desk"]);

    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.root_element().lookup_namespace_uri(Some("media")),
        Some(MEDIA_NS)
    );
    let entry = doc
        .descendants()
        .find(|n| n.has_tag_name((ATOM_NS, "entry")))
        .unwrap();
    for name in ["title", "summary", "content"] {
        let element = entry
            .children()
            .find(|n| n.has_tag_name((ATOM_NS, name)))
            .unwrap();
        let lang = element.attribute(("http://www.w3.org/XML/1998/namespace", "lang"));
        assert_eq!(lang, Some("fr"), "{name}");
    }
    let description = entry
        .descendants()
        .find(|n| n.has_tag_name((MEDIA_NS, "description")))
        .unwrap();
    assert_eq!(description.attribute("type"), Some("html"));
    assert_eq!(
        unescape_html(description.text().unwrap()),
        "A <b>bold</b> view & more"
    );
}

fn people_of_feed(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.authors
        .iter()
        .map(|p| p.name.clone().unwrap_or_default())
        .collect()
}

/// The episode of [`common::site::full_meta`].
const EPISODE: &str = "https://example.org/media/episode%201.mp3?a=1&b=2";

/// The image as Media RSS, read back: `media:content` of an image, with its size, and a
/// thumbnail.
fn assert_image(media: &[feed_rs::model::MediaObject], path: &str) {
    let url = "https://img.example.org/a.jpg?w=800&h=600";
    let contents: Vec<String> = media
        .iter()
        .flat_map(|m| &m.content)
        .filter_map(|c| c.url.as_ref().map(|u| u.to_string()))
        // feed-rs reads an enclosure as media content too.
        .filter(|u| u != EPISODE)
        .collect();
    let sizes: Vec<(Option<u32>, Option<u32>)> = media
        .iter()
        .flat_map(|m| &m.content)
        .filter(|c| c.url.as_ref().is_some_and(|u| u.as_str() == url))
        .map(|c| (c.width, c.height))
        .collect();
    assert_eq!(sizes, [(Some(800), Some(600))], "{path}");
    let thumbnails: Vec<&str> = media
        .iter()
        .flat_map(|m| &m.thumbnails)
        .map(|t| t.image.uri.as_str())
        .collect();
    assert_eq!(contents, [url], "{path}");
    assert_eq!(thumbnails, [url], "{path}");
}

#[test]
fn rss_carries_creators_tags_comments_language_image_and_enclosure() {
    let snapshot = snapshot(&mut Renderer::new(site()), &entries());
    let xml = text(&snapshot, "/feed.rss");
    let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    let got = &feed.entries[0];
    assert_eq!(got.id, GIVEN_ID);
    assert_image(&got.media, "/feed.rss");
    let names: Vec<String> = people(got).into_iter().map(|(name, ..)| name).collect();
    assert_eq!(names, ["Jane Doe", "Bob <Smith> & Co"]);
    let terms: Vec<String> = got
        .categories
        .iter()
        .map(|c| unescape_html(&c.term))
        .collect();
    assert_eq!(terms, ["Conflict & Justice", "C++", "<b>"]);

    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.lookup_namespace_uri(Some("media")), Some(MEDIA_NS));
    assert_eq!(root.lookup_namespace_uri(Some("dc")), Some(DC_NS));
    let item = doc.descendants().find(|n| n.has_tag_name("item")).unwrap();
    let texts = |ns: Option<&str>, name: &str| -> Vec<String> {
        item.children()
            .filter(|n| match ns {
                Some(ns) => n.has_tag_name((ns, name)),
                None => n.has_tag_name(name) && n.tag_name().namespace().is_none(),
            })
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        texts(None, "comments"),
        ["https://news.example.org/comments/1?page=1&sort=new"]
    );
    assert_eq!(texts(Some(DC_NS), "language"), ["fr"]);
    assert!(texts(None, "author").is_empty(), "dc:creator, not author");
    let domains: Vec<Option<&str>> = item
        .children()
        .filter(|n| n.has_tag_name("category"))
        .map(|n| n.attribute("domain"))
        .collect();
    let tags = format!("{BASE}/tags/");
    assert_eq!(domains, [None, Some(tags.as_str()), Some(tags.as_str())]);
    let related: Vec<&str> = item
        .children()
        .filter(|n| n.has_tag_name((ATOM_NS, "link")) && n.attribute("rel") == Some("related"))
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert_eq!(related, ["https://elsewhere.example.com/story?id=1&x=2"]);
    assert_eq!(
        rss_enclosures(&xml),
        [[EPISODE, "12345678", "audio/mpeg"].map(|value| Some(value.to_owned()))],
        "one, on the entry that has it"
    );
    // The plain entry has the feed's author as its creator.
    let creators: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((DC_NS, "creator")))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(creators.last(), Some(&"Example Desk"));
}

#[test]
fn json_feed_carries_authors_tags_image_link_language_and_attachment() {
    let snapshot = snapshot(&mut Renderer::new(site()), &entries());
    let json: serde_json::Value = serde_json::from_str(&text(&snapshot, "/feed.json")).unwrap();
    let item = &json["items"][0];
    assert_eq!(item["id"], GIVEN_ID);
    assert_eq!(
        item["authors"],
        serde_json::json!([
            {"name": "Jane Doe", "url": "https://example.org/jane"},
            {"name": "Bob <Smith> & Co"},
        ])
    );
    assert_eq!(
        item["tags"],
        serde_json::json!(["Conflict & Justice", "C++", "<b>"])
    );
    let image = "https://img.example.org/a.jpg?w=800&h=600";
    assert_eq!(item["image"], image);
    assert_eq!(item["banner_image"], image);
    assert_eq!(
        item["external_url"],
        "https://elsewhere.example.com/story?id=1&x=2"
    );
    assert_eq!(item["language"], "fr");
    assert_eq!(
        item["attachments"],
        serde_json::json!([{
            "url": EPISODE,
            "mime_type": "audio/mpeg",
            "size_in_bytes": 12_345_678,
            "duration_in_seconds": 1805,
        }])
    );
    let plain = &json["items"][1];
    assert_eq!(
        plain["authors"],
        serde_json::json!([{"name": "Example Desk"}])
    );
    for field in [
        "image",
        "banner_image",
        "external_url",
        "language",
        "attachments",
    ] {
        assert!(plain.get(field).is_none(), "{field}: {plain}");
    }
    let feed = feed_rs::parser::parse(text(&snapshot, "/feed.json").as_bytes()).unwrap();
    assert_eq!(feed.entries[0].id, GIVEN_ID);
}

/// A URL that is not an absolute http(s) one is written nowhere: not as a link, an
/// image or an author's page.
#[test]
fn urls_that_are_not_http_are_left_out_of_every_document() {
    let mut hostile = entries();
    let meta = &mut hostile[0].draft.meta;
    meta.external_url = Some("javascript:alert(1)".into());
    meta.comments = Some("/relative/comments".into());
    meta.image.as_mut().unwrap().url = "data:image/svg+xml,<svg onload=alert(1)>".into();
    meta.enclosure.as_mut().unwrap().url = "javascript:alert(3)".into();
    meta.authors[1].person.uri = Some("javascript:alert(2)".into());
    meta.authors[1].person.email = Some("not an address".into());
    let snapshot = snapshot(&mut Renderer::new(site()), &hostile);
    let page = String::from_utf8(entry_document(&site(), &hostile[0]).body.to_vec()).unwrap();
    let mut documents: Vec<(&str, String)> = ["/feed.atom", "/feed.rss", "/feed.json"]
        .into_iter()
        .map(|path| (path, text(&snapshot, path)))
        .collect();
    documents.push(("entry page", page));
    for (name, body) in &documents {
        for bad in [
            "javascript:",
            "relative/comments",
            "data:image",
            "not an address",
            "enclosure",
            "attachments",
            "<audio",
        ] {
            assert!(!body.contains(bad), "{name}: {bad}");
        }
        assert!(!body.contains(MEDIA_NS), "{name}: no image, no namespace");
    }
}

#[test]
fn the_entry_page_shows_authors_tags_image_link_and_episode() {
    let entry = &entries()[0];
    let page = String::from_utf8(entry_document(&site(), entry).body.to_vec()).unwrap();
    let links = html_links(&page);
    for href in [
        "/authors/jane/",
        "/authors/bob-smith-co/",
        "/tags/c/",
        "/tags/b/",
    ] {
        assert!(
            links.contains(&format!("{BASE}{href}")),
            "{href}: {links:?}"
        );
    }
    assert!(links.contains(&"https://elsewhere.example.com/story?id=1&x=2".to_owned()));
    assert!(links.contains(&"https://news.example.org/comments/1?page=1&sort=new".to_owned()));
    let meta = html_texts(&page, "p");
    assert!(
        meta.iter()
            .any(|p| p.ends_with(" · Conflict & Justice · by Jane Doe, Bob <Smith> & Co")),
        "{meta:?}"
    );
    assert!(meta.contains(&"Tags: C++ · <b>".to_owned()), "{meta:?}");
    assert!(
        page.contains(
            "<img src=\"https://img.example.org/a.jpg?w=800&amp;h=600\" \
             alt=\"A &lt;b&gt;bold&lt;/b&gt; view &amp; more\" width=\"800\" height=\"600\">"
        ),
        "{page}"
    );
    let episode = "https://example.org/media/episode%201.mp3?a=1&amp;b=2";
    assert!(
        page.contains(&format!(
            "<audio controls preload=\"none\" src=\"{episode}\">"
        )),
        "{page}"
    );
    assert!(links.contains(&EPISODE.to_owned()), "{links:?}");
    assert!(page.contains("<article lang=\"fr\">"), "{page}");
    assert!(!page.contains("<b>") && !page.contains("<Smith>"), "{page}");
    // The page of an entry without metadata shows none of it.
    let plain = String::from_utf8(entry_document(&site(), &entries()[1]).body.to_vec()).unwrap();
    for absent in [
        "/authors/",
        "/tags/",
        "<img",
        "<figure",
        " lang=\"fr\"",
        "<audio",
    ] {
        assert!(!plain.contains(absent), "{absent}");
    }
}

/// The feeds of a tag and of an author, beside the section's: each at its own address,
/// with its own title and id, naming its own listing page, and in the OPML list and the
/// index; a term with no entry left has none.
#[test]
fn tags_and_authors_have_feeds_of_their_own() {
    let mut renderer = Renderer::new(site());
    let all = entries();
    let (cpp, jane) = (term("C++", "c"), term(AUTHOR_KEY, AUTHOR_KEY));
    let gone = tombstone(&site(), "gone", None, 1_700_000_600);
    renderer
        .set_term_feed(TermKind::Tag, &cpp, &all[..1], &[])
        .unwrap();
    renderer
        .set_term_feed(TermKind::Author, &jane, &all[..1], &[gone])
        .unwrap();
    renderer.set_term_list(TermKind::Tag, vec![cpp.clone(), term("<b>", "b")]);
    renderer.set_term_list(TermKind::Author, vec![jane.clone()]);
    let snapshot = snapshot(&mut renderer, &all);

    for (stem, title) in [
        ("/tags/c", "Example News — Tag: C++"),
        ("/authors/jane", "Example News — Author: Jane Doe"),
    ] {
        let listing = format!("{BASE}{stem}/");
        for ext in ["atom", "rss", "json"] {
            let path = format!("{stem}.{ext}");
            let feed = feed_rs::parser::parse(text(&snapshot, &path).as_bytes()).unwrap();
            assert_eq!(unescape_html(&feed.title.unwrap().content), title, "{path}");
            assert_eq!(feed.entries.len(), 1, "{path}");
            assert_eq!(feed.entries[0].id, GIVEN_ID, "{path}");
            if ext == "json" {
                let json: serde_json::Value =
                    serde_json::from_str(&text(&snapshot, &path)).unwrap();
                assert_eq!(json["home_page_url"], listing.as_str());
                assert_eq!(json["feed_url"], format!("{BASE}{path}"));
            } else {
                let links = feed_links(&text(&snapshot, &path));
                assert!(
                    links.contains(&("self".into(), format!("{BASE}{path}"))),
                    "{links:?}"
                );
            }
            if ext == "atom" {
                let links = feed_links(&text(&snapshot, &path));
                assert!(
                    links.contains(&("alternate".into(), listing.clone())),
                    "{links:?}"
                );
            }
        }
    }
    // Each feed has its own id, and the section's stays what it was.
    let id = |path: &str| {
        feed_rs::parser::parse(text(&snapshot, path).as_bytes())
            .unwrap()
            .id
    };
    let site = site();
    assert_eq!(id("/tags/c.atom"), site.feed_id("tag:c"));
    assert_eq!(id("/authors/jane.atom"), site.feed_id("author:jane"));
    assert!(
        text(&snapshot, "/authors/jane.atom").contains("deleted-entry"),
        "its tombstones"
    );

    let urls = opml_urls(&text(&snapshot, "/feeds.opml")).unwrap();
    assert_eq!(
        urls,
        [
            format!("{BASE}/feed.atom"),
            format!("{BASE}/tags/c.atom"),
            format!("{BASE}/tags/b.atom"),
            format!("{BASE}/authors/jane.atom"),
        ]
    );
    let opml = text(&snapshot, "/feeds.opml");
    let doc = roxmltree::Document::parse(&opml).unwrap();
    let groups: Vec<Vec<(&str, &str)>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("outline") && n.attribute("xmlUrl").is_none())
        .map(|n| n.attributes().map(|a| (a.name(), a.value())).collect())
        .collect();
    assert_eq!(groups, [[("text", "Tags")], [("text", "Authors")]]);
    // OPML's `text` is HTML: a title that looks like markup is escaped HTML, which a
    // reader shows as its characters.
    let texts: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("text"))
        .collect();
    assert!(
        texts.contains(&"Example News — Tag: &lt;b&gt;"),
        "{texts:?}"
    );

    let index = text(&snapshot, "/");
    let links = html_links(&index);
    for href in [
        "/tags/c/",
        "/tags/c.atom",
        "/authors/jane/",
        "/authors/jane.json",
    ] {
        assert!(
            links.contains(&format!("{BASE}{href}")),
            "{href}: {links:?}"
        );
    }
    assert!(index.contains(&format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Example News — Author: \
         Jane Doe (Atom)\" href=\"{BASE}/authors/jane.atom\">"
    )));
    assert_eq!(html_texts(&index, "h2")[2..], ["Tags", "Authors"]);

    // A tag with nothing left has no feeds.
    renderer.remove_term_feed(TermKind::Tag, "c");
    renderer.set_term_list(TermKind::Tag, Vec::new());
    let after = renderer.snapshot(&all, &[]).unwrap();
    assert!(after.get("/tags/c.atom").is_none());
    assert!(after.get("/authors/jane.atom").is_some());
    renderer
        .set_term_feed(TermKind::Author, &jane, &[], &[])
        .unwrap();
    assert!(renderer.assemble().get("/authors/jane.rss").is_none());
}

/// An id kept from an older system may hold any character of a URI: `&` in a tombstone's
/// `ref` is escaped like any text.
#[test]
fn a_kept_id_with_an_ampersand_is_escaped_in_a_tombstone() {
    let mut gone = tombstone(&site(), "gone", None, 1_700_000_600);
    gone.id = EntryId::given("https://old.example.org/?p=1&lang=en").unwrap();
    let snapshot = Renderer::new(site())
        .snapshot(&entries(), std::slice::from_ref(&gone))
        .unwrap();
    let xml = text(&snapshot, "/feed.atom");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let refs: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("ref"))
        .collect();
    assert_eq!(refs, ["https://old.example.org/?p=1&lang=en"]);
}

/// A tag's and an author's listing pages: their heading, their feeds, their pages.
#[test]
fn tag_and_author_pages_list_their_entries() {
    let site = site();
    let all = entries();
    let cpp = term("C++", "c");
    let jane = term(AUTHOR_KEY, AUTHOR_KEY);
    for (term, heading, stem, line) in [
        (
            Term::new(TermKind::Tag, &cpp),
            "Tag: C++",
            "/tags/c",
            "Page 2 of the articles tagged C++, newest first.",
        ),
        (
            Term::new(TermKind::Author, &jane),
            "Jane Doe",
            "/authors/jane",
            "Page 2 of the articles by Jane Doe, newest first.",
        ),
    ] {
        let listing = Listing {
            term: Some(term),
            number: 2,
            entries: &all[..1],
            has_older: true,
            terms: Terms::NONE,
        };
        let page = String::from_utf8(listing_page(&site, &listing)).unwrap();
        assert_eq!(html_texts(&page, "h1"), [heading]);
        assert!(html_texts(&page, "p").contains(&line.to_owned()), "{page}");
        let links = html_links(&page);
        for href in [
            format!("{stem}/"),
            format!("{stem}/page/3/"),
            format!("{stem}.atom"),
            format!("{stem}.json"),
        ] {
            assert!(
                links.contains(&format!("{BASE}{href}")),
                "{href}: {links:?}"
            );
        }
        assert!(page.contains(&format!(
            "<link rel=\"canonical\" href=\"{BASE}{stem}/page/2/\">"
        )));
        // The entry in the list names its authors.
        let meta = html_texts(&page, "p");
        assert!(
            meta.iter()
                .any(|p| p.ends_with("by Jane Doe, Bob <Smith> & Co")),
            "{meta:?}"
        );
    }
}

/// `[authors]` applies when the documents are rendered: the same entry under a site
/// without the table shows the name as the article wrote it.
#[test]
fn an_author_key_is_shown_as_the_configured_person() {
    let mut bare = site();
    bare.authors.clear();
    let entries = entries();
    let atom = |site: Site| {
        let snapshot = Renderer::new(site).snapshot(&entries, &[]).unwrap();
        let feed = feed_rs::parser::parse(text(&snapshot, "/feed.atom").as_bytes()).unwrap();
        people(&feed.entries[0])[0].clone()
    };
    let Person { name, email, uri } = configured_author();
    assert_eq!(atom(site()), (name, email, uri));
    assert_eq!(atom(bare), (AUTHOR_KEY.to_owned(), None, None));
    assert_eq!(full_meta().authors[0].person.name, AUTHOR_KEY);
}
