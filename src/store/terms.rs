//! The tags and authors of the live entries, and the ids articles kept from an older
//! system: the SQL of the `entry_terms` and `given_ids` tables, and of the `meta` column
//! that carries them with the rest of an entry's front matter.
//!
//! `entry_terms` holds a row per live entry and tag (or author), keyed by the feed's
//! order, so a tag's feed is one range of its primary key however many entries the tag
//! has. Rows come and go with the entry: written when it is published or edited, removed
//! when it leaves the feeds.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::read::{ENTRY_COLUMNS, read_meta, write_meta};
use super::slugs::{AUTHOR, Slugs, TAG};
use super::{Store, StoreError};
use crate::model::{Category, Entry, EntryDraft, EntryKey, EntryMeta, TermKind};

/// The `meta` key of the base URL the stored entries' URLs were resolved against.
const META_BASE_URL: &str = "base_url";

/// The slugs of the tags and authors whose feeds a change touched.
#[derive(Debug, Default)]
pub(super) struct Touched {
    pub(super) tags: BTreeSet<String>,
    pub(super) authors: BTreeSet<String>,
}

impl Touched {
    fn add(&mut self, kind: &str, slug: String) {
        match kind {
            TAG => self.tags.insert(slug),
            _ => self.authors.insert(slug),
        };
    }
}

/// The draft's metadata with the slugs its tags and authors were assigned (assigned now
/// for a term seen for the first time), as it is stored.
pub(super) fn assigned(
    conn: &Connection,
    slugs: &mut Slugs,
    draft: &EntryDraft,
) -> rusqlite::Result<EntryMeta> {
    let mut meta = draft.meta.clone();
    for tag in &mut meta.tags {
        tag.slug = slugs.slug(conn, TAG, &tag.term)?;
    }
    for author in &mut meta.authors {
        author.slug = slugs.slug(conn, AUTHOR, &author.person.name)?;
    }
    Ok(meta)
}

/// The `meta` column: the metadata as JSON, or NULL when there is none (a plain article).
pub(super) fn meta_json(meta: &EntryMeta) -> Option<String> {
    if meta.is_empty() {
        return None;
    }
    serde_json::to_string(meta).ok()
}

/// Lists a live entry under its tags and authors (after [`unlist`], for one that was
/// listed, before its row changed): the feeds of the terms are touched.
pub(super) fn list(
    conn: &Connection,
    key: &EntryKey,
    published: i64,
    meta: &EntryMeta,
    touched: &mut Touched,
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO entry_terms (kind, slug, published, key, label) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let tags = meta.tags.iter().map(|tag| (TAG, &tag.slug, &tag.term));
    let authors = meta
        .authors
        .iter()
        .map(|author| (AUTHOR, &author.slug, &author.person.name));
    for (kind, slug, label) in tags.chain(authors) {
        insert.execute(params![kind, slug, published, key.as_str(), label])?;
        touched.add(kind, slug.clone());
    }
    Ok(())
}

/// Takes a live entry out of its tags' and authors' feeds: the rows its stored metadata
/// names, each found by the table's key (an index by entry would cost every new entry a
/// write per tag, for the few that are edited or deleted).
pub(super) fn unlist(
    conn: &Connection,
    key: &EntryKey,
    touched: &mut Touched,
) -> Result<(), StoreError> {
    let stored: Option<(Option<String>, i64)> = conn
        .prepare_cached("SELECT meta, published FROM entries WHERE key = ?1 AND deleted IS NULL")?
        .query_row([key.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((Some(meta), published)) = stored else {
        return Ok(());
    };
    let meta: EntryMeta = serde_json::from_str(&meta).map_err(|error| StoreError::Corrupt {
        key: key.to_string(),
        what: format!("meta is not what it should be: {error}"),
    })?;
    let mut delete = conn.prepare_cached(
        "DELETE FROM entry_terms WHERE kind = ?1 AND slug = ?2 AND published = ?3 AND key = ?4",
    )?;
    let tags = meta.tags.into_iter().map(|tag| (TAG, tag.slug));
    let authors = meta.authors.into_iter().map(|author| (AUTHOR, author.slug));
    for (kind, slug) in tags.chain(authors) {
        delete.execute(params![kind, slug, published, key.as_str()])?;
        touched.add(kind, slug);
    }
    Ok(())
}

/// The live entry of another key that has `id`, an id an article gives.
pub(super) fn id_owner(
    conn: &Connection,
    id: &str,
    key: &EntryKey,
) -> rusqlite::Result<Option<EntryKey>> {
    conn.prepare_cached(
        "SELECT g.key FROM given_ids g JOIN entries e ON e.key = g.key \
         WHERE g.id = ?1 AND g.key != ?2 AND e.deleted IS NULL",
    )?
    .query_row(params![id, key.as_str()], |r| {
        r.get::<_, String>(0).map(EntryKey::new)
    })
    .optional()
}

/// Forgets the id an entry's article gave (before [`claim_id`] records its new one).
pub(super) fn release_id(conn: &Connection, key: &EntryKey) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM given_ids WHERE key = ?1")?
        .execute([key.as_str()])?;
    Ok(())
}

/// Records who has the draft's id, when the article gives one; a retired entry that had
/// it before gives it up (its tombstone is not announced while another entry has it).
pub(super) fn claim_id(conn: &Connection, draft: &EntryDraft) -> rusqlite::Result<()> {
    if draft.id_given {
        conn.prepare_cached(
            "INSERT INTO given_ids (id, key) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET key = excluded.key",
        )?
        .execute(params![draft.id.as_str(), draft.key.as_str()])?;
    }
    Ok(())
}

impl Store {
    /// The newest `limit` live entries with a tag or an author (by slug), newest first:
    /// one range of `entry_terms`, however many entries the term has.
    pub fn latest_with_term(
        &self,
        kind: TermKind,
        slug: &str,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.term_entries_page(kind, slug, 0, limit as u64)
    }

    /// A page of a tag's or an author's listing: `limit` live entries, newest first,
    /// after the newest `offset` ones.
    pub fn term_entries_page(
        &self,
        kind: TermKind,
        slug: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        let columns = ENTRY_COLUMNS
            .split(", ")
            .map(|column| format!("e.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM entry_terms t JOIN entries e ON e.key = t.key \
             WHERE t.kind = ?1 AND t.slug = ?2 \
             ORDER BY t.published DESC, t.key DESC LIMIT ?3 OFFSET ?4"
        );
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_entries(&sql, params![kind.as_str(), slug, limit, offset])
    }

    /// Every tag (or author) that live entries have, with the name its newest entry
    /// writes, sorted by name. One hop through `entry_terms` per term, as
    /// [`Store::categories`] does for sections.
    pub fn terms(&self, kind: TermKind) -> Result<Vec<Category>, StoreError> {
        let mut next = self
            .conn
            .prepare_cached("SELECT min(slug) FROM entry_terms WHERE kind = ?1 AND slug > ?2")?;
        let mut slug: Option<String> = next.query_row(params![kind.as_str(), ""], |r| r.get(0))?;
        let mut terms = Vec::new();
        while let Some(current) = slug {
            if let Some(term) = self.term(kind, &current)? {
                terms.push(term);
            }
            slug = next.query_row(params![kind.as_str(), current], |r| r.get(0))?;
        }
        terms.sort_by(|a, b| (&a.term, &a.slug).cmp(&(&b.term, &b.slug)));
        Ok(terms)
    }

    /// Records the base URL the articles' relative URLs are resolved against. When it
    /// differs from the one recorded, the files whose entries depend on it (those with
    /// front matter or an HTML body) are marked to be read again by the next scan;
    /// returns how many. A new database records it and marks nothing.
    pub fn base_url_is(&mut self, base_url: &str) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let recorded = read_meta(&tx, META_BASE_URL)?;
        let mut marked = 0;
        if recorded
            .as_deref()
            .is_some_and(|recorded| recorded != base_url)
        {
            // A size no file has: the scan sees a change and reads the file again.
            marked = tx.execute(
                "UPDATE files SET size = -1 WHERE status = 'published' AND (path NOT LIKE '%.txt' \
                 OR key IN (SELECT key FROM entries WHERE meta IS NOT NULL))",
                [],
            )?;
        }
        if recorded.as_deref() != Some(base_url) {
            write_meta(&tx, META_BASE_URL, base_url)?;
        }
        tx.commit()?;
        Ok(marked)
    }

    /// How many live entries each tag (or author) has, by slug.
    pub fn term_counts(&self, kind: TermKind) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT slug, count(*) FROM entry_terms WHERE kind = ?1 GROUP BY slug ORDER BY slug",
        )?;
        let rows = stmt.query_map([kind.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A tag (or author) by slug, with the name its newest live entry writes; `None`
    /// when no live entry has it.
    pub fn term(&self, kind: TermKind, slug: &str) -> Result<Option<Category>, StoreError> {
        let label: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT label FROM entry_terms WHERE kind = ?1 AND slug = ?2 \
                 ORDER BY published DESC LIMIT 1",
            )?
            .query_row(params![kind.as_str(), slug], |r| r.get(0))
            .optional()?;
        Ok(label.map(|term| Category {
            term,
            slug: slug.to_owned(),
        }))
    }
}
