//! Sections whose names slugify alike ("C++" and "C#") get a feed each, at slugs that
//! stay the same through a restart and a rebuild of the database from the same folder.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::articles::article;
use common::daemon::TestDaemon;
use common::feeds::{ids, opml_urls};
use seedfeed::config::Layer;
use tempfile::TempDir;

/// The section feeds the OPML list names, and the entry ids and title of each.
async fn section_feeds(daemon: &TestDaemon) -> Vec<(String, Vec<String>, String)> {
    let opml = daemon.body("/feeds.opml").await;
    let mut feeds = Vec::new();
    for url in opml_urls(&opml).unwrap() {
        let Some(path) = url.strip_prefix(&daemon.base) else {
            panic!("{url} is not on {}", daemon.base);
        };
        if !path.starts_with("/categories/") {
            continue;
        }
        let feed = daemon.feed(path).await;
        let title = feed.title.clone().unwrap().content;
        feeds.push((path.to_owned(), ids(&feed), title));
    }
    feeds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_that_slugify_alike_get_feeds_of_their_own_that_stay() {
    let mut daemon = TestDaemon::start().await;
    let cpp = daemon
        .publish("a-cpp", &article("C++", "Templates", "About templates."))
        .await;
    let sharp = daemon
        .publish("b-csharp", &article("C#", "LINQ", "About queries."))
        .await;
    // The first section seen keeps the plain slug; the other's is a function of its name.
    let sharp_slug = seedfeed::normalize::assign_slug("C#", |s| Ok::<_, ()>(s == "c")).unwrap();
    // Listed by name.
    let mut expected = vec![
        (
            format!("/categories/{sharp_slug}.atom"),
            vec![sharp.clone()],
            "seedfeed — C#".to_owned(),
        ),
        (
            "/categories/c.atom".to_owned(),
            vec![cpp.clone()],
            "seedfeed — C++".to_owned(),
        ),
    ];
    assert_eq!(section_feeds(&daemon).await, expected);
    for format in ["rss", "json"] {
        let path = format!("/categories/{sharp_slug}.{format}");
        assert_eq!(
            ids(&daemon.feed(&path).await),
            std::slice::from_ref(&sharp),
            "{path}"
        );
    }
    let page = daemon.get(&format!("/categories/{sharp_slug}/")).await;
    assert_eq!(page.status(), 200);

    // After a restart, a new article of the section joins its feed: the slug was kept.
    daemon.restart().await;
    assert_eq!(section_feeds(&daemon).await, expected, "after a restart");
    let sharp_2 = daemon
        .publish("c-csharp", &article("C#", "Records", "About records."))
        .await;
    expected[0].1.insert(0, sharp_2);
    assert_eq!(section_feeds(&daemon).await, expected, "a new entry");

    // A new database from the same folder: the files are applied in date order, so the
    // same section is seen first and every slug comes out the same.
    let data = TempDir::new().unwrap();
    daemon
        .restart_with(Layer {
            data: Some(data.path().to_owned()),
            ..Layer::default()
        })
        .await;
    assert_eq!(section_feeds(&daemon).await, expected, "after a rebuild");
}
