//! An RSS, Atom or JSON Feed document to the items of an import, read with feed-rs.
//!
//! What each item keeps: its id verbatim (or, without one, the link to its page on the
//! old site, which is what readers knew it by); its dates, authors (the feed's when it
//! names none), categories as tags, summary, image and content. The link to its page on
//! the old site is not a link post and is not kept as `link`; a link post's target is:
//! Atom's `rel="related"` and JSON Feed's `external_url`.

use feed_rs::model::{Entry, Feed, Link, LinkTarget, MediaObject, Person as FeedPerson, Text};

use super::extras::{Extra, extras};
use super::text::{html_to_text, text_to_html};
use super::{Item, Items};
use crate::model::{FrontMatter, Person};

/// The items of a feed document; `base` resolves its relative links.
pub fn feed_items(bytes: &[u8], base: Option<&str>) -> anyhow::Result<Items> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        // No made-up ids: an item without one is told apart below.
        .id_generator(|_, _, _| String::new())
        // Content as the feed has it; the daemon sanitizes what it serves.
        .sanitize_content(false)
        .build();
    let feed = parser.parse(bytes)?;
    let extras = extras(bytes, feed.entries.len());
    let items = feed
        .entries
        .iter()
        .enumerate()
        .map(|(n, entry)| item(&feed, entry, extras.get(n)))
        .collect();
    Ok(Items {
        items,
        skipped: Default::default(),
    })
}

fn is_html(media_type: &impl ToString) -> bool {
    media_type.to_string().contains("html")
}

/// A text construct as one line of plain text.
fn text_of(text: &Text) -> String {
    if is_html(&text.content_type) {
        html_to_text(&text.content)
    } else {
        text.content
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

fn item(feed: &Feed, entry: &Entry, extra: Option<&Extra>) -> Item {
    let page = extra
        .and_then(|e| e.url.clone())
        .or_else(|| page_link(&entry.links));
    let id = non_empty(entry.id.trim().to_owned()).or(page);
    let published = entry.published.or(entry.updated);
    let (html, summary) = body_and_summary(entry);
    let front = FrontMatter {
        title: entry.title.as_ref().map(text_of).and_then(non_empty),
        published,
        updated: entry.updated.filter(|u| Some(*u) != published),
        authors: people(if entry.authors.is_empty() {
            &feed.authors
        } else {
            &entry.authors
        }),
        tags: tags(entry),
        summary,
        image: extra
            .and_then(|e| e.image.clone().or_else(|| e.banner_image.clone()))
            .or_else(|| image(entry)),
        lang: entry
            .language
            .clone()
            .or_else(|| extra.and_then(|e| e.language.clone())),
        link: extra
            .and_then(|e| e.external_url.clone())
            .or_else(|| related_link(&entry.links)),
        comments: comments_link(&entry.links),
        id,
        ..FrontMatter::default()
    };
    Item { front, html }
}

/// The item's body as HTML (its content, else its summary), and the summary as text
/// when it is not already the body.
fn body_and_summary(entry: &Entry) -> (String, Option<String>) {
    let content = entry.content.as_ref().and_then(|content| {
        let body = non_empty(content.body.clone()?)?;
        Some(if is_html(&content.content_type) {
            body
        } else {
            text_to_html(&body)
        })
    });
    let summary_html = entry.summary.as_ref().map(|summary| {
        if is_html(&summary.content_type) {
            summary.content.clone()
        } else {
            text_to_html(&summary.content)
        }
    });
    match content {
        Some(html) => (
            html,
            entry.summary.as_ref().map(text_of).and_then(non_empty),
        ),
        None => (summary_html.unwrap_or_default(), None),
    }
}

/// The link to the item's own page: RSS `<link>`, Atom's `rel="alternate"`.
fn page_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|l| l.target.is_none() && l.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .map(|l| l.href.clone())
}

/// A link post's target in Atom.
fn related_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref() == Some("related"))
        .map(|l| l.href.clone())
}

/// The page of the item's comments: RSS `<comments>`, or an HTML `rel="replies"` link
/// (RFC 4685).
fn comments_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|l| {
            matches!(l.target, Some(LinkTarget::Comments))
                || (l.rel.as_deref() == Some("replies")
                    && l.media_type.as_deref().is_some_and(|t| t.contains("html")))
        })
        .map(|l| l.href.clone())
}

fn people(people: &[FeedPerson]) -> Vec<Person> {
    people
        .iter()
        .filter_map(|p| {
            let email = p.email.clone().and_then(non_empty);
            // RSS writes `bob@example.org (Bob)`; feed-rs keeps the parentheses.
            let name = p.name.as_deref().map(|name| {
                let name = name.trim();
                name.strip_prefix('(')
                    .and_then(|n| n.strip_suffix(')'))
                    .unwrap_or(name)
                    .to_owned()
            });
            let name = name.and_then(non_empty).or(email.clone())?;
            Some(Person {
                name,
                email,
                uri: p.uri.clone().and_then(non_empty),
            })
        })
        .collect()
}

/// The categories, by their label where they have one, each once.
fn tags(entry: &Entry) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for category in &entry.categories {
        let tag = category
            .label
            .clone()
            .and_then(non_empty)
            .unwrap_or_else(|| category.term.clone());
        let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
        if !tag.is_empty() && !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            tags.push(tag);
        }
    }
    tags
}

/// The item's image: a Media RSS thumbnail, else an image among its media (an RSS
/// enclosure, `media:content`), else an Atom enclosure link to an image.
fn image(entry: &Entry) -> Option<String> {
    let thumbnail = entry
        .media
        .iter()
        .flat_map(|m| &m.thumbnails)
        .map(|t| t.image.uri.clone())
        .find(|uri| !uri.is_empty());
    thumbnail
        .or_else(|| entry.media.iter().find_map(media_image))
        .or_else(|| {
            entry
                .links
                .iter()
                .find(|l| {
                    l.rel.as_deref() == Some("enclosure")
                        && l.media_type
                            .as_deref()
                            .is_some_and(|t| t.starts_with("image/"))
                })
                .map(|l| l.href.clone())
        })
}

fn media_image(media: &MediaObject) -> Option<String> {
    media.content.iter().find_map(|content| {
        let url = content.url.as_ref()?;
        let is_image = match &content.content_type {
            Some(media_type) => media_type.to_string().starts_with("image/"),
            None => {
                let path = url.path().to_ascii_lowercase();
                [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"]
                    .iter()
                    .any(|ext| path.ends_with(ext))
            }
        };
        is_image.then(|| url.to_string())
    })
}
