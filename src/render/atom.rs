//! Atom 1.0 (RFC 4287), written with `atom_syndication`: the feed's id is a `urn:uuid`
//! that does not depend on the base URL, `updated` is the newest entry's, each entry has
//! its `urn:uuid` id, an alternate link to its page, a plain-text summary and the full
//! content as `type="html"`.

use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, Generator, Link, Person, Text,
};

use super::{ATOM_PATH, RenderError, Site, newest_update};
use crate::model::Entry;

pub fn render(site: &Site, entries: &[Entry]) -> Result<Vec<u8>, RenderError> {
    let feed = Feed {
        title: Text::plain(site.title.clone()),
        id: site.feed_id.clone(),
        updated: newest_update(entries).fixed_offset(),
        authors: vec![person(&site.author)],
        links: vec![
            link(site.url(ATOM_PATH), "self", "application/atom+xml"),
            link(site.url("/"), "alternate", "text/html"),
        ],
        subtitle: Some(Text::plain(site.description.clone())),
        generator: Some(Generator {
            value: "seedfeed".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        lang: Some(site.language.clone()),
        entries: entries.iter().map(|entry| entry_of(site, entry)).collect(),
        ..Feed::default()
    };
    Ok(feed.write_to(Vec::new())?)
}

fn entry_of(site: &Site, entry: &Entry) -> AtomEntry {
    let draft = &entry.draft;
    AtomEntry {
        title: Text::plain(draft.title.clone()),
        id: draft.id.to_string(),
        updated: entry.updated.fixed_offset(),
        published: Some(entry.published.fixed_offset()),
        links: vec![link(site.entry_url(&draft.key), "alternate", "text/html")],
        summary: Some(Text::plain(draft.summary.clone())),
        content: Some(Content {
            value: Some(draft.content_html.clone()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        categories: draft
            .category
            .iter()
            .map(|category| Category {
                term: category.term.clone(),
                scheme: None,
                label: None,
            })
            .collect(),
        ..AtomEntry::default()
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
