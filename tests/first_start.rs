//! What a new user meets at the first start, through the real binary and the in-process
//! daemon: the forms `--listen` takes, the warning when every link would point at
//! loopback, the first ingest into an empty database (503, never an empty feed a reader
//! would keep), and the status listing the files that are not articles.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;

use common::articles::{SAMPLE_KEY, SAMPLE_TITLE, sample_article, write_file};
use common::binary::{Binary, seedfeed};
use common::daemon::{TestDaemon, header, http_client, metric_value};
use common::poll::until;
use nix::sys::signal::Signal;
use seedfeed::config::Layer;
use serde_json::json;

/// `seedfeed serve` over `seeds` and `data`, with these flags and variables (and an
/// admin listener on a port of its own, as tests run many daemons at once).
fn serve(seeds: &Path, data: &Path, flags: &[&str], vars: &[(&str, &str)]) -> Binary {
    let mut command = seedfeed();
    command
        .arg("serve")
        .arg("--seeds")
        .arg(seeds)
        .arg("--data")
        .arg(data)
        .args(["--admin-listen", "127.0.0.1:0"])
        .args(flags)
        .envs(vars.iter().copied());
    Binary::spawn(command)
}

/// Waits (off the async workers) until the daemon logs `text`; returns the line.
fn log_line(daemon: &mut Binary, text: &str) -> String {
    tokio::task::block_in_place(|| daemon.wait_for_log(text))
}

/// The value of `field=` in a log line.
fn field<'a>(line: &'a str, field: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(&format!("{field}=")))
        .unwrap_or_else(|| panic!("no {field}= in {line:?}"))
        .trim_matches('"')
}

const WILDCARD_WARNING: &str = "base_url is not set and the server is on every interface";

/// `:PORT` listens on every IPv4 interface; without `base_url` the links are made from
/// loopback, and the daemon says so once and says what to set. `localhost:PORT` is the
/// loopback, and a `base_url` silences the warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_takes_a_port_alone_and_warns_when_links_would_point_at_loopback() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut wildcard = serve(seeds.path(), data.path(), &["--listen", ":0"], &[]);
    let listening = log_line(&mut wildcard, "listening");
    let addr = field(&listening, "addr").to_owned();
    assert!(addr.starts_with("0.0.0.0:"), "{listening}");
    let port = addr.rsplit_once(':').unwrap().1.to_owned();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(field(&listening, "base_url"), format!("{base}/"));
    let warning = log_line(&mut wildcard, WILDCARD_WARNING);
    for words in [base.as_str(), "base_url", "SEEDFEED_BASE_URL", "--base-url"] {
        assert!(warning.contains(words), "{words} in {warning}");
    }
    assert!(warning.contains(" WARN "), "{warning}");
    // The links say what the warning says.
    let client = http_client().build().unwrap();
    let feed = client
        .get(format!("{base}/feed.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let feed = feed_rs::parser::parse(&feed.bytes().await.unwrap()[..]).unwrap();
    let own = feed.links.iter().find(|l| l.rel.as_deref() == Some("self"));
    assert_eq!(own.unwrap().href, format!("{base}/feed.atom"));
    log_line(&mut wildcard, "ready");
    let warnings = wildcard.log().matches(WILDCARD_WARNING).count();
    assert_eq!(warnings, 1, "warned once:\n{}", wildcard.log());

    let data = tempfile::tempdir().unwrap();
    let mut local = serve(seeds.path(), data.path(), &["--listen", "localhost:0"], &[]);
    let listening = log_line(&mut local, "listening");
    assert!(
        field(&listening, "addr").starts_with("127.0.0.1:"),
        "{listening}"
    );
    log_line(&mut local, "ready");
    assert!(!local.log().contains(WILDCARD_WARNING), "{}", local.log());

    let data = tempfile::tempdir().unwrap();
    let flags = ["--listen", ":0", "--base-url", "https://news.example.org"];
    let mut with_base = serve(seeds.path(), data.path(), &flags, &[]);
    log_line(&mut with_base, "ready");
    assert!(
        !with_base.log().contains(WILDCARD_WARNING),
        "{}",
        with_base.log()
    );
}

/// During the first ingest into an empty database, the feeds and the index answer 503
/// with Retry-After, not an empty 200 that caches and readers would keep; the health
/// check and the stylesheet are served. Once the first batch is published every 200
/// has the entry, and a restart on that database serves it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_ingest_answers_503_until_it_publishes() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // Just written: it is read only once it has been still for settle_ms, so the first
    // scan stays under way for that long.
    write_file(
        &seeds.path().join(format!("{SAMPLE_KEY}.txt")),
        &sample_article(),
    );
    let vars = [("SEEDFEED_SETTLE_MS", "5000")];
    let flags = ["--listen", "127.0.0.1:0"];
    let mut daemon = serve(seeds.path(), data.path(), &flags, &vars);
    let base = tokio::task::block_in_place(|| daemon.address());
    let client = http_client().build().unwrap();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    for path in ["/feed.atom", "/feed.rss", "/feed.json", "/", "/feeds.opml"] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), 503, "{path}\n{}", daemon.log());
        assert_eq!(header(&response, "retry-after"), "5", "{path}");
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
    }
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/feed.xsl").await.unwrap().status(), 200);
    until("the first publication", || async {
        let response = get("/feed.atom").await.map_err(|e| e.to_string())?;
        match response.status().as_u16() {
            503 => Err("still 503".into()),
            200 => Ok(response.text().await.unwrap()),
            other => panic!("{other} during the first ingest"),
        }
    })
    .await
    .contains(SAMPLE_TITLE)
    .then_some(())
    .expect("the first 200 carries the entry");
    drop(daemon);

    let mut again = serve(seeds.path(), data.path(), &flags, &vars);
    let base = tokio::task::block_in_place(|| again.address());
    let feed = client
        .get(format!("{base}/feed.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        feed.status(),
        200,
        "a restart serves what is stored at once"
    );
    assert!(feed.text().await.unwrap().contains(SAMPLE_TITLE));
}

/// The first ingest of a folder too big for one batch publishes as it commits: the feeds
/// fill from the first commit on, long before the last, and every file is published in
/// the end. The pages of the entries the feeds link to are rendered once, at the end:
/// not for each publication on the way, whose feeds link to entries soon pushed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_ingest_of_a_big_folder_publishes_as_it_goes() {
    let (_seeds, _data, mut daemon) = serve_big_folder(BIG);
    let base = tokio::task::block_in_place(|| daemon.address());
    let listening = log_line(&mut daemon, "listening");
    let admin = format!("http://{}", field(&listening, "admin"));
    let first = log_line(&mut daemon, "published so far");
    let (done, total) = bulk_progress(&first);
    assert!(0 < done && done < total && total <= BIG, "{first}");
    log_line(&mut daemon, "first scan done");
    let log = daemon.log();
    let at = |text: &str| log.find(text).unwrap_or_else(|| panic!("{text}: {log}"));
    assert!(at("published so far") < at("first scan done"), "{log}");
    let client = http_client().build().unwrap();
    // Asked before any page is, so the cache holds what the ingest rendered: the pages of
    // the main feeds' 50 entries (the default `feed_size`), and none of those the feeds
    // linked to on the way.
    let metrics = client.get(format!("{admin}/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert_eq!(metric_value(&metrics, "seedfeed_pages_cached"), 50, "{log}");
    let feed = client
        .get(format!("{base}/feed.json"))
        .send()
        .await
        .unwrap();
    let feed: serde_json::Value = serde_json::from_str(&feed.text().await.unwrap()).unwrap();
    let newest = format!("Story {}", BIG - 1);
    assert_eq!(feed["items"][0]["title"], newest.as_str(), "{feed:#}");
}

/// How many stories [`big_folder`] writes for the tests of a bulk: more than one batch.
const BIG: usize = 2500;

/// A daemon started on a new data folder and a [`big_folder`] of `files` stories; the
/// two folders are returned to be kept while it runs.
fn serve_big_folder(files: usize) -> (tempfile::TempDir, tempfile::TempDir, Binary) {
    let seeds = big_folder(files);
    let data = tempfile::tempdir().unwrap();
    let daemon = serve(seeds.path(), data.path(), &["--listen", "127.0.0.1:0"], &[]);
    (seeds, data, daemon)
}

/// The `done` and `total` of a bulk's progress line.
fn bulk_progress(line: &str) -> (usize, usize) {
    (
        field(line, "done").parse().unwrap(),
        field(line, "total").parse().unwrap(),
    )
}

/// `files` stories, a second apart in their mtimes, the newest an hour ago: a bulk at
/// the first start.
fn big_folder(files: usize) -> tempfile::TempDir {
    let seeds = tempfile::tempdir().unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for i in 0..files {
        let path = seeds.path().join(format!("story-{i:05}.txt"));
        let story = common::articles::article("World", &format!("Story {i}"), "Body.");
        write_file(&path, &story);
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        let mtime = an_hour_ago + std::time::Duration::from_secs(i as u64);
        file.set_modified(mtime).unwrap();
    }
    seeds
}

/// How many stories the shutdown test writes: enough that the bulk still runs, some
/// tenths of a second, when the signal sent after its first commit arrives. A bulk of
/// [`BIG`] was done by then.
const BIGGER: usize = 20_000;

/// A shutdown during the first ingest of a big folder stops it at its next commit, not
/// at its end; what it had not stored is found by the next start, and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_stops_a_first_ingest_at_its_next_commit() {
    let (seeds, data, mut daemon) = serve_big_folder(BIGGER);
    log_line(&mut daemon, "published so far");
    daemon.signal(Signal::SIGTERM);
    let stopped = log_line(&mut daemon, "bulk stopped for the shutdown");
    let (done, total) = bulk_progress(&stopped);
    assert!(done < total, "{stopped}");
    let exit = tokio::task::block_in_place(|| daemon.wait_for_exit());
    assert_eq!(exit, Some(0), "{}", daemon.log_tail(30));

    // The next start reads what was not stored, and stores every file.
    let mut daemon = serve(seeds.path(), data.path(), &["--listen", "127.0.0.1:0"], &[]);
    let scan = log_line(&mut daemon, "reconcile scan");
    assert_ne!(field(&scan, "changed"), "0", "{scan}");
    let listening = log_line(&mut daemon, "listening");
    let admin = format!("http://{}", field(&listening, "admin"));
    log_line(&mut daemon, "first scan done");
    let status = http_client()
        .build()
        .unwrap()
        .get(format!("{admin}/status"))
        .send()
        .await
        .unwrap();
    let status: serde_json::Value = serde_json::from_str(&status.text().await.unwrap()).unwrap();
    assert_eq!(status["entries"], BIGGER, "{status:#}");
}

/// An empty folder is done as soon as it is scanned: the empty feeds are served, not
/// 503 for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_folder_serves_the_empty_feeds_once_scanned() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut daemon = serve(seeds.path(), data.path(), &["--listen", "127.0.0.1:0"], &[]);
    let base = tokio::task::block_in_place(|| daemon.address());
    log_line(&mut daemon, "first scan done");
    let client = http_client().build().unwrap();
    for path in ["/feed.atom", "/"] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

/// A file that is not an article is listed in the status with the reason, as the
/// reconcile scan finds it; hidden files and temporaries are not; a file removed leaves
/// the list at the next scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_lists_the_files_that_are_not_articles() {
    let daemon = TestDaemon::start_with(Layer {
        rescan_interval: Some(1),
        ..Layer::default()
    })
    .await;
    for name in ["notes.odt", ".hidden.md", "draft.txt.swp", "draft.md~"] {
        write_file(&daemon.seed_path(name), b"Title\n");
    }
    std::fs::create_dir(daemon.seed_path("2026")).unwrap();
    write_file(&daemon.seed_path("2026/page.php"), b"<?php echo 1;");
    daemon.publish_sample().await;
    let reason = "not an article: only .txt, .md, .markdown, .html and .htm files are read";
    let listed = json!([
        {"path": "2026/page.php", "reason": reason},
        {"path": "notes.odt", "reason": reason},
    ]);
    until("the files that are not articles in /status", || async {
        let status = daemon.json("/status").await;
        if status["not_articles"] == listed && status["files"]["not_articles"] == 2 {
            Ok(())
        } else {
            Err(format!("{status:#}"))
        }
    })
    .await;
    std::fs::remove_file(daemon.seed_path("notes.odt")).unwrap();
    until("notes.odt out of /status", || async {
        let status = daemon.json("/status").await;
        if status["not_articles"] == json!([{"path": "2026/page.php", "reason": reason}]) {
            Ok(())
        } else {
            Err(format!("{status:#}"))
        }
    })
    .await;
}
