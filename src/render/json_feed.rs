//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), with serde: every item has its
//! `urn:uuid` id, the page URL, the title, the full HTML, the summary, both dates in
//! RFC 3339, the section as a tag, and the author.
//!
//! When `[feed] content` is `summary`, an item has no `content_html`; the spec wants
//! `content_html` or `content_text` in every item, so the summary, which is plain text,
//! is its `content_text` as well as its `summary`.

use serde::Serialize;

use super::atom::rfc3339_z;
use super::{FeedDoc, Format, RenderError, Site};
use crate::config::FeedContent;
use crate::model::Entry;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    description: &'a str,
    language: &'a str,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item<'a>>,
}

/// A WebSub hub (JSON Feed 1.1 `hubs`).
#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: String,
    url: String,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    summary: &'a str,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    authors: Vec<Author<'a>>,
}

pub fn render(site: &Site, feed: &FeedDoc<'_>) -> Result<Vec<u8>, RenderError> {
    let document = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title,
        home_page_url: site.url("/"),
        feed_url: site.url(&feed.path(Format::Json)),
        description: &site.description,
        language: &site.language,
        authors: vec![Author { name: &site.author }],
        hubs: feed
            .hubs(site)
            .iter()
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        items: feed.entries.iter().map(|entry| item(site, entry)).collect(),
    };
    let mut body = serde_json::to_vec_pretty(&document)?;
    body.push(b'\n');
    Ok(body)
}

fn item<'a>(site: &'a Site, entry: &'a Entry) -> Item<'a> {
    let draft = &entry.draft;
    let full = site.content == FeedContent::Full;
    Item {
        id: draft.id.to_string(),
        url: site.entry_url(&draft.key),
        title: &draft.title,
        content_html: full.then_some(draft.content_html.as_str()),
        content_text: (!full).then_some(draft.summary.as_str()),
        summary: &draft.summary,
        date_published: rfc3339_z(entry.published),
        date_modified: rfc3339_z(entry.updated),
        tags: draft.section.as_deref().into_iter().collect(),
        authors: vec![Author { name: &site.author }],
    }
}
