//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), with serde: every item has its
//! id, the page URL, the title, the full HTML, the summary, both dates in RFC 3339, the
//! section and the tags as `tags`, and its authors (name, and `url` from the page a
//! person has; the feed's author when the article names none). From the front matter
//! too: the image (as `image` and `banner_image`), a link post's target
//! (`external_url`) and the language (`language`).
//!
//! When `[feed] content` is `summary`, an item has no `content_html`; the spec wants
//! `content_html` or `content_text` in every item, so the summary, which is plain text,
//! is its `content_text` as well as its `summary`.

use serde::Serialize;

use super::atom::rfc3339_z;
use super::{FeedDoc, Format, RenderError, Site, contact, enclosure_of, image_of, web_url};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// An enclosure, as JSON Feed 1.1 writes one.
#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    size_in_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    external_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    banner_image: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

pub fn render(site: &Site, feed: &FeedDoc<'_>) -> Result<Vec<u8>, RenderError> {
    let document = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title,
        home_page_url: site.url(&feed.home()),
        feed_url: site.url(&feed.path(Format::Json)),
        description: &site.description,
        language: &site.language,
        authors: vec![Author {
            name: &site.author,
            url: None,
        }],
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
    let meta = &draft.meta;
    let full = site.content == FeedContent::Full;
    let image = image_of(entry).map(|image| image.url.as_str());
    let tags = meta.tags.iter().map(|tag| tag.term.as_str());
    let authors = meta.authors.iter().map(|author| {
        let person = site.resolve_author(&author.person);
        Author {
            name: &person.name,
            url: contact(person).1,
        }
    });
    let authors = match authors.collect::<Vec<_>>() {
        none if none.is_empty() => vec![Author {
            name: &site.author,
            url: None,
        }],
        some => some,
    };
    Item {
        id: draft.id.to_string(),
        url: site.entry_url(&draft.key),
        title: &draft.title,
        content_html: full.then_some(draft.content_html.as_str()),
        content_text: (!full).then_some(draft.summary.as_str()),
        summary: &draft.summary,
        external_url: meta.external_url.as_deref().and_then(web_url),
        image,
        banner_image: image,
        attachments: enclosure_of(entry)
            .map(|enclosure| Attachment {
                url: &enclosure.url,
                mime_type: &enclosure.media_type,
                size_in_bytes: enclosure.length,
                duration_in_seconds: enclosure.duration_secs,
            })
            .into_iter()
            .collect(),
        date_published: rfc3339_z(entry.published),
        date_modified: rfc3339_z(entry.updated),
        tags: draft
            .section
            .as_deref()
            .into_iter()
            .chain(tags)
            .fold(Vec::new(), |mut tags, tag| {
                // A tag named as the section is one tag.
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
                tags
            }),
        authors,
        language: meta.lang.as_deref(),
    }
}
