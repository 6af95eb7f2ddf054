//! A folder of hostile files dropped at once into a running daemon, beside good articles,
//! while a client keeps polling (issue 5): the daemon stays up and answers; every good
//! article is published exactly once; every bad file is rejected with a reason, or, for
//! temporary and hidden names, never read; every document served is well-formed; every
//! entry link resolves exactly as written; and a restart changes none of it.
//!
//! Findings are collected rather than asserted one at a time, so that a failing run
//! names every file and document that went wrong at once.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod checks;
#[path = "../common/mod.rs"]
mod common;
mod corpus;
mod poller;
mod reading;
mod status;

use std::time::Duration;

use checks::{check_feeds, check_links, check_other_documents};
use common::daemon::{SETTLE_MS, TestDaemon, patient_client};
use common::poll::within;
use corpus::Corpus;
use poller::Poller;
use seedfeed::config::Layer;
use status::{SetAside, State};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_folder_dropped_at_once_leaves_the_daemon_up_and_the_feeds_sound() {
    // Room in the feeds for every good article, so each one can be checked there.
    let mut daemon = TestDaemon::start_with(Layer {
        feed_size: Some(200),
        ..Layer::default()
    })
    .await;
    let max_file_bytes = usize::try_from(daemon.config().max_file_bytes).unwrap();

    // Beside the seeds folder, on the same filesystem, so that a rename moves it in.
    let staging = tempfile::tempdir_in(daemon.seeds.path().parent().unwrap()).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(staging.path(), outside.path(), max_file_bytes);

    let poller = Poller::start([daemon.url("/healthz"), daemon.url("/feed.atom")]);

    // The drop: every entry of the staging folder renamed in, one right after another
    // (the subfolders go whole).
    let mut names: Vec<_> = std::fs::read_dir(staging.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in &names {
        std::fs::rename(staging.path().join(name), daemon.seeds.path().join(name)).unwrap();
    }

    // Wait (bounded) until the daemon has taken it all in; whatever is missing then is
    // reported below, file by file.
    let published_count = corpus.good.len() + corpus.pairs.len();
    let _ = within(|| async {
        let status = daemon.json("/status").await;
        let done = status["entries"] == published_count
            && status["files"]["duplicates"] == 2
            && status["files"]["rejected"]
                .as_u64()
                .is_some_and(|n| n as usize > corpus.rejected.len());
        if done { Ok(()) } else { Err(()) }
    })
    .await;
    // A late second publication would show within a few more settle times.
    tokio::time::sleep(Duration::from_millis(4 * SETTLE_MS)).await;

    let mut problems = Problems::default();
    poller.stop(&mut problems).await;
    let client = patient_client();

    let status = daemon.json("/status").await;
    let set_aside = SetAside::of(&status);
    corpus.check_status(&status, &set_aside, &mut problems);
    let json = daemon.json("/feed.json").await;
    let expected = corpus.expected_entries(&json, &set_aside, &mut problems);
    let links = check_feeds(&daemon, &client, &expected, &mut problems).await;
    check_links(&daemon, &client, &expected, &links, &mut problems).await;
    check_other_documents(&daemon, &client, &mut problems).await;

    // A restart over the same folder changes nothing: the start-up scan finds every file
    // as it was stored, so no entry is published again and no rival takes its place.
    let before = State::of(&daemon).await;
    daemon.restart().await;
    let (Ok(after) | Err(after)) = within(|| async {
        let state = State::of(&daemon).await;
        if state == before {
            Ok(state)
        } else {
            Err(state)
        }
    })
    .await;
    problems.check(after == before, || {
        format!(
            "after a restart the feed and /status differ:\nbefore {before:#?}\nafter {after:#?}"
        )
    });
    let status = daemon.json("/status").await;
    problems.check(status["totals"]["published"] == 0, || {
        format!("a restart published entries again: {}", status["totals"])
    });

    assert!(
        problems.0.is_empty(),
        "{} problems with the hostile folder:\n- {}",
        problems.0.len(),
        problems.0.join("\n- ")
    );
}

/// Findings, reported together at the end.
#[derive(Default)]
pub struct Problems(pub Vec<String>);

impl Problems {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    pub fn push(&mut self, what: String) {
        self.0.push(what);
    }
}
