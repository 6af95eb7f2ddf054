//! What a bulk writer knows the store may hold, so that it skips the lookups that cannot
//! find anything. Before inserting an article the writer looks up its key (among files
//! and entries), its content hash and its published time, and deletes the media
//! references of the file's last read; in a cold ingest none is ever found, and the
//! lookups were a good part of the writer thread's time.
//!
//! What it knows is kept in four Bloom filters, not sets: 10 bits per value rounded up to
//! a power of two (2 MiB each for a bulk of a million articles), where sets of 64-bit
//! fingerprints take about 18 bytes per value by their layout, 54 MB for that bulk.

use std::hash::BuildHasher;

use rusqlite::Connection;

/// Loading what the store holds reads three index rows per stored entry (and one per
/// media reference), each far cheaper than the lookups it saves per article written
/// (docs/performance.md). Past this many stored entries per file of the bulk, loading
/// would cost about as much as it saves.
const STORED_PER_FILE: i64 = 4;

/// A superset of the keys, the live content hashes and the published times of the
/// entries in the store, and of the files that have media references. (A key is looked
/// up among published files too, but a published file always has its entry, and entry
/// rows are never deleted.) A value outside it is certainly not stored; a value inside
/// it may be, and is looked up. Nothing is ever taken out, so it stays a superset through
/// deletions and rollbacks. It holds only while no other connection writes entries,
/// which is true in the daemon: the ingest thread's connection is the only writer, and a
/// bulk writer lives for one bulk.
pub(super) enum Known {
    /// Anything may be stored: every lookup is made.
    Anything,
    /// 64-bit fingerprints of the values, in Bloom filters: a value the filter wrongly
    /// takes for one it holds costs a lookup that finds nothing, never a lookup skipped.
    /// (foldhash, not SipHash, for the fingerprints: the writer thread hashes every
    /// value of a bulk.)
    Only {
        state: Fingerprints,
        keys: Bloom,
        hashes: Bloom,
        published: Bloom,
        /// Files (by path) with rows in `media_refs`.
        refs: Bloom,
    },
}

impl Known {
    /// What the store holds, read in the writer's transaction, for a bulk of `files`;
    /// [`Known::Anything`] when the store is too big for that to pay.
    pub(super) fn load(conn: &Connection, files: usize) -> rusqlite::Result<Self> {
        let stored: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM entries", [], |r| {
            r.get(0)
        })?;
        let files = i64::try_from(files).unwrap_or(i64::MAX);
        if stored > files.saturating_mul(STORED_PER_FILE) {
            return Ok(Self::Anything);
        }
        let state = Fingerprints::default();
        // What is stored, and what the bulk may add.
        let values = usize::try_from(stored.saturating_add(files)).unwrap_or(usize::MAX);
        let mut keys = Bloom::for_values(values);
        let mut stmt = conn.prepare("SELECT key FROM entries")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            keys.insert(state.hash_one(row.get_ref(0)?.as_str()?));
        }
        let mut hashes = Bloom::for_values(values);
        let mut stmt = conn.prepare("SELECT content_hash FROM entries WHERE deleted IS NULL")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            hashes.insert(state.hash_one(row.get_ref(0)?.as_blob()?));
        }
        let mut published = Bloom::for_values(values);
        let mut stmt = conn.prepare("SELECT published FROM entries")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            published.insert(state.hash_one(row.get::<_, i64>(0)?));
        }
        let mut refs = Bloom::for_values(values);
        let mut stmt = conn.prepare("SELECT file FROM media_refs")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            refs.insert(state.hash_one(row.get_ref(0)?.as_str()?));
        }
        Ok(Self::Only {
            state,
            keys,
            hashes,
            published,
            refs,
        })
    }

    /// Whether an entry, or a file that publishes, may have `key`.
    pub(super) fn may_have_key(&self, key: &str) -> bool {
        match self {
            Self::Anything => true,
            Self::Only { state, keys, .. } => keys.contains(state.hash_one(key)),
        }
    }

    /// Whether a live entry may have the content hash `hash`.
    pub(super) fn may_have_hash(&self, hash: &[u8]) -> bool {
        match self {
            Self::Anything => true,
            Self::Only { state, hashes, .. } => hashes.contains(state.hash_one(hash)),
        }
    }

    /// Whether an entry may have been published at `published` (unix ms).
    pub(super) fn may_have_published(&self, published: i64) -> bool {
        match self {
            Self::Anything => true,
            Self::Only {
                state,
                published: set,
                ..
            } => set.contains(state.hash_one(published)),
        }
    }

    /// Whether the file at `path` may have rows in `media_refs`.
    pub(super) fn may_have_refs(&self, path: &str) -> bool {
        match self {
            Self::Anything => true,
            Self::Only { state, refs, .. } => refs.contains(state.hash_one(path)),
        }
    }

    /// Records a file that has media references now.
    pub(super) fn add_refs(&mut self, path: &str) {
        if let Self::Only { state, refs, .. } = self {
            refs.insert(state.hash_one(path));
        }
    }

    /// Records a new entry.
    pub(super) fn add_entry(&mut self, key: &str, hash: &[u8], published: i64) {
        if let Self::Only {
            state,
            keys,
            hashes,
            published: set,
            ..
        } = self
        {
            keys.insert(state.hash_one(key));
            hashes.insert(state.hash_one(hash));
            set.insert(state.hash_one(published));
        }
    }

    /// Records a new content hash of a live entry (changed, or back in the feeds).
    pub(super) fn add_hash(&mut self, hash: &[u8]) {
        if let Self::Only { state, hashes, .. } = self {
            hashes.insert(state.hash_one(hash));
        }
    }
}

/// How values are fingerprinted: with a random seed of its own, so that names chosen to
/// share fingerprints cannot be prepared in advance.
type Fingerprints = foldhash::quality::RandomState;

/// Bits of a filter per value it is sized for: with [`PROBES`] probes, about one value
/// in a hundred that was never added is taken for one that was.
const BITS_PER_VALUE: usize = 10;
const PROBES: u64 = 7;

/// A Bloom filter of 64-bit fingerprints. Filled past the values it was sized for, it
/// takes more values for added ones, which costs lookups, never correctness.
pub(super) struct Bloom {
    words: Vec<u64>,
    /// The number of bits less one (a power of two less one).
    mask: u64,
}

impl Bloom {
    fn for_values(values: usize) -> Self {
        let bits = values
            .max(1024)
            .saturating_mul(BITS_PER_VALUE)
            .next_power_of_two();
        Self {
            words: vec![0; bits / 64],
            mask: bits as u64 - 1,
        }
    }

    fn insert(&mut self, fingerprint: u64) {
        for bit in self.bits(fingerprint) {
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    fn contains(&self, fingerprint: u64) -> bool {
        self.bits(fingerprint)
            .all(|bit| self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    /// The bits of a fingerprint, by double hashing (Kirsch and Mitzenmacher): its two
    /// halves give every probe.
    fn bits(&self, fingerprint: u64) -> impl Iterator<Item = u64> + use<> {
        let (mask, step) = (self.mask, fingerprint.rotate_left(32) | 1);
        (0..PROBES).map(move |i| fingerprint.wrapping_add(i.wrapping_mul(step)) & mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bloom_filter_holds_what_was_added_and_little_else() {
        let state = Fingerprints::default();
        let mut bloom = Bloom::for_values(10_000);
        for i in 0..10_000u64 {
            bloom.insert(state.hash_one(i));
        }
        assert!((0..10_000u64).all(|i| bloom.contains(state.hash_one(i))));
        let wrong = (10_000..110_000u64)
            .filter(|i| bloom.contains(state.hash_one(i)))
            .count();
        // Sized for 10,000 values at 10 bits each (rounded up to 2^17 bits): well
        // under 1% of the others.
        assert!(wrong < 1_000, "{wrong} of 100,000");
    }
}
