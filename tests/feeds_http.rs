//! The feed documents over a real server on loopback: JSON Feed and section feeds, the
//! OPML list, conditional GET, RFC 3229 deltas, RFC 6721 tombstones and RFC 5005 archive
//! pages that never change. What browsers are sent is in `tests/browser.rs`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::time::Duration;

use common::articles::{SAMPLE_KEY, sample_article, sample_as as article, write_file};
use common::daemon::{TestDaemon, header};
use common::feeds::{TOMBSTONES_NS, has_entry, ids, opml_urls};
use common::poll::eventually;
use seedfeed::config::Layer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_feed_section_feeds_and_the_opml_list_are_served() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let tech = daemon
        .publish("tech-1", &article("A tech story", "Tech"))
        .await;

    let json = daemon.get("/feed.json").await;
    assert_eq!(
        header(&json, "content-type"),
        "application/feed+json; charset=utf-8"
    );
    let json: serde_json::Value = serde_json::from_slice(&json.bytes().await.unwrap()).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 2);
    assert_eq!(json["feed_url"], daemon.url("/feed.json").as_str());

    for (format, media_type) in [
        ("rss", "application/rss+xml; charset=utf-8"),
        ("atom", "application/atom+xml; charset=utf-8"),
        ("json", "application/feed+json; charset=utf-8"),
    ] {
        let path = format!("/categories/tech.{format}");
        let response = daemon.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), media_type, "{path}");
        assert_eq!(
            ids(&daemon.feed(&path).await),
            std::slice::from_ref(&tech),
            "{path}"
        );
        let sample_section = format!("/categories/conflict-justice.{format}");
        assert_eq!(
            ids(&daemon.feed(&sample_section).await),
            [daemon.id_of(SAMPLE_KEY).to_string()]
        );
    }
    let title = daemon
        .feed("/categories/tech.atom")
        .await
        .title
        .unwrap()
        .content;
    assert_eq!(title, "seedfeed — Tech");
    assert_eq!(daemon.get("/categories/nope.atom").await.status(), 404);

    let opml = daemon.get("/feeds.opml").await;
    assert_eq!(header(&opml, "content-type"), "text/x-opml; charset=utf-8");
    let urls = opml_urls(&opml.text().await.unwrap()).unwrap();
    assert_eq!(
        urls,
        [
            daemon.url("/feed.atom"),
            daemon.url("/categories/conflict-justice.atom"),
            daemon.url("/categories/tech.atom")
        ]
    );
    let index = daemon.body("/").await;
    assert!(index.contains(&format!("href=\"{}\"", daemon.url("/categories/tech.json"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_get_answers_304_with_the_validators() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let first = daemon.get("/feed.atom").await;
    let etag = header(&first, "etag");
    let last_modified = header(&first, "last-modified");
    assert_eq!(header(&first, "cache-control"), "public, max-age=300");
    let listed = format!("\"other\", W/{etag}");
    for (name, value) in [
        ("if-none-match", etag.as_str()),
        ("if-none-match", listed.as_str()),
        ("if-none-match", "*"),
        ("if-modified-since", last_modified.as_str()),
    ] {
        let headers = [(name, value)];
        let response = daemon.get_with("/feed.atom", &headers).await;
        assert_eq!(response.status(), 304, "{headers:?}");
        assert_eq!(header(&response, "etag"), etag);
        assert_eq!(header(&response, "last-modified"), last_modified);
        assert_eq!(header(&response, "cache-control"), "public, max-age=300");
        assert!(response.bytes().await.unwrap().is_empty());
    }
    // If-None-Match decides alone: a stale tag is a full answer whatever the date says.
    let response = daemon
        .get_with(
            "/feed.atom",
            &[
                ("if-none-match", "\"stale\""),
                ("if-modified-since", &last_modified),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_with_an_earlier_version_gets_a_226_delta() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let before = header(&daemon.get("/feed.atom").await, "etag");
    let new = daemon
        .publish("new-1", &article("A new story", "Tech"))
        .await;
    let now = header(&daemon.get("/feed.atom").await, "etag");
    assert_ne!(before, now);

    let delta = daemon
        .get_with(
            "/feed.atom",
            &[("a-im", "feed"), ("if-none-match", &before)],
        )
        .await;
    assert_eq!(delta.status().as_u16(), 226);
    assert_eq!(header(&delta, "im"), "feed");
    assert_eq!(
        header(&delta, "etag"),
        now,
        "the ETag of the current version, to send next time"
    );
    assert_eq!(header(&delta, "cache-control"), "no-store");
    let body = delta.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(body.as_ref()).unwrap();
    assert_eq!(ids(&feed), [new], "only what changed since that version");

    let current = daemon
        .get_with("/feed.atom", &[("a-im", "feed"), ("if-none-match", &now)])
        .await;
    assert_eq!(current.status(), 304);
    let unknown = daemon
        .get_with(
            "/feed.atom",
            &[("a-im", "feed"), ("if-none-match", "\"from-another-life\"")],
        )
        .await;
    assert_eq!(unknown.status(), 200);
    assert_eq!(daemon.feed("/feed.atom").await.entries.len(), 2);
    let without_a_im = daemon
        .get_with("/feed.atom", &[("if-none-match", &before)])
        .await;
    assert_eq!(without_a_im.status(), 200);
}

/// A 226 is compressed like a 200: the delta in the coding the reader accepts, with
/// `Content-Encoding`, the current version's ETag and `Vary: Accept-Encoding`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_226_delta_is_compressed_like_a_200() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let before = header(&daemon.get("/feed.atom").await, "etag");
    let new = daemon
        .publish("new-1", &article("A new story", "Tech"))
        .await;
    let now = header(&daemon.get("/feed.atom").await, "etag");
    let identity = daemon
        .get_with(
            "/feed.atom",
            &[("a-im", "feed"), ("if-none-match", &before)],
        )
        .await;
    assert_eq!(identity.status().as_u16(), 226);
    let identity = identity.bytes().await.unwrap();
    for coding in ["gzip", "br"] {
        let delta = daemon
            .get_with(
                "/feed.atom",
                &[
                    ("a-im", "feed"),
                    ("if-none-match", &before),
                    ("accept-encoding", coding),
                ],
            )
            .await;
        assert_eq!(delta.status().as_u16(), 226, "{coding}");
        assert_eq!(header(&delta, "content-encoding"), coding);
        assert_eq!(header(&delta, "etag"), now, "{coding}");
        assert!(
            header(&delta, "vary").contains("Accept-Encoding"),
            "{coding}"
        );
        assert_eq!(header(&delta, "cache-control"), "no-store");
        let compressed = delta.bytes().await.unwrap();
        assert!(compressed.len() < identity.len(), "{coding}");
        let mut body = Vec::new();
        if coding == "gzip" {
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&compressed[..]),
                &mut body,
            )
            .unwrap();
        } else {
            brotli::BrotliDecompress(&mut &compressed[..], &mut body).unwrap();
        }
        assert_eq!(body, identity, "{coding}: the same delta");
        let feed = feed_rs::parser::parse(&body[..]).unwrap();
        assert_eq!(ids(&feed), std::slice::from_ref(&new), "{coding}");
    }
}

/// The stylesheet is dated by the build, not 1970: a client that revalidates by date
/// gets a new stylesheet after an upgrade. Its ETag is its content's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stylesheet_is_dated_by_the_build_and_tagged_by_its_content() {
    let daemon = TestDaemon::start().await;
    let xsl = daemon.get("/feed.xsl").await;
    let last_modified = header(&xsl, "last-modified");
    let etag = header(&xsl, "etag");
    let body = xsl.bytes().await.unwrap();
    assert_eq!(etag, seedfeed::render::etag_of(&body));
    let date = httpdate::parse_http_date(&last_modified).unwrap();
    let year_2020 = std::time::UNIX_EPOCH + Duration::from_secs(1_577_836_800);
    assert!(
        date > year_2020 && date <= std::time::SystemTime::now(),
        "Last-Modified: {last_modified}"
    );
    for (date, status) in [
        ("Sat, 01 Jan 2000 00:00:00 GMT", 200),
        (last_modified.as_str(), 304),
    ] {
        let response = daemon
            .get_with("/feed.xsl", &[("if-modified-since", date)])
            .await;
        assert_eq!(response.status(), status, "If-Modified-Since: {date}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_article_leaves_a_tombstone_in_the_atom_feeds() {
    let daemon = TestDaemon::start().await;
    let (path, id) = daemon.publish_sample().await;
    std::fs::remove_file(&path).unwrap();
    daemon
        .wait_for_feeds("the deletion", |f| f.entries.is_empty())
        .await;
    for feed in ["/feed.atom", "/categories/conflict-justice.atom"] {
        let xml = daemon.body(feed).await;
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let refs: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name((TOMBSTONES_NS, "deleted-entry")))
            .filter_map(|n| n.attribute("ref"))
            .collect();
        assert_eq!(refs, [id.as_str()], "{feed}");
    }
    // The file comes back: the entry returns with its id, and the tombstone goes.
    write_file(&path, &sample_article());
    daemon.wait_for_feeds("the return", has_entry(id)).await;
    assert!(!daemon.body("/feed.atom").await.contains(TOMBSTONES_NS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_tombstone_days_a_deletion_leaves_nothing_behind() {
    let daemon = TestDaemon::start_with(Layer {
        tombstone_days: Some(0),
        ..Layer::default()
    })
    .await;
    let (path, _) = daemon.publish_sample().await;
    std::fs::remove_file(&path).unwrap();
    daemon
        .wait_for_feeds("the deletion", |f| f.entries.is_empty())
        .await;
    assert!(!daemon.body("/feed.atom").await.contains(TOMBSTONES_NS));
    assert_eq!(
        daemon
            .get("/categories/conflict-justice.atom")
            .await
            .status(),
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_archive_pages_are_immutable_and_recover_the_whole_history() {
    // A fixed base URL, as a real site has: archive pages hold it in every link, and a
    // new one (a site move) renders them again.
    let mut daemon = TestDaemon::start_with(Layer {
        feed_size: Some(2),
        base_url: Some("https://news.example.org".into()),
        ..Layer::default()
    })
    .await;
    let mut all = Vec::new();
    for i in 0..5 {
        // One at a time, so that the order of first publication is the file order.
        let id = daemon
            .publish(
                &format!("story-{i}"),
                &article(&format!("Story {i}"), "Tech"),
            )
            .await;
        all.push(id);
    }
    // Five entries, pages of two: pages 1 and 2 are full, the fifth is only in the feed.
    // A complete page is served at once, and immutable once it is frozen, in the
    // background.
    let paths = [
        "/archive/1.atom",
        "/archive/1.rss",
        "/archive/2.atom",
        "/archive/2.rss",
    ];
    eventually("two archive pages, frozen", || async {
        for path in paths {
            let response = daemon.get(path).await;
            if response.status() != 200
                || header(&response, "cache-control") != "public, max-age=31536000, immutable"
            {
                return false;
            }
        }
        true
    })
    .await;
    // The next page will exist once a sixth entry is stored: a cache may keep its 404
    // no longer than it keeps the feed.
    let next = daemon.get("/archive/3.atom").await;
    assert_eq!(next.status(), 404);
    let feed = daemon.get("/feed.atom").await;
    assert_eq!(
        next.headers().get("cache-control"),
        feed.headers().get("cache-control")
    );
    assert!(next.headers().get("cache-control").is_some());
    let mut seen = Vec::new();
    for page in [1, 2] {
        for format in ["atom", "rss"] {
            let path = format!("/archive/{page}.{format}");
            let response = daemon.get(&path).await;
            assert_eq!(
                header(&response, "cache-control"),
                "public, max-age=31536000, immutable"
            );
            let page_ids = ids(&daemon.feed(&path).await);
            assert_eq!(page_ids.len(), 2, "{path}");
            if format == "atom" {
                seen.extend(page_ids);
            }
        }
    }
    let current = daemon.feed("/feed.atom").await;
    assert!(
        current
            .links
            .iter()
            .any(|l| l.rel.as_deref() == Some("prev-archive")
                && l.href == "https://news.example.org/archive/2.atom")
    );
    seen.extend(current.entries.iter().map(|e| e.id.clone()));
    seen.sort();
    seen.dedup();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(
        seen, expected,
        "archives and the feed hold the whole history"
    );

    // Editing an archived article and restarting change nothing in a full page.
    let page_one = daemon.body("/archive/1.atom").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    write_file(
        &daemon.seed_path("story-0.txt"),
        &article("Story 0, edited", "Tech"),
    );
    eventually("the edit to be stored", || async {
        daemon
            .body("/entries/story-0/")
            .await
            .contains("Story 0, edited")
    })
    .await;
    assert_eq!(daemon.body("/archive/1.atom").await, page_one);
    daemon.restart().await;
    assert_eq!(daemon.body("/archive/1.atom").await, page_one);
}
