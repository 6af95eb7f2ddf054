//! `seedfeed backup`: a consistent copy of the database, made with SQLite's online backup
//! while the daemon serves and writes it.
//!
//! The copy reads one snapshot of the database: a read transaction is held on the source
//! connection across every step, so a commit of the daemon's between two steps neither
//! shows up half in the copy nor makes SQLite start the copy over (which it does when
//! the source changes under a backup that reads without one). In WAL mode a reader never
//! blocks the writer, so the daemon goes on ingesting; only its checkpoints stop at the
//! snapshot, and the WAL grows by what it writes meanwhile until the copy is done. The
//! pages are copied a few at a time with a pause between, so that the copy does not take
//! the disk from the daemon, and so that a big database reports its progress.
//!
//! The copy is written to a temporary file beside the target, switched to a single file
//! (rollback journal: no `-wal` to carry along), checked with `PRAGMA integrity_check`,
//! and only then renamed onto the target: the target is never a half copy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::DATABASE_FILE;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no database at {path} (config key `data` names its folder)")]
    NoDatabase { path: PathBuf },
    #[error("{target} is the live database or one of its files; back it up to another file")]
    LiveDatabase { target: PathBuf },
    #[error("{target} is a folder; give the file to write the copy to")]
    Folder { target: PathBuf },
    #[error("cannot read the database {path}")]
    Read {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot write the copy {path}")]
    Write {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot write the copy {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database stayed locked; the copy {path} was not made")]
    Busy { path: PathBuf },
    #[error("the copy of {path} fails SQLite's integrity check, so it was not kept: {report}")]
    Damaged { path: PathBuf, report: String },
}

/// How the copy goes: pages a step, and the pause between two steps.
#[derive(Debug, Clone, Copy)]
pub struct BackupPace {
    pub pages_per_step: u32,
    pub pause: Duration,
}

impl Default for BackupPace {
    /// 64 pages a step (4 MiB at the store's 64 KiB pages) and a short pause.
    fn default() -> Self {
        Self {
            pages_per_step: 64,
            pause: Duration::from_millis(5),
        }
    }
}

/// How far a copy is: pages copied out of the database's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupProgress {
    pub copied: u64,
    pub total: u64,
}

/// What was copied: the copy's size, its live entries, and SQLite's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub bytes: u64,
    pub entries: u64,
    pub integrity: String,
}

/// Busy steps (a writer holding the file in a state a reader must wait out) retried before
/// giving up: SQLite's own retries come first (the busy timeout).
const BUSY_RETRIES: u32 = 100;

/// Copies the database of `data_dir` to `target` (see the module documentation); calls
/// `progress` after each step.
pub fn backup(
    data_dir: &Path,
    target: &Path,
    pace: BackupPace,
    mut progress: impl FnMut(BackupProgress),
) -> Result<BackupReport, BackupError> {
    let source_path = data_dir.join(DATABASE_FILE);
    if !source_path.is_file() {
        return Err(BackupError::NoDatabase { path: source_path });
    }
    refuse_live(&source_path, target)?;
    let temp = temp_beside(target);
    let outcome = copy_to(&source_path, &temp, target, pace, &mut progress)
        .and_then(|()| finish_copy(&temp, target));
    match outcome {
        Ok(report) => Ok(report),
        Err(error) => {
            // Nothing half-made is left behind, beside the target or at it.
            let _ = std::fs::remove_file(&temp);
            Err(error)
        }
    }
}

/// SQLite's `PRAGMA integrity_check` of the database file at `path`, opened read-only:
/// `ok`, or the problems it lists, one a line.
pub fn integrity_check(path: &Path) -> Result<String, rusqlite::Error> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    integrity_of(&conn)
}

fn integrity_of(conn: &Connection) -> Result<String, rusqlite::Error> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines = stmt.query_map([], |row| row.get::<_, String>(0))?;
    Ok(lines.collect::<Result<Vec<_>, _>>()?.join("\n"))
}

/// The target must not be the live database, its WAL or its shared memory: writing over
/// any of them would damage what the daemon is using. Compared by the files themselves
/// where they exist (a hard link or another path to the same file), else by name in the
/// same folder.
fn refuse_live(source: &Path, target: &Path) -> Result<(), BackupError> {
    if target.is_dir() {
        return Err(BackupError::Folder {
            target: target.to_owned(),
        });
    }
    let live = || BackupError::LiveDatabase {
        target: target.to_owned(),
    };
    let mut companions = vec![source.to_owned()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = source.as_os_str().to_owned();
        name.push(suffix);
        companions.push(PathBuf::from(name));
    }
    if let Ok(target_meta) = std::fs::metadata(target) {
        for companion in &companions {
            if std::fs::metadata(companion).is_ok_and(|meta| same_file(&meta, &target_meta)) {
                return Err(live());
            }
        }
    }
    let folder = |path: &Path| {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        std::fs::canonicalize(parent.unwrap_or(Path::new(".")))
            .ok()
            .zip(path.file_name().map(ToOwned::to_owned))
    };
    let target_place = folder(target);
    if target_place.is_some() && companions.iter().any(|c| folder(c) == target_place) {
        return Err(live());
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// `.{name}.backup-{pid}` in the target's folder: the same filesystem, so the rename is
/// atomic; hidden, and named for the process that writes it.
fn temp_beside(target: &Path) -> PathBuf {
    let name = target.file_name().map_or_else(
        || "seedfeed.db".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    target.with_file_name(format!(".{name}.backup-{}", std::process::id()))
}

/// The copy itself, into `temp`, from one snapshot of the source.
fn copy_to(
    source_path: &Path,
    temp: &Path,
    target: &Path,
    pace: BackupPace,
    progress: &mut impl FnMut(BackupProgress),
) -> Result<(), BackupError> {
    let read = |source| BackupError::Read {
        path: source_path.to_owned(),
        source,
    };
    let write = |source| BackupError::Write {
        path: target.to_owned(),
        source,
    };
    let source =
        Connection::open_with_flags(source_path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(read)?;
    source.busy_timeout(Duration::from_secs(5)).map_err(read)?;
    // The read transaction that pins the snapshot: a deferred BEGIN reads nothing until
    // the first statement, which the count is.
    source.execute_batch("BEGIN").map_err(read)?;
    source
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(read)?;
    if temp.exists() {
        std::fs::remove_file(temp).map_err(|source| BackupError::Io {
            path: target.to_owned(),
            source,
        })?;
    }
    let mut copy = Connection::open(temp).map_err(write)?;
    {
        let backup = Backup::new(&source, &mut copy).map_err(write)?;
        run_steps(&backup, pace, progress, target)?;
    }
    source.execute_batch("COMMIT").map_err(read)?;
    // One file, whatever mode the source was in: the header says WAL after the copy.
    let mode: String = copy
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .map_err(write)?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(BackupError::Write {
            path: target.to_owned(),
            source: rusqlite::Error::InvalidQuery,
        });
    }
    copy.close().map_err(|(_, source)| write(source))
}

/// Steps through the copy, reporting after each, pausing between; a busy or locked step
/// is tried again a bounded number of times.
fn run_steps(
    backup: &Backup<'_, '_>,
    pace: BackupPace,
    progress: &mut impl FnMut(BackupProgress),
    target: &Path,
) -> Result<(), BackupError> {
    let pages = i32::try_from(pace.pages_per_step.max(1)).unwrap_or(i32::MAX);
    let mut busy = 0;
    loop {
        let step = backup.step(pages).map_err(|source| BackupError::Write {
            path: target.to_owned(),
            source,
        })?;
        let state = backup.progress();
        let total = u64::try_from(state.pagecount).unwrap_or(0);
        let remaining = u64::try_from(state.remaining).unwrap_or(0);
        progress(BackupProgress {
            copied: total.saturating_sub(remaining),
            total,
        });
        match step {
            StepResult::Done => return Ok(()),
            StepResult::More => busy = 0,
            StepResult::Busy | StepResult::Locked => {
                busy += 1;
                if busy > BUSY_RETRIES {
                    return Err(BackupError::Busy {
                        path: target.to_owned(),
                    });
                }
            }
            // A variant a later rusqlite may add: wait and step again, boundedly.
            _ => busy += 1,
        }
        std::thread::sleep(pace.pause);
    }
}

/// Checks the finished copy, makes it durable and renames it onto the target.
fn finish_copy(temp: &Path, target: &Path) -> Result<BackupReport, BackupError> {
    let io = |source| BackupError::Io {
        path: target.to_owned(),
        source,
    };
    let read_copy = |source| BackupError::Write {
        path: target.to_owned(),
        source,
    };
    let conn =
        Connection::open_with_flags(temp, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(read_copy)?;
    let integrity = integrity_of(&conn).map_err(read_copy)?;
    if integrity != "ok" {
        return Err(BackupError::Damaged {
            path: target.to_owned(),
            report: integrity,
        });
    }
    let entries: i64 = conn
        .query_row(
            "SELECT count(*) FROM entries WHERE deleted IS NULL",
            [],
            |r| r.get(0),
        )
        .map_err(read_copy)?;
    drop(conn);
    let file = std::fs::File::open(temp).map_err(io)?;
    file.sync_all().map_err(io)?;
    let bytes = file.metadata().map_err(io)?.len();
    std::fs::rename(temp, target).map_err(io)?;
    // The rename itself is durable once the folder is.
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(folder) = std::fs::File::open(parent)
    {
        let _ = folder.sync_all();
    }
    Ok(BackupReport {
        bytes,
        entries: entries.max(0) as u64,
        integrity,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::store::{FileChange, Store};

    /// The article file `{key}.md`, read.
    fn article(key: &str) -> FileChange {
        let text = format!("World\n\nStory {key}\n\n\nBody of {key}.\n");
        FileChange::article_for_tests(key, &format!("{key}.md"), &text)
    }

    /// A store of `count` entries in `dir`.
    fn store_of(dir: &Path, count: usize) -> Store {
        let mut store = Store::open(dir).unwrap();
        for i in 0..count {
            store
                .apply(&[article(&format!("k{i}"))], Utc::now())
                .unwrap();
        }
        store
    }

    fn live_entries(path: &Path) -> i64 {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        conn.query_row(
            "SELECT count(*) FROM entries WHERE deleted IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn the_copy_is_the_snapshot_it_started_from_though_the_writer_commits_between_steps() {
        let data = tempfile::tempdir().unwrap();
        let mut store = store_of(data.path(), 40);
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("copy.db");
        let pace = BackupPace {
            pages_per_step: 1,
            pause: Duration::ZERO,
        };
        let mut steps = 0;
        let mut more = 40;
        let report = backup(data.path(), &target, pace, |progress| {
            steps += 1;
            assert!(progress.copied <= progress.total);
            // The daemon commits between the steps (another connection, as another
            // process would): none of it is in the copy, and the copy is not restarted.
            if more < 60 {
                store
                    .apply(&[article(&format!("k{more}"))], Utc::now())
                    .unwrap();
                more += 1;
            }
        })
        .unwrap();
        assert!(steps > 1, "copied in steps");
        assert_eq!(report.entries, 40);
        assert_eq!(report.integrity, "ok");
        assert_eq!(live_entries(&target), 40);
        assert_eq!(integrity_check(&target).unwrap(), "ok");
        assert_eq!(report.bytes, std::fs::metadata(&target).unwrap().len());
        // One file: its header says rollback journal (1), not WAL (2), and nothing else
        // was left beside it.
        let header = std::fs::read(&target).unwrap();
        assert_eq!((header[18], header[19]), (1, 1));
        let left: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("copy.db")]);
        // The live database went on: it has all 60.
        assert_eq!(store.counts().unwrap().entries, 60);
    }

    #[test]
    fn the_live_database_and_its_files_are_refused() {
        let data = tempfile::tempdir().unwrap();
        let _store = store_of(data.path(), 1);
        let live = data.path().join(DATABASE_FILE);
        let before = std::fs::read(&live).unwrap();
        let link = data.path().join("other-name.db");
        std::fs::hard_link(&live, &link).unwrap();
        let relative = data.path().join("sub/../seedfeed.db");
        std::fs::create_dir(data.path().join("sub")).unwrap();
        for target in [
            live.clone(),
            data.path().join("seedfeed.db-wal"),
            data.path().join("seedfeed.db-shm"),
            link,
            relative,
        ] {
            let error = backup(data.path(), &target, BackupPace::default(), |_| {}).unwrap_err();
            assert!(
                matches!(error, BackupError::LiveDatabase { .. }),
                "{}: {error}",
                target.display()
            );
            assert!(error.to_string().contains(&target.display().to_string()));
        }
        assert_eq!(std::fs::read(&live).unwrap(), before);
    }

    #[test]
    fn failures_name_the_file_and_leave_nothing_behind() {
        let data = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let missing = backup(
            data.path(),
            &out.path().join("x.db"),
            BackupPace::default(),
            |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(missing, BackupError::NoDatabase { .. }),
            "{missing}"
        );
        let _store = store_of(data.path(), 1);
        let nowhere = out.path().join("no/such/folder/copy.db");
        let error = backup(data.path(), &nowhere, BackupPace::default(), |_| {}).unwrap_err();
        assert!(
            error.to_string().contains("no/such/folder/copy.db"),
            "{error}"
        );
        let folder = backup(data.path(), out.path(), BackupPace::default(), |_| {}).unwrap_err();
        assert!(matches!(folder, BackupError::Folder { .. }), "{folder}");
        // A file already at the target is replaced whole.
        let target = out.path().join("copy.db");
        std::fs::write(&target, b"an older copy").unwrap();
        let report = backup(data.path(), &target, BackupPace::default(), |_| {}).unwrap();
        assert_eq!(report.entries, 1);
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    }
}
