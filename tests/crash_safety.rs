//! Crash safety (issue 5; DESIGN.md, "Watching and ingest": a kill -9 at any moment loses
//! nothing and duplicates nothing after restart). The real binary ingests a folder of
//! 5,000 articles and is killed with SIGKILL five times, at moments drawn from a seeded
//! generator: during start-up, a while into the scan, just after a given number of
//! entries, while more files arrive, and anywhere. After each kill the database is
//! opened read-only (so that the daemon, not the test, recovers its WAL) and checked:
//! integrity, only entries of a clean run with their ids and content, one file per
//! entry, no duplicate, no gap in the publication order, and every entry and frozen
//! archive page seen after an earlier kill unchanged (published date, order, bytes). A
//! last restart finishes the ingest: the store must then hold exactly the 5,000 entries
//! of a clean, uninterrupted run over the same files. A failure prints the seed:
//! `CRASH_SEED=…` replays the same kill moments (the machine's speed still moves where
//! they land).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, Days, NaiveDate};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rusqlite::{Connection, OpenFlags};
use seedfeed::model::EntryKey;
use seedfeed::normalize::{entry_id, id_namespace};

/// Articles in the corpus: the figure of issue 5.
const FILES: usize = 5_000;
/// One article in this many is held back and written while the daemon runs (round 4).
const LATE_EVERY: usize = 20;
/// Bounds every wait. Generous: the daemon is a debug build on a shared machine. It
/// bounds how long a stuck daemon is waited for; it says nothing about speed.
const PATIENCE: Duration = Duration::from_secs(120);
/// How often the store is polled.
const POLL: Duration = Duration::from_millis(10);
/// Short, so files written just before a start are not held back long.
const SETTLE_MS: &str = "200";
/// Fixed, so archive pages frozen before a kill stay valid after it (the daemon
/// renders them again when its base URL changes, as it would with a random port).
const BASE_URL: &str = "http://news.example";
/// The namespace the default config derives ids from (`id_namespace = "seedfeed"`).
const NAMESPACE: &str = "seedfeed";
/// Fixed: the corpus is the same in every run; only the kill moments vary.
const CORPUS_SEED: u64 = 0x5eed_feed_0000_0005;

/// SplitMix64: small, deterministic, fine with any seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One item of a `|`-separated list.
    fn pick<'a>(&mut self, list: &'a str) -> &'a str {
        let n = list.split('|').count() as u64;
        list.split('|').nth(self.below(n) as usize).unwrap()
    }

    /// One item of a list of `a/b` pairs, as the pair.
    fn pick_pair<'a>(&mut self, list: &'a str) -> (&'a str, &'a str) {
        self.pick(list).split_once('/').unwrap()
    }

    /// A duration in `[low, high)`.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_micros().max(1) as u64;
        low + Duration::from_micros(self.below(span))
    }
}

// ---------------------------------------------------------------------------------------
// The corpus: 5,000 distinct articles in the seeds' format, with the deviations real
// files have (no section, no caption, CRLF, trailing spaces, doubled blank lines, related
// stories, subfolders, non-ASCII text).

// Word lists, `|` between items.
const SECTIONS: &str = "Conflict & Justice|Business, Economics and Jobs|Global Pulse|\
    Science, Health & Environment|Lifestyle|Sports|Politics|Arts, Culture & Entertainment";
/// Countries, each with a city.
const PLACES: &str = "Mali/Bamako|Egypt/Cairo|Syria/Aleppo|Brazil/São Paulo|India/Mumbai|\
    China/Beijing|Greece/Athens|Mexico/Mexico City|Kenya/Nairobi|Japan/Tokyo|\
    Pakistan/Karachi|Spain/Madrid|Russia/Moscow|Nigeria/Lagos|Colombia/Bogotá|\
    Indonesia/Jakarta|Turkey/Istanbul|Peru/Lima";
const SUBJECTS: &str = "protesters|the central bank|opposition leaders|a rebel group|\
    the health ministry|striking miners|election officials|riot police|farmers|the army|\
    the prime minister|fishermen|students|lawmakers";
/// Verbs, each with its past tense.
const VERBS: &str = "clash over/clashed over|reject/rejected|call for/called for|\
    warn against/warned against|agree on/agreed on|protest/protested|back/backed|\
    postpone/postponed|investigate/investigated";
const OBJECTS: &str = "new austerity measures|a disputed vote|fuel subsidies|a peace deal|\
    water rights|a mining license|the draft constitution|a ceasefire|press freedom|\
    the budget|a border crossing|vaccine supplies|a port concession";
const SOURCES: &str =
    "the Associated Press|Reuters|Agence France-Presse|the BBC|local media|state television";
const FIRST_NAMES: &str = "Amadou|Fatima|Luis|Priya|Wei|Eleni|Carlos|Wanjiru|Kenji|Ayesha|\
    Sofía|Dmitri|Chinedu|Ana|Nurul|Emre|Rosa";
const LAST_NAMES: &str = "Traoré|Hassan|Oliveira|Sharma|Zhang|Papadopoulos|Hernández|\
    Mwangi|Tanaka|Qureshi|García|Volkov|Okafor|Santos|Hidayat|Yılmaz|Quispe";
const ROLES: &str = "a spokesman for the ministry|an opposition lawmaker|a union leader|\
    a local shopkeeper|an economist at the national university|a regional governor|\
    a human rights lawyer";
const QUOTES: &str = "We have the situation under control|\
    Nobody asked the people who live here|This is only the beginning|\
    We will not accept a deal made behind closed doors|\
    The streets are quiet now, but nobody is sleeping|\
    It’s a question of survival for our families";

/// One article file: where it goes in the seeds folder, its key and its bytes.
#[derive(Clone)]
struct Article {
    /// Relative to the seeds folder, as the store records it.
    path: String,
    key: String,
    bytes: Vec<u8>,
    /// Written while the daemon runs rather than before.
    late: bool,
}

fn corpus() -> Vec<Article> {
    let mut rng = Rng(CORPUS_SEED);
    let first_day = NaiveDate::from_ymd_opt(2009, 1, 1).unwrap();
    (0..FILES)
        .map(|i| {
            // One day per article: the first paragraph names it, so no two are alike.
            let day = first_day + Days::new(i as u64);
            let key = format!("{i:06}_{:016x}", rng.next());
            let path = if i % 4 == 3 {
                format!("{}/{key}.txt", day.year())
            } else {
                format!("{key}.txt")
            };
            Article {
                path,
                key,
                bytes: article_text(&mut rng, day).into_bytes(),
                late: i % LATE_EVERY == 7,
            }
        })
        .collect()
}

fn article_text(rng: &mut Rng, day: NaiveDate) -> String {
    let (country, city) = rng.pick_pair(PLACES);
    let subject = rng.pick(SUBJECTS);
    let (verb, verbed) = rng.pick_pair(VERBS);
    let object = rng.pick(OBJECTS);
    let date = day.format("%A, %B %-d, %Y");

    let mut blocks: Vec<(String, usize)> = Vec::new(); // (text, blank lines after it)
    if !rng.chance(4) {
        blocks.push((rng.pick(SECTIONS).to_owned(), 1));
    }
    let title = if rng.chance(70) {
        format!("{country}: {} {verb} {object}", capitalize(subject))
    } else {
        format!("{} in {city} {verb} {object}", capitalize(subject))
    };
    blocks.push((title, 2));
    if !rng.chance(10) {
        let caption = format!(
            "{} {} ({}), {}, speaks to reporters in {city} on {}.",
            rng.pick(FIRST_NAMES),
            rng.pick(LAST_NAMES),
            rng.pick("L|R|C"),
            rng.pick(ROLES),
            day.format("%B %-d, %Y"),
        );
        blocks.push((caption, 3));
    }
    let mut body = vec![format!(
        "{} in {city} {verbed} {object} on {date}, {} reported, in the latest sign of \
         tension over {} in {country}.",
        capitalize(subject),
        rng.pick(SOURCES),
        rng.pick(OBJECTS),
    )];
    for _ in 0..2 + rng.below(5) {
        body.push(paragraph(rng, country, city));
    }
    for _ in 0..rng.below(3) {
        let at = 1 + rng.below(body.len() as u64) as usize;
        let related = format!(
            "More from GlobalPost: {}: {} {} {}",
            rng.pick_pair(PLACES).0,
            capitalize(rng.pick(SUBJECTS)),
            rng.pick_pair(VERBS).0,
            rng.pick(OBJECTS),
        );
        body.insert(at, related);
    }
    blocks.extend(body.into_iter().map(|p| (p, 1)));

    let doubled = rng.chance(4);
    let trailing = if rng.chance(4) { "  " } else { "" };
    let newline = if rng.chance(8) { "\r\n" } else { "\n" };
    let mut text = String::new();
    let last = blocks.len() - 1;
    for (n, (block, blanks)) in blocks.iter().enumerate() {
        text.push_str(block);
        text.push_str(trailing);
        text.push_str(newline);
        if n < last {
            let blanks = if doubled { blanks * 2 } else { *blanks };
            text.push_str(&newline.repeat(blanks));
        }
    }
    text
}

fn paragraph(rng: &mut Rng, country: &str, city: &str) -> String {
    let person = format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES));
    match rng.below(5) {
        0 => format!(
            "“{},” {person}, {}, told {}.",
            rng.pick(QUOTES),
            rng.pick(ROLES),
            rng.pick(SOURCES)
        ),
        1 => format!(
            "The dispute over {} has divided {country} since {}, when {} first {} {}.",
            rng.pick(OBJECTS),
            1990 + rng.below(22),
            rng.pick(SUBJECTS),
            rng.pick_pair(VERBS).1,
            rng.pick(OBJECTS),
        ),
        2 => format!(
            "Officials said {} people had been {} by the evening, and that more measures \
             were expected in the coming days.",
            2 + rng.below(300),
            rng.pick("detained|injured|evacuated|questioned"),
        ),
        3 => format!(
            "Analysts in {city} said the decision could cost {country} as much as ${} \
             million a year, though the government disputes that figure.",
            5 + rng.below(900),
        ),
        _ => format!(
            "{person}, a {}-year-old {} from {city}, said the {} had not expected it to \
             last this long. “We’ll see,” {} added.",
            19 + rng.below(60),
            rng.pick("teacher|taxi driver|nurse|engineer|trader"),
            rng.pick("family|neighbourhood|community"),
            rng.pick("she|he"),
        ),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn write_article(seeds: &Path, article: &Article, atomically: bool) {
    let path = seeds.join(&article.path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if atomically {
        // As an editor or rsync does: a hidden temporary, then a rename into place.
        let tmp = path.with_file_name(format!(".{}.tmp", article.key));
        std::fs::write(&tmp, &article.bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    } else {
        std::fs::write(&path, &article.bytes).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// The store, read from outside: a read-only connection, as another process would open it,
// so the test never checkpoints the WAL or otherwise repairs what a kill left.

/// One row of `entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntryRow {
    id: String,
    content_hash: String,
    published: i64,
    updated: i64,
    seq: Option<i64>,
    deleted: Option<i64>,
}

/// Everything the checks look at.
#[derive(Debug, Default)]
struct Stored {
    entries: BTreeMap<String, EntryRow>,
    /// path → (key, status).
    files: BTreeMap<String, (String, String)>,
    /// Frozen archive pages: path → hash of the bytes served.
    archive: BTreeMap<String, u64>,
    integrity: String,
}

impl Stored {
    fn live(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.deleted.is_none())
            .count()
    }
}

fn open_read_only(data: &Path) -> rusqlite::Result<Option<Connection>> {
    let path = data.join("seedfeed.db");
    if !path.exists() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(Some(conn))
}

/// Tables exist from schema version 2 on (migrations run before any ingest).
fn has_schema(conn: &Connection) -> rusqlite::Result<bool> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(version >= 2)
}

/// Live entries, for polls; `None` while there is no database or it cannot be read yet.
fn live_count(data: &Path) -> Option<usize> {
    let conn = open_read_only(data).ok()??;
    if !has_schema(&conn).ok()? {
        return Some(0);
    }
    conn.query_row(
        "SELECT count(*) FROM entries WHERE deleted IS NULL",
        [],
        |r| r.get::<_, i64>(0),
    )
    .ok()
    .map(|n| n as usize)
}

fn read_store(data: &Path) -> rusqlite::Result<Stored> {
    let Some(conn) = open_read_only(data)? else {
        return Ok(Stored {
            integrity: "ok".into(),
            ..Stored::default()
        });
    };
    let integrity = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let mut stored = Stored {
        integrity,
        ..Stored::default()
    };
    if !has_schema(&conn)? {
        return Ok(stored);
    }
    let mut stmt = conn
        .prepare("SELECT key, id, content_hash, published, updated, seq, deleted FROM entries")?;
    stored.entries = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                EntryRow {
                    id: r.get(1)?,
                    content_hash: r.get(2)?,
                    published: r.get(3)?,
                    updated: r.get(4)?,
                    seq: r.get(5)?,
                    deleted: r.get(6)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT path, key, status FROM files")?;
    stored.files = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT path, body FROM archive_pages")?;
    stored.archive = stmt
        .query_map([], |r| {
            let mut hasher = DefaultHasher::new();
            r.get::<_, Vec<u8>>(1)?.hash(&mut hasher);
            Ok((r.get(0)?, hasher.finish()))
        })?
        .collect::<Result<_, _>>()?;
    Ok(stored)
}

// ---------------------------------------------------------------------------------------
// The daemon as a child process.

/// A running daemon; dropping it (a failed test) kills it, so no daemon outlives a test.
struct Daemon {
    child: Child,
    /// When it was spawned.
    spawned: Instant,
    /// Where its part of the log starts.
    log_from: usize,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One run of the test: its seed and log, for every failure message.
struct Trial {
    seed: u64,
    log: PathBuf,
    /// What the test is doing, named in failure messages.
    stage: String,
}

macro_rules! ensure {
    ($trial:expr, $cond:expr, $($message:tt)+) => {
        if !$cond {
            $trial.fail(&format!($($message)+));
        }
    };
}

impl Trial {
    fn fail(&self, what: &str) -> ! {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        panic!(
            "{}: {what}\nreplay with CRASH_SEED={}\n--- daemon log, last lines ---\n{tail}",
            self.stage, self.seed
        );
    }

    /// Starts `seedfeed serve` on these folders, its stderr appended to the log after a
    /// line that names the stage.
    fn start(&self, seeds: &Path, data: &Path) -> Daemon {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        writeln!(log, "==== {} ====", self.stage).unwrap();
        let log_from = log.metadata().unwrap().len() as usize;
        let mut command = Command::new(env!("CARGO_BIN_EXE_seedfeed"));
        // Only the settings given here: none from the environment the test runs in.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SEEDFEED_") {
                command.env_remove(name);
            }
        }
        command.env_remove("JOURNAL_STREAM");
        let child = command
            .env("SEEDFEED_SETTLE_MS", SETTLE_MS)
            .env("SEEDFEED_LOG", "info")
            .args(["serve", "--listen", "127.0.0.1:0", "--base-url", BASE_URL])
            .arg("--seeds")
            .arg(seeds)
            .arg("--data")
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Daemon {
            child,
            spawned: Instant::now(),
            log_from,
        }
    }

    /// Fails if the daemon has exited by itself (refused to start, crashed).
    fn ensure_running(&self, daemon: &mut Daemon) {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            self.fail(&format!("the daemon exited by itself ({status})"));
        }
    }

    /// Polls the daemon's part of the log until a line has `message`; returns how long
    /// after the spawn that was.
    fn wait_for_log(&self, daemon: &mut Daemon, message: &str) -> Duration {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let log = std::fs::read(&self.log).unwrap();
            let ours = String::from_utf8_lossy(&log[daemon.log_from.min(log.len())..]);
            if ours.lines().any(|line| line.contains(message)) {
                return daemon.spawned.elapsed();
            }
            self.ensure_running(daemon);
            ensure!(
                self,
                Instant::now() < deadline,
                "gave up waiting for the log line {message:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// SIGKILL: no handler runs, nothing is flushed or closed.
    fn kill(&self, mut daemon: Daemon) {
        self.ensure_running(&mut daemon);
        daemon.child.kill().unwrap();
        let status = daemon.child.wait().unwrap();
        ensure!(
            self,
            status.signal() == Some(Signal::SIGKILL as i32),
            "the daemon ended with {status}, not by the kill"
        );
    }

    /// SIGTERM once the daemon is up (before it has installed its handlers, SIGTERM
    /// still ends it the default way), and a clean exit within [`PATIENCE`].
    fn stop(&self, mut daemon: Daemon) {
        self.wait_for_log(&mut daemon, "listening");
        let pid = Pid::from_raw(i32::try_from(daemon.child.id()).unwrap());
        kill(pid, Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = daemon.child.try_wait().unwrap() {
                break status;
            }
            ensure!(self, Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(POLL);
        };
        ensure!(
            self,
            status.success(),
            "SIGTERM: the daemon exited {status}"
        );
    }

    /// Polls the store until `done` holds for its live count; returns that count.
    fn wait_for(
        &self,
        daemon: &mut Daemon,
        data: &Path,
        what: &str,
        done: impl Fn(usize) -> bool,
    ) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(n) = live_count(data).filter(|&n| done(n)) {
                return n;
            }
            self.ensure_running(daemon);
            ensure!(
                self,
                Instant::now() < deadline,
                "gave up waiting for {what} (live entries: {:?})",
                live_count(data)
            );
            std::thread::sleep(POLL);
        }
    }

    fn read(&self, data: &Path) -> Stored {
        read_store(data).unwrap_or_else(|e| self.fail(&format!("cannot read the store: {e}")))
    }
}

// ---------------------------------------------------------------------------------------
// The checks every state of the store must pass, killed or not.

/// What a clean run stores for each key: (id, content hash).
type Expected = BTreeMap<String, (String, String)>;

/// What was stored for a key when it was first seen after a kill.
struct FirstSeen {
    published: i64,
    seq: Option<i64>,
    round: usize,
}

/// The store is sound, holds only entries of the clean run with their ids and content,
/// and has kept the published date and the publication order of every entry seen
/// before. Returns the live count.
fn check_store(
    trial: &Trial,
    stored: &Stored,
    expected: &Expected,
    paths: &BTreeMap<String, String>,
    seen: &BTreeMap<String, FirstSeen>,
) -> usize {
    ensure!(
        trial,
        stored.integrity == "ok",
        "integrity_check: {}",
        stored.integrity
    );
    let mut ids = BTreeSet::new();
    let mut seqs = BTreeSet::new();
    for (key, row) in &stored.entries {
        let Some((id, hash)) = expected.get(key) else {
            trial.fail(&format!("entry {key} is not an article of the corpus"));
        };
        ensure!(trial, row.deleted.is_none(), "entry {key} deleted: {row:?}");
        ensure!(trial, &row.id == id, "entry {key}: id {} != {id}", row.id);
        ensure!(
            trial,
            &row.content_hash == hash,
            "entry {key}: content differs from the clean run's (a file read half-written?)"
        );
        ensure!(
            trial,
            row.updated == row.published,
            "entry {key}: updated moved though its file never changed: {row:?}"
        );
        ensure!(trial, ids.insert(&row.id), "id {} stored twice", row.id);
        ensure!(
            trial,
            row.seq.is_some_and(|s| seqs.insert(s)),
            "entry {key}: no seq, or a seq stored twice: {row:?}"
        );
        if let Some(first) = seen.get(key) {
            ensure!(
                trial,
                row.published == first.published && row.seq == first.seq,
                "entry {key}: published {} seq {:?}, but {} seq {:?} after round {}",
                row.published,
                row.seq,
                first.published,
                first.seq,
                first.round
            );
        }
    }
    if let Some(gone) = seen.keys().find(|k| !stored.entries.contains_key(*k)) {
        let round = seen[gone].round;
        trial.fail(&format!("entry {gone}, stored by round {round}, is gone"));
    }
    // Transactions are whole: publication numbers run 1..=n without a gap.
    let n = stored.entries.len() as i64;
    ensure!(
        trial,
        seqs.first().is_none_or(|&s| s == 1) && seqs.last().is_none_or(|&s| s == n),
        "seq is not 1..={n}: from {:?} to {:?}",
        seqs.first(),
        seqs.last()
    );
    // Each entry came from exactly one file, stored in the same transaction.
    let mut keys = BTreeSet::new();
    for (path, (key, status)) in &stored.files {
        ensure!(
            trial,
            paths.get(path) == Some(key),
            "files: {path} stored with key {key}, which is not its file name"
        );
        ensure!(trial, status == "published", "files: {path} is {status}");
        ensure!(trial, keys.insert(key), "files: two files of key {key}");
        ensure!(
            trial,
            stored.entries.contains_key(key),
            "files: {path} published but entry {key} missing"
        );
    }
    ensure!(
        trial,
        keys.len() == stored.entries.len(),
        "{} entries but {} published files",
        stored.entries.len(),
        keys.len()
    );
    stored.live()
}

/// A full archive page never changes (RFC 5005): every page stored after an earlier kill
/// is still there with the same bytes. Records the pages first seen now, by `round`.
fn check_archive(
    trial: &Trial,
    stored: &Stored,
    frozen: &mut BTreeMap<String, (u64, usize)>,
    round: usize,
) {
    for (path, (hash, since)) in frozen.iter() {
        ensure!(
            trial,
            stored.archive.get(path) == Some(hash),
            "archive page {path}, frozen by round {since}, changed or went"
        );
    }
    for (path, hash) in &stored.archive {
        frozen.entry(path.clone()).or_insert((*hash, round));
    }
}

/// How a round picks its kill moment.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// A delay within start-up: migrations, rendering what is stored, the scan, the
    /// first batch.
    StartUp,
    /// A delay from the start of the scan, within the first third of the ingest.
    MidIngest,
    /// Just after the store reaches a number of entries: inside the next batch.
    AfterEntries,
    /// A delay while a writer adds the held-back files.
    FilesArriving,
    /// A delay anywhere from start-up to past the end of the ingest.
    Anywhere,
}

const ROUNDS: [Moment; 5] = [
    Moment::StartUp,
    Moment::MidIngest,
    Moment::AfterEntries,
    Moment::FilesArriving,
    Moment::Anywhere,
];

/// How long a clean run took, to scale the kill moments to this machine.
struct Pace {
    /// From the spawn to the first stored entry.
    first: Duration,
    /// From the start of the scan to the last stored entry.
    ingest: Duration,
}

/// The log line of the start-up scan: start-up is over, the ingest begins.
const SCAN_LINE: &str = "reconcile scan";

#[test]
fn sigkill_during_a_bulk_ingest_loses_and_duplicates_nothing() {
    let begin = Instant::now();
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let work = tempfile::tempdir().unwrap();
    let mut trial = Trial {
        seed,
        log: work.path().join("daemon.log"),
        stage: "writing the corpus".into(),
    };

    let articles = corpus();
    let namespace = id_namespace(NAMESPACE);
    let paths: BTreeMap<String, String> = articles
        .iter()
        .map(|a| (a.path.clone(), a.key.clone()))
        .collect();
    assert_eq!(paths.len(), FILES, "corpus paths are distinct");

    // The clean run: every file there from the start, never interrupted.
    let clean_seeds = work.path().join("clean-seeds");
    let clean_data = work.path().join("clean-data");
    for article in &articles {
        write_article(&clean_seeds, article, false);
    }
    trial.stage = "the clean run".into();
    let mut clean = trial.start(&clean_seeds, &clean_data);
    let scan = trial.wait_for_log(&mut clean, SCAN_LINE);
    trial.wait_for(&mut clean, &clean_data, "a first entry", |n| n > 0);
    let first = clean.spawned.elapsed();
    trial.wait_for(&mut clean, &clean_data, "every entry", |n| n == FILES);
    let pace = Pace {
        first,
        ingest: clean.spawned.elapsed().saturating_sub(scan),
    };
    trial.stop(clean);
    let clean_store = trial.read(&clean_data);
    let expected: Expected = clean_store
        .entries
        .iter()
        .map(|(key, row)| (key.clone(), (row.id.clone(), row.content_hash.clone())))
        .collect();
    let no_history = BTreeMap::new();
    let live = check_store(&trial, &clean_store, &expected, &paths, &no_history);
    assert_eq!(live, FILES, "the clean run stores every article");
    for article in &articles {
        let id = entry_id(&namespace, &EntryKey::new(article.key.as_str())).to_string();
        assert_eq!(
            expected.get(&article.key).map(|(i, _)| i),
            Some(&id),
            "{}: the clean run's id is the UUIDv5 of the key in the default namespace",
            article.key
        );
    }
    eprintln!(
        "clean run: scan after {} ms, first entry after {} ms, {FILES} entries {} ms after the scan",
        scan.as_millis(),
        pace.first.as_millis(),
        pace.ingest.as_millis()
    );

    // The killed run: the bulk of the files before the first start, the rest during
    // round 4, and a kill per round.
    let seeds = work.path().join("seeds");
    let data = work.path().join("data");
    let (late, early): (Vec<Article>, Vec<Article>) =
        articles.iter().cloned().partition(|a| a.late);
    for article in &early {
        write_article(&seeds, article, false);
    }
    let mut present = early.len();
    let mut seen: BTreeMap<String, FirstSeen> = BTreeMap::new();
    let mut frozen: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    let mut stored_before = 0;
    let mut landed_mid_ingest = false;
    let mut late = Some(late);
    // Start-up (rendering what is stored) grows with the store; measured as it goes.
    let mut startup = scan;
    for (round, moment) in ROUNDS.into_iter().enumerate() {
        let round = round + 1;
        trial.stage = format!("round {round} ({moment:?})");
        let mut daemon = trial.start(&seeds, &data);
        let mut writer = None;
        let detail = match moment {
            Moment::StartUp => {
                let delay = rng.between(Duration::ZERO, pace.first);
                std::thread::sleep(delay);
                format!("{} ms after the spawn", delay.as_millis())
            }
            Moment::MidIngest => {
                startup = trial.wait_for_log(&mut daemon, SCAN_LINE);
                // A third of the way at most, so that round 3 has an ingest to cut into.
                let delay = rng.between(Duration::ZERO, pace.ingest / 3);
                std::thread::sleep(delay);
                format!("{} ms into the scan", delay.as_millis())
            }
            Moment::AfterEntries => {
                let remaining = (present - stored_before) as u64;
                let threshold =
                    (stored_before + 1 + rng.below(remaining / 2) as usize).min(present);
                trial.wait_for(&mut daemon, &data, &format!("{threshold} entries"), |n| {
                    n >= threshold
                });
                // Up to half a batch's time (a batch is a tenth of the corpus).
                let delay = rng.between(Duration::ZERO, pace.ingest / 20);
                std::thread::sleep(delay);
                format!("{threshold} entries + {} ms", delay.as_millis())
            }
            Moment::FilesArriving => {
                startup = trial.wait_for_log(&mut daemon, SCAN_LINE);
                let files = late.take().unwrap();
                present += files.len();
                let mut writer_rng = Rng(rng.next());
                let seeds = seeds.clone();
                writer = Some(std::thread::spawn(move || {
                    for (n, article) in files.iter().enumerate() {
                        write_article(&seeds, article, n % 2 == 1);
                        std::thread::sleep(Duration::from_micros(writer_rng.below(8_000)));
                    }
                }));
                // Files that arrive during a bulk wait for it: the kill may land in the
                // bulk, or after it, among them.
                let delay = rng.between(Duration::ZERO, pace.ingest);
                std::thread::sleep(delay);
                format!("{} ms into the scan, files arriving", delay.as_millis())
            }
            Moment::Anywhere => {
                let delay = rng.between(Duration::ZERO, startup + pace.ingest);
                std::thread::sleep(delay);
                format!("{} ms after the spawn", delay.as_millis())
            }
        };
        trial.stage = format!("round {round} ({moment:?}: kill at {detail})");
        trial.kill(daemon);
        if let Some(writer) = writer {
            writer.join().unwrap();
        }
        let stored = trial.read(&data);
        let live = check_store(&trial, &stored, &expected, &paths, &seen);
        check_archive(&trial, &stored, &mut frozen, round);
        for (key, row) in &stored.entries {
            seen.entry(key.clone()).or_insert(FirstSeen {
                published: row.published,
                seq: row.seq,
                round,
            });
        }
        eprintln!(
            "round {round}: kill at {detail}: {stored_before} -> {live} entries, {} archive pages",
            stored.archive.len()
        );
        landed_mid_ingest |= live > stored_before && live < present;
        stored_before = live;
    }

    // The last restart finishes the ingest.
    trial.stage = "the last restart".into();
    let mut daemon = trial.start(&seeds, &data);
    trial.wait_for(&mut daemon, &data, "every entry", |n| n == FILES);
    trial.stop(daemon);
    let end = trial.read(&data);
    let live = check_store(&trial, &end, &expected, &paths, &seen);
    check_archive(&trial, &end, &mut frozen, ROUNDS.len() + 1);
    ensure!(trial, live == FILES, "{live} live entries, not {FILES}");
    ensure!(
        trial,
        end.files.len() == FILES,
        "{} files stored",
        end.files.len()
    );
    let ids: BTreeMap<&String, &String> = end.entries.iter().map(|(k, e)| (k, &e.id)).collect();
    let clean_ids: BTreeMap<&String, &String> =
        expected.iter().map(|(k, (id, _))| (k, id)).collect();
    ensure!(
        trial,
        ids == clean_ids,
        "the key → id map differs from the clean run's"
    );
    ensure!(
        trial,
        landed_mid_ingest,
        "no kill landed mid-ingest, so the test tested little (the log shows the rounds)"
    );
    // Errors the daemon logged and went on from (a failed batch, a failed render).
    let log = std::fs::read_to_string(&trial.log).unwrap();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    ensure!(
        trial,
        errors.is_empty(),
        "the daemon logged errors:\n{}",
        errors.join("\n")
    );
    eprintln!(
        "{FILES} entries as in the clean run, {} of them stored before a kill and unchanged \
         since; {} s in all",
        seen.len(),
        begin.elapsed().as_secs()
    );
}
