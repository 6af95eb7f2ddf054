//! The seeds folder as the rest of the pipeline sees it, one file per job:
//!
//! - `names`: which names are articles, and the key each gives;
//! - `scan`: listing the folder and its subfolders for a reconcile scan;
//! - `read`: a safe read of one file (never a FIFO, a device, or a link leading out);
//! - `media`: the same rules for the media files the HTTP layer serves
//!   ([`crate::http::MediaFiles`]);
//! - `events`: our own [`WatchEvent`], and the translation of notify's events into it;
//! - `watcher`: the [`FolderWatcher`] the configuration chooses (`watch`), over one
//!   file per backend: `inotify` (`native`, Linux only), `notify_backend` (`notify`)
//!   and `poll` (`poll`);
//! - `settle`: the rule that keeps half-written files out, and `settled`: the paths it
//!   lets through at one poll, packed.

mod events;
#[cfg(target_os = "linux")]
mod inotify;
mod look;
mod media;
mod names;
mod notify_backend;
mod poll;
mod read;
mod scan;
mod settle;
mod settled;
mod watcher;

pub use events::WatchEvent;
pub use names::{SeedName, key_part, path_format, path_key, path_name, seed_key, seed_name};
pub use read::{SeedRead, stamp_of};
pub use scan::{Listed, Listing, ScanSink};
pub use settle::{Look, Settler};
pub use settled::{Settled, SettledPaths};
pub use watcher::{FolderWatcher, WatchError, WatchSettings};

use std::path::{Component, Path, PathBuf};

/// Whether a relative path names a file whose changes the watchers report: an article,
/// or a media file (whose change has the articles that reference it read again).
fn is_watched(relative: &str) -> bool {
    matches!(path_name(relative), SeedName::Article(_) | SeedName::Asset)
}

/// The seeds folder, resolved once so that symlink targets can be checked against it.
/// Article files may sit in subfolders at any depth; hidden folders (`.git`, rsync's
/// temporary ones) are never entered.
#[derive(Debug, Clone)]
pub struct SeedFolder {
    root: PathBuf,
    /// The folder itself, open: media files are opened relative to it (`media`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    dir: std::sync::Arc<std::fs::File>,
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
        let dir = std::sync::Arc::new(std::fs::File::open(&root)?);
        Ok(Self { root, dir })
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

    /// The path relative to the folder, when `path` names an article file or a media
    /// file in it: the files whose changes the watchers report.
    fn watched(&self, path: &Path) -> Option<String> {
        let relative = self.relative_any(path)?;
        is_watched(&relative).then_some(relative)
    }

    /// The path relative to the folder, with U+FFFD for what is not UTF-8, when `path`
    /// would be an article or a subfolder but for a name that is not UTF-8: such a file
    /// cannot be named in a URL, a feed or the database, so it is reported, not read.
    fn bad_name(&self, path: &Path) -> Option<String> {
        self.relative_shown(path)
            .and_then(|(relative, utf8)| (!utf8).then_some(relative))
    }
}
