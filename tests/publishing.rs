//! When and under which id front matter publishes an article, through a running daemon:
//! drafts held and released, an article dated in the future published at its date by the
//! daemon's timer with no change to the file, ids kept from an older system in every
//! format, dates that set and move `published`, two files claiming one id, and
//! `seedfeed new` writing into a running daemon's folder.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use chrono::{DateTime, SubsecRound, Utc};
use common::articles::{write_atomically, yaml_article};
use common::binary::seedfeed;
use common::daemon::{TestDaemon, status_note};
use common::feeds::{entry, has_entry, title_as_shown};
use common::poll::eventually;
use feed_rs::model::Feed;

/// The main feeds and the feeds of the tag `held`, which the held articles carry.
const FEEDS: [&str; 4] = ["/feed.atom", "/feed.rss", "/feed.json", "/tags/held.atom"];

fn draft_article(draft: bool) -> Vec<u8> {
    yaml_article(
        &format!("title: Not yet\ntags: [held, other]\ndraft: {draft}"),
        "A draft until its author says otherwise.",
    )
}

/// Waits until every feed of [`FEEDS`] has (or has not) the entry `id`; a feed that is
/// not there (the tag's, before any article has it) has not.
async fn wait_in_feeds(daemon: &TestDaemon, id: &str, present: bool) {
    for path in FEEDS {
        if present {
            daemon.wait_for_feed(path, id, has_entry(id)).await;
            continue;
        }
        eventually(&format!("{id} gone from {path}"), || async {
            let response = daemon.get(path).await;
            if response.status() == 404 {
                return true;
            }
            let feed = feed_rs::parser::parse(response.bytes().await.unwrap().as_ref()).unwrap();
            entry(&feed, id).is_none()
        })
        .await;
    }
}

/// `draft: true` keeps an article out of every feed and page and lists it as held;
/// `draft: false` publishes it; made a draft again, it leaves the feeds (and Atom keeps a
/// tombstone) and is held again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_held_published_when_flipped_and_withdrawn_when_flipped_back() {
    let daemon = TestDaemon::start().await;
    let path = daemon.seed_path("not-yet.md");
    let id = daemon.id_of("not-yet").to_string();
    write_atomically(&path, &draft_article(true));
    let reason = daemon
        .wait_for_status("the draft", |s| status_note(s, "held", "not-yet.md"))
        .await;
    assert_eq!(reason, "a draft");
    // A published article, written after the draft, shows that the draft was read.
    daemon.publish_sample().await;
    wait_in_feeds(&daemon, &id, false).await;
    assert_eq!(daemon.get("/entries/not-yet/").await.status(), 404);
    assert_eq!(daemon.status().await["files"]["held"], 1);

    write_atomically(&path, &draft_article(false));
    wait_in_feeds(&daemon, &id, true).await;
    assert_eq!(daemon.get("/entries/not-yet/").await.status(), 200);
    let status = daemon.status().await;
    assert_eq!(
        status_note(&status, "held", "not-yet.md"),
        None,
        "{status:#}"
    );

    write_atomically(&path, &draft_article(true));
    wait_in_feeds(&daemon, &id, false).await;
    assert_eq!(daemon.get("/entries/not-yet/").await.status(), 404);
    let atom = daemon.body("/feed.atom").await;
    assert!(
        atom.contains(&format!("deleted-entry ref=\"{id}\"")),
        "{atom}"
    );
    let status = daemon.status().await;
    assert_eq!(
        status_note(&status, "held", "not-yet.md").as_deref(),
        Some("a draft")
    );
}

/// An article dated a few seconds ahead is held, not in the feeds, and appears at its
/// date without any change to its file: the daemon's timer, not a rescan or an edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_dated_ahead_appears_at_its_date_with_no_change_to_its_file() {
    let daemon = TestDaemon::start().await;
    // On a machine slow enough that the date passes before the first look, the hold
    // cannot be seen: try again, with another file, further ahead.
    let mut lead = 3;
    let (key, due) = loop {
        let key = format!("scheduled-{lead}");
        let file = format!("{key}.md");
        let due = (Utc::now() + chrono::Duration::seconds(lead)).trunc_subsecs(0);
        let front = format!("title: Scheduled\ntags: [held]\ndate: {}", due.to_rfc3339());
        write_atomically(
            &daemon.seed_path(&file),
            &yaml_article(&front, "By the clock."),
        );
        let held = daemon
            .wait_for_status("the scheduled article", |s| {
                let note = status_note(s, "held", &file);
                (note.is_some() || Utc::now() >= due).then_some(note)
            })
            .await;
        let atom = daemon.feed("/feed.atom").await;
        let id = daemon.id_of(&key).to_string();
        if let (Some(reason), true) = (held, Utc::now() < due) {
            assert!(reason.starts_with("scheduled for"), "{reason}");
            assert!(entry(&atom, &id).is_none(), "published before its date");
            assert_eq!(daemon.get(&format!("/entries/{key}/")).await.status(), 404);
            break (key, due);
        }
        assert!(lead < 24, "the date passed before every look");
        lead *= 2;
    };
    let id = daemon.id_of(&key).to_string();
    let path = daemon.seed_path(&format!("{key}.md"));
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();

    let atom = daemon
        .wait_for_feed("/feed.atom", "the scheduled article", has_entry(id.clone()))
        .await;
    assert!(Utc::now() >= due, "published before {due}");
    let published = entry(&atom, &id).unwrap().published.unwrap();
    assert_eq!(published, due, "published is the date the article gives");
    wait_in_feeds(&daemon, &id, true).await;
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified,
        "the file was not touched"
    );
    let status = daemon.status().await;
    assert_eq!(status["held"], serde_json::json!([]), "{status:#}");
}

/// The entry of `feed` whose title is `title`.
fn titled<'a>(feed: &'a Feed, path: &str, title: &str) -> &'a feed_rs::model::Entry {
    feed.entries
        .iter()
        .find(|e| title_as_shown(e.title.as_ref().unwrap(), path) == title)
        .unwrap_or_else(|| panic!("no {title:?} in {path}"))
}

fn date(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().into()
}

/// An id kept from an older system is the id in every format: a URI as it is; text that
/// is not a URI (an RSS guid like `2347259`) as it is in RSS and JSON Feed, and in Atom,
/// which wants a URI, as a `urn:uuid` made of it. `date` sets published; editing it moves
/// published and keeps the id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_kept_from_an_older_system_and_dates_are_in_every_format() {
    let daemon = TestDaemon::start().await;
    let tag_id = "tag:example.org,2019:post-7";
    write_atomically(
        &daemon.seed_path("post-7.md"),
        &yaml_article(
            &format!("title: Post seven\nid: \"{tag_id}\"\ndate: 2019-05-01T10:00:00Z"),
            "Kept from the old blog.",
        ),
    );
    let numeric = |date: &str| {
        yaml_article(
            &format!("title: A numbered post\nguid: 2347259\ndate: {date}"),
            "Its guid was a number.",
        )
    };
    write_atomically(&daemon.seed_path("numbered.md"), &numeric("2018-01-01"));
    let namespace =
        seedfeed::normalize::id_namespace(&seedfeed::daemon::namespace_for(&daemon.config()));
    let atom_numeric = format!("urn:uuid:{}", uuid::Uuid::new_v5(&namespace, b"id:2347259"));
    daemon
        .wait_for_feeds("both kept ids", |feed| {
            let has = |id: &str| entry(feed, id).is_some();
            has(tag_id) && (has("2347259") || has(&atom_numeric))
        })
        .await;
    for (path, numeric_id) in [
        ("/feed.atom", atom_numeric.as_str()),
        ("/feed.rss", "2347259"),
        ("/feed.json", "2347259"),
    ] {
        let feed = daemon
            .wait_for_feed(path, "both ids", has_entry(numeric_id))
            .await;
        let post = titled(&feed, path, "Post seven");
        assert_eq!(post.id, tag_id, "{path}");
        assert_eq!(post.published, Some(date("2019-05-01T10:00:00Z")), "{path}");
        let numbered = titled(&feed, path, "A numbered post");
        assert_eq!(numbered.id, numeric_id, "{path}");
        assert_eq!(
            numbered.published,
            Some(date("2018-01-01T00:00:00Z")),
            "{path}"
        );
    }
    let rss = daemon.body("/feed.rss").await;
    assert!(
        rss.contains(&format!("<guid isPermaLink=\"false\">{tag_id}</guid>")),
        "{rss}"
    );

    write_atomically(
        &daemon.seed_path("numbered.md"),
        &numeric("2018-02-03T04:05:06Z"),
    );
    let moved = date("2018-02-03T04:05:06Z");
    for path in ["/feed.atom", "/feed.json"] {
        let numeric_id = if path == "/feed.atom" {
            &atom_numeric
        } else {
            "2347259"
        };
        daemon
            .wait_for_feed(path, "the new date", |feed| {
                entry(feed, numeric_id).is_some_and(|e| e.published == Some(moved))
            })
            .await;
    }
    let rss = daemon.feed("/feed.rss").await;
    assert_eq!(entry(&rss, "2347259").unwrap().published, Some(moved));
}

/// Two files with one id: the second is a reject that names the first, and the feeds
/// keep the first; once the first is deleted, the second is published under the id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_file_with_the_same_id_waits_until_the_first_is_gone() {
    let daemon = TestDaemon::start().await;
    let id = "tag:example.org,2019:post-7";
    let article = |title: &str| yaml_article(&format!("title: {title}\nid: \"{id}\""), title);
    write_atomically(&daemon.seed_path("first.md"), &article("The first"));
    daemon.wait_for_feeds("the first", has_entry(id)).await;
    write_atomically(&daemon.seed_path("second.md"), &article("The second"));
    let reason = daemon
        .wait_for_status("the second", |s| status_note(s, "rejects", "second.md"))
        .await;
    assert!(reason.starts_with("id conflict"), "{reason}");
    assert!(reason.contains(id) && reason.contains("first"), "{reason}");
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let feed = daemon.feed(path).await;
        assert_eq!(feed.entries.len(), 1, "{path}");
        assert_eq!(titled(&feed, path, "The first").id, id, "{path}");
    }

    std::fs::remove_file(daemon.seed_path("first.md")).unwrap();
    daemon
        .wait_for_feeds("the second under the id", |feed| {
            entry(feed, id).is_some_and(|e| e.title.as_ref().unwrap().content == "The second")
        })
        .await;
    let feed = daemon.feed("/feed.json").await;
    assert_eq!(titled(&feed, "/feed.json", "The second").id, id);
    let status = daemon.status().await;
    assert_eq!(status["rejects"], serde_json::json!([]), "{status:#}");
}

/// `seedfeed new "Title" --tag x` run into a running daemon's seeds folder: the article
/// appears in the tag's feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_from_seedfeed_new_appears_in_its_tag_feed() {
    let daemon = TestDaemon::start().await;
    let run = seedfeed()
        .args([
            "new",
            "Fresh from the command line",
            "--tag",
            "x",
            "--seeds",
        ])
        .arg(daemon.seeds.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = String::from_utf8(run.stdout).unwrap();
    assert!(
        written
            .trim_end()
            .ends_with("fresh-from-the-command-line.md"),
        "{written}"
    );
    let id = daemon.id_of("fresh-from-the-command-line").to_string();
    let feed = daemon
        .wait_for_feed("/tags/x.atom", "the new article", has_entry(id.clone()))
        .await;
    let item = entry(&feed, &id).unwrap();
    assert_eq!(
        item.title.as_ref().unwrap().content,
        "Fresh from the command line"
    );
    let published = item.published.unwrap();
    assert!(published <= Utc::now(), "dated now, not ahead: {published}");
}
