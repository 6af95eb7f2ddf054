//! Each watcher backend (`watch = "native" | "notify" | "poll"`) through the same lives of
//! a file: new, edited in place, deleted, renamed (and moved in from outside), kept open
//! while written in chunks, and a whole folder moved in and out. Tests are named
//! `<backend>::<scenario>`. A real daemon on loopback per test, feed-rs reading the Atom
//! feed back, bounded polls only.
//!
//! The rescan interval is an hour, so the start-up scan is the only scan a test sees:
//! everything done after it reaches the feed through the backend alone, and a backend that
//! reported nothing would fail every scenario.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::articles::{captioned, write_atomically, write_file, write_under};
use common::daemon::TestDaemon;
use common::poll::until;
use seedfeed::config::Layer;

/// A daemon watching with `backend`, whose periodic rescan never comes during a test.
/// The poll backend looks four times a second: a file written in place is seen when its
/// turn to be looked at comes, within ten looks.
async fn watching(backend: &str, settle_ms: Option<u64>) -> TestDaemon {
    TestDaemon::start_with(Layer {
        watch: Some(backend.into()),
        poll_interval_ms: Some(250),
        rescan_interval: Some(3600),
        settle_ms,
        ..Layer::default()
    })
    .await
}

/// A distinct article with every part of the format, its body two paragraphs.
fn article(title: &str, body: &str) -> Vec<u8> {
    let caption = format!("A caption for {title}.");
    let body = format!("{body}\n\nA second paragraph about {title}.");
    captioned("World", title, &caption, &body)
}

/// An entry as the Atom feed shows it: title, published, updated and content.
#[derive(Debug, Clone)]
struct Shown {
    title: String,
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    content: String,
}

/// Every entry of the Atom feed, by key.
async fn entries(daemon: &TestDaemon, keys: &[&str]) -> BTreeMap<String, Shown> {
    let feed = daemon.feed("/feed.atom").await;
    let key_of = |id: &str| {
        keys.iter()
            .find(|key| daemon.id_of(key).to_string() == id)
            .map_or_else(|| format!("unknown id {id}"), |key| (*key).to_owned())
    };
    feed.entries
        .iter()
        .map(|entry| {
            let shown = Shown {
                title: entry
                    .title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default(),
                published: entry.published,
                updated: entry.updated,
                content: entry
                    .content
                    .as_ref()
                    .and_then(|c| c.body.clone())
                    .unwrap_or_default(),
            };
            (key_of(&entry.id), shown)
        })
        .collect()
}

/// Waits until the Atom feed holds exactly these keys with these titles; `known` are the
/// other keys the test uses, so that a stray one is named.
async fn wait_for_titles(
    daemon: &TestDaemon,
    what: &str,
    wanted: &[(&str, &str)],
    known: &[&str],
) -> BTreeMap<String, Shown> {
    let keys: Vec<&str> = wanted
        .iter()
        .map(|(key, _)| *key)
        .chain(known.iter().copied())
        .collect();
    let wanted: BTreeMap<String, String> = wanted
        .iter()
        .map(|(key, title)| ((*key).to_owned(), (*title).to_owned()))
        .collect();
    let (keys, wanted) = (&keys, &wanted);
    until(what, || async move {
        let now = entries(daemon, keys).await;
        let titles: BTreeMap<String, String> = now
            .iter()
            .map(|(key, shown)| (key.clone(), shown.title.clone()))
            .collect();
        if titles == *wanted {
            Ok(now)
        } else {
            Err(format!("the feed has {titles:?}"))
        }
    })
    .await
}

async fn a_new_file_is_published(backend: &str) {
    let daemon = watching(backend, None).await;
    write_file(&daemon.seed_path("new.txt"), &article("New", "About new."));
    wait_for_titles(&daemon, "the new file", &[("new", "New")], &[]).await;
}

async fn an_edit_in_place_updates_the_entry(backend: &str) {
    let daemon = watching(backend, None).await;
    let path = daemon.seed_path("story.txt");
    write_file(&path, &article("First draft", "Body one."));
    let first = wait_for_titles(&daemon, "the first draft", &[("story", "First draft")], &[]).await;
    // Truncated and written again through one open file, as a shell's `>` does.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(&article("Second draft", "Body two, longer."))
        .unwrap();
    drop(file);
    let second = wait_for_titles(&daemon, "the edit", &[("story", "Second draft")], &[]).await;
    assert_eq!(second["story"].published, first["story"].published);
}

async fn a_deleted_file_leaves_the_feed(backend: &str) {
    let daemon = watching(backend, None).await;
    write_file(
        &daemon.seed_path("a.txt"),
        &article("Alpha", "About alpha."),
    );
    write_file(&daemon.seed_path("b.txt"), &article("Beta", "About beta."));
    wait_for_titles(
        &daemon,
        "two articles",
        &[("a", "Alpha"), ("b", "Beta")],
        &[],
    )
    .await;
    std::fs::remove_file(daemon.seed_path("a.txt")).unwrap();
    wait_for_titles(&daemon, "the delete", &[("b", "Beta")], &["a"]).await;
}

async fn a_renamed_file_takes_its_new_key(backend: &str) {
    let daemon = watching(backend, None).await;
    let known = ["a", "a2", "c"];
    write_file(
        &daemon.seed_path("a.txt"),
        &article("Alpha", "About alpha."),
    );
    wait_for_titles(&daemon, "the article", &[("a", "Alpha")], &known).await;
    std::fs::rename(daemon.seed_path("a.txt"), daemon.seed_path("a2.txt")).unwrap();
    wait_for_titles(&daemon, "the rename", &[("a2", "Alpha")], &known).await;
    // A finished file moved in from outside the folder.
    let outside = tempfile::tempdir().unwrap();
    let gamma = outside.path().join("c.txt");
    write_file(&gamma, &article("Gamma", "About gamma."));
    std::fs::rename(&gamma, daemon.seed_path("c.txt")).unwrap();
    // An editor's save: a temporary file renamed over the article.
    write_atomically(
        &daemon.seed_path("a2.txt"),
        &article("Alpha, saved", "Again."),
    );
    wait_for_titles(
        &daemon,
        "a move in and an atomic save",
        &[("a2", "Alpha, saved"), ("c", "Gamma")],
        &known,
    )
    .await;
}

/// A file kept open and written in chunks, with pauses well under the settle time (as a
/// slow writer over a network makes them), is published once, complete.
async fn a_file_written_in_chunks_is_published_only_complete(backend: &str) {
    // A settle time far above the pauses between chunks, so that a slow shared machine
    // cannot turn a pause into a still file.
    let daemon = watching(backend, Some(1500)).await;
    let body = "A paragraph of the body, long enough to be cut in pieces. ".repeat(40);
    let text = article("Chunked", &format!("{body}\n\nThe last paragraph."));
    let mut file = std::fs::File::create(daemon.seed_path("chunked.txt")).unwrap();
    for chunk in text.chunks(text.len() / 8 + 1) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let early = entries(&daemon, &["chunked"]).await;
        assert!(early.is_empty(), "published half-way: {early:?}");
    }
    drop(file);
    let done = wait_for_titles(&daemon, "the complete file", &[("chunked", "Chunked")], &[]).await;
    let entry = &done["chunked"];
    assert!(entry.content.contains("The last paragraph."), "{entry:?}");
    assert_eq!(
        entry.published, entry.updated,
        "published once, never updated"
    );
}

/// Copies a folder tree the way `cp -r` lays it out.
fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (path, title) in files {
        write_under(root, path, &article(title, &format!("About {title}.")));
    }
}

/// A whole folder moved in brings no event for the files inside it: the backend reports
/// the folder, and the driver looks under it. Moved out, its articles leave.
async fn a_folder_moved_in_and_out(backend: &str) {
    let daemon = watching(backend, None).await;
    let outside = tempfile::tempdir().unwrap();
    write_tree(
        outside.path(),
        &[("batch/one.txt", "One"), ("batch/inner/two.txt", "Two")],
    );
    std::fs::rename(outside.path().join("batch"), daemon.seed_path("batch")).unwrap();
    wait_for_titles(
        &daemon,
        "a folder moved in",
        &[("one", "One"), ("two", "Two")],
        &[],
    )
    .await;
    std::fs::rename(daemon.seed_path("batch"), outside.path().join("batch")).unwrap();
    wait_for_titles(&daemon, "the folder moved out", &[], &["one", "two"]).await;
}

/// Every scenario above, as a test in the module named after the backend.
macro_rules! scenarios_for {
    ($backend:ident) => {
        mod $backend {
            scenarios_for!(@each $backend:
                a_new_file_is_published,
                an_edit_in_place_updates_the_entry,
                a_deleted_file_leaves_the_feed,
                a_renamed_file_takes_its_new_key,
                a_file_written_in_chunks_is_published_only_complete,
                a_folder_moved_in_and_out,
            );
        }
    };
    (@each $backend:ident: $($scenario:ident,)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $scenario() {
            super::$scenario(stringify!($backend)).await;
        }
    )*};
}

#[cfg(target_os = "linux")]
scenarios_for!(native);
scenarios_for!(notify);
scenarios_for!(poll);
