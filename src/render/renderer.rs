//! The renderer's memory between snapshots: term feeds (each section's, tag's and
//! author's) are kept and only re-rendered when their entries change; the main feeds, the
//! index and the OPML list are rendered for every snapshot (they are small). Each feed carries its HTML view for browsers, rendered
//! only when the feed's bytes change and kept, with its variants, while its own bytes are
//! the same. Entry, archive and listing pages are not kept here: see `publish::Pages`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::delta::History;
use super::feed_view::feed_view;
use super::{
    Archive, Document, FeedDoc, Format, HTML_TYPE, HtmlView, INDEX_PATH, Listing, MAIN_STEM,
    OPML_PATH, OPML_TYPE, RenderError, Site, Snapshot, Term, TermKind, Terms, XSL_PATH, XSL_TYPE,
    archive_stem, assets_modified, listing_page, not_found_page, opml, parse_term_feed_path,
    render_feed, term_stem,
};
use crate::model::{ArchivePage, Category, Entry, Tombstone};

/// The stylesheet that makes the XML feeds readable in a browser.
const FEED_XSL: &str = include_str!("feed.xsl");

#[derive(Debug)]
pub struct Renderer {
    site: Site,
    /// Each term's feed documents, by kind and slug, then path.
    terms: HashMap<(TermKind, String), HashMap<String, Arc<Document>>>,
    /// Every section, tag and author with a feed, for the index and the OPML list.
    lists: Terms,
    /// The newest frozen archive page, which the main feeds link to.
    newest_archive: Option<u64>,
    /// The main feeds, index and OPML list of the last snapshot, reused while their bytes
    /// are equal (with their compressed variants and deltas).
    main: HashMap<String, Arc<Document>>,
    stylesheet: Arc<Document>,
    /// The page browsers are shown for an unknown path; it depends only on the site.
    not_found: Arc<Document>,
    history: History,
    /// Feeds rendered but not compressed yet, by path: a new version is published first
    /// as it is, then again with its variants (see [`Renderer::compress_pending`]).
    uncompressed: HashSet<String>,
}

impl Renderer {
    pub fn new(site: Site) -> Self {
        Self {
            not_found: Arc::new(not_found_page(&site)),
            site,
            terms: HashMap::new(),
            lists: Terms::default(),
            newest_archive: None,
            main: HashMap::new(),
            stylesheet: Arc::new(
                Document::new(FEED_XSL.as_bytes().to_vec(), XSL_TYPE, assets_modified())
                    .compressed(),
            ),
            history: History::default(),
            uncompressed: HashSet::new(),
        }
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// New site settings (a reload): they apply from the next documents rendered.
    pub fn set_site(&mut self, site: Site) {
        self.not_found = Arc::new(not_found_page(&site));
        self.site = site;
    }

    /// The list of sections the index and the OPML list show.
    pub fn set_categories(&mut self, categories: Vec<Category>) {
        self.set_term_list(TermKind::Section, categories);
    }

    /// The list of sections, tags or authors the index and the OPML list show, in the
    /// order given (an author's `term` is the name articles write, see [`Term`]).
    pub fn set_term_list(&mut self, kind: TermKind, list: Vec<Category>) {
        self.lists.set(kind, list);
    }

    /// Renders a section's feeds: [`Renderer::set_term_feed`] for a section.
    pub fn set_section(
        &mut self,
        category: &Category,
        entries: &[Entry],
        tombstones: &[Tombstone],
    ) -> Result<(), RenderError> {
        self.set_term_feed(TermKind::Section, category, entries, tombstones)
    }

    /// Renders the feeds of a section, tag or author (`/categories/{slug}.*`,
    /// `/tags/{slug}.*`, `/authors/{slug}.*`) from its newest entries, newest first, and
    /// its tombstones; one with neither any more has no feeds. An author's `term` is the
    /// name articles write: a key of the `[authors]` tables is shown as that person.
    pub fn set_term_feed(
        &mut self,
        kind: TermKind,
        category: &Category,
        entries: &[Entry],
        tombstones: &[Tombstone],
    ) -> Result<(), RenderError> {
        if entries.is_empty() && tombstones.is_empty() {
            self.remove_term_feed(kind, &category.slug);
            return Ok(());
        }
        let names = TermFeedNames::new(&self.site, Term::new(kind, category));
        let feed = names.feed(entries, tombstones);
        let key = (kind, category.slug.clone());
        let previous = self.terms.remove(&key).unwrap_or_default();
        let documents = feed_documents(
            &self.site,
            &mut self.history,
            &feed,
            &previous,
            &mut self.uncompressed,
        )?;
        self.terms.insert(key, documents);
        Ok(())
    }

    pub fn remove_section(&mut self, slug: &str) {
        self.remove_term_feed(TermKind::Section, slug);
    }

    /// A section, tag or author has no feeds any more.
    pub fn remove_term_feed(&mut self, kind: TermKind, slug: &str) {
        for format in Format::ALL {
            self.history
                .forget(&format!("{}.{}", term_stem(kind, slug), format.extension()));
        }
        self.terms.remove(&(kind, slug.to_owned()));
    }

    /// The newest full archive page, if any.
    pub fn newest_archive(&self) -> Option<u64> {
        self.newest_archive
    }

    /// The newest frozen archive page is now `newest` (`None`: there is none).
    pub fn set_newest_archive(&mut self, newest: Option<u64>) {
        self.newest_archive = newest;
    }

    /// Renders full archive page `number` in RSS and Atom, with their variants, for the
    /// store to keep (see [`archive_feed`]).
    pub fn archive_page(
        &self,
        number: u64,
        entries: &[Entry],
    ) -> Result<Vec<ArchivePage>, RenderError> {
        [Format::Rss, Format::Atom]
            .into_iter()
            .map(|format| {
                let document = archive_feed(&self.site, number, entries, format)?.compressed();
                Ok(ArchivePage {
                    path: format!("{}.{}", archive_stem(number), format.extension()),
                    number,
                    body: document.body.to_vec(),
                    gzip: document.gzip.map(|b| b.to_vec()),
                    brotli: document.brotli.map(|b| b.to_vec()),
                    media_type: format.media_type().to_owned(),
                    last_modified: document.last_modified,
                })
            })
            .collect()
    }

    /// Renders the main feeds, the index and the OPML list from the newest entries
    /// (newest first) and the tombstones, and joins them with the kept documents, every
    /// one with its compressed variants. Entries past `feed_size` are not shown; one
    /// there tells the index that a page of older entries follows.
    pub fn snapshot(
        &mut self,
        latest: &[Entry],
        tombstones: &[Tombstone],
    ) -> Result<Snapshot, RenderError> {
        self.render(latest, tombstones)?;
        self.compress_pending();
        Ok(self.assemble())
    }

    /// [`Renderer::snapshot`] without compressing the feeds that changed yet: what can
    /// be served at once, before [`Renderer::compress_pending`].
    pub fn render(
        &mut self,
        latest: &[Entry],
        tombstones: &[Tombstone],
    ) -> Result<Snapshot, RenderError> {
        let has_older = latest.len() > self.site.feed_size;
        let latest = &latest[..latest.len().min(self.site.feed_size)];
        let id = self.site.feed_id("feed");
        let feed = FeedDoc {
            title: &self.site.title,
            id: &id,
            stem: MAIN_STEM,
            term: None,
            current_stem: MAIN_STEM,
            entries: latest,
            tombstones,
            archive: Archive::Subscription {
                newest_page: self.newest_archive,
            },
        };
        let previous = std::mem::take(&mut self.main);
        self.main = feed_documents(
            &self.site,
            &mut self.history,
            &feed,
            &previous,
            &mut self.uncompressed,
        )?;
        let updated = feed.updated(&self.site);

        let index = listing_page(
            &self.site,
            &Listing {
                term: None,
                number: 1,
                entries: latest,
                has_older,
                terms: &self.lists,
            },
        );
        let list = opml::render(&self.site, &self.lists, updated);
        for (path, body, media_type) in
            [(INDEX_PATH, index, HTML_TYPE), (OPML_PATH, list, OPML_TYPE)]
        {
            let mut document = Document::new(body, media_type, updated);
            document.cors = path == OPML_PATH;
            let document = reuse_or_compress(previous.get(path), document);
            self.main.insert(path.to_owned(), document);
        }
        Ok(self.assemble())
    }

    /// Computes the compressed variants of the feeds rendered since the last call;
    /// returns whether there were any (then [`Renderer::assemble`] has them).
    pub fn compress_pending(&mut self) -> bool {
        let mut any = false;
        while self.compress_one() {
            any = true;
        }
        any
    }

    /// Computes the variants of one feed rendered without them; returns false when
    /// there was none left. Feeds are published before this, so that a new entry is
    /// served without waiting for compression (as long again as the render itself), and
    /// one at a time, so that the ingest driver can put
    /// a new file first: a client asking for gzip or brotli meanwhile gets the identity.
    pub fn compress_one(&mut self) -> bool {
        let Some(path) = self.uncompressed.iter().next().cloned() else {
            return false;
        };
        self.uncompressed.remove(&path);
        let documents = match parse_term_feed_path(&path) {
            Some((kind, slug)) => self.terms.get_mut(&(kind, slug.to_owned())),
            None => Some(&mut self.main),
        };
        // A term removed since has nothing to compress.
        if let Some(document) = documents.and_then(|d| d.get_mut(&path)) {
            let mut compressed = Document::clone(document).compressed();
            // The view of a new version, unless it was the same as the last one's.
            if let HtmlView::Rendered(view) = &mut compressed.html_view
                && !view.is_compressed()
            {
                *view = Arc::new(Document::clone(view).compressed());
            }
            *document = Arc::new(compressed);
        }
        true
    }

    /// Whether feeds wait for their compressed variants.
    pub fn compression_waiting(&self) -> bool {
        !self.uncompressed.is_empty()
    }

    /// The snapshot of the documents rendered so far.
    pub fn assemble(&self) -> Snapshot {
        let mut documents: HashMap<String, Arc<Document>> = HashMap::new();
        for term in self.terms.values() {
            documents.extend(term.iter().map(|(p, d)| (p.clone(), Arc::clone(d))));
        }
        documents.extend(self.main.iter().map(|(p, d)| (p.clone(), Arc::clone(d))));
        documents.insert(XSL_PATH.to_owned(), Arc::clone(&self.stylesheet));
        Snapshot {
            documents,
            first_ingest: false,
            not_found: Some(Arc::clone(&self.not_found)),
        }
    }
}

/// Renders a feed in every format. A document whose bytes did not change is the same
/// `Arc` as before (with its deltas, variants and view); a changed one gets deltas
/// against the versions its readers may hold and its view (the last one, if its bytes
/// are the same), and its path goes into `uncompressed`.
fn feed_documents(
    site: &Site,
    history: &mut History,
    feed: &FeedDoc<'_>,
    previous: &HashMap<String, Arc<Document>>,
    uncompressed: &mut HashSet<String>,
) -> Result<HashMap<String, Arc<Document>>, RenderError> {
    let mut documents = HashMap::with_capacity(Format::ALL.len());
    for format in Format::ALL {
        let path = feed.path(format);
        let body = render_feed(site, feed, format)?;
        let mut document = Document::xml_feed(body, format, feed.updated(site));
        document.links = Some(feed.link_header(site, format).into());
        let document = match previous.get(&path) {
            Some(old) if old.etag == document.etag => Arc::clone(old),
            old => {
                document.deltas = history.advance(site, feed, format, &document.etag)?;
                document.html_view = html_view(site, feed, format, old);
                uncompressed.insert(path.clone());
                Arc::new(document)
            }
        };
        documents.insert(path, document);
    }
    Ok(documents)
}

/// What a term's feeds are called: their path stem, title and id, which its `FeedDoc`
/// borrows.
struct TermFeedNames {
    kind: TermKind,
    stem: String,
    title: String,
    id: String,
}

impl TermFeedNames {
    fn new(site: &Site, term: Term<'_>) -> Self {
        Self {
            kind: term.kind,
            stem: term.stem(),
            title: term.title(site),
            id: term.feed_id(site),
        }
    }

    /// The term's subscription feed of `entries` and `tombstones`.
    fn feed<'a>(&'a self, entries: &'a [Entry], tombstones: &'a [Tombstone]) -> FeedDoc<'a> {
        FeedDoc {
            title: &self.title,
            id: &self.id,
            stem: &self.stem,
            term: Some(self.kind),
            current_stem: &self.stem,
            entries,
            tombstones,
            archive: Archive::None,
        }
    }
}

/// Full archive page `number` of the main feed in `format`, without its variants: the
/// entries first published as numbers `(number - 1) * size + 1 ..= number * size`,
/// newest first. The same entries give the same bytes, so a page rendered on request
/// before it is frozen has the ETag the frozen page will have.
pub fn archive_feed(
    site: &Site,
    number: u64,
    entries: &[Entry],
    format: Format,
) -> Result<Document, RenderError> {
    let stem = archive_stem(number);
    let id = site.feed_id("feed");
    let feed = FeedDoc {
        title: &site.title,
        id: &id,
        stem: &stem,
        term: None,
        current_stem: MAIN_STEM,
        entries,
        tombstones: &[],
        archive: Archive::Page { number },
    };
    let body = render_feed(site, &feed, format)?;
    let mut document = Document::xml_feed(body, format, feed.updated(site));
    document.html_view = HtmlView::OnRequest;
    Ok(document)
}

/// A tag's or an author's feed in `format`, rendered on its own when it is asked for (see
/// `publish::Pages`): a site may have thousands of tags, and keeping every one's feeds
/// rendered would cost memory and time for feeds few read. With its compressed variants
/// and its browser view; without hubs (nothing announces it) and RFC 3229 deltas.
pub fn term_feed_document(
    site: &Site,
    kind: TermKind,
    category: &Category,
    entries: &[Entry],
    format: Format,
) -> Result<Document, RenderError> {
    let names = TermFeedNames::new(site, Term::new(kind, category));
    let feed = names.feed(entries, &[]);
    let body = render_feed(site, &feed, format)?;
    let mut document = Document::xml_feed(body, format, feed.updated(site));
    document.links = Some(feed.link_header(site, format).into());
    let view = feed_view(site, &feed, format).compressed();
    document.html_view = HtmlView::Rendered(Arc::new(view));
    Ok(document.compressed())
}

/// The view of a changed feed: the previous one when its bytes are the same (a change the
/// view does not show, such as an entry's content), with its variants and its date (the
/// last time its bytes changed).
fn html_view(
    site: &Site,
    feed: &FeedDoc<'_>,
    format: Format,
    previous: Option<&Arc<Document>>,
) -> HtmlView {
    let view = feed_view(site, feed, format);
    match previous.map(|old| &old.html_view) {
        Some(HtmlView::Rendered(old)) if old.etag == view.etag => {
            HtmlView::Rendered(Arc::clone(old))
        }
        _ => HtmlView::Rendered(Arc::new(view)),
    }
}

/// The previous document when its bytes are the same (keeping its variants), else the
/// new one with its variants computed.
fn reuse_or_compress(previous: Option<&Arc<Document>>, document: Document) -> Arc<Document> {
    match previous {
        Some(old) if old.etag == document.etag && old.last_modified == document.last_modified => {
            Arc::clone(old)
        }
        _ => Arc::new(document.compressed()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::model::{Article, EntryKey};
    use crate::normalize::normalize;
    use crate::render::category_stem;

    fn entry(key: &str) -> Entry {
        let article = Article {
            title: format!("Title of {key}"),
            section: Some("World".into()),
            paragraphs: vec!["Words that compress well. ".repeat(100)],
            ..Article::default()
        };
        Entry {
            draft: normalize(
                EntryKey::new(key),
                &article,
                &crate::normalize::EntryContext::for_tests(),
            ),
            published: DateTime::UNIX_EPOCH,
            updated: DateTime::UNIX_EPOCH,
        }
    }

    fn renderer() -> Renderer {
        Renderer::new(Site::for_tests())
    }

    #[test]
    fn new_feeds_are_served_first_and_compressed_next() {
        let mut renderer = renderer();
        let entries = [entry("a")];
        let category = entries[0].draft.category.clone().unwrap();
        renderer.set_section(&category, &entries, &[]).unwrap();
        let tag = Category {
            term: "Tag".into(),
            slug: "tag".into(),
        };
        renderer
            .set_term_feed(TermKind::Tag, &tag, &entries, &[])
            .unwrap();
        let first = renderer.render(&entries, &[]).unwrap();
        let section = format!("{}.atom", category_stem(&category.slug));
        for path in ["/feed.atom", section.as_str(), "/tags/tag.json"] {
            let document = first.get(path).unwrap();
            assert!(
                document.gzip.is_none() && document.brotli.is_none(),
                "{path}"
            );
        }
        assert!(renderer.compress_pending());
        let second = renderer.assemble();
        for path in [
            "/feed.atom",
            "/feed.rss",
            "/feed.json",
            section.as_str(),
            "/tags/tag.json",
        ] {
            let (before, after) = (first.get(path).unwrap(), second.get(path).unwrap());
            assert_eq!(before.etag, after.etag, "{path}: the same version");
            assert_eq!(before.body, after.body);
            assert!(after.gzip.is_some() && after.brotli.is_some(), "{path}");
        }
        assert!(!renderer.compress_pending(), "nothing left");
        let (before, after) = (view(&first, "/feed.atom"), view(&second, "/feed.atom"));
        assert!(!before.is_compressed() && after.is_compressed());
        assert_eq!(
            before.etag, after.etag,
            "the view's variants came with the feed's"
        );
        // An unchanged feed keeps its variants in the next render.
        let again = renderer.render(&entries, &[]).unwrap();
        assert!(again.get("/feed.atom").unwrap().gzip.is_some());
    }

    /// Deltas are kept from the bases a few entries away: a feed that changes wholly at
    /// every render (a big ingest publishing as it goes) keeps no near-copies of itself.
    #[test]
    fn deltas_stop_at_the_first_base_that_most_of_the_feed_differs_from() {
        let mut renderer = renderer();
        let keys: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
        let window = |from: usize| -> Vec<Entry> {
            keys[from..from + 4]
                .iter()
                .rev()
                .map(|k| entry(k))
                .collect()
        };
        let deltas = |snapshot: &Snapshot| snapshot.get("/feed.atom").unwrap().deltas.len();
        renderer.render(&window(0), &[]).unwrap();
        // One new entry of four: a delta from the version before.
        assert_eq!(deltas(&renderer.render(&window(1), &[]).unwrap()), 1);
        // One more: from each of the two before (one and two entries new).
        assert_eq!(deltas(&renderer.render(&window(2), &[]).unwrap()), 2);
        // Wholly new: no delta from any earlier version.
        assert_eq!(deltas(&renderer.render(&window(10), &[]).unwrap()), 0);
        assert_eq!(deltas(&renderer.render(&window(11), &[]).unwrap()), 1);
    }

    fn view(snapshot: &Snapshot, path: &str) -> Arc<Document> {
        match &snapshot.get(path).unwrap().html_view {
            HtmlView::Rendered(view) => Arc::clone(view),
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn each_feed_carries_its_view_rendered_only_when_it_changes() {
        let mut renderer = renderer();
        let entries = [entry("a")];
        let category = entries[0].draft.category.clone().unwrap();
        renderer.set_section(&category, &entries, &[]).unwrap();
        let first = renderer.snapshot(&entries, &[]).unwrap();
        let section = format!("{}.rss", category_stem(&category.slug));
        for path in ["/feed.atom", "/feed.rss", "/feed.json", section.as_str()] {
            let page = view(&first, path);
            assert_eq!(page.media_type, HTML_TYPE, "{path}");
            assert!(page.is_compressed(), "{path}");
            let html = String::from_utf8_lossy(&page.body);
            assert!(
                html.contains("Title of a") && !html.contains("<script"),
                "{path}"
            );
        }
        assert_ne!(
            view(&first, "/feed.atom").etag,
            view(&first, "/feed.rss").etag
        );
        assert_eq!(first.get("/feed.xsl").unwrap().html_view, HtmlView::None);

        // The same feed: the same view, not rendered again.
        let same = renderer.snapshot(&entries, &[]).unwrap();
        assert!(Arc::ptr_eq(
            &view(&first, "/feed.atom"),
            &view(&same, "/feed.atom")
        ));
        // New content the view does not show: a new feed, the same view and variants.
        let mut edited = entry("a");
        edited.draft.content_html.push_str("<p>More.</p>");
        let content = renderer.snapshot(&[edited], &[]).unwrap();
        let (before, after) = (
            first.get("/feed.atom").unwrap(),
            content.get("/feed.atom").unwrap(),
        );
        assert_ne!(before.etag, after.etag);
        assert!(Arc::ptr_eq(
            &view(&first, "/feed.atom"),
            &view(&content, "/feed.atom")
        ));
        // A new entry: a new view.
        let more = renderer.snapshot(&[entry("b"), entry("a")], &[]).unwrap();
        assert_ne!(
            view(&more, "/feed.atom").etag,
            view(&first, "/feed.atom").etag
        );
    }
}
