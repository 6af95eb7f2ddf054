//! What a static export holds ([`ExportFiles`]): every file written, with its size, its
//! SHA-256, the document it belongs to (a page and its `.gz` and `.br` siblings are one),
//! what kind of document that is, and the last pass of the exporter that found it
//! current. The exporter compares a document with it before writing anything, removes
//! what a pass no longer finds, and writes the export's manifest from it, in path order.
//!
//! It is a temporary database of its own (SQLite deletes the file when the connection
//! closes), not a table of the daemon's: the manifest in the export folder is the record
//! that lasts, read back into it when the exporter starts. On disk rather than in
//! memory, so that an export of a million pages costs the daemon a page cache, not a map
//! of every path.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// What kind of document a file belongs to: what tells the exporter when to look at it
/// again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A document of the served snapshot: the feeds, the index, the lists.
    Feed,
    /// A listing page, or a tag's or an author's feed.
    Listing,
    /// An entry's page.
    Entry,
    /// A frozen archive page.
    Archive,
    /// A media file copied from the seeds folder.
    Media,
    /// A file of the export itself (`_headers`).
    Site,
}

impl ExportKind {
    fn code(self) -> i64 {
        match self {
            Self::Feed => 1,
            Self::Listing => 2,
            Self::Entry => 3,
            Self::Archive => 4,
            Self::Media => 5,
            Self::Site => 6,
        }
    }
}

/// One file of the export: its path in the folder, its size and its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

pub struct ExportFiles {
    conn: Connection,
}

impl ExportFiles {
    /// An empty record, in a temporary database.
    pub fn new() -> Result<Self, StoreError> {
        let conn = Connection::open("")?;
        // A temporary record: a crash loses nothing the manifest does not hold.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             CREATE TABLE files (
                 path TEXT PRIMARY KEY,
                 doc TEXT NOT NULL,
                 kind INTEGER,
                 size INTEGER NOT NULL,
                 sha256 TEXT NOT NULL,
                 seen INTEGER NOT NULL DEFAULT 0
             ) WITHOUT ROWID;
             CREATE INDEX files_doc ON files (doc);
             BEGIN;",
        )?;
        Ok(Self { conn })
    }

    /// Commits what the pass did (the record is always in a transaction: one per pass).
    pub fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT; BEGIN;")?;
        Ok(())
    }

    /// A file read from a manifest, of `doc`: its kind is not known until a pass finds it.
    pub fn add_listed(&self, file: &ExportedFile, doc: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO files (path, doc, kind, size, sha256, seen) \
                 VALUES (?1, ?2, NULL, ?3, ?4, 0)",
            )?
            .execute(params![file.path, doc, file.size as i64, file.sha256])?;
        Ok(())
    }

    /// The file at `path`, if the export holds it.
    pub fn get(&self, path: &str) -> Result<Option<ExportedFile>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT size, sha256 FROM files WHERE path = ?1")?
            .query_row([path], |row| {
                Ok(ExportedFile {
                    path: path.to_owned(),
                    size: row.get::<_, i64>(0)?.max(0) as u64,
                    sha256: row.get(1)?,
                })
            })
            .optional()?)
    }

    /// Records a file written for `doc`, current in `pass`.
    pub fn put(
        &self,
        file: &ExportedFile,
        doc: &str,
        kind: ExportKind,
        pass: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO files (path, doc, kind, size, sha256, seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                file.path,
                doc,
                kind.code(),
                file.size as i64,
                file.sha256,
                pass
            ])?;
        Ok(())
    }

    /// Marks the files of `doc` current in `pass`, as of `kind`.
    pub fn touch(&self, doc: &str, kind: ExportKind, pass: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE files SET kind = ?2, seen = ?3 WHERE doc = ?1")?
            .execute(params![doc, kind.code(), pass])?;
        Ok(())
    }

    /// The paths of the files of `doc`.
    pub fn files_of(&self, doc: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path FROM files WHERE doc = ?1 ORDER BY path")?;
        let rows = stmt.query_map([doc], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets a file (removed from the folder).
    pub fn remove(&self, path: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM files WHERE path = ?1")?
            .execute([path])?;
        Ok(())
    }

    /// The files not found current in `pass`: of these kinds, or (`None`) of any kind,
    /// those read from the manifest and never found since included.
    pub fn unseen(
        &self,
        kinds: Option<&[ExportKind]>,
        pass: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, kind FROM files WHERE seen < ?1 ORDER BY path")?;
        let rows = stmt.query_map([pass], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?))
        })?;
        let mut paths = Vec::new();
        for row in rows {
            let (path, kind) = row?;
            let wanted = match kinds {
                None => true,
                Some(kinds) => kind.is_some_and(|code| kinds.iter().any(|k| k.code() == code)),
            };
            if wanted {
                paths.push(path);
            }
        }
        Ok(paths)
    }

    /// Every file, in path order (byte order), for the manifest.
    pub fn each(
        &self,
        mut each: impl FnMut(&ExportedFile) -> std::io::Result<()>,
    ) -> Result<usize, ExportFilesError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, size, sha256 FROM files ORDER BY path")
            .map_err(StoreError::from)?;
        let mut rows = stmt.query([]).map_err(StoreError::from)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let file = ExportedFile {
                path: row.get(0).map_err(StoreError::from)?,
                size: row.get::<_, i64>(1).map_err(StoreError::from)?.max(0) as u64,
                sha256: row.get(2).map_err(StoreError::from)?,
            };
            each(&file)?;
            count += 1;
        }
        Ok(count)
    }
}

/// Why the files could not be listed: the record, or what was done with each.
#[derive(Debug, thiserror::Error)]
pub enum ExportFilesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> ExportedFile {
        ExportedFile {
            path: path.into(),
            size,
            sha256: format!("{size:064x}"),
        }
    }

    #[test]
    fn a_pass_finds_what_it_no_longer_saw() {
        let files = ExportFiles::new().unwrap();
        files
            .add_listed(&file("old/index.html", 1), "old/index.html")
            .unwrap();
        files
            .put(&file("feed.atom", 2), "feed.atom", ExportKind::Feed, 1)
            .unwrap();
        files
            .put(&file("feed.atom.gz", 3), "feed.atom", ExportKind::Feed, 1)
            .unwrap();
        files
            .put(
                &file("page/2/index.html", 4),
                "page/2/index.html",
                ExportKind::Listing,
                1,
            )
            .unwrap();
        files.commit().unwrap();
        assert_eq!(
            files.get("feed.atom.gz").unwrap(),
            Some(file("feed.atom.gz", 3))
        );
        assert_eq!(files.get("nope").unwrap(), None);
        assert_eq!(
            files.files_of("feed.atom").unwrap(),
            ["feed.atom", "feed.atom.gz"]
        );

        // Pass 2 finds the feed still current, and looks only at feeds.
        files.touch("feed.atom", ExportKind::Feed, 2).unwrap();
        assert!(
            files
                .unseen(Some(&[ExportKind::Feed]), 2)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            files
                .unseen(Some(&[ExportKind::Feed, ExportKind::Listing]), 2)
                .unwrap(),
            ["page/2/index.html"]
        );
        // A full pass also finds what the manifest listed and nothing claimed since.
        assert_eq!(
            files.unseen(None, 2).unwrap(),
            ["old/index.html", "page/2/index.html"]
        );
        files.remove("old/index.html").unwrap();
        let mut listed = Vec::new();
        files
            .each(|f| {
                listed.push(f.path.clone());
                Ok(())
            })
            .unwrap();
        assert_eq!(listed, ["feed.atom", "feed.atom.gz", "page/2/index.html"]);
    }
}
