//! The seeds folder as the rest of the pipeline sees it: which names are articles, a safe
//! read of one file, a listing for reconcile scans, notify events translated into our own
//! [`WatchEvent`], and the settle rule that keeps half-written files out.

mod inotify;
mod settle;

use settle::is_still;
pub use settle::{Look, Settled, Settler};

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use notify::EventKind;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RemoveKind, RenameMode};

use self::inotify::InotifyWatcher;

use crate::model::{EntryKey, FileStamp, RejectReason};

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

/// The entry key of an article file by its path relative to the seeds folder: its file
/// name's, wherever the subfolder.
pub fn path_key(relative: &str) -> Option<EntryKey> {
    seed_key(file_name(relative))
}

/// What a scan of the folder found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Article files, by relative path.
    pub files: Vec<Listed>,
    /// Files and folders that cannot be read because their names are not UTF-8 (shown
    /// with U+FFFD).
    pub bad_names: Vec<String>,
    /// The subfolders walked (relative paths), to be watched.
    pub folders: Vec<String>,
}

/// One article file a scan found.
#[derive(Debug, Clone)]
pub struct Listed {
    pub path: String,
    /// What its `stat` said; zero when it was not looked at.
    pub stamp: FileStamp,
    /// Its `stat`; `None` when it vanished since the listing, is a dangling symlink, or
    /// was not looked at.
    pub look: Option<Look>,
    /// Whether the scan looked at it ([`SeedFolder::scan_looking`]).
    pub looked: bool,
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
/// Article files may sit in subfolders at any depth; hidden folders (`.git`, rsync's
/// temporary ones) are never entered.
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

    /// The path relative to the folder (components joined by `/`), when `path` lies
    /// inside it below no hidden folder: `None` for anything else.
    fn relative_any(&self, path: &Path) -> Option<String> {
        self.relative_shown(path)
            .and_then(|(relative, utf8)| utf8.then_some(relative))
    }

    /// The path relative to the folder (with U+FFFD for what is not UTF-8), and whether
    /// every name in it is UTF-8; `None` outside the folder or below a hidden name.
    fn relative_shown(&self, path: &Path) -> Option<(String, bool)> {
        let inner = path.strip_prefix(&self.root).ok()?;
        let mut relative = String::new();
        let mut utf8 = true;
        for component in inner.components() {
            let Component::Normal(name) = component else {
                return None;
            };
            let shown = name.to_string_lossy();
            if shown.starts_with('.') {
                return None;
            }
            utf8 &= name.to_str().is_some();
            if !relative.is_empty() {
                relative.push('/');
            }
            relative.push_str(&shown);
        }
        (!relative.is_empty()).then_some((relative, utf8))
    }

    /// The path relative to the folder, when `path` names an article file in it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let relative = self.relative_any(path)?;
        path_key(&relative).map(|_| relative)
    }

    /// Every article file in the folder and its subfolders, with its stamp (reading none
    /// of them), sorted by path.
    pub fn scan(&self) -> std::io::Result<Listing> {
        let mut found = self.scan_looking(|_| true)?;
        found.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// Like [`Self::scan`], in the order of the folders' listings, but a regular file is
    /// looked at (`stat`) only when `needs_look` says so of its path; the others are
    /// listed with `looked` false. A `stat` per file was most of a scan's time, and a
    /// file about to be read need not be looked at first: its read looks at it (see
    /// [`Self::read_if_still`]).
    pub fn scan_looking(
        &self,
        needs_look: impl Fn(&str) -> bool + Sync,
    ) -> std::io::Result<Listing> {
        let mut found = Listing::default();
        self.scan_into(&self.root, &mut found, &needs_look)?;
        Ok(found)
    }

    /// Every article file under one subfolder (relative path), as [`Self::scan`] lists
    /// them; nothing when it is not a folder (any more).
    pub fn scan_under(&self, relative_dir: &str) -> Listing {
        let mut found = Listing::default();
        let dir = self.root.join(relative_dir);
        let is_dir = std::fs::symlink_metadata(&dir).is_ok_and(|meta| meta.is_dir());
        if is_dir && let Err(error) = self.scan_into(&dir, &mut found, &|_| true) {
            tracing::warn!(path = relative_dir, %error, "cannot list a subfolder");
        }
        found
    }

    /// The path relative to the folder, with U+FFFD for what is not UTF-8, when `path`
    /// would be an article or a subfolder but for a name that is not UTF-8: such a file
    /// cannot be named in a URL, a feed or the database, so it is reported, not read.
    fn bad_name(&self, path: &Path) -> Option<String> {
        self.relative_shown(path)
            .and_then(|(relative, utf8)| (!utf8).then_some(relative))
    }

    /// Walks one folder depth first. Symlinked folders are not followed (no loops, and no
    /// way out of the seeds folder); a subfolder that cannot be listed is logged and
    /// skipped, so one bad folder does not hide the rest.
    fn scan_into(
        &self,
        dir: &Path,
        found: &mut Listing,
        needs_look: &(impl Fn(&str) -> bool + Sync),
    ) -> std::io::Result<()> {
        let mut unlooked = Vec::new();
        let mut pending = vec![dir.to_owned()];
        let mut first = true;
        while let Some(dir) = pending.pop() {
            // Relative paths are built from the folder's and each name: going through the
            // components of every file's whole path was a tenth of a big scan's time.
            let prefix = self.relative_any(&dir);
            found.folders.extend(prefix.clone());
            let listing = match std::fs::read_dir(&dir) {
                Ok(listing) => listing,
                // The seeds folder itself must be listable; a subfolder may vanish or be
                // closed to us.
                Err(e) if first => return Err(e),
                Err(error) => {
                    tracing::warn!(path = ?dir, %error, "cannot list a subfolder; skipped");
                    continue;
                }
            };
            first = false;
            for dirent in listing {
                let dirent = dirent?;
                let name = dirent.file_name();
                let shown = name.to_string_lossy();
                if shown.starts_with('.') {
                    continue;
                }
                let relative = match &prefix {
                    Some(prefix) => format!("{prefix}/{shown}"),
                    None => shown.into_owned(),
                };
                if name.to_str().is_none() {
                    found.bad_names.push(relative);
                    continue;
                }
                let Ok(kind) = dirent.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    pending.push(dirent.path());
                    continue;
                }
                if path_key(&relative).is_none() {
                    continue;
                }
                if kind.is_file() && !needs_look(&relative) {
                    found.files.push(Listed {
                        path: relative,
                        stamp: FileStamp::UNKNOWN,
                        look: None,
                        looked: false,
                    });
                    continue;
                }
                unlooked.push(Unlooked {
                    relative,
                    // A plain file is looked at through its folder's listing (no walk of
                    // the whole path again); a symlink is followed.
                    path: dirent.path(),
                    dirent: (!kind.is_symlink()).then_some(dirent),
                });
            }
        }
        found.files.extend(look_at_all(unlooked));
        Ok(())
    }

    /// Reads one article file safely: only a regular file inside the folder is opened
    /// (a symlink may point to one), never a FIFO, socket or device, and never more than
    /// `max_bytes + 1` bytes are read.
    pub fn read(&self, relative: &str, max_bytes: u64) -> SeedRead {
        let path = self.root.join(relative);
        match look_before_reading(&path) {
            Ok(link_meta) => self.read_looked(path, link_meta, max_bytes),
            Err(read) => read,
        }
    }

    /// Like [`Self::read`], for a file nobody looked at before (listed by
    /// [`Self::scan_looking`] as a regular file): `None`, and nothing read, unless its own
    /// clock shows it still for `settle` before `wall`.
    ///
    /// The listing said what the file was, so it is opened without a look first (a
    /// path lookup and a `stat` per file, a tenth of a cold ingest's reading): the look
    /// after opening decides, as it does in [`Self::read`], and nothing but a regular
    /// file is read. A symlink put in its place since is looked at as `read` would.
    pub fn read_if_still(
        &self,
        relative: &str,
        max_bytes: u64,
        settle: Duration,
        wall: SystemTime,
    ) -> Option<SeedRead> {
        let path = self.root.join(relative);
        let mut file = match open_article(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(SeedRead::Gone),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return match look_before_reading(&path) {
                    Ok(link_meta) if !is_still(Look::of(&link_meta), settle, wall) => None,
                    Ok(link_meta) => Some(self.read_looked(path, link_meta, max_bytes)),
                    Err(read) => Some(read),
                };
            }
            Err(e) => return Some(unreadable(FileStamp::UNKNOWN, &e)),
        };
        let meta = match file.metadata() {
            Ok(meta) => meta,
            Err(e) => return Some(unreadable(FileStamp::UNKNOWN, &e)),
        };
        // A folder with an article's name is walked as a folder, not read as a file.
        if meta.is_dir() {
            return Some(SeedRead::Gone);
        }
        if !is_still(Look::of(&meta), settle, wall) {
            return None;
        }
        Some(match readable(&meta, max_bytes) {
            Ok(stamp) => read_limited(&mut file, stamp, max_bytes),
            Err(refused) => refused,
        })
    }

    /// Reads the file at `path`, whose `lstat` is `link_meta`.
    fn read_looked(&self, path: PathBuf, link_meta: Metadata, max_bytes: u64) -> SeedRead {
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
        let stamp = match readable(&meta, max_bytes) {
            Ok(stamp) => stamp,
            Err(refused) => return refused,
        };
        let mut file = match open_article(&target) {
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

    /// Follows a symlink; its target must be inside the folder, and be a file that would
    /// be read under its own name (not hidden, not a temporary: a link must not publish a
    /// half-written rsync file).
    fn resolve_symlink(&self, path: &Path) -> Result<(PathBuf, Metadata), RejectReason> {
        let target = std::fs::canonicalize(path)
            .map_err(|e| RejectReason::NotRegularFile(format!("a dangling symlink ({e})")))?;
        if !target.starts_with(&self.root) {
            return Err(RejectReason::NotRegularFile(
                "a symlink leading outside the seeds folder".into(),
            ));
        }
        if self.relative(&target).is_none() {
            return Err(RejectReason::NotRegularFile(
                "a symlink leading to a hidden or temporary file".into(),
            ));
        }
        let meta = std::fs::symlink_metadata(&target)
            .map_err(|e| RejectReason::Unreadable(e.to_string()))?;
        Ok((target, meta))
    }
}

/// Opens an article file for reading. O_NOFOLLOW: a symlink (swapped in after a look)
/// is not followed. O_NONBLOCK: a FIFO (swapped in likewise) is not waited on; the look
/// after opening refuses it. O_NOCTTY: a terminal never becomes ours.
fn open_article(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// The stamp of a file whose look allows reading it: a regular file within the size
/// limit; else what its read comes to.
fn readable(meta: &Metadata, max_bytes: u64) -> Result<FileStamp, SeedRead> {
    let stamp = stamp_of(meta);
    if let Some(kind) = special_kind(meta) {
        return Err(SeedRead::Rejected {
            stamp,
            reason: RejectReason::NotRegularFile(kind.into()),
        });
    }
    if meta.len() > max_bytes {
        return Err(SeedRead::Rejected {
            stamp,
            reason: RejectReason::TooLarge {
                size: meta.len(),
                limit: max_bytes,
            },
        });
    }
    Ok(stamp)
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

/// The `lstat` of a file about to be read; what its read comes to when there is nothing
/// to read.
fn look_before_reading(path: &Path) -> Result<Metadata, SeedRead> {
    let link_meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SeedRead::Gone),
        Err(e) => {
            return Err(unreadable(FileStamp::UNKNOWN, &e));
        }
    };
    // A folder with an article's name is walked as a folder, not read as a file.
    if link_meta.is_dir() {
        return Err(SeedRead::Gone);
    }
    Ok(link_meta)
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

/// A file listed by a scan, not yet stat'ed.
struct Unlooked {
    relative: String,
    path: PathBuf,
    /// Its entry in its folder's listing, when it is not a symlink.
    dirent: Option<std::fs::DirEntry>,
}

/// Files at which a big scan's `stat` calls are split between two threads: they are most
/// of a scan's time (100k files: 0.47 s on one thread), and nothing else runs yet.
const PARALLEL_LOOKS: usize = 4096;

/// Each listed file with its `stat`, in the order given.
fn look_at_all(unlooked: Vec<Unlooked>) -> Vec<Listed> {
    let look_at_part = |part: &[Unlooked]| part.iter().filter_map(look_at).collect::<Vec<_>>();
    if unlooked.len() < PARALLEL_LOOKS {
        return look_at_part(&unlooked);
    }
    let (first, second) = unlooked.split_at(unlooked.len() / 2);
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("seedfeed-scan".into())
            .spawn_scoped(scope, || look_at_part(second));
        let mut listed = look_at_part(first);
        match other.map(|thread| thread.join()) {
            Ok(Ok(rest)) => listed.extend(rest),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // No thread to be had: this one does the rest.
            Err(_) => listed.extend(look_at_part(second)),
        }
        listed
    })
}

/// One listed file with its `stat`; `None` for a symlink to a folder, which is not
/// followed and is no article either.
fn look_at(file: &Unlooked) -> Option<Listed> {
    let meta = match &file.dirent {
        Some(dirent) => dirent.metadata().ok(),
        None => stat(&file.path),
    };
    Some(match meta {
        Some(meta) if meta.is_dir() => return None,
        Some(meta) => Listed {
            path: file.relative.clone(),
            stamp: stamp_of(&meta),
            look: Some(Look::of(&meta)),
            looked: true,
        },
        // Vanished since the listing, or a dangling symlink: reported when read.
        None => Listed {
            path: file.relative.clone(),
            stamp: FileStamp::UNKNOWN,
            look: None,
            looked: true,
        },
    })
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

/// The file name part of a relative path.
fn file_name(relative: &str) -> &str {
    relative.rsplit_once('/').map_or(relative, |(_, name)| name)
}

/// What the watcher tells the ingest driver, in our own terms. Paths are relative to
/// the seeds folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// This article file may have changed, appeared or gone: it settles before it is read.
    Changed(String),
    /// This article file was closed after writing, or renamed into place: its writer is
    /// done, so it need not wait to settle (unless it changes again).
    Finished(String),
    /// A folder appeared, went, or was renamed (or this path may have been one): every
    /// file under it is looked at.
    Tree(String),
    /// A file or folder whose name is not UTF-8 appeared (`true`) or went (`false`).
    BadName(String, bool),
    /// Events were lost (queue overflow, watcher error): compare the whole folder.
    Rescan(String),
}

/// An inotify watcher on the seeds folder and its subfolders; events stop when it is
/// dropped. Events are passed on one by one as they come, without a debounce delay:
/// the ingest driver groups what arrives together, and the settle stage decides.
///
/// Each folder is watched on its own, as the ingest driver's scans find them
/// ([`FolderWatcher::watch_folders`]), rather than with notify's recursive mode, which
/// walks the whole tree and stats every file to find the folders: at 100k files that was
/// a sixth of the start-up time, spent again on top of our own scan.
pub struct FolderWatcher {
    root: PathBuf,
    watcher: InotifyWatcher,
}

impl FolderWatcher {
    pub fn start(
        folder: &SeedFolder,
        deliver: impl Fn(WatchEvent) + Send + 'static,
    ) -> std::io::Result<Self> {
        let translator = folder.clone();
        let watcher = InotifyWatcher::start(move |event| {
            for event in translator.translate(Ok(event)) {
                deliver(event);
            }
        })?;
        watcher.watch(folder.root())?;
        Ok(Self {
            root: folder.root().to_owned(),
            watcher,
        })
    }

    /// Watches these subfolders (relative paths) too; watching one twice is harmless. A
    /// folder that cannot be watched (gone, or the system's limit on watches reached) is
    /// logged: its files are still found by the periodic rescans.
    pub fn watch_folders(&self, folders: &[String]) {
        for folder in folders {
            let path = self.root.join(folder);
            if let Err(error) = self.watcher.watch(&path) {
                // Gone, or replaced by a file, since it was seen.
                let gone = matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                );
                if !gone {
                    tracing::warn!(folder = %folder, %error, "cannot watch a subfolder; its changes are found by the periodic rescans");
                }
            }
        }
    }
}

impl SeedFolder {
    /// One notify event to ours. Whether a path was created, modified or removed does not
    /// decide anything: the settle stage looks at the file itself, so a rename, an atomic
    /// save or a delete-and-recreate all end in the right state. What the event kind does
    /// tell is when a writer is done (close after write, rename into place) and when a
    /// whole folder moved.
    fn translate(&self, result: notify::Result<notify::Event>) -> Vec<WatchEvent> {
        let event = match result {
            Ok(event) => event,
            Err(error) => return vec![WatchEvent::Rescan(format!("watcher error: {error}"))],
        };
        // The kernel dropped events (inotify queue overflow): nothing is known.
        if event.need_rescan() {
            return vec![WatchEvent::Rescan("the watcher lost events".into())];
        }
        let mut out = Vec::new();
        for (index, path) in event.paths.iter().enumerate() {
            if let Some(shown) = self.bad_name(path) {
                if !matches!(event.kind, EventKind::Access(_)) {
                    let exists = std::fs::symlink_metadata(path).is_ok();
                    out.push(WatchEvent::BadName(shown, exists));
                }
                continue;
            }
            match event.kind {
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                    out.extend(self.relative(path).map(WatchEvent::Finished));
                }
                // Opens and reads (our own among them) change nothing.
                EventKind::Access(_) => {}
                EventKind::Create(CreateKind::Folder) | EventKind::Remove(RemoveKind::Folder) => {
                    out.extend(self.relative_any(path).map(WatchEvent::Tree));
                }
                // A rename: the old name may have been a folder, so what was stored under
                // it is looked at too; the new name is complete (rsync and editors rename
                // a finished temporary file into place).
                EventKind::Modify(ModifyKind::Name(mode)) => {
                    let arriving = matches!(mode, RenameMode::To)
                        || (matches!(mode, RenameMode::Both) && index == 1);
                    out.extend(self.renamed(path, arriving));
                }
                _ => match self.relative(path) {
                    Some(relative) => out.push(WatchEvent::Changed(relative)),
                    // Not an article name: a folder that went without saying it was one.
                    None if matches!(event.kind, EventKind::Remove(_)) => {
                        out.extend(self.relative_any(path).map(WatchEvent::Tree));
                    }
                    None => {}
                },
            }
        }
        out
    }

    fn renamed(&self, path: &Path, arriving: bool) -> Vec<WatchEvent> {
        let Some(relative) = self.relative_any(path) else {
            return Vec::new();
        };
        let is_dir = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir());
        let is_seed = path_key(&relative).is_some();
        match (arriving, is_dir, is_seed) {
            (_, true, _) => vec![WatchEvent::Tree(relative)],
            (true, false, true) => vec![WatchEvent::Finished(relative)],
            (false, false, true) => vec![
                WatchEvent::Changed(relative.clone()),
                WatchEvent::Tree(relative),
            ],
            (false, false, false) => vec![WatchEvent::Tree(relative)],
            (true, false, false) => Vec::new(),
        }
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

    /// A seeds folder (the first) with a good file, a big one, symlinks into and out of
    /// it (the second folder) and to a hidden file, and a FIFO.
    fn hostile_folder() -> (tempfile::TempDir, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        std::fs::write(dir.path().join("big.txt"), "x".repeat(100)).unwrap();
        std::fs::write(dir.path().join("ok.txt"), "Title").unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap()
        };
        link(&outside.path().join("secret.txt"), "out.txt");
        link(&dir.path().join("ok.txt"), "in.txt");
        std::fs::write(dir.path().join(".ok.txt.Xy12Zq"), "half-written").unwrap();
        link(Path::new(".ok.txt.Xy12Zq"), "peek.txt");
        nix::unistd::mkfifo(&dir.path().join("pipe.txt"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        (dir, outside)
    }

    #[test]
    fn safe_read_rejects_what_is_not_an_article_file() {
        let (dir, _outside) = hostile_folder();
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
        assert!(matches!(
            folder.read("peek.txt", 100),
            SeedRead::Rejected {
                reason: RejectReason::NotRegularFile(_),
                ..
            }
        ));
        assert!(matches!(folder.read("missing.txt", 10), SeedRead::Gone));
        let names: Vec<String> = folder
            .scan()
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            names,
            [
                "big.txt", "in.txt", "ok.txt", "out.txt", "peek.txt", "pipe.txt"
            ]
        );
    }

    /// A file read without a look (listed by a scan as a regular file, since replaced by
    /// anything) comes to what a read with a look comes to, and a fresh one waits.
    #[test]
    fn a_listed_file_read_without_a_look_is_refused_as_any_read() {
        let (dir, _outside) = hostile_folder();
        std::fs::create_dir(dir.path().join("folder.txt")).unwrap();

        let folder = SeedFolder::open(dir.path()).unwrap();
        let summary = |read: SeedRead| match read {
            SeedRead::Read { bytes, .. } => format!("read {}", String::from_utf8_lossy(&bytes)),
            SeedRead::Rejected { reason, .. } => format!("rejected {}", reason.code()),
            SeedRead::Gone => "gone".to_owned(),
        };
        let settle = Duration::from_secs(1);
        let later = SystemTime::now() + Duration::from_secs(60);
        for name in [
            "ok.txt",
            "in.txt",
            "big.txt",
            "out.txt",
            "peek.txt",
            "pipe.txt",
            "folder.txt",
            "missing.txt",
        ] {
            let unlooked = folder.read_if_still(name, 10, settle, later).map(summary);
            let looked = summary(folder.read(name, 10));
            assert_eq!(unlooked.as_ref(), Some(&looked), "{name}");
        }
        // Written just now by the wall clock: not read, left to settle.
        assert!(
            folder
                .read_if_still("ok.txt", 10, settle, SystemTime::now())
                .is_none()
        );
        assert!(
            folder
                .read_if_still("in.txt", 10, settle, SystemTime::now())
                .is_none()
        );
    }

    /// A scan big enough to stat on two threads lists every file once, in path order,
    /// with its own size; a symlinked folder is still left out, a dangling link listed.
    #[test]
    fn a_big_scan_lists_every_file_with_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let count = PARALLEL_LOOKS + 100;
        for i in 0..count {
            std::fs::write(root.join(format!("{i:05}.txt")), "x".repeat(i % 50)).unwrap();
        }
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(root.join("sub"), root.join("folder.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("dangling.txt")).unwrap();
        let listed = SeedFolder::open(root).unwrap().scan().unwrap().files;
        assert_eq!(listed.len(), count + 1);
        assert_eq!(listed[0].path, "00000.txt");
        assert!(listed[1].look.is_some() && listed[1].stamp.size == 1);
        assert_eq!(listed[count].path, "dangling.txt");
        for (i, file) in listed[..count].iter().enumerate() {
            assert_eq!(file.path, format!("{i:05}.txt"));
            assert_eq!(file.stamp.size, (i % 50) as u64);
        }
    }

    #[test]
    fn scans_subfolders_but_not_hidden_or_symlinked_ones() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["2026/11", ".git", "x.txt", ".rsync-tmp"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for file in [
            "top.txt",
            "2026/11/deep.txt",
            "2026/notes.md",
            ".git/HEAD.txt",
            "x.txt/inside.txt",
            ".rsync-tmp/a.txt",
        ] {
            std::fs::write(root.join(file), "Title").unwrap();
        }
        std::os::unix::fs::symlink(root.join("2026"), root.join("loop")).unwrap();
        // A name that is not UTF-8 is reported, not read; a hidden one is not reported.
        use std::os::unix::ffi::OsStrExt;
        let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(root.join("2026").join(latin1), "Title").unwrap();
        std::fs::write(
            root.join(std::ffi::OsStr::from_bytes(b".\xe9.txt")),
            "Title",
        )
        .unwrap();
        let folder = SeedFolder::open(root).unwrap();
        assert_eq!(folder.scan().unwrap().bad_names, ["2026/caf\u{fffd}.txt"]);
        assert_eq!(
            folder.translate(Ok(notify::Event::new(EventKind::Create(CreateKind::File))
                .add_path(folder.root().join("2026").join(latin1)))),
            [WatchEvent::BadName("2026/caf\u{fffd}.txt".into(), true)]
        );
        let names: Vec<String> = folder
            .scan()
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(names, ["2026/11/deep.txt", "top.txt", "x.txt/inside.txt"]);
        let under: Vec<String> = folder
            .scan_under("2026")
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(under, ["2026/11/deep.txt"]);
        assert!(folder.scan_under("missing").files.is_empty());
        // A folder named like an article is no file to read.
        assert!(matches!(folder.read("x.txt", 100), SeedRead::Gone));
        assert_eq!(path_key("2026/11/deep.txt").unwrap().as_str(), "deep");
        let root = folder.root().to_owned();
        assert_eq!(
            folder.relative(&root.join("2026/11/deep.txt")).as_deref(),
            Some("2026/11/deep.txt")
        );
        assert_eq!(folder.relative(&root.join(".git/HEAD.txt")), None);
        assert_eq!(folder.relative(&root.join("2026/notes.md")), None);
    }

    #[test]
    fn events_say_when_a_writer_is_done_and_when_a_folder_moved() {
        use notify::Event;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let folder = SeedFolder::open(dir.path()).unwrap();
        let at = |name: &str| folder.root().join(name);
        let translate = |kind: EventKind, paths: &[&str]| {
            let mut event = Event::new(kind);
            for path in paths {
                event = event.add_path(at(path));
            }
            folder.translate(Ok(event))
        };
        assert_eq!(
            translate(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &["a.txt"]
            ),
            [WatchEvent::Finished("a.txt".into())]
        );
        assert!(
            translate(
                EventKind::Access(AccessKind::Open(AccessMode::Any)),
                &["a.txt"]
            )
            .is_empty()
        );
        assert_eq!(
            translate(EventKind::Modify(ModifyKind::Any), &["a.txt", ".a.txt.swp"]),
            [WatchEvent::Changed("a.txt".into())]
        );
        // rsync: the finished temporary file renamed over the article.
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &[".a.txt.Xy12", "a.txt"]
            ),
            [WatchEvent::Finished("a.txt".into())]
        );
        assert_eq!(
            translate(EventKind::Create(CreateKind::Folder), &["sub"]),
            [WatchEvent::Tree("sub".into())]
        );
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                &["sub"]
            ),
            [WatchEvent::Tree("sub".into())]
        );
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                &["gone"]
            ),
            [WatchEvent::Tree("gone".into())]
        );
        // An event of no kind and no path, without the rescan flag, says nothing.
        assert!(translate(EventKind::Other, &[]).is_empty());
        let overflow = notify::Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(matches!(
            folder.translate(Ok(overflow)).as_slice(),
            [WatchEvent::Rescan(_)]
        ));
    }
}
