//! The two HTML pages: the index (latest entries, with `<link rel="alternate">` so readers
//! find the feeds from the site URL) and one page per entry (the feeds' `link`). All text
//! is escaped; entry bodies are the already-escaped `content_html`.

use chrono::{DateTime, Utc};

use super::{ATOM_PATH, Document, HTML_TYPE, RSS_PATH, Site};
use crate::model::Entry;
use crate::normalize::escape_html;

const STYLE: &str = "body{font:1.05rem/1.55 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}\
a{color:#0645ad}header p,.meta{color:#666;font-size:.9rem}article{margin:0 0 2rem}h1{line-height:1.2}";

pub fn index_page(site: &Site, latest: &[Entry]) -> Vec<u8> {
    let mut body = String::new();
    body.push_str(&format!(
        "<header><h1>{}</h1><p>{} · Subscribe: <a href=\"{}\">Atom</a> · <a href=\"{}\">RSS</a></p></header>\n<main>\n",
        escape_html(&site.title),
        escape_html(&site.description),
        escape_html(&site.url(ATOM_PATH)),
        escape_html(&site.url(RSS_PATH)),
    ));
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
    page(site, &site.title, &body)
}

pub fn entry_page(site: &Site, entry: &Entry) -> Document {
    let draft = &entry.draft;
    let updated = if entry.updated > entry.published {
        format!(" · updated {}", time_tag(entry.updated))
    } else {
        String::new()
    };
    let body = format!(
        "<header><p><a href=\"{}\">{}</a></p></header>\n<main><article>\n<h1>{}</h1>\n<p class=\"meta\">{}{}{}</p>\n{}</article></main>\n",
        escape_html(&site.url("/")),
        escape_html(&site.title),
        escape_html(&draft.title),
        time_tag(entry.published),
        updated,
        section_suffix(entry),
        draft.content_html,
    );
    let title = format!("{} — {}", draft.title, site.title);
    Document::new(page(site, &title, &body), HTML_TYPE, entry.updated)
}

fn page(site: &Site, title: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" title=\"{site} (Atom)\" href=\"{atom}\">\n\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"{site} (RSS)\" href=\"{rss}\">\n\
         <style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang = escape_html(&site.language),
        title = escape_html(title),
        site = escape_html(&site.title),
        atom = escape_html(&site.url(ATOM_PATH)),
        rss = escape_html(&site.url(RSS_PATH)),
    )
    .into_bytes()
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
