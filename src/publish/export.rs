//! The static export: every document the daemon serves, as files in a folder, with their
//! `.gz` and `.br` siblings, `_headers` and the media files of the seeds folder; what
//! `seedfeed render --out` writes once, and what the daemon keeps current with
//! `[export] dir` (docs/static-hosting.md).
//!
//! An [`Exporter`] pass compares each document with what the folder holds
//! ([`ExportFolder`]) and writes only what changed; what is gone (a deleted entry's page,
//! a listing page past the last) is removed, and the manifest lists every file with its
//! hash. A full pass looks at everything: `render --out`, the daemon's first export,
//! and after a reload. In the daemon, the [`Publisher`](super::Publisher) tells an
//! [`ExportQueue`] what each batch changed and hands it each snapshot once its variants
//! are computed; the exporter's thread takes all that has gathered since its last pass
//! and makes one pass of it, so that passes never queue up behind a busy ingest. Such a
//! pass renders the pages of the entries the batches changed, the listing pages when any
//! entry changed (a new entry moves every one of them), the archive pages frozen since,
//! and compares every document of the snapshot; it does not read the whole history.

mod folder;

pub use folder::{Changes, ExportFolder, MANIFEST_FILE, MEDIA_FOLDER, export_path};

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use super::Pages;
use super::pages::{ARCHIVE_PREFIX, ENTRY_PREFIX};
use crate::model::EntryKey;
use crate::render::{Format, OPML_PATH, OPML_TYPE, Snapshot, XSL_PATH, XSL_TYPE, entry_page};
use crate::store::{ExportKind, Store, StoreError};

/// The file of headers rules that Netlify and Cloudflare Pages read (and do not serve).
pub const HOST_HEADERS_FILE: &str = "_headers";

/// Entries read from the store at a time.
const ENTRY_CHUNK: usize = 256;

/// Changed entries gathered for one pass at most: past it (a big copy into the seeds
/// folder), the set would take memory in proportion to the copy, and the next pass looks
/// at every entry instead.
const MAX_PENDING_ENTRIES: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the export file {path}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot list the media files of the seeds folder")]
    Media { source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the export was stopped before the end of its pass")]
    Stopped,
}

/// Where the media files of the seeds folder come from: the daemon's seeds folder,
/// opened under the rules `/media/` serves them by.
pub trait MediaSource: Send {
    /// Every media file, by its path below the folder.
    fn list(&self) -> std::io::Result<Vec<String>>;
    /// One of them, opened; `None` when it is not to be served (and so not exported).
    fn open(&self, relative: &str) -> Option<(std::fs::File, std::fs::Metadata)>;
}

/// What one pass is to look at.
pub struct Work {
    /// The documents of the snapshot, all compressed.
    pub snapshot: Arc<Snapshot>,
    /// Everything: the whole history, not only what changed.
    pub full: bool,
    /// Entries whose pages may have changed or gone.
    pub entries: BTreeSet<EntryKey>,
    /// Whether the media files may have changed.
    pub media: bool,
}

pub struct Exporter {
    folder: ExportFolder,
    pages: Arc<Pages>,
    /// The database, read-only, for the entries and the archive pages.
    reader: Store,
    media: Option<Box<dyn MediaSource>>,
    /// The ETag of each snapshot document the folder holds: one that is the same was not
    /// rendered again, and need not even be hashed.
    feeds: HashMap<String, String>,
}

impl Exporter {
    /// An exporter into `folder` (whose manifest has been read, or not), of the pages
    /// and database of `data_dir`, with the media files of `media`.
    pub fn new(
        folder: ExportFolder,
        pages: Arc<Pages>,
        data_dir: &std::path::Path,
        media: Option<Box<dyn MediaSource>>,
    ) -> Result<Self, ExportError> {
        Ok(Self {
            folder,
            pages,
            reader: Store::open_reader(data_dir)?,
            media,
            feeds: HashMap::new(),
        })
    }

    /// One pass over `work` (see the module documentation); `stopping` is asked between
    /// documents, and a pass it stops writes the manifest of what it did.
    pub fn pass(
        &mut self,
        work: &Work,
        stopping: &dyn Fn() -> bool,
    ) -> Result<Changes, ExportError> {
        self.folder.begin_pass();
        let done = self.documents(work, stopping);
        if let Err(ExportError::Stopped) = done {
            self.folder.finish()?;
            return Err(ExportError::Stopped);
        }
        done?;
        self.folder
            .site_file(HOST_HEADERS_FILE, host_headers().as_bytes())?;
        let mut swept = vec![ExportKind::Feed, ExportKind::Site];
        if work.full || !work.entries.is_empty() {
            swept.push(ExportKind::Listing);
        }
        if work.media && self.media.is_some() {
            swept.push(ExportKind::Media);
        }
        self.folder
            .sweep((!work.full).then_some(swept.as_slice()))?;
        self.folder.finish()?;
        Ok(self.folder.changes())
    }

    /// The pages first, then the feeds that link to them: a feed never points to a page
    /// the folder lacks.
    fn documents(&mut self, work: &Work, stopping: &dyn Fn() -> bool) -> Result<(), ExportError> {
        if work.full {
            self.all_entries(stopping)?;
        } else {
            let keys: Vec<EntryKey> = work.entries.iter().cloned().collect();
            for chunk in keys.chunks(ENTRY_CHUNK) {
                if stopping() {
                    return Err(ExportError::Stopped);
                }
                self.entries(chunk, true)?;
            }
        }
        self.archives(work.full, stopping)?;
        if work.full || !work.entries.is_empty() {
            self.listings(stopping)?;
        }
        self.feeds(&work.snapshot, work.full)?;
        if work.full || work.media {
            self.media_files(stopping)?;
        }
        Ok(())
    }

    /// Every live entry's page, a chunk at a time.
    fn all_entries(&mut self, stopping: &dyn Fn() -> bool) -> Result<(), ExportError> {
        let keys = self.reader.live_keys()?;
        for chunk in keys.chunks(ENTRY_CHUNK) {
            if stopping() {
                return Err(ExportError::Stopped);
            }
            self.entries(chunk, false)?;
        }
        Ok(())
    }

    /// The pages of these entries, rendered, and written if they changed; with `remove`,
    /// the page of one that is no longer live is removed.
    fn entries(&mut self, keys: &[EntryKey], remove: bool) -> Result<(), ExportError> {
        let site = self.pages.site();
        let live = self.reader.entries(keys)?;
        let mut found = BTreeSet::new();
        for entry in &live {
            let path = crate::render::entry_path(&entry.draft.key);
            self.folder
                .plain_document(&path, entry_page(&site, entry), ExportKind::Entry)?;
            found.insert(&entry.draft.key);
        }
        if remove {
            for key in keys.iter().filter(|key| !found.contains(key)) {
                self.folder
                    .remove_document(&crate::render::entry_path(key))?;
            }
        }
        Ok(())
    }

    /// The frozen archive pages: every one in a full pass, else those the folder lacks
    /// (a frozen page never changes).
    fn archives(&mut self, full: bool, stopping: &dyn Fn() -> bool) -> Result<(), ExportError> {
        for path in self.reader.archive_page_paths()? {
            if stopping() {
                return Err(ExportError::Stopped);
            }
            if !full && self.folder.holds(&path)? {
                continue;
            }
            if let Some(page) = self.pages.load(&path)? {
                self.folder.document(&path, &page, ExportKind::Archive)?;
            }
        }
        Ok(())
    }

    /// The listing pages and the tags' and authors' feeds, read from the store.
    fn listings(&mut self, stopping: &dyn Fn() -> bool) -> Result<(), ExportError> {
        let paths = self.pages.paths()?;
        let listings = paths
            .iter()
            .filter(|path| !path.starts_with(ENTRY_PREFIX) && !path.starts_with(ARCHIVE_PREFIX));
        for path in listings {
            if stopping() {
                return Err(ExportError::Stopped);
            }
            if let Some(page) = self.pages.load(path)? {
                self.folder.document(path, &page, ExportKind::Listing)?;
            }
        }
        Ok(())
    }

    /// The documents of the snapshot: one whose ETag the folder holds is not hashed again
    /// (but in a full pass, which checks everything).
    fn feeds(&mut self, snapshot: &Snapshot, full: bool) -> Result<(), ExportError> {
        for (path, document) in snapshot.documents() {
            let known = self.feeds.get(path) == Some(&document.etag);
            if known && !full && self.folder.keep(path, ExportKind::Feed)? {
                continue;
            }
            if self.folder.document(path, document, ExportKind::Feed)? {
                self.feeds.insert(path.to_owned(), document.etag.clone());
            } else if full {
                tracing::warn!(path, "not a path a file can have; not exported");
            }
        }
        Ok(())
    }

    /// The media files of the seeds folder, copied to `media/` where they changed.
    fn media_files(&mut self, stopping: &dyn Fn() -> bool) -> Result<(), ExportError> {
        let Some(media) = &self.media else {
            return Ok(());
        };
        let listed = media
            .list()
            .map_err(|source| ExportError::Media { source })?;
        for relative in listed {
            if stopping() {
                return Err(ExportError::Stopped);
            }
            if let Some((file, metadata)) = media.open(&relative) {
                self.folder.media(&relative, file, &metadata)?;
            }
        }
        Ok(())
    }
}

/// What gathers for the exporter between its passes: the Publisher's side and the
/// exporter thread's side of one lock.
pub struct ExportQueue {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Default)]
struct Pending {
    /// The newest snapshot with all its variants, not exported yet.
    snapshot: Option<Arc<Snapshot>>,
    full: bool,
    entries: BTreeSet<EntryKey>,
    media: bool,
    stop: bool,
}

impl Default for ExportQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl ExportQueue {
    /// A queue whose first pass is a full one: what the folder holds is not known.
    pub fn new() -> Self {
        Self {
            pending: Mutex::new(Pending {
                full: true,
                media: true,
                ..Pending::default()
            }),
            wake: Condvar::new(),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        // Each change under the lock is one assignment: consistent after any panic.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A snapshot was published with all its variants: a pass may start.
    pub(super) fn snapshot(&self, snapshot: &Arc<Snapshot>) {
        self.pending().snapshot = Some(Arc::clone(snapshot));
        self.wake.notify_one();
    }

    /// Entries whose pages may have changed or gone. Not kept when the next pass looks at
    /// every entry anyway, nor past [`MAX_PENDING_ENTRIES`]: the next pass then does.
    pub(super) fn entries<'a>(&self, keys: impl IntoIterator<Item = &'a EntryKey>) {
        let mut pending = self.pending();
        if pending.full || pending.stop {
            return;
        }
        pending.entries.extend(keys.into_iter().cloned());
        if pending.entries.len() > MAX_PENDING_ENTRIES {
            pending.entries = BTreeSet::new();
            pending.full = true;
        }
    }

    /// Everything may have changed (a reload, a start).
    pub(super) fn everything(&self) {
        let mut pending = self.pending();
        pending.full = true;
        pending.media = true;
    }

    /// Media files settled.
    pub(super) fn media(&self) {
        self.pending().media = true;
    }

    /// Ends the exporter's thread, at once or after its current document.
    pub fn stop(&self) {
        self.pending().stop = true;
        self.wake.notify_all();
    }

    pub fn stopping(&self) -> bool {
        self.pending().stop
    }

    /// Waits for a snapshot to export and takes everything gathered with it; `None`
    /// once stopped.
    pub fn next(&self) -> Option<Work> {
        let mut pending = self
            .wake
            .wait_while(self.pending(), |p| p.snapshot.is_none() && !p.stop)
            .unwrap_or_else(PoisonError::into_inner);
        if pending.stop {
            return None;
        }
        let taken = std::mem::take(&mut *pending);
        Some(Work {
            snapshot: taken.snapshot?,
            full: taken.full,
            entries: taken.entries,
            media: taken.media,
        })
    }

    /// A pass failed: the next one looks at everything again.
    pub fn retry_all(&self) {
        self.everything();
    }
}

/// The exporter's loop, on a thread of its own: a pass for each batch of work, until
/// the queue is stopped.
pub fn run(mut exporter: Exporter, queue: &ExportQueue) {
    while let Some(work) = queue.next() {
        let started = Instant::now();
        match exporter.pass(&work, &|| queue.stopping()) {
            Ok(changes) => tracing::info!(
                full = work.full,
                written = changes.written,
                removed = changes.removed,
                unchanged = changes.unchanged,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "export updated"
            ),
            Err(ExportError::Stopped) => break,
            Err(error) => {
                tracing::error!(
                    error = %crate::logging::error_chain(&error),
                    "export failed; the next change exports everything again"
                );
                queue.retry_all();
            }
        }
    }
}

/// The `_headers` rules: for each kind of document but HTML (which every host serves as
/// such), the media type and charset the daemon sends, where a host would guess from the
/// extension (or not know it), and CORS where the daemon sends it; full archive pages,
/// which never change, cached for good. Each header is set by one rule for any path:
/// these hosts join the values of overlapping rules.
pub fn host_headers() -> String {
    let mut kinds: Vec<(&str, &str, bool)> = Format::ALL
        .iter()
        .map(|format| (format.extension(), format.media_type(), true))
        .collect();
    for (path, media_type, cors) in [(OPML_PATH, OPML_TYPE, true), (XSL_PATH, XSL_TYPE, false)] {
        let extension = path
            .rsplit_once('.')
            .map_or(path, |(_, extension)| extension);
        kinds.push((extension, media_type, cors));
    }
    let mut rules =
        String::from("# Read by Netlify and Cloudflare Pages; written by `seedfeed render`.\n");
    for (extension, media_type, cors) in kinds {
        rules.push_str(&format!("/*.{extension}\n  Content-Type: {media_type}\n"));
        if cors {
            rules.push_str("  Access-Control-Allow-Origin: *\n");
        }
    }
    rules.push_str("/archive/*\n  Cache-Control: public, max-age=31536000, immutable\n");
    rules
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::render::Site;
    use crate::store::FileChange;

    /// The article file `{key}.txt`, titled `title`.
    fn article(key: &str, title: &str) -> FileChange {
        let text = format!("World\n\n{title}\n\n\nBody of {key}.\n");
        FileChange::article_for_tests(key, &format!("{key}.txt"), &text)
    }

    fn work(full: bool, entries: &[&str]) -> Work {
        Work {
            snapshot: Arc::new(Snapshot::default()),
            full,
            entries: entries.iter().map(|key| EntryKey::new(*key)).collect(),
            media: false,
        }
    }

    fn exporter(data: &std::path::Path, out: &std::path::Path) -> Exporter {
        let mut folder = ExportFolder::create(out).unwrap();
        folder.read_manifest().unwrap();
        let pages = Arc::new(Pages::new(Site::for_tests(), data.to_owned()));
        Exporter::new(folder, pages, data, None).unwrap()
    }

    /// A pass after a batch renders the pages of the entries the batch changed (and the
    /// listing), not the others'; a deleted entry's page goes; an exporter started again
    /// over the folder finds it current from its manifest and writes nothing.
    #[test]
    fn a_pass_looks_at_what_changed_and_a_restart_rewrites_nothing() {
        let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut store = Store::open(data.path()).unwrap();
        let keys = ["a", "b", "c", "d"];
        let all: Vec<FileChange> = keys.iter().map(|k| article(k, "First")).collect();
        store.apply(&all, Utc::now()).unwrap();
        let mut exporter = exporter(data.path(), out.path());
        let never = || false;
        let first = exporter.pass(&work(true, &[]), &never).unwrap();
        // Four entry pages and the section's listing page.
        assert_eq!(
            first,
            Changes {
                written: 5,
                unchanged: 0,
                removed: 0
            }
        );
        let page = out.path().join("entries/a/index.html");
        assert!(page.exists() && out.path().join("entries/a/index.html.br").exists());

        store.apply(&[article("b", "Second")], Utc::now()).unwrap();
        let edit = exporter.pass(&work(false, &["b"]), &never).unwrap();
        assert_eq!(
            edit,
            Changes {
                written: 2,
                unchanged: 0,
                removed: 0
            }
        );
        let b = std::fs::read_to_string(out.path().join("entries/b/index.html")).unwrap();
        assert!(b.contains("Second"), "{b}");

        let removed = FileChange::Removed {
            path: "c.txt".into(),
        };
        store.apply(&[removed], Utc::now()).unwrap();
        let delete = exporter.pass(&work(false, &["c"]), &never).unwrap();
        assert_eq!(
            delete,
            Changes {
                written: 1,
                unchanged: 0,
                removed: 1
            }
        );
        assert!(!out.path().join("entries/c").exists());
        let manifest = std::fs::read_to_string(out.path().join(MANIFEST_FILE)).unwrap();
        assert!(!manifest.contains("entries/c/"), "{manifest}");
        assert!(
            manifest.contains(" entries/b/index.html.gz\n"),
            "{manifest}"
        );

        let mut restarted = exporter_again(data.path(), out.path(), exporter);
        let again = restarted.pass(&work(true, &[]), &never).unwrap();
        assert_eq!(
            again,
            Changes {
                written: 0,
                unchanged: 4,
                removed: 0
            }
        );
        assert_eq!(
            std::fs::read_to_string(out.path().join(MANIFEST_FILE)).unwrap(),
            manifest
        );
    }

    /// A new exporter over the same folder, the old one gone (as after a restart).
    fn exporter_again(data: &std::path::Path, out: &std::path::Path, old: Exporter) -> Exporter {
        drop(old);
        exporter(data, out)
    }
}
