//! What a bulk writer knows the store may hold, so that it skips the lookups that cannot
//! find anything. Before inserting an article the writer looks up its key (among files
//! and entries), its content hash and its published time, and deletes the media
//! references of the file's last read; in a cold ingest none is ever found, and the
//! lookups were a good part of the writer thread's time.

use std::hash::BuildHasher;

use foldhash::{HashSet, HashSetExt};

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
    /// 64-bit fingerprints of the values: two values sharing one cost a lookup that
    /// finds nothing, never a lookup skipped. (foldhash, not SipHash, for the fingerprints
    /// and the sets: the writer thread hashes every value of a bulk.)
    Only {
        state: Fingerprints,
        keys: HashSet<u64>,
        hashes: HashSet<u64>,
        published: HashSet<i64>,
        /// Files (by path) with rows in `media_refs`.
        refs: HashSet<u64>,
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
        let mut keys = HashSet::new();
        let mut stmt = conn.prepare("SELECT key FROM entries")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            keys.insert(state.hash_one(row.get_ref(0)?.as_str()?));
        }
        let mut hashes = HashSet::new();
        let mut stmt = conn.prepare("SELECT content_hash FROM entries WHERE deleted IS NULL")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            hashes.insert(state.hash_one(row.get_ref(0)?.as_blob()?));
        }
        let published = conn
            .prepare("SELECT published FROM entries")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut refs = HashSet::new();
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
            Self::Only { state, keys, .. } => keys.contains(&state.hash_one(key)),
        }
    }

    /// Whether a live entry may have the content hash `hash`.
    pub(super) fn may_have_hash(&self, hash: &[u8]) -> bool {
        match self {
            Self::Anything => true,
            Self::Only { state, hashes, .. } => hashes.contains(&state.hash_one(hash)),
        }
    }

    /// Whether an entry may have been published at `published` (unix ms).
    pub(super) fn may_have_published(&self, published: i64) -> bool {
        match self {
            Self::Anything => true,
            Self::Only { published: set, .. } => set.contains(&published),
        }
    }

    /// Whether the file at `path` may have rows in `media_refs`.
    pub(super) fn may_have_refs(&self, path: &str) -> bool {
        match self {
            Self::Anything => true,
            Self::Only { state, refs, .. } => refs.contains(&state.hash_one(path)),
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
            set.insert(published);
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
