//! What feed-rs leaves out of an item, read from the document a second time: JSON Feed's
//! `image`, `banner_image`, `external_url` and `language`, an item's Media RSS thumbnail
//! when it comes alone (feed-rs keeps thumbnails only beside a `media:content`), and an
//! Atom entry's `xml:lang` (feed-rs reads it on `<content>` only). Extras line up with
//! feed-rs's entries by position; when they cannot (a count that differs, a document
//! roxmltree will not read, such as one with a DTD), there are none and the import
//! keeps what feed-rs found.

use roxmltree::{Document, Node};
use serde::Deserialize;

/// Media RSS, with and without its final slash, as feeds write it.
const MEDIA_NAMESPACES: &[&str] = &[
    "http://search.yahoo.com/mrss/",
    "http://search.yahoo.com/mrss",
];
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// What an item has beyond feed-rs's entry.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Extra {
    /// JSON Feed's `url`: the item's page on the old site.
    pub url: Option<String>,
    /// JSON Feed's `external_url`: the page a link post points to.
    pub external_url: Option<String>,
    pub image: Option<String>,
    pub banner_image: Option<String>,
    pub language: Option<String>,
}

#[derive(Deserialize)]
struct JsonItems {
    items: Vec<Extra>,
}

/// The extras of each of the `entries` items of the document, in order; empty when
/// they do not line up.
pub fn extras(bytes: &[u8], entries: usize) -> Vec<Extra> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let extras = match first {
        Some(b'{') => serde_json::from_slice::<JsonItems>(bytes)
            .map(|json| json.items)
            .unwrap_or_default(),
        _ => xml_extras(bytes).unwrap_or_default(),
    };
    if extras.len() == entries {
        extras
    } else {
        Vec::new()
    }
}

fn xml_extras(bytes: &[u8]) -> Option<Vec<Extra>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = Document::parse(text).ok()?;
    let root = document.root_element();
    // RSS 2.0 has its items in <channel>; Atom and RSS 1.0 under the root.
    let parent = root
        .children()
        .find(|n| n.has_tag_name("channel") && root.has_tag_name("rss"))
        .unwrap_or(root);
    let items = parent
        .children()
        .filter(|n| n.is_element() && matches!(n.tag_name().name(), "item" | "entry"))
        .map(|item| Extra {
            image: thumbnail(item),
            language: item.attribute((XML_NAMESPACE, "lang")).map(str::to_owned),
            ..Extra::default()
        })
        .collect();
    Some(items)
}

/// The URL of the item's first `media:thumbnail`, at any depth (in a `media:group`).
fn thumbnail(item: Node<'_, '_>) -> Option<String> {
    item.descendants()
        .find(|n| {
            n.is_element()
                && n.tag_name().name() == "thumbnail"
                && n.tag_name()
                    .namespace()
                    .is_some_and(|ns| MEDIA_NAMESPACES.contains(&ns))
        })
        .and_then(|n| n.attribute("url"))
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_and_languages_of_xml_items() {
        let rss = br#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
            <item><media:thumbnail url="https://x.example/a.jpg"/></item>
            <item><media:group><media:thumbnail url="https://x.example/b.jpg"/></media:group></item>
            <item/></channel></rss>"#;
        let images: Vec<_> = extras(rss, 3).into_iter().map(|e| e.image).collect();
        assert_eq!(
            images,
            [
                Some("https://x.example/a.jpg".to_owned()),
                Some("https://x.example/b.jpg".to_owned()),
                None
            ]
        );
        let atom =
            br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry xml:lang="fr"/><entry/></feed>"#;
        let languages: Vec<_> = extras(atom, 2).into_iter().map(|e| e.language).collect();
        assert_eq!(languages, [Some("fr".to_owned()), None]);
        assert!(extras(atom, 3).is_empty(), "counts that differ: no extras");
    }
}
