//! The invariant of the whole pipeline, parse → normalize → render, for any input: what
//! the fuzz target (`fuzz/fuzz_targets/pipeline.rs`) checks on every input it makes, what
//! `tests/fuzz_regressions.rs` checks on every input the fuzzer ever found a fault with,
//! and what `tests/properties/` checks on generated inputs, one part per property. One
//! file, included by all three, so that they cannot drift apart.
//!
//! The input goes through the renderer as the daemon drives it: [`Renderer`] as the
//! publisher calls it (section feeds, the list of sections, then the main feeds, the
//! index and the OPML list), an archive page as it is frozen, and the entry pages as they
//! are served, beside a fixed well-behaved entry and a tombstone. For any bytes, parsing
//! does not panic, and a rejected input is a reason, not a fault. For an accepted one:
//! - every field of the article is one clean line, and the title is not empty;
//! - rendering it twice gives the same entry and the same bytes, and its id is the
//!   UUIDv5 of its key;
//! - every XML document is well-formed and holds, literally or by reference, only
//!   characters XML 1.0 allows; every JSON document parses;
//! - feed-rs reads each main feed back with the entry, its id and its title;
//! - the HTML pages hold only the templates' markup, with the title and body escaped.

use std::collections::BTreeMap;
use std::fmt;

use seedfeed::model::{Article, Category, EntryDraft, EntryKey};
use seedfeed::normalize::{entry_id, escape_html, looks_like_html};
use seedfeed::parse::parse_article;
use seedfeed::render::{Renderer, Site, Snapshot, entry_page, entry_path};

use super::feeds::{entry, title_as_shown};
use super::site::{entry as entry_of, site, tombstone};

/// The key the fuzzer's input is stored under.
pub const KEY: &str = "fuzz_input";

/// The key of the entry beside the input. A `/`: no file name's key can equal it.
const FIXED_KEY: &str = "zz/fixed neighbour";

/// What broke, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault(String);

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn fault<T>(what: String) -> Result<T, Fault> {
    Err(Fault(what))
}

fn ensure(holds: bool, what: impl FnOnce() -> String) -> Result<(), Fault> {
    if holds { Ok(()) } else { fault(what()) }
}

/// Checks the whole invariant for one input, stored under [`KEY`].
pub fn check(bytes: &[u8]) -> Result<(), Fault> {
    if accepted(bytes)?.is_none() {
        return Ok(());
    }
    let Some(rendered) = stable(bytes, KEY)? else {
        return fault("accepted once, rejected the second time".into());
    };
    well_formed(&rendered)?;
    read_back(&rendered)?;
    escaped(&rendered)
}

// ---------------------------------------------------------------------------------------
// The pipeline

/// One input through the whole pipeline.
pub struct Rendered {
    pub article: Article,
    pub draft: EntryDraft,
    pub snapshot: Snapshot,
    /// Archive page 1 in RSS and Atom, by path.
    pub archive: BTreeMap<String, Vec<u8>>,
    /// The entry pages, by path.
    pub pages: BTreeMap<String, Vec<u8>>,
}

/// A second, well-behaved entry that every snapshot also holds.
fn fixed_neighbour(site: &Site) -> seedfeed::model::Entry {
    let text = "World\n\nA fixed neighbour\n\n\nIts caption.\n\n\n\nOne paragraph.";
    let article = parse_article(text.as_bytes()).unwrap().article;
    entry_of(site, FIXED_KEY, &article, 1_700_000_000, 1_700_000_000)
}

/// Parses, normalizes and renders `bytes` as the file `key` beside the fixed entry, as
/// the daemon does: a feed per section (entries grouped by slug, the term of the
/// newest), the list of sections, archive page 1 (which the main feeds then link to), the
/// main feeds with a tombstone, the index and the OPML list, and a page per entry.
/// `None` when the parser rejects the input.
pub fn render(bytes: &[u8], key: &str) -> Result<Option<Rendered>, Fault> {
    let Ok(parsed) = parse_article(bytes) else {
        return Ok(None);
    };
    let site = site();
    let entry = entry_of(&site, key, &parsed.article, 1_700_000_500, 1_700_000_900);
    let entries = vec![entry.clone(), fixed_neighbour(&site)];
    let rendering = |e: seedfeed::render::RenderError| Fault(format!("rendering failed: {e}"));

    let mut renderer = Renderer::new(site.clone());
    let mut sections: BTreeMap<String, Category> = BTreeMap::new();
    for e in &entries {
        if let Some(category) = &e.draft.category {
            sections
                .entry(category.slug.clone())
                .or_insert_with(|| category.clone());
        }
    }
    for category in sections.values() {
        let in_section: Vec<_> = entries
            .iter()
            .filter(|e| e.draft.category.as_ref().map(|c| &c.slug) == Some(&category.slug))
            .cloned()
            .collect();
        renderer
            .set_section(category, &in_section, &[])
            .map_err(rendering)?;
    }
    renderer.set_categories(sections.into_values().collect());
    let archive = renderer
        .archive_page(1, &entries)
        .map_err(rendering)?
        .into_iter()
        .map(|page| (page.path, page.body))
        .collect();
    renderer.set_newest_archive(Some(1));
    // As the publisher publishes it: the feeds' compressed variants come later, and are
    // bytes of the same documents.
    let snapshot = renderer
        .render(&entries, &[tombstone(&site, "gone", None, 1_700_000_600)])
        .map_err(rendering)?;
    // The pages as they are served, without their compressed variants.
    let pages = entries
        .iter()
        .map(|e| (entry_path(&e.draft.key), entry_page(&site, e).body.to_vec()))
        .collect();
    Ok(Some(Rendered {
        article: parsed.article,
        draft: entry.draft,
        snapshot,
        archive,
        pages,
    }))
}

/// A document of the snapshot, or an entry's page.
pub fn body<'a>(r: &'a Rendered, path: &str) -> Result<&'a [u8], Fault> {
    match r.snapshot.get(path) {
        Some(document) => Ok(document.body.as_ref()),
        None => match r.pages.get(path) {
            Some(page) => Ok(page),
            None => fault(format!("the snapshot has no {path}")),
        },
    }
}

fn text<'a>(bytes: &'a [u8], path: &str) -> Result<&'a str, Fault> {
    std::str::from_utf8(bytes).map_err(|e| Fault(format!("{path} is not UTF-8: {e}")))
}

// ---------------------------------------------------------------------------------------
// The parts of the invariant

/// Parses `bytes`: `None` when the parser rejects them; an accepted article has clean
/// fields (see [`clean_article`]).
pub fn accepted(bytes: &[u8]) -> Result<Option<Article>, Fault> {
    let Ok(parsed) = parse_article(bytes) else {
        return Ok(None);
    };
    clean_article(&parsed.article)?;
    Ok(Some(parsed.article))
}

/// Every field of an article is one clean line: not empty, no `\r`, no C0 control but
/// tab, no U+FFFE/U+FFFF (nor anything else the decoder removes), no leading or trailing
/// whitespace, whitespace runs collapsed to one space.
pub fn clean_article(article: &Article) -> Result<(), Fault> {
    let fields = article
        .section
        .iter()
        .map(|s| ("section".to_owned(), s))
        .chain([("title".to_owned(), &article.title)])
        .chain(article.caption.iter().map(|c| ("caption".to_owned(), c)))
        .chain((article.paragraphs.iter().enumerate()).map(|(i, p)| (format!("paragraph {i}"), p)))
        .chain(
            (article.related.iter().enumerate()).map(|(i, r)| (format!("related headline {i}"), r)),
        );
    for (field, text) in fields {
        if let Some(problem) = unclean(&field, text) {
            return fault(problem);
        }
    }
    Ok(())
}

/// Where a field of an accepted article breaks the parser's normalizations, if it does.
fn unclean(field: &str, text: &str) -> Option<String> {
    let bad = |why: &str| Some(format!("{field} {why}: {text:?}"));
    if text.is_empty() {
        return bad("is empty");
    }
    if text.contains('\r') {
        return bad("holds \\r");
    }
    if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\t') {
        return bad(&format!("holds the C0 control {c:?}"));
    }
    if let Some(c) = text.chars().find(|c| matches!(c, '\u{fffe}' | '\u{ffff}')) {
        return bad(&format!("holds the non-character {c:?}"));
    }
    // The decoder's other removals (DEL, C1, a stray BOM, every non-character).
    if let Some(c) = text.chars().find(|&c| {
        matches!(c, '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fdd0}'..='\u{fdef}')
            || (c as u32 & 0xfffe) == 0xfffe
    }) {
        return bad(&format!("holds {c:?}, which the decoder removes"));
    }
    if text.trim() != text {
        return bad("has leading or trailing whitespace");
    }
    // Lines are joined and whitespace runs collapsed to one space.
    if text.contains('\n') || text.contains(|c: char| c.is_whitespace() && c != ' ') {
        return bad("holds whitespace other than a space");
    }
    if text.contains("  ") {
        return bad("holds a run of spaces");
    }
    None
}

/// Renders `bytes` twice as the file `key`: the same entry, whose id is the UUIDv5 of the
/// key, and the same bytes and entity tags in every document of the snapshot and the
/// archive. `None` when the parser rejects the input both times.
pub fn stable(bytes: &[u8], key: &str) -> Result<Option<Rendered>, Fault> {
    let (a, b) = match (render(bytes, key)?, render(bytes, key)?) {
        (Some(a), Some(b)) => (a, b),
        (None, None) => return Ok(None),
        _ => return fault("accepted only once".into()),
    };
    let expected = entry_id(&site().id_namespace, &EntryKey::new(key));
    ensure(a.draft.id == expected, || {
        format!("id {} is not the UUIDv5 of the key", a.draft.id)
    })?;
    ensure(a.draft == b.draft, || {
        format!(
            "parsing and normalizing twice differ:\n{:?}\n{:?}",
            a.draft, b.draft
        )
    })?;
    let mut paths: Vec<&str> = a.snapshot.paths().collect();
    let mut other: Vec<&str> = b.snapshot.paths().collect();
    paths.sort_unstable();
    other.sort_unstable();
    ensure(paths == other, || {
        format!("two renders hold other documents: {paths:?}, {other:?}")
    })?;
    for path in paths {
        let (x, y) = (a.snapshot.get(path).unwrap(), b.snapshot.get(path).unwrap());
        ensure(x.body == y.body, || {
            format!("{path} differs between two renders")
        })?;
        ensure(x.etag == y.etag, || {
            format!("{path}: entity tags {} and {}", x.etag, y.etag)
        })?;
    }
    ensure(a.archive == b.archive, || {
        "the archive page differs between two renders".into()
    })?;
    Ok(Some(a))
}

/// Every XML document (the feeds in RSS and Atom, section feeds, archive pages, the OPML
/// list, the stylesheet) is well-formed and holds, literally or by reference, only
/// characters XML 1.0 allows; every JSON feed is JSON.
pub fn well_formed(r: &Rendered) -> Result<(), Fault> {
    for path in ["/feed.atom", "/feed.json", "/feeds.opml"] {
        ensure(r.snapshot.get(path).is_some(), || {
            format!("the snapshot has no {path}")
        })?;
    }
    ensure(!r.archive.is_empty(), || "no archive page".into())?;
    let documents = r
        .snapshot
        .documents()
        .map(|(path, document)| (path, document.body.as_ref()))
        .chain(
            r.archive
                .iter()
                .map(|(path, body)| (path.as_str(), body.as_slice())),
        );
    for (path, bytes) in documents {
        if path.ends_with(".json") {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(bytes) {
                return fault(format!("{path} is not JSON: {e}"));
            }
        } else if [".rss", ".atom", ".opml", ".xsl"]
            .iter()
            .any(|ext| path.ends_with(ext))
        {
            check_xml(path, bytes)?;
        }
    }
    Ok(())
}

/// XML 1.0 `Char`: tab, LF, CR, U+0020..U+D7FF, U+E000..U+FFFD, U+10000 and above.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

fn check_xml(path: &str, bytes: &[u8]) -> Result<(), Fault> {
    let xml = text(bytes, path)?;
    if let Some((i, c)) = xml.char_indices().find(|&(_, c)| !xml_char(c)) {
        return fault(format!(
            "{path}: the character {c:?} at byte {i} is not allowed in XML 1.0"
        ));
    }
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| Fault(format!("{path} is not well-formed XML: {e}\n{xml}")))?;
    // Character references too: what the document means holds only XML characters.
    for node in doc.descendants() {
        let texts = node
            .text()
            .into_iter()
            .chain(node.attributes().map(|a| a.value()));
        for t in texts {
            if let Some(c) = t.chars().find(|&c| !xml_char(c)) {
                return fault(format!(
                    "{path}: a reference to {c:?}, which XML 1.0 forbids"
                ));
            }
        }
    }
    Ok(())
}

/// feed-rs reads the main feed back in every format and finds the entry by its id, with a
/// title: in Atom and JSON Feed the article's title exactly (Atom's `type="html"`
/// unescaped), in RSS the same as a reader shows it.
pub fn read_back(r: &Rendered) -> Result<(), Fault> {
    let id = r.draft.id.to_string();
    for path in ["/feed.rss", "/feed.atom", "/feed.json"] {
        let feed = feed_rs::parser::parse(body(r, path)?)
            .map_err(|e| Fault(format!("feed-rs cannot read {path}: {e}")))?;
        let Some(found) = entry(&feed, &id) else {
            return fault(format!("{path} has no entry {id}"));
        };
        ensure(feed.entries.len() == 2, || {
            format!("{path}: {} entries, not 2", feed.entries.len())
        })?;
        let Some(title) = &found.title else {
            return fault(format!("{path}: the entry has no title"));
        };
        ensure(!title.content.is_empty(), || {
            format!("{path}: the title is empty")
        })?;
        if path.ends_with(".atom") {
            let is_html = title.content_type.essence().to_string() == "text/html";
            ensure(is_html == looks_like_html(&r.article.title), || {
                format!("{path}: title type html is {is_html}")
            })?;
        }
        let shown = title_as_shown(title, path);
        ensure(shown == r.article.title, || {
            format!(
                "{path}: the title reads {shown:?}, not {:?}",
                r.article.title
            )
        })?;
    }
    let json: serde_json::Value = serde_json::from_slice(body(r, "/feed.json")?)
        .map_err(|e| Fault(format!("/feed.json is not JSON: {e}")))?;
    let item = &json["items"][0];
    ensure(item["title"] == r.article.title.as_str(), || {
        format!("/feed.json: the title reads {}", item["title"])
    })?;
    ensure(item["id"] == id.as_str(), || {
        format!("/feed.json: the first id is {}, not {id}", item["id"])
    })
}

/// The index and the entry's page hold only the templates' markup: every character of the
/// article is escaped, so no `<script` (nor any other tag or attribute) comes from it,
/// and its title and body appear escaped.
pub fn escaped(r: &Rendered) -> Result<(), Fault> {
    let entry_page = entry_path(&r.draft.key);
    let title = escape_html(&r.draft.title);
    for path in ["/", entry_page.as_str()] {
        let page = text(body(r, path)?, path)?;
        ensure(!page.to_ascii_lowercase().contains("<script"), || {
            format!("{path}: a raw <script in\n{page}")
        })?;
        if let Some(problem) = foreign_markup(page) {
            return fault(format!("{path}: {problem}"));
        }
        ensure(page.contains(&title), || {
            format!("{path}: the escaped title {title:?} is missing\n{page}")
        })?;
    }
    let page = text(body(r, &entry_page)?, &entry_page)?;
    ensure(page.contains(&r.draft.content_html), || {
        format!("{entry_page}: the entry's body is missing")
    })
}

/// The tags and attributes the page templates write; anything else in a page came from
/// text that was not escaped.
const TEMPLATE_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "link", "style", "body", "header", "main",
    "article", "nav", "footer", "h1", "h2", "p", "a", "time", "em", "strong", "ul", "li",
];
const TEMPLATE_ATTRIBUTES: &[&str] = &[
    "lang", "charset", "name", "content", "rel", "href", "property", "type", "title", "class",
    "datetime",
];

/// The first place where a page's markup is not the templates' own: an unknown tag or
/// attribute, an attribute value that is not quoted, a raw `<` or `>` in text.
fn foreign_markup(page: &str) -> Option<String> {
    let near = |i: usize| {
        let mut start = i.saturating_sub(40);
        while !page.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (i + 80).min(page.len());
        while !page.is_char_boundary(end) {
            end += 1;
        }
        format!("{:?}", &page[start..end])
    };
    let mut i = 0;
    while i < page.len() {
        let rest = &page[i..];
        let Some(open) = rest.find(['<', '>']) else {
            break;
        };
        let at = i + open;
        if page[at..].starts_with('>') {
            return Some(format!("a raw '>' in text near {}", near(at)));
        }
        let tag = &page[at + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let name_len = tag
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '!'))
            .unwrap_or(tag.len());
        let name = &tag[..name_len];
        if !TEMPLATE_TAGS.contains(&name) {
            return Some(format!("the tag <{name}> near {}", near(at)));
        }
        let mut attrs = &tag[name_len..];
        loop {
            attrs = attrs.trim_start_matches(' ');
            if let Some(after) = attrs.strip_prefix('>') {
                attrs = after;
                break;
            }
            if name == "!DOCTYPE" && attrs.starts_with("html>") {
                attrs = &attrs["html>".len()..];
                break;
            }
            let attr_len = attrs
                .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .unwrap_or(attrs.len());
            let attr = &attrs[..attr_len];
            if !TEMPLATE_ATTRIBUTES.contains(&attr) {
                return Some(format!(
                    "the attribute {attr:?} of <{name}> near {}",
                    near(at)
                ));
            }
            let Some(value) = attrs[attr_len..].strip_prefix("=\"") else {
                return Some(format!("an unquoted attribute {attr:?} near {}", near(at)));
            };
            let Some(end) = value.find('"') else {
                return Some(format!("an unclosed attribute {attr:?} near {}", near(at)));
            };
            if value[..end].contains(['<', '>']) {
                return Some(format!("a raw '<' or '>' in {attr:?} near {}", near(at)));
            }
            attrs = &value[end + 1..];
        }
        i = page.len() - attrs.len();
    }
    None
}
