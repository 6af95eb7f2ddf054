//! Published dates are a function of the folder: random mtimes with many ties, listed in
//! shuffled orders, applied to a real SQLite store in random batches with crashes
//! between them (a batch applied but not committed, the store reopened), must come out
//! with the dates of one clean run, and no entry may come out ahead of one whose file is
//! newer. The daemon applies new files in `store::date_order` (`ingest::order` sorts
//! each settled set so); this applies them the same way, and each restart lists what is
//! not stored yet, as the daemon's first scan does.

use std::collections::{BTreeMap, BTreeSet};

use chrono::DateTime;
use proptest::prelude::*;
use seedfeed::model::{Article, FileStamp};
use seedfeed::store::{FileChange, Store, date_order};
use tempfile::TempDir;

use super::common::site::draft;

/// The files' mtimes start here: 2026-01-01T10:00:00Z, in milliseconds.
const BASE_MS: i64 = 1_767_261_600_000;
/// Later than every mtime: no date is held back to "now".
const NOW_MS: i64 = BASE_MS + 86_400_000;

/// One file of the folder.
#[derive(Debug, Clone)]
pub struct File {
    key: String,
    mtime_ms: i64,
}

/// Up to 40 files over three seconds, each at one of four milliseconds of its second:
/// many files share a millisecond, and runs of moved times reach the next ones.
fn folder() -> impl Strategy<Value = Vec<File>> {
    prop::collection::btree_map("[a-z]{1,3}", (0i64..3, 0i64..4), 1..40).prop_map(|files| {
        files
            .into_iter()
            .map(|(key, (second, ms))| File {
                key,
                mtime_ms: BASE_MS + second * 1000 + ms,
            })
            .collect()
    })
}

/// How one ingest of the folder goes: the order a scan lists the files in, the batch
/// size, and for each run before the last, how many batches it commits before it
/// crashes in the middle of the next.
#[derive(Debug, Clone)]
pub struct Ingest {
    listing: Vec<File>,
    batch: usize,
    crashes: Vec<usize>,
}

fn ingest_of(files: Vec<File>) -> impl Strategy<Value = Ingest> {
    (
        Just(files).prop_shuffle(),
        1usize..8,
        prop::collection::vec(0usize..4, 0..4),
    )
        .prop_map(|(listing, batch, crashes)| Ingest {
            listing,
            batch,
            crashes,
        })
}

fn change(file: &File) -> FileChange {
    let article = Article {
        title: format!("Article {}", file.key),
        paragraphs: vec![format!("The body of {}.", file.key)],
        ..Article::default()
    };
    FileChange::Article {
        path: format!("{}.txt", file.key),
        stamp: FileStamp {
            size: 100,
            mtime_ns: file.mtime_ms * 1_000_000,
        },
        draft: draft(&file.key, &article),
        warnings: Vec::new(),
        media: Vec::new(),
    }
}

fn at(ms: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Runs `ingest` into a new store; the published date of each key, in milliseconds.
fn run(ingest: &Ingest) -> BTreeMap<String, i64> {
    let data = TempDir::new().unwrap();
    let mut crashes = ingest.crashes.iter();
    loop {
        let mut store = Store::open(data.path()).unwrap();
        let stored: BTreeSet<String> = store
            .live_entries()
            .unwrap()
            .into_iter()
            .map(|e| e.draft.key.to_string())
            .collect();
        // The scan lists what is not stored yet, in its own order; the daemon sorts it.
        let mut todo: Vec<&File> = ingest
            .listing
            .iter()
            .filter(|f| !stored.contains(&f.key))
            .collect();
        todo.sort_by(|a, b| date_order((a.mtime_ms, &a.key, ""), (b.mtime_ms, &b.key, "")));
        let batches: Vec<Vec<FileChange>> = todo
            .chunks(ingest.batch)
            .map(|chunk| chunk.iter().map(|f| change(f)).collect())
            .collect();
        let crash = crashes.next();
        let mut writer = store.writer();
        for (n, batch) in batches.iter().enumerate() {
            writer.apply(batch, at(NOW_MS)).unwrap();
            if crash == Some(&n) {
                break; // applied, not committed: the kill lands here
            }
            writer.commit().unwrap();
        }
        drop(writer);
        if crash.is_none() {
            return store
                .live_entries()
                .unwrap()
                .into_iter()
                .map(|e| (e.draft.key.to_string(), e.published.timestamp_millis()))
                .collect();
        }
    }
}

/// No two entries share a date, and none is ahead of an entry whose file is newer.
fn in_file_order(files: &[File], dates: &BTreeMap<String, i64>) -> Result<(), TestCaseError> {
    let distinct: BTreeSet<i64> = dates.values().copied().collect();
    prop_assert_eq!(distinct.len(), dates.len(), "two entries share a date");
    for older in files {
        for newer in files.iter().filter(|f| f.mtime_ms > older.mtime_ms) {
            prop_assert!(
                dates[&older.key] < dates[&newer.key],
                "{} (mtime {}) came out at {}, not before {} (mtime {}) at {}",
                older.key,
                older.mtime_ms,
                dates[&older.key],
                newer.key,
                newer.mtime_ms,
                dates[&newer.key],
            );
        }
        prop_assert!(dates[&older.key] >= older.mtime_ms, "dated before its file");
    }
    Ok(())
}

fn two_ingests() -> impl Strategy<Value = (Vec<File>, Ingest, Ingest)> {
    folder().prop_flat_map(|files| {
        (
            Just(files.clone()),
            ingest_of(files.clone()),
            ingest_of(files),
        )
    })
}

proptest! {
    #![proptest_config(super::config(64))]

    /// Two ingests of one folder, in different orders, batches and crashes, give every
    /// entry the same date, in the order of the files' dates.
    #[test]
    fn dates_are_a_function_of_the_folder((files, first, second) in two_ingests()) {
        let dates = run(&first);
        prop_assert_eq!(dates.len(), files.len());
        in_file_order(&files, &dates)?;
        prop_assert_eq!(&dates, &run(&second));
    }
}
