//! Atom 1.0 (RFC 4287), written with `atom_syndication`: the feed's id is a `urn:uuid`
//! that does not depend on the base URL, `updated` is the newest entry's change, each
//! entry has its `urn:uuid` id, an alternate link to its page, a summary and the full
//! content as `type="html"`. When `[feed] content` is `summary` there is no content: an
//! entry without one must have an alternate link (RFC 4287 §4.1.1), and its page, which
//! has the whole text, is that link. Deleted entries are announced with RFC 6721
//! tombstones and archive pages carry the RFC 5005 links.
//!
//! What an article's front matter adds: its authors (else the feed's author stands for
//! them, RFC 4287 §4.2.1), a category per tag beside the section's (`scheme` the site's
//! `/tags/`, so the two kinds stay apart), a `related` link to a link post's target, a
//! `replies` link to its comments (RFC 4685), its language as `xml:lang` on its title,
//! summary and content (the crate writes no attribute on `<entry>` itself), and its image
//! in Media RSS.

use std::collections::BTreeMap;

use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, Generator, Link, Person, Text,
};
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::rss::HISTORY_NS;
use super::{
    Archive, FeedDoc, Format, MEDIA_NS, RenderError, Site, contact, enclosure_of, image_of,
    media_extensions, tags_scheme, web_url,
};
use crate::config::FeedContent;
use crate::model::{Entry, EntryId, EntryMeta, Tombstone};
use crate::normalize::{escape_html, looks_like_html};

/// RFC 6721's namespace, for `<at:deleted-entry>`.
const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";

pub fn render(site: &Site, feed: &FeedDoc<'_>) -> Result<Vec<u8>, RenderError> {
    let mut namespaces = BTreeMap::new();
    let mut extensions = ExtensionMap::new();
    if !feed.tombstones.is_empty() {
        namespaces.insert("at".to_owned(), TOMBSTONES_NS.to_owned());
        let tombstones = feed
            .tombstones
            .iter()
            .map(|dead| tombstone(site, dead))
            .collect();
        extensions.insert(
            "at".to_owned(),
            BTreeMap::from([("deleted-entry".to_owned(), tombstones)]),
        );
    }
    if feed.entries.iter().any(|e| image_of(e).is_some()) {
        namespaces.insert("media".to_owned(), MEDIA_NS.to_owned());
    }
    if let Archive::Page { .. } = feed.archive {
        namespaces.insert("fh".to_owned(), HISTORY_NS.to_owned());
        let archive = Extension {
            name: "fh:archive".into(),
            ..Extension::default()
        };
        extensions.insert(
            "fh".to_owned(),
            BTreeMap::from([("archive".to_owned(), vec![archive])]),
        );
    }
    let atom = Feed {
        title: text(feed.title),
        id: feed.id.to_owned(),
        updated: feed.updated(site).fixed_offset(),
        authors: vec![person(&site.author)],
        links: links(site, feed),
        subtitle: Some(text(&site.description)),
        rights: site.rights.as_deref().map(text),
        generator: Some(Generator {
            value: "seedfeed".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        lang: Some(site.language.clone()),
        entries: feed
            .entries
            .iter()
            .map(|entry| entry_of(site, entry))
            .collect(),
        namespaces,
        extensions,
        ..Feed::default()
    };
    let xml = utc_as_z(atom.write_to(Vec::new())?);
    Ok(extensions_before_entries(xml))
}

/// RFC 4287's schema wants a feed's extension elements before its entries, and
/// `atom_syndication` writes them after. The entries' text is escaped, so the first
/// `<entry>` and the last `</entry>` are the real ones; what follows the last one (our
/// tombstones and `fh:archive`) moves in front of the first.
fn extensions_before_entries(xml: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&xml);
    let (Some(first), Some(last), Some(end)) = (
        text.find("<entry>"),
        text.rfind("</entry>").map(|i| i + "</entry>".len()),
        text.rfind("</feed>"),
    ) else {
        return xml;
    };
    if last >= end {
        return xml;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    out.push_str(&text[last..end]);
    out.push_str(&text[first..last]);
    out.push_str(&text[end..]);
    out.into_bytes()
}

fn links(site: &Site, feed: &FeedDoc<'_>) -> Vec<Link> {
    let atom = |rel: &str, path: String| link(site.url(&path), rel, Format::Atom.mime());
    let mut links = vec![
        atom("self", feed.path(Format::Atom)),
        link(site.url(&feed.home()), "alternate", "text/html"),
    ];
    for (rel, path) in feed.history_links(Format::Atom) {
        links.push(atom(rel, path));
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

fn entry_of(site: &Site, entry: &Entry) -> AtomEntry {
    let draft = &entry.draft;
    let meta = &draft.meta;
    let lang = || meta.lang.clone();
    let section = draft.category.iter().map(|category| Category {
        term: category.term.clone(),
        scheme: None,
        label: None,
    });
    let tags_scheme = tags_scheme(site);
    let tags = meta.tags.iter().map(|tag| Category {
        term: tag.term.clone(),
        scheme: Some(tags_scheme.clone()),
        label: None,
    });
    let mut extensions = ExtensionMap::new();
    if let Some(image) = image_of(entry) {
        extensions.insert(
            "media".to_owned(),
            media_extensions!(Extension, image, xml_attribute),
        );
    }
    AtomEntry {
        title: Text {
            lang: lang(),
            ..text(&draft.title)
        },
        id: atom_id(site, &draft.id),
        updated: entry.updated.fixed_offset(),
        published: Some(entry.published.fixed_offset()),
        authors: authors(site, meta),
        links: entry_links(site, entry),
        summary: Some(Text {
            lang: lang(),
            ..text(&draft.summary)
        }),
        content: (site.content == FeedContent::Full).then(|| Content {
            value: Some(draft.content_html.clone()),
            content_type: Some("html".into()),
            lang: lang(),
            ..Content::default()
        }),
        categories: section.chain(tags).collect(),
        extensions,
        ..AtomEntry::default()
    }
}

/// The entry's authors as configured or written; none when the article names none, so
/// that the feed's author stands for them.
fn authors(site: &Site, meta: &EntryMeta) -> Vec<Person> {
    meta.authors
        .iter()
        .map(|author| {
            let person = site.resolve_author(&author.person);
            let (email, uri) = contact(person);
            Person {
                name: person.name.clone(),
                email: email.map(str::to_owned),
                uri: uri.map(str::to_owned),
                ..Person::default()
            }
        })
        .collect()
}

/// The entry's page; the page a link post points to (`related`); its comments
/// (`replies`, RFC 4685 §3); its enclosure, with its type and length.
fn entry_links(site: &Site, entry: &Entry) -> Vec<Link> {
    let meta = &entry.draft.meta;
    let mut links = vec![link(
        site.entry_url(&entry.draft.key),
        "alternate",
        "text/html",
    )];
    if let Some(url) = meta.external_url.as_deref().and_then(web_url) {
        links.push(Link {
            href: url.to_owned(),
            rel: "related".into(),
            ..Link::default()
        });
    }
    if let Some(url) = meta.comments.as_deref().and_then(web_url) {
        links.push(link(url.to_owned(), "replies", "text/html"));
    }
    if let Some(enclosure) = enclosure_of(entry) {
        links.push(Link {
            length: Some(enclosure.length.to_string()),
            ..link(enclosure.url.clone(), "enclosure", &enclosure.media_type)
        });
    }
    links
}

/// The Atom id of an entry: its id when that is an absolute URI, as Atom requires; else
/// (an RSS guid such as `2347259`, kept from an older system) a `urn:uuid` made of it in
/// the site's namespace, the same every time, and apart from the ids derived from keys.
fn atom_id(site: &Site, id: &EntryId) -> String {
    if id.is_uri() {
        id.to_string()
    } else {
        let name = format!("id:{id}");
        format!(
            "urn:uuid:{}",
            Uuid::new_v5(&site.id_namespace, name.as_bytes())
        )
    }
}

/// `<at:deleted-entry ref="urn:uuid:…" when="…Z"/>` (RFC 6721 §2).
fn tombstone(site: &Site, tombstone: &Tombstone) -> Extension {
    Extension {
        name: "at:deleted-entry".into(),
        attrs: BTreeMap::from([
            (
                "ref".to_owned(),
                xml_attribute(&atom_id(site, &tombstone.id)),
            ),
            ("when".to_owned(), rfc3339_z(tombstone.deleted)),
        ]),
        ..Extension::default()
    }
}

/// An extension attribute's value as `atom_syndication` must be given it: the crate
/// writes extension attributes as they are, so `&`, `<` and `"` (in an image's URL, or
/// in an id kept from an older system) are escaped here.
fn xml_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// RFC 3339 in UTC with `Z`, milliseconds only when there are some.
pub fn rfc3339_z(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `atom_syndication` writes UTC as `+00:00`; RFC 3339 allows it, but `Z` is what Atom
/// validators and readers expect. Every date element is ours and UTC, and no text can
/// hold a raw `</updated>` (it would be escaped), so the rewrite is exact.
fn utc_as_z(xml: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&xml)
        .replace("+00:00</updated>", "Z</updated>")
        .replace("+00:00</published>", "Z</published>");
    text.into_bytes()
}

/// A text construct: plain text, or `type="html"` with the text escaped when a reader or
/// validator would otherwise take it for HTML (it holds `</b>` or `&amp;`).
fn text(text: &str) -> Text {
    if looks_like_html(text) {
        Text::html(escape_html(text))
    } else {
        Text::plain(text)
    }
}

fn link(href: String, rel: &str, mime_type: &str) -> Link {
    Link {
        href,
        rel: rel.into(),
        mime_type: Some(mime_type.into()),
        ..Link::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: name.into(),
        ..Person::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_move_in_front_of_the_entries() {
        let xml =
            b"<feed><id>x</id><entry>a</entry><entry>b</entry><fh:archive></fh:archive></feed>";
        assert_eq!(
            String::from_utf8(extensions_before_entries(xml.to_vec())).unwrap(),
            "<feed><id>x</id><fh:archive></fh:archive><entry>a</entry><entry>b</entry></feed>"
        );
        let empty = b"<feed><id>x</id><fh:archive></fh:archive></feed>".to_vec();
        assert_eq!(extensions_before_entries(empty.clone()), empty);
    }
}
