//! Entry pages, archive pages and the paged HTML listings, served from the store. There
//! is one page per entry, two per full archive page, and a listing page per `feed_size`
//! entries (the site's and each section's): for a big folder, keeping them all rendered
//! with their compressed variants would take memory in proportion to the history, and
//! rendering and compressing them all would take most of a cold ingest. Each is asked
//! for rarely (readers poll the feeds), so a page is read from the store when first asked
//! for (indexed rows), rendered and compressed then, and kept in a cache bounded in
//! bytes. The documents readers poll (feeds, index, lists) stay pre-rendered in the
//! snapshot. An archive page's HTML view, for browsers, is rendered here too, when one
//! asks for it ([`Pages::view`]).
//!
//! The ingest driver is the only writer. It drops the pages of the entries a batch
//! changed after committing it, and every listing page and archive view after every
//! commit ([`Pages::forget_listings`]): any change can move entries between listing
//! pages. A page read before a commit is not cached after it (see [`Pages::forget`]), so
//! the cache never holds a page older than the store. The driver also renders the pages
//! the main feeds link to before it publishes them ([`Pages::prepare`]), so the pages
//! readers open from their feeds are answered from memory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::Utc;
use lru::LruCache;

use super::archives::{archive_pages, complete_pages};
use crate::model::{Entry, EntryKey};
use crate::render::{
    ArchiveView, Document, Format, Listing, Site, Term, TermKind, Terms, archive_document,
    archive_feed, archive_stem, archive_view, entry_document, entry_path, listing_document,
    listing_path, parse_listing_path, parse_term_feed_path, term_feed_document, term_stem,
};
use crate::store::{Store, StoreError};

/// The prefixes of the paths served from here.
pub const ENTRY_PREFIX: &str = "/entries/";
pub const ARCHIVE_PREFIX: &str = "/archive/";

/// Bytes of entry and archive pages (with their variants) the cache keeps: a few
/// thousand entry pages, or about a hundred archive pages.
const CACHE_BYTES: usize = 24 << 20;

/// Bytes of listing pages and archive views kept: they hold summaries only, and every
/// change drops them.
const LISTING_BYTES: usize = 4 << 20;

/// Read connections kept open for reuse: one per HTTP worker is the most ever in use.
const MAX_IDLE_READERS: usize = 8;

pub struct Pages {
    /// Replaced on a reload; each page is rendered with the one current when it starts.
    site: Mutex<Arc<Site>>,
    data_dir: PathBuf,
    readers: Mutex<Vec<Store>>,
    /// Entry pages and frozen archive pages: dropped when their entry changes.
    cache: Mutex<Cache>,
    /// Listing pages, archive pages not frozen yet, and archive views (see [`view_key`]):
    /// dropped at every change.
    listings: Mutex<Cache>,
    /// Moves on every [`Pages::forget`] and [`Pages::forget_listings`]: a page read from
    /// the store before a change is not cached after it.
    generation: AtomicU64,
}

struct Cache {
    pages: LruCache<String, Arc<Document>>,
    bytes: usize,
    limit: usize,
}

/// What a path served from here names.
enum PageKind<'a> {
    Entry(&'a str),
    Archive,
    /// A listing page: the term's kind and slug (`None`: the site's), and the page number.
    Listing(Option<(TermKind, &'a str)>, u64),
    /// A tag's or an author's feed, in a format.
    TermFeed(TermKind, &'a str, Format),
}

impl<'a> PageKind<'a> {
    fn of(path: &'a str) -> Option<Self> {
        if let Some(rest) = path.strip_prefix(ENTRY_PREFIX) {
            // An entry's page is `/entries/{key}/` (`render::entry_path`); keys hold no
            // slash, and a path without the slash names no page (it is redirected).
            let key = rest.strip_suffix('/').filter(|key| !key.contains('/'));
            return Some(Self::Entry(key.unwrap_or_default()));
        }
        if path.starts_with(ARCHIVE_PREFIX) {
            return Some(Self::Archive);
        }
        if let Some((kind @ (TermKind::Tag | TermKind::Author), slug)) = parse_term_feed_path(path)
        {
            let format = Format::ALL
                .into_iter()
                .find(|format| path.ends_with(format.extension()))?;
            return Some(Self::TermFeed(kind, slug, format));
        }
        parse_listing_path(path).map(|(section, number)| Self::Listing(section, number))
    }
}

impl Pages {
    /// Pages of the database in `data_dir` (which the ingest driver has created).
    pub fn new(site: Site, data_dir: PathBuf) -> Self {
        Self {
            site: Mutex::new(Arc::new(site)),
            data_dir,
            readers: Mutex::new(Vec::new()),
            cache: Mutex::new(Cache::new(CACHE_BYTES)),
            listings: Mutex::new(Cache::new(LISTING_BYTES)),
            generation: AtomicU64::new(0),
        }
    }

    /// Whether `path` (decoded) is one of the pages served from here.
    pub fn serves(path: &str) -> bool {
        PageKind::of(path).is_some()
    }

    /// The page at `path` (decoded): from the cache, or read from the store and cached.
    /// `None` when there is no such page (no live entry of that key, no complete archive
    /// page of that number, a listing page past the last).
    pub fn get(&self, path: &str) -> Result<Option<Arc<Document>>, StoreError> {
        match PageKind::of(path) {
            Some(PageKind::Listing(..) | PageKind::TermFeed(..)) => {
                self.through(&self.listings, path, || self.load(path))
            }
            Some(PageKind::Archive) => self.archive(path),
            _ => self.through(&self.cache, path, || self.load(path)),
        }
    }

    /// An archive page: frozen, kept like an entry's page; complete but not frozen yet,
    /// rendered from its entries and dropped at every change, like a listing page (its
    /// entries may still be edited until it is frozen).
    fn archive(&self, path: &str) -> Result<Option<Arc<Document>>, StoreError> {
        let frozen = self.through(&self.cache, path, || {
            let reader = self.reader()?;
            let page = reader.archive_page(path);
            self.give_back(reader);
            Ok(page?.as_ref().map(archive_document))
        })?;
        if frozen.is_some() {
            return Ok(frozen);
        }
        self.through(&self.listings, path, || {
            let reader = self.reader()?;
            let page = self.render_archive(&reader, path);
            self.give_back(reader);
            page
        })
    }

    /// The HTML view of the archive page at `path`, for a browser: from the cache, or
    /// rendered from the entries the store has now. `None` when there is no such page.
    pub fn view(&self, path: &str) -> Result<Option<Arc<Document>>, StoreError> {
        self.through(&self.listings, &view_key(path), || {
            let reader = self.reader()?;
            let view = self.read_view(&reader, path)?;
            self.give_back(reader);
            Ok(view)
        })
    }

    /// A page from `cache` under `key`, or loaded and kept there unless the store changed
    /// meanwhile.
    fn through(
        &self,
        cache: &Mutex<Cache>,
        key: &str,
        load: impl FnOnce() -> Result<Option<Document>, StoreError>,
    ) -> Result<Option<Arc<Document>>, StoreError> {
        if let Some(page) = lock(cache).pages.get(key) {
            return Ok(Some(Arc::clone(page)));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(page) = load()? else {
            return Ok(None);
        };
        let page = Arc::new(page);
        let mut cache = lock(cache);
        if self.generation.load(Ordering::Acquire) == generation {
            cache.insert(key.to_owned(), Arc::clone(&page));
        }
        Ok(Some(page))
    }

    /// Renders and caches the pages of these entries (as the store has them now) that are
    /// not cached yet: the ingest driver's, for the entries the feeds link to.
    pub fn prepare(&self, entries: &[Entry]) {
        let missing: Vec<&Entry> = {
            let cache = self.cache();
            entries
                .iter()
                .filter(|e| !cache.pages.contains(&entry_path(&e.draft.key)))
                .collect()
        };
        let site = self.site();
        for entry in missing {
            let page = Arc::new(entry_document(&site, entry));
            self.cache().insert(entry_path(&entry.draft.key), page);
        }
    }

    /// Reads and renders a page, without the cache.
    pub fn load(&self, path: &str) -> Result<Option<Document>, StoreError> {
        let reader = self.reader()?;
        let page = match PageKind::of(path) {
            Some(PageKind::Entry("")) | None => None,
            Some(PageKind::Entry(key)) => {
                let entries = reader.entries(&[EntryKey::new(key)])?;
                entries
                    .first()
                    .map(|entry| entry_document(&self.site(), entry))
            }
            Some(PageKind::Archive) => match reader.archive_page(path)? {
                Some(page) => Some(archive_document(&page)),
                None => self.render_archive(&reader, path)?,
            },
            Some(PageKind::Listing(term, number)) => self.read_listing(&reader, term, number)?,
            Some(PageKind::TermFeed(kind, slug, format)) => {
                self.read_term_feed(&reader, kind, slug, format)?
            }
        };
        self.give_back(reader);
        Ok(page)
    }

    /// Page `number` of the site's listing (`section` is `None`) or of a section's:
    /// `feed_size` entries, newest first, after the newer pages' ones. A page past the
    /// last is none; a section's first page is there as long as the section is.
    fn read_listing(
        &self,
        reader: &Store,
        term: Option<(TermKind, &str)>,
        number: u64,
    ) -> Result<Option<Document>, StoreError> {
        let site = self.site();
        let size = site.feed_size.max(1) as u64;
        let Some(offset) = number.checked_sub(1).and_then(|n| n.checked_mul(size)) else {
            return Ok(None);
        };
        // One entry more than a page: whether an older page follows.
        let (category, mut entries) = match term {
            None => (None, reader.live_entries_page(None, offset, size + 1)?),
            Some((kind, slug)) => {
                let category = match kind {
                    TermKind::Section => reader.category(slug)?,
                    TermKind::Tag | TermKind::Author => reader.term(kind, slug)?,
                };
                let Some(category) = category else {
                    return Ok(None);
                };
                let entries = match kind {
                    TermKind::Section => reader.live_entries_page(Some(slug), offset, size + 1)?,
                    TermKind::Tag | TermKind::Author => {
                        reader.term_entries_page(kind, slug, offset, size + 1)?
                    }
                };
                (Some((kind, category)), entries)
            }
        };
        if entries.is_empty() && number > 1 {
            return Ok(None);
        }
        let has_older = entries.len() as u64 > size;
        entries.truncate(site.feed_size.max(1));
        let listing = Listing {
            term: category
                .as_ref()
                .map(|(kind, category)| Term::new(*kind, category)),
            number,
            entries: &entries,
            has_older,
            terms: Terms::NONE,
        };
        Ok(Some(listing_document(&site, &listing, Utc::now())))
    }

    /// A tag's or an author's feed: its newest `feed_size` entries, one range of the
    /// store's index of them however many it has. `None` when no live entry has it.
    fn read_term_feed(
        &self,
        reader: &Store,
        kind: TermKind,
        slug: &str,
        format: Format,
    ) -> Result<Option<Document>, StoreError> {
        let Some(term) = reader.term(kind, slug)? else {
            return Ok(None);
        };
        let site = self.site();
        let entries = reader.latest_with_term(kind, slug, site.feed_size)?;
        match term_feed_document(&site, kind, &term, &entries, format) {
            Ok(document) => Ok(Some(document)),
            Err(error) => {
                tracing::error!(path = %term_stem(kind, slug), %error, "cannot render a feed");
                Ok(None)
            }
        }
    }

    /// A complete archive page that is not frozen yet, rendered from the entries the
    /// store numbers for it, as it will be frozen. `None` when the page is not complete.
    fn render_archive(&self, reader: &Store, path: &str) -> Result<Option<Document>, StoreError> {
        let Some((number, format, size)) = complete_archive(reader, path)? else {
            return Ok(None);
        };
        let first = (number - 1).saturating_mul(size).saturating_add(1);
        let entries = reader.entries_by_seq(first, number.saturating_mul(size))?;
        match archive_feed(&self.site(), number, &entries, format) {
            Ok(document) => Ok(Some(document.compressed())),
            Err(error) => {
                tracing::error!(path, %error, "cannot render an archive page");
                Ok(None)
            }
        }
    }

    /// The view of archive page `/archive/{n}.{rss,atom}`: the entries of its numbers
    /// that are still published, oldest first, and its neighbours as they are now.
    fn read_view(&self, reader: &Store, path: &str) -> Result<Option<Document>, StoreError> {
        let Some((number, format, size)) = complete_archive(reader, path)? else {
            return Ok(None);
        };
        let newest = complete_pages(reader.max_seq()?, size);
        let first = (number - 1).saturating_mul(size).saturating_add(1);
        let mut entries = reader.entries_by_seq(first, number.saturating_mul(size))?;
        entries.reverse();
        let view = ArchiveView {
            number,
            newest,
            format,
            entries: &entries,
        };
        Ok(Some(
            archive_view(&self.site(), &view, Utc::now()).compressed(),
        ))
    }

    /// The path of every page there is: each live entry's, each archive page's, then
    /// each listing page's but the index (which is the snapshot's).
    pub fn paths(&self) -> Result<Vec<String>, StoreError> {
        let reader = self.reader()?;
        let mut paths: Vec<String> = reader.live_keys()?.iter().map(entry_path).collect();
        paths.extend(reader.archive_page_paths()?);
        let size = self.site().feed_size.max(1) as u64;
        let (total, sections) = reader.live_counts()?;
        paths.extend((2..=total.div_ceil(size)).map(|n| listing_path(None, n)));
        for (slug, count) in sections {
            let pages = count.div_ceil(size).max(1);
            paths.extend((1..=pages).map(|n| listing_path(Some((TermKind::Section, &slug)), n)));
        }
        for kind in [TermKind::Tag, TermKind::Author] {
            for (slug, count) in reader.term_counts(kind)? {
                let pages = count.div_ceil(size).max(1);
                paths.extend((1..=pages).map(|n| listing_path(Some((kind, &slug)), n)));
                let stem = term_stem(kind, &slug);
                paths.extend(Format::ALL.map(|format| format!("{stem}.{}", format.extension())));
            }
        }
        self.give_back(reader);
        Ok(paths)
    }

    /// Drops the cached pages of these entries, and every listing page and archive view:
    /// called by the ingest driver after it committed a change to them, before it
    /// publishes the snapshot that shows it.
    pub fn forget<'a>(&self, keys: impl IntoIterator<Item = &'a EntryKey>) {
        {
            let mut cache = self.cache();
            self.generation.fetch_add(1, Ordering::AcqRel);
            for key in keys {
                // Nothing left to drop (a cold ingest's 100k keys: nothing was cached).
                if cache.pages.is_empty() {
                    break;
                }
                cache.remove(&entry_path(key));
            }
        }
        self.forget_listings();
    }

    /// Drops every listing page and archive view: called by the ingest driver after each
    /// commit (a bulk commits many times before it publishes) and when archive pages are
    /// frozen (a view links to its newer neighbour).
    pub fn forget_listings(&self) {
        let mut listings = lock(&self.listings);
        // After the move, under the lock that inserts: a listing read before it is
        // either dropped here or never cached.
        self.generation.fetch_add(1, Ordering::AcqRel);
        listings.clear();
    }

    /// New site settings (a reload): every cached page is dropped, and pages are rendered
    /// with the new settings from now on.
    pub fn set_site(&self, site: Site) {
        *self.site.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(site);
        self.forget_all();
    }

    /// The absolute URL of a path (as it is written in a URL) on the site.
    pub fn url(&self, path: &str) -> String {
        self.site().url(path)
    }

    /// The site the pages are rendered with now.
    pub fn site(&self) -> Arc<Site> {
        Arc::clone(&self.site.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Drops every cached page (the archive pages were rendered again).
    pub fn forget_all(&self) {
        {
            let mut cache = self.cache();
            self.generation.fetch_add(1, Ordering::AcqRel);
            cache.clear();
        }
        self.forget_listings();
    }

    /// How many pages and bytes the caches hold.
    pub fn cached(&self) -> (usize, usize) {
        let (cache, listings) = (self.cache(), lock(&self.listings));
        (
            cache.pages.len() + listings.pages.len(),
            cache.bytes + listings.bytes,
        )
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        lock(&self.cache)
    }

    fn reader(&self) -> Result<Store, StoreError> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(reader) => Ok(reader),
            None => Store::open_reader(&self.data_dir),
        }
    }

    fn give_back(&self, reader: Store) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(reader);
        }
    }
}

/// A cache's lock. The cache is consistent after any panic (each change is one call), so
/// a poisoned lock is taken over rather than passed on to every later request.
fn lock(cache: &Mutex<Cache>) -> MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The key of an archive page's view in the listings cache. The page itself, while it is
/// not frozen, is kept there under its path; every path starts with `/`, so no path is a
/// view's key.
fn view_key(path: &str) -> String {
    format!("view {path}")
}

/// The number and format of an archive page's path: `/archive/3.atom` is (3, Atom).
/// Only the path the feeds link to: `/archive/03.atom` names no page.
fn parse_archive_path(path: &str) -> Option<(u64, Format)> {
    let (number, extension) = path.strip_prefix(ARCHIVE_PREFIX)?.split_once('.')?;
    let format = match extension {
        "rss" => Format::Rss,
        "atom" => Format::Atom,
        _ => return None,
    };
    let number: u64 = number.parse().ok()?;
    let canonical = path.strip_suffix(extension)?.strip_suffix('.') == Some(&archive_stem(number));
    canonical.then_some((number, format))
}

/// The number, format and page size of the archive page at `path`, if that page is
/// complete: all its entries are stored (see [`complete_pages`]).
fn complete_archive(reader: &Store, path: &str) -> Result<Option<(u64, Format, u64)>, StoreError> {
    let Some((number, format)) = parse_archive_path(path) else {
        return Ok(None);
    };
    let Some((size, complete)) = archive_pages(reader)? else {
        return Ok(None);
    };
    Ok((1..=complete)
        .contains(&number)
        .then_some((number, format, size)))
}

impl Cache {
    fn new(limit: usize) -> Self {
        Self {
            pages: LruCache::unbounded(),
            bytes: 0,
            limit,
        }
    }

    fn insert(&mut self, path: String, page: Arc<Document>) {
        let size = weight(&path, &page);
        if size > self.limit / 4 {
            return;
        }
        if let Some(old) = self.pages.put(path.clone(), page) {
            self.bytes -= weight(&path, &old);
        }
        self.bytes += size;
        while self.bytes > self.limit {
            let Some((path, page)) = self.pages.pop_lru() else {
                break;
            };
            self.bytes -= weight(&path, &page);
        }
    }

    fn remove(&mut self, path: &str) {
        if let Some(page) = self.pages.pop(path) {
            self.bytes -= weight(path, &page);
        }
    }

    fn clear(&mut self) {
        self.pages.clear();
        self.bytes = 0;
    }
}

/// What a cached page costs: its bytes and variants, its path, and a little overhead.
fn weight(path: &str, page: &Document) -> usize {
    let variants =
        page.gzip.as_ref().map_or(0, |b| b.len()) + page.brotli.as_ref().map_or(0, |b| b.len());
    page.body.len() + variants + path.len() + 256
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ArchivePage;
    use crate::normalize::{id_namespace, normalize};
    use crate::parse::parse_article;
    use crate::store::FileChange;
    use chrono::Utc;

    fn site() -> Site {
        Site {
            base: "http://example.org".into(),
            title: "t".into(),
            description: String::new(),
            author: String::new(),
            language: "en".into(),
            id_namespace: id_namespace("seedfeed"),
            feed_size: 50,
            created: chrono::DateTime::UNIX_EPOCH,
            hubs: Vec::new(),
            content: crate::config::FeedContent::Full,
            rights: None,
            authors: Default::default(),
            podcasts: Default::default(),
            fediverse: None,
        }
    }

    fn change(key: &str, title: &str) -> FileChange {
        let text = format!("World\n\n{title}\n\n\nCaption.\n\n\n\nBody of {key}.\n");
        let parsed = parse_article(text.as_bytes()).unwrap();
        FileChange::Article {
            path: format!("{key}.txt"),
            stamp: crate::model::FileStamp {
                size: text.len() as u64,
                mtime_ns: 1_700_000_000_000_000_000,
            },
            draft: normalize(
                EntryKey::new(key),
                &parsed.article,
                &crate::normalize::EntryContext {
                    namespace: id_namespace("seedfeed"),
                    ..crate::normalize::EntryContext::for_tests()
                },
            ),
            warnings: Vec::new(),
            media: Vec::new(),
        }
    }

    #[test]
    fn pages_come_from_the_store_and_changes_are_not_served_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.apply(&[change("a", "First")], Utc::now()).unwrap();
        let pages = Pages::new(site(), dir.path().to_owned());

        let first = pages.get("/entries/a/").unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first.body).contains("First"));
        assert!(first.gzip.is_some() && first.brotli.is_some());
        assert_eq!(pages.cached().0, 1);
        assert!(pages.get("/entries/missing/").unwrap().is_none());
        assert!(pages.get("/entries/").unwrap().is_none());
        // Entry pages are folders' indexes: the page of `a` is `/entries/a/`, only.
        assert!(pages.get("/entries/a").unwrap().is_none());
        assert!(pages.get("/entries/a//").unwrap().is_none());
        assert!(pages.get("/archive/1.atom").unwrap().is_none());

        // The writer commits an edit, then forgets the page: the next read is fresh.
        store.apply(&[change("a", "Second")], Utc::now()).unwrap();
        pages.forget([&EntryKey::new("a")]);
        let second = pages.get("/entries/a/").unwrap().unwrap();
        assert!(String::from_utf8_lossy(&second.body).contains("Second"));
        assert_ne!(first.etag, second.etag);

        store
            .save_archive_pages(&[ArchivePage {
                path: "/archive/1.atom".into(),
                number: 1,
                body: b"<feed/>".to_vec(),
                gzip: None,
                brotli: None,
                media_type: "application/atom+xml; charset=utf-8".into(),
                last_modified: Utc::now(),
            }])
            .unwrap();
        let archive = pages.get("/archive/1.atom").unwrap().unwrap();
        assert_eq!(&archive.body[..], b"<feed/>");
        assert_eq!(archive.caching, crate::render::Caching::Immutable);
        assert_eq!(
            pages.paths().unwrap(),
            ["/entries/a/", "/archive/1.atom", "/categories/world/"]
        );
    }

    #[test]
    fn a_page_read_before_a_change_is_not_cached_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.apply(&[change("a", "First")], Utc::now()).unwrap();
        let pages = Pages::new(site(), dir.path().to_owned());
        // A reader's load, interleaved with a commit and forget, as get() does it.
        let generation = pages.generation.load(Ordering::Acquire);
        let stale = pages.load("/entries/a/").unwrap().unwrap();
        store.apply(&[change("a", "Second")], Utc::now()).unwrap();
        pages.forget([&EntryKey::new("a")]);
        assert_ne!(pages.generation.load(Ordering::Acquire), generation);
        drop(stale);
        let fresh = pages.get("/entries/a/").unwrap().unwrap();
        assert!(String::from_utf8_lossy(&fresh.body).contains("Second"));
    }

    #[test]
    fn prepared_pages_are_served_without_the_database() {
        // No database at all: only what was prepared can be served.
        let pages = Pages::new(site(), PathBuf::from("/nonexistent/seedfeed-data"));
        let FileChange::Article { draft, .. } = change("a", "Prepared") else {
            unreachable!()
        };
        let entry = Entry {
            draft,
            published: Utc::now(),
            updated: Utc::now(),
        };
        pages.prepare(std::slice::from_ref(&entry));
        let page = pages.get("/entries/a/").unwrap().unwrap();
        assert!(String::from_utf8_lossy(&page.body).contains("Prepared"));
        assert!(
            pages.get("/entries/b/").is_err(),
            "a miss goes to the database"
        );
    }

    /// Article `k{i}` titled `Title {i}`, of a file `i` minutes newer than `k0`'s.
    fn nth(i: i64) -> FileChange {
        let FileChange::Article { path, draft, .. } =
            change(&format!("k{i}"), &format!("Title {i}"))
        else {
            unreachable!()
        };
        let stamp = crate::model::FileStamp {
            size: 1,
            mtime_ns: 1_700_000_000_000_000_000 + i * 60_000_000_000,
        };
        FileChange::Article {
            path,
            stamp,
            draft,
            warnings: Vec::new(),
            media: Vec::new(),
        }
    }

    /// The store of `count` entries in section World, `k0` the oldest.
    fn store_of(dir: &std::path::Path, count: i64) -> Store {
        let mut store = Store::open(dir).unwrap();
        for i in 0..count {
            store.apply(&[nth(i)], Utc::now()).unwrap();
        }
        store
    }

    fn titles(page: &Document) -> Vec<String> {
        let html = String::from_utf8_lossy(&page.body);
        html.match_indices(">Title ")
            .map(|(at, _)| {
                let rest = &html[at + 1..];
                rest[..rest.find('<').unwrap()].to_owned()
            })
            .collect()
    }

    #[test]
    fn listing_pages_are_read_from_the_store_page_by_page() {
        let dir = tempfile::tempdir().unwrap();
        let _store = store_of(dir.path(), 5);
        let pages = Pages::new(
            Site {
                feed_size: 2,
                ..site()
            },
            dir.path().to_owned(),
        );
        // The index is the newest two; then two a page, down to the oldest.
        let second = pages.get("/page/2/").unwrap().unwrap();
        assert_eq!(titles(&second), ["Title 2", "Title 1"]);
        assert_eq!(second.media_type, crate::render::HTML_TYPE);
        assert!(second.gzip.is_some());
        let third = pages.get("/page/3/").unwrap().unwrap();
        assert_eq!(titles(&third), ["Title 0"]);
        let section = pages.get("/categories/world/").unwrap().unwrap();
        assert_eq!(titles(&section), ["Title 4", "Title 3"]);
        let section_last = pages.get("/categories/world/page/3/").unwrap().unwrap();
        assert_eq!(titles(&section_last), ["Title 0"]);
        for past in [
            "/page/4/",
            "/page/1/",
            "/page/02/",
            "/categories/world/page/4/",
            "/categories/nowhere/",
        ] {
            assert!(pages.get(past).unwrap().is_none(), "{past}");
        }
        assert_eq!(
            pages.paths().unwrap()[5..],
            [
                "/page/2/",
                "/page/3/",
                "/categories/world/",
                "/categories/world/page/2/",
                "/categories/world/page/3/"
            ]
        );
    }

    #[test]
    fn a_cached_listing_is_never_older_than_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_of(dir.path(), 3);
        let pages = Pages::new(
            Site {
                feed_size: 1,
                ..site()
            },
            dir.path().to_owned(),
        );
        let before = pages.get("/page/2/").unwrap().unwrap();
        assert_eq!(titles(&before), ["Title 1"]);
        assert!(Arc::ptr_eq(
            &before,
            &pages.get("/page/2/").unwrap().unwrap()
        ));
        // An edit of an entry on another page moves nothing, but a new entry moves every
        // page: whatever the change, a commit drops every listing.
        store.apply(&[nth(9)], Utc::now()).unwrap();
        pages.forget_listings();
        let after = pages.get("/page/2/").unwrap().unwrap();
        assert_ne!(titles(&after), titles(&before));
        // A listing read before a commit is not kept after it: the commit and its
        // forget come between the read and the caching, as on another thread.
        pages.forget_listings();
        let stale = pages
            .through(&pages.listings, "/page/2/", || {
                let read = pages.load("/page/2/");
                store.apply(&[nth(10)], Utc::now()).unwrap();
                pages.forget_listings();
                read
            })
            .unwrap()
            .unwrap();
        assert_eq!(titles(&stale), titles(&after));
        let fresh = pages.get("/page/2/").unwrap().unwrap();
        assert_eq!(titles(&fresh), ["Title 9"]);
        // Entry changes drop the listings too.
        let cached = pages.get("/page/2/").unwrap().unwrap();
        pages.forget([&EntryKey::new("k0")]);
        let again = pages.get("/page/2/").unwrap().unwrap();
        assert!(!Arc::ptr_eq(&cached, &again));
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let mut cache = Cache::new(CACHE_BYTES);
        let page = Arc::new(Document::new(
            vec![b'x'; 1 << 20],
            crate::render::HTML_TYPE,
            Utc::now(),
        ));
        for i in 0..100 {
            cache.insert(format!("/entries/{i}"), Arc::clone(&page));
            assert!(cache.bytes <= CACHE_BYTES);
        }
        assert!(cache.pages.len() < 100);
        assert!(cache.pages.contains("/entries/99"));
        assert!(!cache.pages.contains("/entries/0"));
    }
}
