//! RFC 5005 archive pages. A page exists as soon as all its entries are stored: the
//! main feeds link to the newest complete page from the snapshot that first holds its
//! last entry, and `Pages` renders a page that is not frozen yet when it is asked for.
//! Complete pages are frozen (rendered, compressed and stored as the bytes served) when
//! the ingest driver has nothing else to do, so that a bulk ingest reaches the feeds
//! first and its history follows; they are found again at start-up. No URL of a page
//! therefore answers 404 between its entries' arrival and its freezing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::status::ArchiveProgress;
use super::{PublishError, Publisher};
use crate::config::FeedContent;
use crate::store::{Store, StoreError};

/// Keys of the store's `meta` table.
pub(super) const META_PAGE_SIZE: &str = "archive_page_size";
const META_ARCHIVE_BASE: &str = "archive_base_url";
/// What the frozen pages carry of each entry (`[feed] content`); unset, they were frozen
/// before the setting existed, with the full content.
const META_ARCHIVE_CONTENT: &str = "archive_content";

/// While many archive pages are being frozen, the status says how far it got this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// How many archive pages are complete once `stored` entries are numbered: each holds
/// `size`, and page 1 counts only with page 2, which it links to (see `render::Archive`).
pub(super) fn complete_pages(stored: u64, size: u64) -> u64 {
    match stored / size.max(1) {
        1 => 0,
        full => full,
    }
}

/// Entries per archive page, once fixed (see [`Publisher::load_archives`]), and how
/// many pages are complete.
pub(super) fn archive_pages(store: &Store) -> Result<Option<(u64, u64)>, StoreError> {
    let size = store
        .meta(META_PAGE_SIZE)?
        .and_then(|size| size.parse::<u64>().ok())
        .filter(|size| *size > 0);
    match size {
        Some(size) => Ok(Some((size, complete_pages(store.max_seq()?, size)))),
        None => Ok(None),
    }
}

impl Publisher {
    /// Fixes the size of the archive pages, and finds the pages already frozen, unless
    /// they were rendered for another base URL (the site moved) or another `[feed]
    /// content` (an operator who turns full text off means it for the history too): then
    /// they are dropped and frozen again (and served rendered on request meanwhile).
    pub(super) fn load_archives(&mut self, store: &mut Store) -> Result<(), PublishError> {
        self.page_size(store)?;
        let base = self.renderer.site().base.clone();
        let content = self.renderer.site().content.name();
        let newest = store.newest_archive_page()?;
        let stored_base = store.meta(META_ARCHIVE_BASE)?;
        let stored_content = store.meta(META_ARCHIVE_CONTENT)?;
        let stored_content = stored_content
            .as_deref()
            .unwrap_or(FeedContent::Full.name());
        let moved_from = stored_base.filter(|stored| *stored != base);
        if let (Some(old), Some(_)) = (&moved_from, newest) {
            tracing::warn!(old = %old, new = %base, "base URL changed; rendering the archive pages again");
            self.clear_archives(store)?;
        } else if stored_content != content && newest.is_some() {
            tracing::warn!(old = %stored_content, new = %content, "feed content changed; rendering the archive pages again");
            self.clear_archives(store)?;
        } else {
            self.frozen_archives = newest.unwrap_or(0);
        }
        // How many are waiting is known at the next freeze.
        let frozen = self.frozen_archives;
        self.reporter
            .archives(ArchiveProgress { frozen, waiting: 0 });
        store.set_meta(META_ARCHIVE_BASE, &base)?;
        store.set_meta(META_ARCHIVE_CONTENT, content)?;
        Ok(())
    }

    /// Drops every frozen archive page, to be frozen again with the site as it is now.
    fn clear_archives(&mut self, store: &mut Store) -> Result<(), PublishError> {
        store.clear_archive_pages()?;
        self.pages.forget_all();
        self.frozen_archives = 0;
        Ok(())
    }

    /// Freezes at most `limit` of the complete archive pages not frozen yet, in one
    /// transaction; returns whether more are waiting. A page holds the entries first
    /// published as numbers `(n-1)*size+1 ..= n*size`; the size stays what it was when
    /// first fixed, so that pages never move.
    pub fn freeze_archives(&mut self, store: &mut Store, limit: u64) -> Result<bool, PublishError> {
        let size = self.page_size(store)?;
        let complete = complete_pages(store.max_seq()?, size);
        let frozen = self.frozen_archives;
        let last = complete.min(frozen.saturating_add(limit));
        if last <= frozen {
            let waiting = complete.saturating_sub(frozen);
            if self.reporter.archives(ArchiveProgress { frozen, waiting }) {
                self.refresh_status(store)?;
            }
            return Ok(false);
        }
        let mut pages = Vec::new();
        for number in frozen + 1..=last {
            let entries = store.entries_by_seq((number - 1) * size + 1, number * size)?;
            pages.extend(self.renderer.archive_page(number, &entries)?);
        }
        store.save_archive_pages(&pages)?;
        self.frozen_archives = last;
        // The copies rendered on request are listings' (see `Pages::get`): from now on
        // the frozen bytes are served.
        self.pages.forget_listings();
        let more = last < complete;
        if !more {
            // The export writes the frozen pages it lacks at each pass; with no change
            // to come, the pages frozen since its last pass would wait for one. One pass
            // once the freezing has caught up, not one per page.
            let current = Arc::clone(&self.snapshots.borrow());
            self.offer_export(&current);
        }
        if !more || self.archive_progress.elapsed() >= PROGRESS_EVERY {
            let waiting = complete - last;
            tracing::info!(newest = last, waiting, "archive pages frozen");
            self.archive_progress = Instant::now();
            self.reporter.archives(ArchiveProgress {
                frozen: last,
                waiting,
            });
            self.refresh_status(store)?;
        }
        Ok(more)
    }

    /// The newest complete archive page, which the main feeds link to.
    pub(super) fn newest_archive(&self, store: &Store) -> Result<Option<u64>, StoreError> {
        let complete = archive_pages(store)?.map_or(0, |(_, complete)| complete);
        Ok((complete > 0).then_some(complete))
    }

    /// Entries per archive page: `feed_size` when the archives were first loaded, kept
    /// in the store so that a later change of `feed_size` moves no page.
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use tokio::sync::watch;

    use super::super::{Pages, Publisher, Status};
    use crate::config::FeedContent;
    use crate::model::{EntryKey, FileStamp};
    use crate::normalize::normalize;
    use crate::parse::parse_article;
    use crate::render::{Caching, Renderer, Site, Snapshot};
    use crate::store::{FileChange, Store};

    fn change(i: i64) -> FileChange {
        let text = format!("World\n\nStory {i}\n\n\nBody {i}.\n");
        let article = parse_article(text.as_bytes()).unwrap().article;
        FileChange::Article {
            path: format!("{i}.txt"),
            stamp: FileStamp {
                size: 1,
                mtime_ns: 1_700_000_000_000_000_000 + i * 1_000_000_000,
            },
            draft: normalize(
                EntryKey::new(format!("s{i}")),
                &article,
                &crate::normalize::EntryContext::for_tests(),
            ),
            warnings: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Whether every entry of a served archive page carries its content.
    /// A store in `dir` and a publisher of archive pages of one entry each.
    fn one_entry_pages(dir: &std::path::Path) -> (Store, Site, Arc<Pages>, Publisher) {
        let store = Store::open(dir).unwrap();
        let site = Site {
            feed_size: 1,
            ..Site::for_tests()
        };
        let pages = Arc::new(Pages::new(site.clone(), dir.to_owned()));
        let (snapshots, _) = watch::channel(Arc::new(Snapshot::default()));
        let (statuses, _) = watch::channel(Arc::new(Status::default()));
        let publisher = Publisher::new(
            Renderer::new(site.clone()),
            snapshots,
            statuses,
            30,
            Arc::clone(&pages),
        );
        (store, site, pages, publisher)
    }

    fn archive_has_content(pages: &Pages, path: &str) -> bool {
        let page = pages.get(path).unwrap().unwrap();
        let feed = feed_rs::parser::parse(&page.body[..]).unwrap();
        assert!(!feed.entries.is_empty(), "{path}");
        feed.entries.iter().all(|entry| entry.content.is_some())
    }

    #[test]
    fn frozen_pages_are_frozen_again_when_the_feed_content_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, site, pages, mut publisher) = one_entry_pages(dir.path());
        for i in 0..3 {
            store.apply(&[change(i)], Utc::now()).unwrap();
        }
        publisher.publish_all(&mut store).unwrap();
        publisher.freeze_archives(&mut store, 10).unwrap();
        assert!(archive_has_content(&pages, "/archive/1.atom"));
        let summary = Site {
            content: FeedContent::Summary,
            ..site.clone()
        };
        publisher.set_site(&mut store, summary.clone()).unwrap();
        // Dropped, and rendered on request with the new setting until frozen again.
        assert!(!archive_has_content(&pages, "/archive/1.atom"));
        assert!(!is_frozen(&pages, "/archive/1.atom"));
        publisher.freeze_archives(&mut store, 10).unwrap();
        for path in ["/archive/1.atom", "/archive/2.rss", "/archive/3.atom"] {
            assert!(!archive_has_content(&pages, path), "{path}");
            assert!(is_frozen(&pages, path), "{path}");
        }
        // The same setting again (a restart) keeps the pages as they are.
        publisher.set_site(&mut store, summary).unwrap();
        assert!(is_frozen(&pages, "/archive/3.atom"), "kept");
        publisher.set_site(&mut store, site).unwrap();
        publisher.freeze_archives(&mut store, 10).unwrap();
        assert!(archive_has_content(&pages, "/archive/2.atom"));
    }

    fn is_frozen(pages: &Pages, path: &str) -> bool {
        pages.get(path).unwrap().unwrap().caching == Caching::Immutable
    }

    #[test]
    fn a_page_is_served_and_linked_from_when_it_is_complete_to_when_it_is_frozen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, pages, mut publisher) = one_entry_pages(dir.path());
        let mut snapshots = publisher.snapshots.subscribe();
        let mut links_to = |number: u64| {
            let snapshot = Arc::clone(&snapshots.borrow_and_update());
            let feed = snapshot.get("/feed.atom").unwrap();
            let link = format!("/archive/{number}.atom\"");
            String::from_utf8_lossy(&feed.body).contains(&link)
        };
        let view_links_to_three = |pages: &Pages| {
            let view = pages.view("/archive/2.atom").unwrap().unwrap();
            String::from_utf8_lossy(&view.body).contains("/archive/3.atom")
        };
        // As at start-up: the page size is fixed.
        publisher.publish_all(&mut store).unwrap();
        // One entry: no page is complete (page 1 waits for page 2, which it links to).
        let outcome = store.apply(&[change(0)], Utc::now()).unwrap();
        publisher.publish(&store, &outcome).unwrap();
        assert!(pages.get("/archive/1.atom").unwrap().is_none());
        assert!(!links_to(1));
        for i in 1..3 {
            let outcome = store.apply(&[change(i)], Utc::now()).unwrap();
            publisher.publish(&store, &outcome).unwrap();
        }
        // Pages 1 to 3 are complete: linked and served before any is frozen, the page
        // to a reader and its view to a browser, in either order.
        assert!(links_to(3));
        let feed = pages.get("/archive/2.atom").unwrap().unwrap();
        assert_eq!(feed.media_type, "application/atom+xml; charset=utf-8");
        assert!(view_links_to_three(&pages));
        let view = pages.view("/archive/2.atom").unwrap().unwrap();
        assert_eq!(view.media_type, crate::render::HTML_TYPE);
        let again = pages.get("/archive/2.atom").unwrap().unwrap();
        assert_eq!(again.etag, feed.etag);
        let early: Vec<_> = ["/archive/1.rss", "/archive/3.atom"]
            .iter()
            .map(|path| pages.get(path).unwrap().unwrap())
            .collect();
        assert!(early.iter().all(|page| page.caching == Caching::Revalidate));
        assert!(pages.get("/archive/4.atom").unwrap().is_none());
        assert!(pages.get("/archive/03.atom").unwrap().is_none());
        // Frozen: the same bytes, for ever.
        while publisher.freeze_archives(&mut store, 1).unwrap() {}
        for (path, early) in ["/archive/1.rss", "/archive/3.atom"].iter().zip(&early) {
            let frozen = pages.get(path).unwrap().unwrap();
            assert_eq!(frozen.caching, Caching::Immutable, "{path}");
            assert_eq!(frozen.etag, early.etag, "{path}");
        }
    }
}
