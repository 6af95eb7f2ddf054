//! The ingest driver: settled file changes → read → parse → normalize → store → render →
//! publish a new snapshot. It runs on one thread of its own, which owns the database
//! connection, so no blocking work ever lands on the async workers.

mod bulk;
mod publish;

pub use publish::Publisher;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use uuid::Uuid;

use crate::model::EntryKey;
use crate::normalize::normalize;
use crate::parse::parse_article;
use crate::render::{RenderError, Site};
use crate::store::{ApplyOutcome, FileChange, Store, StoreError};
use crate::watch::{FolderWatcher, SeedFolder, SeedRead, Settled, Settler, WatchEvent, path_key};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("a thread reading seed files panicked; its batch is read again at the next rescan")]
    ReaderPanicked,
    #[error("cannot start a thread to read seed files; they are read again at the next rescan")]
    Thread { source: std::io::Error },
    #[error("cannot list the seeds folder {path}")]
    Scan {
        path: String,
        source: std::io::Error,
    },
}

/// What the driver is told.
#[derive(Debug)]
pub enum IngestMsg {
    Watch(WatchEvent),
    /// Compare the whole folder with the store now.
    Rescan(&'static str),
    /// A reloaded configuration's title, description, author, language and feed size:
    /// every feed and page is rendered again with them.
    Reload(Box<Site>),
    /// Answered once every message before it has been handled: the watchdog's proof
    /// that the driver loop is alive, and the end of a reload.
    Ping(tokio::sync::oneshot::Sender<()>),
    Shutdown,
}

#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub reader: ArticleReader,
    pub settle: Duration,
    pub rescan_interval: Duration,
    /// Beats at every turn of the driver loop and every batch written.
    pub heartbeat: Heartbeat,
}

/// A counter the driver moves as it makes progress: the watchdog's sign of life while
/// the driver is too busy with a bulk (it reads its inbox only between bulks) to answer.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat(Arc<AtomicU64>);

impl Heartbeat {
    pub fn beat(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Turns one file of a folder into a store change: safe read, parse, normalize.
#[derive(Debug, Clone)]
pub struct ArticleReader {
    pub folder: SeedFolder,
    pub max_file_bytes: u64,
    pub namespace: Uuid,
}

/// A batch that changes more entries than this logs them in one line (each at debug).
const BULK_LOG: usize = 20;

/// Archive pages frozen in one step of the driver loop, between looks at its inbox: one
/// page (two documents, about 10 ms) is as long as a new article waits behind them.
const ARCHIVE_STEP: u64 = 1;

/// More settled files than this are a bulk: read on threads, with progress lines.
const BULK: usize = 500;

/// A bulk is committed every this many files (and at its end), in one transaction that
/// stays open while the readers go on. Each commit rewrites every index page it touched,
/// and a content hash lands anywhere in its index: commits of 500 wrote about 2.1 GB to
/// disk for a cold ingest of 100k articles, commits of 4,096 about 1.3 GB (medians of
/// alternating runs: 8.1 s instead of 8.9 s). A smaller bulk still commits in four
/// steps at least: a crash loses no more than a quarter of it.
const COMMIT_EVERY: usize = 4096;

pub struct Ingest {
    settings: IngestSettings,
    /// Filesystem events, when the platform gives them: the driver adds the subfolders
    /// its scans find.
    watcher: Option<Arc<FolderWatcher>>,
    store: Store,
    settler: Settler,
    publisher: Publisher,
}

impl Ingest {
    pub fn new(
        settings: IngestSettings,
        store: Store,
        publisher: Publisher,
        watcher: Option<Arc<FolderWatcher>>,
    ) -> Self {
        Self {
            settler: Settler::new(settings.settle),
            settings,
            watcher,
            store,
            publisher,
        }
    }

    /// Renders everything stored and publishes it: what is served while the first scan
    /// runs, so a restart serves the previous state at once.
    pub fn render_all(&mut self) -> Result<(), IngestError> {
        self.publisher.publish_all(&mut self.store)
    }

    /// Compares the folder with the store. New, changed and vanished files start
    /// settling; files whose size and mtime match what was stored are not read again.
    /// Files the store does not know are not looked at by the scan: they are read anyway,
    /// and their read looks first.
    pub fn reconcile(&mut self, why: &str) -> Result<(), IngestError> {
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
        // The names that cannot be read are only known here: show them at once.
        self.publisher.refresh_status(&self.store)
    }

    fn watch_folders(&self, folders: &[String]) {
        if let Some(watcher) = &self.watcher {
            watcher.watch_folders(folders);
        }
    }

    /// A folder appeared, went or moved: every file on disk under it, and every file
    /// stored under it, is looked at (a folder moved in or out brings no event for the
    /// files inside it).
    fn look_under(&mut self, dir: &str) -> Result<(), IngestError> {
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

    /// Polls until nothing is left settling: the end of the first scan. Files that keep
    /// changing, with nothing else settling for a while, are left to the driver loop
    /// rather than holding start-up; a big folder that takes long to ingest is not.
    pub fn settle_all(&mut self) -> Result<(), IngestError> {
        let patience = self.settings.settle * 4 + Duration::from_secs(2);
        let mut give_up = Instant::now() + patience;
        while !self.settler.is_empty() {
            if Instant::now() >= give_up {
                tracing::warn!(
                    files = self.settler.len(),
                    "files still changing after the first scan; they are ingested once they settle"
                );
                break;
            }
            let pending = self.settler.len();
            self.process_settled()?;
            if self.settler.len() < pending {
                give_up = Instant::now() + patience;
            }
            if !self.settler.is_empty() {
                std::thread::sleep(self.tick());
            }
        }
        Ok(())
    }

    /// Freezes every archive page that has filled (for a one-off render).
    pub fn freeze_archives(&mut self) -> Result<(), IngestError> {
        while self.publisher.freeze_archives(&mut self.store, u64::MAX)? {}
        Ok(())
    }

    /// Every feed published so far with its compressed variants (for `seedfeed render`).
    pub fn compress_all(&mut self) {
        self.publisher.compress_all();
    }

    /// The driver loop: watch events and rescans in, snapshots out, until shutdown.
    /// New feeds are compressed, then archive pages frozen, when nothing else is
    /// waiting, one document at a time, so that a new article never waits behind them.
    pub fn run(mut self, inbox: Receiver<IngestMsg>) {
        let mut next_rescan = Instant::now() + self.settings.rescan_interval;
        let mut archives_waiting = true;
        loop {
            self.settings.heartbeat.beat();
            let now = Instant::now();
            // Files settling are looked at every tick; new feeds are compressed and
            // archive pages frozen only when nothing settles (a file held open for
            // minutes must not make this loop spin), and then one after another
            // without waiting.
            let compression_waiting = self.publisher.compression_waiting();
            let mut wait = if !self.settler.is_empty() {
                self.tick()
            } else if archives_waiting || compression_waiting {
                Duration::ZERO
            } else {
                next_rescan.saturating_duration_since(now)
            };
            if let Some(expiry) = self.publisher.next_expiry() {
                let until = (expiry - Utc::now()).to_std().unwrap_or_default();
                wait = wait.min(until);
            }
            let mut next = inbox.recv_timeout(wait);
            // Take whatever else is queued before doing the work, so a burst of events
            // becomes one batch and one render.
            while let Ok(message) = next {
                if self.handle(message).is_break() {
                    tracing::info!("ingest stopped");
                    return;
                }
                next = inbox.try_recv().map_err(|e| match e {
                    TryRecvError::Empty => RecvTimeoutError::Timeout,
                    TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                });
            }
            if matches!(next, Err(RecvTimeoutError::Disconnected)) {
                break;
            }
            if Instant::now() >= next_rescan {
                log_error(self.reconcile("periodic"));
                next_rescan = Instant::now() + self.settings.rescan_interval;
            }
            if !self.settler.is_empty() {
                let pending = self.settler.len();
                log_error(self.process_settled());
                // Ingested entries may have filled pages.
                archives_waiting |= self.settler.len() < pending;
            }
            if self.settler.is_empty() && self.publisher.compression_waiting() {
                self.publisher.compress_one();
            } else if archives_waiting && self.settler.is_empty() {
                match self
                    .publisher
                    .freeze_archives(&mut self.store, ARCHIVE_STEP)
                {
                    Ok(more) => archives_waiting = more,
                    Err(error) => {
                        log_error(Err(error));
                        archives_waiting = false;
                    }
                }
            }
            if self
                .publisher
                .next_expiry()
                .is_some_and(|t| t <= Utc::now())
            {
                log_error(self.publisher.expire_tombstones(&mut self.store));
            }
        }
        tracing::info!("ingest stopped");
    }

    /// Takes one message; `Break` means stop.
    fn handle(&mut self, message: IngestMsg) -> ControlFlow<()> {
        match message {
            IngestMsg::Watch(WatchEvent::Changed(path)) => {
                self.settler.touch(path, Instant::now());
            }
            IngestMsg::Watch(WatchEvent::Finished(path)) => {
                let root = self.settings.reader.folder.root();
                self.settler.finish(root, path, Instant::now());
            }
            IngestMsg::Watch(WatchEvent::Tree(dir)) => {
                log_error(self.look_under(&dir));
            }
            IngestMsg::Watch(WatchEvent::BadName(name, exists)) => {
                if self.publisher.bad_name(name, exists) {
                    log_error(self.publisher.refresh_status(&self.store));
                }
            }
            IngestMsg::Watch(WatchEvent::Rescan(why)) => {
                tracing::warn!(reason = %why, "rescanning the seeds folder");
                log_error(self.reconcile("events lost"));
            }
            IngestMsg::Rescan(why) => {
                log_error(self.reconcile(why));
            }
            IngestMsg::Reload(site) => {
                log_error(self.publisher.set_site(&mut self.store, *site));
            }
            IngestMsg::Ping(reply) => {
                let _ = reply.send(());
            }
            IngestMsg::Shutdown => return ControlFlow::Break(()),
        }
        ControlFlow::Continue(())
    }

    /// How often settling files are looked at.
    fn tick(&self) -> Duration {
        (self.settings.settle / 5).clamp(Duration::from_millis(20), Duration::from_millis(100))
    }

    /// Reads, stores and renders every path that has settled.
    fn process_settled(&mut self) -> Result<(), IngestError> {
        let settled = self.settler.poll(
            self.settings.reader.folder.root(),
            Instant::now(),
            SystemTime::now(),
        );
        let settled = self.hold_back_moves(settled);
        if settled.is_empty() {
            return Ok(());
        }
        let total = settled.len();
        let mut outcome = ApplyOutcome::default();
        let mut uncommitted = ApplyOutcome::default();
        let reader = &self.settings.reader;
        let heartbeat = &self.settings.heartbeat;
        let mut writer = if total > BULK {
            self.store.bulk_writer(total)?
        } else {
            self.store.writer()
        };
        let mut changing = Vec::new();
        let mut apply = |done: usize, chunk: ReadChunk, commit: bool| {
            let changes = chunk.changes;
            changing.extend(chunk.changing);
            let part = writer.apply(&changes, Utc::now())?;
            heartbeat.beat();
            log_set_aside(&part, &changes);
            merge(&mut uncommitted, part);
            if commit {
                writer.commit()?;
                log_entries(&uncommitted);
                merge(&mut outcome, std::mem::take(&mut uncommitted));
                if total > BULK {
                    tracing::info!(done, total, "ingest progress");
                }
            }
            Ok::<_, IngestError>(())
        };
        let settle = self.settings.settle;
        if total <= BULK {
            apply(total, read_changes(reader, &settled, settle), true)?;
        } else {
            let batch = COMMIT_EVERY.min(total.div_ceil(4));
            bulk::read_and_apply(reader, &settled, settle, batch, apply)?;
        }
        drop(writer);
        let now = Instant::now();
        for path in std::mem::take(&mut outcome.requeue)
            .into_iter()
            .chain(changing)
        {
            self.settler.touch(path, now);
        }
        if outcome.feeds_changed() {
            self.publisher.publish(&mut self.store, &outcome)?;
        }
        self.publisher.record(&self.store, &outcome)
    }

    /// A file whose key is still held by a path on its way out (a file or folder renamed
    /// or moved within the seeds folder: the old path settles as gone only after
    /// `settle`, the new one may be ready at once) waits for that path, so that the
    /// key passes from one to the other instead of being refused as a key conflict.
    fn hold_back_moves(&mut self, settled: Vec<Settled>) -> Vec<Settled> {
        let leaving: HashSet<EntryKey> = self.settler.missing().filter_map(path_key).collect();
        if leaving.is_empty() {
            return settled;
        }
        let now = Instant::now();
        let mut ready = Vec::with_capacity(settled.len());
        for item in settled {
            match &item {
                Settled::Present(path) | Settled::Listed(path)
                    if path_key(path).is_some_and(|k| leaving.contains(&k)) =>
                {
                    self.settler.touch(path.clone(), now);
                }
                _ => ready.push(item),
            }
        }
        ready
    }
}

/// Settled paths, read: the changes they make to the store, in their order, and the
/// paths listed without a look that turned out to be still changing (they settle again).
#[derive(Debug, Default)]
struct ReadChunk {
    changes: Vec<FileChange>,
    changing: Vec<String>,
}

impl ReadChunk {
    /// How many settled paths it answers for.
    fn len(&self) -> usize {
        self.changes.len() + self.changing.len()
    }
}

/// Reads settled paths; a listed one only if it has been still for `settle`.
fn read_changes(reader: &ArticleReader, settled: &[Settled], settle: Duration) -> ReadChunk {
    let wall = SystemTime::now();
    let mut chunk = ReadChunk::default();
    for settled in settled {
        let (path, listed) = match settled {
            Settled::Absent(path) => {
                let removed = FileChange::Removed { path: path.clone() };
                chunk.changes.push(removed);
                continue;
            }
            Settled::Present(path) => (path, false),
            Settled::Listed(path) => (path, true),
        };
        let Some(key) = path_key(path) else {
            let removed = FileChange::Removed { path: path.clone() };
            chunk.changes.push(removed);
            continue;
        };
        if !listed {
            chunk.changes.push(reader.read(path, key));
        } else if let Some(change) = reader.read_if_still(path, key, settle, wall) {
            chunk.changes.push(change);
        } else {
            chunk.changing.push(path.clone());
        }
    }
    chunk
}

impl ArticleReader {
    /// Reads one file safely, parses and normalizes it: the change it makes to the store.
    /// Repairs are logged here, with the path, once per version of the file.
    pub fn read(&self, path: &str, key: EntryKey) -> FileChange {
        let read = self.folder.read(path, self.max_file_bytes);
        self.change_of(path, key, read)
    }

    /// Like [`Self::read`], for a file listed without a look: `None`, and nothing read,
    /// when it changed within `settle` before `wall`.
    fn read_if_still(
        &self,
        path: &str,
        key: EntryKey,
        settle: Duration,
        wall: SystemTime,
    ) -> Option<FileChange> {
        let read = self
            .folder
            .read_if_still(path, self.max_file_bytes, settle, wall)?;
        Some(self.change_of(path, key, read))
    }

    /// The change that what was read makes.
    fn change_of(&self, path: &str, key: EntryKey, read: SeedRead) -> FileChange {
        let (bytes, stamp) = match read {
            SeedRead::Read { bytes, stamp } => (bytes, stamp),
            SeedRead::Gone => {
                return FileChange::Removed {
                    path: path.to_owned(),
                };
            }
            SeedRead::Rejected { stamp, reason } => {
                return FileChange::Rejected {
                    path: path.to_owned(),
                    key,
                    stamp,
                    reason,
                };
            }
        };
        match parse_article(&bytes) {
            Ok(parsed) => {
                for warning in &parsed.warnings {
                    tracing::warn!(path = %path, %warning, "article repaired");
                }
                FileChange::Article {
                    path: path.to_owned(),
                    stamp,
                    draft: normalize(key, &parsed.article, &self.namespace),
                }
            }
            Err(reason) => FileChange::Rejected {
                path: path.to_owned(),
                key,
                stamp,
                reason,
            },
        }
    }
}

fn log_error(result: Result<(), IngestError>) {
    if let Err(error) = result {
        tracing::error!(error = %error_chain(&error), "ingest failed; the next rescan retries");
    }
}

/// An error and its causes on one line, for a log field.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

fn merge(total: &mut ApplyOutcome, part: ApplyOutcome) {
    total.categories.extend(part.categories);
    total.published.extend(part.published);
    total.updated.extend(part.updated);
    total.removed.extend(part.removed);
    total.duplicates.extend(part.duplicates);
    total.requeue.extend(part.requeue);
    total.rejected += part.rejected;
}

/// One log line per event, with fields: what entered, changed or left the feeds (once
/// committed). Each version of a file is processed once, so each is logged once. A big
/// batch (a bulk copy, a cold start) logs its entries as one line, and each entry only at
/// debug level: a hundred thousand lines would say less and cost more.
fn log_entries(outcome: &ApplyOutcome) {
    let entries = outcome.published.len() + outcome.updated.len() + outcome.removed.len();
    if entries > BULK_LOG {
        tracing::info!(
            published = outcome.published.len(),
            updated = outcome.updated.len(),
            removed = outcome.removed.len(),
            "entries changed"
        );
    }
    for (what, keys) in [
        ("entry published", &outcome.published),
        ("entry updated", &outcome.updated),
        ("entry removed", &outcome.removed),
    ] {
        for key in keys {
            if entries > BULK_LOG {
                tracing::debug!(key = %key, "{what}");
            } else {
                tracing::info!(key = %key, "{what}");
            }
        }
    }
}

/// One warning per file set aside, and why.
fn log_set_aside(outcome: &ApplyOutcome, changes: &[FileChange]) {
    for (path, original) in &outcome.duplicates {
        tracing::warn!(path = %path, duplicate_of = %original, "duplicate content; not published twice");
    }
    for change in changes {
        if let FileChange::Rejected { path, reason, .. } = change {
            tracing::warn!(path = %path, reason = %reason, "file rejected");
        }
    }
}
