//! Crash safety: the real binary is killed with SIGKILL at moments spread over a bulk
//! ingest of 5,000 files, several times, and restarted each time. The store must end with
//! exactly the 5,000 entries of a clean run (same keys, same ids), no duplicate, and no
//! published date changed for an entry stored before a kill. The moments come from a
//! seeded generator; a failure prints the seed (`CRASH_SEED` replays it).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use seedfeed::model::EntryKey;
use seedfeed::normalize::{entry_id, id_namespace};

const FILES: usize = 5_000;
/// Bounds every wait: generous, since the test binary is a debug build on a shared machine.
const PATIENCE: Duration = Duration::from_secs(180);

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

/// Writes `FILES` distinct articles in the article format.
fn write_corpus(dir: &Path) {
    const SECTIONS: [&str; 5] = ["World", "Business", "Science", "Conflict & Justice", "Arts"];
    for i in 0..FILES {
        let section = SECTIONS[i % SECTIONS.len()];
        let text = format!(
            "{section}\n\nArticle number {i}: a headline\n\n\nA caption for photo {i}.\n\n\n\n\
             The first paragraph of article {i} says what happened and where.\n\n\
             A second paragraph of article {i} adds detail, quotes and context.\n\n\
             More from GlobalPost: Another story {i}\n"
        );
        std::fs::write(dir.join(format!("{i:05}_article.txt")), text).unwrap();
    }
}

/// The daemon as a child process, its stderr in a log file.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(seeds: &Path, data: &Path, log: &Path) -> Self {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_seedfeed"))
            .env_clear()
            .env("SEEDFEED_LOG", "info")
            .args(["serve", "--listen", "127.0.0.1:0", "--seeds"])
            .arg(seeds)
            .arg("--data")
            .arg(data)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        Self {
            child,
            log: log.to_owned(),
        }
    }

    fn kill(mut self) {
        // Child::kill is SIGKILL on Unix: no handler runs, nothing is flushed.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn stop(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}\n{}", self.log_tail());
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
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
fn wait_for(data: &Path, daemon: &Daemon, what: &str, done: impl Fn(&Stored) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if read_store(data).is_some_and(|s| done(&s)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}\n{}",
            daemon.log_tail()
        );
        std::thread::sleep(Duration::from_millis(5));
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

    // The clean run: every key's id.
    let clean_data = work.path().join("clean");
    let clean = Daemon::start(&seeds, &clean_data, &work.path().join("clean.log"));
    wait_for(&clean_data, &clean, "the clean run", |s| {
        s.live.len() == FILES
    });
    clean.stop();
    let clean_ids: BTreeMap<String, String> = read_store(&clean_data)
        .unwrap()
        .live
        .into_iter()
        .map(|(key, (id, _))| (key, id))
        .collect();
    let namespace = id_namespace("seedfeed");
    for (key, id) in &clean_ids {
        assert_eq!(
            id,
            &entry_id(&namespace, &EntryKey::new(key.as_str())).to_string()
        );
    }

    // Kills: one early (during the scan or the first batch), then at random numbers of
    // stored entries, each a little after the count is reached (the first at once). A
    // bulk commits in four steps at least, so up to 70% of the files that count comes
    // before the last step, with a quarter of the bulk still to write when the kill
    // lands. The steps of a bulk of 5,000 come about 50 ms apart, so the first kill
    // does not wait: a random wait of up to 40 ms, and the time to see the count, may
    // take it past the last step.
    let data = work.path().join("data");
    let log = work.path().join("daemon.log");
    let mut thresholds: Vec<usize> = (0..4)
        .map(|_| 1 + rng.below(FILES as u64 * 7 / 10) as usize)
        .collect();
    thresholds.sort_unstable();
    let mut kills = 0;
    let mut stored_at_kills = Vec::new();
    let mut before: BTreeMap<String, i64> = BTreeMap::new();
    let early = Daemon::start(&seeds, &data, &log);
    std::thread::sleep(Duration::from_millis(rng.below(60)));
    early.kill();
    kills += 1;
    for (round, threshold) in thresholds.into_iter().enumerate() {
        let daemon = Daemon::start(&seeds, &data, &log);
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
    let daemon = Daemon::start(&seeds, &data, &log);
    wait_for(&data, &daemon, "every entry", |s| {
        s.live.len() == FILES && s.files == FILES
    });
    daemon.stop();
    assert_eq!(integrity(&data), "ok");
    let end = read_store(&data).unwrap();
    assert_eq!(end.rows, FILES, "no duplicate rows; CRASH_SEED={seed}");
    let ids: BTreeMap<String, String> = end
        .live
        .iter()
        .map(|(key, (id, _))| (key.clone(), id.clone()))
        .collect();
    assert_eq!(ids, clean_ids, "the ids of a clean run; CRASH_SEED={seed}");
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
