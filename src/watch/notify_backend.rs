//! The portable backend (`watch = "notify"`): the notify crate's recommended watcher for
//! the platform (inotify on Linux, FSEvents on macOS, kqueue on the BSDs), in recursive
//! mode on the seeds folder, its events through the same translation as the native
//! backend's ([`super::SeedFolder::translate`]).
//!
//! Recursive mode adds a watch for each folder as it appears, so there is nothing for the
//! ingest driver's scans to add. On Linux it costs more than the native backend: it walks
//! the whole tree at start, and asks the kernel for an event at every open and every
//! close after reading (our own reads among them), which the translation drops.

use notify::{Config, RecommendedWatcher, RecursiveMode, Watcher};

use super::{SeedFolder, WatchEvent};

/// notify's watcher on the seeds folder; its thread stops when this is dropped.
pub struct NotifyWatcher {
    _watcher: RecommendedWatcher,
}

impl NotifyWatcher {
    pub(super) fn start(
        folder: &SeedFolder,
        deliver: impl Fn(WatchEvent) + Send + 'static,
    ) -> notify::Result<Self> {
        let translator = folder.clone();
        let handler = move |result| {
            for event in translator.translate(result) {
                deliver(event);
            }
        };
        // `notify::recommended_watcher` with one change: symlinked folders are not
        // followed, as our scans do not follow them (no loops, and no way out of the
        // seeds folder).
        let config = Config::default().with_follow_symlinks(false);
        let mut watcher = RecommendedWatcher::new(handler, config)?;
        watcher.watch(folder.root(), RecursiveMode::Recursive)?;
        Ok(Self { _watcher: watcher })
    }
}
