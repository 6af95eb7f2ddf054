//! What the driver learns from listing the folder rather than from events: the full
//! reconcile scan (at start-up, every `rescan_interval`, and when events were lost) and
//! the look under one folder that appeared, went or moved. Both only start paths
//! settling; nothing is read here.

use std::time::Instant;

use super::{Ingest, IngestError};

impl Ingest {
    /// Compares the folder with the store. New, changed and vanished files start
    /// settling; files whose size and mtime match what was stored are not read again.
    /// Files the store does not know are not looked at by the scan: they are read anyway,
    /// and their read looks first.
    pub(super) fn reconcile(&mut self, why: &str) -> Result<(), IngestError> {
        let mut known = self.store.known_files()?;
        let folder = &self.settings.reader.folder;
        let on_disk = folder
            .scan_looking(|path| known.contains_key(path))
            .map_err(|source| IngestError::Scan {
                path: folder.root().display().to_string(),
                source,
            })?;
        let now = Instant::now();
        self.publisher.set_bad_names(&on_disk.bad_names);
        self.publisher.set_not_articles(&on_disk.not_articles);
        self.watch_folders(&on_disk.folders);
        let on_disk = on_disk.files;
        let files = on_disk.len();
        let mut changed = 0;
        // Each file on disk is taken out of `known`: what is left there has gone.
        for file in on_disk {
            let stored = known.remove(&file.path);
            if !file.looked {
                self.settler.touch_listed(file.path);
                changed += 1;
            } else if stored != Some(file.stamp) {
                self.settler.touch_scanned(file.path, file.look, now);
                changed += 1;
            }
        }
        let gone = known.len();
        for path in known.into_keys() {
            self.settler.touch(path, now);
        }
        tracing::info!(why, files, changed, gone, "reconcile scan");
        // The names that cannot be read, and the files that are not articles, are only
        // known here: show them at once.
        Ok(self.publisher.refresh_status(&self.store)?)
    }

    pub(super) fn watch_folders(&self, folders: &[String]) {
        if let Some(watcher) = &self.watcher {
            watcher.watch_folders(folders);
        }
    }

    /// A folder appeared, went or moved: every file on disk under it, and every file
    /// stored under it, is looked at (a folder moved in or out brings no event for the
    /// files inside it).
    pub(super) fn look_under(&mut self, dir: &str) -> Result<(), IngestError> {
        let now = Instant::now();
        // Watched before it is listed, so that a file written into a new folder right
        // after it appeared is either listed here or brings its own event.
        self.watch_folders(&[dir.to_owned()]);
        let listing = self.settings.reader.folder.scan_under(dir);
        self.watch_folders(&listing.folders);
        let mut bad_names_changed = false;
        for name in listing.bad_names {
            bad_names_changed |= self.publisher.bad_name(name, true);
        }
        if bad_names_changed {
            self.publisher.refresh_status(&self.store)?;
        }
        let on_disk = listing.files;
        let stored = self.store.known_files_under(dir)?;
        tracing::debug!(
            folder = dir,
            on_disk = on_disk.len(),
            stored = stored.len(),
            "a folder changed"
        );
        for file in on_disk {
            self.settler.touch(file.path, now);
        }
        for path in stored {
            self.settler.touch(path, now);
        }
        Ok(())
    }
}
