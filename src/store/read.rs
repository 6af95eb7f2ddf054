//! Reads: the entries the renderer needs (feeds, pages, listings), the files stored
//! under a folder that changed, and the counts and lists of the status; and the writes
//! of the `meta` table. Frozen archive pages are in `archives`; the stamps the
//! reconcile scan compares, in `stamps`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Counts, Store, StoreError};
use crate::model::{
    Category, ContentHash, DuplicateFile, Entry, EntryDraft, EntryId, EntryKey, EntryMeta,
    FileNote, RejectedFile, Tombstone,
};
use crate::normalize::category;

pub(super) const ENTRY_COLUMNS: &str = "key, id, title, section, category_slug, caption, summary, \
     content_html, related, content_hash, published, updated, meta";

impl Store {
    /// The paths of the files stored under one subfolder (relative path) of the seeds
    /// folder, at any depth.
    pub fn known_files_under(&self, dir: &str) -> Result<Vec<String>, StoreError> {
        // Every path under `dir/` sorts between `dir/` and `dir0` ('0' follows '/').
        let low = format!("{dir}/");
        let high = format!("{dir}0");
        let mut stmt = self
            .conn
            .prepare("SELECT path FROM files WHERE path > ?1 AND path < ?2")?;
        let rows = stmt.query_map(params![low, high], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
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

    /// A page of a listing: `limit` live entries, newest first, after the newest
    /// `offset` ones; of one section (by slug) or of all. The date index (the section
    /// index) gives the order, so no sort; skipping walks `offset` rows of the index.
    pub fn live_entries_page(
        &self,
        section: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match section {
            None => {
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM entries WHERE deleted IS NULL \
                     ORDER BY published DESC, key DESC LIMIT ?1 OFFSET ?2"
                );
                self.query_entries(&sql, params![limit, offset])
            }
            Some(slug) => {
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM entries WHERE deleted IS NULL AND category_slug = ?1 \
                     ORDER BY published DESC, key DESC LIMIT ?2 OFFSET ?3"
                );
                self.query_entries(&sql, params![slug, limit, offset])
            }
        }
    }

    /// How many entries are live: in all, and in each section that has any (by slug).
    pub fn live_counts(&self) -> Result<(u64, Vec<(String, u64)>), StoreError> {
        let total: i64 = self.conn.query_row(
            "SELECT count(*) FROM entries WHERE deleted IS NULL",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT category_slug, count(*) FROM entries \
             WHERE deleted IS NULL AND category_slug IS NOT NULL \
             GROUP BY category_slug ORDER BY category_slug",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?;
        Ok((total.max(0) as u64, rows.collect::<Result<_, _>>()?))
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

    /// Whether the store holds no file and no live entry, as [`Self::counts`] would be
    /// all zero: without counting, which at a million articles is two scans of tables
    /// on the way to serving the first feed.
    pub fn holds_nothing(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM files) \
             AND NOT EXISTS (SELECT 1 FROM entries WHERE deleted IS NULL)",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn counts(&self) -> Result<Counts, StoreError> {
        // The status reads these after every batch, and counting the live rows read an
        // index row per entry. Rows are never deleted (a deleted article keeps its row,
        // a tombstone) and `seq` numbers them from 1 without a gap (the archive pages
        // rely on it), so the live ones are the newest number less the deleted ones,
        // which have an index of their own.
        let deleted: i64 = self.conn.query_row(
            "SELECT count(*) FROM entries WHERE deleted IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        let mut counts = Counts {
            entries: self.max_seq()?.saturating_sub(deleted.max(0) as u64),
            ..Counts::default()
        };
        let files: i64 = self
            .conn
            .query_row("SELECT count(*) FROM files", [], |r| r.get(0))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, count(*) FROM files WHERE status != 'published' GROUP BY status",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut set_aside = 0;
        for row in rows {
            let (status, n) = row?;
            let n = n as u64;
            set_aside += n;
            match status.as_str() {
                "duplicate" => counts.duplicates = n,
                "held" => counts.held = n,
                _ => counts.rejects += n,
            }
        }
        counts.published_files = (files as u64).saturating_sub(set_aside);
        Ok(counts)
    }

    pub(super) fn query_entries(
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

    /// When the first article held back for its date is due, if any is.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let due: Option<i64> = self.conn.query_row(
            "SELECT min(until) FROM files WHERE until IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(due.and_then(DateTime::from_timestamp_millis))
    }

    /// The articles held back for their date whose date has come by `now`.
    pub fn due_files(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path FROM files WHERE until IS NOT NULL AND until <= ?1 ORDER BY until, path",
        )?;
        let rows = stmt.query_map([now.timestamp_millis()], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Files not published because another file publishes the same content,
    /// longest-standing first, at most `limit`, each with the path of that file.
    pub fn duplicate_files(&self, limit: usize) -> Result<Vec<DuplicateFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.path, coalesce(o.path, d.detail, ''), d.since FROM files d \
             LEFT JOIN files o ON o.key = d.detail AND o.status = 'published' \
             WHERE d.status != 'published' AND d.status = 'duplicate' \
             ORDER BY d.since, d.path LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(DuplicateFile {
                path: r.get(0)?,
                duplicate_of: r.get(1)?,
                since: DateTime::from_timestamp_millis(r.get(2)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Since when a file has been in its present state (published, duplicate or
    /// rejected), if the store knows it.
    pub fn file_since(&self, path: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let since: Option<i64> = self
            .conn
            .prepare_cached("SELECT since FROM files WHERE path = ?1")?
            .query_row([path], |r| r.get(0))
            .optional()?;
        Ok(since.and_then(DateTime::from_timestamp_millis))
    }

    /// Articles held back (drafts, and articles dated in the future), soonest due first
    /// and drafts last, at most `limit`, each with why.
    pub fn held_files(&self, limit: usize) -> Result<Vec<FileNote>, StoreError> {
        self.file_notes(
            "SELECT path, coalesce(detail, ''), since FROM files \
             WHERE status != 'published' AND status = 'held' \
             ORDER BY until IS NULL, until, path LIMIT ?1",
            limit,
        )
    }

    /// Published files whose last read ignored something (unknown front matter keys),
    /// by path, at most `limit`, each with what.
    pub fn warned_files(&self, limit: usize) -> Result<Vec<FileNote>, StoreError> {
        self.file_notes(
            "SELECT path, detail, since FROM files \
             WHERE status = 'published' AND detail IS NOT NULL ORDER BY path LIMIT ?1",
            limit,
        )
    }

    fn file_notes(&self, sql: &str, limit: usize) -> Result<Vec<FileNote>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(FileNote {
                path: r.get(0)?,
                reason: r.get(1)?,
                since: DateTime::from_timestamp_millis(r.get(2)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Files set aside as rejects, longest-standing first, at most `limit`.
    pub fn rejected_files(&self, limit: usize) -> Result<Vec<RejectedFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, coalesce(detail, ''), since FROM files \
             WHERE status != 'published' AND status = 'rejected' ORDER BY since, path LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(RejectedFile {
                path: r.get(0)?,
                reason: r.get(1)?,
                since: DateTime::from_timestamp_millis(r.get(2)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest `limit` live entries of one section, newest first.
    pub fn latest_in_category(&self, slug: &str, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE deleted IS NULL AND category_slug = ?1 \
             ORDER BY published DESC, key DESC LIMIT ?2"
        );
        self.query_entries(&sql, params![slug, limit as i64])
    }

    /// Every section with a live entry or a tombstone kept since `tombstones_since`, by
    /// name. A section's term is taken from its newest entry.
    pub fn categories(&self, tombstones_since: DateTime<Utc>) -> Result<Vec<Category>, StoreError> {
        // One hop through the section index per section, and one look at its newest
        // end: a GROUP BY read every entry's index row, after every batch that changed
        // the feeds.
        let mut first = self.conn.prepare_cached(
            "SELECT min(category_slug) FROM entries WHERE category_slug IS NOT NULL",
        )?;
        let mut next = self
            .conn
            .prepare_cached("SELECT min(category_slug) FROM entries WHERE category_slug > ?1")?;
        let mut newest = self.conn.prepare_cached(
            "SELECT section FROM entries WHERE category_slug = ?1 \
             AND (deleted IS NULL OR deleted >= ?2) ORDER BY published DESC LIMIT 1",
        )?;
        let since = tombstones_since.timestamp_millis();
        let mut categories = Vec::new();
        let mut slug: Option<String> = first.query_row([], |r| r.get(0))?;
        while let Some(current) = slug {
            let term: Option<String> = newest
                .query_row(params![current, since], |r| r.get(0))
                .optional()?;
            slug = next.query_row([&current], |r| r.get(0))?;
            if let Some(term) = term {
                categories.push(Category {
                    slug: current,
                    term,
                });
            }
        }
        categories.sort_by(|a, b| (&a.term, &a.slug).cmp(&(&b.term, &b.slug)));
        Ok(categories)
    }

    /// The section of a slug, if any entry (live or deleted) has it: the newest live
    /// entry's term, else the newest deleted one's.
    pub fn category(&self, slug: &str) -> Result<Option<Category>, StoreError> {
        // Two queries that walk the section's index from its newest end: one ordered by
        // liveness first sorted every row of the section, for each section after a bulk.
        let mut term = None;
        for sql in [
            "SELECT section FROM entries WHERE category_slug = ?1 AND deleted IS NULL \
             ORDER BY published DESC LIMIT 1",
            "SELECT section FROM entries WHERE category_slug = ?1 \
             ORDER BY published DESC LIMIT 1",
        ] {
            term = self
                .conn
                .prepare_cached(sql)?
                .query_row([slug], |r| r.get::<_, String>(0))
                .optional()?;
            if term.is_some() {
                break;
            }
        }
        Ok(term.map(|term| Category {
            term,
            slug: slug.to_owned(),
        }))
    }

    /// Entries deleted at or after `since`, most recent deletion first.
    pub fn tombstones(&self, since: DateTime<Utc>) -> Result<Vec<Tombstone>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, id, deleted, category_slug FROM entries WHERE deleted >= ?1 \
             AND NOT EXISTS (SELECT 1 FROM given_ids g WHERE g.id = entries.id \
                 AND g.key != entries.key) \
             ORDER BY deleted DESC, key DESC",
        )?;
        let rows = stmt.query_map([since.timestamp_millis()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, id, deleted, category_slug) = row?;
            let corrupt = |what: &str| StoreError::Corrupt {
                key: key.clone(),
                what: what.to_owned(),
            };
            out.push(Tombstone {
                id: EntryId::parse_stored(&id)
                    .ok_or_else(|| corrupt("id is not an absolute URI"))?,
                deleted: DateTime::from_timestamp_millis(deleted)
                    .ok_or_else(|| corrupt("deleted is out of range"))?,
                key: EntryKey::new(key),
                category_slug,
            });
        }
        Ok(out)
    }

    /// How many entries have ever been published: the highest publication number.
    pub fn max_seq(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM entries", [], |r| r.get(0))?;
        Ok(max.unwrap_or(0).max(0) as u64)
    }

    /// The live entries first published as numbers `first..=last`, newest first.
    pub fn entries_by_seq(&self, first: u64, last: u64) -> Result<Vec<Entry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE deleted IS NULL AND seq BETWEEN ?1 AND ?2 \
             ORDER BY seq DESC"
        );
        self.query_entries(&sql, params![first as i64, last as i64])
    }

    /// The key of every live entry, in key order.
    pub fn live_keys(&self) -> Result<Vec<EntryKey>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM entries WHERE deleted IS NULL ORDER BY key")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows
            .map(|key| key.map(EntryKey::new))
            .collect::<Result<_, _>>()?)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(read_meta(&self.conn, key)?)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        Ok(write_meta(&self.conn, key, value)?)
    }
}

/// A value of the `meta` table, on any connection or transaction.
pub(super) fn read_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Sets a value of the `meta` table, on any connection or transaction.
pub(super) fn write_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
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
    content_hash: Vec<u8>,
    published: i64,
    updated: i64,
    meta: Option<String>,
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
            meta: row.get(12)?,
        })
    }

    fn into_entry(self) -> Result<Entry, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt {
            key: self.key.clone(),
            what: what.to_owned(),
        };
        let id =
            EntryId::parse_stored(&self.id).ok_or_else(|| corrupt("id is not an absolute URI"))?;
        let related: Vec<String> = serde_json::from_str(&self.related)
            .map_err(|_| corrupt("related is not a JSON list"))?;
        let meta = match &self.meta {
            Some(meta) => serde_json::from_str(meta)
                .map_err(|error| corrupt(&format!("meta is not what it should be: {error}")))?,
            None => EntryMeta::default(),
        };
        let content_hash = <[u8; 32]>::try_from(self.content_hash.as_slice())
            .map(ContentHash)
            .map_err(|_| corrupt("content hash is not 32 bytes"))?;
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
                id_given: false,
                meta,
            },
            published,
            updated,
        })
    }
}
