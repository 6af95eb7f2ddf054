//! Entry pages and archive pages, served from the store. There is one page per entry and
//! two per full archive page: for a big folder, keeping them all rendered with their
//! compressed variants would take memory in proportion to the history, and rendering and
//! compressing them all would take most of a cold ingest. Each is asked for rarely (readers poll the
//! feeds), so a page is read from the store when first asked for (one indexed row),
//! rendered and compressed then, and kept in a cache bounded in bytes. The documents
//! readers poll (feeds, index, lists) stay pre-rendered in the snapshot.
//!
//! The ingest driver is the only writer; it drops the pages of the entries a batch changed
//! after committing it. A page read before that commit is not cached (see
//! [`Pages::forget`]), so the cache never holds a page older than the store. It also
//! renders the pages the main feeds link to before it publishes them ([`Pages::prepare`]),
//! so the pages readers open from their feeds are answered from memory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lru::LruCache;

use crate::model::{Entry, EntryKey};
use crate::render::{Document, Site, archive_document, entry_document, entry_path};
use crate::store::{Store, StoreError};

/// The prefixes of the paths served from here.
pub const ENTRY_PREFIX: &str = "/entries/";
pub const ARCHIVE_PREFIX: &str = "/archive/";

/// Bytes of pages (with their variants) the cache keeps: a few thousand entry pages, or
/// about a hundred archive pages.
const CACHE_BYTES: usize = 24 << 20;

/// Read connections kept open for reuse: one per HTTP worker is the most ever in use.
const MAX_IDLE_READERS: usize = 8;

pub struct Pages {
    /// Replaced on a reload; each page is rendered with the one current when it starts.
    site: Mutex<Arc<Site>>,
    data_dir: PathBuf,
    readers: Mutex<Vec<Store>>,
    cache: Mutex<Cache>,
    /// Moves on every [`Pages::forget`]: a page read from the store before a change is
    /// not cached after it.
    generation: AtomicU64,
}

struct Cache {
    pages: LruCache<String, Arc<Document>>,
    bytes: usize,
}

impl Pages {
    /// Pages of the database in `data_dir` (which the ingest driver has created).
    pub fn new(site: Site, data_dir: PathBuf) -> Self {
        Self {
            site: Mutex::new(Arc::new(site)),
            data_dir,
            readers: Mutex::new(Vec::new()),
            cache: Mutex::new(Cache {
                pages: LruCache::unbounded(),
                bytes: 0,
            }),
            generation: AtomicU64::new(0),
        }
    }

    /// Whether `path` (decoded) is one of the pages served from here.
    pub fn serves(path: &str) -> bool {
        path.starts_with(ENTRY_PREFIX) || path.starts_with(ARCHIVE_PREFIX)
    }

    /// The page at `path` (decoded): from the cache, or read from the store and cached.
    /// `None` when there is no such page (no live entry of that key, no frozen archive
    /// page of that number).
    pub fn get(&self, path: &str) -> Result<Option<Arc<Document>>, StoreError> {
        if let Some(page) = self.cache().pages.get(path) {
            return Ok(Some(Arc::clone(page)));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(page) = self.load(path)? else {
            return Ok(None);
        };
        let page = Arc::new(page);
        let mut cache = self.cache();
        if self.generation.load(Ordering::Acquire) == generation {
            cache.insert(path.to_owned(), Arc::clone(&page));
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
        let page = if let Some(rest) = path.strip_prefix(ENTRY_PREFIX) {
            // An entry's page is `/entries/{key}/` (`render::entry_path`); keys hold no slash.
            let key = rest.strip_suffix('/');
            let Some(key) = key.filter(|key| !key.is_empty() && !key.contains('/')) else {
                self.give_back(reader);
                return Ok(None);
            };
            let entries = reader.entries(&[EntryKey::new(key)])?;
            entries
                .first()
                .map(|entry| entry_document(&self.site(), entry))
        } else if path.starts_with(ARCHIVE_PREFIX) {
            reader.archive_page(path)?.as_ref().map(archive_document)
        } else {
            None
        };
        self.give_back(reader);
        Ok(page)
    }

    /// The path of every page there is: each live entry's, then each archive page's.
    pub fn paths(&self) -> Result<Vec<String>, StoreError> {
        let reader = self.reader()?;
        let mut paths: Vec<String> = reader.live_keys()?.iter().map(entry_path).collect();
        paths.extend(reader.archive_page_paths()?);
        self.give_back(reader);
        Ok(paths)
    }

    /// Drops the cached pages of these entries: called by the ingest driver after it
    /// committed a change to them, before it publishes the snapshot that shows it.
    pub fn forget<'a>(&self, keys: impl IntoIterator<Item = &'a EntryKey>) {
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

    fn site(&self) -> Arc<Site> {
        Arc::clone(&self.site.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Drops every cached page (the archive pages were rendered again).
    pub fn forget_all(&self) {
        let mut cache = self.cache();
        self.generation.fetch_add(1, Ordering::AcqRel);
        cache.pages.clear();
        cache.bytes = 0;
    }

    /// How many pages and bytes the cache holds.
    pub fn cached(&self) -> (usize, usize) {
        let cache = self.cache();
        (cache.pages.len(), cache.bytes)
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // The cache is consistent after any panic (each change is one call), so a
        // poisoned lock is taken over rather than passed on to every later request.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
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

impl Cache {
    fn insert(&mut self, path: String, page: Arc<Document>) {
        let size = weight(&path, &page);
        if size > CACHE_BYTES / 4 {
            return;
        }
        if let Some(old) = self.pages.put(path.clone(), page) {
            self.bytes -= weight(&path, &old);
        }
        self.bytes += size;
        while self.bytes > CACHE_BYTES {
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
                &id_namespace("seedfeed"),
            ),
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
        assert_eq!(pages.paths().unwrap(), ["/entries/a/", "/archive/1.atom"]);
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

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let mut cache = Cache {
            pages: LruCache::unbounded(),
            bytes: 0,
        };
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
