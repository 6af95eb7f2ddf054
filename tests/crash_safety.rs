//! Crash safety: the real binary is killed with SIGKILL at moments spread over a bulk
//! ingest of 5,000 files, several times, and restarted each time. The store must end with
//! exactly the 5,000 entries of a clean run (same keys, same ids, same published dates),
//! no duplicate, and no published date changed for an entry stored before a kill. The
//! files' mtimes are spread over half a second out of the order of their names, about
//! ten to a millisecond, so most dates had to be moved to be distinct: the moves must
//! not depend on where the kills landed. The moments come from a
//! seeded generator; a failure prints the seed (`CRASH_SEED` replays it).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::articles::captioned;
use common::binary::{Binary, seedfeed};
use common::poll::within_blocking;
use common::site::id_of;
use nix::sys::signal::Signal;
use rusqlite::{Connection, OpenFlags};

const FILES: usize = 5_000;
/// Bounds the waits for the ingest: generous, since the binary is a debug build on a
/// shared machine.
const INGEST_PATIENCE: Duration = Duration::from_secs(180);

/// A small deterministic generator (xorshift), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes `FILES` distinct articles in the article format, with mtimes that many share.
fn write_corpus(dir: &Path) {
    let base = std::time::SystemTime::now() - Duration::from_secs(3600);
    const SECTIONS: [&str; 5] = ["World", "Business", "Science", "Conflict & Justice", "Arts"];
    for i in 0..FILES {
        let text = captioned(
            SECTIONS[i % SECTIONS.len()],
            &format!("Article number {i}: a headline"),
            &format!("A caption for photo {i}."),
            &format!(
                "The first paragraph of article {i} says what happened and where.\n\n\
                 A second paragraph of article {i} adds detail, quotes and context.\n\n\
                 More from GlobalPost: Another story {i}"
            ),
        );
        let path = dir.join(format!("{i:05}_article.txt"));
        std::fs::write(&path, text).unwrap();
        let ms = (i as u64 * 7919) % 500;
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(base + Duration::from_millis(ms))
            .unwrap();
    }
}

/// `seedfeed serve` over these folders, logging at the info level.
fn start(seeds: &Path, data: &Path) -> Binary {
    let mut command = seedfeed();
    command
        .env("SEEDFEED_LOG", "info")
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .arg("--seeds")
        .arg(seeds)
        .arg("--data")
        .arg(data);
    Binary::spawn(command)
}

/// Stops it with SIGTERM: it must exit cleanly.
fn stop(mut daemon: Binary) {
    daemon.signal(Signal::SIGTERM);
    let exit = daemon.wait_for_exit();
    assert_eq!(exit, Some(0), "{}", daemon.log_tail(30));
}

/// What the store holds, read through a read-only connection (as another process would).
struct Stored {
    /// key → (id, published) of live entries.
    live: BTreeMap<String, (String, i64)>,
    /// Rows of entries, live or not.
    rows: usize,
    files: usize,
}

fn read_store(data: &Path) -> Option<Stored> {
    let path = data.join("seedfeed.db");
    if !path.exists() {
        return None;
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ok()?;
    if version < 2 {
        return None; // not migrated yet: killed before the schema existed
    }
    let mut stmt = conn
        .prepare("SELECT key, id, published FROM entries WHERE deleted IS NULL")
        .ok()?;
    let live = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .ok()?
        .collect::<Result<BTreeMap<String, (String, i64)>, _>>()
        .ok()?;
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .ok()?;
    let files: i64 = conn
        .query_row("SELECT count(*) FROM files", [], |r| r.get(0))
        .ok()?;
    Some(Stored {
        live,
        rows: rows as usize,
        files: files as usize,
    })
}

fn integrity(data: &Path) -> String {
    let conn = Connection::open(data.join("seedfeed.db")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// Polls the store until `done` holds for it, or fails with the daemon's log.
fn wait_for(data: &Path, daemon: &Binary, what: &str, done: impl Fn(&Stored) -> bool) {
    let polled = within_blocking(INGEST_PATIENCE, Duration::from_millis(5), || {
        if read_store(data).is_some_and(|s| done(&s)) {
            Ok(())
        } else {
            Err(())
        }
    });
    if polled.is_err() {
        panic!("gave up waiting for {what}\n{}", daemon.log_tail(30));
    }
}

#[test]
fn sigkill_during_a_bulk_ingest_loses_and_duplicates_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let work = tempfile::tempdir().unwrap();
    let seeds = work.path().join("seeds");
    std::fs::create_dir(&seeds).unwrap();
    write_corpus(&seeds);

    // The clean run: every key's id and published date.
    let clean_data = work.path().join("clean");
    let clean = start(&seeds, &clean_data);
    wait_for(&clean_data, &clean, "the clean run", |s| {
        s.live.len() == FILES
    });
    stop(clean);
    let clean_live = read_store(&clean_data).unwrap().live;
    let clean_ids: BTreeMap<String, String> = clean_live
        .iter()
        .map(|(key, (id, _))| (key.clone(), id.clone()))
        .collect();
    for (key, id) in &clean_ids {
        assert_eq!(id, &id_of(key).to_string());
    }

    // Kills: one early (during the scan or the first batch), then at random numbers of
    // stored entries, each a little after the count is reached (the first at once). A
    // bulk commits in four steps at least, so up to 70% of the files that count comes
    // before the last step, with a quarter of the bulk still to write when the kill
    // lands. The steps of a bulk of 5,000 come about 50 ms apart, so the first kill
    // does not wait: a random wait of up to 40 ms, and the time to see the count, may
    // take it past the last step.
    let data = work.path().join("data");
    let mut thresholds: Vec<usize> = (0..4)
        .map(|_| 1 + rng.below(FILES as u64 * 7 / 10) as usize)
        .collect();
    thresholds.sort_unstable();
    let mut kills = 0;
    let mut stored_at_kills = Vec::new();
    let mut before: BTreeMap<String, i64> = BTreeMap::new();
    let mut early = start(&seeds, &data);
    std::thread::sleep(Duration::from_millis(rng.below(60)));
    early.kill();
    kills += 1;
    for (round, threshold) in thresholds.into_iter().enumerate() {
        let mut daemon = start(&seeds, &data);
        wait_for(&data, &daemon, &format!("{threshold} entries"), |s| {
            s.live.len() >= threshold
        });
        if round > 0 {
            std::thread::sleep(Duration::from_millis(rng.below(40)));
        }
        daemon.kill();
        kills += 1;
        assert_eq!(integrity(&data), "ok", "CRASH_SEED={seed}");
        let stored = read_store(&data).unwrap();
        stored_at_kills.push(stored.live.len());
        assert_eq!(stored.rows, stored.live.len(), "nothing was deleted");
        for (key, (id, published)) in &stored.live {
            assert_eq!(Some(id), clean_ids.get(key), "{key}: CRASH_SEED={seed}");
            if let Some(earlier) = before.insert(key.clone(), *published) {
                assert_eq!(
                    earlier, *published,
                    "{key}: published changed across a kill; CRASH_SEED={seed}"
                );
            }
        }
    }

    // The last restart finishes the ingest.
    let daemon = start(&seeds, &data);
    wait_for(&data, &daemon, "every entry", |s| {
        s.live.len() == FILES && s.files == FILES
    });
    stop(daemon);
    assert_eq!(integrity(&data), "ok");
    let end = read_store(&data).unwrap();
    assert_eq!(end.rows, FILES, "no duplicate rows; CRASH_SEED={seed}");
    let ids: BTreeMap<String, String> = end
        .live
        .iter()
        .map(|(key, (id, _))| (key.clone(), id.clone()))
        .collect();
    assert_eq!(ids, clean_ids, "the ids of a clean run; CRASH_SEED={seed}");
    let moved: Vec<_> = clean_live
        .iter()
        .filter(|(key, (_, published))| end.live.get(*key).map(|(_, p)| p) != Some(published))
        .map(|(key, (_, published))| (key, published, end.live.get(key).map(|(_, p)| p)))
        .take(5)
        .collect();
    assert!(
        moved.is_empty(),
        "published dates differ from the clean run's (key, clean, here): {moved:?}; CRASH_SEED={seed}"
    );
    for (key, published) in &before {
        assert_eq!(
            Some(published),
            end.live.get(key).map(|(_, p)| p),
            "{key}: published changed; CRASH_SEED={seed}"
        );
    }
    assert!(kills >= 5);
    assert!(
        stored_at_kills.iter().any(|&n| n > 0 && n < FILES),
        "no kill landed during the ingest ({stored_at_kills:?} stored); CRASH_SEED={seed}"
    );
    eprintln!("entries stored at each kill: {stored_at_kills:?}");
}
