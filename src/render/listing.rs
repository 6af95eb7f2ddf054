//! The paged HTML listings of the entries, newest first, `feed_size` to a page: the
//! site's (the index, `/`, then `/page/2/`, `/page/3/`…) and each section's, tag's and
//! author's (`/categories/{slug}/`, `/tags/{slug}/`, `/authors/{slug}/`, then
//! `…/page/2/`…). Each page links to the newer and the older one, down to the oldest
//! entry. The index is rendered into every snapshot, with the lists of sections, tags and
//! authors and `<link rel="alternate">` for the feeds so readers find them from the site
//! URL; the other pages are read from the store when asked for (`publish::Pages`).

use super::html::{PageHead, entry_item, feed_links, format_links, page, subscribe_line};
use super::{Format, MAIN_STEM, Site, Term, TermKind, Terms, listing_path};
use crate::model::Entry;
use crate::normalize::escape_html;

/// The index names at most this many term feeds in its head, the sections' first (every
/// one is in the OPML list).
const MAX_DISCOVERY_SECTIONS: usize = 200;

/// The index lists at most this many tags, and as many authors (every one is in the
/// OPML list): a site may have thousands.
const MAX_LISTED_TERMS: usize = 200;

/// One page of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    /// The section, tag or author listed; `None` for every entry of the site.
    pub term: Option<Term<'a>>,
    /// The page: 1 is the newest.
    pub number: u64,
    /// The page's entries, newest first.
    pub entries: &'a [Entry],
    /// Whether a page of older entries follows.
    pub has_older: bool,
    /// The sections, tags and authors the page lists, with links to their pages and
    /// feeds: the index's ([`Terms::NONE`] for the other pages).
    pub terms: &'a Terms,
}

impl Listing<'_> {
    fn path(&self, number: u64) -> String {
        listing_path(self.term.map(|t| (t.kind, t.slug())), number)
    }

    /// The stem of the feeds of the same entries.
    fn feed_stem(&self) -> String {
        match self.term {
            Some(term) => term.stem(),
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
        match self.term {
            None if self.number <= 1 => (site.title.clone(), site.description.clone()),
            None => (
                format!("{}{page}", site.title),
                format!("Page {} of all the articles, newest first.", self.number),
            ),
            Some(term) if self.number <= 1 => (
                term.title(site),
                format!("Articles {}, newest first.", term.which(site)),
            ),
            Some(term) => (
                format!("{}{page}", term.title(site)),
                format!(
                    "Page {} of the articles {}, newest first.",
                    self.number,
                    term.which(site)
                ),
            ),
        }
    }
}

/// A listing page's bytes.
pub fn listing_page(site: &Site, listing: &Listing<'_>) -> Vec<u8> {
    let (title, line) = listing.title_and_line(site);
    let stem = listing.feed_stem();
    let home = listing.term.is_some() || listing.number > 1;
    let mut body = String::from("<header>");
    if home {
        body.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape_html(&site.url(&listing_path(None, 1))),
            escape_html(&site.title)
        ));
    }
    let heading = match listing.term {
        Some(Term {
            kind: TermKind::Section,
            category,
        }) => category.term.clone(),
        Some(
            term @ Term {
                kind: TermKind::Tag,
                ..
            },
        ) => format!("Tag: {}", term.name(site)),
        Some(
            term @ Term {
                kind: TermKind::Author,
                ..
            },
        ) => term.name(site).to_owned(),
        None => site.title.clone(),
    };
    body.push_str(&format!(
        "<h1>{}</h1><p>{}</p>{}</header>\n<main>\n",
        escape_html(&heading),
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
    for kind in TermKind::ALL {
        body.push_str(&term_list(site, kind, listing.terms.of(kind)));
    }
    body.push_str(&format!(
        "<footer><p>All feeds: <a href=\"{}\">OPML</a></p></footer>\n",
        escape_html(&site.url("/feeds.opml"))
    ));
    let feed_title = match listing.term {
        Some(term) => term.title(site),
        None => site.title.clone(),
    };
    let mut head = feed_links(site, &feed_title, &stem);
    for term in listing.terms.iter().take(MAX_DISCOVERY_SECTIONS) {
        head.push_str(&feed_links(site, &term.title(site), &term.stem()));
    }
    for (rel, number) in neighbours(listing) {
        head.push_str(&format!(
            "<link rel=\"{rel}\" href=\"{}\">\n",
            escape_html(&site.url(&listing.path(number)))
        ));
    }
    let description = if listing.number > 1 || listing.term.is_some() {
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
        // The index stands for the site, whose representation is the actor.
        activity: (!home)
            .then(|| site.fediverse.as_ref().map(|f| f.actor.as_str()))
            .flatten(),
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

/// The list of the sections, tags or authors: each one's page, and its feeds. Every
/// section is listed; tags and authors up to [`MAX_LISTED_TERMS`].
fn term_list(site: &Site, kind: TermKind, categories: &[crate::model::Category]) -> String {
    if categories.is_empty() {
        return String::new();
    }
    let shown = match kind {
        TermKind::Section => categories.len(),
        TermKind::Tag | TermKind::Author => MAX_LISTED_TERMS,
    };
    let mut out = format!("<nav><h2>{}</h2><ul>\n", kind.heading());
    for category in categories.iter().take(shown) {
        let term = Term::new(kind, category);
        let feeds = format_links(
            site,
            &term.stem(),
            &[Format::Atom, Format::Rss, Format::Json],
        );
        out.push_str(&format!(
            "<li><a href=\"{}\">{}</a> ({feeds})</li>\n",
            escape_html(&site.url(&listing_path(Some((kind, term.slug())), 1))),
            escape_html(term.name(site)),
        ));
    }
    if categories.len() > shown {
        out.push_str(&format!(
            "<li>and {} more, in the <a href=\"{}\">list of every feed</a></li>\n",
            categories.len() - shown,
            escape_html(&site.url(super::OPML_PATH)),
        ));
    }
    out.push_str("</ul></nav>\n");
    out
}
