//! What the driver learns from listing the folder rather than from events: the full
//! reconcile scan (at start-up, every `rescan_interval`, and when events were lost) and
//! the look under one folder that appeared, went or moved. Both only start paths
//! settling; nothing is read here. A media file starts settling when it is not as the
//! last reads of the articles that reference it found it (see `batch`); one no article
//! references is not even looked at.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::{Ingest, IngestError, StopSignal};
use crate::logging::error_chain;
use crate::store::{FileStamps, KnownFile, MediaSeen, Store, StoreError};
use crate::watch::{Listed, Listing, ScanSink, SeedFolder, Settler};

impl Ingest {
    /// Compares the folder with the store. New, changed and vanished files start
    /// settling; files whose size and mtime match what was stored are not read again.
    /// Files the store does not know are not looked at by the scan: they are read anyway,
    /// and their read looks first. Each file is compared as the scan lists it, against
    /// the store's stamps held compactly ([`FileStamps`]), so that neither the listing
    /// nor the store's paths are held whole.
    pub(super) fn reconcile(&mut self, why: &str) -> Result<(), IngestError> {
        let known = match self.stamps.take().and_then(StampsLoading::finish) {
            Some(stamps) => stamps,
            None => self.store.file_stamps()?,
        };
        let mut compare = Compare {
            known,
            media: self.store.referenced_media()?,
            settler: &mut self.settler,
            now: Instant::now(),
            files: 0,
            changed: 0,
            media_changed: 0,
            stop: &self.settings.stop,
        };
        let folder = &self.settings.reader.folder;
        let listing = folder
            .scan_each(&mut compare)
            .map_err(|source| IngestError::Scan {
                path: folder.root().display().to_string(),
                source,
            })?;
        if listing.stopped {
            // What was not listed is not gone: nothing is concluded from part of a scan.
            return Err(IngestError::Stopped);
        }
        let Compare {
            known,
            media,
            files,
            changed,
            mut media_changed,
            ..
        } = compare;
        media_changed += media_not_listed(folder, media, &mut self.settler);
        // What the scan did not find has gone.
        let gone = self.store.unseen_files(&known)?;
        drop(known);
        let now = Instant::now();
        let gone_count = gone.len();
        for path in gone {
            self.settler.touch(path, now);
        }
        let Listing {
            bad_names,
            folders,
            not_articles,
            ..
        } = listing;
        self.publisher.set_bad_names(&bad_names);
        self.publisher.set_not_articles(&not_articles);
        self.watch_folders(&folders);
        tracing::info!(
            why,
            files,
            changed,
            gone = gone_count,
            media_changed,
            "reconcile scan"
        );
        // The names that cannot be read, and the files that are not articles, are only
        // known here: show them at once.
        Ok(self.publisher.refresh_status(&self.store)?)
    }

    pub(super) fn watch_folders(&self, folders: &[String]) {
        if let Some(watcher) = &self.watcher {
            watcher.watch_folders(folders);
        }
    }

    /// Watches `dir` and every folder under it, and lists what they hold. Each folder is
    /// watched before the listing it is trusted from, so that a file written into it
    /// right after it appeared is either listed or brings its own event: `dir` at once,
    /// and each folder the listing finds under it (created with `dir`, as `mkdir -p` or
    /// a copy of a tree does, before there was a watch to tell of it) is listed once more
    /// after it is watched, until a listing finds no new folder.
    fn watch_and_list(&self, dir: &str) -> Listing {
        let folder = &self.settings.reader.folder;
        self.watch_folders(&[dir.to_owned()]);
        let mut watched: HashSet<String> = HashSet::from([dir.to_owned()]);
        let mut listing = folder.scan_under(dir);
        for _ in 0..RELISTS {
            let new: Vec<String> = listing
                .folders
                .iter()
                .filter(|found| !watched.contains(*found))
                .cloned()
                .collect();
            if new.is_empty() {
                break;
            }
            self.watch_folders(&new);
            watched.extend(new);
            listing = folder.scan_under(dir);
        }
        listing
    }

    /// A folder appeared, went or moved: every file on disk under it, every file stored
    /// under it, and every media file under it that an article references is looked at
    /// (a folder moved in or out brings no event for the files inside it).
    pub(super) fn look_under(&mut self, dir: &str) -> Result<(), IngestError> {
        let now = Instant::now();
        let listing = self.watch_and_list(dir);
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
        // And the media files under it, on disk or referenced by an article: once each
        // settles, the articles that reference it are read again (a media file moved in
        // settles as one copied there would, and is counted as one).
        let media = self.store.referenced_media_under(dir)?;
        let paths = on_disk.into_iter().chain(listing.assets).map(|f| f.path);
        for path in paths.chain(stored).chain(media) {
            self.settler.touch(path, now);
        }
        Ok(())
    }
}

/// The store's file stamps, loading on a thread of their own for the first scan, from
/// the moment the store is open: with a million files the scan waited for them on the
/// ingest thread, after the rendering of the stored entries, with the other core idle
/// (docs/performance.md). Nothing changes the files table meanwhile: the ingest thread
/// is its only writer, and it has not begun to ingest.
pub struct StampsLoading(std::thread::JoinHandle<Result<FileStamps, StoreError>>);

impl StampsLoading {
    /// Starts loading the stamps of `store`'s database through a read-only connection of
    /// its own; `None` for a store in memory, or when no thread can be started (the
    /// first scan then loads them itself).
    pub fn start(store: &Store) -> Option<Self> {
        // It reads the files table once from end to end: 1 MiB of page cache, not 16
        // more beside the writer's at a restart's peak.
        let reader = store.reader(1024)?;
        let thread = std::thread::Builder::new()
            .name("seedfeed-stamps".into())
            .spawn(move || reader?.file_stamps());
        match thread {
            Ok(thread) => Some(Self(thread)),
            Err(error) => {
                tracing::debug!(%error, "cannot start a thread to load the file stamps");
                None
            }
        }
    }

    /// The stamps, once loaded; `None` when they could not be (the first scan then loads
    /// them itself, and says what fails).
    fn finish(self) -> Option<FileStamps> {
        match self.0.join() {
            Ok(Ok(stamps)) => Some(stamps),
            Ok(Err(error)) => {
                tracing::debug!(error = %error_chain(&error), "cannot load the file stamps ahead of the first scan");
                None
            }
            Err(_) => {
                tracing::debug!("the thread loading the file stamps panicked");
                None
            }
        }
    }
}

/// How many times a new folder's tree is listed again for the folders found in it since
/// (a tree still being copied in); a file missed after the last is found by the rescan.
const RELISTS: usize = 8;

/// What the reconcile scan compares each file it lists with, and what it found.
struct Compare<'a> {
    /// The files the store knows; each found is marked so.
    known: FileStamps,
    /// The media files articles reference, as their last reads found them; each found is
    /// taken out.
    media: HashMap<String, MediaSeen>,
    settler: &'a mut Settler,
    now: Instant,
    /// Article files listed.
    files: usize,
    /// Article files that start settling: new, or not as stored.
    changed: usize,
    /// Referenced media files not as the articles' last reads found them.
    media_changed: usize,
    /// Set by the daemon's shutdown, which stops the scan.
    stop: &'a StopSignal,
}

/// What the reconcile scan learns of a file when it asks for a look.
enum Stored {
    /// An article file the store knows, and where its stamp is.
    Article(KnownFile),
    /// A media file that articles reference.
    Media,
}

impl ScanSink for Compare<'_> {
    type Note = Stored;

    fn stopped(&self) -> bool {
        self.stop.is_stopped()
    }

    /// A file the store does not know is read anyway, and its read looks first; a media
    /// file no article references is not even looked at.
    fn look_at(&mut self, path: &str, article: bool) -> Option<Stored> {
        match article {
            true => self.known.locate(path).map(Stored::Article),
            false => self.media.contains_key(path).then_some(Stored::Media),
        }
    }

    /// The articles' stamps are located all at once ([`FileStamps::locate_each`]).
    fn look_at_each(&mut self, files: &[(&str, bool)]) -> Vec<Option<Stored>> {
        let articles: Vec<&str> = files
            .iter()
            .filter(|(_, article)| *article)
            .map(|(path, _)| *path)
            .collect();
        let mut located = self.known.locate_each(&articles).into_iter();
        files
            .iter()
            .map(|&(path, article)| match article {
                true => located.next().flatten().map(Stored::Article),
                false => self.media.contains_key(path).then_some(Stored::Media),
            })
            .collect()
    }

    fn article(&mut self, file: Listed, note: Option<Stored>) {
        self.files += 1;
        let stored = match note {
            Some(Stored::Article(known)) => self.known.take(known, &file.path),
            _ => None,
        };
        if !file.looked {
            self.settler.touch_listed(&file.path);
            self.changed += 1;
        } else if stored != Some(file.stamp) {
            self.settler.touch_scanned(file.path, file.look, self.now);
            self.changed += 1;
        }
    }

    /// A media file starts settling when it is not as the last reads of the articles
    /// that reference it found it (see [`MediaSeen`]).
    fn asset(&mut self, file: Listed, _: Option<Stored>) {
        let Some(seen) = self.media.remove(&file.path) else {
            return;
        };
        let stamp = file.look.map(|_| file.stamp);
        if !seen.is_current(stamp) {
            self.settler.touch_scanned(file.path, file.look, self.now);
            self.media_changed += 1;
        }
    }
}

/// Starts settling each media file an article references that the scan did not list
/// (gone, or below a symlinked folder the scan does not enter), by a look of its own,
/// unless the reads found nothing there either and a look finds nothing still. Returns
/// how many.
fn media_not_listed(
    folder: &SeedFolder,
    referenced: HashMap<String, MediaSeen>,
    settler: &mut Settler,
) -> usize {
    let now = Instant::now();
    let mut changed = 0;
    for (path, seen) in referenced {
        if seen == MediaSeen::Alike(None) {
            continue;
        }
        if !seen.is_current(folder.media_stamp(&path)) {
            settler.touch(path, now);
            changed += 1;
        }
    }
    changed
}
