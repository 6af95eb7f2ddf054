//! The stamps of every file the store knows, held compactly for the reconcile scan: a
//! 64-bit fingerprint of each path beside its stamp, 24 bytes a file, sorted by
//! fingerprint, a directory of where each value of a fingerprint's top bits starts
//! (4 to 8 bytes a file), and a bit for each saying whether the scan found it. The paths
//! themselves stay in the database; the few files the scan did not find (gone since the
//! last scan) are read back from it by their fingerprints ([`Store::unseen_files`]).
//!
//! A map from path to stamp took about 90 bytes a file, and the scan's listing as much
//! again beside it: at a million files, half a gigabyte at every rescan.
//!
//! Two known paths with the same fingerprint are kept by path instead. Fingerprints are
//! keyed at random per scan, so a path the store does not know is taken for a known
//! file with a chance of one in 2^64 per known file: 5 in 10^14 for a new path among a
//! million. Even then nothing is lost: the new file's stamp differs from the known
//! file's, so it is read as changed, and the known file is read again when listed; only
//! if the known file is gone, that scan misses it and the next finds it. (128-bit
//! fingerprints made that chance nil, at 16 MB more for a million files, which a
//! restart held at its peak.)

use std::collections::HashMap;
use std::hash::BuildHasher;

use rusqlite::OptionalExtension;

use super::{Store, StoreError};
use crate::model::FileStamp;

/// The files the store knows, with their stamps, and which of them a scan has found.
pub struct FileStamps {
    fingerprint: Fingerprint,
    /// Sorted by fingerprint; no two alike.
    by_fingerprint: Vec<(u64, FileStamp)>,
    /// Where the rows whose fingerprints start with each value of their top bits begin,
    /// and one past the last: one to two rows per value, side by side. A binary search
    /// of a million rows missed the cache at every step, and the scan searches for every
    /// file it lists.
    starts: Vec<usize>,
    /// A fingerprint shifted right by this is its top bits.
    shift: u32,
    /// One bit per row of `by_fingerprint`: found by the scan.
    found: Vec<u64>,
    /// Files whose fingerprints another file shares, by path; taken out when found.
    shared: HashMap<String, FileStamp>,
}

/// Where [`FileStamps`] hold a file: its row and the stamp there, or `None` for a file
/// kept by path. The stamp is read with the fingerprint it sits beside, so that taking
/// it does not come back to the row.
#[derive(Debug, Clone, Copy)]
pub struct KnownFile(Option<(usize, FileStamp)>);

impl FileStamps {
    /// How many files the store knows.
    pub fn len(&self) -> usize {
        self.by_fingerprint.len() + self.shared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the stamps hold the file at `path`, if the store knows it; [`Self::take`]
    /// takes its stamp.
    pub fn locate(&self, path: &str) -> Option<KnownFile> {
        let fingerprint = self.fingerprint.of(path);
        self.known(fingerprint, self.span(fingerprint), path)
    }

    /// [`Self::locate`] of each of `paths`, in order. Every directory entry is read
    /// first, then every row: the reads of one pass do not wait for one another, so the
    /// processor has many cache misses in flight at once, where one lookup's two misses
    /// come one after the other (docs/performance.md has what that saves a restart).
    pub fn locate_each(&self, paths: &[&str]) -> Vec<Option<KnownFile>> {
        let fingerprints: Vec<u64> = paths.iter().map(|path| self.fingerprint.of(path)).collect();
        let spans: Vec<(usize, usize)> = fingerprints
            .iter()
            .map(|&fingerprint| self.span(fingerprint))
            .collect();
        fingerprints
            .iter()
            .zip(spans)
            .zip(paths)
            .map(|((&fingerprint, span), path)| self.known(fingerprint, span, path))
            .collect()
    }

    /// The stored stamp of the file at `path`, which [`Self::locate`] found at `known`,
    /// the first time it is taken: the file is then found, and [`Store::unseen_files`]
    /// leaves it out.
    pub fn take(&mut self, known: KnownFile, path: &str) -> Option<FileStamp> {
        let Some((row, stamp)) = known.0 else {
            return self.shared.remove(path);
        };
        let (word, bit) = (row / 64, 1u64 << (row % 64));
        let seen = self.found.get_mut(word)?;
        if *seen & bit != 0 {
            return None;
        }
        *seen |= bit;
        Some(stamp)
    }

    /// How many known files have not been found.
    pub fn unseen(&self) -> usize {
        let found: u32 = self.found.iter().map(|word| word.count_ones()).sum();
        self.by_fingerprint.len() - found as usize + self.shared.len()
    }

    fn row(&self, path: &str) -> Option<usize> {
        self.row_of(self.fingerprint.of(path))
    }

    /// The file at `path`, whose fingerprint's rows are at `span`: by its row, or by
    /// its path.
    fn known(&self, fingerprint: u64, span: (usize, usize), path: &str) -> Option<KnownFile> {
        match self.row_in(fingerprint, span) {
            Some(row) => Some(KnownFile(Some(row))),
            None => self.shared.contains_key(path).then_some(KnownFile(None)),
        }
    }

    fn row_of(&self, fingerprint: u64) -> Option<usize> {
        self.row_in(fingerprint, self.span(fingerprint))
            .map(|(row, _)| row)
    }

    /// Where the rows whose fingerprints have the top bits of `fingerprint` start and
    /// end.
    fn span(&self, fingerprint: u64) -> (usize, usize) {
        // `checked_shr`: with one row or none, no bits, and every fingerprint's are 0.
        let top = fingerprint.checked_shr(self.shift).unwrap_or(0) as usize;
        match (self.starts.get(top), self.starts.get(top + 1)) {
            (Some(&start), Some(&end)) => (start, end),
            _ => (0, 0),
        }
    }

    /// The row of `fingerprint` among the rows of `span`, with its stamp.
    fn row_in(&self, fingerprint: u64, (start, end): (usize, usize)) -> Option<(usize, FileStamp)> {
        let rows = self.by_fingerprint.get(start..end)?;
        let at = rows.iter().position(|(known, _)| *known == fingerprint)?;
        Some((start + at, rows[at].1))
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
        let mut twins: Vec<u64> = by_fingerprint
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
        let (starts, shift) = directory(&by_fingerprint);
        Ok(FileStamps {
            fingerprint,
            by_fingerprint,
            starts,
            shift,
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

/// The directory of rows sorted by fingerprint: as many values of the top bits as half
/// the power of two at or above the number of rows, and where each one's rows start.
fn directory(rows: &[(u64, FileStamp)]) -> (Vec<usize>, u32) {
    let bits = rows
        .len()
        .next_power_of_two()
        .trailing_zeros()
        .saturating_sub(1);
    let shift = 64 - bits;
    let mut starts = Vec::with_capacity((1 << bits) + 1);
    for (row, (fingerprint, _)) in rows.iter().enumerate() {
        let top = fingerprint.checked_shr(shift).unwrap_or(0) as usize;
        while starts.len() <= top {
            starts.push(row);
        }
    }
    starts.resize((1 << bits) + 1, rows.len());
    (starts, shift)
}

fn stamp_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<FileStamp> {
    Ok(FileStamp {
        size: row.get::<_, i64>(1)?.max(0) as u64,
        mtime_ns: row.get(2)?,
    })
}

/// A path's fingerprint: a 64-bit hash, keyed at random.
enum Fingerprint {
    Random(foldhash::quality::RandomState),
    /// The path's length: every two paths of a length share one.
    #[cfg(test)]
    Length,
}

impl Fingerprint {
    fn random() -> Self {
        Self::Random(Default::default())
    }

    fn of(&self, path: &str) -> u64 {
        match self {
            Self::Random(state) => state.hash_one(path),
            #[cfg(test)]
            Self::Length => path.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileChange;

    /// A file's stamp, located and taken.
    fn find(stamps: &mut FileStamps, path: &str) -> Option<FileStamp> {
        let known = stamps.locate(path)?;
        stamps.take(known, path)
    }

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
        assert!(stamps.locate("dir/e.md").is_some() && stamps.locate("g.txt").is_none());
        assert_eq!(find(&mut stamps, "g.txt"), None);
        for path in ["a.txt", "cc.txt", "dir/e.md"] {
            let stored = store.file_stamp(path).unwrap();
            assert!(stored.is_some());
            assert_eq!(find(&mut stamps, path), stored, "{path}");
            assert_eq!(find(&mut stamps, path), None, "{path} found twice");
        }
        assert_eq!(stamps.unseen(), 3);
        let mut unseen = store.unseen_files(&stamps).unwrap();
        unseen.sort();
        assert_eq!(unseen, ["b.txt", "dir/d.txt", "f.txt"]);
        for path in unseen {
            assert!(find(&mut stamps, &path).is_some());
        }
        assert_eq!(stamps.unseen(), 0);
        assert!(store.unseen_files(&stamps).unwrap().is_empty());
    }

    /// Every fingerprint of many is found in its row through the directory, and no other.
    #[test]
    fn the_directory_finds_every_row() {
        use std::hash::BuildHasher;
        for count in [0usize, 1, 2, 3, 1000, 4096, 5000] {
            let state = foldhash::quality::RandomState::default();
            let mut rows: Vec<(u64, FileStamp)> = (0..count as u64)
                .map(|i| (state.hash_one(i), FileStamp::UNKNOWN))
                .collect();
            rows.sort_unstable_by_key(|(fingerprint, _)| *fingerprint);
            let (starts, shift) = directory(&rows);
            let stamps = FileStamps {
                fingerprint: Fingerprint::random(),
                found: vec![0; rows.len().div_ceil(64)],
                by_fingerprint: rows.clone(),
                starts,
                shift,
                shared: HashMap::new(),
            };
            for (row, (fingerprint, _)) in rows.iter().enumerate() {
                assert_eq!(stamps.row_of(*fingerprint), Some(row), "{count} rows");
                assert_eq!(stamps.row_of(fingerprint ^ 1), None, "{count} rows");
            }
            assert_eq!(stamps.row_of(u64::MAX), None);
        }
    }

    /// Located all at once, each path is where one lookup finds it, known or not, by
    /// fingerprint or by path, and its stamp is taken as one lookup's would be.
    #[test]
    fn locating_many_at_once_finds_what_one_lookup_finds() {
        let paths = ["a.txt", "b.txt", "cc.txt", "dir/d.txt", "dir/e.md"];
        let (_dir, store) = store_with(&paths);
        let asked = [
            "zz.txt", "dir/e.md", "a.txt", "new.md", "b.txt", "cc.txt", "a.txt",
        ];
        for fingerprint in [Fingerprint::random(), Fingerprint::Length] {
            let mut stamps = store.file_stamps_by(fingerprint).unwrap();
            let located = stamps.locate_each(&asked);
            assert_eq!(located.len(), asked.len());
            for (path, known) in asked.iter().zip(&located) {
                let one = stamps.locate(path);
                assert_eq!(known.is_some(), one.is_some(), "{path}");
                assert_eq!(known.map(|k| k.0), one.map(|k| k.0), "{path}");
            }
            for path in ["dir/e.md", "b.txt"] {
                let at = asked.iter().position(|asked| asked == &path).unwrap();
                let taken = stamps.take(located[at].unwrap(), path);
                assert_eq!(taken, store.file_stamp(path).unwrap(), "{path}");
            }
            assert_eq!(stamps.unseen(), paths.len() - 2);
        }
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
        // taken for that file: why real fingerprints are 64 bits, keyed at random.
        assert!(stamps.locate("zz.txt").is_some());
    }
}
