//! The only module that knows SQL: entries and the files they came from, the media files
//! each article's last read referenced, frozen archive pages, the slugs of the sections,
//! and the push outbox, in SQLite (WAL).
//!
//! The ingest thread's [`Store`] is the only writer of entries and files, in
//! transactions on that thread ([`Writer`]), never on the async workers; its checkpoints
//! run on a thread of their own (`checkpoint`). Read-only stores ([`Store::open_reader`])
//! serve entry and archive pages to the HTTP workers, WebSub's [`Outbox`] has its own
//! connection, and `seedfeed check` applies the same rules to a store in memory. The
//! rules that make history stable (ids and published dates never change, `updated`
//! moves only with the content) are pure functions in `decide`. `backup` copies the
//! database while the daemon runs (`seedfeed backup`); `export` keeps the static
//! export's record of its files, in a temporary database of its own.

mod apply;
mod archives;
mod backup;
mod change;
mod checkpoint;
mod decide;
mod export;
mod file_rows;
mod followers;
mod identity;
mod known;
mod media;
mod outbox;
mod read;
mod schema;
mod slugs;
mod stamps;
mod terms;

pub use apply::Writer;
pub use backup::{BackupError, BackupPace, BackupProgress, BackupReport, backup, integrity_check};
pub use decide::date_order;
pub use export::{ExportFiles, ExportFilesError, ExportKind, ExportedFile};
pub use followers::{ActivityKind, Announced, SignatureForm};
pub use identity::{Identity, LEGACY_NAMESPACE, Namespace, Source, choose_namespace};
pub use media::MediaSeen;
pub use outbox::{Outbox, OutboxError, PushJob, PushKind, Subscription};
pub use stamps::{FileStamps, KnownFile};

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::model::{EntryDraft, EntryKey, FileStamp, RejectReason};

/// The database's file in the data folder.
pub const DATABASE_FILE: &str = "seedfeed.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data folder {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The data folder cannot be written: the OS says why ("Permission denied",
    /// "Read-only file system").
    #[error("cannot write in data folder {path}")]
    NotWritable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the database {path}")]
    DatabaseNotWritable {
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
    #[error("the database is in journal mode {mode}, not WAL")]
    NotWal { mode: String },
    #[error("cannot build the index of the entries' content hashes again")]
    HashIndex { source: rusqlite::Error },
    #[error("cannot start the database's checkpoint thread")]
    Thread { source: std::io::Error },
}

/// One settled change of one file in the seeds folder. `path` is relative to the folder.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every change is an article; boxing it would allocate once more per file"
)]
pub enum FileChange {
    Article {
        path: String,
        stamp: FileStamp,
        draft: EntryDraft,
        /// What reading the file had to repair or ignore (unknown front matter keys…),
        /// kept with the file for `/status` and `seedfeed check`.
        warnings: Vec<String>,
        /// The media files its references resolved to, found or not, with what the read
        /// found there: the article is read again when one of them changes.
        media: Vec<MediaRef>,
    },
    /// An article that is not to be published yet: a draft, or one dated in the future.
    /// Its entry, if it had one, leaves the feeds until the file says otherwise.
    Held {
        path: String,
        key: EntryKey,
        stamp: FileStamp,
        hold: Hold,
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

#[cfg(test)]
impl FileChange {
    /// The article `text` at `path`, read and normalized as the reader would, with a
    /// fixed stamp: the change the tests of the modules that apply changes start from.
    pub(crate) fn article_for_tests(key: &str, path: &str, text: &str) -> Self {
        let parsed = crate::parse::parse_article(text.as_bytes())
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        Self::Article {
            path: path.to_owned(),
            stamp: FileStamp {
                size: text.len() as u64,
                mtime_ns: 1_700_000_000_000_000_000,
            },
            draft: crate::normalize::normalize(
                EntryKey::new(key),
                &parsed.article,
                &crate::normalize::EntryContext::for_tests(),
            ),
            warnings: Vec::new(),
            media: Vec::new(),
        }
    }
}

/// A media file an article's read referenced (its path below the seeds folder, as the
/// reference resolves it), and its stamp as the read found it: `None` when nothing was
/// there. A file that could not be linked (refused, or with a header that lies) has its
/// stamp too, so that what changes it can be told from what does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub path: String,
    pub stamp: Option<FileStamp>,
}

/// Why an article file is held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// `draft: true`: held until the file says otherwise.
    Draft,
    /// Dated in the future: due then (a timer reads it again).
    Until(DateTime<Utc>),
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Draft => f.write_str("a draft"),
            Self::Until(due) => write!(f, "scheduled for {}", due.to_rfc3339()),
        }
    }
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
    /// Slugs of the sections whose feeds changed (an entry moving between sections
    /// touches both).
    pub categories: BTreeSet<String>,
    /// Slugs of the tags whose feeds changed.
    pub tags: BTreeSet<String>,
    /// Slugs of the authors whose feeds changed.
    pub authors: BTreeSet<String>,
    /// Files set aside in this batch (rejects and key conflicts).
    pub rejected: usize,
}

impl ApplyOutcome {
    pub fn feeds_changed(&self) -> bool {
        !self.published.is_empty() || !self.updated.is_empty() || !self.removed.is_empty()
    }

    /// Entries whose pages need rendering.
    pub fn changed(&self) -> impl Iterator<Item = &EntryKey> {
        self.published.iter().chain(&self.updated)
    }

    /// Adds what a later part of the same batch did.
    pub fn merge(&mut self, part: ApplyOutcome) {
        self.categories.extend(part.categories);
        self.tags.extend(part.tags);
        self.authors.extend(part.authors);
        self.published.extend(part.published);
        self.updated.extend(part.updated);
        self.removed.extend(part.removed);
        self.duplicates.extend(part.duplicates);
        self.requeue.extend(part.requeue);
        self.rejected += part.rejected;
    }
}

/// How many of each thing the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub entries: u64,
    pub published_files: u64,
    pub duplicates: u64,
    pub rejects: u64,
    /// Articles held back: drafts, and articles dated in the future.
    pub held: u64,
}

pub struct Store {
    /// Declared before the checkpointer: it closes first, and with it the hook that wakes
    /// the checkpointer, which then stops.
    conn: Connection,
    _checkpointer: Option<checkpoint::Checkpointer>,
    /// Whether the index of content hashes may be missing (a bulk dropped it): built
    /// again by [`Store::build_hash_index`].
    hash_index_dropped: Cell<bool>,
}

impl Store {
    /// Opens (creating if needed) `{data}/seedfeed.db` and brings its schema up to date.
    /// The folder is checked first: SQLite says only "unable to open database file"
    /// (error code 14) of a folder it cannot write, where the OS says why.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let file = data_dir.join(DATABASE_FILE);
        check_writable(data_dir, &file)?;
        Self::open_file(&file)
    }

    /// A second, read-only connection to the database in `data_dir`, for another thread
    /// (WAL: it reads the last commit while the writer goes on). The schema must exist.
    pub fn open_reader(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_reader_file(&data_dir.join(DATABASE_FILE))
    }

    /// [`Self::open_reader`] of this store's database, with a page cache of `cache_kib`
    /// (a reader that reads a table once from end to end needs little); `None` for a
    /// store in memory.
    pub fn reader(&self, cache_kib: i64) -> Option<Result<Self, StoreError>> {
        let file = self.conn.path().filter(|file| !file.is_empty())?;
        Some(Self::open_reader_file(Path::new(file)).and_then(|reader| {
            reader.conn.pragma_update(None, "cache_size", -cache_kib)?;
            Ok(reader)
        }))
    }

    fn open_reader_file(file: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        tune(&conn)?;
        Ok(Self {
            conn,
            _checkpointer: None,
            hash_index_dropped: Cell::new(false),
        })
    }

    /// A new temporary file in the database's folder (the system's temporary folder for
    /// a store in memory), gone once closed: for what an ingest keeps beside the store
    /// in proportion to the folder, on the disk that holds the data rather than in a
    /// temporary folder that may be memory.
    pub fn temp_file(&self) -> std::io::Result<std::fs::File> {
        let folder = self
            .conn
            .path()
            .and_then(|file| Path::new(file).parent())
            .filter(|folder| !folder.as_os_str().is_empty());
        match folder {
            Some(folder) => tempfile::tempfile_in(folder),
            None => tempfile::tempfile(),
        }
    }

    /// A store in memory, with the schema and nothing else: the store's own rules applied
    /// to files without keeping anything (`seedfeed check`).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        tune(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn,
            _checkpointer: None,
            hash_index_dropped: Cell::new(false),
        })
    }

    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        // 64 KiB pages for a new database (an existing one keeps its own). An article's
        // row (a few KB of text and HTML) took a small page to itself, half of it empty;
        // large pages hold many rows, so a bulk writes fewer pages and the database is
        // smaller (docs/performance.md has the figures).
        conn.pragma_update(None, "page_size", 65536)?;
        // WAL: readers never block the writer. NORMAL is durable against a process crash
        // (kill -9) in WAL mode; only an OS crash can lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "journal_size_limit", checkpoint::WAL_SIZE_LIMIT)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        tune(&conn)?;
        let migrated = schema::migrate(&mut conn)?;
        if migrated.start == 1 && !migrated.is_empty() {
            // A new database runs every migration: one line says so, not one a step.
            tracing::info!(path = %path.display(), schema_version = migrated.end - 1, "created the database");
        } else {
            for version in migrated {
                tracing::info!(version, "database schema migrated");
            }
        }
        let checkpointer = checkpoint::Checkpointer::start(path, &mut conn)?;
        let store = Self {
            conn,
            _checkpointer: Some(checkpointer),
            hash_index_dropped: Cell::new(false),
        };
        // A bulk that was stopped before it built the index again.
        let index: Option<i64> = store
            .conn
            .query_row(
                "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [schema::HASH_INDEX],
                |r| r.get(0),
            )
            .optional()?;
        if index.is_none() {
            store.hash_index_dropped.set(true);
            store.build_hash_index()?;
        }
        Ok(store)
    }
}

/// Whether the daemon can write in `data_dir` (SQLite also writes its `-wal` and `-shm`
/// files there) and, when it exists, the database `file`: a file created and removed
/// again, and the database opened for writing, each failing with the OS's reason.
fn check_writable(data_dir: &Path, file: &Path) -> Result<(), StoreError> {
    let not_writable = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::NotWritable { path, source }
    };
    let probe = data_dir.join(".seedfeed-write-check");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
        .map_err(not_writable(data_dir))?;
    std::fs::remove_file(&probe).map_err(not_writable(data_dir))?;
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::DatabaseNotWritable {
            path: file.to_owned(),
            source,
        }),
    }
}

/// The page cache of a connection, in KiB: 16 MiB, eight times SQLite's default, so
/// that the indexes of a big store stay in memory.
const CACHE_KIB: i64 = 16 * 1024;

/// Settings for how seedfeed uses its connections, each for the cost of an ingest
/// (docs/performance.md).
fn tune(conn: &Connection) -> Result<(), StoreError> {
    // The bundled SQLite has STAT4, under which a statement comparing a bound parameter
    // with an indexed column is compiled again whenever the value changes: every
    // statement of an ingest, every time. Our plans do not depend on the values.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Every statement of the ingest and the page reads stays prepared.
    conn.set_prepared_statement_cache_capacity(64);
    // Statement journals in memory, not in a temporary file each. In a transaction that
    // spans thousands of articles, an insert that could fail on the unique key after
    // touching other indexes keeps one, and each was a new file (O_TMPFILE) on disk.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store's reader reads its database and cannot write it; a store in memory has
    /// none.
    #[test]
    fn a_reader_reads_the_same_database_and_cannot_write() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('probe', 'written')",
                [],
            )
            .unwrap();
        let reader = store.reader(64).unwrap().unwrap();
        let value: String = reader
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'probe'", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(value, "written");
        let cache: i64 = reader
            .conn
            .query_row("PRAGMA cache_size", [], |row| row.get(0))
            .unwrap();
        assert_eq!(cache, -64);
        assert!(reader.conn.execute("DELETE FROM meta", []).is_err());
        assert!(Store::open_in_memory().unwrap().reader(64).is_none());
    }

    /// A temporary file is on the database's disk, in its folder, and leaves nothing
    /// there: the folder holds what it held before.
    #[test]
    fn a_temporary_file_is_beside_the_database_and_leaves_nothing() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let listing = || {
            let mut names: Vec<_> = std::fs::read_dir(data.path())
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            names.sort();
            names
        };
        let before = listing();
        let mut file = store.temp_file().unwrap();
        std::io::Write::write_all(&mut file, b"paths").unwrap();
        assert_eq!(listing(), before);
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = format!("/proc/self/fd/{}", file.as_raw_fd());
            let target = std::fs::read_link(fd).unwrap();
            let folder = data.path().canonicalize().unwrap();
            assert_eq!(target.parent(), Some(folder.as_path()), "{target:?}");
        }
        drop(file);
        assert_eq!(listing(), before);
        // A store in memory has a folder of none: the system's temporary one.
        assert!(Store::open_in_memory().unwrap().temp_file().is_ok());
    }
}
