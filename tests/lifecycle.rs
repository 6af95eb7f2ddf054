//! The lives of files in the seeds folder, done the way operators' tools do them: each
//! ends in the right feed state, and a key that stays keeps its id and published date.
//! Real files in a watched temp folder, the daemon on loopback, feed-rs reading back.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use common::articles::{captioned, write_atomically, write_file, write_under};
use common::daemon::TestDaemon;
use common::poll::until;
use feed_rs::model::Feed;

/// A distinct article: the format's section, title, caption and body.
fn article(title: &str, body: &str) -> Vec<u8> {
    captioned(
        "World",
        title,
        &format!("A caption for {title}."),
        &format!("{body}\n\nA second paragraph about {title}."),
    )
}

/// id → (title, published, updated) of every entry of a feed.
type State = BTreeMap<String, (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>;

fn state(feed: &Feed) -> State {
    feed.entries
        .iter()
        .map(|e| {
            let title = e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default();
            (e.id.clone(), (title, e.published, e.updated))
        })
        .collect()
}

/// Waits until the Atom feed holds exactly these keys with these titles.
async fn wait_for_titles(daemon: &TestDaemon, what: &str, wanted: &[(&str, &str)]) -> State {
    let wanted: BTreeMap<String, String> = wanted
        .iter()
        .map(|(key, title)| (daemon.id_of(key).to_string(), (*title).to_owned()))
        .collect();
    until(what, || async {
        let now = state(&daemon.feed("/feed.atom").await);
        let titles: BTreeMap<String, String> = now
            .iter()
            .map(|(id, (title, _, _))| (id.clone(), title.clone()))
            .collect();
        if titles == wanted {
            Ok(now)
        } else {
            Err(format!("the feed has {titles:?}"))
        }
    })
    .await
}

fn published(state: &State, daemon: &TestDaemon, key: &str) -> Option<DateTime<Utc>> {
    state[&daemon.id_of(key).to_string()].1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_in_place_and_atomic_saves_keep_the_id_and_published_date() {
    let daemon = TestDaemon::start().await;
    let path = daemon.seed_path("story.txt");
    write_file(&path, &article("First draft", "Body one."));
    let first = wait_for_titles(&daemon, "the first draft", &[("story", "First draft")]).await;

    // An editor's atomic save: a temp file renamed over the article.
    write_atomically(&path, &article("Second draft", "Body two."));
    let second = wait_for_titles(&daemon, "the atomic save", &[("story", "Second draft")]).await;
    assert_eq!(
        published(&second, &daemon, "story"),
        published(&first, &daemon, "story")
    );

    // Modified in place, written in two pieces through one open file.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(b"World\n\nThird draft\n\n\n").unwrap();
    file.write_all(b"A caption.\n\n\n\nBody three.\n").unwrap();
    drop(file);
    let third = wait_for_titles(&daemon, "the edit in place", &[("story", "Third draft")]).await;
    assert_eq!(
        published(&third, &daemon, "story"),
        published(&first, &daemon, "story")
    );
    let (_, _, updated) = &third[&daemon.id_of("story").to_string()];
    assert!(updated > &published(&first, &daemon, "story"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_deletes_and_moves_in_and_out() {
    let daemon = TestDaemon::start().await;
    let outside = tempfile::tempdir().unwrap();
    write_file(
        &daemon.seed_path("a.txt"),
        &article("Alpha", "About alpha."),
    );
    write_file(&daemon.seed_path("b.txt"), &article("Beta", "About beta."));
    wait_for_titles(&daemon, "two articles", &[("a", "Alpha"), ("b", "Beta")]).await;

    // A rename is a new key: the old one leaves the feed.
    std::fs::rename(daemon.seed_path("a.txt"), daemon.seed_path("a2.txt")).unwrap();
    wait_for_titles(&daemon, "the rename", &[("a2", "Alpha"), ("b", "Beta")]).await;

    // Moved out of the folder, then a finished file moved in from outside.
    std::fs::rename(daemon.seed_path("b.txt"), outside.path().join("b.txt")).unwrap();
    let gamma = outside.path().join("c.txt");
    write_file(&gamma, &article("Gamma", "About gamma."));
    std::fs::rename(&gamma, daemon.seed_path("c.txt")).unwrap();
    wait_for_titles(
        &daemon,
        "move out and in",
        &[("a2", "Alpha"), ("c", "Gamma")],
    )
    .await;

    // Deleted.
    std::fs::remove_file(daemon.seed_path("a2.txt")).unwrap();
    wait_for_titles(&daemon, "the delete", &[("c", "Gamma")]).await;

    // Temporary names of rsync, editors and downloads are never read.
    for name in [
        ".c.txt.Xy12Zq",
        ".#c.txt",
        "c.txt~",
        "c.txt.swp",
        "c.txt.tmp",
        "c.txt.part",
        "4913",
    ] {
        write_file(&daemon.seed_path(name), &article(name, "A temporary."));
    }
    write_file(
        &daemon.seed_path("d.txt"),
        &article("Delta", "About delta."),
    );
    wait_for_titles(
        &daemon,
        "only the article among temporaries",
        &[("c", "Gamma"), ("d", "Delta")],
    )
    .await;
}

/// Copies a folder tree the way `cp -r` lays it out.
fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (path, title) in files {
        write_under(root, path, &article(title, &format!("About {title}.")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subfolders_are_watched_and_whole_folders_move_in_and_out() {
    let daemon = TestDaemon::start().await;
    let root = daemon.seeds.path().to_owned();

    // Created in new nested folders after start-up (the watch on a new folder is added
    // after the folder appears, so files written at once must still be found).
    write_tree(
        &root,
        &[("2026/11/deep.txt", "Deep"), ("2026/top.txt", "Top")],
    );
    let nested =
        wait_for_titles(&daemon, "nested files", &[("deep", "Deep"), ("top", "Top")]).await;

    // A whole folder of articles moved in: no event names the files inside it.
    let outside = tempfile::tempdir().unwrap();
    write_tree(
        outside.path(),
        &[("batch/one.txt", "One"), ("batch/inner/two.txt", "Two")],
    );
    std::fs::rename(outside.path().join("batch"), root.join("batch")).unwrap();
    wait_for_titles(
        &daemon,
        "a folder moved in",
        &[
            ("deep", "Deep"),
            ("top", "Top"),
            ("one", "One"),
            ("two", "Two"),
        ],
    )
    .await;

    // A hidden folder is not read; a folder named like an article is walked as a folder.
    write_tree(
        &root,
        &[
            (".cache/hidden.txt", "Hidden"),
            ("x.txt/inside.txt", "Inside"),
        ],
    );
    wait_for_titles(
        &daemon,
        "the folder named x.txt",
        &[
            ("deep", "Deep"),
            ("top", "Top"),
            ("one", "One"),
            ("two", "Two"),
            ("inside", "Inside"),
        ],
    )
    .await;

    // The folder moved out again, and another renamed inside the seeds folder.
    std::fs::rename(root.join("batch"), outside.path().join("batch")).unwrap();
    std::fs::rename(root.join("2026"), root.join("archive-2026")).unwrap();
    let after = wait_for_titles(
        &daemon,
        "a folder moved out and one renamed",
        &[("deep", "Deep"), ("top", "Top"), ("inside", "Inside")],
    )
    .await;
    // The keys passed from the old paths to the new: no conflict on the way.
    let status = daemon.json("/status").await;
    assert_eq!(status["rejects"], serde_json::json!([]), "{status}");
    assert_eq!(status["totals"]["rejected"], 0, "{status}");
    assert_eq!(after.len(), 3);
    // The renamed folder's articles kept their keys, so their ids and published dates.
    assert_eq!(
        published(&after, &daemon, "deep"),
        published(&nested, &daemon, "deep")
    );

    // The renamed folders are still watched, under their new names, at every depth.
    write_tree(
        &root,
        &[
            ("archive-2026/later.txt", "Later"),
            ("archive-2026/11/deeper.txt", "Deeper"),
        ],
    );
    wait_for_titles(
        &daemon,
        "files written into the renamed folders",
        &[
            ("deep", "Deep"),
            ("top", "Top"),
            ("inside", "Inside"),
            ("later", "Later"),
            ("deeper", "Deeper"),
        ],
    )
    .await;
}
