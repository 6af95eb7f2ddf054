//! Entries to documents: pure writers of every document the server serves, and the
//! [`Snapshot`] of the ones readers poll. Knows nothing of SQLite or HTTP: entries and
//! tombstones in, bytes out.
//!
//! The documents: the main feeds and one feed per section in RSS 2.0, Atom 1.0 and JSON
//! Feed 1.1; RFC 5005 archive pages (rendered once, when full, then kept as bytes by the
//! store); an HTML page per entry; paged HTML listings of the entries, the site's (the
//! index, then `/page/{n}/`) and each section's (`/categories/{slug}/`); an HTML view of
//! every feed and archive page, for browsers; an HTML 404 page; an OPML list of the
//! feeds; the XSLT stylesheet the XML feeds still name (for the readers and tools that
//! apply it; browsers get the HTML view). Feeds also carry RFC 3229 deltas against their
//! recent earlier versions. The [`Renderer`] keeps what it rendered between snapshots,
//! and compresses each new version once.

mod atom;
mod compress;
mod delta;
mod document;
mod feed_view;
mod html;
mod json_feed;
mod listing;
mod opml;
mod renderer;
mod rss;

pub use document::{Caching, Delta, Document, HtmlView, Snapshot, etag_of};
pub use feed_view::{ArchiveView, archive_view};
pub use html::{entry_page, not_found_page};
pub use listing::{Listing, listing_page};
pub use opml::render as opml_list;
pub use renderer::Renderer;

pub use crate::normalize::entry_url;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::FeedContent;
use crate::model::{ArchivePage, Category, Entry, EntryKey, Tombstone};

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
        }
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

/// The path (percent-decoded) the server answers an entry's page at: `/entries/{key}/`.
pub fn entry_path(key: &EntryKey) -> String {
    format!("/entries/{}/", key.as_str())
}

/// The path of a section's feeds, without the format's extension.
pub fn category_stem(slug: &str) -> String {
    format!("/categories/{slug}")
}

/// The path of an archive page, without the format's extension.
pub fn archive_stem(number: u64) -> String {
    format!("/archive/{number}")
}

/// The path of page `number` of a paged HTML listing, newest entries on page 1: the
/// site's (`section` is `None`: `/`, then `/page/2/`…) or a section's
/// (`/categories/{slug}/`, then `/categories/{slug}/page/2/`…). Every page but the index
/// ends in `/`, so that a static export can write it as `{path}index.html`.
pub fn listing_path(section: Option<&str>, number: u64) -> String {
    let base = match section {
        None => String::from("/"),
        Some(slug) => format!("{}/", category_stem(slug)),
    };
    if number <= 1 {
        base
    } else {
        format!("{base}page/{number}/")
    }
}

/// The listing page a path names, as [`listing_path`] writes it: the section's slug (or
/// `None` for the site's) and the page number. Only the one spelling of each page is
/// recognised (no `/page/1/`, no leading zeros), so that every page has one address;
/// the index, `/`, is the snapshot's and not recognised here.
pub fn parse_listing_path(path: &str) -> Option<(Option<&str>, u64)> {
    let (section, rest) = match path.strip_prefix("/categories/") {
        Some(rest) => {
            let (slug, rest) = rest.split_once('/')?;
            if slug.is_empty() {
                return None;
            }
            (Some(slug), rest)
        }
        None => (None, path.strip_prefix('/')?),
    };
    if rest.is_empty() {
        return section.map(|slug| (Some(slug), 1));
    }
    let digits = rest.strip_prefix("page/")?.strip_suffix('/')?;
    let canonical = !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    let number: u64 = digits.parse().ok().filter(|_| canonical)?;
    (number >= 2).then_some((section, number))
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
    /// A section's feed: no archives.
    None,
}

/// One feed document's content, whatever its format.
#[derive(Debug, Clone, Copy)]
pub struct FeedDoc<'a> {
    pub title: &'a str,
    pub id: &'a str,
    /// The path without the format's extension: `/feed`, `/categories/tech`.
    pub stem: &'a str,
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
    /// site's; an archive page never changes, so there is nothing to push for it.
    pub fn hubs<'s>(&self, site: &'s Site) -> &'s [String] {
        match self.archive {
            Archive::Page { .. } => &[],
            Archive::Subscription { .. } | Archive::None => &site.hubs,
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
    /// the main feed, a section's first page for its feed.
    pub fn listing(&self) -> Option<String> {
        match self.archive {
            Archive::Subscription { .. } => Some(listing_path(None, 1)),
            Archive::None => Some(format!("{}/", self.stem)),
            Archive::Page { .. } => None,
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
    format!("{} — {}", site.title, category.term)
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
        for (section, number, path) in [
            (None, 1, "/"),
            (None, 2, "/page/2/"),
            (Some("tech"), 1, "/categories/tech/"),
            (Some("tech"), 12, "/categories/tech/page/12/"),
        ] {
            assert_eq!(listing_path(section, number), path);
            if path != "/" {
                assert_eq!(parse_listing_path(path), Some((section, number)), "{path}");
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
            "/feed.atom",
            "/entries/a/",
        ] {
            assert_eq!(parse_listing_path(other), None, "{other}");
        }
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
