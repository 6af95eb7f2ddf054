//! RFC 5005 archive pages: frozen (rendered, compressed and stored as the bytes served)
//! as they fill, and found again at start-up. A full page never changes, so it is
//! rendered once; the ingest driver freezes pages when it has nothing else to do, so
//! that a bulk ingest reaches the feeds first and its history follows.

use std::time::Instant;

use super::status::ArchiveProgress;
use super::{PublishError, Publisher};
use crate::config::FeedContent;
use crate::store::Store;

/// Keys of the store's `meta` table.
pub(super) const META_PAGE_SIZE: &str = "archive_page_size";
const META_ARCHIVE_BASE: &str = "archive_base_url";
/// What the frozen pages carry of each entry (`[feed] content`); unset, they were frozen
/// before the setting existed, with the full content.
const META_ARCHIVE_CONTENT: &str = "archive_content";

/// While many archive pages are being frozen, the main feeds are rendered again this
/// often to link to the newest one.
const ARCHIVE_RENDER_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Publisher {
    /// Finds the archive pages already frozen, unless they were rendered for another base
    /// URL (the site moved) or another `[feed] content` (an operator who turns full text
    /// off means it for the history too): then they are dropped and frozen again.
    pub(super) fn load_archives(&mut self, store: &mut Store) -> Result<(), PublishError> {
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
            self.renderer.set_newest_archive(newest);
        }
        // How many are waiting is known at the next freeze.
        let frozen = self.renderer.newest_archive().unwrap_or(0);
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
        self.renderer.set_newest_archive(None);
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
        // The views of the pages before link to the new ones.
        self.pages.forget_listings();
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
    use crate::render::{Renderer, Site, Snapshot};
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
        assert!(pages.get("/archive/1.atom").unwrap().is_none(), "dropped");
        publisher.freeze_archives(&mut store, 10).unwrap();
        for path in ["/archive/1.atom", "/archive/2.rss", "/archive/3.atom"] {
            assert!(!archive_has_content(&pages, path), "{path}");
        }
        // The same setting again (a restart) keeps the pages as they are.
        publisher.set_site(&mut store, summary).unwrap();
        assert!(pages.get("/archive/3.atom").unwrap().is_some(), "kept");
        publisher.set_site(&mut store, site).unwrap();
        publisher.freeze_archives(&mut store, 10).unwrap();
        assert!(archive_has_content(&pages, "/archive/2.atom"));
    }

    #[test]
    fn a_newly_frozen_page_shows_in_the_view_of_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, pages, mut publisher) = one_entry_pages(dir.path());
        let links_to_three = |pages: &Pages| {
            let view = pages.view("/archive/2.atom").unwrap().unwrap();
            String::from_utf8_lossy(&view.body).contains("/archive/3.atom")
        };
        for i in 0..2 {
            store.apply(&[change(i)], Utc::now()).unwrap();
        }
        publisher.freeze_archives(&mut store, 10).unwrap();
        assert!(!links_to_three(&pages));
        // A third entry is published; page 3 is full, and frozen after.
        let outcome = store.apply(&[change(2)], Utc::now()).unwrap();
        publisher.publish(&mut store, &outcome).unwrap();
        assert!(!links_to_three(&pages));
        publisher.freeze_archives(&mut store, 10).unwrap();
        assert!(links_to_three(&pages));
    }
}
