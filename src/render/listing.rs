//! The paged HTML listings of the entries, newest first, `feed_size` to a page: the
//! site's (the index, `/`, then `/page/2/`, `/page/3/`…) and each section's
//! (`/categories/{slug}/`, then `/categories/{slug}/page/2/`…). Each page links to the
//! newer and the older one, down to the oldest entry. The index is rendered into every
//! snapshot, with the list of sections and `<link rel="alternate">` for every feed so
//! readers find them from the site URL; the other pages are read from the store when
//! asked for (`publish::Pages`).

use super::html::{PageHead, entry_item, feed_links, format_links, page, subscribe_line};
use super::{Format, MAIN_STEM, Site, category_stem, category_title, listing_path};
use crate::model::{Category, Entry};
use crate::normalize::escape_html;

/// The index lists at most this many sections in its head (every one is in the OPML).
const MAX_DISCOVERY_SECTIONS: usize = 200;

/// One page of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    /// The section listed; `None` for every entry of the site.
    pub section: Option<&'a Category>,
    /// The page: 1 is the newest.
    pub number: u64,
    /// The page's entries, newest first.
    pub entries: &'a [Entry],
    /// Whether a page of older entries follows.
    pub has_older: bool,
    /// The sections the page lists, with links to their pages and feeds: the index's.
    pub sections: &'a [Category],
}

impl Listing<'_> {
    fn slug(&self) -> Option<&str> {
        self.section.map(|c| c.slug.as_str())
    }

    fn path(&self, number: u64) -> String {
        listing_path(self.slug(), number)
    }

    /// The stem of the feeds of the same entries.
    fn feed_stem(&self) -> String {
        match self.section {
            Some(category) => category_stem(&category.slug),
            None => MAIN_STEM.to_owned(),
        }
    }

    /// The page's title, and the line under its heading.
    fn title_and_line(&self, site: &Site) -> (String, String) {
        let page = if self.number > 1 {
            format!(" — page {}", self.number)
        } else {
            String::new()
        };
        match self.section {
            None if self.number <= 1 => (site.title.clone(), site.description.clone()),
            None => (
                format!("{}{page}", site.title),
                format!("Page {} of all the articles, newest first.", self.number),
            ),
            Some(category) if self.number <= 1 => (
                category_title(site, category),
                format!("Articles in {}, newest first.", category.term),
            ),
            Some(category) => (
                format!("{}{page}", category_title(site, category)),
                format!(
                    "Page {} of the articles in {}, newest first.",
                    self.number, category.term
                ),
            ),
        }
    }
}

/// A listing page's bytes.
pub fn listing_page(site: &Site, listing: &Listing<'_>) -> Vec<u8> {
    let (title, line) = listing.title_and_line(site);
    let stem = listing.feed_stem();
    let home = listing.section.is_some() || listing.number > 1;
    let mut body = String::from("<header>");
    if home {
        body.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape_html(&site.url(&listing_path(None, 1))),
            escape_html(&site.title)
        ));
    }
    let heading = match listing.section {
        Some(category) => &category.term,
        None => &site.title,
    };
    body.push_str(&format!(
        "<h1>{}</h1><p>{}</p>{}</header>\n<main>\n",
        escape_html(heading),
        escape_html(&line),
        subscribe_line(site, &stem),
    ));
    if listing.entries.is_empty() {
        body.push_str("<p>No articles yet.</p>\n");
    }
    for entry in listing.entries {
        body.push_str(&entry_item(site, entry));
    }
    body.push_str("</main>\n");
    body.push_str(&page_links(site, listing));
    body.push_str(&sections(site, listing.sections));
    body.push_str(&format!(
        "<footer><p>All feeds: <a href=\"{}\">OPML</a></p></footer>\n",
        escape_html(&site.url("/feeds.opml"))
    ));
    let feed_title = match listing.section {
        Some(category) => category_title(site, category),
        None => site.title.clone(),
    };
    let mut head = feed_links(site, &feed_title, &stem);
    for category in listing.sections.iter().take(MAX_DISCOVERY_SECTIONS) {
        head.push_str(&feed_links(
            site,
            &category_title(site, category),
            &category_stem(&category.slug),
        ));
    }
    for (rel, number) in neighbours(listing) {
        head.push_str(&format!(
            "<link rel=\"{rel}\" href=\"{}\">\n",
            escape_html(&site.url(&listing.path(number)))
        ));
    }
    let description = if listing.number > 1 || listing.section.is_some() {
        &line
    } else {
        &site.description
    };
    let head = PageHead {
        title: &title,
        description,
        canonical: Some(&site.url(&listing.path(listing.number))),
        kind: "website",
        links: &head,
        style: "",
    };
    page(site, &head, &body)
}

/// The pages next to this one: `prev` the newer, `next` the older (HTML's relations for
/// a series of pages).
fn neighbours(listing: &Listing<'_>) -> Vec<(&'static str, u64)> {
    let mut out = Vec::with_capacity(2);
    if listing.number > 1 {
        out.push(("prev", listing.number - 1));
    }
    if listing.has_older {
        out.push(("next", listing.number.saturating_add(1)));
    }
    out
}

/// The links to the newer and older pages, around the page's number, when there are any.
fn page_links(site: &Site, listing: &Listing<'_>) -> String {
    let around = neighbours(listing);
    if around.is_empty() {
        return String::new();
    }
    let mut parts = Vec::with_capacity(3);
    for (rel, number) in around {
        let link = |label: &str| {
            format!(
                "<a rel=\"{rel}\" href=\"{}\">{label}</a>",
                escape_html(&site.url(&listing.path(number)))
            )
        };
        if rel == "prev" {
            parts.push(link("← Newer articles"));
            parts.push(format!("page {}", listing.number));
        } else {
            if parts.is_empty() {
                parts.push(format!("page {}", listing.number));
            }
            parts.push(link("Older articles →"));
        }
    }
    format!("<nav class=\"pages\"><p>{}</p></nav>\n", parts.join(" · "))
}

/// The list of sections: each one's page, and its feeds.
fn sections(site: &Site, categories: &[Category]) -> String {
    if categories.is_empty() {
        return String::new();
    }
    let mut out = String::from("<nav><h2>Sections</h2><ul>\n");
    for category in categories {
        let stem = category_stem(&category.slug);
        let feeds = format_links(site, &stem, &[Format::Atom, Format::Rss, Format::Json]);
        out.push_str(&format!(
            "<li><a href=\"{}\">{}</a> ({feeds})</li>\n",
            escape_html(&site.url(&listing_path(Some(&category.slug), 1))),
            escape_html(&category.term),
        ));
    }
    out.push_str("</ul></nav>\n");
    out
}
