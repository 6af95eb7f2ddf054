//! The whole pipeline over real parts: articles written into a watched temp folder, a
//! real SQLite file, the daemon on a loopback port, and feed-rs reading the feeds back.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::articles::{
    SAMPLE_KEY, SAMPLE_SECTION, SAMPLE_TITLE, article, sample_article, sample_as, write_atomically,
    write_file,
};
use common::binary::{Binary, seedfeed};
use common::daemon::{TestDaemon, free_port, http_client};
use common::feeds::{content, entry, has_entry as has};
use common::poll::eventually;
use common::site::draft;
use feed_rs::model::Feed;
use nix::sys::signal::Signal;
use seedfeed::config::Layer;
use seedfeed::parse::parse_article;

fn mtime_of(path: &std::path::Path) -> DateTime<Utc> {
    DateTime::from(std::fs::metadata(path).unwrap().modified().unwrap())
}

/// `[feed] content = "summary"`: every feed carries each entry's summary and the link to
/// its page, which has the whole text, and no content (JSON Feed's `content_text` is the
/// summary); a restart with the default brings the full text back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_feeds_leave_the_whole_text_to_the_entry_page() {
    let mut settings = Layer::default();
    settings.feed.content = Some("summary".into());
    let mut daemon = TestDaemon::start_with(settings).await;
    let (_, id) = daemon.publish_sample().await;
    let expected = draft(
        SAMPLE_KEY,
        &parse_article(&sample_article()).unwrap().article,
    );
    let link = daemon.url(&format!("/entries/{SAMPLE_KEY}/"));
    let paths = common::feeds::SAMPLE_FEEDS;
    for path in paths {
        let feed = daemon.feed(path).await;
        let item = entry(&feed, &id).unwrap();
        assert_eq!(item.links[0].href, link, "{path}");
        let summary = item.summary.as_ref().map(|s| s.content.as_str());
        assert_eq!(summary, Some(expected.summary.as_str()), "{path}");
        if path.ends_with(".json") {
            assert_eq!(content(item), expected.summary, "{path}: content_text");
        } else {
            assert!(item.content.is_none(), "{path}: {:?}", item.content);
        }
    }
    let page = daemon.body(&format!("/entries/{SAMPLE_KEY}/")).await;
    assert!(page.contains("Army gets key posts in new Mali government"));

    daemon.restart_with(Layer::default()).await;
    for path in paths {
        let feed = daemon.feed(path).await;
        let item = entry(&feed, &id).unwrap();
        assert_eq!(content(item), expected.content_html, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_article_reads_back_from_both_feeds_and_its_page() {
    let daemon = TestDaemon::start().await;
    let (path, id) = daemon.publish_sample().await;

    let expected = draft(
        SAMPLE_KEY,
        &parse_article(&sample_article()).unwrap().article,
    );
    let link = daemon.url(&format!("/entries/{SAMPLE_KEY}/"));
    let mtime = mtime_of(&path);

    let atom = daemon.feed("/feed.atom").await;
    let atom_entry = entry(&atom, &id).unwrap();
    assert_eq!(
        atom_entry.title.as_ref().unwrap().content,
        "Mali: countercoup attempted"
    );
    assert_eq!(atom_entry.links[0].href, link);
    assert_eq!(atom_entry.categories[0].term, "Conflict & Justice");
    assert_eq!(
        atom_entry.summary.as_ref().unwrap().content,
        expected.summary
    );
    assert_eq!(content(atom_entry), expected.content_html);
    let published = atom_entry.published.unwrap();
    assert_eq!(
        published.timestamp_millis(),
        mtime.timestamp_millis(),
        "published is the file's mtime"
    );
    assert_eq!(atom_entry.updated, Some(published));
    assert_eq!(
        atom.links
            .iter()
            .find(|l| l.rel.as_deref() == Some("self"))
            .unwrap()
            .href,
        daemon.url("/feed.atom")
    );

    let rss = daemon.feed("/feed.rss").await;
    let item = entry(&rss, &id).unwrap();
    assert_eq!(
        item.title.as_ref().unwrap().content,
        "Mali: countercoup attempted"
    );
    assert_eq!(item.links[0].href, link);
    assert_eq!(item.categories[0].term, "Conflict & Justice");
    assert_eq!(content(item), expected.content_html);
    assert_eq!(
        item.published.unwrap().timestamp(),
        mtime.timestamp(),
        "RFC 822 has whole seconds"
    );
    let content = content(item);
    assert!(content.contains("Army gets key posts in new Mali government"));
    assert!(
        !content.contains("More from GlobalPost: Army"),
        "related lines are a list, not paragraphs"
    );

    // The feed's link leads to the entry's page.
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<h1>Mali: countercoup attempted</h1>"),
        "{html}"
    );
    assert!(html.contains("Dioncounda Traore (L)"));

    // The index page lists it and lets readers discover both feeds.
    let index = daemon.body("/").await;
    assert!(index.contains(&link));
    assert!(index.contains(&format!(
        "type=\"application/atom+xml\" title=\"seedfeed (Atom)\" href=\"{}\"",
        daemon.url("/feed.atom")
    )));
    assert!(index.contains(&format!(
        "type=\"application/rss+xml\" title=\"seedfeed (RSS)\" href=\"{}\"",
        daemon.url("/feed.rss")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_republishes_nothing_and_keeps_ids_and_dates() {
    let mut daemon = TestDaemon::start().await;
    let generated = tempfile::tempdir().unwrap();
    write_corpus(generated.path(), 5);
    for file in std::fs::read_dir(generated.path()).unwrap() {
        let file = file.unwrap();
        std::fs::copy(
            file.path(),
            daemon.seed_path(file.file_name().to_str().unwrap()),
        )
        .unwrap();
    }
    daemon
        .wait_for_feeds("five entries", |f| f.entries.len() == 5)
        .await;
    let before = dates_by_id(&daemon.feed("/feed.atom").await);

    // A file added while the daemon is down is found by the start-up scan.
    daemon.stop().await;
    write_file(
        &daemon.seed_path(&format!("{SAMPLE_KEY}.txt")),
        &sample_article(),
    );
    daemon.restart().await;
    let after = dates_by_id(&daemon.feed("/feed.atom").await);
    assert_eq!(
        after.len(),
        6,
        "the new file is in, nothing is twice: {after:?}"
    );
    for (id, dates) in &before {
        assert_eq!(
            after.iter().find(|(i, _)| i == id).map(|(_, d)| d),
            Some(dates),
            "{id}"
        );
    }

    // A second restart with nothing changed renders the same bytes.
    let atom = daemon.body("/feed.atom").await;
    daemon.restart().await;
    assert_eq!(
        daemon.body("/feed.atom").await,
        atom.replace(&atom_base(&atom), &daemon.base)
    );
}

/// What changed while the daemon was down (an edit, a deletion, a new file) is what the
/// start-up scan finds, comparing the folder with the stamps loaded beside the rendering
/// of the stored feeds; the file left alone keeps its entry as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_up_scan_finds_each_change_made_while_down() {
    let mut daemon = TestDaemon::start().await;
    let body = "A paragraph of text.";
    daemon
        .publish("edited", &article("World", "Before the edit", body))
        .await;
    daemon
        .publish("deleted", &article("World", "To be deleted", body))
        .await;
    daemon
        .publish("kept", &article("World", "Left alone", body))
        .await;
    let kept = daemon.feed("/feed.atom").await;

    daemon.stop().await;
    write_file(
        &daemon.seed_path("edited.txt"),
        &article("World", "After the edit", body),
    );
    std::fs::remove_file(daemon.seed_path("deleted.txt")).unwrap();
    write_file(
        &daemon.seed_path("added.txt"),
        &article("World", "Added while down", body),
    );
    daemon.restart().await;

    let titles = |feed: &Feed| {
        let mut titles: Vec<String> = feed
            .entries
            .iter()
            .filter_map(|entry| entry.title.as_ref().map(|title| title.content.clone()))
            .collect();
        titles.sort();
        titles
    };
    let expected = ["Added while down", "After the edit", "Left alone"];
    daemon
        .wait_for_feeds("the changes made while down", |feed| {
            titles(feed) == expected
        })
        .await;
    let id = daemon.id_of("kept").to_string();
    let updated = |feed: &Feed| entry(feed, &id).map(|entry| entry.updated);
    assert_eq!(updated(&daemon.feed("/feed.atom").await), updated(&kept));
}

/// The base URL a feed was rendered with (the port changes across restarts).
fn atom_base(atom: &str) -> String {
    let start = atom.find("http://127.0.0.1:").unwrap();
    let end = start + atom[start..].find('/').unwrap() + 2;
    let end = end + atom[end..].find('/').unwrap();
    atom[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_updates_the_same_entry_and_a_delete_removes_it() {
    let daemon = TestDaemon::start().await;
    let (path, id) = daemon.publish_sample().await;
    let first = entry(&daemon.feed("/feed.atom").await, &id)
        .cloned()
        .unwrap();

    // Edit with an atomic save, the way editors do; keep the second apart on the clock.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let edited = sample_as(&format!("{SAMPLE_TITLE} (updated)"), SAMPLE_SECTION);
    write_atomically(&path, &edited);
    let edited_id = id.clone();
    daemon
        .wait_for_feeds("the edit", move |feed| {
            entry(feed, &edited_id)
                .is_some_and(|e| e.title.as_ref().unwrap().content.ends_with("(updated)"))
        })
        .await;
    let atom = daemon.feed("/feed.atom").await;
    assert_eq!(atom.entries.len(), 1, "an edit is not a new entry");
    let second = entry(&atom, &id).unwrap();
    assert_eq!(second.published, first.published, "published never changes");
    assert!(
        second.updated > first.updated,
        "updated moves: {:?} -> {:?}",
        first.updated,
        second.updated
    );
    let rss = daemon.feed("/feed.rss").await;
    assert_eq!(
        entry(&rss, &id).unwrap().published.unwrap().timestamp(),
        first.published.unwrap().timestamp()
    );

    std::fs::remove_file(&path).unwrap();
    daemon
        .wait_for_feeds("the deletion", |feed| feed.entries.is_empty())
        .await;
    let page = daemon.get(&format!("/entries/{SAMPLE_KEY}/")).await;
    assert_eq!(page.status(), 404, "a deleted entry's page is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_in_chunks_is_only_published_complete() {
    // A settle time far above the pauses between chunks, so a slow shared machine
    // cannot turn a pause into a "still" file.
    let settle_ms = 1500;
    let daemon = TestDaemon::start_with_settle(settle_ms).await;
    let path = daemon.seed_path(&format!("{SAMPLE_KEY}.txt"));
    let article = sample_article();
    let id = daemon.id_of(SAMPLE_KEY).to_string();
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).unwrap();
        // Pauses well under the settle time, as a slow writer over a network makes them.
        for chunk in article.chunks(article.len() / 8 + 1) {
            file.write_all(chunk).unwrap();
            file.flush().unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let atom = daemon.feed("/feed.atom").await;
            if let Some(early) = entry(&atom, &id) {
                panic!("published half-way: {:?}", early.content);
            }
        }
    }
    daemon
        .wait_for_feeds("the complete article", has(id.clone()))
        .await;
    let atom = daemon.feed("/feed.atom").await;
    let content = content(entry(&atom, &id).unwrap());
    assert!(
        content.contains("get out of politics completely"),
        "the last paragraph is there"
    );
    assert!(content.contains("Army gets key posts in new Mali government"));
}

/// A new file still being written when the daemon starts is read only once it has
/// settled: the start-up scan lists new files without looking at them, and their read
/// looks first. Read half-way, it would be published, then updated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_being_written_at_start_up_is_only_published_complete() {
    let mut daemon = TestDaemon::start_with_settle(1500).await;
    daemon.stop().await;
    let path = daemon.seed_path(&format!("{SAMPLE_KEY}.txt"));
    let article = sample_article();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in article.chunks(article.len() / 8 + 1) {
            file.write_all(chunk).unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    // The first chunks are on disk when the start-up scan lists the file.
    tokio::time::sleep(Duration::from_millis(150)).await;
    daemon.restart().await;
    writer.join().unwrap();
    let id = daemon.id_of(SAMPLE_KEY).to_string();
    daemon
        .wait_for_feeds("the complete article", has(id.clone()))
        .await;
    let atom = daemon.feed("/feed.atom").await;
    let entry = entry(&atom, &id).unwrap();
    assert!(content(entry).contains("get out of politics completely"));
    assert_eq!(
        entry.published, entry.updated,
        "published once, complete, never updated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_temporaries_and_duplicates_stay_out_of_the_feeds() {
    let daemon = TestDaemon::start().await;
    write_file(
        &daemon.seed_path(&format!("{SAMPLE_KEY}.txt")),
        &sample_article(),
    );
    write_file(&daemon.seed_path("copy-of-sample.txt"), &sample_article());
    write_file(&daemon.seed_path("empty.txt"), b"");
    write_file(
        &daemon.seed_path("image.txt"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    );
    write_file(&daemon.seed_path(".hidden.txt"), b"Hidden\n\nnot published");
    write_file(&daemon.seed_path("draft.txt.swp"), b"Swap\n\nnot published");
    write_file(
        &daemon.seed_path("later.txt"),
        b"Plain text only\nwith a second line",
    );
    let later = daemon.id_of("later").to_string();
    daemon
        .wait_for_feeds("the plain-text article", has(later.clone()))
        .await;
    // Give the rest the same chance to (wrongly) appear.
    let sample = daemon.id_of(SAMPLE_KEY).to_string();
    daemon
        .wait_for_feeds("the sample", has(sample.clone()))
        .await;
    tokio::time::sleep(Duration::from_millis(common::daemon::SETTLE_MS * 2)).await;
    for path in ["/feed.atom", "/feed.rss"] {
        let feed = daemon.feed(path).await;
        let titles: Vec<_> = feed
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.clone())
            .collect();
        assert_eq!(feed.entries.len(), 2, "{path}: {titles:?}");
        assert!(
            entry(&feed, &sample).is_some()
                ^ entry(&feed, &daemon.id_of("copy-of-sample").to_string()).is_some()
        );
        assert_eq!(
            entry(&feed, &later)
                .unwrap()
                .title
                .as_ref()
                .unwrap()
                .content,
            "Plain text only"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_surface_answers_as_specified() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let client = http_client().build().unwrap();
    for (path, media_type) in [
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        (
            &format!("/entries/{SAMPLE_KEY}/") as &str,
            "text/html; charset=utf-8",
        ),
    ] {
        let get = client.get(daemon.url(path)).send().await.unwrap();
        assert_eq!(get.status(), 200, "{path}");
        assert_eq!(get.headers()["content-type"], media_type, "{path}");
        let length = get.headers()["content-length"].clone();
        let etag = get.headers()["etag"].clone();
        let body = get.bytes().await.unwrap();
        assert_eq!(length.to_str().unwrap(), body.len().to_string(), "{path}");
        let head = client.head(daemon.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(head.headers()["content-length"], length, "HEAD {path}");
        assert_eq!(head.headers()["etag"], etag, "HEAD {path}");
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has no body"
        );
        let post = client.post(daemon.url(path)).send().await.unwrap();
        assert_eq!(post.status(), 405, "POST {path}");
        assert_eq!(post.headers()["allow"], "GET, HEAD, OPTIONS");
    }
    for path in [
        "/nope",
        "/feed.atom/",
        "/entries/",
        "/entries/missing",
        "/entries/missing/",
        "/%2e%2e/etc/passwd",
        "/entries/..%2f..%2fCargo.toml",
    ] {
        assert_eq!(
            client.get(daemon.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    assert_eq!(daemon.body("/healthz").await, "ok\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_binary_serves_a_folder_and_stops_on_sigterm() {
    // The same check a new user makes, through the real binary and its flags.
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_file(
        &seeds.path().join(format!("{SAMPLE_KEY}.txt")),
        &sample_article(),
    );
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = seedfeed();
    command
        .args(["serve", "--seeds"])
        .arg(seeds.path())
        .arg("--data")
        .arg(data.path())
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            "127.0.0.1:0",
            "--base-url",
            &base,
        ]);
    let mut binary = Binary::spawn(command);
    let client = http_client().build().unwrap();
    let url = format!("{base}/feed.atom");
    eventually("the binary to serve the sample", || {
        let client = client.clone();
        let url = url.clone();
        async move {
            match client.get(&url).send().await {
                Ok(r) => r.text().await.is_ok_and(|t| t.contains(SAMPLE_TITLE)),
                Err(_) => false,
            }
        }
    })
    .await;
    assert!(
        data.path().join("seedfeed.db").exists(),
        "the database lives in --data"
    );
    binary.signal(Signal::SIGTERM);
    assert_eq!(
        binary.wait_for_exit(),
        Some(0),
        "exit status after SIGTERM\n{}",
        binary.log()
    );
}

/// (published, updated) of an entry as a reader sees them.
type Dates = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn dates_by_id(feed: &Feed) -> Vec<(String, Dates)> {
    let mut out: Vec<_> = feed
        .entries
        .iter()
        .map(|e| (e.id.clone(), (e.published, e.updated)))
        .collect();
    out.sort();
    out
}

/// Writes `n` distinct articles: the sample under other titles.
fn write_corpus(dir: &std::path::Path, n: usize) {
    for i in 0..n {
        let text = sample_as(&format!("Generated article {i}"), SAMPLE_SECTION);
        write_file(&dir.join(format!("{i:06}_generated.txt")), &text);
    }
}
