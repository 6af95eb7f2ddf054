//! Stored entries to the [`Snapshot`] the HTTP layer serves: which documents a batch of
//! changes touches, the window of RFC 6721 tombstones, RFC 5005 archive pages frozen as
//! they fill (`archives`), the entry, archive and listing pages read from the store when
//! asked for ([`Pages`]), and the [`Status`] reported after every batch ([`status`]).
//!
//! The [`Publisher`] lives on the ingest thread and is the only writer of the snapshot
//! and status channels; the HTTP workers and the WebSub task hold their receivers. With
//! `[export] dir`, it also tells the static export ([`export`]) what each batch changed.

mod archives;
pub mod export;
mod pages;
pub mod status;

pub use export::ExportQueue;
pub use pages::Pages;
pub use status::Status;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

use crate::model::{TermKind, Tombstone};
use crate::render::{RenderError, Renderer, Site, Snapshot};
use crate::store::{ApplyOutcome, Store, StoreError};
use status::Reporter;

/// The current snapshot, as the HTTP workers and the WebSub task receive it.
pub type Snapshots = watch::Receiver<Arc<Snapshot>>;

/// The current status, as `/status`, `/metrics` and systemd's `STATUS=` receive it.
pub type Statuses = watch::Receiver<Arc<Status>>;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// A feed announces at most this many deletions, the most recent first, so that a mass
/// deletion cannot make every feed huge.
const MAX_TOMBSTONES: usize = 1000;

pub struct Publisher {
    renderer: Renderer,
    snapshots: watch::Sender<Arc<Snapshot>>,
    reporter: Reporter,
    tombstone_window: Duration,
    /// The tombstones of the last snapshot.
    tombstones: Vec<Tombstone>,
    /// Entry, archive and listing pages, whose cached copies a change makes stale.
    pages: Arc<Pages>,
    /// How many archive pages are frozen (the newest's number).
    frozen_archives: u64,
    /// When the status last said how far the freezing of archive pages got.
    archive_progress: Instant,
    /// The first ingest into an empty database is under way: the snapshots sent say so
    /// (see [`Snapshot::filling`]) until a batch changes the feeds or the first scan ends.
    first_ingest: bool,
    /// The first scan of a start on an empty database is under way (it ends with the
    /// scan, `first_ingest` with the first publication).
    filling: bool,
    /// The static export kept current (`[export] dir`): told what each batch changed.
    export: Option<Arc<ExportQueue>>,
}

impl Publisher {
    pub fn new(
        renderer: Renderer,
        snapshots: watch::Sender<Arc<Snapshot>>,
        statuses: watch::Sender<Arc<Status>>,
        tombstone_days: u32,
        pages: Arc<Pages>,
    ) -> Self {
        Self {
            renderer,
            snapshots,
            reporter: Reporter::new(statuses),
            tombstone_window: Duration::days(i64::from(tombstone_days)),
            tombstones: Vec::new(),
            pages,
            frozen_archives: 0,
            archive_progress: Instant::now(),
            first_ingest: false,
            filling: false,
            export: None,
        }
    }

    /// Keeps a static export current: `queue` is told what changes and given each
    /// snapshot (see [`export`]).
    pub fn export_to(&mut self, queue: Arc<ExportQueue>) {
        self.export = Some(queue);
    }

    /// Before the first publication of a start: when the store holds no file and no
    /// entry, the first ingest into it begins, and the documents are not served until
    /// it has published something (or found nothing to publish).
    pub fn begin_first_ingest(&mut self, store: &Store) -> Result<(), PublishError> {
        self.first_ingest = store.holds_nothing()?;
        self.filling = self.first_ingest;
        if self.first_ingest {
            tracing::info!("first ingest into a new database: feeds answer 503 until it publishes");
        }
        Ok(())
    }

    /// The first scan is done: whatever it found (an empty folder gives the empty
    /// feeds), the documents are served from now on. The pages the main feeds link to,
    /// not rendered while the first ingest filled them (see [`Self::render`]), are
    /// rendered now.
    pub fn end_first_ingest(&mut self, store: &Store) {
        let filled = std::mem::take(&mut self.filling);
        if std::mem::take(&mut self.first_ingest) {
            self.send(self.renderer.assemble());
        }
        if filled {
            let size = self.renderer.site().feed_size;
            match store.latest_entries(size) {
                Ok(latest) => self.pages.prepare(&latest),
                // Each is rendered when first asked for instead.
                Err(error) => {
                    tracing::warn!(%error, "cannot read the newest entries to render their pages")
                }
            }
        }
    }

    /// Publishes a snapshot, marked while the first ingest is under way.
    fn send(&self, mut snapshot: Snapshot) {
        snapshot.first_ingest = self.first_ingest;
        let snapshot = Arc::new(snapshot);
        self.snapshots.send_replace(Arc::clone(&snapshot));
        self.offer_export(&snapshot);
    }

    /// Gives the export a snapshot to write out: once its documents all have their
    /// variants (the export writes them as siblings), and not before they are served.
    fn offer_export(&self, snapshot: &Arc<Snapshot>) {
        if let Some(export) = &self.export
            && !self.first_ingest
            && !self.renderer.compression_waiting()
        {
            export.snapshot(snapshot);
        }
    }

    /// The names a full scan found that are not UTF-8 (see [`Reporter::set_bad_names`]).
    pub fn set_bad_names(&mut self, names: &[String]) {
        self.reporter.set_bad_names(names);
    }

    /// A name that is not UTF-8 appeared or went; returns whether the list changed.
    pub fn bad_name(&mut self, name: String, exists: bool) -> bool {
        self.reporter.bad_name(name, exists)
    }

    /// Media files settled (appeared, changed or went), and the article files read again
    /// because they reference one (see [`Reporter::media_changed`]).
    pub fn media_changed(&mut self, media: usize, rereads: usize) {
        self.reporter.media_changed(media, rereads);
        if let Some(export) = &self.export {
            export.media();
            // No article may show the change, and so no new snapshot come: the export
            // copies the files with the one it has.
            let current = Arc::clone(&self.snapshots.borrow());
            self.offer_export(&current);
        }
    }

    /// The files a full scan found that are not articles, and why (see
    /// [`Reporter::set_not_articles`]).
    pub fn set_not_articles(&mut self, files: &[(String, &'static str)]) {
        self.reporter.set_not_articles(files);
    }

    /// Takes new site settings (a reload) and renders every feed with them; cached pages
    /// are dropped, to be rendered again when asked for.
    pub fn set_site(&mut self, store: &mut Store, site: Site) -> Result<(), PublishError> {
        self.pages.set_site(site.clone());
        self.renderer.set_site(site);
        self.publish_all(store)
    }

    /// Renders the feeds of everything the store holds: at start-up, so a restart serves
    /// the previous state at once. Archive pages that filled are frozen later, one at a
    /// time, by [`Publisher::freeze_archives`].
    pub fn publish_all(&mut self, store: &mut Store) -> Result<(), PublishError> {
        if let Some(export) = &self.export {
            export.everything();
        }
        self.load_archives(store)?;
        self.tombstones = self.current_tombstones(store)?;
        let sections: BTreeSet<String> = store
            .categories(self.tombstones_since())?
            .into_iter()
            .map(|c| c.slug)
            .collect();
        self.refresh_sections(store, &sections)?;
        for kind in [TermKind::Tag, TermKind::Author] {
            self.renderer.set_term_list(kind, store.terms(kind)?);
        }
        self.render(store)?;
        self.refresh_status(store)
    }

    /// Counts a batch of changes and sends the new status, whether or not the feeds
    /// changed (a reject changes only the status).
    pub fn record(&mut self, store: &Store, outcome: &ApplyOutcome) -> Result<(), PublishError> {
        self.reporter.count(outcome);
        self.refresh_status(store)
    }

    /// Sends a new status (after a batch, or when only the rejects changed).
    pub fn refresh_status(&mut self, store: &Store) -> Result<(), PublishError> {
        Ok(self.reporter.send(store)?)
    }

    /// A part of a batch was committed: the listing pages may have changed (a bulk
    /// commits many times before it publishes once).
    pub fn committed(&self) {
        self.pages.forget_listings();
    }

    /// Whether the first scan of a start on an empty database is under way.
    pub fn filling(&self) -> bool {
        self.filling
    }

    /// How far the bulk of files being stored got; `None` when it ended.
    pub fn ingest_progress(&mut self, progress: Option<(usize, usize)>) {
        let progress = progress.map(|(done, total)| status::IngestProgress {
            done: done as u64,
            total: total as u64,
        });
        self.reporter.ingest_progress(progress);
    }

    /// Re-renders what a batch of changes touched.
    pub fn publish(&mut self, store: &Store, outcome: &ApplyOutcome) -> Result<(), PublishError> {
        self.pages.forget(outcome.changed().chain(&outcome.removed));
        if let Some(export) = &self.export {
            export.entries(outcome.changed().chain(&outcome.removed));
        }
        self.tombstones = self.current_tombstones(store)?;
        self.refresh_sections(store, &outcome.categories)?;
        for (kind, slugs) in [
            (TermKind::Tag, &outcome.tags),
            (TermKind::Author, &outcome.authors),
        ] {
            // Their feeds are read when asked for (`Pages`); the list is the index's.
            if !slugs.is_empty() {
                self.renderer.set_term_list(kind, store.terms(kind)?);
            }
        }
        // The first batch that changes the feeds ends the wait: what it published is
        // what the folder holds so far, and the rest follows batch by batch.
        self.first_ingest = false;
        self.render(store)
    }

    /// When the oldest tombstone leaves the window, so the feeds must change.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.tombstones
            .iter()
            .map(|t| t.deleted + self.tombstone_window)
            .min()
    }

    /// Drops the tombstones that left the window from the feeds that carried them.
    pub fn expire_tombstones(&mut self, store: &mut Store) -> Result<(), PublishError> {
        let before = std::mem::take(&mut self.tombstones);
        self.tombstones = self.current_tombstones(store)?;
        let expired: BTreeSet<String> = before
            .iter()
            .filter(|t| !self.tombstones.iter().any(|kept| kept.id == t.id))
            .filter_map(|t| t.category_slug.clone())
            .collect();
        tracing::info!(
            expired = before.len().saturating_sub(self.tombstones.len()),
            "tombstones expired"
        );
        self.refresh_sections(store, &expired)?;
        self.render(store)?;
        self.refresh_status(store)
    }

    fn tombstones_since(&self) -> DateTime<Utc> {
        Utc::now() - self.tombstone_window
    }

    fn current_tombstones(&self, store: &Store) -> Result<Vec<Tombstone>, StoreError> {
        store.tombstones(self.tombstones_since())
    }

    /// Re-renders the feeds of the given sections and the list of sections.
    fn refresh_sections(
        &mut self,
        store: &Store,
        slugs: &BTreeSet<String>,
    ) -> Result<(), PublishError> {
        let size = self.renderer.site().feed_size;
        for slug in slugs {
            let Some(category) = store.category(slug)? else {
                self.renderer.remove_section(slug);
                continue;
            };
            let entries = store.latest_in_category(slug, size)?;
            let tombstones: Vec<Tombstone> = self
                .tombstones
                .iter()
                .filter(|t| t.category_slug.as_deref() == Some(slug.as_str()))
                .take(MAX_TOMBSTONES)
                .cloned()
                .collect();
            self.renderer
                .set_section(&category, &entries, &tombstones)?;
        }
        self.renderer
            .set_categories(store.categories(self.tombstones_since())?);
        Ok(())
    }

    /// Computes the variants of one feed published without them, and publishes them.
    pub fn compress_one(&mut self) {
        if self.renderer.compress_one() {
            self.send(self.renderer.assemble());
        }
    }

    /// Whether feeds wait for their compressed variants.
    pub fn compression_waiting(&self) -> bool {
        self.renderer.compression_waiting()
    }

    /// Every feed with its variants: for a snapshot that is written out, not served.
    pub fn compress_all(&mut self) {
        if self.renderer.compress_pending() {
            self.send(self.renderer.assemble());
        }
    }

    /// Renders the main feeds and the index and publishes the new snapshot.
    fn render(&mut self, store: &Store) -> Result<(), PublishError> {
        let started = Instant::now();
        let size = self.renderer.site().feed_size;
        // One more than the feeds hold: the index links to an older page if there is one.
        let latest = store.latest_entries(size + 1)?;
        let tombstones = &self.tombstones[..self.tombstones.len().min(MAX_TOMBSTONES)];
        self.renderer
            .set_newest_archive(self.newest_archive(store)?);
        let snapshot = self.renderer.render(&latest, tombstones)?;
        let documents = snapshot.len();
        // The pages the main feeds link to are the ones readers open: they are rendered
        // here, before the feeds that link to them are published, so that opening one
        // never waits for the database (only the newly linked ones are rendered). Not
        // while the first ingest fills the feeds, publishing every second: each publish
        // links to new entries, and rendering and compressing the pages of each filled
        // the pages' cache (tens of megabytes) with pages hardly anyone opens, at a
        // cost in the ingest's time. The first ingest's end renders those it leaves.
        if !self.filling {
            self.pages.prepare(&latest[..latest.len().min(size)]);
        }
        // Served as rendered; the driver adds the gzip and brotli variants when it has
        // nothing else to do (`compress_one`).
        self.send(snapshot);
        self.reporter.rendered(started.elapsed());
        tracing::debug!(
            documents,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "rendered"
        );
        Ok(())
    }
}
