//! RSS 2.0, written with the `rss` crate: `guid isPermaLink="false"` (the `urn:uuid` id),
//! RFC 822 dates, the summary as `description` and the full HTML as `content:encoded`
//! (left out when `[feed] content` is `summary`), `atom:link rel="self"` (and the RFC 5005
//! archive links and the WebSub hubs), and `dc:creator` rather than a name-only
//! `<author>` (RSS wants an e-mail address there).
//!
//! What an article's front matter adds: a `dc:creator` per author (the names alone,
//! resolved through `[authors]`; the feed's author when there is none), a `<category>`
//! per tag beside the section's (`domain` the site's `/tags/`), `<comments>`, its
//! language as `dc:language`, a link post's target as `atom:link rel="related"`, and its
//! image in Media RSS, as in Atom.
//!
//! A feed that a `[podcast]` table names is a podcast feed (`podcast.rs`): its episodes
//! only, with the `itunes:` and `podcast:` tags of the channel and of each item, and an
//! episode's image as `itunes:image` and `media:thumbnail` without `media:content`,
//! which podcast apps take for a file of the episode. Any other feed is written as it
//! always was.
//!
//! RSS never says whether a title is text or HTML, and readers guess. Following the RSS
//! Best Practices Profile, `&` and `<` are written as `&#x26;` and `&#x3C;`, and text that
//! a reader would take for HTML (it holds `</b>` or `&amp;`) is sent as escaped HTML, so
//! that every reader shows the characters the article has.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::{Extension, ExtensionMap};
use rss::{Category, Channel, Enclosure, Guid, Item};

use super::podcast::{self, PODCAST_NS};
use super::{
    Archive, FeedDoc, Format, MEDIA_NS, RenderError, Site, enclosure_of, image_of,
    media_extensions, tags_scheme, web_url,
};
use crate::config::FeedContent;
use crate::model::Entry;
use crate::normalize::{escape_html, looks_like_html};

/// RFC 5005's namespace, for `<fh:archive/>`.
pub const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

pub fn render(site: &Site, feed: &FeedDoc<'_>) -> Result<Vec<u8>, RenderError> {
    let podcast = site.podcast_of(feed);
    let entries: Vec<&Entry> = match podcast {
        Some(_) => podcast::episodes(feed.entries),
        None => feed.entries.iter().collect(),
    };
    let mut namespaces = BTreeMap::new();
    let mut extensions = ExtensionMap::new();
    if entries.iter().any(|e| image_of(e).is_some()) {
        namespaces.insert("media".to_owned(), MEDIA_NS.to_owned());
    }
    if let Some(podcast) = podcast {
        namespaces.insert("podcast".to_owned(), PODCAST_NS.to_owned());
        extensions.insert(
            "podcast".to_owned(),
            podcast::channel_podcast(site, feed, podcast),
        );
    }
    if let Archive::Page { .. } = feed.archive {
        namespaces.insert("fh".to_owned(), HISTORY_NS.to_owned());
        extensions.insert(
            "fh".to_owned(),
            BTreeMap::from([(
                "archive".to_owned(),
                vec![Extension {
                    name: "fh:archive".into(),
                    ..Extension::default()
                }],
            )]),
        );
    }
    let channel = Channel {
        title: text(feed.title),
        link: site.url(&feed.home()),
        description: text(&site.description),
        language: Some(site.language.clone()),
        copyright: site.rights.as_deref().map(text),
        last_build_date: (!feed.entries.is_empty() || !feed.tombstones.is_empty())
            .then(|| feed.updated(site).to_rfc2822()),
        generator: Some(format!("seedfeed {}", env!("CARGO_PKG_VERSION"))),
        docs: Some("https://www.rssboard.org/rss-specification".into()),
        atom_ext: Some(AtomExtension {
            links: links(site, feed),
        }),
        items: entries
            .iter()
            .map(|entry| item(site, entry, podcast.is_some()))
            .collect(),
        itunes_ext: podcast.map(|podcast| podcast::channel_itunes(site, podcast)),
        namespaces,
        extensions,
        ..Channel::default()
    };
    Ok(hex_references(channel.write_to(Vec::new())?))
}

/// Plain text for an RSS element: as it is, or as escaped HTML when a reader would
/// otherwise read it as HTML.
fn text(text: &str) -> String {
    if looks_like_html(text) {
        escape_html(text)
    } else {
        text.to_owned()
    }
}

/// `&amp;` and `&lt;` as the hexadecimal references the RSS Profile asks for. The same
/// rewrite inside CDATA turns HTML `&amp;` into HTML `&#x26;`, the same character.
fn hex_references(xml: Vec<u8>) -> Vec<u8> {
    String::from_utf8_lossy(&xml)
        .replace("&amp;", "&#x26;")
        .replace("&lt;", "&#x3C;")
        .into_bytes()
}

/// `self`, and the RFC 5005 links that apply (as atom:link, which RSS readers know).
fn links(site: &Site, feed: &FeedDoc<'_>) -> Vec<Link> {
    let link = |rel: &str, path: String| Link {
        href: site.url(&path),
        rel: rel.into(),
        mime_type: Some(Format::Rss.mime().into()),
        ..Link::default()
    };
    let mut links = vec![link("self", feed.path(Format::Rss))];
    for (rel, path) in feed.history_links(Format::Rss) {
        links.push(link(rel, path));
    }
    for hub in feed.hubs(site) {
        links.push(Link {
            href: hub.clone(),
            rel: "hub".into(),
            ..Link::default()
        });
    }
    links
}

/// One entry as an item; an episode of a podcast feed with its `itunes:` and `podcast:`
/// tags.
fn item(site: &Site, entry: &Entry, episode: bool) -> Item {
    let draft = &entry.draft;
    let meta = &draft.meta;
    let section = draft.category.iter().map(|category| Category {
        name: text(&category.term),
        domain: None,
    });
    let tags_scheme = tags_scheme(site);
    let tags = meta.tags.iter().map(|tag| Category {
        name: text(&tag.term),
        domain: Some(tags_scheme.clone()),
    });
    let creators = if meta.authors.is_empty() {
        vec![text(&site.author)]
    } else {
        meta.authors
            .iter()
            .map(|author| text(&site.resolve_author(&author.person).name))
            .collect()
    };
    let related = meta
        .external_url
        .as_deref()
        .and_then(web_url)
        .map(|url| Link {
            href: url.to_owned(),
            rel: "related".into(),
            ..Link::default()
        });
    let mut extensions = ExtensionMap::new();
    if let Some(image) = image_of(entry) {
        // The `rss` crate escapes attributes itself.
        extensions.insert(
            "media".to_owned(),
            media_extensions!(Extension, image, str::to_owned),
        );
    }
    let itunes_ext = episode.then(|| podcast::episode_tags(entry, &mut extensions));
    Item {
        title: Some(text(&draft.title)),
        link: Some(site.entry_url(&draft.key)),
        // `description` is HTML in RSS: the plain-text summary is escaped so that text
        // that looks like markup stays text.
        description: Some(escape_html(&draft.summary)),
        content: (site.content == FeedContent::Full).then(|| draft.content_html.clone()),
        guid: Some(Guid {
            value: draft.id.to_string(),
            permalink: false,
        }),
        pub_date: Some(entry.published.to_rfc2822()),
        categories: section.chain(tags).collect(),
        comments: meta
            .comments
            .as_deref()
            .and_then(web_url)
            .map(str::to_owned),
        enclosure: enclosure_of(entry).map(|enclosure| Enclosure {
            url: enclosure.url.clone(),
            length: enclosure.length.to_string(),
            mime_type: enclosure.media_type.clone(),
        }),
        dublin_core_ext: Some(DublinCoreExtension {
            creators,
            languages: meta.lang.iter().cloned().collect(),
            ..DublinCoreExtension::default()
        }),
        atom_ext: related.map(|link| AtomExtension { links: vec![link] }),
        itunes_ext,
        extensions,
        ..Item::default()
    }
}
