//! Feeds read back with parsers of our own choosing, strictly: roxmltree and feed-rs for
//! RSS and Atom, serde_json for JSON Feed; each entry as a reader gets it.

use seedfeed::normalize::{escape_html, looks_like_html};

use crate::Problems;
use crate::common::feeds::{ATOM_NS, CONTENT_NS, feed_links, rss_html, unescape_html};
use crate::corpus::Expected;

/// The formats every feed is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

/// One entry of a feed as it reads back.
#[derive(Debug)]
pub struct Item {
    pub id: String,
    /// As a reader gets it: Atom's `type="html"` is decoded here; RSS has no type, so
    /// its title is left as sent.
    pub title: String,
    pub link: String,
    /// The content's HTML.
    pub content: String,
    pub categories: Vec<String>,
}

impl Item {
    /// The item says what its file says: title, content and section.
    pub fn check(&self, format: Format, path: &str, e: &Expected, problems: &mut Problems) {
        let draft = &e.draft;
        // RSS has no text type: text a reader would take for HTML is sent escaped.
        let as_sent = |text: &str| match format {
            Format::Rss if looks_like_html(text) => escape_html(text),
            _ => text.to_owned(),
        };
        let title = as_sent(&draft.title);
        problems.check(self.title == title, || {
            format!(
                "{path}: {:?} titled {:?}, not {title:?}",
                e.path, self.title
            )
        });
        problems.check(self.content == draft.content_html, || {
            format!(
                "{path}: {:?}: the content differs:\n{:.300}\nnot\n{:.300}",
                e.path, self.content, draft.content_html
            )
        });
        let text = html_text(&self.content);
        for body in &e.body {
            problems.check(text.contains(body.as_str()), || {
                format!("{path}: {:?}: the content does not read {body:?}", e.path)
            });
        }
        let section: Vec<String> = draft.section.iter().map(|s| as_sent(s)).collect();
        problems.check(self.categories == section, || {
            format!(
                "{path}: {:?} in {:?}, not {section:?}",
                e.path, self.categories
            )
        });
    }
}

/// A feed read back: its entries, and the feed URLs it links to (self, RFC 5005 pages).
pub struct Feed {
    pub items: Vec<Item>,
    pub links: Vec<String>,
}

impl Feed {
    /// Parses a feed with parsers of our own choosing: `roxmltree` (strict XML) and
    /// feed-rs for RSS and Atom, `serde_json` for JSON Feed.
    pub fn parse(format: Format, body: &str) -> Result<Self, String> {
        match format {
            Format::Json => Self::json(body),
            Format::Atom | Format::Rss => {
                let doc = roxmltree::Document::parse(body).map_err(|e| e.to_string())?;
                feed_rs::parser::parse(body.as_bytes()).map_err(|e| format!("feed-rs: {e}"))?;
                let links = feed_links(body).into_iter().map(|(_, href)| href).collect();
                let items = if format == Format::Atom {
                    atom_items(&doc)
                } else {
                    rss_items(&doc)
                };
                Ok(Self { items, links })
            }
        }
    }

    fn json(body: &str) -> Result<Self, String> {
        let json: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let items = json["items"]
            .as_array()
            .ok_or("no items")?
            .iter()
            .map(|i| Item {
                id: text(i, "id"),
                title: text(i, "title"),
                link: text(i, "url"),
                content: text(i, "content_html"),
                categories: i["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str())
                    .map(str::to_owned)
                    .collect(),
            })
            .collect();
        let links = ["feed_url", "next_url"]
            .iter()
            .filter_map(|k| json[*k].as_str())
            .map(str::to_owned)
            .collect();
        Ok(Self { items, links })
    }
}

fn atom_items(doc: &roxmltree::Document<'_>) -> Vec<Item> {
    let entries = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name((ATOM_NS, "entry")));
    entries
        .map(|entry| {
            let child = |name: &str| entry.children().find(|c| c.has_tag_name((ATOM_NS, name)));
            let all = |name: &'static str| {
                entry
                    .children()
                    .filter(move |c| c.has_tag_name((ATOM_NS, name)))
            };
            let title = child("title").map_or_else(String::new, |t| {
                let text = all_text(t);
                if t.attribute("type") == Some("html") {
                    unescape_html(&text)
                } else {
                    text
                }
            });
            Item {
                id: child("id").map(all_text).unwrap_or_default(),
                title,
                link: all("link")
                    .find(|c| c.attribute("rel").unwrap_or("alternate") == "alternate")
                    .and_then(|c| c.attribute("href"))
                    .unwrap_or_default()
                    .to_owned(),
                content: child("content").map(all_text).unwrap_or_default(),
                categories: all("category")
                    .filter_map(|c| c.attribute("term"))
                    .map(str::to_owned)
                    .collect(),
            }
        })
        .collect()
}

fn rss_items(doc: &roxmltree::Document<'_>) -> Vec<Item> {
    let plain = |n: &roxmltree::Node<'_, '_>, name: &str| {
        n.tag_name().name() == name && n.tag_name().namespace().is_none()
    };
    doc.descendants()
        .filter(|n| plain(n, "item"))
        .map(|item| {
            let child = |name: &str| {
                item.children()
                    .find(|c| plain(c, name))
                    .map(all_text)
                    .unwrap_or_default()
            };
            Item {
                id: child("guid"),
                title: child("title"),
                link: child("link"),
                // The RSS Profile's hexadecimal references, back to the HTML the entry
                // was built with (the same characters).
                content: rss_html(
                    &item
                        .children()
                        .find(|c| c.has_tag_name((CONTENT_NS, "encoded")))
                        .map(all_text)
                        .unwrap_or_default(),
                ),
                categories: item
                    .children()
                    .filter(|c| plain(c, "category"))
                    .map(all_text)
                    .collect(),
            }
        })
        .collect()
}

fn all_text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// The text of an HTML fragment whose text is escaped (so that no `<` is text).
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape_html(&out)
}
