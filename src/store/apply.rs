//! Writes: batches of settled file changes applied in a transaction that a [`Writer`]
//! keeps open until it commits. What each change does is in `change` (the SQL) and
//! `decide` (the rules); the `files` rows it decides wait in `file_rows`, and are
//! written in the order of their paths before the table is read and at commit. A big
//! bulk runs without the index of content hashes, and the store builds it again after
//! ([`Store::build_hash_index`]).

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::change::{Batch, TakenRun};
use super::file_rows::PendingFiles;
use super::known::Known;
use super::slugs::Slugs;
use super::{ApplyOutcome, FileChange, Store, StoreError, checkpoint, schema};

/// Files in a bulk from which its writer drops the index of live content hashes, which
/// it does not need (its `Known` holds every live hash with its entry), and the store
/// builds it again once the bulk is done ([`Store::build_hash_index`]). A content hash
/// lands anywhere in its index: once the index outgrew what the page cache kept of it,
/// most inserts read a 64 KiB page back from the OS and wrote one out. Building it
/// again reads the whole table once, which costs about what it saves at this size and
/// far less than it saves past it (docs/performance.md has the figures).
const DROP_HASH_INDEX_AT: usize = 100_000;

/// The page cache, in KiB, while the index is built again: SQLite's sort holds as much
/// as the page cache in memory before it spills to its file, and the build reads the
/// table once from end to end, which a big cache does not help.
const SORT_CACHE_KIB: i64 = 4 * 1024;

impl Store {
    /// Builds the index of live content hashes again if a bulk dropped it; a no-op
    /// otherwise. The next writer that may look a hash up in it does it first anyway;
    /// the ingest does it as soon as the bulk is published. The sort spills to a
    /// temporary file (in SQLite's temporary folder), where `temp_store = MEMORY` would
    /// hold every entry's hash in memory at once.
    pub fn build_hash_index(&self) -> Result<(), StoreError> {
        if !self.hash_index_dropped.get() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let source = |source| StoreError::HashIndex { source };
        let set = |temp_store: &str, cache_kib: i64| {
            self.conn.pragma_update(None, "temp_store", temp_store)?;
            self.conn.pragma_update(None, "cache_size", -cache_kib)
        };
        set("FILE", SORT_CACHE_KIB).map_err(source)?;
        let built = self.conn.execute_batch(schema::CREATE_HASH_INDEX);
        set("MEMORY", super::CACHE_KIB).map_err(source)?;
        built.map_err(source)?;
        self.hash_index_dropped.set(false);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::info!(elapsed_ms, "index of content hashes built again");
        Ok(())
    }

    /// Applies a batch of settled file changes in one transaction.
    pub fn apply(
        &mut self,
        changes: &[FileChange],
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome, StoreError> {
        let mut writer = self.writer();
        let outcome = writer.apply(changes, now)?;
        writer.commit()?;
        Ok(outcome)
    }

    /// A writer whose transaction stays open across [`Writer::apply`] calls until
    /// [`Writer::commit`]: a bulk ingest hands its changes over a few dozen at a time,
    /// and commits every few thousand. Every commit rewrites each index page it touched
    /// (a content hash lands anywhere in its index), so fewer, bigger commits write
    /// several times fewer bytes.
    pub fn writer(&mut self) -> Writer<'_> {
        self.writer_for(None)
    }

    /// A [`Store::writer`] for a bulk of `files` files, which skips the lookups that
    /// what the store holds shows cannot find anything (see `Known`). While it is open,
    /// the WAL is not cut back when it starts over (see
    /// `checkpoint::BULK_WAL_SIZE_LIMIT`); after, it is at its next start.
    pub fn bulk_writer(&mut self, files: usize) -> Result<Writer<'_>, StoreError> {
        let mut writer = self.writer_for(Some(files));
        let limit = checkpoint::BULK_WAL_SIZE_LIMIT;
        writer
            .conn
            .pragma_update(None, "journal_size_limit", limit)?;
        writer.wal_limit_raised = true;
        Ok(writer)
    }

    fn writer_for(&mut self, bulk: Option<usize>) -> Writer<'_> {
        Writer {
            store: self,
            conn: &self.conn,
            open: false,
            known: Known::Anything,
            wal_limit_raised: false,
            bulk,
            run: TakenRun::default(),
            slugs: Slugs::default(),
            pending: PendingFiles::default(),
        }
    }
}

/// See [`Store::writer`]. Dropped with its transaction open, it rolls it back.
pub struct Writer<'s> {
    store: &'s Store,
    conn: &'s Connection,
    open: bool,
    known: Known,
    /// For a bulk writer, the size of the bulk until `known` is loaded.
    bulk: Option<usize>,
    /// Whether this writer raised the WAL's size limit, to set back when it is dropped.
    wal_limit_raised: bool,
    /// Published times known to be taken, kept from one batch to the next.
    run: TakenRun,
    /// The sections' slugs looked up or assigned in its transaction.
    slugs: Slugs,
    /// The `files` rows of its transaction not yet written.
    pending: PendingFiles,
}

impl Writer<'_> {
    /// Applies `changes` in the open transaction, beginning one if none is.
    pub fn apply(
        &mut self,
        changes: &[FileChange],
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome, StoreError> {
        if !self.open {
            // Only a bulk writer that knows every live hash (see `Known`, loaded below
            // at its first transaction) looks none up in the index: for any other, it
            // is built first if a bulk dropped it.
            if !self.known.knows_every_hash() {
                self.store.build_hash_index()?;
            }
            // IMMEDIATE: the write lock is taken (waiting under busy_timeout) before the
            // first read. A deferred transaction that read first fails with SQLITE_BUSY
            // as soon as another connection (WebSub's) has written since, whatever the
            // timeout.
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.open = true;
            if let Some(files) = self.bulk.take() {
                self.known = Known::load(self.conn, files)?;
                if files >= DROP_HASH_INDEX_AT && self.known.knows_every_hash() {
                    self.conn.execute_batch(schema::DROP_HASH_INDEX)?;
                    self.store.hash_index_dropped.set(true);
                }
            }
        }
        let mut batch = Batch {
            tx: self.conn,
            known: &mut self.known,
            now: now.timestamp_millis(),
            outcome: ApplyOutcome::default(),
            run: &mut self.run,
            slugs: &mut self.slugs,
            pending: &mut self.pending,
        };
        for change in changes {
            // The media files a read referenced replace those of the file's last read,
            // whatever the rules decide (a duplicate may read differently once one of
            // them changes); a file that is not an article now, or is gone, has none.
            match change {
                FileChange::Article {
                    path,
                    stamp,
                    draft,
                    warnings,
                    media,
                } => {
                    batch.media_refs(path, media)?;
                    batch.article(path, *stamp, draft, warnings)?;
                }
                FileChange::Held {
                    path,
                    key,
                    stamp,
                    hold,
                } => {
                    batch.media_refs(path, &[])?;
                    batch.held(path, key, *stamp, *hold)?;
                }
                FileChange::Rejected {
                    path,
                    key,
                    stamp,
                    reason,
                } => {
                    batch.media_refs(path, &[])?;
                    batch.rejected(path, key, *stamp, reason)?;
                }
                FileChange::Removed { path } => {
                    batch.media_refs(path, &[])?;
                    batch.removal(path)?;
                }
            }
        }
        Ok(batch.outcome)
    }

    /// Commits what was applied since the last commit (nothing to do if nothing was).
    /// Returns the store as committed, to read between commits (a bulk publishes what
    /// it has stored so far).
    pub fn commit(&mut self) -> Result<&Store, StoreError> {
        if self.open {
            self.pending.write(self.conn)?;
            self.conn.execute_batch("COMMIT")?;
            self.open = false;
        }
        Ok(self.store)
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // A failed COMMIT (SQLITE_BUSY) leaves the transaction open too.
        if self.open
            && !self.conn.is_autocommit()
            && let Err(error) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(%error, "cannot roll back an unfinished write");
        }
        if self.wal_limit_raised {
            let limit = checkpoint::WAL_SIZE_LIMIT;
            if let Err(error) = self.conn.pragma_update(None, "journal_size_limit", limit) {
                tracing::warn!(%error, "cannot set the WAL's size limit back after a bulk");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAL is not cut back while a bulk writer is open, and is again once it is gone.
    #[test]
    fn a_bulk_writer_lets_the_wal_keep_its_size_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let limit = |conn: &Connection| -> i64 {
            conn.query_row("PRAGMA journal_size_limit", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(limit(&store.conn), checkpoint::WAL_SIZE_LIMIT);
        {
            let writer = store.bulk_writer(10).unwrap();
            assert_eq!(limit(writer.conn), checkpoint::BULK_WAL_SIZE_LIMIT);
        }
        assert_eq!(limit(&store.conn), checkpoint::WAL_SIZE_LIMIT);
        let writer = store.writer();
        assert_eq!(limit(writer.conn), checkpoint::WAL_SIZE_LIMIT);
    }
}
