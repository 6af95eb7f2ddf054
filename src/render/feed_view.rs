//! What a browser is shown at a feed's address: an HTML page about the feed (what a feed
//! is, the address to copy into a feed reader, the entries it carries, its other formats
//! and the HTML listing of the same entries), and the same for an RFC 5005 archive page
//! (which page of the history it is, the dates it spans, its neighbours). No script and
//! no XSLT, which browsers are removing. Feed readers are sent the feed itself: the HTTP
//! layer chooses on `Accept`.

use chrono::{DateTime, Utc};

use super::html::{NOTE_STYLE, PageHead, entry_item, feed_links, format_links, page, time_tag};
use super::{
    Archive, Document, FeedDoc, Format, HTML_TYPE, MAIN_STEM, Site, archive_stem, listing_path,
};
use crate::model::Entry;
use crate::normalize::escape_html;

/// The view of a feed in one format, dated like the feed.
pub fn feed_view(site: &Site, feed: &FeedDoc<'_>, format: Format) -> Document {
    let url = site.url(&feed.path(format));
    let others: Vec<Format> = Format::ALL.into_iter().filter(|f| *f != format).collect();
    let mut body = format!(
        "<header><p><a href=\"{home}\">{site}</a></p>\n{note}\n<h1>{title}</h1>\n",
        home = escape_html(&site.url(&listing_path(None, 1))),
        site = escape_html(&site.title),
        note = note(
            &format!(
                "This is a web feed, in {}: a list of a site's newest articles that a feed \
                 reader checks for you, so that new ones come to you. To follow it, copy its \
                 address into your feed reader:",
                format.name()
            ),
            &url
        ),
        title = escape_html(feed.title),
    );
    if let Archive::Subscription { .. } = feed.archive {
        body.push_str(&format!("<p>{}</p>\n", escape_html(&site.description)));
    }
    body.push_str(&format!(
        "<p>The same feed as {}.",
        format_links(site, feed.stem, &others)
    ));
    if let Some(listing) = feed.listing() {
        body.push_str(&format!(
            " These articles on the site: <a href=\"{}\">{}</a>.",
            escape_html(&site.url(&listing)),
            escape_html(feed.title)
        ));
    }
    body.push_str("</p></header>\n");
    body.push_str(&entries(site, feed.entries));
    if let Archive::Subscription {
        newest_page: Some(newest),
    } = feed.archive
    {
        let path = format!(
            "{}.{}",
            archive_stem(newest),
            archive_format(format).extension()
        );
        body.push_str(&format!(
            "<footer><p>Older articles are in the feed's archive, from <a href=\"{}\">page {newest}</a> back to page 1.</p></footer>\n",
            escape_html(&site.url(&path))
        ));
    }
    let title = format!("{} ({} feed)", feed.title, format.name());
    let head = PageHead {
        title: &title,
        description: &format!("A web feed of {}, to follow in a feed reader.", feed.title),
        canonical: Some(&url),
        kind: "website",
        links: &feed_links(site, feed.title, feed.stem),
        style: NOTE_STYLE,
        activity: None,
    };
    Document::new(page(site, &head, &body), HTML_TYPE, feed.updated(site))
}

/// One archive page, as a browser is shown it.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveView<'a> {
    pub number: u64,
    /// The newest frozen page: this page's successor exists up to it.
    pub newest: u64,
    /// RSS or Atom, the format of the page asked for.
    pub format: Format,
    /// The page's entries that are still published, oldest first.
    pub entries: &'a [Entry],
}

/// The view of a frozen archive page. It shows the entries as they are now (an edited
/// title, a deleted entry), where the page itself never changes; it is dated
/// `last_modified`, when it was read.
pub fn archive_view(site: &Site, view: &ArchiveView<'_>, last_modified: DateTime<Utc>) -> Document {
    let number = view.number;
    let format = archive_format(view.format);
    let stem = archive_stem(number);
    let url = site.url(&format!("{stem}.{}", format.extension()));
    let span = match span(view.entries) {
        Some((from, to)) => format!(
            "This page holds the articles first published from {} to {}, oldest first.",
            time_tag(from),
            time_tag(to)
        ),
        None => "Every article of this page has since been taken down.".to_owned(),
    };
    let explanation = format!(
        "This is page {number} of the archive of the web feed of {}, in {}. Feed readers \
         read the archive to fetch the articles that have left the feed: page 1 holds the \
         oldest, and each page after it the ones that followed.",
        site.title,
        format.name()
    );
    let title = format!("{}: archive page {number}", site.title);
    let mut body = format!(
        "<header><p><a href=\"{home}\">{site}</a></p>\n{note}\n<h1>{title}</h1>\n<p>{span}</p>\n",
        home = escape_html(&site.url(&listing_path(None, 1))),
        site = escape_html(&site.title),
        note = note(&explanation, &url),
        title = escape_html(&title),
    );
    let other = match format {
        Format::Rss => Format::Atom,
        Format::Atom | Format::Json => Format::Rss,
    };
    body.push_str(&format!(
        "<p>The same page as {}.</p></header>\n",
        format_links(site, &stem, &[other])
    ));
    body.push_str(&entries(site, view.entries));
    body.push_str(&archive_links(site, view, format));
    let head = PageHead {
        title: &title,
        description: &explanation,
        canonical: Some(&url),
        kind: "website",
        links: "",
        style: NOTE_STYLE,
        activity: None,
    };
    Document::new(page(site, &head, &body), HTML_TYPE, last_modified)
}

/// The note that says what the page is, with the address to copy.
fn note(text: &str, url: &str) -> String {
    format!(
        "<p class=\"note\">{}<br><code>{}</code></p>",
        escape_html(text),
        escape_html(url)
    )
}

fn entries(site: &Site, entries: &[Entry]) -> String {
    let mut out = String::from("<main>\n");
    if entries.is_empty() {
        out.push_str("<p>No articles here.</p>\n");
    }
    for entry in entries {
        out.push_str(&entry_item(site, entry));
    }
    out.push_str("</main>\n");
    out
}

/// An archive page's neighbours: the older page, the newer one, the current feed, and
/// the site.
fn archive_links(site: &Site, view: &ArchiveView<'_>, format: Format) -> String {
    let in_format = |stem: &str| escape_html(&site.url(&format!("{stem}.{}", format.extension())));
    let mut links = Vec::with_capacity(3);
    if view.number > 1 {
        links.push(format!(
            "<a rel=\"prev\" href=\"{}\">← Page {} (older)</a>",
            in_format(&archive_stem(view.number - 1)),
            view.number - 1
        ));
    }
    if view.number < view.newest {
        links.push(format!(
            "<a rel=\"next\" href=\"{}\">Page {} (newer) →</a>",
            in_format(&archive_stem(view.number + 1)),
            view.number + 1
        ));
    }
    links.push(format!(
        "<a href=\"{}\">The current feed</a>",
        in_format(MAIN_STEM)
    ));
    links.push(format!(
        "<a href=\"{}\">The site</a>",
        escape_html(&site.url(&listing_path(None, 1)))
    ));
    format!("<nav class=\"pages\"><p>{}</p></nav>\n", links.join(" · "))
}

/// The earliest and latest publication dates among `entries`.
fn span(entries: &[Entry]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let dates = entries.iter().map(|e| e.published);
    Some((dates.clone().min()?, dates.max()?))
}

/// Archive pages are RSS and Atom: a JSON Feed's view links to the Atom ones.
fn archive_format(format: Format) -> Format {
    match format {
        Format::Json => Format::Atom,
        Format::Rss | Format::Atom => format,
    }
}
