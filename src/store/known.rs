//! What a bulk writer knows the store may hold, so that it skips the lookups that cannot
//! find anything. Before inserting an article the writer looks up its key (among files
//! and entries), its content hash and its published time, and deletes the media
//! references of the file's last read; in a cold ingest none is ever found, and the
//! lookups were a good part of the writer thread's time.
//!
//! Keys, published times and media references are kept in Bloom filters, not sets: 10
//! bits per value rounded up to a power of two (2 MiB each for a bulk of a million
//! articles), where sets of 64-bit fingerprints take about 18 bytes per value by their
//! layout. The live content hashes are kept exactly, with their entries' numbers
//! ([`LiveHashes`], about 10 bytes a value), so that a big bulk looks up no content hash
//! in the store and can run without the index of them (`Writer::apply`).

use std::hash::BuildHasher;
use std::num::NonZeroU32;

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
/// it may be, and is looked up (a content hash, only in the entries it names). Nothing
/// is ever taken out, so it stays a superset through deletions and rollbacks. It holds
/// only while no other connection writes entries, which is true in the daemon: the
/// ingest thread's connection is the only writer, and a bulk writer lives for one bulk.
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
        hashes: LiveHashes,
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
        // Every number the bulk's new entries may take fits the hash table's 32 bits.
        if stored.saturating_add(files) > i64::from(u32::MAX) {
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
        let mut hashes = LiveHashes::for_values(values);
        let mut stmt =
            conn.prepare("SELECT seq, content_hash FROM entries WHERE deleted IS NULL")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let Some(seq) = table_seq(row.get(0)?) else {
                return Ok(Self::Anything);
            };
            hashes.insert(state.hash_one(row.get_ref(1)?.as_blob()?), seq);
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

    /// Whether every live content hash is known with its entry's number: then
    /// [`Known::live_with_hash`] never sends a lookup to the store's index of them.
    pub(super) fn knows_every_hash(&self) -> bool {
        matches!(self, Self::Only { .. })
    }

    /// The numbers (`seq`) of the entries that may be live with the content hash `hash`
    /// (a superset: an entry's hash may have changed, or it may be gone); `None` when
    /// any entry may be, and the store's index is to be asked.
    pub(super) fn live_with_hash(&self, hash: &[u8]) -> Option<impl Iterator<Item = i64>> {
        match self {
            Self::Anything => None,
            Self::Only { state, hashes, .. } => Some(hashes.seqs(state.hash_one(hash))),
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

    /// Records a new entry, numbered `seq`.
    pub(super) fn add_entry(&mut self, key: &str, hash: &[u8], seq: i64, published: i64) {
        if let Self::Only {
            state,
            keys,
            published: set,
            ..
        } = self
        {
            keys.insert(state.hash_one(key));
            set.insert(state.hash_one(published));
        }
        self.add_hash(hash, seq);
    }

    /// Records the content hash of a live entry (new, changed, or back in the feeds).
    pub(super) fn add_hash(&mut self, hash: &[u8], seq: i64) {
        if let Self::Only { state, hashes, .. } = self {
            match table_seq(seq) {
                Some(seq) => hashes.insert(state.hash_one(hash), seq),
                // Past what `load` allowed for (it cannot be): every lookup is made.
                None => *self = Self::Anything,
            }
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

/// An entry's number as [`LiveHashes`] holds it; `None` outside its 32 bits (or 0, which
/// SQLite never gives a row of ours).
fn table_seq(seq: i64) -> Option<NonZeroU32> {
    u32::try_from(seq).ok().and_then(NonZeroU32::new)
}

/// The share of a [`LiveHashes`] table's slots that may be full (4/5) before it doubles:
/// linear probing stays short below it.
const LOAD_NUMERATOR: usize = 4;
const LOAD_DENOMINATOR: usize = 5;

/// The live entries' content hashes, each with its entry's number (`seq`), where a Bloom
/// filter would send one absent hash in a hundred to the store's index: a bulk that asks
/// only this can run with the index dropped. Open addressing with linear probing; a slot
/// is 32 bits of the hash's fingerprint (its tag, which also places it) and the number,
/// 0 when empty (numbers start at 1). Values are never taken out: a number whose entry
/// has another hash now, or is gone, is asked of the store and found wanting. Two
/// hashes share a tag by a chance of one in 2^32, and a lookup compares only the few
/// slots its probe passes, so a read by number for another hash is rare.
pub(super) struct LiveHashes {
    slots: Vec<u64>,
    len: usize,
}

impl LiveHashes {
    fn for_values(values: usize) -> Self {
        let slots = values.max(1024) / LOAD_NUMERATOR * LOAD_DENOMINATOR;
        Self {
            slots: vec![0; slots],
            len: 0,
        }
    }

    /// The tag of a fingerprint: its high half (foldhash mixes it best).
    fn tag(fingerprint: u64) -> u64 {
        fingerprint >> 32
    }

    /// The slot a tag's probe starts at: the tag scaled to the table (Lemire's reduction,
    /// no division and any table size).
    fn home(&self, tag: u64) -> usize {
        ((tag * self.slots.len() as u64) >> 32) as usize
    }

    fn insert(&mut self, fingerprint: u64, seq: NonZeroU32) {
        if (self.len + 1) * LOAD_DENOMINATOR > self.slots.len() * LOAD_NUMERATOR {
            self.grow();
        }
        let tag = Self::tag(fingerprint);
        let value = tag << 32 | u64::from(seq.get());
        let mut at = self.home(tag);
        loop {
            match self.slots[at] {
                0 => {
                    self.slots[at] = value;
                    self.len += 1;
                    return;
                }
                held if held == value => return,
                _ => at = (at + 1) % self.slots.len(),
            }
        }
    }

    /// The numbers recorded with a tag equal to the fingerprint's.
    fn seqs(&self, fingerprint: u64) -> impl Iterator<Item = i64> + use<'_> {
        let tag = Self::tag(fingerprint);
        let home = self.home(tag);
        (0..self.slots.len())
            .map(move |step| self.slots[(home + step) % self.slots.len()])
            .take_while(|&slot| slot != 0)
            .filter(move |&slot| slot >> 32 == tag)
            .map(|slot| i64::from(slot as u32))
    }

    /// Twice the slots, every value placed again.
    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.len = 0;
        for value in old {
            if let Some(seq) = NonZeroU32::new(value as u32) {
                self.insert(value & !0xffff_ffff, seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every number added comes back for its hash, through the table's doubling; a
    /// number added twice is kept once; a hash never added finds next to nothing.
    #[test]
    fn live_hashes_give_back_every_number_added_and_little_else() {
        let state = Fingerprints::default();
        let seq = |n: u32| NonZeroU32::new(n).unwrap();
        let mut table = LiveHashes::for_values(1000);
        for n in 1..=50_000u32 {
            table.insert(state.hash_one(n), seq(n));
        }
        // One hash for two entries, and one added again.
        table.insert(state.hash_one(1u32), seq(60_000));
        table.insert(state.hash_one(7u32), seq(7));
        assert_eq!(table.len, 50_001);
        assert!(table.slots.len() >= 50_001 * LOAD_DENOMINATOR / LOAD_NUMERATOR);
        for n in 2..=50_000u32 {
            let found: Vec<i64> = table.seqs(state.hash_one(n)).collect();
            assert!(found.contains(&i64::from(n)), "{n}: {found:?}");
        }
        let mut both: Vec<i64> = table.seqs(state.hash_one(1u32)).collect();
        both.sort();
        assert_eq!(both, [1, 60_000]);
        // Fewer than 100,000 * 50,000 / 2^32 = 1.2 equal tags are expected: a lookup
        // compares only the slots its probe passes.
        let wrong: usize = (50_001..150_001u32)
            .map(|n| table.seqs(state.hash_one(n)).count())
            .sum();
        assert!(wrong < 10, "{wrong} of 100,000");
    }

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
