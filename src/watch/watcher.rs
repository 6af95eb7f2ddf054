//! The watcher of the seeds folder, as the configuration chooses it (`watch`): one type,
//! [`FolderWatcher`], over three backends, each in its own file:
//!
//! - `native` ([`super::inotify`], Linux only): inotify, one watch per folder, asking for
//!   no opens or reads; the default on Linux;
//! - `notify` ([`super::notify_backend`]): the notify crate's recommended watcher for the
//!   platform (inotify, FSEvents, kqueue), recursive; the default elsewhere;
//! - `poll` ([`super::poll`]): a look at the whole folder every `poll_interval_ms`, for
//!   filesystems that send no events (NFS, SMB, many container volume mounts).
//!
//! Every backend reports [`WatchEvent`]s and nothing else; what an event means is decided
//! by the settle stage, as for any other.

use std::path::PathBuf;
use std::time::Duration;

use super::notify_backend::NotifyWatcher;
use super::poll::PollWatcher;
use super::{SeedFolder, WatchEvent};
use crate::config::WatchBackend;

/// How to watch: the backend, and how often the poll backend looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSettings {
    pub backend: WatchBackend,
    /// The wait between two looks of the poll backend; the others do not use it.
    pub poll_interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[cfg(target_os = "linux")]
    #[error("cannot watch {path} with inotify (watch = \"native\")")]
    Native {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot watch {path} with notify (watch = \"notify\")")]
    Notify {
        path: PathBuf,
        source: notify::Error,
    },
    #[error("cannot start polling {path} (watch = \"poll\")")]
    Poll {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A watcher on the seeds folder and its subfolders, of the backend chosen; events stop
/// when it is dropped. Events are passed on one by one as they come, without a debounce
/// delay: the ingest driver groups what arrives together, and the settle stage decides.
pub enum FolderWatcher {
    #[cfg(target_os = "linux")]
    Native(super::inotify::NativeWatcher),
    Notify(NotifyWatcher),
    Poll(PollWatcher),
}

impl FolderWatcher {
    /// Starts watching `folder` with the backend `settings` names; each event goes to
    /// `deliver`, on the backend's own thread.
    pub fn start(
        folder: &SeedFolder,
        settings: WatchSettings,
        deliver: impl Fn(WatchEvent) + Send + 'static,
    ) -> Result<Self, WatchError> {
        let path = folder.root().to_owned();
        Ok(match settings.backend {
            #[cfg(target_os = "linux")]
            WatchBackend::Native => Self::Native(
                super::inotify::NativeWatcher::start(folder, deliver)
                    .map_err(|source| WatchError::Native { path, source })?,
            ),
            WatchBackend::Notify => Self::Notify(
                NotifyWatcher::start(folder, deliver)
                    .map_err(|source| WatchError::Notify { path, source })?,
            ),
            WatchBackend::Poll => Self::Poll(
                PollWatcher::start(folder, settings.poll_interval, deliver)
                    .map_err(|source| WatchError::Poll { path, source })?,
            ),
        })
    }

    /// Watches these subfolders (relative paths) too, as the ingest driver's scans find
    /// them; watching one twice is harmless. Only the native backend needs it: notify's
    /// watches the whole tree itself, and a poll looks at the whole tree every time.
    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub fn watch_folders(&self, folders: &[String]) {
        match self {
            #[cfg(target_os = "linux")]
            Self::Native(watcher) => watcher.watch_folders(folders),
            Self::Notify(_) | Self::Poll(_) => {}
        }
    }
}
