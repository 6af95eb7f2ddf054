//! The schema, as numbered migrations. `PRAGMA user_version` records how many have run;
//! each runs in its own transaction, so a crash leaves the database at a whole version.
//! A migration whose work SQL cannot do alone finishes in Rust (`finish`), in the same
//! transaction.

use rusqlite::Connection;

use super::{StoreError, slugs};

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
    // index (the table's rows hold whole articles, too many to scan for the list of
    // sections).
    "CREATE INDEX entries_by_category ON entries (category_slug, published, deleted, section);",
    // 4: a layout that costs less to write, the store's share of a cold ingest. The
    // publication
    // number is the rowid, so new entries append to the table and need no index of their
    // own; one index on the date serves the feeds and the search for a free millisecond;
    // one on the section serves section feeds and the list of sections; the id, derived
    // from the key, needs no unique index; hashes are 32-byte blobs, not 64 hex digits.
    // Files are keyed by path without a rowid, and only files set aside (a few) are
    // indexed by status.
    "CREATE TABLE entries_v4 (
        seq           INTEGER PRIMARY KEY, -- order of first publication (archive pages)
        key           TEXT NOT NULL UNIQUE,
        id            TEXT NOT NULL,
        title         TEXT NOT NULL,
        section       TEXT,
        category_slug TEXT,
        caption       TEXT,
        summary       TEXT NOT NULL,
        content_html  TEXT NOT NULL,
        related       TEXT NOT NULL,       -- JSON array of headlines
        content_hash  BLOB NOT NULL,       -- SHA-256 of the normalized article
        published     INTEGER NOT NULL,    -- unix ms; never changes
        updated       INTEGER NOT NULL,    -- unix ms of the last content change
        deleted       INTEGER              -- unix ms its file went away; NULL while live
    ) STRICT;
    -- A hash that is not hex (a damaged row) keeps its bytes, and reads as damaged.
    INSERT INTO entries_v4 (seq, key, id, title, section, category_slug, caption, summary,
        content_html, related, content_hash, published, updated, deleted)
    SELECT seq, key, id, title, section, category_slug, caption, summary, content_html,
        related, coalesce(unhex(content_hash), CAST(content_hash AS BLOB)), published, updated,
        deleted FROM entries ORDER BY seq;
    DROP TABLE entries;
    ALTER TABLE entries_v4 RENAME TO entries;
    CREATE INDEX entries_by_date ON entries (published, key, deleted);
    CREATE INDEX entries_live_by_hash ON entries (content_hash) WHERE deleted IS NULL;
    CREATE INDEX entries_by_category ON entries (category_slug, published, key, deleted, section);
    CREATE INDEX entries_deleted ON entries (deleted) WHERE deleted IS NOT NULL;
    CREATE TABLE files_v4 (
        path         TEXT PRIMARY KEY,     -- relative to the seeds folder
        key          TEXT NOT NULL,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        content_hash BLOB,                 -- NULL for rejects
        status       TEXT NOT NULL CHECK (status IN ('published', 'duplicate', 'rejected')),
        reject_code  TEXT,                 -- for rejects: a RejectReason code
        detail       TEXT,                 -- reject message, or the key a duplicate repeats
        since        INTEGER NOT NULL      -- unix ms the status was first set
    ) STRICT, WITHOUT ROWID;
    INSERT INTO files_v4 SELECT path, key, size, mtime_ns, unhex(content_hash), status,
        reject_code, detail, since FROM files;
    DROP TABLE files;
    ALTER TABLE files_v4 RENAME TO files;
    CREATE INDEX files_by_key ON files (key);
    -- Queries that use it repeat its condition, which is how SQLite knows they may.
    CREATE INDEX files_set_aside ON files (status, detail) WHERE status != 'published';",
    // 5: WebSub (crate::websub): the built-in hub's subscriptions, the deliveries and
    // pings still to send, and the version of each feed last announced, so that a
    // restart neither loses a change nor announces one twice.
    "CREATE TABLE websub_subscriptions (
        topic      TEXT NOT NULL,         -- the feed's URL
        callback   TEXT NOT NULL,
        secret     TEXT,                  -- signs deliveries (X-Hub-Signature)
        lease_ends INTEGER NOT NULL,      -- unix ms
        since      INTEGER NOT NULL,      -- unix ms of the first verified subscription
        PRIMARY KEY (topic, callback)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE websub_outbox (
        kind       TEXT NOT NULL CHECK (kind IN ('deliver', 'ping')),
        target     TEXT NOT NULL,         -- a subscriber's callback, or a hub
        topic      TEXT NOT NULL,
        due        INTEGER NOT NULL,      -- unix ms of the next attempt
        first      INTEGER NOT NULL,      -- unix ms the oldest unsent change was queued
        attempts   INTEGER NOT NULL,      -- failed attempts since then
        changes    INTEGER NOT NULL,      -- bumped by each change queued while pending
        last_error TEXT,
        PRIMARY KEY (kind, target, topic)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX websub_outbox_by_due ON websub_outbox (due);
    CREATE TABLE websub_versions (
        path TEXT PRIMARY KEY,            -- a feed's path
        etag TEXT NOT NULL                -- the version last announced
    ) STRICT, WITHOUT ROWID;",
    // 6: the files' status checked with comparisons. SQLite codes a CHECK of `IN (three
    // values)` as a temporary B-tree built at every INSERT and UPDATE, which was about a
    // third of the time of writing a file's row in a cold ingest.
    "CREATE TABLE files_v6 (
        path         TEXT PRIMARY KEY,     -- relative to the seeds folder
        key          TEXT NOT NULL,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        content_hash BLOB,                 -- NULL for rejects
        status       TEXT NOT NULL
            CHECK (status = 'published' OR status = 'duplicate' OR status = 'rejected'),
        reject_code  TEXT,                 -- for rejects: a RejectReason code
        detail       TEXT,                 -- reject message, or the key a duplicate repeats
        since        INTEGER NOT NULL      -- unix ms the status was first set
    ) STRICT, WITHOUT ROWID;
    INSERT INTO files_v6 (path, key, size, mtime_ns, content_hash, status, reject_code,
        detail, since)
    SELECT path, key, size, mtime_ns, content_hash, status, reject_code, detail, since
        FROM files;
    DROP TABLE files;
    ALTER TABLE files_v6 RENAME TO files;
    CREATE INDEX files_by_key ON files (key);
    CREATE INDEX files_set_aside ON files (status, detail) WHERE status != 'published';",
    // 7: the slug of each section (and, by kind, of anything else with a feed of its
    // own), assigned once: sections whose names slugify alike shared one feed. `term` is
    // the name as `normalize::term_identity` makes it. The sections already stored get
    // their slugs in `finish`.
    "CREATE TABLE slugs (
        kind TEXT NOT NULL,               -- 'section'
        term TEXT NOT NULL,
        slug TEXT NOT NULL,
        PRIMARY KEY (kind, term),
        UNIQUE (kind, slug)
    ) STRICT, WITHOUT ROWID;",
    // 8: articles with front matter. `meta` holds what an entry carries beyond the seed
    // format (tags, authors, image, link, dates given; NULL for plain articles).
    // `entry_terms` lists the tags and authors of the live entries, in the order of their
    // feeds; `given_ids` the ids articles kept from an older system, which must stay
    // unique. A file may be held back (a draft, or dated in the future: `until` is when
    // it is due); a published file's `detail` lists the warnings its last read gave.
    "ALTER TABLE entries ADD COLUMN meta TEXT;
    CREATE TABLE entry_terms (
        kind      TEXT NOT NULL,           -- 'tag' or 'author'
        slug      TEXT NOT NULL,
        published INTEGER NOT NULL,        -- the entry's, for the order of the feed
        key       TEXT NOT NULL,
        label     TEXT NOT NULL,           -- the name as the entry writes it
        PRIMARY KEY (kind, slug, published, key)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE given_ids (
        id  TEXT PRIMARY KEY,
        key TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE files_v8 (
        path         TEXT PRIMARY KEY,     -- relative to the seeds folder
        key          TEXT NOT NULL,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        content_hash BLOB,                 -- NULL for rejects
        status       TEXT NOT NULL
            CHECK (status = 'published' OR status = 'duplicate' OR status = 'rejected'
                OR status = 'held'),
        reject_code  TEXT,                 -- a RejectReason code; held: draft or scheduled
        detail       TEXT,                 -- reject message, the key a duplicate repeats,
                                           -- why a file is held, a published file's warnings
        since        INTEGER NOT NULL,     -- unix ms the status was first set
        until        INTEGER               -- held: unix ms it is due (NULL for a draft)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO files_v8 (path, key, size, mtime_ns, content_hash, status, reject_code,
        detail, since)
    SELECT path, key, size, mtime_ns, content_hash, status, reject_code, detail, since
        FROM files;
    DROP TABLE files;
    ALTER TABLE files_v8 RENAME TO files;
    CREATE INDEX files_by_key ON files (key);
    CREATE INDEX files_set_aside ON files (status, detail) WHERE status != 'published';
    CREATE INDEX files_held_until ON files (until) WHERE until IS NOT NULL;
    CREATE INDEX files_warned ON files (path) WHERE status = 'published' AND detail IS NOT NULL;",
    // 9: media references (issue 20). A Markdown or HTML article stored before them
    // linked the images and episodes beside it through its entry page, where nothing is
    // served: each is read once more (a size no file has, so the start-up scan sees a
    // change) and gets its /media/ links, sizes and enclosure. Plain articles name no
    // media file.
    "UPDATE files SET size = -1 WHERE status = 'published' AND path NOT LIKE '%.txt';",
    // 10: the media files each article's last read referenced (store::media), found or
    // not, with the stamp the read found, so that a media file that appears, changes or
    // goes has the articles that reference it read again. Keyed by the media file's
    // path, which is how it is looked up; indexed by the article's, which a new read
    // replaces. The Markdown and HTML articles stored before it are read once more (as
    // in 9, which a database may have had already) so that their references are known.
    "CREATE TABLE media_refs (
        media    TEXT NOT NULL,            -- a media file's path below the seeds folder
        file     TEXT NOT NULL,            -- the article file (files.path) that references it
        size     INTEGER,                  -- what that file's last read found there:
        mtime_ns INTEGER,                  -- NULL when nothing was
        PRIMARY KEY (media, file)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX media_refs_by_file ON media_refs (file);
    UPDATE files SET size = -1
        WHERE (status = 'published' OR status = 'duplicate') AND path NOT LIKE '%.txt';",
    // 11: ActivityPub (crate::activitypub): the followers, the version of each entry
    // last announced to them, and the signature form each host took. Deliveries are rows
    // of the one outbox, of a third kind, so the outbox is built again with it allowed.
    "CREATE TABLE ap_followers (
        actor        TEXT PRIMARY KEY,      -- the follower's actor id
        inbox        TEXT NOT NULL,         -- its shared inbox, else its own
        host         TEXT NOT NULL,         -- the inbox's host, for the status
        follow       TEXT NOT NULL,         -- the Follow activity, which the Accept quotes
        since        INTEGER NOT NULL       -- unix ms of the Follow
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX ap_followers_by_inbox ON ap_followers (inbox);
    CREATE TABLE ap_versions (
        object  TEXT PRIMARY KEY,           -- an entry's id (its URL)
        updated INTEGER NOT NULL,           -- unix ms of the version announced
        deleted INTEGER NOT NULL            -- 1 once its Delete is queued
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE ap_hosts (
        host TEXT PRIMARY KEY,
        form TEXT NOT NULL CHECK (form IN ('rfc9421', 'cavage'))
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE websub_outbox_v11 (
        kind       TEXT NOT NULL CHECK (kind IN ('deliver', 'ping', 'activity')),
        target     TEXT NOT NULL,         -- a callback, a hub, or an inbox
        topic      TEXT NOT NULL,         -- a feed URL, or an activity and its object
        due        INTEGER NOT NULL,
        first      INTEGER NOT NULL,
        attempts   INTEGER NOT NULL,
        changes    INTEGER NOT NULL,
        last_error TEXT,
        PRIMARY KEY (kind, target, topic)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO websub_outbox_v11 SELECT * FROM websub_outbox;
    DROP TABLE websub_outbox;
    ALTER TABLE websub_outbox_v11 RENAME TO websub_outbox;
    CREATE INDEX websub_outbox_by_due ON websub_outbox (due);",
    // 12: the frozen archive pages by number. The newest one's number, asked for at every
    // start, read every stored page's row without it (each holds a whole page). Built
    // once, by one such read.
    "CREATE INDEX archive_pages_by_number ON archive_pages (number, path);",
];

/// The index of the live entries' content hashes (migration 4), for the lookup of an
/// article's content among them. A big bulk drops it and builds it again once done
/// (`Store::build_hash_index`), and a start builds it if a bulk was stopped first.
pub(super) const HASH_INDEX: &str = "entries_live_by_hash";
pub(super) const CREATE_HASH_INDEX: &str = "CREATE INDEX IF NOT EXISTS entries_live_by_hash \
     ON entries (content_hash) WHERE deleted IS NULL";
pub(super) const DROP_HASH_INDEX: &str = "DROP INDEX IF EXISTS entries_live_by_hash";

/// The part of migration `version` (numbered as `user_version` after it) written in
/// Rust, run after its SQL.
fn finish(version: usize, conn: &Connection) -> Result<(), StoreError> {
    match version {
        7 => slugs::fill_from_entries(conn),
        _ => Ok(()),
    }
}

/// Brings the schema up to date; returns the versions it migrated to, in order.
pub fn migrate(conn: &mut Connection) -> Result<std::ops::Range<usize>, StoreError> {
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
        finish(index + 1, &tx)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(version + 1..MIGRATIONS.len() + 1)
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

    /// Column `index` of every row `sql` gives, as text.
    fn column_of(conn: &Connection, sql: &str, index: usize) -> Vec<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(index))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Writing a row builds no temporary B-tree (a CHECK of `IN (...)` did, at every
    /// insert).
    #[test]
    fn writing_a_row_builds_no_temporary_btree() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        for sql in [
            "INSERT INTO files (path, key, size, mtime_ns, status, since) \
             VALUES ('a.txt', 'a', 1, 2, 'published', 3) \
             ON CONFLICT (path) DO UPDATE SET status = excluded.status",
            "INSERT INTO entries (key, id, title, summary, content_html, related, \
             content_hash, published, updated) VALUES ('a', 'i', 't', 's', 'c', '[]', x'00', 1, 1)",
        ] {
            let opcodes = column_of(&conn, &format!("EXPLAIN {sql}"), 1);
            assert!(
                !opcodes.iter().any(|op| op == "OpenEphemeral"),
                "{sql} opens a temporary B-tree"
            );
        }
    }

    /// What a start and every status read look up go through an index, not every row:
    /// the frozen archive pages' rows hold whole pages, and entries are a million rows.
    #[test]
    fn the_newest_archive_page_and_the_deleted_entries_are_found_by_an_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        for (sql, index) in [
            (
                "SELECT max(number) FROM archive_pages",
                "archive_pages_by_number",
            ),
            (
                "SELECT path FROM archive_pages ORDER BY number, path",
                "archive_pages_by_number",
            ),
            (
                "SELECT count(*) FROM entries WHERE deleted IS NOT NULL",
                "entries_deleted",
            ),
        ] {
            let plan = column_of(&conn, &format!("EXPLAIN QUERY PLAN {sql}"), 3);
            assert!(
                plan.iter().any(|step| step.contains(index))
                    && !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{sql}: {plan:?}"
            );
        }
    }
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;

    /// An in-memory database brought to schema `version` only, as an older seedfeed left it.
    fn at_version(version: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for (index, sql) in MIGRATIONS[..version].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            finish(index + 1, &conn).unwrap();
        }
        conn.pragma_update(None, "user_version", version as i64)
            .unwrap();
        conn
    }

    /// A database of schema 1 with entries gets publication numbers in date order.
    #[test]
    fn version_2_numbers_existing_entries_by_date() {
        let mut conn = at_version(1);
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

    /// Version 4 keeps every entry, its number and its hash (now bytes), and every file.
    #[test]
    fn version_4_keeps_entries_numbers_hashes_and_files() {
        let mut conn = at_version(3);
        let hex = "ab".repeat(32);
        for (seq, key, hash) in [(7, "a", hex.as_str()), (9, "b", "not hex")] {
            conn.execute(
                "INSERT INTO entries (key, id, title, summary, content_html, related, content_hash, published, updated, seq) \
                 VALUES (?1, ?1, 't', 's', 'c', '[]', ?2, ?3, ?3, ?3)",
                rusqlite::params![key, hash, seq],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO files (path, key, size, mtime_ns, content_hash, status, since) \
             VALUES ('a.txt', 'a', 1, 2, ?1, 'published', 3)",
            [&hex],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(i64, String, Vec<u8>)> = conn
            .prepare("SELECT seq, key, content_hash FROM entries ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (7, "a".to_owned(), vec![0xab; 32]),
                // Damaged before, still damaged: its bytes are kept for the reader to refuse.
                (9, "b".to_owned(), b"not hex".to_vec()),
            ]
        );
        let file: (String, Vec<u8>) = conn
            .query_row(
                "SELECT key, content_hash FROM files WHERE path = 'a.txt'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(file, ("a".to_owned(), vec![0xab; 32]));
    }
    /// Version 6 keeps every file, and still refuses a status that is none of the three.
    #[test]
    fn version_6_keeps_files_and_checks_their_status() {
        let mut conn = at_version(5);
        let insert = "INSERT INTO files (path, key, size, mtime_ns, content_hash, status, \
                      reject_code, detail, since) VALUES (?1, ?2, 1, 2, NULL, ?3, ?4, ?5, 3)";
        let rows = [
            ("a.txt", "a", "published", None, None),
            ("b.txt", "b", "duplicate", None, Some("a")),
            (
                "c.txt",
                "c",
                "rejected",
                Some("empty"),
                Some("the file is empty"),
            ),
        ];
        for (path, key, status, code, detail) in rows {
            conn.execute(insert, rusqlite::params![path, key, status, code, detail])
                .unwrap();
        }
        migrate(&mut conn).unwrap();
        type Row = (String, String, String, Option<String>, Option<String>);
        let kept: Vec<Row> = conn
            .prepare("SELECT path, key, status, reject_code, detail FROM files ORDER BY path")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<_> = rows
            .iter()
            .map(|(p, k, s, c, d)| {
                let own = |v: &Option<&str>| v.map(str::to_owned);
                (p.to_string(), k.to_string(), s.to_string(), own(c), own(d))
            })
            .collect();
        assert_eq!(kept, expected);
        let bad = conn.execute(
            insert,
            rusqlite::params!["d.txt", "d", "lost", None::<&str>, None::<&str>],
        );
        assert!(bad.is_err(), "a status outside the three was stored");
        for index in ["files_by_key", "files_set_aside"] {
            let found: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [index],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(found, 1, "{index} is missing");
        }
    }

    /// Version 9 marks the published Markdown and HTML articles to be read again (for
    /// their media references); plain ones and rejects keep their stamps.
    #[test]
    fn version_9_reads_stored_markdown_and_html_articles_again() {
        let mut conn = at_version(8);
        let files = [
            ("post.md", "published"),
            ("page/index.html", "published"),
            ("story.txt", "published"),
            ("broken.md", "rejected"),
        ];
        let expected = [
            ("broken.md", 100),
            ("page/index.html", -1),
            ("post.md", -1),
            ("story.txt", 100),
        ];
        assert_eq!(
            sizes_after_migration(&mut conn, &files),
            expected_sizes(&expected)
        );
    }

    /// The size of each file after `conn`, holding `files` (path and status, each of 100
    /// bytes), is migrated to the last version.
    fn sizes_after_migration(conn: &mut Connection, files: &[(&str, &str)]) -> Vec<(String, i64)> {
        for (path, status) in files {
            conn.execute(
                "INSERT INTO files (path, key, size, mtime_ns, status, since) \
                 VALUES (?1, ?1, 100, 1, ?2, 1)",
                [path, status],
            )
            .unwrap();
        }
        migrate(conn).unwrap();
        conn.prepare("SELECT path, size FROM files ORDER BY path")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn expected_sizes(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
        expected
            .iter()
            .map(|&(path, size)| (path.to_owned(), size))
            .collect()
    }

    /// Version 10 adds the table of media references, empty, and marks the published
    /// and duplicate Markdown and HTML articles to be read again for theirs, even in a
    /// database that version 9 already marked and read.
    #[test]
    fn version_10_reads_markdown_and_html_articles_again_for_their_references() {
        let mut conn = at_version(9);
        let files = [
            ("post.md", "published"),
            ("copy.md", "duplicate"),
            ("story.txt", "published"),
            ("broken.md", "rejected"),
        ];
        let expected = [
            ("broken.md", 100),
            ("copy.md", -1),
            ("post.md", -1),
            ("story.txt", 100),
        ];
        assert_eq!(
            sizes_after_migration(&mut conn, &files),
            expected_sizes(&expected)
        );
        let refs: i64 = conn
            .query_row("SELECT count(*) FROM media_refs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(refs, 0);
    }

    /// Version 7 gives each stored section a slug: where names slugified alike, the
    /// section of the oldest entry keeps the shared slug and the others' entries, live
    /// or deleted, move to slugs of their own; one section in two cases stays one.
    #[test]
    fn version_7_gives_sections_that_shared_a_slug_slugs_of_their_own() {
        let mut conn = at_version(6);
        let rows = [
            ("sharp-new", "C#", 40, None),
            ("cpp", "C++", 10, None),
            ("sharp-old", "C#", 20, Some(25)),
            ("tech", "Tech", 30, None),
            ("tech-lower", "tech", 35, None),
            ("plain", "", 5, None),
        ];
        for (key, section, published, deleted) in rows {
            let section = (!section.is_empty()).then_some(section);
            let slug = section.map(crate::normalize::slugify);
            conn.execute(
                "INSERT INTO entries (key, id, title, section, category_slug, summary, \
                 content_html, related, content_hash, published, updated, deleted) \
                 VALUES (?1, ?1, 't', ?2, ?3, 's', 'c', '[]', x'00', ?4, ?4, ?5)",
                rusqlite::params![key, section, slug, published, deleted],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let slug_of = |key: &str| -> Option<String> {
            conn.query_row(
                "SELECT category_slug FROM entries WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(slug_of("cpp").as_deref(), Some("c"));
        let sharp = slug_of("sharp-old").unwrap();
        assert!(sharp.starts_with("c-"), "{sharp}");
        assert_eq!(slug_of("sharp-new"), Some(sharp.clone()));
        assert_eq!(slug_of("tech").as_deref(), Some("tech"));
        assert_eq!(slug_of("tech-lower").as_deref(), Some("tech"));
        assert_eq!(slug_of("plain"), None);
        // What the writer assigns from now on agrees with what the migration did.
        for (term, slug) in [("C#", sharp.as_str()), ("C++", "c"), ("TECH", "tech")] {
            assert_eq!(slugs::slug_of(&conn, slugs::SECTION, term).unwrap(), slug);
        }
    }
}
