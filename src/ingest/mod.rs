//! The ingest driver: filesystem events and scans in, settled files read, parsed,
//! normalized and stored, and a new snapshot published. It runs on one thread of its
//! own, which owns the database's writing connection, so no blocking work ever lands on
//! the async workers; a bulk (a cold start, a big copy) is read on two more threads
//! (`bulk`) while this one writes.
//!
//! - `reader`: one file to a store change (safe read, parse, normalize);
//! - `reconcile`: full scans and folder changes, which start paths settling;
//! - `batch`: settled paths read, stored and published;
//! - `spool`: a bulk's paths in order, on disk while it runs;
//! - this file: the loop ([`Ingest::run`]): receive, handle, settle, idle work.

mod batch;
mod bulk;
mod order;
mod reader;
mod reconcile;
mod spool;

pub use reader::ArticleReader;
pub use reconcile::StampsLoading;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::logging::error_chain;
use crate::publish::{PublishError, Publisher};
use crate::render::Site;
use crate::store::{Store, StoreError};
use crate::watch::{FolderWatcher, Settler, WatchEvent};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("a thread reading seed files panicked; its batch is read again at the next rescan")]
    ReaderPanicked,
    #[error(
        "cannot read the bulk's paths back from its temporary file beside the database; \
         what was not stored is read again at the next rescan"
    )]
    Spool { source: std::io::Error },
    #[error("cannot start a thread to read seed files; they are read again at the next rescan")]
    Thread { source: std::io::Error },
    #[error("cannot list the seeds folder {path}")]
    Scan {
        path: String,
        source: std::io::Error,
    },
    /// The daemon is shutting down: a bulk stopped after its last commit (what it had
    /// not committed is read again at the next start), or a reconcile scan before its
    /// end (nothing was concluded from it).
    #[error("stopped for the shutdown")]
    Stopped,
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
    /// Set by the daemon's shutdown, which the driver also hears of through its inbox
    /// once it reads it; a bulk, which does not read it, stops at its next commit, and a
    /// reconcile scan after the file it is at.
    pub stop: StopSignal,
}

/// Set once, when the daemon shuts down: a first ingest of a million files is a minute
/// of one bulk, and a restart's scan of them seconds, which would otherwise run to
/// their end before the driver reads its inbox.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
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

/// Archive pages frozen in one step of the driver loop, between looks at its inbox: one
/// page at a time, so that a new article never waits behind more than one.
const ARCHIVE_STEP: u64 = 1;

pub struct Ingest {
    settings: IngestSettings,
    /// Filesystem events, when the platform gives them: the driver adds the subfolders
    /// its scans find.
    watcher: Option<Arc<FolderWatcher>>,
    store: Store,
    settler: Settler,
    publisher: Publisher,
    /// The store's file stamps loading ahead, for the first scan to take.
    stamps: Option<StampsLoading>,
}

/// The driver loop's own state between turns.
struct Turn {
    next_rescan: Instant,
    /// When the first article held back for its date is due (the store's, read after
    /// every batch).
    next_due: Option<chrono::DateTime<Utc>>,
    /// Entries were stored since the archive pages were last caught up: pages may have
    /// filled.
    archives_waiting: bool,
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
            stamps: None,
        }
    }

    /// Gives the first scan the stamps `loading` loads ahead (see [`StampsLoading`]).
    pub fn with_stamps(mut self, loading: Option<StampsLoading>) -> Self {
        self.stamps = loading;
        self
    }

    /// Renders everything stored and publishes it: what is served while the first scan
    /// runs, so a restart serves the previous state at once. An empty database serves
    /// nothing but 503s until its first ingest publishes (see
    /// [`Publisher::begin_first_ingest`]).
    pub fn render_all(&mut self) -> Result<(), IngestError> {
        self.publisher.begin_first_ingest(&self.store)?;
        Ok(self.publisher.publish_all(&mut self.store)?)
    }

    /// The first scan, at start-up or for a one-off render: compares the folder with the
    /// store, then ingests what settles (see [`Self::settle_all`]). Done, or failed, the
    /// documents are served from then on.
    pub fn first_scan(&mut self, why: &str) -> Result<(), IngestError> {
        let scanned = self.reconcile(why).and_then(|()| self.settle_all());
        self.publisher.end_first_ingest(&self.store);
        scanned
    }

    /// Polls until nothing is left settling: the end of the first scan. Files that keep
    /// changing, with nothing else settling for a while, are left to the driver loop
    /// rather than holding start-up; a big folder that takes long to ingest is not.
    fn settle_all(&mut self) -> Result<(), IngestError> {
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

    /// The driver loop, until shutdown: receive what is queued, handle it, settle what
    /// has settled, then do idle work (compress new feeds, freeze archive pages, expire
    /// tombstones) one document at a time, so that a new article never waits behind it.
    pub fn run(mut self, inbox: Receiver<IngestMsg>) {
        let mut turn = Turn {
            next_rescan: Instant::now() + self.settings.rescan_interval,
            next_due: None,
            archives_waiting: true,
        };
        self.schedule(&mut turn);
        loop {
            self.settings.heartbeat.beat();
            let wait = self.wait(&turn);
            if self.receive(&inbox, wait).is_break() {
                break;
            }
            self.rescan_when_due(&mut turn);
            self.release_due(&mut turn);
            self.settle(&mut turn);
            self.idle_work(&mut turn);
        }
        tracing::info!("ingest stopped");
    }

    /// How long the loop may sleep: a tick while files settle (a file held open for
    /// minutes must not make the loop spin), nothing while idle work waits, else until
    /// the next rescan or the next tombstone to expire.
    fn wait(&self, turn: &Turn) -> Duration {
        let mut wait = if !self.settler.is_empty() {
            self.tick()
        } else if turn.archives_waiting || self.publisher.compression_waiting() {
            Duration::ZERO
        } else {
            turn.next_rescan.saturating_duration_since(Instant::now())
        };
        for due in [self.publisher.next_expiry(), turn.next_due]
            .into_iter()
            .flatten()
        {
            let until = (due - Utc::now()).to_std().unwrap_or_default();
            wait = wait.min(until);
        }
        wait
    }

    /// Reads when the next article held back for its date is due: a timer, not a poll.
    fn schedule(&self, turn: &mut Turn) {
        match self.store.next_due() {
            Ok(due) => turn.next_due = due,
            Err(error) => log_error(Err(error)),
        }
    }

    /// Articles whose date has come are read again, and published like any change.
    fn release_due(&mut self, turn: &mut Turn) {
        if turn.next_due.is_none_or(|due| due > Utc::now()) {
            return;
        }
        match self.store.due_files(Utc::now()) {
            Ok(paths) => {
                let now = Instant::now();
                for path in paths {
                    tracing::info!(path = %path, "scheduled article due: publishing it");
                    self.settler.touch(path, now);
                }
            }
            Err(error) => log_error(Err(error)),
        }
        // Until they are read again, the files still say they are due: not again.
        turn.next_due = None;
    }

    /// Waits up to `wait` for a message, then takes whatever else is queued before doing
    /// the work, so that a burst of events becomes one batch and one render. `Break`:
    /// shut down (asked, or every sender is gone).
    fn receive(&mut self, inbox: &Receiver<IngestMsg>, wait: Duration) -> ControlFlow<()> {
        let mut next = inbox.recv_timeout(wait);
        while let Ok(message) = next {
            self.handle(message)?;
            next = inbox.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            });
        }
        match next {
            Err(RecvTimeoutError::Disconnected) => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
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

    fn rescan_when_due(&mut self, turn: &mut Turn) {
        if Instant::now() >= turn.next_rescan {
            log_error(self.reconcile("periodic"));
            turn.next_rescan = Instant::now() + self.settings.rescan_interval;
        }
    }

    /// Stores and publishes what has settled.
    fn settle(&mut self, turn: &mut Turn) {
        if self.settler.is_empty() {
            return;
        }
        let pending = self.settler.len();
        log_error(self.process_settled());
        // Ingested entries may have filled pages.
        turn.archives_waiting |= self.settler.len() < pending;
        self.schedule(turn);
    }

    /// Work that waits for a quiet moment, one piece a turn: the variants of a new feed,
    /// then an archive page; tombstones leave the feeds when their time is up.
    fn idle_work(&mut self, turn: &mut Turn) {
        if self.settler.is_empty() && self.publisher.compression_waiting() {
            self.publisher.compress_one();
        } else if turn.archives_waiting && self.settler.is_empty() {
            match self
                .publisher
                .freeze_archives(&mut self.store, ARCHIVE_STEP)
            {
                Ok(more) => turn.archives_waiting = more,
                Err(error) => {
                    log_error(Err(error));
                    turn.archives_waiting = false;
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

    /// How often settling files are looked at.
    fn tick(&self) -> Duration {
        (self.settings.settle / 5).clamp(Duration::from_millis(20), Duration::from_millis(100))
    }
}

fn log_error<E: Into<IngestError>>(result: Result<(), E>) {
    match result.map_err(Into::into) {
        Ok(()) => {}
        // Said by the bulk or scan that stopped; the driver stops at its next look at the
        // inbox.
        Err(IngestError::Stopped) => {}
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "ingest failed; the next rescan retries");
        }
    }
}
