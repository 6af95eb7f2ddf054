//! The HTML pages: the index (latest entries, the sections, and `<link rel="alternate">`
//! for every feed so readers find them from the site URL) and one page per entry (the
//! feeds' `link`). Small, semantic, escaped; each with `lang`, a canonical link and Open
//! Graph title and description.

use chrono::{DateTime, Utc};

use super::{Document, Format, HTML_TYPE, MAIN_STEM, Site, category_stem, category_title};
use crate::model::{Category, Entry};
use crate::normalize::escape_html;

const STYLE: &str = "body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}\
a{color:#0645ad}header p,.meta,footer{color:#666;font-size:.9rem}article{margin:0 0 1.6rem}h1{line-height:1.2}\
main h2{font-size:1.25rem;line-height:1.3;margin:0 0 .2rem}.meta{margin:0 0 .4rem}\
nav ul{list-style:none;padding:0}nav li{display:inline;margin-right:.8rem}";

/// The index lists at most this many sections in its head (every one is in the OPML).
const MAX_DISCOVERY_SECTIONS: usize = 200;

pub fn index_page(site: &Site, latest: &[Entry], categories: &[Category]) -> Vec<u8> {
    let mut body = format!(
        "<header><h1>{}</h1><p>{}</p>{}</header>\n<main>\n",
        escape_html(&site.title),
        escape_html(&site.description),
        subscribe_line(site, MAIN_STEM),
    );
    if latest.is_empty() {
        body.push_str("<p>No articles yet.</p>\n");
    }
    for entry in latest {
        let draft = &entry.draft;
        body.push_str(&format!(
            "<article><h2><a href=\"{}\">{}</a></h2><p class=\"meta\">{}{}</p><p>{}</p></article>\n",
            escape_html(&site.entry_url(&draft.key)),
            escape_html(&draft.title),
            time_tag(entry.published),
            section_suffix(entry),
            escape_html(&draft.summary),
        ));
    }
    body.push_str("</main>\n");
    if !categories.is_empty() {
        body.push_str("<nav><h2>Sections</h2><ul>\n");
        for category in categories {
            body.push_str(&format!(
                "<li>{} <a href=\"{}\">Atom</a> <a href=\"{}\">RSS</a> <a href=\"{}\">JSON</a></li>\n",
                escape_html(&category.term),
                escape_html(&site.url(&format!("{}.atom", category_stem(&category.slug)))),
                escape_html(&site.url(&format!("{}.rss", category_stem(&category.slug)))),
                escape_html(&site.url(&format!("{}.json", category_stem(&category.slug)))),
            ));
        }
        body.push_str("</ul></nav>\n");
    }
    body.push_str(&format!(
        "<footer><p>All feeds: <a href=\"{}\">OPML</a></p></footer>\n",
        escape_html(&site.url("/feeds.opml"))
    ));
    let mut head = feed_links(site, &site.title, MAIN_STEM);
    for category in categories.iter().take(MAX_DISCOVERY_SECTIONS) {
        head.push_str(&feed_links(
            site,
            &category_title(site, category),
            &category_stem(&category.slug),
        ));
    }
    page(
        site,
        &PageHead {
            title: &site.title,
            description: &site.description,
            canonical: &site.url("/"),
            kind: "website",
            links: &head,
        },
        &body,
    )
}

pub fn entry_page(site: &Site, entry: &Entry) -> Document {
    let draft = &entry.draft;
    let updated = if entry.updated > entry.published {
        format!(" · updated {}", time_tag(entry.updated))
    } else {
        String::new()
    };
    let body = format!(
        "<header><p><a href=\"{}\">{}</a></p></header>\n<main><article>\n<h1>{}</h1>\n<p class=\"meta\">{}{}{}</p>\n{}\n</article></main>\n<footer>{}</footer>\n",
        escape_html(&site.url("/")),
        escape_html(&site.title),
        escape_html(&draft.title),
        time_tag(entry.published),
        updated,
        section_suffix(entry),
        draft.content_html,
        subscribe_line(site, MAIN_STEM),
    );
    let title = format!("{} — {}", draft.title, site.title);
    let head = PageHead {
        title: &title,
        description: &draft.summary,
        canonical: &site.entry_url(&draft.key),
        kind: "article",
        links: &feed_links(site, &site.title, MAIN_STEM),
    };
    Document::new(page(site, &head, &body), HTML_TYPE, entry.updated)
}

struct PageHead<'a> {
    title: &'a str,
    description: &'a str,
    canonical: &'a str,
    /// Open Graph type: `website` or `article`.
    kind: &'a str,
    /// `<link rel="alternate">` lines for the feeds.
    links: &'a str,
}

fn page(site: &Site, head: &PageHead<'_>, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <meta name=\"description\" content=\"{description}\">\n\
         <link rel=\"canonical\" href=\"{canonical}\">\n\
         <meta property=\"og:type\" content=\"{kind}\">\n\
         <meta property=\"og:title\" content=\"{title}\">\n\
         <meta property=\"og:description\" content=\"{description}\">\n\
         <meta property=\"og:url\" content=\"{canonical}\">\n\
         <meta property=\"og:site_name\" content=\"{site}\">\n\
         {links}<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang = escape_html(&site.language),
        title = escape_html(head.title),
        description = escape_html(head.description),
        canonical = escape_html(head.canonical),
        kind = head.kind,
        site = escape_html(&site.title),
        links = head.links,
    )
    .into_bytes()
}

/// Autodiscovery (`<link rel="alternate">`) of one feed in every format.
fn feed_links(site: &Site, title: &str, stem: &str) -> String {
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

fn subscribe_line(site: &Site, stem: &str) -> String {
    let links: Vec<String> = Format::ALL
        .iter()
        .map(|format| {
            format!(
                "<a href=\"{}\">{}</a>",
                escape_html(&site.url(&format!("{stem}.{}", format.extension()))),
                format.name()
            )
        })
        .collect();
    format!("<p>Subscribe: {}</p>", links.join(" · "))
}

fn time_tag(time: DateTime<Utc>) -> String {
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
