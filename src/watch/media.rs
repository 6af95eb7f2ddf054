//! The seeds folder's media files, opened for the HTTP layer ([`MediaFiles`]) under the
//! rules of the articles' safe read: only a regular file inside the folder is opened (a
//! symlink may lead to one), never a FIFO, socket or device, never a hidden or temporary
//! name, and never through a symlink that leads out of the folder, wherever in the path
//! it is.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::SeedFolder;
use super::names::{SeedName, seed_name};
use super::read::{open_article, special_kind};
use crate::http::{MediaError, MediaFiles, OpenMedia};

impl MediaFiles for SeedFolder {
    /// Opens the media file at `relative` in named steps: the name is one the watcher
    /// would see; the real path (every symlink in it followed) is inside the folder,
    /// under a name it would see too, with the same extension (a link must not serve an
    /// article's source, or any other file, under a media file's name and type); it is a
    /// regular file; and the file opened is the one looked at.
    fn open(&self, relative: &str) -> Result<OpenMedia, MediaError> {
        let shown = match plainly_shown(relative) {
            Some(shown) => shown,
            None => self.shown(&self.root.join(relative)),
        };
        if !shown {
            return Err(MediaError::Refused("a hidden or temporary name"));
        }
        if let Some(file) = self.open_unlinked(relative)? {
            let metadata = file.metadata()?;
            if let Some(kind) = special_kind(&metadata) {
                return Err(MediaError::Refused(kind));
            }
            return Ok(OpenMedia { file, metadata });
        }
        let (real, looked) = self.followed(&self.root.join(relative))?;
        if let Some(kind) = special_kind(&looked) {
            return Err(MediaError::Refused(kind));
        }
        let file = open_article(&real).map_err(not_found_or_io)?;
        let metadata = file.metadata()?;
        if (metadata.dev(), metadata.ino()) != (looked.dev(), looked.ino()) {
            return Err(MediaError::Refused("replaced while being opened"));
        }
        Ok(OpenMedia { file, metadata })
    }
}

impl SeedFolder {
    /// The file at `relative` opened in one call, when no name on its way from the
    /// folder is a symlink: `openat2(2)` resolves it beneath the folder and refuses any
    /// symlink, so the path is its own real path and what was opened is what the path
    /// named, with no window between a look and the open. `None` when a symlink is on
    /// the way, or the kernel cannot (older than 5.6, or a seccomp filter), for
    /// [`Self::followed`] to judge. An article's images are opened at every read of it:
    /// this is a single short walk from the folder where resolving every name of the
    /// whole path, as `canonicalize` does, costs several times as much.
    #[cfg(target_os = "linux")]
    fn open_unlinked(&self, relative: &str) -> Result<Option<std::fs::File>, MediaError> {
        use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
        use rustix::io::Errno;
        // The flags of `open_article`.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY;
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
        match openat2(
            &*self.dir,
            relative,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            resolve,
        ) {
            Ok(fd) => Ok(Some(std::fs::File::from(fd))),
            Err(Errno::NOENT | Errno::NOTDIR) => Err(MediaError::NotFound),
            Err(Errno::LOOP | Errno::XDEV | Errno::NOSYS | Errno::PERM | Errno::AGAIN) => Ok(None),
            Err(other) => Err(MediaError::Io(other.into())),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn open_unlinked(&self, _relative: &str) -> Result<Option<std::fs::File>, MediaError> {
        Ok(None)
    }

    /// The real path of `path`, every symlink in it followed, and its metadata, once it
    /// is known to lead to a name the watcher would see inside the folder, with the
    /// same extension.
    fn followed(&self, path: &Path) -> Result<(PathBuf, Metadata), MediaError> {
        let real = std::fs::canonicalize(path).map_err(not_found_or_io)?;
        if !real.starts_with(&self.root) {
            return Err(MediaError::Refused(
                "a symlink leading outside the seeds folder",
            ));
        }
        if !self.shown(&real) {
            return Err(MediaError::Refused(
                "a symlink leading to a hidden or temporary name",
            ));
        }
        if !same_extension(path, &real) {
            return Err(MediaError::Refused(
                "a symlink leading to another kind of file",
            ));
        }
        let looked = std::fs::symlink_metadata(&real).map_err(not_found_or_io)?;
        Ok((real, looked))
    }

    /// Whether `path` lies in the folder under names the watcher sees: no hidden folder
    /// on the way, and a file name that is not hidden or a temporary.
    fn shown(&self, path: &Path) -> bool {
        let file_name = path.file_name().and_then(OsStr::to_str);
        self.relative_any(path).is_some()
            && file_name.is_some_and(|name| seed_name(name) != SeedName::Ignored)
    }
}

/// [`SeedFolder::shown`] read off a relative path already in the form every reference
/// is probed by (names apart by single slashes, none `.` or `..`), with no path built:
/// an article's images are each checked at every read of it. `None` for any other
/// form, which the whole check judges.
fn plainly_shown(relative: &str) -> Option<bool> {
    let mut names = relative.split('/').peekable();
    while let Some(name) = names.next() {
        if name.is_empty() || name == "." || name == ".." {
            return None;
        }
        if name.starts_with('.') {
            return Some(false);
        }
        if names.peek().is_none() {
            return Some(seed_name(name) != SeedName::Ignored);
        }
    }
    None
}

/// Whether two paths end in the same extension, compared without regard to case.
fn same_extension(a: &Path, b: &Path) -> bool {
    match (a.extension(), b.extension()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// A file that is not there (or a path through something that is not a folder) is not
/// found; any other failure is the operator's to see.
fn not_found_or_io(error: std::io::Error) -> MediaError {
    match error.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => MediaError::NotFound,
        _ => MediaError::Io(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(folder: &SeedFolder, relative: &str) -> String {
        match folder.open(relative) {
            Ok(opened) => format!("open {}", opened.metadata.len()),
            Err(MediaError::NotFound) => "not found".into(),
            Err(MediaError::Refused(_)) => "refused".into(),
            Err(MediaError::Io(error)) => format!("io {error}"),
        }
    }

    /// A folder with media files, and every way a name can lead where it must not.
    #[test]
    fn only_regular_media_files_inside_the_folder_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(outside.path().join("secret.jpg"), "secret").unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(root.join("photo.jpg"), "jpeg").unwrap();
        std::fs::write(root.join("sub/song.mp3"), "mp3!!").unwrap();
        std::fs::write(root.join(".hidden/in.jpg"), "hidden").unwrap();
        std::fs::write(root.join(".photo.jpg"), "dot").unwrap();
        std::fs::write(root.join("post.md"), "# draft").unwrap();
        let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name));
        link(&outside.path().join("secret.jpg"), "out.jpg").unwrap();
        link(outside.path(), "away").unwrap();
        link(&root.join("sub"), "inside").unwrap();
        link(&root.join(".hidden"), "shade").unwrap();
        link(&root.join("photo.jpg"), "alias.jpg").unwrap();
        link(&root.join("photo.jpg"), "alias.JPG.jpg").unwrap();
        link(&root.join("post.md"), "draft.jpg").unwrap();
        link(&root.join(".hidden/in.jpg"), "peek.jpg").unwrap();
        link(Path::new("missing.jpg"), "dangling.jpg").unwrap();
        nix::unistd::mkfifo(&root.join("pipe.jpg"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        std::fs::create_dir(root.join("folder.jpg")).unwrap();

        let folder = SeedFolder::open(root).unwrap();
        for (relative, expected) in [
            ("photo.jpg", "open 4"),
            ("sub/song.mp3", "open 5"),
            ("alias.jpg", "open 4"),
            ("alias.JPG.jpg", "open 4"),
            ("inside/song.mp3", "open 5"),
            ("sub/../photo.jpg", "refused"),
            ("shade/in.jpg", "refused"),
            ("missing.jpg", "not found"),
            ("dangling.jpg", "not found"),
            ("photo.jpg/x.jpg", "not found"),
            ("out.jpg", "refused"),
            ("away/secret.jpg", "refused"),
            ("draft.jpg", "refused"),
            ("peek.jpg", "refused"),
            (".photo.jpg", "refused"),
            (".hidden/in.jpg", "refused"),
            ("pipe.jpg", "refused"),
            ("folder.jpg", "refused"),
        ] {
            assert_eq!(outcome(&folder, relative), expected, "{relative}");
        }
    }

    /// The quick reading of a plain relative path agrees with the whole check, and
    /// leaves every other form to it.
    #[test]
    fn the_quick_name_check_agrees_with_the_whole_one() {
        let dir = tempfile::tempdir().unwrap();
        let folder = SeedFolder::open(dir.path()).unwrap();
        for (relative, quick) in [
            ("photo.jpg", Some(true)),
            ("a/b/photo.jpg", Some(true)),
            (".photo.jpg", Some(false)),
            ("a/.hidden/photo.jpg", Some(false)),
            ("photo.jpg~", Some(false)),
            ("a/#photo.jpg#", Some(false)),
            ("photo.jpg.swp", Some(false)),
            ("a//photo.jpg", None),
            ("./photo.jpg", None),
            ("a/../photo.jpg", None),
            ("", None),
        ] {
            assert_eq!(plainly_shown(relative), quick, "{relative}");
            if let Some(quick) = quick {
                assert_eq!(
                    folder.shown(&dir.path().join(relative)),
                    quick,
                    "{relative}"
                );
            }
        }
    }
}
