//! A media file that lands, changes or goes after the article that references it (issue
//! 20): a running daemon reads the article again, told by its watcher (native or poll)
//! or by its reconcile scan at start-up, and the feeds gain, change or lose the image and
//! the enclosure while the warning in `/status` goes or comes back. A media file no
//! article references has nothing read again, and a read again that finds the same
//! content changes nothing.
//!
//! The rescan interval is an hour in the tests of a running daemon, so what they see
//! comes through the watcher alone. A real daemon on loopback per test, bounded polls
//! only.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use common::articles::{write_atomically, write_under, yaml_article};
use common::daemon::{TestDaemon, status_note};
use common::feeds::rss_enclosures;
use common::media_files::media_bytes;
use common::poll::until;
use seedfeed::config::Layer;
use serde_json::Value;

/// A daemon watching with `backend`, whose periodic rescan never comes during a test.
async fn watching(backend: &str) -> TestDaemon {
    TestDaemon::start_with(Layer {
        watch: Some(backend.into()),
        poll_interval_ms: Some(100),
        rescan_interval: Some(3600),
        ..Layer::default()
    })
    .await
}

/// An article titled `title` whose front matter names `more` (an image, an enclosure).
fn referencing(title: &str, more: &str) -> Vec<u8> {
    yaml_article(&format!("title: {title}\n{more}"), "The body.\n")
}

/// The JSON Feed item titled `title`, once `done` holds of it.
async fn wait_for_item(
    daemon: &TestDaemon,
    what: &str,
    title: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    until(&format!("{what} in /feed.json"), || async {
        let feed = daemon.json("/feed.json").await;
        let items = feed["items"].as_array().cloned().unwrap_or_default();
        match items.into_iter().find(|item| item["title"] == title) {
            Some(item) if done(&item) => Ok(item),
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

/// The warning `/status` gives the article at `path` (`None`: none), once `done` holds
/// of it.
async fn wait_for_warning(
    daemon: &TestDaemon,
    what: &str,
    path: &str,
    done: impl Fn(Option<&str>) -> bool,
) -> Option<String> {
    until(&format!("{what} in /status"), || async {
        let status = daemon.status().await;
        let warning = status_note(&status, "warnings", path);
        if done(warning.as_deref()) {
            Ok(warning)
        } else {
            Err(format!("{warning:?}"))
        }
    })
    .await
}

/// A count of `/status`'s `totals`.
async fn total(daemon: &TestDaemon, name: &str) -> u64 {
    let status = daemon.status().await;
    status["totals"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no totals.{name} in {status:#}"))
}

/// Waits until `/status`'s `totals.{name}` is at least `least`.
async fn wait_for_total(daemon: &TestDaemon, name: &str, least: u64) {
    until(&format!("totals.{name} >= {least}"), || async {
        let now = total(daemon, name).await;
        if now >= least {
            Ok(())
        } else {
            Err(now.to_string())
        }
    })
    .await;
}

/// The width and height the RSS feed gives the Media RSS content at `url`.
async fn rss_image_sizes(daemon: &TestDaemon, url: &str) -> Vec<(Option<u32>, Option<u32>)> {
    let rss = daemon.feed("/feed.rss").await;
    rss.entries
        .iter()
        .flat_map(|e| &e.media)
        .flat_map(|m| &m.content)
        .filter(|c| c.url.as_ref().is_some_and(|u| u.as_str() == url))
        .map(|c| (c.width, c.height))
        .collect()
}

/// The enclosure of a JSON Feed item: its size and duration.
fn attachment(item: &Value) -> (Option<u64>, Option<u64>) {
    let first = &item["attachments"][0];
    (
        first["size_in_bytes"].as_u64(),
        first["duration_in_seconds"].as_u64(),
    )
}

/// Publishers save the article first and copy its photos after: the entry gains the
/// image, with its size, and the warning goes; the photo deleted, it comes back and the
/// image goes, as it does when the photos' folder is moved out.
async fn image_after_article(daemon: &TestDaemon) {
    let root = daemon.seeds.path();
    write_under(
        root,
        "posts/story.md",
        &referencing("Story", "image: img/photo.jpg"),
    );
    let missing = |w: Option<&str>| w.is_some_and(|w| w.contains("posts/img/photo.jpg"));
    wait_for_warning(daemon, "the missing photo", "posts/story.md", missing).await;
    let item = wait_for_item(daemon, "the story", "Story", |_| true).await;
    assert_eq!(item.get("image"), None, "{item}");

    // The photo's folder moved in, after the article was read: no event names the
    // photo itself.
    let elsewhere = tempfile::tempdir_in(root.parent().unwrap()).unwrap();
    write_under(elsewhere.path(), "img/photo.jpg", &media_bytes("photo.jpg"));
    std::fs::rename(elsewhere.path().join("img"), root.join("posts/img")).unwrap();
    let photo = daemon.url("/media/posts/img/photo.jpg");
    wait_for_item(daemon, "the photo", "Story", |item| item["image"] == photo).await;
    wait_for_warning(daemon, "no warning", "posts/story.md", |w| w.is_none()).await;
    assert_eq!(
        rss_image_sizes(daemon, &photo).await,
        [(Some(120), Some(80))]
    );
    assert!(total(daemon, "media_rereads").await >= 1);

    std::fs::remove_file(root.join("posts/img/photo.jpg")).unwrap();
    wait_for_item(daemon, "no photo", "Story", |item| {
        item.get("image").is_none()
    })
    .await;
    let gone = |w: Option<&str>| w.is_some_and(|w| w.contains("posts/img/photo.jpg"));
    let warning = wait_for_warning(daemon, "the warning again", "posts/story.md", gone).await;
    assert!(warning.unwrap().contains("no such file"));
    assert!(rss_image_sizes(daemon, &photo).await.is_empty());

    // Back, then its whole folder moved out of the seeds folder: no event names the
    // photo, and still the article loses it.
    write_under(root, "posts/img/photo.jpg", &media_bytes("photo.jpg"));
    wait_for_item(daemon, "the photo back", "Story", |item| {
        item["image"] == photo
    })
    .await;
    std::fs::rename(root.join("posts/img"), elsewhere.path().join("img")).unwrap();
    wait_for_item(daemon, "no photo again", "Story", |item| {
        item.get("image").is_none()
    })
    .await;
}

#[tokio::test]
async fn an_image_copied_after_its_article_is_linked_and_unlinked_when_deleted() {
    image_after_article(&watching("native").await).await;
}

/// The poll backend, for folders without events, reports media files too.
#[tokio::test]
async fn an_image_copied_after_its_article_is_seen_by_the_poll_backend() {
    image_after_article(&watching("poll").await).await;
}

/// An episode replaced by a longer file, written over the old one in place: the
/// enclosure's length and duration are the new file's in every feed.
#[tokio::test]
async fn an_episode_written_over_changes_the_enclosure() {
    let daemon = watching("native").await;
    let root = daemon.seeds.path();
    let (short, long) = (media_bytes("vbr.mp3"), media_bytes("cbr.mp3"));
    assert!(long.len() > short.len());
    write_under(root, "show/episode.mp3", &short);
    write_under(
        root,
        "show/index.md",
        &referencing("Episode", "enclosure: episode.mp3"),
    );
    let first = wait_for_item(&daemon, "the episode", "Episode", |item| {
        attachment(item) == (Some(short.len() as u64), Some(4))
    })
    .await;

    std::fs::write(root.join("show/episode.mp3"), &long).unwrap();
    let item = wait_for_item(&daemon, "the longer episode", "Episode", |item| {
        attachment(item) == (Some(long.len() as u64), Some(3))
    })
    .await;
    assert!(item["date_modified"] != first["date_modified"], "{item}");
    let url = daemon.url("/media/show/episode.mp3");
    let rss = daemon.body("/feed.rss").await;
    assert_eq!(
        rss_enclosures(&rss),
        [[
            Some(url),
            Some(long.len().to_string()),
            Some("audio/mpeg".to_owned())
        ]]
    );
}

/// A media file no article references reads nothing again; one an article references,
/// written again with the same bytes, has it read again, and nothing changes: not its
/// entry's `updated`, not the feeds.
#[tokio::test]
async fn a_media_file_nobody_references_reads_nothing_and_the_same_bytes_change_nothing() {
    let mut daemon = watching("native").await;
    daemon.stop().await;
    let root = daemon.seeds.path().to_owned();
    write_under(&root, "photo.md", &referencing("Photo", "image: photo.jpg"));
    write_under(&root, "photo.jpg", &media_bytes("photo.jpg"));
    daemon.restart().await;
    let photo = daemon.url("/media/photo.jpg");
    let before = wait_for_item(&daemon, "the photo", "Photo", |item| item["image"] == photo).await;
    // The start-up scan read the article, which referenced nothing before.
    assert_eq!(total(&daemon, "media_changed").await, 0);
    assert_eq!(total(&daemon, "media_rereads").await, 0);

    // Moved in with its folder: no event names it, and it is still seen.
    let elsewhere = tempfile::tempdir_in(root.parent().unwrap()).unwrap();
    write_under(
        elsewhere.path(),
        "gallery/unused.png",
        &media_bytes("picture.png"),
    );
    std::fs::rename(elsewhere.path().join("gallery"), root.join("gallery")).unwrap();
    wait_for_total(&daemon, "media_changed", 1).await;
    assert_eq!(total(&daemon, "media_rereads").await, 0);

    std::fs::write(root.join("photo.jpg"), media_bytes("photo.jpg")).unwrap();
    wait_for_total(&daemon, "media_rereads", 1).await;
    // An article written after shows that the daemon has read the photo's article again
    // (it was waiting to be read before this one was written).
    write_atomically(
        &root.join("after.md"),
        &yaml_article("title: After", "Later.\n"),
    );
    wait_for_item(&daemon, "the article after", "After", |_| true).await;
    let after = wait_for_item(&daemon, "the photo", "Photo", |_| true).await;
    assert_eq!(after, before);
    assert_eq!(total(&daemon, "updated").await, 0);
}

/// Stops the changer of [`a_media_file_still_changing_holds_no_article_back`] when
/// dropped, so that a failed test does not leave it running.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A media file that keeps changing while its mtime says an hour ago (older than the
/// article's, as a copy that sets the original's times before it is done leaves it)
/// holds no article back: articles wait only for articles.
#[tokio::test]
async fn a_media_file_still_changing_holds_no_article_back() {
    let daemon = watching("native").await;
    let root = daemon.seeds.path().to_owned();
    let big = root.join("big.mp4");
    let file = std::fs::File::create(&big).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    let stopped = Arc::clone(&stop.0);
    // Its mode changes all the time: its ctime moves, its mtime stays an hour ago.
    let changer = std::thread::spawn(move || {
        let mut mode = 0o600;
        while !stopped.load(Ordering::Relaxed) {
            mode ^= 0o040;
            std::fs::set_permissions(&big, std::fs::Permissions::from_mode(mode)).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    write_atomically(
        &root.join("news.md"),
        &yaml_article("title: News", "Now.\n"),
    );
    wait_for_item(&daemon, "the article", "News", |_| true).await;
    drop(stop);
    changer.join().unwrap();
    // Still at last, it is counted.
    wait_for_total(&daemon, "media_changed", 1).await;
}

/// What changed while the daemon was stopped is found by its reconcile scan at
/// start-up: a photo that appeared, an episode replaced, an image deleted. The base URL
/// stays the same across restarts (a new one has every article read again anyway).
#[tokio::test]
async fn media_changed_while_stopped_are_found_at_start_up() {
    let mut daemon = TestDaemon::start_with(Layer {
        base_url: Some("https://news.example.org".into()),
        ..Layer::default()
    })
    .await;
    daemon.stop().await;
    let root = daemon.seeds.path().to_owned();
    let (short, long) = (media_bytes("vbr.mp3"), media_bytes("cbr.mp3"));
    write_under(
        &root,
        "story.md",
        &referencing("Story", "image: img/photo.jpg"),
    );
    write_under(
        &root,
        "episode.md",
        &referencing("Episode", "enclosure: ep.mp3"),
    );
    write_under(&root, "ep.mp3", &short);
    write_under(&root, "old.md", &referencing("Old", "image: old.png"));
    write_under(&root, "old.png", &media_bytes("picture.png"));
    daemon.restart().await;
    wait_for_item(&daemon, "no photo", "Story", |i| i.get("image").is_none()).await;
    wait_for_item(&daemon, "the old image", "Old", |i| {
        i.get("image").is_some()
    })
    .await;
    let short_size = (Some(short.len() as u64), Some(4));
    wait_for_item(&daemon, "the episode", "Episode", |i| {
        attachment(i) == short_size
    })
    .await;

    daemon.stop().await;
    write_under(&root, "img/photo.jpg", &media_bytes("photo.jpg"));
    std::fs::write(root.join("ep.mp3"), &long).unwrap();
    std::fs::remove_file(root.join("old.png")).unwrap();
    daemon.restart().await;
    let photo = format!("{}/media/img/photo.jpg", daemon.base);
    wait_for_item(&daemon, "the photo", "Story", |i| i["image"] == photo).await;
    wait_for_item(&daemon, "no old image", "Old", |i| i.get("image").is_none()).await;
    let long_size = (Some(long.len() as u64), Some(3));
    wait_for_item(&daemon, "the longer episode", "Episode", |i| {
        attachment(i) == long_size
    })
    .await;
    wait_for_warning(&daemon, "no warning", "story.md", |w| w.is_none()).await;
    let gone = |w: Option<&str>| w.is_some_and(|w| w.contains("old.png"));
    wait_for_warning(&daemon, "the deleted image", "old.md", gone).await;
}
