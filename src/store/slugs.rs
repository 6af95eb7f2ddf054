//! The slug of each section, assigned the first time the section is written and kept in
//! the `slugs` table for good: two sections whose names slugify alike ("C++" and "C#")
//! get a feed each, and a restart or a later edit never moves a feed. Which names are one
//! section, and which slug a new one gets, are `normalize`'s rules (`term_identity`,
//! `assign_slug`); the table is keyed by kind, so tags and authors have slugs of their own
//! beside the sections'.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use crate::normalize::{assign_slug, term_identity};

/// The kind of the sections' slugs in the `slugs` table.
pub(super) const SECTION: &str = "section";
/// The kind of the tags' slugs (and of their rows in `entry_terms`).
pub(super) const TAG: &str = "tag";
/// The kind of the authors' slugs (and of their rows in `entry_terms`).
pub(super) const AUTHOR: &str = "author";

/// A writer's memory of the slugs it has looked up or assigned, by the name as written:
/// a bulk writes thousands of entries of the same few sections, and each would otherwise
/// cost a lookup. It holds only what the writer's transaction holds, so it lives no
/// longer than the writer (whose transaction rolls back when it is dropped).
#[derive(Debug, Default)]
pub(super) struct Slugs {
    /// By kind, then name as written.
    known: HashMap<&'static str, HashMap<String, String>>,
}

impl Slugs {
    /// The slug of the section named `term`, assigned now if the section is new.
    pub(super) fn section(&mut self, conn: &Connection, term: &str) -> rusqlite::Result<String> {
        self.slug(conn, SECTION, term)
    }

    /// The slug of `term` among the terms of `kind`, assigned now if the term is new.
    pub(super) fn slug(
        &mut self,
        conn: &Connection,
        kind: &'static str,
        term: &str,
    ) -> rusqlite::Result<String> {
        let known = self.known.entry(kind).or_default();
        if let Some(slug) = known.get(term) {
            return Ok(slug.clone());
        }
        let slug = slug_of(conn, kind, term)?;
        known.insert(term.to_owned(), slug.clone());
        Ok(slug)
    }
}

/// The slug of `term` among the terms of `kind`: the one it was given, or the one
/// [`assign_slug`] gives it now, recorded.
pub(super) fn slug_of(conn: &Connection, kind: &str, term: &str) -> rusqlite::Result<String> {
    let identity = term_identity(term);
    let known: Option<String> = conn
        .prepare_cached("SELECT slug FROM slugs WHERE kind = ?1 AND term = ?2")?
        .query_row(params![kind, identity], |r| r.get(0))
        .optional()?;
    if let Some(slug) = known {
        return Ok(slug);
    }
    let mut taken = conn.prepare_cached("SELECT 1 FROM slugs WHERE kind = ?1 AND slug = ?2")?;
    let slug = assign_slug(term, |candidate| taken.exists(params![kind, candidate]))?;
    conn.prepare_cached("INSERT INTO slugs (kind, term, slug) VALUES (?1, ?2, ?3)")?
        .execute(params![kind, identity, slug])?;
    Ok(slug)
}

/// The migration that creates the table gives the sections already stored their slugs,
/// in the order of their oldest entry (the order a new ingest of the same folder would
/// see them): the section that wrote a shared slug first keeps it, and the entries of
/// the others move to slugs of their own. Logged, since their feeds' URLs change.
pub(super) fn fill_from_entries(conn: &Connection) -> Result<(), StoreError> {
    // One read of the section index; each update then walks the entries of one old slug.
    let mut stmt = conn.prepare(
        "SELECT section, category_slug, min(published) AS oldest FROM entries \
         WHERE section IS NOT NULL GROUP BY section, category_slug \
         ORDER BY oldest, section",
    )?;
    let sections: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (section, old) in sections {
        let slug = slug_of(conn, SECTION, &section)?;
        if old.as_deref() == Some(slug.as_str()) {
            continue;
        }
        conn.execute(
            "UPDATE entries SET category_slug = ?3 WHERE category_slug IS ?2 AND section = ?1",
            params![section, old, slug],
        )?;
        tracing::info!(
            section,
            from = old,
            to = slug,
            "section given a feed of its own"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        conn
    }

    #[test]
    fn sections_that_slugify_alike_get_slugs_of_their_own_for_good() {
        let conn = store();
        let mut slugs = Slugs::default();
        let cpp = slugs.section(&conn, "C++").unwrap();
        let sharp = slugs.section(&conn, "C#").unwrap();
        assert_eq!(cpp, "c");
        assert_ne!(sharp, cpp);
        assert!(sharp.starts_with("c-"), "{sharp}");
        // Another writer (a restart) finds the same slugs, in any order, and one name
        // in another case is the same section.
        let mut again = Slugs::default();
        assert_eq!(again.section(&conn, "C#").unwrap(), sharp);
        assert_eq!(again.section(&conn, "c++").unwrap(), cpp);
        assert_eq!(again.section(&conn, "C++").unwrap(), cpp);
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM slugs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
    }

    #[test]
    fn kinds_have_slugs_of_their_own() {
        let conn = store();
        assert_eq!(slug_of(&conn, SECTION, "C++").unwrap(), "c");
        assert_eq!(slug_of(&conn, "tag", "C#").unwrap(), "c");
    }
}
