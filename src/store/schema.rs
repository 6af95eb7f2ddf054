//! The schema, as numbered migrations. `PRAGMA user_version` records how many have run;
//! each runs in its own transaction, so a crash leaves the database at a whole version.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: entries and the files they came from.
    "CREATE TABLE entries (
        key           TEXT PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        title         TEXT NOT NULL,
        section       TEXT,
        category_slug TEXT,
        caption       TEXT,
        summary       TEXT NOT NULL,
        content_html  TEXT NOT NULL,
        related       TEXT NOT NULL,       -- JSON array of headlines
        content_hash  TEXT NOT NULL,       -- hex SHA-256 of the normalized article
        published     INTEGER NOT NULL,    -- unix ms; never changes
        updated       INTEGER NOT NULL,    -- unix ms of the last content change
        deleted       INTEGER              -- unix ms its file went away; NULL while live
    ) STRICT;
    CREATE INDEX entries_live_by_date ON entries (published DESC, key DESC) WHERE deleted IS NULL;
    CREATE INDEX entries_live_by_hash ON entries (content_hash) WHERE deleted IS NULL;
    CREATE INDEX entries_by_published ON entries (published);
    CREATE TABLE files (
        path         TEXT PRIMARY KEY,     -- relative to the seeds folder
        key          TEXT NOT NULL,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        content_hash TEXT,                 -- NULL for rejects
        status       TEXT NOT NULL CHECK (status IN ('published', 'duplicate', 'rejected')),
        reject_code  TEXT,                 -- for rejects: a RejectReason code
        detail       TEXT,                 -- reject message, or the key a duplicate repeats
        since        INTEGER NOT NULL      -- unix ms the status was first set
    ) STRICT;
    CREATE INDEX files_by_key ON files (key);
    CREATE INDEX files_by_status ON files (status, detail);",
    // 2: publication order (for RFC 5005 archive pages), frozen archive pages, per-section
    // feeds and tombstones.
    "ALTER TABLE entries ADD COLUMN seq INTEGER;
    WITH ordered AS (SELECT key, row_number() OVER (ORDER BY published, key) AS n FROM entries)
    UPDATE entries SET seq = ordered.n FROM ordered WHERE ordered.key = entries.key;
    CREATE UNIQUE INDEX entries_by_seq ON entries (seq);
    CREATE INDEX entries_live_by_category ON entries (category_slug, published DESC, key DESC)
        WHERE deleted IS NULL;
    CREATE INDEX entries_deleted ON entries (deleted) WHERE deleted IS NOT NULL;
    CREATE TABLE archive_pages (
        path          TEXT PRIMARY KEY,    -- /archive/{n}.atom
        number        INTEGER NOT NULL,
        body          BLOB NOT NULL,       -- the bytes served, never re-rendered
        gzip          BLOB,                -- its compressed variants, when smaller
        brotli        BLOB,
        media_type    TEXT NOT NULL,
        last_modified INTEGER NOT NULL     -- unix ms
    ) STRICT;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;",
    // 3: the sections, live or deleted, without reading the entries' text: a covering
    // index (the table's rows hold whole articles; scanning them for the list of sections
    // took a second at 20k entries).
    "CREATE INDEX entries_by_category ON entries (category_slug, published, deleted, section);",
];

pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;

    /// A database of schema 1 with entries gets publication numbers in date order.
    #[test]
    fn version_2_numbers_existing_entries_by_date() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        for (key, published) in [("late", 30), ("early", 10), ("middle", 20)] {
            conn.execute(
                "INSERT INTO entries (key, id, title, summary, content_html, related, content_hash, published, updated) \
                 VALUES (?1, ?1, 't', 's', 'c', '[]', 'h', ?2, ?2)",
                rusqlite::params![key, published],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let order: Vec<String> = conn
            .prepare("SELECT key FROM entries ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(order, ["early", "middle", "late"]);
    }
}
