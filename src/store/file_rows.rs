//! The `files` rows a writer's transaction has decided on and not yet written: held in
//! memory and written in path order before anything reads the table and at each commit.
//!
//! A bulk applies files in the order of their dates. When their names follow another
//! order (slugs, say), every row lands at a random place in the table (keyed by path) and
//! in its index by key, which outgrow SQLite's page cache in a big folder: each insert
//! read a page back from the OS and each commit rewrote most of both trees. Written in
//! path order, a commit reads and writes each page it touches once.

use rusqlite::{Connection, params};

/// One row of the `files` table, as `Batch::set_file_row` decided it.
pub(super) struct Row {
    pub(super) path: String,
    pub(super) key: String,
    pub(super) size: i64,
    pub(super) mtime_ns: i64,
    /// `None` when nothing could be read.
    pub(super) hash: Option<Vec<u8>>,
    pub(super) status: &'static str,
    pub(super) code: Option<&'static str>,
    pub(super) detail: Option<String>,
    /// Unix ms the status was set, kept from the stored row while the status stays.
    pub(super) since: i64,
    pub(super) until: Option<i64>,
}

/// The rows waiting, in the order they were decided.
#[derive(Default)]
pub(super) struct PendingFiles(Vec<Row>);

impl PendingFiles {
    pub(super) fn push(&mut self, row: Row) {
        self.0.push(row);
    }

    /// Writes the rows waiting, in path order. The sort is stable: two rows of one path
    /// are written in the order they were decided, the later one last.
    pub(super) fn write(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        self.0.sort_by(|a, b| a.path.cmp(&b.path));
        // `since` is kept while the file stays in the same state, so /status can say
        // since when.
        let mut upsert = tx.prepare_cached(
            "INSERT INTO files (path, key, size, mtime_ns, content_hash, status, \
             reject_code, detail, since, until) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (path) DO UPDATE SET key = excluded.key, size = excluded.size, \
             mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash, \
             since = CASE WHEN status = excluded.status AND detail IS excluded.detail \
             THEN since ELSE excluded.since END, \
             status = excluded.status, reject_code = excluded.reject_code, \
             detail = excluded.detail, until = excluded.until",
        )?;
        for row in self.0.drain(..) {
            upsert.execute(params![
                row.path,
                row.key,
                row.size,
                row.mtime_ns,
                row.hash,
                row.status,
                row.code,
                row.detail,
                row.since,
                row.until
            ])?;
        }
        Ok(())
    }
}
