//! Entries to documents: pure writers of every document the server serves, and the
//! [`Snapshot`] of the ones readers poll. Knows nothing of SQLite or HTTP: entries and
//! tombstones in, bytes out.
//!
//! The documents: the main feeds and one feed per section, per tag and per author (the
//! "term feeds", [`TermKind`]) in RSS 2.0, Atom 1.0 and JSON Feed 1.1; RFC 5005 archive
//! pages (rendered once, when full, then kept as bytes by the store); an HTML page per
//! entry; paged HTML listings of the entries, the site's (the index, then `/page/{n}/`)
//! and each term's (`/categories/{slug}/`, `/tags/{slug}/`, `/authors/{slug}/`); an HTML
//! view of every feed and archive page, for browsers; an HTML 404 page; an OPML list of
//! the feeds; the XSLT stylesheet the XML feeds still name (for the readers and tools that
//! apply it; browsers get the HTML view). Feeds also carry RFC 3229 deltas against their
//! recent earlier versions. The [`Renderer`] keeps what it rendered between snapshots,
//! and compresses each new version once.
//!
//! Entries carry what their front matter gave (`EntryMeta`: authors, tags, an image, a
//! language, a link post's target, a comments page), and every document shows it; an
//! author named by a key of the `[authors]` tables is shown as the configured person
//! ([`Site::resolve_author`]). The RSS feeds that `[podcast]` tables name are podcast
//! feeds (`podcast.rs`): their episodes, with Apple's and Podcasting 2.0's tags.
//!
//! The site as a fediverse actor has its documents in [`activitypub`]: the actor, each
//! entry as an ActivityPub object, the activities delivered to followers, and discovery.

pub mod activitypub;
mod atom;
mod compress;
mod delta;
mod document;
mod feed_view;
mod html;
mod json_feed;
mod listing;
mod opml;
mod podcast;
mod renderer;
mod rss;

pub use document::{Caching, Delta, Document, HtmlView, Snapshot, etag_of};
pub use feed_view::{ArchiveView, archive_view};
pub use html::{entry_page, not_found_page};
pub use listing::{Listing, listing_page};
pub use opml::render as opml_list;
pub use podcast::{PODCAST_NS, podcast_guid};
pub use renderer::{Renderer, archive_feed, term_feed_document};

pub use crate::normalize::entry_url;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::{FeedContent, Podcasts};
pub use crate::model::TermKind;
use crate::model::{ArchivePage, Category, Entry, EntryKey, Person, Tombstone};

pub const HTML_TYPE: &str = "text/html; charset=utf-8";
pub const OPML_TYPE: &str = "text/x-opml; charset=utf-8";
pub const XSL_TYPE: &str = "text/xsl; charset=utf-8";

pub const INDEX_PATH: &str = "/";
pub const OPML_PATH: &str = "/feeds.opml";
pub const XSL_PATH: &str = "/feed.xsl";
/// The main feeds, without their format's extension.
pub const MAIN_STEM: &str = "/feed";

/// The `Last-Modified` of the assets built into the binary (the stylesheet): when it was
/// built, or `SOURCE_DATE_EPOCH` for a reproducible build (build.rs), which is never
/// before they last changed. Their ETags are their content's.
pub fn assets_modified() -> DateTime<Utc> {
    env!("BUILD_TIME_UNIX")
        .parse()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("writing an RSS feed")]
    Rss(#[from] ::rss::Error),
    #[error("writing an Atom feed")]
    Atom(#[from] ::atom_syndication::Error),
    #[error("writing a JSON feed")]
    Json(#[from] serde_json::Error),
    #[error("writing the OPML list")]
    Opml(#[from] std::io::Error),
}

/// The three formats every feed is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    pub fn extension(self) -> &'static str {
        match self {
            Self::Rss => "rss",
            Self::Atom => "atom",
            Self::Json => "json",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// The media type without parameters, as feed `type` attributes write it.
    pub fn mime(self) -> &'static str {
        self.media_type().split(';').next().unwrap_or_default()
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Rss => "RSS",
            Self::Atom => "Atom",
            Self::Json => "JSON Feed",
        }
    }
}

/// What the documents say about the site, and where absolute URLs point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The base URL without a trailing slash: `https://news.example.org`.
    pub base: String,
    pub title: String,
    pub description: String,
    pub author: String,
    pub language: String,
    /// The namespace of every id; feed ids derive from it, independent of the base URL.
    pub id_namespace: Uuid,
    pub feed_size: usize,
    /// When the database was created: the date of a feed with nothing in it yet.
    pub created: DateTime<Utc>,
    /// The WebSub hubs every feed names (`rel="hub"`): the built-in one and external ones.
    pub hubs: Vec<String>,
    /// Whether the feeds carry each entry's whole HTML or its summary alone.
    pub content: FeedContent,
    /// The feeds' copyright statement (`atom:rights`, RSS `copyright`), when configured.
    pub rights: Option<String>,
    /// The `[authors.{key}]` tables: the people articles may name by key.
    pub authors: BTreeMap<String, Person>,
    /// The feeds that are podcasts (`[podcast]`), and what they say of themselves.
    pub podcasts: Podcasts,
    /// What the pages say of the site's fediverse account, when it has one.
    pub fediverse: Option<FediverseLinks>,
}

/// The fediverse account in the HTML pages (`[activitypub]`): the index and the entry
/// pages name their ActivityPub representation, and with `attribution` every page says
/// whose work it is, for link previews (`fediverse:creator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FediverseLinks {
    /// The actor's URL.
    pub actor: String,
    /// `@user@host` of the person credited.
    pub attribution: Option<String>,
}

impl Site {
    /// The site of the library's unit tests: `https://x.org`, ten entries a feed, ids in
    /// the namespace of "t".
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            base: "https://x.org".into(),
            title: "X".into(),
            description: "D".into(),
            author: "A".into(),
            language: "en".into(),
            id_namespace: crate::normalize::id_namespace("t"),
            feed_size: 10,
            created: DateTime::UNIX_EPOCH,
            hubs: Vec::new(),
            content: FeedContent::Full,
            rights: None,
            authors: BTreeMap::new(),
            podcasts: Podcasts::default(),
            fediverse: None,
        }
    }

    /// An author as the documents show them: the person of the `[authors]` table whose
    /// key is the name the article wrote, else the author as written.
    pub fn resolve_author<'a>(&'a self, person: &'a Person) -> &'a Person {
        self.authors.get(&person.name).unwrap_or(person)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn entry_url(&self, key: &EntryKey) -> String {
        entry_url(&self.base, key)
    }

    /// A path on this site as a root-relative reference (`/news/feed.xsl` for a base of
    /// `https://x.org/news`): for references that must stay on the origin the page was
    /// loaded from, as an XSLT stylesheet must.
    pub fn local_path(&self, path: &str) -> String {
        let after_scheme = self.base.find("://").map_or(0, |i| i + 3);
        let prefix = self.base[after_scheme..]
            .find('/')
            .map_or("", |i| &self.base[after_scheme + i..]);
        format!("{prefix}{path}")
    }

    /// A feed's permanent `urn:uuid` id, from a name such as `feed` or `category:tech`.
    pub fn feed_id(&self, name: &str) -> String {
        format!(
            "urn:uuid:{}",
            Uuid::new_v5(&self.id_namespace, name.as_bytes())
        )
    }
}

/// `url` when it is an absolute http or https URL, the only kind an article's metadata
/// (an image, a link post's target, a comments page, an author's page) is written with:
/// `javascript:` and relative URLs are left out of every document.
pub fn web_url(url: &str) -> Option<&str> {
    let parsed = url::Url::parse(url).ok()?;
    let web = matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some();
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (web && clean).then_some(url)
}

/// The entry's image, when its URL is one the documents write ([`web_url`]).
fn image_of(entry: &Entry) -> Option<&crate::model::Image> {
    let image = entry.draft.meta.image.as_ref()?;
    web_url(&image.url).map(|_| image)
}

/// The entry's enclosure, when its URL is one the documents write ([`web_url`]) and
/// its media type is a `type/subtype`.
fn enclosure_of(entry: &Entry) -> Option<&crate::model::Enclosure> {
    let enclosure = entry.draft.meta.enclosure.as_ref()?;
    let typed = enclosure
        .media_type
        .split_once('/')
        .is_some_and(|(kind, sub)| {
            let token = |part: &str| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
            };
            token(kind) && token(sub)
        });
    (typed && web_url(&enclosure.url).is_some()).then_some(enclosure)
}

/// A person's e-mail address and page, each when it is one the documents may write: an
/// address `local@domain`, an absolute http(s) URL.
fn contact(person: &Person) -> (Option<&str>, Option<&str>) {
    let email = person
        .email
        .as_deref()
        .filter(|email| crate::config::is_email(email));
    (email, person.uri.as_deref().and_then(web_url))
}

/// The path (percent-decoded) the server answers an entry's page at: `/entries/{key}/`.
pub fn entry_path(key: &EntryKey) -> String {
    format!("/entries/{}/", key.as_str())
}

/// What a term feed is about (`model::TermKind`): the entries' section, one of their
/// tags, or one of their authors. Each term has its feeds at
/// `/{folder}/{slug}.{rss,atom,json}` and its paged HTML listing at `/{folder}/{slug}/`.
impl TermKind {
    pub const ALL: [TermKind; 3] = [Self::Section, Self::Tag, Self::Author];

    /// The first segment of the paths of its feeds and pages.
    pub fn folder(self) -> &'static str {
        match self {
            Self::Section => "categories",
            Self::Tag => "tags",
            Self::Author => "authors",
        }
    }

    /// The kind whose paths start with `folder`.
    pub fn of_folder(folder: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.folder() == folder)
    }

    /// What the index and the OPML list call the list of them.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Section => "Sections",
            Self::Tag => "Tags",
            Self::Author => "Authors",
        }
    }
}

/// The path of a term's feeds, without the format's extension: `/tags/{slug}`.
pub fn term_stem(kind: TermKind, slug: &str) -> String {
    format!("/{}/{slug}", kind.folder())
}

/// The path of a section's feeds, without the format's extension.
pub fn category_stem(slug: &str) -> String {
    term_stem(TermKind::Section, slug)
}

/// The term of a term feed's path (`/tags/rust.atom`): its kind and slug.
pub fn parse_term_feed_path(path: &str) -> Option<(TermKind, &str)> {
    let (folder, file) = path.strip_prefix('/')?.split_once('/')?;
    let (slug, extension) = file.rsplit_once('.')?;
    let known = Format::ALL.iter().any(|f| f.extension() == extension);
    let kind = TermKind::of_folder(folder)?;
    (known && !slug.is_empty() && !slug.contains('/')).then_some((kind, slug))
}

/// A section, tag or author as its feeds and listing are about it. An author's `term`
/// is the name as articles write it (a key of the `[authors]` tables, or a name); what
/// is shown is [`Term::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term<'a> {
    pub kind: TermKind,
    pub category: &'a Category,
}

impl<'a> Term<'a> {
    pub fn new(kind: TermKind, category: &'a Category) -> Self {
        Self { kind, category }
    }

    pub fn slug(&self) -> &'a str {
        &self.category.slug
    }

    pub fn stem(&self) -> String {
        term_stem(self.kind, self.slug())
    }

    /// The name the documents show: an author's through the `[authors]` tables.
    pub fn name<'s>(&self, site: &'s Site) -> &'s str
    where
        'a: 's,
    {
        match self.kind {
            TermKind::Author => site
                .authors
                .get(&self.category.term)
                .map_or(&self.category.term, |person| &person.name),
            TermKind::Section | TermKind::Tag => &self.category.term,
        }
    }

    /// The title of its feeds: "Site — Conflict & Justice" for a section (as it has
    /// always been), "Site — Tag: C++", "Site — Author: Jane Doe".
    pub fn title(&self, site: &Site) -> String {
        let name = self.name(site);
        match self.kind {
            TermKind::Section => format!("{} — {name}", site.title),
            TermKind::Tag => format!("{} — Tag: {name}", site.title),
            TermKind::Author => format!("{} — Author: {name}", site.title),
        }
    }

    /// The permanent id of its feeds: a section's from `category:{slug}` (as it has always
    /// been), a tag's from `tag:{slug}`, an author's from `author:{slug}`.
    pub fn feed_id(&self, site: &Site) -> String {
        let prefix = match self.kind {
            TermKind::Section => "category",
            TermKind::Tag => "tag",
            TermKind::Author => "author",
        };
        site.feed_id(&format!("{prefix}:{}", self.slug()))
    }

    /// Which articles a listing of it shows: "in Tech", "tagged C++", "by Jane Doe".
    fn which(&self, site: &Site) -> String {
        let name = self.name(site);
        match self.kind {
            TermKind::Section => format!("in {name}"),
            TermKind::Tag => format!("tagged {name}"),
            TermKind::Author => format!("by {name}"),
        }
    }
}

/// Every section, tag and author with a feed: what the index and the OPML list show,
/// each list in the order it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    pub sections: Vec<Category>,
    pub tags: Vec<Category>,
    pub authors: Vec<Category>,
}

impl Terms {
    /// None at all: the lists of a listing page other than the index.
    pub const NONE: &'static Terms = &Terms {
        sections: Vec::new(),
        tags: Vec::new(),
        authors: Vec::new(),
    };

    pub fn of(&self, kind: TermKind) -> &[Category] {
        match kind {
            TermKind::Section => &self.sections,
            TermKind::Tag => &self.tags,
            TermKind::Author => &self.authors,
        }
    }

    pub fn set(&mut self, kind: TermKind, list: Vec<Category>) {
        match kind {
            TermKind::Section => self.sections = list,
            TermKind::Tag => self.tags = list,
            TermKind::Author => self.authors = list,
        }
    }

    /// Every term: the sections, then the tags, then the authors.
    pub fn iter(&self) -> impl Iterator<Item = Term<'_>> {
        TermKind::ALL
            .into_iter()
            .flat_map(|kind| self.of(kind).iter().map(move |c| Term::new(kind, c)))
    }
}

/// The path of an archive page, without the format's extension.
pub fn archive_stem(number: u64) -> String {
    format!("/archive/{number}")
}

/// The path of page `number` of a paged HTML listing, newest entries on page 1: the
/// site's (`term` is `None`: `/`, then `/page/2/`…) or a term's (`/categories/{slug}/`,
/// `/tags/{slug}/`, `/authors/{slug}/`, then `…/page/2/`…). Every page but the index
/// ends in `/`, so that a static export can write it as `{path}index.html`.
pub fn listing_path(term: Option<(TermKind, &str)>, number: u64) -> String {
    let base = match term {
        None => String::from("/"),
        Some((kind, slug)) => format!("{}/", term_stem(kind, slug)),
    };
    if number <= 1 {
        base
    } else {
        format!("{base}page/{number}/")
    }
}

/// The listing page a path names, as [`listing_path`] writes it: the term's kind and
/// slug (or `None` for the site's) and the page number. Only the one spelling of each
/// page is recognised (no `/page/1/`, no leading zeros), so that every page has one
/// address; the index, `/`, is the snapshot's and not recognised here.
pub fn parse_listing_path(path: &str) -> Option<(Option<(TermKind, &str)>, u64)> {
    let rest = path.strip_prefix('/')?;
    let term_and_rest = rest.split_once('/').and_then(|(folder, rest)| {
        let kind = TermKind::of_folder(folder)?;
        let (slug, rest) = rest.split_once('/')?;
        Some((kind, slug, rest))
    });
    let (term, rest) = match term_and_rest {
        Some((_, "", _)) => return None,
        Some((kind, slug, rest)) => (Some((kind, slug)), rest),
        // The site's pages (`page/2/`), or nothing.
        None => (None, rest),
    };
    if rest.is_empty() {
        return term.map(|term| (Some(term), 1));
    }
    let digits = rest.strip_prefix("page/")?.strip_suffix('/')?;
    let canonical = !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    let number: u64 = digits.parse().ok().filter(|_| canonical)?;
    (number >= 2).then_some((term, number))
}

/// An entry's HTML page, with its compressed variants.
pub fn entry_document(site: &Site, entry: &Entry) -> Document {
    html::entry_page(site, entry).compressed()
}

/// A page of a listing read from the store, with its compressed variants, dated when it
/// was read (see `publish::Pages`).
pub fn listing_document(site: &Site, listing: &Listing<'_>, read_at: DateTime<Utc>) -> Document {
    Document::new(listing_page(site, listing), HTML_TYPE, read_at).compressed()
}

/// A frozen archive page as served: the stored bytes and variants, cacheable for ever;
/// its HTML view is rendered when a browser asks for it.
pub fn archive_document(page: &ArchivePage) -> Document {
    let format = if page.path.ends_with(".rss") {
        Format::Rss
    } else {
        Format::Atom
    };
    let mut document = Document::xml_feed(page.body.clone(), format, page.last_modified);
    document.gzip = page.gzip.clone().map(Into::into);
    document.brotli = page.brotli.clone().map(Into::into);
    document.caching = Caching::Immutable;
    document.html_view = HtmlView::OnRequest;
    document
}

/// What kind of document of a logical feed this is (RFC 5005).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// The subscription document; links `prev-archive` to the newest full page, if any.
    Subscription { newest_page: Option<u64> },
    /// Full archive page `number`: `fh:archive`, `current`, and its neighbours that
    /// exist when it is frozen. A page must never change once full, so it cannot link to
    /// a successor that fills later: page 1 is frozen together with page 2 and links to
    /// it (`next-archive`); every later page links to the one before (`prev-archive`).
    Page { number: u64 },
    /// A term's feed (a section's, a tag's, an author's): no archives.
    None,
}

/// One feed document's content, whatever its format.
#[derive(Debug, Clone, Copy)]
pub struct FeedDoc<'a> {
    pub title: &'a str,
    pub id: &'a str,
    /// The path without the format's extension: `/feed`, `/categories/tech`.
    pub stem: &'a str,
    /// What a term feed is about; `None` for the main feed and its archive pages.
    pub term: Option<TermKind>,
    /// The subscription document's stem (for `current` links of archive pages).
    pub current_stem: &'a str,
    pub entries: &'a [Entry],
    pub tombstones: &'a [Tombstone],
    pub archive: Archive,
}

impl FeedDoc<'_> {
    pub fn path(&self, format: Format) -> String {
        format!("{}.{}", self.stem, format.extension())
    }

    /// The RFC 5005 links of this document: relation and path, in `format`.
    pub fn history_links(&self, format: Format) -> Vec<(&'static str, String)> {
        let in_format = |stem: &str| format!("{stem}.{}", format.extension());
        match self.archive {
            Archive::Subscription {
                newest_page: Some(page),
            } => vec![("prev-archive", in_format(&archive_stem(page)))],
            Archive::Page { number: 1 } => vec![
                ("current", in_format(self.current_stem)),
                ("next-archive", in_format(&archive_stem(2))),
            ],
            Archive::Page { number } => vec![
                ("current", in_format(self.current_stem)),
                ("prev-archive", in_format(&archive_stem(number - 1))),
            ],
            Archive::Subscription { newest_page: None } | Archive::None => Vec::new(),
        }
    }

    /// The WebSub hubs this document announces: a subscription document's are the
    /// site's; an archive page never changes, so there is nothing to push for it, and a
    /// tag's or author's feed is rendered when asked for, not announced.
    pub fn hubs<'s>(&self, site: &'s Site) -> &'s [String] {
        match (self.archive, self.term) {
            (Archive::Page { .. }, _) => &[],
            // Read on demand (`renderer::term_feed_document`): nothing announces them.
            (_, Some(TermKind::Tag | TermKind::Author)) => &[],
            (Archive::Subscription { .. } | Archive::None, _) => &site.hubs,
        }
    }

    /// The HTTP `Link` header of this document in `format`: each hub, and the document
    /// itself as `self` (WebSub §4).
    pub fn link_header(&self, site: &Site, format: Format) -> String {
        let mut links: Vec<String> = self
            .hubs(site)
            .iter()
            .map(|hub| format!("<{hub}>; rel=\"hub\""))
            .collect();
        links.push(format!("<{}>; rel=\"self\"", site.url(&self.path(format))));
        links.join(", ")
    }

    /// The HTML listing of the same entries, for the feeds that have one: the index for
    /// the main feed, a term's first page for its feed.
    pub fn listing(&self) -> Option<String> {
        match self.archive {
            Archive::Subscription { .. } => Some(listing_path(None, 1)),
            Archive::None => Some(format!("{}/", self.stem)),
            Archive::Page { .. } => None,
        }
    }

    /// The page the feed names as its site (Atom's alternate link, RSS's `link`, JSON
    /// Feed's `home_page_url`): a tag's or an author's listing page, else the front page,
    /// which the main and section feeds have named since they were first served.
    pub fn home(&self) -> String {
        match (self.term, self.listing()) {
            (Some(TermKind::Tag | TermKind::Author), Some(listing)) => listing,
            _ => listing_path(None, 1),
        }
    }

    /// The feed's date: its newest entry update or deletion, never the time of rendering,
    /// so that an unchanged feed renders to the same bytes. An empty feed has the time
    /// the site's database was created (the epoch is an "implausible date" to the W3C
    /// validator, and a new user's first look at an empty folder).
    pub fn updated(&self, site: &Site) -> DateTime<Utc> {
        let entries = self.entries.iter().map(|e| e.updated);
        let deletions = self.tombstones.iter().map(|t| t.deleted);
        entries.chain(deletions).max().unwrap_or(site.created)
    }
}

/// Renders one feed document in one format. The XML formats name the stylesheet that
/// shows them as a page in a browser; feed readers ignore it.
pub fn render_feed(
    site: &Site,
    feed: &FeedDoc<'_>,
    format: Format,
) -> Result<Vec<u8>, RenderError> {
    let stylesheet = || site.local_path(XSL_PATH);
    Ok(match format {
        Format::Rss => with_stylesheet(rss::render(site, feed)?, &stylesheet()),
        Format::Atom => with_stylesheet(atom::render(site, feed)?, &stylesheet()),
        Format::Json => json_feed::render(site, feed)?,
    })
}

/// Puts `<?xml-stylesheet?>` right after the XML declaration the feed crates write.
fn with_stylesheet(xml: Vec<u8>, href: &str) -> Vec<u8> {
    let instruction = format!("\n<?xml-stylesheet type=\"text/xsl\" href=\"{href}\"?>");
    let Some(end) = xml.windows(2).position(|w| w == b"?>").map(|i| i + 2) else {
        return xml;
    };
    let mut out = Vec::with_capacity(xml.len() + instruction.len());
    out.extend_from_slice(&xml[..end]);
    out.extend_from_slice(instruction.as_bytes());
    out.extend_from_slice(&xml[end..]);
    out
}

/// The title of a section's feeds.
pub fn category_title(site: &Site, category: &Category) -> String {
    Term::new(TermKind::Section, category).title(site)
}

/// The `scheme` (Atom) or `domain` (RSS) of the categories that are tags, so that a
/// reader tells them from the section: the address of the tags' folder, `{base}/tags/`.
fn tags_scheme(site: &Site) -> String {
    site.url(&format!("/{}/", TermKind::Tag.folder()))
}

/// Media RSS (<https://www.rssboard.org/media-rss>): an entry's image as `media:content
/// medium="image"` and `media:thumbnail`, which Feedly, Inoreader and NetNewsWire show;
/// in Atom and RSS alike, as jekyll-feed writes it.
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// An entry's image as Media RSS elements, `media:content medium="image"` with its
/// alternative text as `media:description`, and `media:thumbnail`: the value of an
/// extension map's `media` key, in either feed crate's `Extension` (the two have the
/// same fields). `$attr` makes an attribute's value what the crate must be given.
macro_rules! media_extensions {
    ($Extension:ident, $image:expr, $attr:expr) => {{
        let image: &$crate::model::Image = $image;
        let url = || ("url".to_owned(), $attr(&image.url));
        let description = image.alt.as_deref().map(|alt| {
            let (kind, value) = $crate::render::media_text(alt);
            $Extension {
                name: "media:description".into(),
                value: Some(value),
                attrs: BTreeMap::from([("type".to_owned(), kind.to_owned())]),
                ..$Extension::default()
            }
        });
        let mut attrs = BTreeMap::from([url(), ("medium".to_owned(), "image".to_owned())]);
        for (name, size) in [("width", image.width), ("height", image.height)] {
            if let Some(size) = size {
                attrs.insert(name.to_owned(), size.to_string());
            }
        }
        let content = $Extension {
            name: "media:content".into(),
            attrs,
            children: description
                .map(|d| BTreeMap::from([("description".to_owned(), vec![d])]))
                .unwrap_or_default(),
            ..$Extension::default()
        };
        let thumbnail = $Extension {
            name: "media:thumbnail".into(),
            attrs: BTreeMap::from([url()]),
            ..$Extension::default()
        };
        BTreeMap::from([
            ("content".to_owned(), vec![content]),
            ("thumbnail".to_owned(), vec![thumbnail]),
        ])
    }};
}
use media_extensions;

/// A Media RSS text (`media:description`) and its `type`: plain, or escaped HTML when a
/// reader would take the text for HTML (as Atom's and RSS's own texts are written).
fn media_text(text: &str) -> (&'static str, String) {
    if crate::normalize::looks_like_html(text) {
        ("html", crate::normalize::escape_html(text))
    } else {
        ("plain", text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_an_imf_fixdate() {
        let time = DateTime::from_timestamp(784111777, 0).unwrap();
        let document = Document::new(Vec::new(), HTML_TYPE, time);
        assert_eq!(
            &document.last_modified_text[..],
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    fn site(base: &str) -> Site {
        Site {
            base: base.into(),
            title: String::new(),
            description: String::new(),
            author: String::new(),
            language: "en".into(),
            id_namespace: Uuid::nil(),
            feed_size: 1,
            created: DateTime::UNIX_EPOCH,
            hubs: Vec::new(),
            content: FeedContent::Full,
            rights: None,
            authors: BTreeMap::new(),
            podcasts: Podcasts::default(),
            fediverse: None,
        }
    }

    #[test]
    fn local_paths_keep_the_base_path() {
        assert_eq!(site("https://x.org").local_path("/feed.xsl"), "/feed.xsl");
        assert_eq!(
            site("https://x.org/news").local_path("/feed.xsl"),
            "/news/feed.xsl"
        );
        assert_eq!(site("http://127.0.0.1:8080").local_path("/a"), "/a");
    }

    #[test]
    fn listing_paths_have_one_spelling_each() {
        let (section, tag, author) = (TermKind::Section, TermKind::Tag, TermKind::Author);
        for (term, number, path) in [
            (None, 1, "/"),
            (None, 2, "/page/2/"),
            (Some((section, "tech")), 1, "/categories/tech/"),
            (Some((section, "tech")), 12, "/categories/tech/page/12/"),
            (Some((tag, "c")), 1, "/tags/c/"),
            (Some((tag, "c")), 3, "/tags/c/page/3/"),
            (Some((author, "jane")), 1, "/authors/jane/"),
            (Some((author, "jane")), 2, "/authors/jane/page/2/"),
        ] {
            assert_eq!(listing_path(term, number), path);
            if path != "/" {
                assert_eq!(parse_listing_path(path), Some((term, number)), "{path}");
            }
        }
        for other in [
            "/",
            "/page/1/",
            "/page/01/",
            "/page/2",
            "/page/x/",
            "/page/+2/",
            "/page//",
            "/categories/",
            "/categories//",
            "/categories/tech",
            "/categories/tech.atom",
            "/categories/tech/page/1/",
            "/categories/tech/other/",
            "/tags/",
            "/tags//",
            "/tags/c",
            "/tags/c.rss",
            "/tags/c/page/1/",
            "/authors/",
            "/authors/jane/page/02/",
            "/feed.atom",
            "/entries/a/",
        ] {
            assert_eq!(parse_listing_path(other), None, "{other}");
        }
    }

    #[test]
    fn term_feed_paths_name_their_kind_and_slug() {
        for kind in TermKind::ALL {
            for format in Format::ALL {
                let path = format!("{}.{}", term_stem(kind, "c-2"), format.extension());
                assert_eq!(parse_term_feed_path(&path), Some((kind, "c-2")), "{path}");
            }
        }
        for other in [
            "/feed.atom",
            "/archive/1.atom",
            "/tags/.atom",
            "/tags/c/",
            "/tags/c.html",
            "/tags/a/b.atom",
            "/feeds.opml",
        ] {
            assert_eq!(parse_term_feed_path(other), None, "{other}");
        }
    }

    #[test]
    fn terms_are_titled_and_named_by_kind() {
        let mut site = site("https://x.org");
        site.title = "News".into();
        site.authors.insert(
            "jane".into(),
            Person {
                name: "Jane Doe".into(),
                ..Person::default()
            },
        );
        let jane = Category {
            term: "jane".into(),
            slug: "jane".into(),
        };
        let bob = Category {
            term: "Bob".into(),
            slug: "bob".into(),
        };
        let cpp = Category {
            term: "C++".into(),
            slug: "c".into(),
        };
        let author = |c| Term::new(TermKind::Author, c);
        assert_eq!(author(&jane).title(&site), "News — Author: Jane Doe");
        assert_eq!(author(&bob).title(&site), "News — Author: Bob");
        assert_eq!(
            Term::new(TermKind::Tag, &cpp).title(&site),
            "News — Tag: C++"
        );
        assert_eq!(
            Term::new(TermKind::Section, &cpp).title(&site),
            "News — C++"
        );
        // Each kind has its own feed id; a section's is the one it always had.
        let ids: Vec<String> = TermKind::ALL
            .iter()
            .map(|kind| Term::new(*kind, &cpp).feed_id(&site))
            .collect();
        assert_eq!(ids[0], site.feed_id("category:c"));
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    }

    #[test]
    fn the_stylesheet_follows_the_declaration() {
        let xml = with_stylesheet(b"<?xml version=\"1.0\"?><rss/>".to_vec(), "/feed.xsl");
        assert_eq!(
            String::from_utf8(xml).unwrap(),
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"/feed.xsl\"?><rss/>"
        );
    }
}
