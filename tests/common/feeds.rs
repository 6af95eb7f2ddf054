//! Reading our documents back as a reader does: feed-rs's entries by id, titles as a
//! reader shows them, HTML character references decoded, a feed's own links, and the XML
//! namespaces of the extensions we write. Pure: the fuzz target includes this file too.

use feed_rs::model::{Entry, Feed, Text};
use seedfeed::normalize::looks_like_html;

pub const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
/// RFC 5005's `fh:archive`.
pub const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";
/// RFC 6721's `at:deleted-entry`.
pub const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";
/// RSS's `content:encoded`.
pub const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
/// Media RSS: `media:content`, `media:thumbnail`.
pub const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
/// Dublin Core: RSS's `dc:creator`, `dc:language`.
pub const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
/// Apple's podcast tags: `itunes:image`, `itunes:duration`…
pub const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
/// Podcasting 2.0: `podcast:guid`, `podcast:transcript`…
pub const PODCAST_NS: &str = "https://podcastindex.org/namespace/1.0";

/// The feeds the sample article (section Conflict & Justice) is in: the main feeds and
/// its section's, in every format.
pub const SAMPLE_FEEDS: [&str; 6] = [
    "/feed.atom",
    "/feed.rss",
    "/feed.json",
    "/categories/conflict-justice.atom",
    "/categories/conflict-justice.rss",
    "/categories/conflict-justice.json",
];

/// The entry of `feed` with this id.
pub fn entry<'a>(feed: &'a Feed, id: &str) -> Option<&'a Entry> {
    feed.entries.iter().find(|e| e.id == id)
}

/// Whether a feed holds the entry `id` (for the polls that wait for one).
pub fn has_entry(id: impl Into<String>) -> impl Fn(&Feed) -> bool {
    let id = id.into();
    move |feed| entry(feed, &id).is_some()
}

/// The ids of a feed's entries, in its order.
pub fn ids(feed: &Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

/// An entry's content (its HTML), or nothing.
pub fn content(entry: &Entry) -> String {
    entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default()
}

/// A title as a reader shows it: Atom says when it is HTML; in RSS, where readers guess,
/// text that looks like HTML is sent as escaped HTML (see `render::rss`).
pub fn title_as_shown(title: &Text, path: &str) -> String {
    let html = title.content_type.essence().to_string() == "text/html";
    let rss = path.ends_with(".rss");
    if html || (rss && looks_like_html(&title.content)) {
        unescape_html(&title.content)
    } else {
        title.content.clone()
    }
}

/// RSS content's HTML as the entry has it: the RSS Profile writes `&` and `<` as
/// hexadecimal references, the same characters.
pub fn rss_html(html: &str) -> String {
    html.replace("&#x3C;", "&lt;").replace("&#x26;", "&amp;")
}

/// Decodes the character references HTML text may hold (named, decimal, hexadecimal).
pub fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|semi| {
            let name = &rest[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of each `<tag>` element of an HTML page of ours, as a browser shows it: the
/// tags inside removed, character references decoded once. (Our pages' elements of one
/// kind never nest, and their text holds no raw `<`.)
pub fn html_texts(html: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        rest = &rest[at + open.len()..];
        if !rest.starts_with(['>', ' ']) {
            continue;
        }
        let Some(start) = rest.find('>') else { break };
        let Some(end) = rest.find(&close) else { break };
        let inner = &rest[start + 1..end];
        let mut text = String::with_capacity(inner.len());
        let mut in_tag = false;
        for c in inner.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        out.push(unescape_html(&text));
        rest = &rest[end + close.len()..];
    }
    out
}

/// The `href` of every link (`<a>`) of an HTML page of ours, decoded.
pub fn html_links(html: &str) -> Vec<String> {
    html.match_indices("<a ")
        .filter_map(|(at, _)| {
            let tag = &html[at..at + html[at..].find('>')?];
            let href = tag.split("href=\"").nth(1)?;
            Some(unescape_html(&href[..href.find('"')?]))
        })
        .collect()
}

/// The feed's own `atom:link`s, (rel, href): children of Atom's `<feed>` or of RSS's
/// `<channel>`, never an entry's. A link without `rel` is `alternate` (RFC 4287).
pub fn feed_links(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let channel_or_feed = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("channel"))
        .unwrap_or_else(|| doc.root_element());
    channel_or_feed
        .children()
        .filter(|n| n.has_tag_name((ATOM_NS, "link")))
        .map(|n| {
            (
                n.attribute("rel").unwrap_or("alternate").to_owned(),
                n.attribute("href").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The `<enclosure>` elements of an RSS document, in order: each one's `url`, `length`
/// and `type`.
pub fn rss_enclosures(xml: &str) -> Vec<[Option<String>; 3]> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("enclosure"))
        .map(|n| ["url", "length", "type"].map(|name| n.attribute(name).map(str::to_owned)))
        .collect()
}

/// The feeds an OPML list names (its `xmlUrl`s), in its order.
pub fn opml_urls(xml: &str) -> Result<Vec<String>, roxmltree::Error> {
    let doc = roxmltree::Document::parse(xml)?;
    let urls = doc.descendants().filter_map(|n| n.attribute("xmlUrl"));
    Ok(urls.map(str::to_owned).collect())
}

/// An element of the `itunes:` or `podcast:` namespace, named with its usual prefix
/// whatever prefix the document gave it: its text, attributes and such children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodcastTag {
    pub name: String,
    pub text: String,
    pub attrs: std::collections::BTreeMap<String, String>,
    pub children: Vec<PodcastTag>,
}

/// An RSS document as a podcast app reads it: the channel's `language` and podcast
/// tags, and each item's guid, title, enclosures (`url`, `length`, `type`) and podcast
/// tags.
#[derive(Debug, Clone, Default)]
pub struct PodcastRead {
    pub language: Option<String>,
    pub tags: Vec<PodcastTag>,
    pub items: Vec<PodcastItem>,
}

#[derive(Debug, Clone, Default)]
pub struct PodcastItem {
    pub guid: String,
    pub title: String,
    pub enclosures: Vec<[Option<String>; 3]>,
    pub tags: Vec<PodcastTag>,
}

/// The tags named `name` (`itunes:explicit`) of a list.
pub fn tags_named<'a>(tags: &'a [PodcastTag], name: &str) -> Vec<&'a PodcastTag> {
    tags.iter().filter(|tag| tag.name == name).collect()
}

/// The text of the one tag named `name` of a list; `None` when there is none, a panic
/// when there are several.
pub fn tag_text<'a>(tags: &'a [PodcastTag], name: &str) -> Option<&'a str> {
    let found = tags_named(tags, name);
    assert!(found.len() <= 1, "{name} more than once: {tags:?}");
    found.first().map(|tag| tag.text.as_str())
}

/// Reads an RSS document's podcast tags, by namespace (not by prefix).
pub fn read_podcast(xml: &str) -> PodcastRead {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let channel = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("channel"))
        .unwrap();
    let child_text = |node: roxmltree::Node<'_, '_>, name: &str| {
        node.children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    let items = channel
        .children()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| PodcastItem {
            guid: child_text(item, "guid").unwrap_or_default(),
            title: child_text(item, "title").unwrap_or_default(),
            enclosures: item
                .children()
                .filter(|n| n.has_tag_name("enclosure"))
                .map(|n| ["url", "length", "type"].map(|a| n.attribute(a).map(str::to_owned)))
                .collect(),
            tags: podcast_tags(item),
        })
        .collect();
    PodcastRead {
        language: child_text(channel, "language"),
        tags: podcast_tags(channel),
        items,
    }
}

fn podcast_tags(node: roxmltree::Node<'_, '_>) -> Vec<PodcastTag> {
    node.children()
        .filter(|n| n.is_element())
        .filter_map(|n| {
            let prefix = match n.tag_name().namespace()? {
                ITUNES_NS => "itunes",
                PODCAST_NS => "podcast",
                _ => return None,
            };
            Some(PodcastTag {
                name: format!("{prefix}:{}", n.tag_name().name()),
                text: n.text().unwrap_or_default().trim().to_owned(),
                attrs: n
                    .attributes()
                    .map(|a| (a.name().to_owned(), a.value().to_owned()))
                    .collect(),
                children: podcast_tags(n),
            })
        })
        .collect()
}
