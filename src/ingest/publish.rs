//! From the store to a published snapshot: which documents a change touches, the window
//! of RFC 6721 tombstones, and freezing RFC 5005 archive pages as they fill.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

use super::IngestError;
use crate::model::{BAD_NAME_REASON, FileCounts, RejectedFile, Status, Tombstone};
use crate::pages::Pages;
use crate::render::{Renderer, Site, Snapshot};
use crate::store::{ApplyOutcome, Store};

/// A feed announces at most this many deletions, the most recent first, so that a mass
/// deletion cannot make every feed huge.
const MAX_TOMBSTONES: usize = 1000;

/// Keys of the store's `meta` table.
const META_PAGE_SIZE: &str = "archive_page_size";
const META_ARCHIVE_BASE: &str = "archive_base_url";

/// While many archive pages are being frozen, the main feeds are rendered again this
/// often to link to the newest one.
const ARCHIVE_RENDER_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Publisher {
    renderer: Renderer,
    snapshots: watch::Sender<Arc<Snapshot>>,
    /// What `/status` and `/metrics` show, sent after every batch.
    status: Status,
    statuses: watch::Sender<Arc<Status>>,
    tombstone_window: Duration,
    /// The tombstones of the last snapshot.
    tombstones: Vec<Tombstone>,
    /// Entry and archive pages, whose cached copies a change makes stale.
    pages: Arc<Pages>,
    /// When the main feeds were last rendered for newly frozen archive pages.
    archive_render: Instant,
    /// Files and folders in the seeds folder whose names are not UTF-8, shown with
    /// U+FFFD, and since when they have been seen: rejects the store cannot hold.
    bad_names: BTreeMap<String, DateTime<Utc>>,
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
            status: Status::default(),
            statuses,
            tombstone_window: Duration::days(i64::from(tombstone_days)),
            tombstones: Vec::new(),
            pages,
            archive_render: Instant::now(),
            bad_names: BTreeMap::new(),
        }
    }

    /// The names a full scan found that are not UTF-8: the list is replaced (keeping
    /// since when each was first seen), and each new one logged once.
    pub fn set_bad_names(&mut self, names: &[String]) {
        let mut kept = BTreeMap::new();
        for name in names {
            let since = match self.bad_names.remove(name) {
                Some(since) => since,
                None => {
                    tracing::warn!(path = %name, reason = BAD_NAME_REASON, "file rejected");
                    Utc::now()
                }
            };
            kept.insert(name.clone(), since);
        }
        self.bad_names = kept;
    }

    /// A name that is not UTF-8 appeared or went; returns whether the list changed.
    pub fn bad_name(&mut self, name: String, exists: bool) -> bool {
        if !exists {
            return self.bad_names.remove(&name).is_some();
        }
        if self.bad_names.contains_key(&name) {
            return false;
        }
        tracing::warn!(path = %name, reason = BAD_NAME_REASON, "file rejected");
        self.bad_names.insert(name, Utc::now());
        true
    }

    /// Takes new site settings (a reload) and renders every feed with them; cached pages
    /// are dropped, to be rendered again when asked for.
    pub fn set_site(&mut self, store: &mut Store, site: Site) -> Result<(), IngestError> {
        self.pages.set_site(site.clone());
        self.renderer.set_site(site);
        self.publish_all(store)
    }

    /// Renders the feeds of everything the store holds: at start-up, so a restart serves
    /// the previous state at once. Archive pages that filled are frozen later, one at a
    /// time, by [`Publisher::freeze_archives`].
    pub fn publish_all(&mut self, store: &mut Store) -> Result<(), IngestError> {
        self.load_archives(store)?;
        self.tombstones = self.current_tombstones(store)?;
        let sections: BTreeSet<String> = store
            .categories(self.tombstones_since())?
            .into_iter()
            .map(|c| c.slug)
            .collect();
        self.refresh_sections(store, &sections)?;
        self.render(store)?;
        self.refresh_status(store)
    }

    /// Counts a batch of changes and sends the new status, whether or not the feeds
    /// changed (a reject changes only the status).
    pub fn record(&mut self, store: &Store, outcome: &ApplyOutcome) -> Result<(), IngestError> {
        let totals = &mut self.status.totals;
        totals.published += outcome.published.len() as u64;
        totals.updated += outcome.updated.len() as u64;
        totals.removed += outcome.removed.len() as u64;
        totals.duplicates += outcome.duplicates.len() as u64;
        totals.rejected += outcome.rejected as u64;
        self.status.last_ingest = Some(Utc::now());
        self.refresh_status(store)
    }

    /// Sends a new status (after a batch, or when only the rejects changed).
    pub fn refresh_status(&mut self, store: &Store) -> Result<(), IngestError> {
        let counts = store.counts()?;
        self.status.entries = counts.entries;
        self.status.files = FileCounts {
            published: counts.published_files,
            duplicates: counts.duplicates,
            rejected: counts.rejects + self.bad_names.len() as u64,
        };
        let mut rejects: Vec<RejectedFile> = self
            .bad_names
            .iter()
            .map(|(path, since)| RejectedFile {
                path: path.clone(),
                reason: BAD_NAME_REASON.to_owned(),
                since: *since,
            })
            .collect();
        rejects.extend(store.rejected_files(Status::MAX_REJECTS)?);
        rejects.sort_by(|a, b| (a.since, &a.path).cmp(&(b.since, &b.path)));
        rejects.truncate(Status::MAX_REJECTS);
        self.status.rejects = rejects;
        self.status.duplicates = store.duplicate_files(Status::MAX_REJECTS)?;
        self.statuses.send_replace(Arc::new(self.status.clone()));
        Ok(())
    }

    /// Re-renders what a batch of changes touched.
    pub fn publish(
        &mut self,
        store: &mut Store,
        outcome: &ApplyOutcome,
    ) -> Result<(), IngestError> {
        self.pages.forget(outcome.changed().chain(&outcome.removed));
        self.tombstones = self.current_tombstones(store)?;
        self.refresh_sections(store, &outcome.categories)?;
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
    pub fn expire_tombstones(&mut self, store: &mut Store) -> Result<(), IngestError> {
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

    fn current_tombstones(&self, store: &Store) -> Result<Vec<Tombstone>, IngestError> {
        Ok(store.tombstones(self.tombstones_since())?)
    }

    /// Re-renders the feeds of the given sections and the list of sections.
    fn refresh_sections(
        &mut self,
        store: &Store,
        slugs: &BTreeSet<String>,
    ) -> Result<(), IngestError> {
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

    /// Finds the archive pages already frozen, unless they were rendered for another base
    /// URL (the site moved): then they are dropped and frozen again.
    fn load_archives(&mut self, store: &mut Store) -> Result<(), IngestError> {
        let base = self.renderer.site().base.clone();
        let newest = store.newest_archive_page()?;
        match store.meta(META_ARCHIVE_BASE)? {
            Some(stored) if stored != base && newest.is_some() => {
                tracing::warn!(old = %stored, new = %base, "base URL changed; rendering the archive pages again");
                store.clear_archive_pages()?;
                self.pages.forget_all();
                self.renderer.set_newest_archive(None);
            }
            _ => self.renderer.set_newest_archive(newest),
        }
        store.set_meta(META_ARCHIVE_BASE, &base)?;
        Ok(())
    }

    /// Freezes at most `limit` of the archive pages that have filled since the last one;
    /// returns whether more are waiting. A page holds the entries first published as
    /// numbers `(n-1)*size+1 ..= n*size`; the size is `feed_size` when the first page
    /// filled, and stays so, so that pages never move. Page 1 waits for page 2, so that it
    /// can link to it (see `render::Archive`).
    ///
    /// The ingest driver calls this when it has nothing else to do, so that a bulk ingest
    /// reaches the feeds first and its history follows. The main feeds link to the newest
    /// frozen page, so no link ever leads to a page that is not there yet.
    pub fn freeze_archives(&mut self, store: &mut Store, limit: u64) -> Result<bool, IngestError> {
        let size = match store
            .meta(META_PAGE_SIZE)?
            .and_then(|v| v.parse::<u64>().ok())
        {
            Some(size) if size > 0 => size,
            _ => {
                let size = self.renderer.site().feed_size as u64;
                store.set_meta(META_PAGE_SIZE, &size.to_string())?;
                size
            }
        };
        let full = match store.max_seq()? / size {
            1 => 0,
            full => full,
        };
        let frozen = self.renderer.newest_archive().unwrap_or(0);
        let last = full.min(frozen.saturating_add(limit));
        if last <= frozen {
            return Ok(false);
        }
        for number in frozen + 1..=last {
            let entries = store.entries_by_seq((number - 1) * size + 1, number * size)?;
            let pages = self.renderer.archive_page(number, &entries)?;
            store.save_archive_pages(&pages)?;
        }
        self.renderer.set_newest_archive(Some(last));
        let more = last < full;
        // The main feeds' link to the newest page: once caught up, and now and then
        // while a long history is being frozen.
        if !more || self.archive_render.elapsed() >= ARCHIVE_RENDER_EVERY {
            tracing::info!(newest = last, waiting = full - last, "archive pages frozen");
            self.render(store)?;
            self.archive_render = Instant::now();
        }
        Ok(more)
    }

    /// Computes the variants of one feed published without them, and publishes them.
    pub fn compress_one(&mut self) {
        if self.renderer.compress_one() {
            self.snapshots
                .send_replace(Arc::new(self.renderer.assemble()));
        }
    }

    /// Whether feeds wait for their compressed variants.
    pub fn compression_waiting(&self) -> bool {
        self.renderer.compression_waiting()
    }

    /// Every feed with its variants: for a snapshot that is written out, not served.
    pub fn compress_all(&mut self) {
        if self.renderer.compress_pending() {
            self.snapshots
                .send_replace(Arc::new(self.renderer.assemble()));
        }
    }

    /// Renders the main feeds and the index and publishes the new snapshot.
    fn render(&mut self, store: &Store) -> Result<(), IngestError> {
        let started = Instant::now();
        let latest = store.latest_entries(self.renderer.site().feed_size)?;
        let tombstones = &self.tombstones[..self.tombstones.len().min(MAX_TOMBSTONES)];
        let snapshot = self.renderer.render(&latest, tombstones)?;
        let documents = snapshot.len();
        // The pages the main feeds link to are the ones readers open: they are rendered
        // here, before the feeds that link to them are published, so that opening one
        // never waits for the database (only the newly linked ones are rendered).
        self.pages.prepare(&latest);
        // Served as rendered; the driver adds the gzip and brotli variants when it has
        // nothing else to do (`compress_one`).
        self.snapshots.send_replace(Arc::new(snapshot));
        self.status.rendered_at = Utc::now();
        self.status
            .render_seconds
            .observe(started.elapsed().as_secs_f64());
        tracing::debug!(
            documents,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "rendered"
        );
        Ok(())
    }
}
