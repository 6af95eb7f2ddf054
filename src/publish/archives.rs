//! RFC 5005 archive pages: frozen (rendered, compressed and stored as the bytes served)
//! as they fill, and found again at start-up. A full page never changes, so it is
//! rendered once; the ingest driver freezes pages when it has nothing else to do, so
//! that a bulk ingest reaches the feeds first and its history follows.

use std::time::Instant;

use super::status::ArchiveProgress;
use super::{PublishError, Publisher};
use crate::store::Store;

/// Keys of the store's `meta` table.
const META_PAGE_SIZE: &str = "archive_page_size";
const META_ARCHIVE_BASE: &str = "archive_base_url";

/// While many archive pages are being frozen, the main feeds are rendered again this
/// often to link to the newest one.
const ARCHIVE_RENDER_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Publisher {
    /// Finds the archive pages already frozen, unless they were rendered for another base
    /// URL (the site moved): then they are dropped and frozen again.
    pub(super) fn load_archives(&mut self, store: &mut Store) -> Result<(), PublishError> {
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
        // How many are waiting is known at the next freeze.
        let frozen = self.renderer.newest_archive().unwrap_or(0);
        self.reporter
            .archives(ArchiveProgress { frozen, waiting: 0 });
        store.set_meta(META_ARCHIVE_BASE, &base)?;
        Ok(())
    }

    /// Freezes at most `limit` of the archive pages that have filled since the last one;
    /// returns whether more are waiting. A page holds the entries first published as
    /// numbers `(n-1)*size+1 ..= n*size`; the size is `feed_size` when the first page
    /// filled, and stays so, so that pages never move. Page 1 waits for page 2, so that it
    /// can link to it (see `render::Archive`). The main feeds link to the newest frozen
    /// page, so no link ever leads to a page that is not there yet.
    pub fn freeze_archives(&mut self, store: &mut Store, limit: u64) -> Result<bool, PublishError> {
        let size = self.page_size(store)?;
        let full = match store.max_seq()? / size {
            1 => 0,
            full => full,
        };
        let frozen = self.renderer.newest_archive().unwrap_or(0);
        let last = full.min(frozen.saturating_add(limit));
        let waiting = full.saturating_sub(frozen);
        if last <= frozen {
            if self.reporter.archives(ArchiveProgress { frozen, waiting }) {
                self.refresh_status(store)?;
            }
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
            let waiting = full - last;
            self.reporter.archives(ArchiveProgress {
                frozen: last,
                waiting,
            });
            self.refresh_status(store)?;
        }
        Ok(more)
    }

    /// Entries per archive page: `feed_size` when the first page filled, kept in the
    /// store so that a later change of `feed_size` moves no page.
    fn page_size(&self, store: &mut Store) -> Result<u64, PublishError> {
        let stored = store
            .meta(META_PAGE_SIZE)?
            .and_then(|v| v.parse::<u64>().ok());
        Ok(match stored {
            Some(size) if size > 0 => size,
            _ => {
                let size = self.renderer.site().feed_size as u64;
                store.set_meta(META_PAGE_SIZE, &size.to_string())?;
                size
            }
        })
    }
}
