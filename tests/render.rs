//! Rendering with a fixed clock: golden files reviewed by eye, every feed read back with
//! independent parsers (feed-rs, and roxmltree for the XML structure), the RFC 5005,
//! RFC 6721 and RFC 3229 parts, and output that never breaks whatever the article holds.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;

use chrono::DateTime;
use common::articles::sample_article;
use common::feeds::{
    ATOM_NS, HISTORY_NS, TOMBSTONES_NS, feed_links, html_links, html_texts, opml_urls, rss_html,
    title_as_shown, unescape_html,
};
use common::site::{at, entry, site_in, tombstone};
use seedfeed::config::FeedContent;
use seedfeed::model::{Article, Entry, Tombstone};
use seedfeed::normalize::category;
use seedfeed::parse::parse_article;
use seedfeed::render::{
    ArchiveView, Format, HtmlView, Listing, Renderer, Site, Snapshot, Term, TermKind, Terms,
    archive_document, archive_view, entry_document, listing_page, not_found_page,
};

/// The test site with the ids of the golden files.
fn site() -> Site {
    site_in("golden")
}

fn sample() -> Article {
    parse_article(&sample_article()).unwrap().article
}

/// Every markup hazard at once: text that looks like tags, a CDATA end, entities,
/// quotes, and characters XML forbids (removed by the parser).
fn hostile() -> Article {
    let text = "Tech & <Science>\n\n<b>Bold</b> ]]> &amp; \"quotes\" 'apostrophes'\n\n\n\u{1}Caption ]]]]><![CDATA[>\u{b}\n\n\n\n<script>alert(1)</script> ]]> end\u{ffff}\n\nMore from GlobalPost: </li><li>injected";
    parse_article(text.as_bytes()).unwrap().article
}

/// Newest first, as the store gives them.
fn entries() -> Vec<Entry> {
    vec![
        entry(
            &site(),
            "zz-hostile",
            &hostile(),
            1_700_000_300,
            1_700_000_900,
        ),
        entry(
            &site(),
            "000_9b018788d1e41f8c",
            &sample(),
            1_700_000_000,
            1_700_000_000,
        ),
    ]
}

/// The sample's section lost an entry.
fn gone() -> Tombstone {
    tombstone(&site(), "gone", Some("conflict-justice"), 1_700_000_600)
}

fn snapshot_with(renderer: &mut Renderer, entries: &[Entry], tombstones: &[Tombstone]) -> Snapshot {
    let sample_section = category("Conflict & Justice");
    let in_section: Vec<Entry> = entries
        .iter()
        .filter(|e| e.draft.category.as_ref() == Some(&sample_section))
        .cloned()
        .collect();
    renderer
        .set_section(&sample_section, &in_section, tombstones)
        .unwrap();
    renderer.set_categories(vec![sample_section]);
    renderer.snapshot(entries, tombstones).unwrap()
}

fn snapshot() -> Snapshot {
    snapshot_with(&mut Renderer::new(site()), &entries(), &[gone()])
}

/// A document of the snapshot, or an entry's page (rendered as the server renders it).
fn body(snapshot: &Snapshot, path: &str) -> String {
    let bytes = match path
        .strip_prefix("/entries/")
        .and_then(|key| key.strip_suffix('/'))
    {
        Some(key) => {
            let entry = entries()
                .into_iter()
                .find(|e| e.draft.key.as_str() == key)
                .unwrap();
            entry_document(&site(), &entry).body
        }
        None => snapshot.get(path).unwrap().body.clone(),
    };
    String::from_utf8(bytes.to_vec()).unwrap()
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
    for (name, path) in [
        ("feed.rss", "/feed.rss"),
        ("feed.atom", "/feed.atom"),
        ("feed.json", "/feed.json"),
        ("category.atom", "/categories/conflict-justice.atom"),
        ("feeds.opml", "/feeds.opml"),
        ("index.html", "/"),
        ("entry.html", "/entries/000_9b018788d1e41f8c/"),
    ] {
        golden(name, &body(&snapshot, path));
    }
}

/// The HTML view a browser is sent at a feed's address.
fn view(snapshot: &Snapshot, path: &str) -> String {
    match &snapshot.get(path).unwrap().html_view {
        HtmlView::Rendered(view) => String::from_utf8(view.body.to_vec()).unwrap(),
        other => panic!("{path} has no rendered view: {other:?}"),
    }
}

/// Archive page 2 of 3 of the test entries, as a browser is shown it.
fn archive_page_view(entries: &[Entry]) -> String {
    let view = ArchiveView {
        number: 2,
        newest: 3,
        format: Format::Atom,
        entries,
    };
    let document = archive_view(&site(), &view, at(1_700_001_000));
    String::from_utf8(document.body.to_vec()).unwrap()
}

/// Page 2 of the sample's section, with an older page after it.
fn section_page(entries: &[Entry]) -> String {
    let section = category("Conflict & Justice");
    let listing = Listing {
        term: Some(Term::new(TermKind::Section, &section)),
        number: 2,
        entries,
        has_older: true,
        terms: Terms::NONE,
    };
    String::from_utf8(listing_page(&site(), &listing)).unwrap()
}

#[test]
fn pages_for_browsers_match_their_golden_files() {
    let snapshot = snapshot();
    golden("feed-view.html", &view(&snapshot, "/feed.atom"));
    golden(
        "category-view.html",
        &view(&snapshot, "/categories/conflict-justice.rss"),
    );
    let mut oldest_first = entries();
    oldest_first.reverse();
    golden("archive-view.html", &archive_page_view(&oldest_first));
    golden("section-page.html", &section_page(&entries()[1..]));
    let missing = not_found_page(&site());
    golden(
        "not-found.html",
        std::str::from_utf8(&missing.body).unwrap(),
    );
}

#[test]
fn a_title_with_markup_shows_as_its_characters_on_every_page() {
    const TITLE: &str = "<b>bold</b> & co";
    let text = format!("Tech\n\n{TITLE}\n\n\nIt says <i>this</i> & that.\n");
    let article = parse_article(text.as_bytes()).unwrap().article;
    assert_eq!(article.title, TITLE);
    let entries = [entry(
        &site(),
        "markup",
        &article,
        1_700_000_000,
        1_700_000_000,
    )];
    let mut renderer = Renderer::new(site());
    let tech = category("Tech");
    renderer.set_section(&tech, &entries, &[]).unwrap();
    renderer.set_categories(vec![tech]);
    let snapshot = renderer.snapshot(&entries, &[]).unwrap();
    let mut lists = vec![
        ("/".to_owned(), body(&snapshot, "/")),
        ("archive view".to_owned(), archive_page_view(&entries)),
        ("section page".to_owned(), section_page(&entries)),
    ];
    for path in [
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/categories/tech.atom",
    ] {
        lists.push((path.to_owned(), view(&snapshot, path)));
    }
    let page = String::from_utf8(entry_document(&site(), &entries[0]).body.to_vec()).unwrap();
    assert_eq!(html_texts(&page, "h1"), [TITLE], "the entry's page");
    // One date format on every page: the entry's publication.
    let date = "14 November 2023, 22:13 UTC";
    assert_eq!(html_texts(&page, "time"), [date], "the entry's page");
    for (name, html) in &lists {
        assert_eq!(html_texts(html, "h2")[0], TITLE, "{name}");
        assert!(
            html_texts(html, "p").contains(&"It says <i>this</i> & that.".to_owned()),
            "{name}: the summary"
        );
        let times = html_texts(html, "time");
        assert!(
            !times.is_empty() && times.iter().all(|t| t == date),
            "{name}: {times:?}"
        );
    }
}

#[test]
fn views_link_the_other_formats_the_listing_and_the_neighbours() {
    let snapshot = snapshot();
    let base = "https://news.example.org";
    let links = html_links(&view(&snapshot, "/categories/conflict-justice.rss"));
    for href in [
        "/categories/conflict-justice.atom",
        "/categories/conflict-justice.json",
        "/categories/conflict-justice/",
        "/entries/000_9b018788d1e41f8c/",
    ] {
        assert!(
            links.contains(&format!("{base}{href}")),
            "{href}: {links:?}"
        );
    }
    assert!(!links.iter().any(|l| l.ends_with(".rss")), "not itself");
    let links = html_links(&archive_page_view(&entries()));
    for href in ["/archive/1.atom", "/archive/3.atom", "/archive/2.rss", "/"] {
        assert!(
            links.contains(&format!("{base}{href}")),
            "{href}: {links:?}"
        );
    }
    // The newest page leads on to the feed.
    let view = ArchiveView {
        number: 3,
        newest: 3,
        format: Format::Rss,
        entries: &[],
    };
    let newest = archive_view(&site(), &view, at(0));
    let links = html_links(std::str::from_utf8(&newest.body).unwrap());
    assert!(links.contains(&format!("{base}/feed.rss")), "{links:?}");
    assert!(
        links.contains(&format!("{base}/archive/2.rss")),
        "{links:?}"
    );
    // The index links each section's page as well as its feeds, and older pages.
    let links = html_links(&body(&snapshot, "/"));
    assert!(links.contains(&format!("{base}/categories/conflict-justice/")));
    assert!(links.contains(&format!("{base}/categories/conflict-justice.atom")));
    let section = html_links(&section_page(&entries()));
    for href in [
        "/categories/conflict-justice/",
        "/categories/conflict-justice/page/3/",
    ] {
        assert!(
            section.contains(&format!("{base}{href}")),
            "{href}: {section:?}"
        );
    }
}

#[test]
fn the_index_links_to_older_pages_only_when_there_are_some() {
    let site = Site {
        feed_size: 1,
        ..site()
    };
    let older = format!("{}/page/2/", site.base);
    let mut renderer = Renderer::new(site);
    let all = entries();
    let one = renderer.snapshot(&all[..1], &[]).unwrap();
    assert!(!html_links(&body(&one, "/")).contains(&older));
    // One entry more than the feed holds: an older page follows; the feed is the same.
    let two = renderer.snapshot(&all, &[]).unwrap();
    assert!(html_links(&body(&two, "/")).contains(&older));
    assert_eq!(one.get("/feed.atom"), two.get("/feed.atom"));
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
            "/categories/conflict-justice.atom",
            "/categories/conflict-justice.json",
            "/categories/conflict-justice.rss",
            "/feed.atom",
            "/feed.json",
            "/feed.rss",
            "/feed.xsl",
            "/feeds.opml",
        ]
    );
    for path in paths {
        assert_eq!(a.get(path), b.get(path), "{path}");
    }
    // The feed's date is its newest change (an update or a deletion), never the time
    // of rendering.
    assert_eq!(
        a.get("/feed.atom").unwrap().last_modified,
        at(1_700_000_900)
    );
}

#[test]
fn every_format_reads_back_with_feed_rs() {
    let snapshot = snapshot();
    let expected = entries();
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let feed = feed_rs::parser::parse(snapshot.get(path).unwrap().body.as_ref())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            title_as_shown(feed.title.as_ref().unwrap(), path),
            "Example News",
            "{path}"
        );
        assert_eq!(feed.entries.len(), expected.len(), "{path}");
        for (got, want) in feed.entries.iter().zip(&expected) {
            let draft = &want.draft;
            assert_eq!(got.id, draft.id.to_string(), "{path}");
            assert_eq!(
                title_as_shown(got.title.as_ref().unwrap(), path),
                draft.title,
                "{path}"
            );
            assert_eq!(
                got.links[0].href,
                format!("https://news.example.org/entries/{}/", draft.key),
                "{path}"
            );
            assert_eq!(got.published, Some(want.published), "{path}");
            let content = got
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .map(|c| rss_html(&c));
            assert_eq!(
                content.as_deref(),
                Some(draft.content_html.as_str()),
                "{path}"
            );
            assert_eq!(
                got.categories[0].term,
                draft.section.clone().unwrap(),
                "{path}"
            );
        }
        if path != "/feed.rss" {
            assert_eq!(feed.entries[0].updated, Some(expected[0].updated), "{path}");
        }
    }
}

/// `[feed] content = "summary"`: each entry's summary and the link to its page, which
/// has the whole text; no HTML content. JSON Feed 1.1 wants `content_html` or
/// `content_text` in every item: the summary, plain text, is its `content_text`.
#[test]
fn summary_feeds_carry_the_summary_and_no_content() {
    let site = Site {
        content: FeedContent::Summary,
        ..site()
    };
    let snapshot = snapshot_with(&mut Renderer::new(site.clone()), &entries(), &[gone()]);
    for (name, path) in [
        ("feed-summary.rss", "/feed.rss"),
        ("feed-summary.atom", "/feed.atom"),
        ("feed-summary.json", "/feed.json"),
    ] {
        golden(name, &body(&snapshot, path));
    }
    let expected = entries();
    for path in common::feeds::SAMPLE_FEEDS {
        let feed = feed_rs::parser::parse(snapshot.get(path).unwrap().body.as_ref())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!feed.entries.is_empty(), "{path}");
        for got in &feed.entries {
            let draft = &expected.iter().find(|e| e.draft.id.to_string() == got.id);
            let draft = &draft.unwrap().draft;
            // RSS's description is HTML; Atom says when its summary is.
            let summary = got.summary.as_ref().unwrap();
            let html =
                path.ends_with(".rss") || summary.content_type.essence().to_string() == "text/html";
            let summary = match html {
                true => unescape_html(&summary.content),
                false => summary.content.clone(),
            };
            assert_eq!(summary, draft.summary, "{path}");
            let content = got.content.as_ref();
            if path.ends_with(".json") {
                let content = content.unwrap();
                assert_eq!(content.content_type.to_string(), "text/plain", "{path}");
                assert_eq!(
                    content.body.as_deref(),
                    Some(draft.summary.as_str()),
                    "{path}"
                );
            } else {
                assert_eq!(content, None, "{path}");
            }
            assert_eq!(got.links[0].href, site.entry_url(&draft.key), "{path}");
        }
    }
    // Archive pages are rendered with the setting too.
    let renderer = Renderer::new(site);
    for page in renderer.archive_page(1, &entries()).unwrap() {
        let feed = feed_rs::parser::parse(page.body.as_slice()).unwrap();
        assert!(
            feed.entries.iter().all(|e| e.content.is_none()),
            "{}",
            page.path
        );
    }
}

#[test]
fn json_feed_has_the_fields_of_version_1_1() {
    let snapshot = snapshot();
    let document = snapshot.get("/feed.json").unwrap();
    assert_eq!(document.media_type, "application/feed+json; charset=utf-8");
    let json: serde_json::Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["home_page_url"], "https://news.example.org/");
    assert_eq!(json["feed_url"], "https://news.example.org/feed.json");
    let item = &json["items"][1];
    for field in [
        "id",
        "url",
        "title",
        "content_html",
        "summary",
        "date_published",
        "date_modified",
    ] {
        assert!(item[field].is_string(), "{field}: {item}");
    }
    assert_eq!(item["date_published"], "2023-11-14T22:13:20Z");
    assert_eq!(item["tags"], serde_json::json!(["Conflict & Justice"]));
    assert_eq!(item["authors"][0]["name"], "Example Desk");
}

#[test]
fn xml_dates_are_rfc_822_in_rss_and_rfc_3339_with_z_in_atom() {
    let snapshot = snapshot();
    let rss = body(&snapshot, "/feed.rss");
    let rss = roxmltree::Document::parse(&rss).unwrap();
    for date in rss.descendants().filter(|n| n.has_tag_name("pubDate")) {
        let text = date.text().unwrap();
        assert!(
            DateTime::parse_from_rfc2822(text).is_ok() && text.ends_with("+0000"),
            "{text}"
        );
    }
    let atom = body(&snapshot, "/feed.atom");
    let atom = roxmltree::Document::parse(&atom).unwrap();
    let dates: Vec<_> = atom
        .descendants()
        .filter(|n| n.has_tag_name((ATOM_NS, "updated")) || n.has_tag_name((ATOM_NS, "published")))
        .map(|n| n.text().unwrap().to_owned())
        .collect();
    assert_eq!(dates.len(), 5);
    for text in dates {
        assert!(
            text.contains('T')
                && text.ends_with('Z')
                && DateTime::parse_from_rfc3339(&text).is_ok(),
            "{text}"
        );
    }
}

#[test]
fn deleted_entries_are_rfc_6721_tombstones_in_atom_only() {
    let snapshot = snapshot();
    let gone = gone();
    for path in ["/feed.atom", "/categories/conflict-justice.atom"] {
        let xml = body(&snapshot, path);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let tombstones: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name((TOMBSTONES_NS, "deleted-entry")))
            .collect();
        assert_eq!(tombstones.len(), 1, "{path}");
        assert_eq!(
            tombstones[0].attribute("ref"),
            Some(gone.id.to_string().as_str()),
            "{path}"
        );
        assert_eq!(
            tombstones[0].attribute("when"),
            Some("2023-11-14T22:23:20Z"),
            "{path}"
        );
        // RFC 4287's schema puts extension elements before the entries.
        let children: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.is_element())
            .collect();
        let first_entry = children
            .iter()
            .position(|n| n.has_tag_name((ATOM_NS, "entry")))
            .unwrap();
        let tombstone_at = children
            .iter()
            .position(|n| n.has_tag_name((TOMBSTONES_NS, "deleted-entry")))
            .unwrap();
        assert!(tombstone_at < first_entry, "{path}");
    }
    assert!(!body(&snapshot, "/feed.rss").contains(TOMBSTONES_NS));
}

#[test]
fn archive_pages_carry_the_rfc_5005_links() {
    let mut renderer = Renderer::new(site());
    let page = |renderer: &Renderer, n: u64| renderer.archive_page(n, &entries()).unwrap();
    let first = page(&renderer, 1);
    let third = page(&renderer, 3);
    let base = "https://news.example.org";
    for (pages, ext) in [(&first, "rss"), (&third, "rss")]
        .into_iter()
        .chain([(&first, "atom"), (&third, "atom")])
    {
        let page = pages.iter().find(|p| p.path.ends_with(ext)).unwrap();
        let xml = String::from_utf8(page.body.clone()).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert!(
            doc.descendants()
                .any(|n| n.has_tag_name((HISTORY_NS, "archive"))),
            "{}",
            page.path
        );
        let links = feed_links(&xml);
        assert!(
            links.contains(&("self".into(), format!("{base}{}", page.path))),
            "{links:?}"
        );
        assert!(
            links.contains(&("current".into(), format!("{base}/feed.{ext}"))),
            "{links:?}"
        );
        let neighbour = if page.number == 1 {
            ("next-archive".to_owned(), format!("{base}/archive/2.{ext}"))
        } else {
            ("prev-archive".to_owned(), format!("{base}/archive/2.{ext}"))
        };
        assert!(links.contains(&neighbour), "{}: {links:?}", page.path);
    }
    // The subscription documents point at the newest full page.
    renderer.set_newest_archive(Some(3));
    let snapshot = snapshot_with(&mut renderer, &entries(), &[]);
    for ext in ["rss", "atom"] {
        let links = feed_links(&body(&snapshot, &format!("/feed.{ext}")));
        assert!(
            links.contains(&("prev-archive".into(), format!("{base}/archive/3.{ext}"))),
            "{links:?}"
        );
    }
    let atom = third.iter().find(|p| p.path == "/archive/3.atom").unwrap();
    let served = archive_document(atom);
    assert_eq!(served.caching, seedfeed::render::Caching::Immutable);
    assert_eq!(served.body, atom.body);
}

#[test]
fn a_changed_feed_offers_deltas_against_its_earlier_versions() {
    let mut renderer = Renderer::new(site());
    let old = entries()[1..].to_vec();
    let first = snapshot_with(&mut renderer, &old, &[]);
    let first_etag = first.get("/feed.atom").unwrap().etag.clone();
    let unchanged = snapshot_with(&mut renderer, &old, &[]);
    assert!(
        unchanged.get("/feed.atom").unwrap().deltas.is_empty(),
        "nothing changed, no delta"
    );

    let second = snapshot_with(&mut renderer, &entries(), &[]);
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let document = second.get(path).unwrap();
        assert_eq!(document.deltas.len(), 1, "{path}");
        let delta = &document.deltas[0];
        let base = first.get(path).unwrap();
        assert_eq!(delta.base_etag, base.etag, "{path}");
        let feed = feed_rs::parser::parse(delta.body.as_ref()).unwrap();
        let ids: Vec<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(
            ids,
            [entries()[0].draft.id.to_string()],
            "only the new entry: {path}"
        );
    }
    assert_eq!(
        second.get("/feed.atom").unwrap().deltas[0].base_etag,
        first_etag
    );
}

#[test]
fn a_versions_deltas_hold_no_more_entries_than_the_feed() {
    // A feed of ten that gains one entry a version: the delta from k versions back holds
    // k entries. Those from 1 to 4 versions back hold ten; the older bases get the whole
    // document.
    let mut renderer = Renderer::new(site());
    let article = sample();
    let nth = |i: i64| {
        let at = 1_700_000_000 + i * 60;
        entry(&site(), &format!("k{i:02}"), &article, at, at)
    };
    let mut etags = Vec::new();
    let mut last = None;
    for newest in 9..20 {
        let window: Vec<Entry> = (newest - 9..=newest).rev().map(nth).collect();
        let snapshot = snapshot_with(&mut renderer, &window, &[]);
        etags.push(snapshot.get("/feed.atom").unwrap().etag.clone());
        last = Some(snapshot);
    }
    let document = last.unwrap().get("/feed.atom").unwrap().clone();
    let bases: Vec<_> = document
        .deltas
        .iter()
        .map(|d| d.base_etag.clone())
        .collect();
    let newest_bases: Vec<_> = etags.iter().rev().skip(1).take(4).cloned().collect();
    assert_eq!(bases, newest_bases, "the four newest bases, newest first");
    let held: Vec<usize> = document
        .deltas
        .iter()
        .map(|d| {
            feed_rs::parser::parse(d.body.as_ref())
                .unwrap()
                .entries
                .len()
        })
        .collect();
    assert_eq!(held, [1, 2, 3, 4]);
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
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let feed = feed_rs::parser::parse(snapshot.get(path).unwrap().body.as_ref()).unwrap();
        let content = rss_html(
            &feed.entries[0]
                .content
                .as_ref()
                .unwrap()
                .body
                .clone()
                .unwrap(),
        );
        assert!(
            !content.contains("<script>") && !content.contains("<b>"),
            "{path}: {content}"
        );
        assert!(
            content.contains("&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; end"),
            "{path}: {content}"
        );
        assert_eq!(
            title_as_shown(feed.entries[0].title.as_ref().unwrap(), path),
            article.title,
            "{path}"
        );
    }
    let page = body(&snapshot, "/entries/zz-hostile/");
    assert!(
        !page.contains("<script>") && page.contains("&lt;b&gt;Bold&lt;/b&gt;"),
        "{page}"
    );
}

#[test]
fn the_index_and_pages_link_every_feed() {
    let snapshot = snapshot();
    let index = body(&snapshot, "/");
    for (kind, href) in [
        ("application/atom+xml", "https://news.example.org/feed.atom"),
        ("application/rss+xml", "https://news.example.org/feed.rss"),
        (
            "application/feed+json",
            "https://news.example.org/feed.json",
        ),
        (
            "application/atom+xml",
            "https://news.example.org/categories/conflict-justice.atom",
        ),
        (
            "application/feed+json",
            "https://news.example.org/categories/conflict-justice.json",
        ),
    ] {
        assert!(
            index.contains(&format!("<link rel=\"alternate\" type=\"{kind}\""))
                && index.contains(&format!("href=\"{href}\"")),
            "{href}"
        );
    }
    assert!(index.contains("<link rel=\"canonical\" href=\"https://news.example.org/\">"));
    let page = body(&snapshot, "/entries/000_9b018788d1e41f8c/");
    assert!(page.contains(
        "<link rel=\"canonical\" href=\"https://news.example.org/entries/000_9b018788d1e41f8c/\">"
    ));
    assert!(page.contains(
        "<meta property=\"og:title\" content=\"Mali: countercoup attempted — Example News\">"
    ));
    let urls = opml_urls(&body(&snapshot, "/feeds.opml")).unwrap();
    assert_eq!(
        urls,
        [
            "https://news.example.org/feed.atom",
            "https://news.example.org/categories/conflict-justice.atom"
        ]
    );
}

#[test]
fn a_section_feed_is_titled_and_linked_as_its_own() {
    let snapshot = snapshot();
    let atom = feed_rs::parser::parse(
        snapshot
            .get("/categories/conflict-justice.atom")
            .unwrap()
            .body
            .as_ref(),
    )
    .unwrap();
    assert_eq!(
        title_as_shown(atom.title.as_ref().unwrap(), ".atom"),
        "Example News — Conflict & Justice"
    );
    assert_eq!(atom.entries.len(), 1);
    let xml = body(&snapshot, "/categories/conflict-justice.rss");
    assert!(feed_links(&xml).contains(&(
        "self".into(),
        "https://news.example.org/categories/conflict-justice.rss".into()
    )));
}

/// `[feed] rights`: the copyright statement as Atom's `<rights>` and RSS's `<copyright>`,
/// read back as written (markup characters included); none when it is not configured.
#[test]
fn rights_are_in_atom_and_rss_when_configured() {
    let statement = "© 2026 Example & Co <news@example.org>";
    let site = Site {
        rights: Some(statement.into()),
        ..site()
    };
    let with = snapshot_with(&mut Renderer::new(site), &entries(), &[]);
    let without = snapshot_with(&mut Renderer::new(self::site()), &entries(), &[]);
    for path in [
        "/feed.atom",
        "/feed.rss",
        "/categories/conflict-justice.atom",
    ] {
        let read = |snapshot: &Snapshot| {
            feed_rs::parser::parse(snapshot.get(path).unwrap().body.as_ref())
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .rights
                .map(|text| unescape_html(&text.content))
        };
        assert_eq!(read(&with).as_deref(), Some(statement), "{path}");
        assert_eq!(read(&without), None, "{path}");
    }
}
