//! RSS 2.0, written with the `rss` crate: `guid isPermaLink="false"` (the `urn:uuid` id),
//! RFC 822 dates, the summary as `description` and the full HTML as `content:encoded`,
//! `atom:link rel="self"`, and `dc:creator` rather than a name-only `<author>` (RSS
//! wants an e-mail address there).

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item};

use super::{RSS_PATH, RenderError, Site, newest_update};
use crate::model::Entry;
use crate::normalize::escape_html;

pub fn render(site: &Site, entries: &[Entry]) -> Result<Vec<u8>, RenderError> {
    let channel = Channel {
        title: site.title.clone(),
        link: site.url("/"),
        description: site.description.clone(),
        language: Some(site.language.clone()),
        last_build_date: (!entries.is_empty()).then(|| newest_update(entries).to_rfc2822()),
        generator: Some(format!("seedfeed {}", env!("CARGO_PKG_VERSION"))),
        docs: Some("https://www.rssboard.org/rss-specification".into()),
        atom_ext: Some(AtomExtension {
            links: vec![Link {
                href: site.url(RSS_PATH),
                rel: "self".into(),
                mime_type: Some("application/rss+xml".into()),
                ..Link::default()
            }],
        }),
        items: entries.iter().map(|entry| item(site, entry)).collect(),
        ..Channel::default()
    };
    Ok(channel.write_to(Vec::new())?)
}

fn item(site: &Site, entry: &Entry) -> Item {
    let draft = &entry.draft;
    Item {
        title: Some(draft.title.clone()),
        link: Some(site.entry_url(&draft.key)),
        // `description` is HTML in RSS: the plain-text summary is escaped so that text
        // that looks like markup stays text.
        description: Some(escape_html(&draft.summary)),
        content: Some(draft.content_html.clone()),
        guid: Some(Guid {
            value: draft.id.to_string(),
            permalink: false,
        }),
        pub_date: Some(entry.published.to_rfc2822()),
        categories: draft
            .category
            .iter()
            .map(|category| Category {
                name: category.term.clone(),
                domain: None,
            })
            .collect(),
        dublin_core_ext: Some(DublinCoreExtension {
            creators: vec![site.author.clone()],
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}
