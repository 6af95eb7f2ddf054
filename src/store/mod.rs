//! The only module that knows SQL: entries and the files they came from, in SQLite (WAL).
//!
//! One [`Store`] owns one connection and lives on one thread (the ingest driver's), so
//! every write is a transaction on that thread and never on the async workers. Dates are
//! decided here because they depend on history: `published` is set once, from the file's
//! mtime when first seen; `updated` moves only when the content hash changes.

mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::model::{ContentHash, Entry, EntryDraft, EntryId, EntryKey, RejectReason};
use crate::normalize::category;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data folder {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "database schema version {found} is newer than this seedfeed knows ({known}); run a newer seedfeed"
    )]
    TooNew { found: usize, known: usize },
    #[error("stored entry {key} is damaged: {what}")]
    Corrupt { key: String, what: String },
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
}

impl FileStamp {
    /// The mtime in unix milliseconds: the resolution of every stored date. Whole
    /// seconds would give every file of one `cp` or `git clone` the same date.
    pub fn mtime_ms(&self) -> i64 {
        self.mtime_ns.div_euclid(1_000_000)
    }
}

/// One settled change of one file in the seeds folder. `path` is relative to the folder.
#[derive(Debug, Clone)]
pub enum FileChange {
    Article {
        path: String,
        stamp: FileStamp,
        draft: EntryDraft,
    },
    Rejected {
        path: String,
        key: EntryKey,
        stamp: FileStamp,
        reason: RejectReason,
    },
    Removed {
        path: String,
    },
}

/// What a batch did to the feeds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Entries new to the feeds, or back in them after their file returned.
    pub published: Vec<EntryKey>,
    /// Entries whose content changed.
    pub updated: Vec<EntryKey>,
    /// Entries that left the feeds (file deleted, or now a duplicate of another).
    pub removed: Vec<EntryKey>,
    /// Files not published because their content is already published: (path, original).
    pub duplicates: Vec<(String, EntryKey)>,
    /// Files set aside for an entry that is gone (duplicates of it, files whose key it
    /// held); they must be read again and may now be published.
    pub requeue: Vec<String>,
}

impl ApplyOutcome {
    pub fn feeds_changed(&self) -> bool {
        !self.published.is_empty() || !self.updated.is_empty() || !self.removed.is_empty()
    }

    /// Entries whose pages need rendering.
    pub fn changed(&self) -> impl Iterator<Item = &EntryKey> {
        self.published.iter().chain(&self.updated)
    }
}

/// How many of each thing the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub entries: u64,
    pub published_files: u64,
    pub duplicates: u64,
    pub rejects: u64,
}

pub struct Store {
    conn: Connection,
}

const ENTRY_COLUMNS: &str = "key, id, title, section, category_slug, caption, summary, \
     content_html, related, content_hash, published, updated";

impl Store {
    /// Opens (creating if needed) `{data}/seedfeed.db` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_owned(),
            source,
        })?;
        Self::open_file(&data_dir.join("seedfeed.db"))
    }

    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        // WAL: readers never block the writer. NORMAL is durable against a process crash
        // (kill -9) in WAL mode; only an OS crash can lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// Every file the store knows, with the stamp it had when last read.
    pub fn known_files(&self) -> Result<HashMap<String, FileStamp>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, size, mtime_ns FROM files")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                FileStamp {
                    size: row.get::<_, i64>(1)?.max(0) as u64,
                    mtime_ns: row.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies a batch of settled file changes in one transaction.
    pub fn apply(
        &mut self,
        changes: &[FileChange],
        now: DateTime<Utc>,
    ) -> Result<ApplyOutcome, StoreError> {
        let now = now.timestamp_millis();
        let tx = self.conn.transaction()?;
        let mut outcome = ApplyOutcome::default();
        for change in changes {
            match change {
                FileChange::Article { path, stamp, draft } => {
                    apply_article(&tx, path, *stamp, draft, now, &mut outcome)?
                }
                FileChange::Rejected {
                    path,
                    key,
                    stamp,
                    reason,
                } => {
                    // A published entry whose file turns bad keeps its last good version:
                    // bad input never takes anything away from readers.
                    upsert_file(
                        &tx,
                        path,
                        key,
                        *stamp,
                        None,
                        FileStatus::Rejected(reason),
                        now,
                    )?
                }
                FileChange::Removed { path } => apply_removal(&tx, path, now, &mut outcome)?,
            }
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// The newest `limit` live entries, newest first.
    pub fn latest_entries(&self, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE deleted IS NULL \
             ORDER BY published DESC, key DESC LIMIT ?1"
        );
        self.query_entries(&sql, params![limit as i64])
    }

    /// Every live entry, newest first.
    pub fn live_entries(&self) -> Result<Vec<Entry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE deleted IS NULL \
             ORDER BY published DESC, key DESC"
        );
        self.query_entries(&sql, [])
    }

    /// The live entries among `keys`.
    pub fn entries(&self, keys: &[EntryKey]) -> Result<Vec<Entry>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE key = ?1 AND deleted IS NULL");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(raw) = stmt
                .query_row([key.as_str()], RawEntry::from_row)
                .optional()?
            {
                out.push(raw.into_entry()?);
            }
        }
        Ok(out)
    }

    pub fn counts(&self) -> Result<Counts, StoreError> {
        let entries: i64 = self.conn.query_row(
            "SELECT count(*) FROM entries WHERE deleted IS NULL",
            [],
            |r| r.get(0),
        )?;
        let mut counts = Counts {
            entries: entries as u64,
            ..Counts::default()
        };
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM files GROUP BY status")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (status, n) = row?;
            let n = n as u64;
            match status.as_str() {
                "published" => counts.published_files = n,
                "duplicate" => counts.duplicates = n,
                _ => counts.rejects += n,
            }
        }
        Ok(counts)
    }

    fn query_entries(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let raws = stmt
            .query_map(params, RawEntry::from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(RawEntry::into_entry).collect()
    }
}

enum FileStatus<'a> {
    Published,
    Duplicate(&'a EntryKey),
    Rejected(&'a RejectReason),
}

fn apply_article(
    tx: &Transaction<'_>,
    path: &str,
    stamp: FileStamp,
    draft: &EntryDraft,
    now: i64,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let key = &draft.key;
    let hash = draft.content_hash.to_hex();

    // Another file already publishes this key (a.txt and a.TXT): first come, first served.
    let owner: Option<String> = tx
        .prepare_cached(
            "SELECT path FROM files WHERE key = ?1 AND path != ?2 AND status = 'published' LIMIT 1",
        )?
        .query_row(params![key.as_str(), path], |r| r.get(0))
        .optional()?;
    if let Some(other) = owner {
        let reason = RejectReason::KeyConflict {
            key: key.to_string(),
            other,
        };
        return Ok(upsert_file(
            tx,
            path,
            key,
            stamp,
            Some(&hash),
            FileStatus::Rejected(&reason),
            now,
        )?);
    }

    // Identical content is already published under another key.
    let original: Option<String> = tx
        .prepare_cached(
            "SELECT key FROM entries WHERE content_hash = ?1 AND deleted IS NULL AND key != ?2 \
             ORDER BY published, key LIMIT 1",
        )?
        .query_row(params![hash, key.as_str()], |r| r.get(0))
        .optional()?;
    if let Some(original) = original {
        let original = EntryKey::new(original);
        upsert_file(
            tx,
            path,
            key,
            stamp,
            Some(&hash),
            FileStatus::Duplicate(&original),
            now,
        )?;
        // If this file used to publish its own entry, that entry now repeats another.
        retire_if_orphaned(tx, key, now, outcome)?;
        outcome.duplicates.push((path.to_owned(), original));
        return Ok(());
    }

    let existing: Option<(String, Option<i64>, i64)> = tx
        .prepare_cached("SELECT content_hash, deleted, updated FROM entries WHERE key = ?1")?
        .query_row([key.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let related = serde_json::to_string(&draft.related).unwrap_or_else(|_| "[]".into());
    let slug = draft.category.as_ref().map(|c| c.slug.as_str());
    match existing {
        None => {
            let published = distinct_published(tx, stamp.mtime_ms().min(now))?;
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
            outcome.published.push(key.clone());
        }
        Some((old_hash, deleted, updated)) => {
            // The id and the published date are never touched: they belong to the key.
            let content_changed = old_hash != hash;
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
            if deleted.is_some() {
                outcome.published.push(key.clone());
            } else if content_changed {
                outcome.updated.push(key.clone());
            }
            if content_changed {
                requeue_waiting(tx, key, outcome)?;
            }
        }
    }
    upsert_file(
        tx,
        path,
        key,
        stamp,
        Some(&hash),
        FileStatus::Published,
        now,
    )?;
    Ok(())
}

/// A published time no other entry has: the given one, or the first free millisecond
/// after the latest taken within the next minute. Files copied in one go (`cp`, `git
/// clone`) share an mtime to the millisecond; distinct dates keep the order of entries
/// stable in every reader, and validators warn about entries with equal dates.
fn distinct_published(tx: &Transaction<'_>, wanted: i64) -> rusqlite::Result<i64> {
    let taken: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM entries WHERE published = ?1 LIMIT 1")?
        .query_row([wanted], |r| r.get(0))
        .optional()?;
    if taken.is_none() {
        return Ok(wanted);
    }
    tx.prepare_cached(
        "SELECT max(published) + 1 FROM entries WHERE published >= ?1 AND published < ?1 + 60000",
    )?
    .query_row([wanted], |r| r.get::<_, Option<i64>>(0))
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
    tx: &Transaction<'_>,
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
    tx: &Transaction<'_>,
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
    tx: &Transaction<'_>,
    key: &EntryKey,
    now: i64,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let retired = tx
        .prepare_cached("UPDATE entries SET deleted = ?2 WHERE key = ?1 AND deleted IS NULL")?
        .execute(params![key.as_str(), now])?;
    if retired > 0 {
        outcome.removed.push(key.clone());
    }
    requeue_waiting(tx, key, outcome)
}

/// Files set aside because of `key` (duplicates of its old content, files whose key it
/// holds) are read again: they may now be published.
fn requeue_waiting(
    tx: &Transaction<'_>,
    key: &EntryKey,
    outcome: &mut ApplyOutcome,
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT path FROM files WHERE (status = 'duplicate' AND detail = ?1) \
         OR (status = 'rejected' AND reject_code = 'key_conflict' AND key = ?1) ORDER BY path",
    )?;
    let waiting = stmt.query_map([key.as_str()], |r| r.get::<_, String>(0))?;
    for path in waiting {
        outcome.requeue.push(path?);
    }
    Ok(())
}

fn upsert_file(
    tx: &Transaction<'_>,
    path: &str,
    key: &EntryKey,
    stamp: FileStamp,
    hash: Option<&str>,
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

/// An entries row as stored, before its text columns are checked.
struct RawEntry {
    key: String,
    id: String,
    title: String,
    section: Option<String>,
    category_slug: Option<String>,
    caption: Option<String>,
    summary: String,
    content_html: String,
    related: String,
    content_hash: String,
    published: i64,
    updated: i64,
}

impl RawEntry {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            key: row.get(0)?,
            id: row.get(1)?,
            title: row.get(2)?,
            section: row.get(3)?,
            category_slug: row.get(4)?,
            caption: row.get(5)?,
            summary: row.get(6)?,
            content_html: row.get(7)?,
            related: row.get(8)?,
            content_hash: row.get(9)?,
            published: row.get(10)?,
            updated: row.get(11)?,
        })
    }

    fn into_entry(self) -> Result<Entry, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt {
            key: self.key.clone(),
            what: what.to_owned(),
        };
        let id = EntryId::parse_urn(&self.id).ok_or_else(|| corrupt("id is not a urn:uuid"))?;
        let related: Vec<String> = serde_json::from_str(&self.related)
            .map_err(|_| corrupt("related is not a JSON list"))?;
        let content_hash =
            parse_hash(&self.content_hash).ok_or_else(|| corrupt("content hash is not hex"))?;
        let published = DateTime::from_timestamp_millis(self.published)
            .ok_or_else(|| corrupt("published is out of range"))?;
        let updated = DateTime::from_timestamp_millis(self.updated)
            .ok_or_else(|| corrupt("updated is out of range"))?;
        let category = match (&self.section, self.category_slug) {
            (Some(section), Some(slug)) => Some(crate::model::Category {
                term: section.clone(),
                slug,
            }),
            (Some(section), None) => Some(category(section)),
            _ => None,
        };
        Ok(Entry {
            draft: EntryDraft {
                key: EntryKey::new(self.key),
                id,
                title: self.title,
                section: self.section,
                category,
                caption: self.caption,
                summary: self.summary,
                content_html: self.content_html,
                related,
                content_hash,
            },
            published,
            updated,
        })
    }
}

fn parse_hash(hex: &str) -> Option<ContentHash> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(ContentHash(bytes))
}
