//! The SQL of one file change, in a batch's open transaction: the facts the rules of
//! `decide` need, read with the lookups a bulk writer's [`Known`] shows cannot find
//! anything skipped, and the decision carried out on the `entries` table and, through
//! the writer's rows waiting (`file_rows`), on the `files` table, with the slug the
//! entry's section was assigned (`slugs`), not the one it wants, and the entry's tags,
//! authors and given id (`terms`). The media files a read referenced are recorded
//! beside it (`media`).

use rusqlite::{Connection, OptionalExtension, params};

use super::decide::{Action, Existing, StoredEntry, decide, first_free};
use super::file_rows::{self, PendingFiles};
use super::known::Known;
use super::slugs::Slugs;
use super::terms::{self, Touched};
use super::{ApplyOutcome, Hold, StoreError};
use crate::model::{EntryDraft, EntryKey, EntryMeta, FileStamp, RejectReason};

/// One call of `Writer::apply`: its transaction, what the writer knows the store may
/// hold, the time, and what the changes did so far.
pub(super) struct Batch<'a> {
    pub(super) tx: &'a Connection,
    pub(super) known: &'a mut Known,
    /// Unix milliseconds.
    pub(super) now: i64,
    pub(super) outcome: ApplyOutcome,
    /// The writer's [`TakenRun`], kept across its batches.
    pub(super) run: &'a mut TakenRun,
    /// The writer's memory of the sections' slugs.
    pub(super) slugs: &'a mut Slugs,
    /// The writer's `files` rows not yet written: written before anything here reads
    /// the table, and at commit.
    pub(super) pending: &'a mut PendingFiles,
}

/// Published times the writer knows to be all taken, `start..=end`: the run its last new
/// entry ended. Files are applied in `decide::date_order`, so a file copied with many
/// others in one millisecond wants a time inside the run the ones before it made, and
/// its free time is one past the run's end, without reading the run again. Entry rows
/// are never deleted, so a time once taken stays taken.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct TakenRun(Option<(i64, i64)>);

/// Taken times read at a time while looking for a free one.
const TAKEN_PAGE: i64 = 256;

/// A row of the `files` table: one file of the seeds folder and what became of it.
struct FileRow<'a> {
    path: &'a str,
    key: &'a EntryKey,
    stamp: FileStamp,
    /// The content hash of what was read; `None` when nothing could be.
    hash: Option<&'a [u8]>,
    status: FileStatus<'a>,
}

enum FileStatus<'a> {
    /// With the warnings its read gave, if any.
    Published(Option<String>),
    Duplicate(&'a EntryKey),
    Rejected(&'a RejectReason),
    Held(Hold),
}

/// What the store holds about an article's key beside the rules' facts: the section slug
/// of the key's entry, whose feed an update touches.
type OldSlug = Option<String>;

/// An update the rules decided ([`Action::Update`]), with the entry's old section.
struct Update {
    updated: i64,
    returns: bool,
    edited: bool,
    redate: Option<i64>,
    old_slug: OldSlug,
}

impl Batch<'_> {
    /// An article file: decided by the rules, then written.
    pub(super) fn article(
        &mut self,
        path: &str,
        stamp: FileStamp,
        draft: &EntryDraft,
        warnings: &[String],
    ) -> Result<(), StoreError> {
        let key = &draft.key;
        let hash = Some(draft.content_hash.0.as_slice());
        let (existing, old_slug) = self.existing(path, draft)?;
        let warned = (!warnings.is_empty()).then(|| warnings.join("; "));
        let status = match decide(&existing, draft, stamp, self.now) {
            Action::KeyConflict { other } => {
                let reason = RejectReason::KeyConflict {
                    key: key.to_string(),
                    other,
                };
                return self.conflict(path, key, stamp, hash, &reason);
            }
            Action::IdConflict { other } => {
                let reason = RejectReason::IdConflict {
                    id: draft.id.to_string(),
                    other: other.to_string(),
                };
                return self.conflict(path, key, stamp, hash, &reason);
            }
            Action::Duplicate { original } => {
                let status = FileStatus::Duplicate(&original);
                self.set_file_row(FileRow {
                    path,
                    key,
                    stamp,
                    hash,
                    status,
                });
                // If this file used to publish its own entry, that entry now repeats
                // another.
                self.retire_if_orphaned(key)?;
                self.outcome.duplicates.push((path.to_owned(), original));
                return Ok(());
            }
            Action::Insert { wanted, updated } => {
                self.insert_entry(draft, wanted, updated)?;
                FileStatus::Published(warned)
            }
            Action::Update {
                updated,
                returns,
                edited,
                redate,
            } => {
                let update = Update {
                    updated,
                    returns,
                    edited,
                    redate,
                    old_slug,
                };
                self.update_entry(draft, update)?;
                FileStatus::Published(warned)
            }
        };
        self.set_file_row(FileRow {
            path,
            key,
            stamp,
            hash,
            status,
        });
        Ok(())
    }

    /// A file set aside because another file or entry has its key or its id.
    fn conflict(
        &mut self,
        path: &str,
        key: &EntryKey,
        stamp: FileStamp,
        hash: Option<&[u8]>,
        reason: &RejectReason,
    ) -> Result<(), StoreError> {
        self.outcome.rejected += 1;
        let status = FileStatus::Rejected(reason);
        self.set_file_row(FileRow {
            path,
            key,
            stamp,
            hash,
            status,
        });
        Ok(())
    }

    /// An article held back (a draft, or dated in the future): its entry leaves the
    /// feeds, as if its file had gone, until the file says otherwise or its date comes.
    pub(super) fn held(
        &mut self,
        path: &str,
        key: &EntryKey,
        stamp: FileStamp,
        hold: Hold,
    ) -> Result<(), StoreError> {
        let row = FileRow {
            path,
            key,
            stamp,
            hash: None,
            status: FileStatus::Held(hold),
        };
        self.set_file_row(row);
        self.retire_if_orphaned(key)
    }

    /// A file that cannot be an article. A published entry whose file turns bad keeps its
    /// last good version: bad input never takes anything away from readers.
    pub(super) fn rejected(
        &mut self,
        path: &str,
        key: &EntryKey,
        stamp: FileStamp,
        reason: &RejectReason,
    ) -> Result<(), StoreError> {
        self.outcome.rejected += 1;
        let status = FileStatus::Rejected(reason);
        let row = FileRow {
            path,
            key,
            stamp,
            hash: None,
            status,
        };
        self.set_file_row(row);
        Ok(())
    }

    /// A file that went: its entry leaves the feeds unless another file publishes it.
    pub(super) fn removal(&mut self, path: &str) -> Result<(), StoreError> {
        self.write_pending()?;
        let key: Option<String> = self
            .tx
            .prepare_cached("DELETE FROM files WHERE path = ?1 RETURNING key")?
            .query_row([path], |r| r.get(0))
            .optional()?;
        match key {
            Some(key) => self.retire_if_orphaned(&EntryKey::new(key)),
            None => Ok(()),
        }
    }

    /// Reads what the store holds about an article's key and content (see [`Existing`]),
    /// skipping the lookups that `known` shows cannot find anything.
    fn existing(
        &mut self,
        path: &str,
        draft: &EntryDraft,
    ) -> Result<(Existing, OldSlug), StoreError> {
        let key = draft.key.as_str();
        let hash = draft.content_hash.0.as_slice();
        let mut existing = Existing::default();
        let (entry, old_slug) = if self.known.may_have_key(key) {
            self.stored_entry(key)?
        } else {
            (None, None)
        };
        // A published file always has its entry (entry rows are never deleted): with no
        // entry of the key, no file can publish it, and the rows waiting stay waiting.
        if entry.is_some() {
            self.write_pending()?;
            existing.key_owner = self
                .tx
                .prepare_cached(
                    "SELECT path FROM files WHERE key = ?1 AND path != ?2 \
                     AND status = 'published' LIMIT 1",
                )?
                .query_row(params![key, path], |r| r.get(0))
                .optional()?;
        }
        existing.same_content = match self.known.live_with_hash(hash) {
            Some(seqs) => self.same_content_among(seqs, hash, key)?,
            None => self
                .tx
                .prepare_cached(
                    "SELECT key FROM entries WHERE content_hash = ?1 AND deleted IS NULL \
                     AND key != ?2 ORDER BY published, key LIMIT 1",
                )?
                .query_row(params![hash, key], |r| {
                    r.get::<_, String>(0).map(EntryKey::new)
                })
                .optional()?,
        };
        if draft.id_given {
            existing.id_owner = terms::id_owner(self.tx, draft.id.as_str(), &draft.key)?;
        }
        existing.entry = entry;
        Ok((existing, old_slug))
    }

    /// What the query by content hash above finds (the first live entry by published
    /// time, then key, with the content `hash` and a key other than `key`), among the
    /// entries numbered `seqs`, which a bulk writer's [`Known`] gives: read by number, so
    /// that no index of content hashes is needed.
    fn same_content_among(
        &self,
        seqs: impl Iterator<Item = i64>,
        hash: &[u8],
        key: &str,
    ) -> rusqlite::Result<Option<EntryKey>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT published, key FROM entries WHERE seq = ?1 AND content_hash = ?2 \
             AND deleted IS NULL AND key != ?3",
        )?;
        let mut first: Option<(i64, String)> = None;
        for seq in seqs {
            let found = stmt
                .query_row(params![seq, hash, key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some(found) = found
                && first.as_ref().is_none_or(|first| found < *first)
            {
                first = Some(found);
            }
        }
        Ok(first.map(|(_, key)| EntryKey::new(key)))
    }

    /// The entry of `key`, live or retired, and its section slug.
    fn stored_entry(&self, key: &str) -> Result<(Option<StoredEntry>, OldSlug), StoreError> {
        type Row = (Vec<u8>, bool, i64, OldSlug, i64, Option<String>);
        let row: Option<Row> = self
            .tx
            .prepare_cached(
                "SELECT content_hash, deleted IS NOT NULL, updated, category_slug, published, \
                 json_extract(meta, '$.date') FROM entries WHERE key = ?1",
            )?
            .query_row([key], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?;
        let Some((stored_hash, retired, updated, slug, published, date)) = row else {
            return Ok((None, None));
        };
        let corrupt = |what: &str| StoreError::Corrupt {
            key: key.to_owned(),
            what: what.to_owned(),
        };
        let content_hash = stored_hash
            .try_into()
            .map_err(|_| corrupt("its content hash is not 32 bytes"))?;
        let date = match date {
            Some(date) => Some(
                chrono::DateTime::parse_from_rfc3339(&date)
                    .map_err(|_| corrupt("its front matter date is not RFC 3339"))?
                    .timestamp_millis(),
            ),
            None => None,
        };
        let entry = StoredEntry {
            content_hash,
            retired,
            updated,
            published,
            date,
        };
        Ok((Some(entry), slug))
    }

    /// A new entry, at the first free published time from `wanted`, updated at
    /// `updated` when the front matter gives a time later than that.
    fn insert_entry(
        &mut self,
        draft: &EntryDraft,
        wanted: i64,
        updated: Option<i64>,
    ) -> Result<(), StoreError> {
        let key = &draft.key;
        let hash = draft.content_hash.0.as_slice();
        let slug = self.section_slug(draft)?;
        let meta = terms::assigned(self.tx, self.slugs, draft)?;
        let published = self.free_published(wanted)?;
        let updated = updated.map_or(published, |updated| updated.max(published));
        // seq, the rowid, is given the next number: the order of first publication, which
        // archive pages follow (rows are never deleted, so numbers never return).
        self.tx
            .prepare_cached(
                "INSERT INTO entries (key, id, title, section, category_slug, caption, \
                 summary, content_html, related, content_hash, published, updated, meta) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                key.as_str(),
                draft.id.as_str(),
                draft.title,
                draft.section,
                slug.as_deref(),
                draft.caption,
                draft.summary,
                draft.content_html,
                related_json(draft),
                hash,
                published,
                updated,
                terms::meta_json(&meta),
            ])?;
        let seq = self.tx.last_insert_rowid();
        self.known.add_entry(key.as_str(), hash, seq, published);
        self.outcome.published.push(key.clone());
        self.outcome.categories.extend(slug);
        // A new key has no terms and no id listed yet: nothing to take back first.
        let listed = !meta.tags.is_empty() || !meta.authors.is_empty() || draft.id_given;
        if listed {
            self.list_terms(draft, published, &meta)?;
        }
        Ok(())
    }

    /// Lists a live entry under its tags and authors, and records its given id (for an
    /// entry listed before, after [`Batch::unlist`]).
    fn list_terms(
        &mut self,
        draft: &EntryDraft,
        published: i64,
        meta: &EntryMeta,
    ) -> Result<(), StoreError> {
        let mut touched = Touched::default();
        terms::list(self.tx, &draft.key, published, meta, &mut touched)?;
        terms::claim_id(self.tx, draft)?;
        self.outcome.tags.extend(touched.tags);
        self.outcome.authors.extend(touched.authors);
        Ok(())
    }

    /// The slug the draft's section was assigned (assigned now if the section is new).
    fn section_slug(&mut self, draft: &EntryDraft) -> rusqlite::Result<Option<String>> {
        match &draft.category {
            Some(category) => self.slugs.section(self.tx, &category.term).map(Some),
            None => Ok(None),
        }
    }

    /// The key's entry takes the draft's content. Its published date moves only for a
    /// new date in the front matter; its id is the key's, or the one the article gives.
    /// An entry that comes back is published again; an edit touches the feeds of its old
    /// and new sections, tags and authors, and the files that waited on its old content
    /// are read again.
    fn update_entry(&mut self, draft: &EntryDraft, update: Update) -> Result<(), StoreError> {
        let key = &draft.key;
        let hash = draft.content_hash.0.as_slice();
        let slug = self.section_slug(draft)?;
        let meta = terms::assigned(self.tx, self.slugs, draft)?;
        self.unlist(key)?;
        terms::release_id(self.tx, key)?;
        let redated = match update.redate {
            Some(wanted) => Some(self.free_published(wanted)?),
            None => None,
        };
        let (published, seq): (i64, i64) = self
            .tx
            .prepare_cached(
                "UPDATE entries SET id = ?2, title = ?3, section = ?4, category_slug = ?5, \
                 caption = ?6, summary = ?7, content_html = ?8, related = ?9, \
                 content_hash = ?10, updated = max(?11, coalesce(?13, published)), \
                 deleted = NULL, meta = ?12, published = coalesce(?13, published) \
                 WHERE key = ?1 RETURNING published, seq",
            )?
            .query_row(
                params![
                    key.as_str(),
                    draft.id.as_str(),
                    draft.title,
                    draft.section,
                    slug.as_deref(),
                    draft.caption,
                    draft.summary,
                    draft.content_html,
                    related_json(draft),
                    hash,
                    update.updated,
                    terms::meta_json(&meta),
                    redated,
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
        self.known.add_hash(hash, seq);
        if let Some(published) = redated {
            self.known.add_entry(key.as_str(), hash, seq, published);
        }
        self.list_terms(draft, published, &meta)?;
        if update.returns {
            self.outcome.published.push(key.clone());
        } else if update.edited {
            self.outcome.updated.push(key.clone());
        }
        if update.returns || update.edited {
            self.outcome.categories.extend(update.old_slug);
            self.outcome.categories.extend(slug);
        }
        if update.edited {
            self.requeue_waiting(key)?;
        }
        Ok(())
    }

    /// The first free published time at or after `wanted` ([`first_free`]), read from
    /// the `entries_by_published` index a page at a time, starting past the writer's
    /// [`TakenRun`] when `wanted` is inside it.
    fn free_published(&mut self, wanted: i64) -> rusqlite::Result<i64> {
        let (from, mut candidate) = match self.run.0 {
            Some((start, end)) if (start..=end).contains(&wanted) => (start, end + 1),
            _ => (wanted, wanted),
        };
        while self.known.may_have_published(candidate) {
            let taken: Vec<i64> = self
                .tx
                .prepare_cached(
                    "SELECT published FROM entries WHERE published >= ?1 \
                     ORDER BY published LIMIT ?2",
                )?
                .query_map([candidate, TAKEN_PAGE], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let full = taken.len() as i64 == TAKEN_PAGE;
            let last = taken.last().copied();
            let free = first_free(candidate, taken);
            // A whole page of taken times that the free one is past: the next page may
            // take it too.
            if full && last.is_some_and(|last| free > last) {
                candidate = free;
                continue;
            }
            candidate = free;
            break;
        }
        self.run.0 = Some((from, candidate));
        Ok(candidate)
    }

    /// Retires the entry of `key` when no file publishes it any more.
    fn retire_if_orphaned(&mut self, key: &EntryKey) -> Result<(), StoreError> {
        // A key with no entry has nothing to retire, and nothing waits on it.
        if !self.known.may_have_key(key.as_str()) {
            return Ok(());
        }
        self.write_pending()?;
        let published: Option<i64> = self
            .tx
            .prepare_cached("SELECT 1 FROM files WHERE key = ?1 AND status = 'published' LIMIT 1")?
            .query_row([key.as_str()], |r| r.get(0))
            .optional()?;
        if published.is_none() {
            self.retire_entry(key)?;
        }
        Ok(())
    }

    /// Takes a live entry out of the feeds (keeping its row, so a returning file keeps
    /// its id and published date) and requeues the files that were waiting on it.
    fn retire_entry(&mut self, key: &EntryKey) -> Result<(), StoreError> {
        self.unlist(key)?;
        let retired: Option<Option<String>> = self
            .tx
            .prepare_cached(
                "UPDATE entries SET deleted = ?2 WHERE key = ?1 AND deleted IS NULL \
                 RETURNING category_slug",
            )?
            .query_row(params![key.as_str(), self.now], |r| r.get(0))
            .optional()?;
        if let Some(slug) = retired {
            self.outcome.removed.push(key.clone());
            self.outcome.categories.extend(slug);
        }
        self.requeue_waiting(key)
    }

    /// Takes a live entry out of its tags' and authors' feeds, before its row changes.
    fn unlist(&mut self, key: &EntryKey) -> Result<(), StoreError> {
        let mut touched = Touched::default();
        terms::unlist(self.tx, key, &mut touched)?;
        self.outcome.tags.extend(touched.tags);
        self.outcome.authors.extend(touched.authors);
        Ok(())
    }

    /// Files set aside because of `key` (duplicates of its old content, files whose key
    /// it holds) are read again: they may now be published.
    fn requeue_waiting(&mut self, key: &EntryKey) -> Result<(), StoreError> {
        self.write_pending()?;
        let mut waiting = Vec::new();
        for sql in [
            "SELECT path FROM files WHERE status != 'published' AND status = 'duplicate' \
             AND detail = ?1",
            "SELECT path FROM files WHERE key = ?1 AND status = 'rejected' \
             AND reject_code = 'key_conflict'",
        ] {
            let mut stmt = self.tx.prepare_cached(sql)?;
            for path in stmt.query_map([key.as_str()], |r| r.get::<_, String>(0))? {
                waiting.push(path?);
            }
        }
        // Files whose id another entry had: few, and any may have waited on this one
        // (the id they want is not kept apart to look them up by).
        let mut stmt = self.tx.prepare_cached(
            "SELECT path FROM files WHERE status != 'published' AND status = 'rejected' \
             AND reject_code = 'id_conflict'",
        )?;
        for path in stmt.query_map([], |r| r.get::<_, String>(0))? {
            waiting.push(path?);
        }
        waiting.sort();
        self.outcome.requeue.extend(waiting);
        Ok(())
    }

    /// Writes the `files` rows decided so far, before the table is read.
    fn write_pending(&mut self) -> rusqlite::Result<()> {
        self.pending.write(self.tx)
    }

    /// Decides the `files` row of a file; it is written with the others at commit, or
    /// before the table is next read (see `file_rows`).
    fn set_file_row(&mut self, row: FileRow<'_>) {
        let (status, code, detail, until) = match row.status {
            FileStatus::Published(warnings) => ("published", None, warnings, None),
            FileStatus::Duplicate(original) => {
                ("duplicate", None, Some(original.to_string()), None)
            }
            FileStatus::Rejected(reason) => (
                "rejected",
                Some(reason.code()),
                Some(reason.to_string()),
                None,
            ),
            FileStatus::Held(hold @ Hold::Draft) => {
                ("held", Some("draft"), Some(hold.to_string()), None)
            }
            FileStatus::Held(hold @ Hold::Until(due)) => (
                "held",
                Some("scheduled"),
                Some(hold.to_string()),
                Some(due.timestamp_millis()),
            ),
        };
        self.pending.push(file_rows::Row {
            path: row.path.to_owned(),
            key: row.key.as_str().to_owned(),
            size: row.stamp.size as i64,
            mtime_ns: row.stamp.mtime_ns,
            hash: row.hash.map(<[u8]>::to_vec),
            status,
            code,
            detail,
            since: self.now,
            until,
        });
    }
}

fn related_json(draft: &EntryDraft) -> String {
    serde_json::to_string(&draft.related).unwrap_or_else(|_| "[]".into())
}
