//! Writes: batches of settled file changes applied in a transaction that a [`Writer`]
//! keeps open until it commits. What each change does is in `change` (the SQL) and
//! `decide` (the rules).

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::change::{Batch, TakenRun};
use super::known::Known;
use super::slugs::Slugs;
use super::{ApplyOutcome, FileChange, Store, StoreError, checkpoint};

impl Store {
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
}

impl Writer<'_> {
    /// Applies `changes` in the open transaction, beginning one if none is.
    pub fn apply(
        &mut self,
        changes: &[FileChange],
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome, StoreError> {
        if !self.open {
            // IMMEDIATE: the write lock is taken (waiting under busy_timeout) before the
            // first read. A deferred transaction that read first fails with SQLITE_BUSY
            // as soon as another connection (WebSub's) has written since, whatever the
            // timeout.
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.open = true;
            if let Some(files) = self.bulk.take() {
                self.known = Known::load(self.conn, files)?;
            }
        }
        let mut batch = Batch {
            tx: self.conn,
            known: &mut self.known,
            now: now.timestamp_millis(),
            outcome: ApplyOutcome::default(),
            run: &mut self.run,
            slugs: &mut self.slugs,
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
