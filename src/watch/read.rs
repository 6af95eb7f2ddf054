//! A safe read of one article file: only a regular file inside the folder is opened (a
//! symlink may point to one), never a FIFO, socket or device, and never more than the
//! size limit and one byte are read.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::SeedFolder;
use super::settle::{Look, is_still};
use crate::model::{FileStamp, RejectReason};

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

impl SeedFolder {
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
    /// path lookup and a `stat` per file, a share of a cold ingest's reading): the look
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
            Err(e) if is_a_symlink(&e) => {
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
/// after opening refuses it. O_NOCTTY: a terminal never becomes ours. Media files are
/// opened the same way (`media`).
pub(super) fn open_article(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Whether [`open_article`] failed because the file is a symlink. POSIX says ELOOP;
/// FreeBSD and DragonFly say EMLINK, NetBSD EFTYPE.
fn is_a_symlink(error: &std::io::Error) -> bool {
    #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
    const ALSO: i32 = libc::EMLINK;
    #[cfg(target_os = "netbsd")]
    const ALSO: i32 = libc::EFTYPE;
    #[cfg(not(any(target_os = "freebsd", target_os = "dragonfly", target_os = "netbsd")))]
    const ALSO: i32 = libc::ELOOP;
    matches!(error.raw_os_error(), Some(code) if code == libc::ELOOP || code == ALSO)
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
pub(super) fn special_kind(meta: &Metadata) -> Option<&'static str> {
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

pub fn stamp_of(meta: &Metadata) -> FileStamp {
    FileStamp {
        size: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
