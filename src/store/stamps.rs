//! The stamps of every file the store knows, held compactly for the reconcile scan: a
//! 128-bit fingerprint of each path beside its stamp, 32 bytes a file, sorted by
//! fingerprint, and a bit for each saying whether the scan found it. The paths
//! themselves stay in the database; the few files the scan did not find (gone since the
//! last scan) are read back from it by their fingerprints ([`Store::unseen_files`]).
//!
//! A map from path to stamp took about 90 bytes a file, and the scan's listing as much
//! again beside it: at a million files, half a gigabyte at every rescan.
//!
//! Two paths with the same fingerprint are kept by path instead, so a match is a match:
//! fingerprints are keyed at random per scan, and a path the store does not know would
//! have to hit one of a million 128-bit values to be taken for a known file.

use std::collections::HashMap;
use std::hash::BuildHasher;

use rusqlite::OptionalExtension;

use super::{Store, StoreError};
use crate::model::FileStamp;

/// The files the store knows, with their stamps, and which of them a scan has found.
pub struct FileStamps {
    fingerprint: Fingerprint,
    /// Sorted by fingerprint; no two alike.
    by_fingerprint: Vec<(u128, FileStamp)>,
    /// One bit per row of `by_fingerprint`: found by the scan.
    found: Vec<u64>,
    /// Files whose fingerprints another file shares, by path; taken out when found.
    shared: HashMap<String, FileStamp>,
}

impl FileStamps {
    /// How many files the store knows.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len() + self.shared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the store knows a file at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.row(path).is_some() || self.shared.contains_key(path)
    }

    /// The stored stamp of the file at `path`, the first time it is asked for: the file
    /// is then found, and [`Store::unseen_files`] leaves it out. `None` when the store
    /// does not know it, or it was found already.
    pub fn find(&mut self, path: &str) -> Option<FileStamp> {
        if let Some(row) = self.row(path) {
            let (word, bit) = (row / 64, 1u64 << (row % 64));
            if self.found[word] & bit != 0 {
                return None;
            }
            self.found[word] |= bit;
            return Some(self.by_fingerprint[row].1);
        }
        self.shared.remove(path)
    }

    /// How many known files have not been found.
    pub fn unseen(&self) -> usize {
        let found: u32 = self.found.iter().map(|word| word.count_ones()).sum();
        self.by_fingerprint.len() - found as usize + self.shared.len()
    }

    fn row(&self, path: &str) -> Option<usize> {
        let fingerprint = self.fingerprint.of(path);
        self.by_fingerprint
            .binary_search_by_key(&fingerprint, |(known, _)| *known)
            .ok()
    }

    /// Whether `path`, a path the store knows, has not been found.
    fn is_unseen(&self, path: &str) -> bool {
        match self.row(path) {
            Some(row) => self.found[row / 64] & (1u64 << (row % 64)) == 0,
            // Not by fingerprint: by path, and still there when not found.
            None => self.shared.contains_key(path),
        }
    }
}

impl Store {
    /// Every file the store knows, with the stamp it had when last read.
    pub fn file_stamps(&self) -> Result<FileStamps, StoreError> {
        self.file_stamps_by(Fingerprint::random())
    }

    fn file_stamps_by(&self, fingerprint: Fingerprint) -> Result<FileStamps, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM files", [], |row| row.get(0))?;
        let mut by_fingerprint = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut stmt = self
            .conn
            .prepare("SELECT path, size, mtime_ns FROM files")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let path = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            by_fingerprint.push((fingerprint.of(path), stamp_of(row)?));
        }
        drop(rows);
        by_fingerprint.sort_unstable_by_key(|(fingerprint, _)| *fingerprint);
        let mut twins: Vec<u128> = by_fingerprint
            .windows(2)
            .filter(|pair| pair[0].0 == pair[1].0)
            .map(|pair| pair[0].0)
            .collect();
        twins.dedup();
        let mut shared = HashMap::new();
        if !twins.is_empty() {
            by_fingerprint.retain(|(known, _)| twins.binary_search(known).is_err());
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let path: String = row.get(0)?;
                if twins.binary_search(&fingerprint.of(&path)).is_ok() {
                    shared.insert(path, stamp_of(row)?);
                }
            }
        }
        let found = vec![0; by_fingerprint.len().div_ceil(64)];
        Ok(FileStamps {
            fingerprint,
            by_fingerprint,
            found,
            shared,
        })
    }

    /// The paths of the files in `stamps` that were not found: none read when all were.
    pub fn unseen_files(&self, stamps: &FileStamps) -> Result<Vec<String>, StoreError> {
        let mut unseen = Vec::new();
        if stamps.unseen() == 0 {
            return Ok(unseen);
        }
        let mut stmt = self.conn.prepare("SELECT path FROM files")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let path = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            if stamps.is_unseen(path) {
                unseen.push(path.to_owned());
            }
        }
        Ok(unseen)
    }

    /// The stamp the store has of the file at `path`, if it knows it.
    pub fn file_stamp(&self, path: &str) -> Result<Option<FileStamp>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, mtime_ns FROM files WHERE path = ?1",
                [path],
                |row| {
                    Ok(FileStamp {
                        size: row.get::<_, i64>(0)?.max(0) as u64,
                        mtime_ns: row.get(1)?,
                    })
                },
            )
            .optional()?)
    }
}

fn stamp_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<FileStamp> {
    Ok(FileStamp {
        size: row.get::<_, i64>(1)?.max(0) as u64,
        mtime_ns: row.get(2)?,
    })
}

/// A path's fingerprint: two 64-bit hashes, keyed apart.
enum Fingerprint {
    Random(
        foldhash::quality::RandomState,
        foldhash::quality::RandomState,
    ),
    /// The path's length: every two paths of a length share one.
    #[cfg(test)]
    Length,
}

impl Fingerprint {
    fn random() -> Self {
        Self::Random(Default::default(), Default::default())
    }

    fn of(&self, path: &str) -> u128 {
        match self {
            Self::Random(high, low) => {
                (u128::from(high.hash_one(path)) << 64) | u128::from(low.hash_one(path))
            }
            #[cfg(test)]
            Self::Length => path.len() as u128,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileChange;

    fn store_with(paths: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let changes: Vec<FileChange> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let text = format!("Article {i}\n\n{}", "words ".repeat(i + 1));
                FileChange::article_for_tests(&format!("k{i}"), path, &text)
            })
            .collect();
        store.apply(&changes, chrono::Utc::now()).unwrap();
        (dir, store)
    }

    /// Each known file is found once, with its stamp; what was not found is read back by
    /// path; a path the store does not know is not found.
    fn finds_each_file_once_and_reads_back_the_rest(fingerprint: Fingerprint) {
        let paths = ["a.txt", "b.txt", "cc.txt", "dir/d.txt", "dir/e.md", "f.txt"];
        let (_dir, store) = store_with(&paths);
        let mut stamps = store.file_stamps_by(fingerprint).unwrap();
        assert_eq!(stamps.len(), paths.len());
        assert!(stamps.contains("dir/e.md") && !stamps.contains("g.txt"));
        assert_eq!(stamps.find("g.txt"), None);
        for path in ["a.txt", "cc.txt", "dir/e.md"] {
            let stored = store.file_stamp(path).unwrap();
            assert!(stored.is_some());
            assert_eq!(stamps.find(path), stored, "{path}");
            assert_eq!(stamps.find(path), None, "{path} found twice");
        }
        assert_eq!(stamps.unseen(), 3);
        let mut unseen = store.unseen_files(&stamps).unwrap();
        unseen.sort();
        assert_eq!(unseen, ["b.txt", "dir/d.txt", "f.txt"]);
        for path in unseen {
            assert!(stamps.find(&path).is_some());
        }
        assert_eq!(stamps.unseen(), 0);
        assert!(store.unseen_files(&stamps).unwrap().is_empty());
    }

    #[test]
    fn finds_each_file_once_and_reads_back_the_rest_by_fingerprint() {
        finds_each_file_once_and_reads_back_the_rest(Fingerprint::random());
    }

    /// With fingerprints that most paths share (their lengths), the files that share one
    /// are kept by path, and found and read back all the same.
    #[test]
    fn files_that_share_a_fingerprint_are_kept_by_path() {
        finds_each_file_once_and_reads_back_the_rest(Fingerprint::Length);
        let (_dir, store) = store_with(&["a.txt", "b.txt", "cc.txt"]);
        let stamps = store.file_stamps_by(Fingerprint::Length).unwrap();
        assert_eq!(stamps.by_fingerprint.len(), 1);
        assert_eq!(stamps.shared.len(), 2);
        // A path the store does not know that has a known file's fingerprint alone is
        // taken for that file: why real fingerprints are 128 bits, keyed at random.
        assert!(stamps.contains("zz.txt"));
    }
}
