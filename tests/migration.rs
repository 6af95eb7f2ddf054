//! A publisher moving to seedfeed: `seedfeed import` (the binary) writes the articles of
//! an old RSS feed and an old Atom feed into a seeds folder, a daemon starts on it, and
//! every item is in every feed under the id readers already know it by, with its dates,
//! authors and tags; importing again while the daemon runs duplicates nothing.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use common::articles::{import_fixture, write_atomically, yaml_article};
use common::binary::seedfeed;
use common::daemon::TestDaemon;
use common::feeds::{entry, has_entry, ids, title_as_shown};

/// An item of the old feeds, as readers of those feeds know it.
struct Item {
    /// The RSS guid, or the link of an item without one (what readers then key it by),
    /// or the Atom id.
    id: &'static str,
    title: &'static str,
    published: &'static str,
    updated: &'static str,
    authors: &'static [&'static str],
    tags: &'static [&'static str],
}

/// The items of `tests/fixtures/import/rss.xml` and `atom.xml`.
const OLD_ITEMS: &[Item] = &[
    Item {
        id: "tag:old.example.org,2020:post-1",
        title: "Hello & welcome",
        published: "2020-03-03T09:15:00Z",
        updated: "2020-03-03T09:15:00Z",
        authors: &["Ada Lovelace"],
        tags: &["Rust", "Feeds"],
    },
    Item {
        id: "https://old.example.org/2020/second",
        title: "Second post",
        published: "2020-03-04T08:00:00Z",
        updated: "2020-03-04T08:00:00Z",
        authors: &["Bob Builder"],
        tags: &[],
    },
    // The same title as the first: another item, told apart by its guid.
    Item {
        id: "https://old.example.org/?p=3",
        title: "Hello & welcome",
        published: "2020-03-05T12:00:00Z",
        updated: "2020-03-05T12:00:00Z",
        authors: &[],
        tags: &[],
    },
    Item {
        id: "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        title: "A bold claim",
        published: "2021-06-01T06:30:00Z",
        updated: "2021-06-02T09:00:00Z",
        authors: &["Grace Hopper"],
        tags: &["COBOL", "history"],
    },
    // No published date: its updated one; no author: the old feed's.
    Item {
        id: "tag:atom.example.net,2021:link-1",
        title: "Un lien",
        published: "2021-05-20T10:00:00Z",
        updated: "2021-05-20T10:00:00Z",
        authors: &["Site Author"],
        tags: &[],
    },
];

/// Runs `seedfeed import {fixture} --into {seeds}`; returns its standard output.
fn import(fixture: &str, seeds: &Path) -> String {
    let run = seedfeed()
        .arg("import")
        .arg(import_fixture(fixture))
        .arg("--into")
        .arg(seeds)
        .output()
        .unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}{stderr}");
    stdout
}

fn date(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().into()
}

fn files_in(folder: &Path) -> BTreeSet<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|f| f.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_feeds_are_served_with_their_ids_dates_authors_and_tags() {
    let mut daemon = TestDaemon::start().await;
    daemon.stop().await;
    import("rss.xml", daemon.seeds.path());
    import("atom.xml", daemon.seeds.path());
    let written = files_in(daemon.seeds.path());
    assert_eq!(written.len(), OLD_ITEMS.len(), "{written:?}");
    daemon.restart().await;
    daemon
        .wait_for_feeds("every imported item", |feed| {
            OLD_ITEMS.iter().all(|item| entry(feed, item.id).is_some())
        })
        .await;

    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let feed = daemon.feed(path).await;
        assert_eq!(
            feed.entries.len(),
            OLD_ITEMS.len(),
            "{path}: {:?}",
            ids(&feed)
        );
        for item in OLD_ITEMS {
            let what = format!("{} in {path}", item.id);
            let served = entry(&feed, item.id).unwrap();
            assert_eq!(
                title_as_shown(served.title.as_ref().unwrap(), path),
                item.title,
                "{what}"
            );
            assert_eq!(served.published, Some(date(item.published)), "{what}");
            let tags: Vec<&str> = served.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(tags, item.tags, "{what}");
            if !path.ends_with(".rss") {
                let authors: Vec<&str> = served
                    .authors
                    .iter()
                    .filter_map(|a| a.name.as_deref())
                    .collect();
                if !item.authors.is_empty() || path.ends_with(".atom") {
                    assert_eq!(authors, item.authors, "{what}");
                }
            }
            if path.ends_with(".atom") {
                assert_eq!(served.updated, Some(date(item.updated)), "{what}");
            }
        }
    }
    // RSS readers key items by their guid, written as the old feed had it.
    let rss = daemon.body("/feed.rss").await;
    for item in OLD_ITEMS {
        let guid = format!(
            "<guid isPermaLink=\"false\">{}</guid>",
            item.id.replace('&', "&#x26;")
        );
        assert!(rss.contains(&guid), "{guid} in {rss}");
    }
    for (tag, id) in [("rust", OLD_ITEMS[0].id), ("cobol", OLD_ITEMS[3].id)] {
        let feed = daemon.feed(&format!("/tags/{tag}.atom")).await;
        assert_eq!(ids(&feed), [id], "/tags/{tag}.atom");
    }
    let grace = daemon.feed("/authors/grace-hopper.json").await;
    assert_eq!(ids(&grace), [OLD_ITEMS[3].id]);

    // Again, into the folder the daemon serves: nothing new, nothing twice.
    for fixture in ["rss.xml", "atom.xml"] {
        let again = import(fixture, daemon.seeds.path());
        assert!(again.contains(" 0 new, "), "{again}");
        assert!(again.contains(" 0 updated"), "{again}");
    }
    assert_eq!(files_in(daemon.seeds.path()), written);
    // An article written after the re-runs shows that the daemon has seen them.
    write_atomically(
        &daemon.seed_path("after.md"),
        &yaml_article("title: After", "Later."),
    );
    let after = daemon.id_of("after").to_string();
    daemon
        .wait_for_feeds("the article after", has_entry(after))
        .await;
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let feed = daemon.feed(path).await;
        assert_eq!(
            feed.entries.len(),
            OLD_ITEMS.len() + 1,
            "{path}: {:?}",
            ids(&feed)
        );
    }
    let status = daemon.status().await;
    assert_eq!(
        status["files"]["published"],
        OLD_ITEMS.len() + 1,
        "{status:#}"
    );
    assert_eq!(status["totals"]["updated"], 0, "{status:#}");
    assert_eq!(status["duplicates"], serde_json::json!([]), "{status:#}");
}
