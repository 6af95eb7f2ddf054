//! `/feeds.opml`: every feed (the main one, each section's, and each tag's and author's
//! in an outline of their own) as OPML 2.0, so a reader can subscribe to all of them in
//! one import, the tags and authors in a folder each. Atom is listed; it is the richest
//! format.
//!
//! OPML 2.0's `text` may hold HTML: a title that a reader would take for markup (`Tag:
//! <b>`) is written as escaped HTML, so that it shows as its characters.

use chrono::{DateTime, Utc};

use super::{MAIN_STEM, Site, Term, TermKind, Terms, listing_path};
use crate::normalize::{escape_html, looks_like_html};

pub fn render(site: &Site, terms: &Terms, updated: DateTime<Utc>) -> Vec<u8> {
    let outline = |title: &str, stem: &str, home: &str| {
        let title = if title.contains('<') || looks_like_html(title) {
            escape_html(&escape_html(title))
        } else {
            escape_html(title)
        };
        format!(
            "<outline type=\"rss\" version=\"RSS\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{xml}\" htmlUrl=\"{html}\"/>",
            xml = escape_html(&site.url(&format!("{stem}.atom"))),
            html = escape_html(&site.url(home)),
        )
    };
    let front = listing_path(None, 1);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head>\n\
         <title>{}</title>\n<dateModified>{}</dateModified>\n<ownerName>{}</ownerName>\n\
         </head>\n<body>\n{}\n",
        escape_html(&site.title),
        updated.to_rfc2822(),
        escape_html(&site.author),
        outline(&site.title, MAIN_STEM, &front),
    );
    // The sections' feeds name the front page as their site (see `FeedDoc::home`).
    for category in &terms.sections {
        let term = Term::new(TermKind::Section, category);
        out.push_str(&outline(&term.title(site), &term.stem(), &front));
        out.push('\n');
    }
    for kind in [TermKind::Tag, TermKind::Author] {
        if terms.of(kind).is_empty() {
            continue;
        }
        // A folder: only `text`, which is all OPML 2.0 asks of an outline without a type.
        out.push_str(&format!("<outline text=\"{}\">\n", kind.heading()));
        for category in terms.of(kind) {
            let term = Term::new(kind, category);
            let home = listing_path(Some((kind, term.slug())), 1);
            out.push_str(&outline(&term.title(site), &term.stem(), &home));
            out.push('\n');
        }
        out.push_str("</outline>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}
