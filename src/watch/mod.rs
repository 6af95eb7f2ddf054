//! The seeds folder as the rest of the pipeline sees it: which names are articles, a safe
//! read of one file, a listing for reconcile scans, notify events translated into our own
//! [`WatchEvent`], and the settle rule that keeps half-written files out.

mod settle;

pub use settle::{Settled, Settler};

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::model::{EntryKey, RejectReason};
use crate::store::FileStamp;

/// The extension of article files (compared without regard to case).
const SEED_EXTENSION: &str = "txt";

/// The entry key of a file name, or `None` when the name is not an article's: hidden
/// files and editor or transfer temporaries (`.name.XXXXXX` from rsync, `.#name` and
/// `#name#` from Emacs, `name~` backups, `.swp`, `.tmp`, `.part`, vim's `4913` probe) are
/// never read.
pub fn seed_key(file_name: &str) -> Option<EntryKey> {
    if file_name.starts_with(['.', '#']) || file_name.ends_with(['~', '#']) {
        return None;
    }
    let (stem, extension) = file_name.rsplit_once('.')?;
    if stem.is_empty() || !extension.eq_ignore_ascii_case(SEED_EXTENSION) {
        return None;
    }
    Some(EntryKey::new(stem))
}

/// The outcome of reading one seed file.
#[derive(Debug)]
pub enum SeedRead {
    Read {
        bytes: Vec<u8>,
        stamp: FileStamp,
    },
    Rejected {
        stamp: FileStamp,
        reason: RejectReason,
    },
    /// The file is not there (any more): a removal.
    Gone,
}

/// The seeds folder, resolved once so that symlink targets can be checked against it.
#[derive(Debug, Clone)]
pub struct SeedFolder {
    root: PathBuf,
}

impl SeedFolder {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let root = std::fs::canonicalize(path)?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path relative to the folder, when `path` is an article file directly in it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        if path.parent()? != self.root {
            return None;
        }
        let name = path.file_name()?.to_str()?;
        seed_key(name).map(|_| name.to_owned())
    }

    /// Every article file in the folder with its stamp (reading none of them).
    pub fn scan(&self) -> std::io::Result<Vec<(String, FileStamp)>> {
        let mut found = Vec::new();
        for dirent in std::fs::read_dir(&self.root)? {
            let dirent = dirent?;
            let Some(name) = dirent.file_name().to_str().map(str::to_owned) else {
                tracing::warn!(path = ?dirent.path(), "file name is not UTF-8; skipped");
                continue;
            };
            if seed_key(&name).is_none() {
                continue;
            }
            let path = dirent.path();
            match stat(&path) {
                Some(meta) if meta.is_dir() => {}
                Some(meta) => found.push((name, stamp_of(&meta))),
                // Vanished since the listing, or a dangling symlink: reported when read.
                None => found.push((
                    name,
                    FileStamp {
                        size: 0,
                        mtime_ns: 0,
                    },
                )),
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }

    /// Reads one article file safely: only a regular file inside the folder is opened
    /// (a symlink may point to one), never a FIFO, socket or device, and never more than
    /// `max_bytes + 1` bytes are read.
    pub fn read(&self, relative: &str, max_bytes: u64) -> SeedRead {
        let path = self.root.join(relative);
        let link_meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return SeedRead::Gone,
            Err(e) => {
                return unreadable(
                    FileStamp {
                        size: 0,
                        mtime_ns: 0,
                    },
                    &e,
                );
            }
        };
        let (target, meta) = if link_meta.file_type().is_symlink() {
            match self.resolve_symlink(&path) {
                Ok(resolved) => resolved,
                Err(reason) => {
                    return SeedRead::Rejected {
                        stamp: stamp_of(&link_meta),
                        reason,
                    };
                }
            }
        } else {
            (path, link_meta)
        };
        let stamp = stamp_of(&meta);
        if let Some(kind) = special_kind(&meta) {
            return SeedRead::Rejected {
                stamp,
                reason: RejectReason::NotRegularFile(kind.into()),
            };
        }
        if meta.len() > max_bytes {
            return SeedRead::Rejected {
                stamp,
                reason: RejectReason::TooLarge {
                    size: meta.len(),
                    limit: max_bytes,
                },
            };
        }
        // O_NOFOLLOW: a symlink swapped in after the check is not followed. O_NONBLOCK: a
        // FIFO swapped in is not waited on (and is rejected by the check after open).
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&target);
        let mut file = match file {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return SeedRead::Gone,
            Err(e) => return unreadable(stamp, &e),
        };
        match file.metadata() {
            Ok(opened) if opened.dev() == meta.dev() && opened.ino() == meta.ino() => {}
            Ok(opened) => {
                return SeedRead::Rejected {
                    stamp: stamp_of(&opened),
                    reason: RejectReason::Unreadable("replaced while being opened".into()),
                };
            }
            Err(e) => return unreadable(stamp, &e),
        }
        read_limited(&mut file, stamp, max_bytes)
    }

    /// Follows a symlink; its target must be inside the folder.
    fn resolve_symlink(&self, path: &Path) -> Result<(PathBuf, Metadata), RejectReason> {
        let target = std::fs::canonicalize(path)
            .map_err(|e| RejectReason::NotRegularFile(format!("a dangling symlink ({e})")))?;
        if !target.starts_with(&self.root) {
            return Err(RejectReason::NotRegularFile(
                "a symlink leading outside the seeds folder".into(),
            ));
        }
        let meta = std::fs::symlink_metadata(&target)
            .map_err(|e| RejectReason::Unreadable(e.to_string()))?;
        Ok((target, meta))
    }
}

fn read_limited(file: &mut File, stamp: FileStamp, max_bytes: u64) -> SeedRead {
    let mut bytes = Vec::with_capacity(stamp.size.min(max_bytes) as usize + 1);
    if let Err(e) = file.take(max_bytes + 1).read_to_end(&mut bytes) {
        return unreadable(stamp, &e);
    }
    if bytes.len() as u64 > max_bytes {
        // It grew past the limit since the size check.
        return SeedRead::Rejected {
            stamp,
            reason: RejectReason::TooLarge {
                size: stamp.size.max(bytes.len() as u64),
                limit: max_bytes,
            },
        };
    }
    SeedRead::Read { bytes, stamp }
}

fn unreadable(stamp: FileStamp, error: &std::io::Error) -> SeedRead {
    SeedRead::Rejected {
        stamp,
        reason: RejectReason::Unreadable(error.to_string()),
    }
}

/// What a non-regular file is, in words for the reject reason.
fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a named pipe")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

/// Metadata of the file a path names, following a symlink when it can.
fn stat(path: &Path) -> Option<Metadata> {
    std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()
}

pub fn stamp_of(meta: &Metadata) -> FileStamp {
    FileStamp {
        size: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
    }
}

/// What the watcher tells the ingest driver, in our own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// These article files (relative paths) may have changed, appeared or gone.
    Paths(Vec<String>),
    /// Events were lost (queue overflow, watcher error): compare the whole folder.
    Rescan(String),
}

/// A notify watcher on the seeds folder; events stop when it is dropped.
pub struct FolderWatcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// Events are grouped over this long before they reach the settle stage.
const DEBOUNCE: Duration = Duration::from_millis(50);

impl FolderWatcher {
    pub fn start(
        folder: &SeedFolder,
        deliver: impl Fn(WatchEvent) + Send + 'static,
    ) -> notify::Result<Self> {
        let translator = folder.clone();
        let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
            for event in translator.translate(result) {
                deliver(event);
            }
        })?;
        debouncer.watch(folder.root(), RecursiveMode::NonRecursive)?;
        Ok(Self {
            _debouncer: debouncer,
        })
    }
}

impl SeedFolder {
    /// notify's events to ours. Whether a path was created, modified or removed does not
    /// matter here: the settle stage looks at the file itself and decides, so a rename,
    /// an atomic save or a delete-and-recreate all end in the right state.
    fn translate(&self, result: DebounceEventResult) -> Vec<WatchEvent> {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                let message = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                return vec![WatchEvent::Rescan(format!("watcher error: {message}"))];
            }
        };
        let mut paths = Vec::new();
        let mut out = Vec::new();
        for event in events {
            // The kernel dropped events (inotify queue overflow): nothing is known.
            if event.need_rescan() {
                out.push(WatchEvent::Rescan("the watcher lost events".into()));
                continue;
            }
            // Reads change nothing.
            if matches!(event.kind, EventKind::Access(_)) {
                continue;
            }
            for path in &event.paths {
                if let Some(relative) = self.relative(path)
                    && !paths.contains(&relative)
                {
                    paths.push(relative);
                }
            }
        }
        if !paths.is_empty() {
            out.push(WatchEvent::Paths(paths));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_names() {
        for name in [
            "000_9b018788d1e41f8c.txt",
            "a.TXT",
            "with space.txt",
            "a.b.txt",
        ] {
            assert!(seed_key(name).is_some(), "{name}");
        }
        assert_eq!(seed_key("a.b.txt").unwrap().as_str(), "a.b");
        for name in [
            ".hidden.txt",
            ".a.txt.Xy12Zq",
            ".#a.txt",
            "#a.txt#",
            "a.txt~",
            "a.txt.swp",
            "a.txt.tmp",
            "a.txt.part",
            "4913",
            ".txt",
            "notes.md",
            "README",
        ] {
            assert!(seed_key(name).is_none(), "{name}");
        }
    }

    #[test]
    fn safe_read_rejects_what_is_not_an_article_file() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        std::fs::write(dir.path().join("big.txt"), "x".repeat(100)).unwrap();
        std::fs::write(dir.path().join("ok.txt"), "Title").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            dir.path().join("out.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(dir.path().join("ok.txt"), dir.path().join("in.txt")).unwrap();
        nix::unistd::mkfifo(&dir.path().join("pipe.txt"), nix::sys::stat::Mode::S_IRWXU).unwrap();

        let folder = SeedFolder::open(dir.path()).unwrap();
        assert!(
            matches!(folder.read("ok.txt", 10), SeedRead::Read { ref bytes, .. } if bytes == b"Title")
        );
        assert!(
            matches!(folder.read("in.txt", 10), SeedRead::Read { ref bytes, .. } if bytes == b"Title")
        );
        assert!(matches!(
            folder.read("big.txt", 10),
            SeedRead::Rejected {
                reason: RejectReason::TooLarge {
                    size: 100,
                    limit: 10
                },
                ..
            }
        ));
        assert!(matches!(
            folder.read("out.txt", 10),
            SeedRead::Rejected {
                reason: RejectReason::NotRegularFile(_),
                ..
            }
        ));
        assert!(matches!(
            folder.read("pipe.txt", 10),
            SeedRead::Rejected {
                reason: RejectReason::NotRegularFile(_),
                ..
            }
        ));
        assert!(matches!(folder.read("missing.txt", 10), SeedRead::Gone));
        let names: Vec<String> = folder.scan().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["big.txt", "in.txt", "ok.txt", "out.txt", "pipe.txt"]
        );
    }
}
