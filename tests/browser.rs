//! What browsers and people are sent, over a real server on loopback: a feed's address
//! answers a browser with an HTML page about the feed and a feed reader with the feed's
//! bytes, each its own representation (validators, 304, HEAD, codings); text is shown as
//! text; the paged listings, the site's and each section's, lead down to the oldest
//! entry and are never older than the store; archive pages say what they are; an unknown
//! path is a page for browsers and plain text for machines.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::io::Read;

use common::articles::{article, sample_as};
use common::daemon::{TestDaemon, header};
use common::feeds::{html_links, html_texts};
use common::poll::{PATIENCE, eventually};
use seedfeed::config::Layer;

/// What Chromium sends for a page.
const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// What readers send: feedparser's, a plain reader's, a JSON Feed reader's.
const READERS: [&str; 4] = [
    "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1",
    "application/rss+xml, application/atom+xml, text/html;q=0.8",
    "application/feed+json, application/json;q=0.9, text/html;q=0.5",
    "*/*",
];

/// The HTML a browser is sent at `path`, asserting it is a page.
async fn page(daemon: &TestDaemon, path: &str) -> String {
    let response = daemon.get_with(path, &[("accept", BROWSER)]).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// A link of the site as a path on the test server.
fn local<'a>(daemon: &TestDaemon, href: &'a str) -> &'a str {
    href.strip_prefix(daemon.base.as_str()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_address_is_a_page_for_browsers_and_the_feed_for_readers() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    for path in common::feeds::SAMPLE_FEEDS {
        daemon.wait_for_variants(path).await;
        // Readers, whatever they send (and validators, which send no Accept), get the
        // one feed, byte for byte, with the feed's media type and tag.
        let feed = daemon.get_with(path, &[("accept", READERS[0])]).await;
        let (feed_type, feed_tag) = (header(&feed, "content-type"), header(&feed, "etag"));
        assert!(!feed_type.starts_with("text/html"), "{path}: {feed_type}");
        assert_eq!(header(&feed, "vary"), "Accept, Accept-Encoding");
        let feed = feed.bytes().await.unwrap();
        for accept in READERS {
            let response = daemon.get_with(path, &[("accept", accept)]).await;
            assert_eq!(header(&response, "etag"), feed_tag, "{path}, {accept}");
            assert_eq!(response.bytes().await.unwrap(), feed, "{path}, {accept}");
        }
        let no_accept = daemon
            .raw(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
            .await;
        assert!(
            no_accept.contains(&format!("content-type: {feed_type}")),
            "{path}"
        );
        assert!(
            no_accept.ends_with(std::str::from_utf8(&feed).unwrap()),
            "{path}"
        );
        if !path.ends_with(".json") {
            let xml = String::from_utf8(feed.to_vec()).unwrap();
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let pi = doc.root().children().find_map(|n| n.pi()).unwrap();
            assert_eq!(pi.value, Some("type=\"text/xsl\" href=\"/feed.xsl\""));
        }

        // A browser gets a page about the feed: its own representation.
        let response = daemon.get_with(path, &[("accept", BROWSER)]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&response, "vary"), "Accept, Accept-Encoding");
        let (tag, modified) = (
            header(&response, "etag"),
            header(&response, "last-modified"),
        );
        assert!(tag.starts_with('"') && tag != feed_tag, "{path}: {tag}");
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script") && !html.contains("xml-stylesheet"));
        assert!(html_texts(&html, "code").contains(&format!("{}{path}", daemon.base)));
        let links = html_links(&html);
        assert!(
            links.iter().any(|l| l.contains("/entries/")),
            "{path}: {links:?}"
        );

        // Its validators, HEAD and codings work as the feed's do.
        let as_browser = |extra: (&'static str, String)| {
            let daemon = &daemon;
            async move {
                let headers = [("accept", BROWSER), (extra.0, extra.1.as_str())];
                daemon.get_with(path, &headers).await
            }
        };
        let revalidated = as_browser(("if-none-match", tag.clone())).await;
        assert_eq!(revalidated.status(), 304, "{path}");
        assert_eq!(header(&revalidated, "etag"), tag);
        assert_eq!(header(&revalidated, "vary"), "Accept, Accept-Encoding");
        let since = as_browser(("if-modified-since", modified.clone())).await;
        assert_eq!(since.status(), 304, "{path}");
        let other = as_browser(("if-none-match", feed_tag.clone())).await;
        assert_eq!(
            other.status(),
            200,
            "{path}: the feed's tag is not the page's"
        );
        let head = daemon.client_head(path, &[("accept", BROWSER)]).await;
        assert_eq!(header(&head, "content-length"), html.len().to_string());
        assert_eq!(header(&head, "etag"), tag);
        let zipped = as_browser(("accept-encoding", "gzip".into())).await;
        assert_eq!(header(&zipped, "content-encoding"), "gzip", "{path}");
        assert_eq!(
            header(&zipped, "etag"),
            format!("{}-gzip\"", tag.trim_end_matches('"'))
        );
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&zipped.bytes().await.unwrap()[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, html);
        let br = as_browser(("accept-encoding", "br".into())).await;
        assert_eq!(header(&br, "content-encoding"), "br", "{path}");
    }
    let xsl = daemon.get("/feed.xsl").await;
    assert_eq!(header(&xsl, "content-type"), "text/xsl; charset=utf-8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltas_are_for_readers_only() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let before = header(&daemon.get("/feed.atom").await, "etag");
    daemon
        .publish("second", &sample_as("A second story", "World"))
        .await;
    let ask = |accept: &'static str| {
        let headers = [
            ("accept", accept),
            ("a-im", "feed"),
            ("if-none-match", before.as_str()),
        ];
        let daemon = &daemon;
        async move { daemon.get_with("/feed.atom", &headers).await }
    };
    assert_eq!(ask(READERS[1]).await.status(), 226);
    let browser = ask(BROWSER).await;
    assert_eq!(browser.status(), 200);
    assert_eq!(header(&browser, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&browser, "im"), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_with_markup_is_shown_as_its_characters() {
    const TITLE: &str = "<b>bold</b> & co";
    let daemon = TestDaemon::start().await;
    daemon
        .publish("markup", &article("Tech", TITLE, "Words & <i>words</i>."))
        .await;
    for path in [
        "/",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/categories/tech.atom",
        "/categories/tech/",
    ] {
        let html = page(&daemon, path).await;
        assert_eq!(html_texts(&html, "h2")[0], TITLE, "{path}");
        // Once escaped: no markup of the title's own, and no escapes shown.
        assert!(
            !html.contains("<b>") && !html.contains("&amp;lt;"),
            "{path}"
        );
    }
    let entry = page(&daemon, "/entries/markup/").await;
    assert_eq!(html_texts(&entry, "h1"), [TITLE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_lead_to_the_oldest_entry_and_archive_pages_to_their_neighbours() {
    let daemon = TestDaemon::start_with(Layer {
        feed_size: Some(2),
        ..Layer::default()
    })
    .await;
    for i in 0..5 {
        // One at a time, so that the order of publication is the file order.
        daemon
            .publish(
                &format!("story-{i}"),
                &sample_as(&format!("Story {i}"), "Tech"),
            )
            .await;
    }
    let newest_first: Vec<String> = (0..5).rev().map(|i| format!("Story {i}")).collect();
    for first in ["/", "/categories/tech/"] {
        assert_eq!(walk(&daemon, first).await, newest_first, "from {first}");
    }
    let index = page(&daemon, "/").await;
    assert!(html_links(&index).contains(&format!("{}/categories/tech/", daemon.base)));
    for past in [
        "/page/4/",
        "/page/1/",
        "/categories/tech/page/4/",
        "/categories/none/",
    ] {
        assert_eq!(daemon.get(past).await.status(), 404, "{past}");
    }

    // Archive pages in a browser: what they are, their entries, their neighbours. Each
    // is there as soon as its entries are, before it is frozen.
    assert_eq!(daemon.get("/archive/2.atom").await.status(), 200);
    let archive = daemon
        .get_with("/archive/1.atom", &[("accept", BROWSER)])
        .await;
    assert_eq!(header(&archive, "vary"), "Accept, Accept-Encoding");
    assert_ne!(
        header(&archive, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let html = archive.text().await.unwrap();
    assert!(
        html_texts(&html, "h1")[0].contains("archive page 1"),
        "{html}"
    );
    assert_eq!(
        html_texts(&html, "h2"),
        ["Story 0", "Story 1"],
        "oldest first"
    );
    let links = local_links(&daemon, &html);
    for href in ["/archive/2.atom", "/archive/1.rss", "/feed.atom", "/"] {
        assert!(links.contains(&href.to_owned()), "{href}: {links:?}");
    }
    let reader = daemon.get("/archive/1.atom").await;
    assert_eq!(
        header(&reader, "content-type"),
        "application/atom+xml; charset=utf-8"
    );
    eventually("archive page 1 to be frozen", || async {
        let reader = daemon.get("/archive/1.atom").await;
        header(&reader, "cache-control") == "public, max-age=31536000, immutable"
    })
    .await;
    // The feed links to the newest page from the snapshot that completed it.
    let feed = page(&daemon, "/feed.atom").await;
    assert!(local_links(&daemon, &feed).contains(&"/archive/2.atom".to_owned()));

    // A new entry moves every page down by one: a page cached before is not served after.
    let before = page(&daemon, "/page/2/").await;
    assert_eq!(html_texts(&before, "h2"), ["Story 2", "Story 1"]);
    let newest_archive = page(&daemon, "/archive/2.atom").await;
    assert!(!local_links(&daemon, &newest_archive).contains(&"/archive/3.atom".to_owned()));
    daemon
        .publish("story-5", &sample_as("Story 5", "Tech"))
        .await;
    let after = page(&daemon, "/page/2/").await;
    assert_eq!(html_texts(&after, "h2"), ["Story 3", "Story 2"]);
    // Page 3 is complete with it: the view of page 2, seen before, now leads to it.
    assert_eq!(daemon.get("/archive/3.atom").await.status(), 200);
    let archive = page(&daemon, "/archive/2.atom").await;
    assert!(local_links(&daemon, &archive).contains(&"/archive/3.atom".to_owned()));
}

/// The links of a page, as paths on the test server.
fn local_links(daemon: &TestDaemon, html: &str) -> Vec<String> {
    html_links(html)
        .iter()
        .map(|l| local(daemon, l).to_owned())
        .collect()
}

/// The titles of a listing from `first`, following its "older" links to the end.
async fn walk(daemon: &TestDaemon, first: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages <= 10, "no end to the pages from {first}");
        let html = page(daemon, &path).await;
        titles.extend(
            html_texts(&html, "h2")
                .into_iter()
                .filter(|t| t.starts_with("Story")),
        );
        next = html
            .split("<a rel=\"next\" href=\"")
            .nth(1)
            .map(|rest| local(daemon, &rest[..rest.find('"').unwrap()]).to_owned());
    }
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_path_is_a_page_for_browsers_and_text_for_machines() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    for path in ["/nothing", "/entries/none", "/page/2/"] {
        let browser = daemon.get_with(path, &[("accept", BROWSER)]).await;
        assert_eq!(browser.status(), 404, "{path}");
        assert_eq!(header(&browser, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&browser, "vary"), "Accept");
        let html = browser.text().await.unwrap();
        assert!(
            html_links(&html).contains(&format!("{}/", daemon.base)),
            "{html}"
        );
        let machine = daemon.get_with(path, &[("accept", "*/*")]).await;
        assert_eq!(machine.status(), 404);
        assert_eq!(
            header(&machine, "content-type"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(machine.text().await.unwrap(), "not found\n");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_is_never_older_than_the_store_during_a_bulk() {
    // Pages of 10; a bulk commits a part at a time and publishes once at the end, and
    // page 2 is asked for all along, so that it is cached between commits.
    let daemon = TestDaemon::start_with(Layer {
        feed_size: Some(10),
        ..Layer::default()
    })
    .await;
    const FILES: usize = 4000;
    // Written aside (a hidden folder is not watched), then moved in at once: one bulk.
    let aside = daemon.seed_path(".aside");
    for i in 0..FILES {
        common::articles::write_under(
            &aside,
            &format!("bulk-{i:04}.txt"),
            &article("Tech", &format!("Bulk story {i}"), &format!("Body {i}.")),
        );
    }
    std::fs::rename(&aside, daemon.seed_path("bulk")).unwrap();
    let (mut compared, mut during) = (0, 0);
    let deadline = std::time::Instant::now() + 3 * PATIENCE;
    loop {
        assert!(std::time::Instant::now() < deadline, "the bulk did not end");
        let before = stored_page_two(&daemon);
        let mut served = served_page_two(&daemon).await;
        let after = stored_page_two(&daemon);
        if before != after {
            continue; // a commit came between: nothing to compare with
        }
        if served != before.1 {
            // The commit whose change it missed may have landed just before the request
            // and not been told to the cache yet: once more.
            served = served_page_two(&daemon).await;
        }
        assert_eq!(served, after.1, "page 2 as served, and as stored");
        compared += 1;
        if after.0 == FILES as u64 {
            break;
        }
        during += 1;
    }
    assert!(
        during > 0,
        "page 2 was never asked for during the bulk ({compared})"
    );
}

/// The live entries and the keys of page 2 of the listing, as the store has them now.
fn stored_page_two(daemon: &TestDaemon) -> (u64, Vec<String>) {
    let Ok(store) = seedfeed::store::Store::open_reader(daemon.data.path()) else {
        return (0, Vec::new());
    };
    let (live, _) = store.live_counts().unwrap();
    let page = store.live_entries_page(None, 10, 10).unwrap();
    let keys = page
        .iter()
        .map(|e| e.draft.key.as_str().to_owned())
        .collect();
    (live, keys)
}

/// The keys of the entries page 2 of the listing shows (none when there is no page 2).
async fn served_page_two(daemon: &TestDaemon) -> Vec<String> {
    let response = daemon.get("/page/2/").await;
    if response.status() == 404 {
        return Vec::new();
    }
    let html = response.text().await.unwrap();
    html_links(&html)
        .iter()
        .filter_map(|l| l.split("/entries/").nth(1))
        .map(|key| key.trim_end_matches('/').to_owned())
        .collect()
}
