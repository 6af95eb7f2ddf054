//! Writes: a batch of settled file changes applied in one transaction, with the rules
//! that make history stable (ids and published dates never change, `updated` moves only
//! with the content, duplicates are published once).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::known::Known;
use super::{ApplyOutcome, FileChange, Store, StoreError, checkpoint};
use crate::model::{EntryDraft, EntryKey, FileStamp, RejectReason};

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
    /// what the store holds shows cannot find anything (see [`Known`]). While it is open,
    /// the WAL is not cut back when it starts over (see
    /// [`checkpoint::BULK_WAL_SIZE_LIMIT`]); after, it is at its next start.
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
            conn: &self.conn,
            open: false,
            known: Known::Anything,
            wal_limit_raised: false,
            bulk,
        }
    }
}

/// See [`Store::writer`]. Dropped with its transaction open, it rolls it back.
pub struct Writer<'s> {
    conn: &'s Connection,
    open: bool,
    known: Known,
    /// For a bulk writer, the size of the bulk until `known` is loaded.
    bulk: Option<usize>,
    /// Whether this writer raised the WAL's size limit, to set back when it is dropped.
    wal_limit_raised: bool,
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
        let tx = self.conn;
        let known = &mut self.known;
        let now = now.timestamp_millis();
        let mut outcome = ApplyOutcome::default();
        for change in changes {
            match change {
                FileChange::Article { path, stamp, draft } => {
                    apply_article(tx, known, path, *stamp, draft, now, &mut outcome)?
                }
                FileChange::Rejected {
                    path,
                    key,
                    stamp,
                    reason,
                } => {
                    // A published entry whose file turns bad keeps its last good version:
                    // bad input never takes anything away from readers.
                    outcome.rejected += 1;
                    upsert_file(
                        tx,
                        path,
                        key,
                        *stamp,
                        None,
                        FileStatus::Rejected(reason),
                        now,
                    )?
                }
                FileChange::Removed { path } => apply_removal(tx, path, now, &mut outcome)?,
            }
        }
        Ok(outcome)
    }

    /// Commits what was applied since the last commit (nothing to do if nothing was).
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.open {
            self.conn.execute_batch("COMMIT")?;
            self.open = false;
        }
        Ok(())
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // A failed COMMIT (SQLITE_BUSY) leaves the transaction open too.
        if self.open && !self.conn.is_autocommit() {
            if let Err(error) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(%error, "cannot roll back an unfinished write");
            }
        }
        if self.wal_limit_raised {
            let limit = checkpoint::WAL_SIZE_LIMIT;
            if let Err(error) = self.conn.pragma_update(None, "journal_size_limit", limit) {
                tracing::warn!(%error, "cannot set the WAL's size limit back after a bulk");
            }
        }
    }
}

enum FileStatus<'a> {
    Published,
    Duplicate(&'a EntryKey),
    Rejected(&'a RejectReason),
}

fn apply_article(
    tx: &Connection,
    known: &mut Known,
    path: &str,
    stamp: FileStamp,
    draft: &EntryDraft,
    now: i64,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let key = &draft.key;
    let hash = draft.content_hash.0.as_slice();

    let key_known = known.may_have_key(key.as_str());

    // Another file already publishes this key (a.txt and a.TXT): first come, first served.
    let owner: Option<String> = if key_known {
        tx.prepare_cached(
            "SELECT path FROM files WHERE key = ?1 AND path != ?2 AND status = 'published' LIMIT 1",
        )?
        .query_row(params![key.as_str(), path], |r| r.get(0))
        .optional()?
    } else {
        None
    };
    if let Some(other) = owner {
        let reason = RejectReason::KeyConflict {
            key: key.to_string(),
            other,
        };
        outcome.rejected += 1;
        return Ok(upsert_file(
            tx,
            path,
            key,
            stamp,
            Some(hash),
            FileStatus::Rejected(&reason),
            now,
        )?);
    }

    // Identical content is already published under another key.
    let original: Option<String> = if known.may_have_hash(hash) {
        tx.prepare_cached(
            "SELECT key FROM entries WHERE content_hash = ?1 AND deleted IS NULL AND key != ?2 \
             ORDER BY published, key LIMIT 1",
        )?
        .query_row(params![hash, key.as_str()], |r| r.get(0))
        .optional()?
    } else {
        None
    };
    if let Some(original) = original {
        let original = EntryKey::new(original);
        upsert_file(
            tx,
            path,
            key,
            stamp,
            Some(hash),
            FileStatus::Duplicate(&original),
            now,
        )?;
        // If this file used to publish its own entry, that entry now repeats another.
        retire_if_orphaned(tx, key, now, outcome)?;
        outcome.duplicates.push((path.to_owned(), original));
        return Ok(());
    }

    let existing: Option<(bool, Option<i64>, i64, Option<String>)> = if key_known {
        tx.prepare_cached(
            "SELECT content_hash = ?2, deleted, updated, category_slug FROM entries WHERE key = ?1",
        )?
        .query_row(params![key.as_str(), hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
    } else {
        None
    };
    let related = serde_json::to_string(&draft.related).unwrap_or_else(|_| "[]".into());
    let slug = draft.category.as_ref().map(|c| c.slug.as_str());
    match existing {
        None => {
            let published = distinct_published(tx, known, stamp.mtime_ms().min(now))?;
            // seq, the rowid, is given the next number: the order of first publication,
            // which archive pages follow (rows are never deleted, so numbers never return).
            tx.prepare_cached(
                "INSERT INTO entries (key, id, title, section, category_slug, caption, summary, \
                 content_html, related, content_hash, published, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            )?
            .execute(params![
                key.as_str(),
                draft.id.to_string(),
                draft.title,
                draft.section,
                slug,
                draft.caption,
                draft.summary,
                draft.content_html,
                related,
                hash,
                published,
            ])?;
            known.add_entry(key.as_str(), hash, published);
            outcome.published.push(key.clone());
            outcome.categories.extend(slug.map(str::to_owned));
        }
        Some((same_hash, deleted, updated, old_slug)) => {
            // The id and the published date are never touched: they belong to the key.
            let content_changed = !same_hash;
            let new_updated = if content_changed {
                next_updated(updated, stamp.mtime_ms(), now)
            } else {
                updated
            };
            tx.prepare_cached(
                "UPDATE entries SET title = ?2, section = ?3, category_slug = ?4, caption = ?5, \
                 summary = ?6, content_html = ?7, related = ?8, content_hash = ?9, updated = ?10, \
                 deleted = NULL WHERE key = ?1",
            )?
            .execute(params![
                key.as_str(),
                draft.title,
                draft.section,
                slug,
                draft.caption,
                draft.summary,
                draft.content_html,
                related,
                hash,
                new_updated,
            ])?;
            known.add_hash(hash);
            if deleted.is_some() {
                outcome.published.push(key.clone());
            } else if content_changed {
                outcome.updated.push(key.clone());
            }
            if deleted.is_some() || content_changed {
                outcome.categories.extend(old_slug);
                outcome.categories.extend(slug.map(str::to_owned));
            }
            if content_changed {
                requeue_waiting(tx, key, outcome)?;
            }
        }
    }
    upsert_file(tx, path, key, stamp, Some(hash), FileStatus::Published, now)?;
    Ok(())
}

/// A published time no other entry has: the given one, or the first free millisecond
/// after the latest taken within the next minute. Files copied in one go (`cp`, `git
/// clone`) share an mtime to the millisecond; distinct dates keep the order of entries
/// stable in every reader, and validators warn about entries with equal dates.
fn distinct_published(tx: &Connection, known: &Known, wanted: i64) -> rusqlite::Result<i64> {
    if !known.may_have_published(wanted) {
        return Ok(wanted);
    }
    let taken: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM entries WHERE published = ?1 LIMIT 1")?
        .query_row([wanted], |r| r.get(0))
        .optional()?;
    if taken.is_none() {
        return Ok(wanted);
    }
    // ORDER BY ... LIMIT 1 rather than max(): SQLite reads one index row for it, but
    // every row of the range for max() with a WHERE (a minute of a bulk copy's files).
    tx.prepare_cached(
        "SELECT published + 1 FROM entries WHERE published >= ?1 AND published < ?1 + 60000 \
         ORDER BY published DESC LIMIT 1",
    )?
    .query_row([wanted], |r| r.get::<_, i64>(0))
    .optional()
    .map(|free| free.unwrap_or(wanted))
}

/// `updated` for a content change: the file's mtime when that is news, else now; always
/// later than before, so readers see the change.
fn next_updated(previous: i64, mtime: i64, now: i64) -> i64 {
    let candidate = mtime.min(now);
    if candidate > previous {
        candidate
    } else {
        now.max(previous + 1)
    }
}

/// Retires the entry of `key` when no file publishes it any more.
fn retire_if_orphaned(
    tx: &Connection,
    key: &EntryKey,
    now: i64,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let published: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM files WHERE key = ?1 AND status = 'published' LIMIT 1")?
        .query_row([key.as_str()], |r| r.get(0))
        .optional()?;
    if published.is_none() {
        retire_entry(tx, key, now, outcome)?;
    }
    Ok(())
}

fn apply_removal(
    tx: &Connection,
    path: &str,
    now: i64,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let key: Option<String> = tx
        .prepare_cached("DELETE FROM files WHERE path = ?1 RETURNING key")?
        .query_row([path], |r| r.get(0))
        .optional()?;
    match key {
        Some(key) => retire_if_orphaned(tx, &EntryKey::new(key), now, outcome),
        None => Ok(()),
    }
}

/// Takes a live entry out of the feeds (keeping its row, so a returning file keeps its id
/// and published date) and requeues the files that were waiting on it.
fn retire_entry(
    tx: &Connection,
    key: &EntryKey,
    now: i64,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let retired: Option<Option<String>> = tx
        .prepare_cached(
            "UPDATE entries SET deleted = ?2 WHERE key = ?1 AND deleted IS NULL \
             RETURNING category_slug",
        )?
        .query_row(params![key.as_str(), now], |r| r.get(0))
        .optional()?;
    if let Some(slug) = retired {
        outcome.removed.push(key.clone());
        outcome.categories.extend(slug);
    }
    requeue_waiting(tx, key, outcome)
}

/// Files set aside because of `key` (duplicates of its old content, files whose key it
/// holds) are read again: they may now be published.
fn requeue_waiting(
    tx: &Connection,
    key: &EntryKey,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let mut waiting = Vec::new();
    for sql in [
        "SELECT path FROM files WHERE status != 'published' AND status = 'duplicate' \
         AND detail = ?1",
        "SELECT path FROM files WHERE key = ?1 AND status = 'rejected' \
         AND reject_code = 'key_conflict'",
    ] {
        let mut stmt = tx.prepare_cached(sql)?;
        for path in stmt.query_map([key.as_str()], |r| r.get::<_, String>(0))? {
            waiting.push(path?);
        }
    }
    waiting.sort();
    outcome.requeue.extend(waiting);
    Ok(())
}

fn upsert_file(
    tx: &Connection,
    path: &str,
    key: &EntryKey,
    stamp: FileStamp,
    hash: Option<&[u8]>,
    status: FileStatus<'_>,
    now: i64,
) -> rusqlite::Result<()> {
    let (status, code, detail) = match status {
        FileStatus::Published => ("published", None, None),
        FileStatus::Duplicate(original) => ("duplicate", None, Some(original.to_string())),
        FileStatus::Rejected(reason) => ("rejected", Some(reason.code()), Some(reason.to_string())),
    };
    // `since` is kept while the file stays in the same state, so /status can say since when.
    tx.prepare_cached(
        "INSERT INTO files (path, key, size, mtime_ns, content_hash, status, reject_code, detail, since) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (path) DO UPDATE SET key = excluded.key, size = excluded.size, \
         mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash, \
         since = CASE WHEN status = excluded.status AND detail IS excluded.detail \
                 THEN since ELSE excluded.since END, \
         status = excluded.status, reject_code = excluded.reject_code, detail = excluded.detail",
    )?
    .execute(params![
        path,
        key.as_str(),
        stamp.size as i64,
        stamp.mtime_ns,
        hash,
        status,
        code,
        detail,
        now
    ])?;
    Ok(())
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
