//! `/feeds.opml`: every feed (the main one and each section's) as OPML 2.0, so a reader
//! can subscribe to all of them in one import. Atom is listed; it is the richest format.

use chrono::{DateTime, Utc};

use super::{MAIN_STEM, Site, category_stem, category_title};
use crate::model::Category;
use crate::normalize::escape_html;

pub fn render(site: &Site, categories: &[Category], updated: DateTime<Utc>) -> Vec<u8> {
    let outline = |title: &str, stem: &str| {
        format!(
            "<outline type=\"rss\" version=\"RSS\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{xml}\" htmlUrl=\"{html}\"/>",
            title = escape_html(title),
            xml = escape_html(&site.url(&format!("{stem}.atom"))),
            html = escape_html(&site.url("/")),
        )
    };
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head>\n\
         <title>{}</title>\n<dateModified>{}</dateModified>\n<ownerName>{}</ownerName>\n\
         </head>\n<body>\n{}\n",
        escape_html(&site.title),
        updated.to_rfc2822(),
        escape_html(&site.author),
        outline(&site.title, MAIN_STEM),
    );
    for category in categories {
        out.push_str(&outline(
            &category_title(site, category),
            &category_stem(&category.slug),
        ));
        out.push('\n');
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}
