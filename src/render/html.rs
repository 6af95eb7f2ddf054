//! The frame every HTML page shares (head with `lang`, canonical link, Open Graph title
//! and description, the feeds' `<link rel="alternate">`, one small stylesheet, no
//! script), the pieces the pages have in common (an entry in a list, the one date
//! format, the subscribe line), and the simplest pages: one per entry (the feeds' `link`)
//! and the 404 page browsers are shown. The listings are in `listing`, the views of the
//! feeds in `feed_view`.
//!
//! An entry's page shows what its front matter gave: its authors (each linking to their
//! listing, `/authors/{slug}/`), the page a link post points to, its image with its
//! alternative text, its tags (each linking to `/tags/{slug}/`), its comments page, and
//! its language as the article's `lang`. An entry in a list shows its authors.
//!
//! Every text from an article or the settings goes through `escape_html` exactly once,
//! here, so a title such as `<b>bold</b> & co` shows as those characters; a URL from an
//! article is written only when it is an absolute http(s) one ([`web_url`]).

use chrono::{DateTime, Utc};

use super::{
    Document, Format, HTML_TYPE, MAIN_STEM, Site, TermKind, enclosure_of, image_of, listing_path,
    web_url,
};
use crate::model::{Enclosure, Entry, EntryMeta};
use crate::normalize::escape_html;

const STYLE: &str = "body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}\
a{color:#0645ad}header p,.meta,footer{color:#666;font-size:.9rem}article{margin:0 0 1.6rem}h1{line-height:1.2}\
main h2{font-size:1.25rem;line-height:1.3;margin:0 0 .2rem}.meta{margin:0 0 .4rem}\
nav ul{list-style:none;padding:0}nav li{display:inline;margin-right:.8rem}";

/// What the views of the feeds add: the note that says what a feed is, and its address.
/// What an entry page with an image adds: the image fits the column.
const IMAGE_STYLE: &str = "figure{margin:1rem 0}figure img{max-width:100%;height:auto}";

pub(super) const NOTE_STYLE: &str = "header p.note{color:#222;background:#f3f6fb;border:1px solid #d5deea;\
padding:.8rem 1rem;border-radius:6px}code{overflow-wrap:anywhere}";

pub fn entry_page(site: &Site, entry: &Entry) -> Document {
    let draft = &entry.draft;
    let updated = if entry.updated > entry.published {
        format!(" · updated {}", time_tag(entry.updated))
    } else {
        String::new()
    };
    let meta = &draft.meta;
    let lang = meta
        .lang
        .as_deref()
        .map(|lang| format!(" lang=\"{}\"", escape_html(lang)))
        .unwrap_or_default();
    let body = format!(
        "<header><p><a href=\"{}\">{}</a></p></header>\n<main><article{lang}>\n<h1>{}</h1>\n<p class=\"meta\">{}{}{}{}</p>\n{}{}\n{}</article></main>\n<footer>{}</footer>\n",
        escape_html(&site.url("/")),
        escape_html(&site.title),
        escape_html(&draft.title),
        time_tag(entry.published),
        updated,
        section_suffix(entry),
        authors_suffix(site, meta, true),
        before_content(entry),
        draft.content_html,
        after_content(site, meta),
        subscribe_line(site, MAIN_STEM),
    );
    let title = format!("{} — {}", draft.title, site.title);
    let url = site.entry_url(&draft.key);
    let head = PageHead {
        title: &title,
        description: &draft.summary,
        canonical: Some(&url),
        activity: Some(&url),
        kind: "article",
        links: &feed_links(site, &site.title, MAIN_STEM),
        style: if image_of(entry).is_some() {
            IMAGE_STYLE
        } else {
            ""
        },
    };
    Document::new(page(site, &head, &body), HTML_TYPE, entry.updated)
}

/// What an entry's page shows above its text: the page a link post points to, and its
/// image with its alternative text (empty when it has none: an image without one is
/// decoration to a screen reader).
fn before_content(entry: &Entry) -> String {
    let meta = &entry.draft.meta;
    let mut out = String::new();
    if let Some(url) = meta.external_url.as_deref().and_then(web_url) {
        let url = escape_html(url);
        out.push_str(&format!(
            "<p class=\"link\">Link: <a href=\"{url}\">{url}</a></p>\n"
        ));
    }
    if let Some(image) = image_of(entry) {
        let size = |name: &str, value: Option<u32>| {
            value.map_or(String::new(), |value| format!(" {name}=\"{value}\""))
        };
        out.push_str(&format!(
            "<figure><img src=\"{}\" alt=\"{}\"{}{}></figure>\n",
            escape_html(&image.url),
            escape_html(image.alt.as_deref().unwrap_or_default()),
            size("width", image.width),
            size("height", image.height),
        ));
    }
    if let Some(enclosure) = enclosure_of(entry) {
        out.push_str(&enclosure_player(enclosure));
    }
    out
}

/// An enclosure on the entry's page: a player for audio and video (loading nothing
/// until played), and a link to the file with its type and size.
fn enclosure_player(enclosure: &Enclosure) -> String {
    let url = escape_html(&enclosure.url);
    let media_type = escape_html(&enclosure.media_type);
    let player = match enclosure.media_type.split_once('/') {
        Some(("audio", _)) => format!("<audio controls preload=\"none\" src=\"{url}\"></audio>\n"),
        Some(("video", _)) => format!("<video controls preload=\"none\" src=\"{url}\"></video>\n"),
        _ => String::new(),
    };
    let megabytes = enclosure.length as f64 / 1_000_000.0;
    format!(
        "<figure class=\"enclosure\">{player}<figcaption><a href=\"{url}\" type=\"{media_type}\">\
         Download</a> ({media_type}, {megabytes:.1} MB)</figcaption></figure>\n"
    )
}

/// What an entry's page shows below its text: its tags, each linking to its listing,
/// and its comments page.
fn after_content(site: &Site, meta: &EntryMeta) -> String {
    let mut out = String::new();
    if !meta.tags.is_empty() {
        let tags: Vec<String> = meta
            .tags
            .iter()
            .map(|tag| {
                format!(
                    "<a rel=\"tag\" href=\"{}\">{}</a>",
                    escape_html(&site.url(&listing_path(Some((TermKind::Tag, &tag.slug)), 1))),
                    escape_html(&tag.term)
                )
            })
            .collect();
        out.push_str(&format!(
            "<p class=\"meta tags\">Tags: {}</p>\n",
            tags.join(" · ")
        ));
    }
    if let Some(url) = meta.comments.as_deref().and_then(web_url) {
        out.push_str(&format!(
            "<p class=\"meta\"><a href=\"{}\">Comments</a></p>\n",
            escape_html(url)
        ));
    }
    out
}

/// ` · by Jane Doe, Bob` after an entry's date: its authors as configured or written,
/// each linking to their listing when `linked`; nothing when the article names none.
fn authors_suffix(site: &Site, meta: &EntryMeta, linked: bool) -> String {
    if meta.authors.is_empty() {
        return String::new();
    }
    let names: Vec<String> = meta
        .authors
        .iter()
        .map(|author| {
            let name = escape_html(&site.resolve_author(&author.person).name);
            if linked {
                let listing = listing_path(Some((TermKind::Author, &author.slug)), 1);
                format!(
                    "<a rel=\"author\" href=\"{}\">{name}</a>",
                    escape_html(&site.url(&listing))
                )
            } else {
                name
            }
        })
        .collect();
    format!(" · by {}", names.join(", "))
}

/// The page a browser is shown for an address that names nothing: what happened, and the
/// way home. It depends only on the site, so it is rendered once per site.
pub fn not_found_page(site: &Site) -> Document {
    let body = format!(
        "<header><p><a href=\"{home}\">{site}</a></p></header>\n<main>\n<h1>Page not found</h1>\n\
         <p>Nothing is published at this address. It may have been mistyped, or the article \
         may have been taken down.</p>\n<p><a href=\"{home}\">Go to the front page</a></p>\n</main>\n",
        home = escape_html(&site.url(&listing_path(None, 1))),
        site = escape_html(&site.title),
    );
    let head = PageHead {
        title: &format!("Page not found — {}", site.title),
        description: "",
        canonical: None,
        kind: "website",
        links: "",
        style: "",
        activity: None,
    };
    Document::new(page(site, &head, &body), HTML_TYPE, DateTime::UNIX_EPOCH)
}

pub(super) struct PageHead<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// The page's own address; `None` for a page that has none (the 404 page).
    pub canonical: Option<&'a str>,
    /// Open Graph type: `website` or `article`.
    pub kind: &'a str,
    /// `<link>` lines: the feeds' autodiscovery, a listing's neighbours.
    pub links: &'a str,
    /// Style rules of this kind of page, after the shared ones.
    pub style: &'a str,
    /// The page's ActivityPub representation (the actor's, or the entry's object), when
    /// the site is on the fediverse.
    pub activity: Option<&'a str>,
}

pub(super) fn page(site: &Site, head: &PageHead<'_>, body: &str) -> Vec<u8> {
    let (canonical, og_url) = head
        .canonical
        .map(|url| {
            let url = escape_html(url);
            (
                format!("<link rel=\"canonical\" href=\"{url}\">\n"),
                format!("<meta property=\"og:url\" content=\"{url}\">\n"),
            )
        })
        .unwrap_or_default();
    let fediverse = fediverse_head(site, head.activity);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <meta name=\"description\" content=\"{description}\">\n\
         {canonical}\
         <meta property=\"og:type\" content=\"{kind}\">\n\
         <meta property=\"og:title\" content=\"{title}\">\n\
         <meta property=\"og:description\" content=\"{description}\">\n\
         {og_url}\
         <meta property=\"og:site_name\" content=\"{site}\">\n\
         {links}{fediverse}<style>{STYLE}{style}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang = escape_html(&site.language),
        title = escape_html(head.title),
        description = escape_html(head.description),
        kind = head.kind,
        site = escape_html(&site.title),
        links = head.links,
        style = head.style,
    )
    .into_bytes()
}

/// What a page's head says of the fediverse account: its ActivityPub representation,
/// and whose work it is (`fediverse:creator`, which Mastodon shows under link previews).
fn fediverse_head(site: &Site, activity: Option<&str>) -> String {
    let Some(links) = &site.fediverse else {
        return String::new();
    };
    let mut head = String::new();
    if let Some(url) = activity {
        head.push_str(&format!(
            "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}\">\n",
            escape_html(url)
        ));
    }
    if let Some(handle) = &links.attribution {
        head.push_str(&format!(
            "<meta name=\"fediverse:creator\" content=\"{}\">\n",
            escape_html(handle)
        ));
    }
    head
}

/// Autodiscovery (`<link rel="alternate">`) of one feed in every format.
pub(super) fn feed_links(site: &Site, title: &str, stem: &str) -> String {
    Format::ALL
        .iter()
        .map(|format| {
            format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
                format.mime(),
                escape_html(title),
                format.name(),
                escape_html(&site.url(&format!("{stem}.{}", format.extension()))),
            )
        })
        .collect()
}

/// Links to a feed in each of `formats`, by format name, joined with ` · `.
pub(super) fn format_links(site: &Site, stem: &str, formats: &[Format]) -> String {
    let links: Vec<String> = formats
        .iter()
        .map(|format| {
            format!(
                "<a href=\"{}\">{}</a>",
                escape_html(&site.url(&format!("{stem}.{}", format.extension()))),
                format.name()
            )
        })
        .collect();
    links.join(" · ")
}

pub(super) fn subscribe_line(site: &Site, stem: &str) -> String {
    format!(
        "<p>Subscribe: {}</p>",
        format_links(site, stem, &Format::ALL)
    )
}

/// An entry in a list of entries: its title linking to its page, its date, section and
/// authors, and its summary.
pub(super) fn entry_item(site: &Site, entry: &Entry) -> String {
    let draft = &entry.draft;
    format!(
        "<article><h2><a href=\"{}\">{}</a></h2><p class=\"meta\">{}{}{}</p><p>{}</p></article>\n",
        escape_html(&site.entry_url(&draft.key)),
        escape_html(&draft.title),
        time_tag(entry.published),
        section_suffix(entry),
        authors_suffix(site, &draft.meta, false),
        escape_html(&draft.summary),
    )
}

/// The one way every page shows a date: `14 November 2023, 22:13 UTC`, machine-readable
/// in its `datetime`.
pub(super) fn time_tag(time: DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        time.format("%-d %B %Y, %H:%M UTC")
    )
}

fn section_suffix(entry: &Entry) -> String {
    entry
        .draft
        .section
        .as_deref()
        .map(|section| format!(" · {}", escape_html(section)))
        .unwrap_or_default()
}
