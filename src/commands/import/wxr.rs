//! A WordPress export (WXR: RSS with the `wp:` namespace) to the items of an import.
//!
//! Posts only (`wp:post_type` post): pages, attachments, menu items and other types are
//! skipped and counted. A published or scheduled post is an article; a draft, pending
//! or private one is written with `draft = true`; one in the trash is skipped. Each
//! keeps its `guid` as its id (what WordPress's own feeds call it), its GMT dates, its
//! author's display name, its first category as its section and its other categories
//! and tags as tags, its excerpt as summary, its featured image, and its content with
//! the paragraphs WordPress adds when it shows a post.
//!
//! Read with roxmltree: a namespace-aware tree is the short way to read items whose
//! fields are in three namespaces, and it refuses DTDs (so no entity expansion) unless
//! told otherwise.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use roxmltree::{Document, Node};

use super::text::{html_to_text, wordpress_paragraphs};
use super::{Item, Items};
use crate::model::{FrontMatter, Person};

/// The start of the namespaces of every WXR version (1.0 to 1.2).
const WP_NAMESPACE: &str = "http://wordpress.org/export/";
const CONTENT_NAMESPACE: &str = "http://purl.org/rss/1.0/modules/content/";
const DC_NAMESPACE: &str = "http://purl.org/dc/elements/1.1/";

/// How far into a file the WXR namespace is looked for: it is declared on the root
/// element, at the top.
const SNIFF_BYTES: usize = 64 * 1024;

/// Whether `bytes` may be a WordPress export: its top declares the `wp:` namespace.
/// [`wxr_items`] makes sure.
pub fn looks_like_wxr(bytes: &[u8]) -> bool {
    let top = &bytes[..bytes.len().min(SNIFF_BYTES)];
    top.windows(WP_NAMESPACE.len())
        .any(|window| window == WP_NAMESPACE.as_bytes())
}

/// The items of a WordPress export; `None` when the document is not one (its root
/// element does not declare the WXR namespace), so that it is read as a feed.
pub fn wxr_items(bytes: &[u8]) -> anyhow::Result<Option<Items>> {
    let text = std::str::from_utf8(bytes).context("a WordPress export is UTF-8; this is not")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = Document::parse(text).context("reading the WordPress export as XML")?;
    let root = document.root_element();
    let declares_wxr = root
        .namespaces()
        .any(|ns| is_wp(ns.uri()) && !ns.uri().ends_with("/excerpt/"));
    if !declares_wxr {
        return Ok(None);
    }
    let Some(channel) = element(root, "channel") else {
        anyhow::bail!("the WordPress export has no <channel>");
    };
    let authors = authors(channel);
    let all: Vec<Node> = channel.children().filter(|n| is_plain(n, "item")).collect();
    let attachments = attachments(&all);
    let mut items = Items::default();
    for node in all {
        match post(node, &authors, &attachments) {
            Ok(item) => items.items.push(item),
            Err(reason) => *items.skipped.entry(reason).or_insert(0) += 1,
        }
    }
    Ok(Some(items))
}

fn is_wp(uri: &str) -> bool {
    uri.starts_with(WP_NAMESPACE)
}

/// Whether `node` is an element named `name` in no namespace (plain RSS).
fn is_plain(node: &Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace().is_none()
}

/// The first child element of `node` named `name` in no namespace.
fn element<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| is_plain(n, name))
}

/// The text of the first child element named `name` whose namespace `ns` accepts.
fn field<'a>(node: Node<'a, '_>, ns: fn(&str) -> bool, name: &str) -> Option<&'a str> {
    node.children()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == name
                && n.tag_name().namespace().is_some_and(ns)
        })
        .and_then(|n| n.text())
}

fn wp(node: Node<'_, '_>, name: &str) -> Option<String> {
    field(node, |ns| is_wp(ns) && !ns.ends_with("/excerpt/"), name)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn plain<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    element(node, name).and_then(|n| n.text())
}

/// The display name of each author, by login (what `dc:creator` holds).
fn authors(channel: Node<'_, '_>) -> HashMap<String, String> {
    channel
        .children()
        .filter(|n| n.tag_name().name() == "author" && n.tag_name().namespace().is_some_and(is_wp))
        .filter_map(|author| {
            Some((
                wp(author, "author_login")?,
                wp(author, "author_display_name")?,
            ))
        })
        .collect()
}

/// An attachment's URL and alternative text.
struct Attachment {
    url: String,
    alt: Option<String>,
}

/// The attachments, by post id: where featured images are.
fn attachments(items: &[Node<'_, '_>]) -> HashMap<String, Attachment> {
    items
        .iter()
        .filter(|item| wp(**item, "post_type").as_deref() == Some("attachment"))
        .filter_map(|item| {
            let attachment = Attachment {
                url: wp(*item, "attachment_url")?,
                alt: meta(*item, "_wp_attachment_image_alt"),
            };
            Some((wp(*item, "post_id")?, attachment))
        })
        .collect()
}

/// The value of the item's `wp:postmeta` named `key`.
fn meta(item: Node<'_, '_>, key: &str) -> Option<String> {
    item.children()
        .filter(|n| {
            n.tag_name().name() == "postmeta" && n.tag_name().namespace().is_some_and(is_wp)
        })
        .find(|m| wp(*m, "meta_key").as_deref() == Some(key))
        .and_then(|m| wp(m, "meta_value"))
}

/// A WordPress date in GMT (`2024-05-06 07:08:09`); the zero date of an unpublished
/// post is none.
fn gmt_date(text: Option<String>) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text?.as_str(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|date| date.and_utc())
}

/// One item as an article, or why it is skipped.
fn post(
    node: Node<'_, '_>,
    authors: &HashMap<String, String>,
    attachments: &HashMap<String, Attachment>,
) -> Result<Item, String> {
    let kind = wp(node, "post_type").unwrap_or_else(|| "post".to_owned());
    if kind != "post" {
        return Err(kind);
    }
    let status = wp(node, "status").unwrap_or_else(|| "publish".to_owned());
    let draft = match status.as_str() {
        "publish" | "future" => false,
        "draft" | "pending" | "private" => true,
        other => return Err(format!("post with status {other}")),
    };
    let (section, tags) = categories(node);
    let featured = meta(node, "_thumbnail_id").and_then(|id| attachments.get(&id));
    let excerpt = field(node, |ns| is_wp(ns) && ns.ends_with("/excerpt/"), "encoded")
        .map(html_to_text)
        .filter(|t| !t.is_empty());
    let content = field(node, |ns| ns == CONTENT_NAMESPACE, "encoded").unwrap_or_default();
    let published = gmt_date(wp(node, "post_date_gmt"));
    let id = plain(node, "guid")
        .or_else(|| plain(node, "link"))
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    let author = field(node, |ns| ns == DC_NAMESPACE, "creator")
        .map(str::trim)
        .filter(|login| !login.is_empty())
        .map(|login| Person {
            name: authors
                .get(login)
                .cloned()
                .unwrap_or_else(|| login.to_owned()),
            ..Person::default()
        });
    let front = FrontMatter {
        title: plain(node, "title")
            .map(html_to_text)
            .filter(|t| !t.is_empty()),
        published,
        updated: gmt_date(wp(node, "post_modified_gmt")).filter(|u| Some(*u) != published),
        draft,
        section,
        tags,
        authors: author.into_iter().collect(),
        summary: excerpt,
        image: featured.map(|a| a.url.clone()),
        image_alt: featured.and_then(|a| a.alt.clone()),
        id,
        ..FrontMatter::default()
    };
    Ok(Item {
        front,
        html: wordpress_paragraphs(content),
    })
}

/// The first category as the section; the other categories and the tags as tags.
fn categories(node: Node<'_, '_>) -> (Option<String>, Vec<String>) {
    let mut by_domain: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for category in node.children().filter(|n| is_plain(n, "category")) {
        let name = category
            .text()
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let list = by_domain
            .entry(category.attribute("domain").unwrap_or(""))
            .or_default();
        if !name.is_empty() && !list.contains(&name) {
            list.push(name);
        }
    }
    let mut categories = by_domain.remove("category").unwrap_or_default().into_iter();
    let section = categories.next();
    let mut tags: Vec<String> = categories.collect();
    for tag in by_domain.remove("post_tag").unwrap_or_default() {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    (section, tags)
}
