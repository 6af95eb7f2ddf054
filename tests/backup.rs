//! `seedfeed backup FILE`, run as an operator runs it, while a real daemon serves and
//! ingests the database it copies: the copy is one consistent state of it, passes
//! SQLite's integrity check, and opens as a daemon's database; the live database itself
//! is refused as the target.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::time::Duration;

use common::articles::{article, write_file};
use common::binary::{run, seedfeed};
use common::daemon::TestDaemon;
use common::export::backup;
use seedfeed::model::EntryKey;
use seedfeed::store::Store;

/// Articles stored before the backup starts, and dropped while it runs.
const BEFORE: usize = 30;
const DURING: usize = 60;

fn story(n: usize) -> Vec<u8> {
    article(
        "World",
        &format!("Story {n}"),
        &format!("Story number {n}, in full."),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_made_while_the_daemon_ingests_is_whole_and_opens() {
    let daemon = TestDaemon::start().await;
    for n in 0..BEFORE {
        write_file(&daemon.seed_path(&format!("story-{n}.txt")), &story(n));
    }
    daemon
        .wait_for_status("every article stored", |status| {
            (status["entries"] == BEFORE).then_some(())
        })
        .await;

    // Drops go on in the watched folder while the copy is made.
    let seeds = daemon.seeds.path().to_owned();
    let dropping = std::thread::spawn(move || {
        for n in BEFORE..BEFORE + DURING {
            write_file(&seeds.join(format!("story-{n}.txt")), &story(n));
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("seedfeed.db");
    let data = daemon.data.path().to_owned();
    let target = copy.clone();
    let printed = tokio::task::spawn_blocking(move || backup(&data, &target))
        .await
        .unwrap();
    dropping.join().unwrap();
    assert!(printed.contains("integrity ok"), "{printed}");
    assert_eq!(seedfeed::store::integrity_check(&copy).unwrap(), "ok");
    // Nothing but the copy beside it: no temporary file, no WAL to carry along.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);

    // The copy opens as a daemon's database: every entry stored before the backup is in
    // it, and what it holds is one state (its counts agree with its rows).
    let store = Store::open(out.path()).unwrap();
    let keys = store.live_keys().unwrap();
    let counts = store.counts().unwrap();
    assert_eq!(counts.entries, keys.len() as u64);
    assert!(
        printed.contains(&format!("{} entries", keys.len())),
        "{printed}"
    );
    for n in 0..BEFORE {
        assert!(
            keys.contains(&EntryKey::new(format!("story-{n}"))),
            "story-{n}"
        );
    }
    assert!(keys.len() <= BEFORE + DURING);

    // The daemon went on: it stores every drop.
    daemon
        .wait_for_status("every drop stored", |status| {
            (status["entries"] == BEFORE + DURING).then_some(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_database_is_never_the_target() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let live = daemon.data.path().join("seedfeed.db");
    let ran = run(seedfeed()
        .arg("backup")
        .arg(&live)
        .arg("--data")
        .arg(daemon.data.path()));
    assert_eq!(ran.code, Some(2), "{ran}");
    assert!(ran.stderr.contains(&live.display().to_string()), "{ran}");
    assert!(ran.stderr.contains("live database"), "{ran}");
    assert_eq!(seedfeed::store::integrity_check(&live).unwrap(), "ok");

    let nowhere = daemon.data.path().join("no/such/folder/copy.db");
    let ran = run(seedfeed()
        .arg("backup")
        .arg(&nowhere)
        .arg("--data")
        .arg(daemon.data.path()));
    assert_eq!(ran.code, Some(2), "{ran}");
    assert!(ran.stderr.contains(&nowhere.display().to_string()), "{ran}");
}
