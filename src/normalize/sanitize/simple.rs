//! The quick way through the sanitizer: HTML written the way pulldown-cmark writes
//! Markdown, checked and passed through with its URLs resolved, without a parse.
//!
//! Why it is as safe as the allowlist sanitizer: the HTML passes only if every `<` in it
//! opens a tag of [`element`]'s short list, closed in order, whose attributes are that
//! element's, each once, double-quoted, with values of the expected form (the URLs go
//! through the same check as the sanitizer's). Text may hold anything but `<` and NUL,
//! and `&` only as pulldown-cmark's escapes. So a browser reading the result stays in the data state of its tokenizer throughout
//! (no comment, no raw-text or foreign element: nowhere the parse could differ from this
//! reading) and sees exactly these tags, with these attributes. Anything else, and the
//! caller falls back to ammonia.

use std::borrow::Cow;

use url::Url;

use super::{is_alignment, is_footnote_class, is_language_class, resolve_url};

/// What an attribute's value must be.
#[derive(Clone, Copy)]
enum Value {
    /// A URL, resolved and checked like the sanitizer's.
    Url,
    /// Any text (alt, title).
    Text,
    /// A code block's language class.
    Language,
    /// One of pulldown-cmark's footnote classes for this element.
    Footnote,
    /// A table cell's alignment.
    Align,
    /// An id: letters, digits and `_ - . :`.
    Id,
    /// A list's start number.
    Number,
    /// A given value, exactly.
    Exactly(&'static str),
}

struct Element {
    attributes: &'static [(&'static str, Value)],
    void: bool,
}

const fn element_with(attributes: &'static [(&'static str, Value)], void: bool) -> Element {
    Element { attributes, void }
}

const PLAIN: Element = element_with(&[], false);
const VOID: Element = element_with(&[], true);
const OL: Element = element_with(&[("start", Value::Number)], false);
const CODE: Element = element_with(&[("class", Value::Language)], false);
const CELL: Element = element_with(&[("style", Value::Align)], false);
const A: Element = element_with(&[("href", Value::Url), ("title", Value::Text)], false);
const SUP: Element = element_with(&[("class", Value::Footnote)], false);
const DIV: Element = element_with(&[("class", Value::Footnote), ("id", Value::Id)], false);
const IMG: Element = element_with(
    &[
        ("src", Value::Url),
        ("alt", Value::Text),
        ("title", Value::Text),
    ],
    true,
);
const INPUT: Element = element_with(
    &[
        ("disabled", Value::Exactly("")),
        ("type", Value::Exactly("checkbox")),
        ("checked", Value::Exactly("")),
    ],
    true,
);

/// The elements of the quick way, and their attributes: what pulldown-cmark writes for
/// CommonMark and the four extensions, and a few elements Markdown writers add by hand.
fn element(name: &str) -> Option<&'static Element> {
    Some(match name {
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "em" | "strong" | "del" | "s" | "b"
        | "i" | "sub" | "kbd" | "blockquote" | "ul" | "li" | "pre" | "table" | "thead"
        | "tbody" | "tr" => &PLAIN,
        "ol" => &OL,
        "code" => &CODE,
        "th" | "td" => &CELL,
        "a" => &A,
        "sup" => &SUP,
        "div" => &DIV,
        "img" => &IMG,
        "input" => &INPUT,
        "hr" | "br" => &VOID,
        _ => return None,
    })
}

/// `html` with its URLs resolved, when it is HTML of the quick way; `None` when it is not.
pub(super) fn sanitize_simple(html: &str, base: &Url) -> Option<String> {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + html.len() / 4);
    let mut open: Vec<&str> = Vec::new();
    let mut at = 0;
    while let Some(lt) = memchr::memchr(b'<', &bytes[at..]) {
        let lt = at + lt;
        push_text(&mut out, &html[at..lt])?;
        let gt = lt + memchr::memchr(b'>', &bytes[lt..])?;
        push_tag(&mut out, &mut open, &html[lt + 1..gt], base)?;
        at = gt + 1;
    }
    push_text(&mut out, &html[at..])?;
    open.is_empty().then_some(out)
}

/// Text between tags: anything but NUL, which the parse turns into U+FFFD, with each `>`
/// written `&gt;` as the parse's serializer writes it. A `&` only as the start of
/// `&amp;`, `&lt;` or `&gt;`, what pulldown-cmark writes: a bare `&` or any other
/// character reference (raw HTML may hold either) the parse would rewrite.
fn push_text(out: &mut String, text: &str) -> Option<()> {
    let bytes = text.as_bytes();
    if memchr::memchr(0, bytes).is_some() {
        return None;
    }
    for amp in memchr::memchr_iter(b'&', bytes) {
        let rest = &text[amp..];
        if !["&amp;", "&lt;", "&gt;"]
            .iter()
            .any(|e| rest.starts_with(e))
        {
            return None;
        }
    }
    let mut copied = 0;
    for gt in memchr::memchr_iter(b'>', bytes) {
        // `gt` is the index of an ASCII byte, so a char boundary.
        out.push_str(&text[copied..gt]);
        out.push_str("&gt;");
        copied = gt + 1;
    }
    out.push_str(&text[copied..]);
    Some(())
}

/// One tag (what is between `<` and `>`), checked and written.
fn push_tag<'h>(out: &mut String, open: &mut Vec<&'h str>, tag: &'h str, base: &Url) -> Option<()> {
    if let Some(name) = tag.strip_prefix('/') {
        // Only an element that was opened, and so is on the list, can be closed.
        if open.pop()? != name {
            return None;
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
        return Some(());
    }
    let name_end = tag
        .bytes()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    let name = &tag[..name_end];
    let element = element(name)?;
    let mut rest = &tag[name_end..];
    if let Some(before) = rest.strip_suffix('/') {
        if !element.void {
            return None;
        }
        rest = before;
    }
    out.push('<');
    out.push_str(name);
    let seen = push_attributes(out, name, element, rest, base)?;
    match name {
        "a" => out.push_str(" rel=\"noopener noreferrer\""),
        // A task list's checkbox is always one, and never to be ticked by the reader.
        "input" if seen & 0b11 != 0b11 => return None,
        _ => {}
    }
    out.push('>');
    if !element.void {
        open.push(name);
    }
    Some(())
}

/// The attributes of a tag, checked and written; returns which of the element's
/// attributes were there, one bit each in the order of its list.
fn push_attributes(
    out: &mut String,
    name: &str,
    element: &Element,
    mut rest: &str,
    base: &Url,
) -> Option<u32> {
    let mut seen = 0u32;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        if trimmed.is_empty() {
            return Some(seen);
        }
        // Attributes are apart by spaces.
        if trimmed.len() == rest.len() {
            return None;
        }
        let (attr, after) = trimmed.split_once("=\"")?;
        let (value, after) = after.split_once('"')?;
        rest = after;
        let index = element.attributes.iter().position(|(n, _)| *n == attr)?;
        if seen & (1 << index) != 0 || value.contains('<') {
            return None;
        }
        seen |= 1 << index;
        push_attribute(out, name, attr, element.attributes[index].1, value, base)?;
    }
}

fn push_attribute(
    out: &mut String,
    element: &str,
    name: &str,
    kind: Value,
    value: &str,
    base: &Url,
) -> Option<()> {
    let ok = match kind {
        Value::Url => {
            // A URL the sanitizer refuses is dropped, as ammonia drops it.
            if let Some(url) = resolve_url(element, name, &decode(value)?, base) {
                push_attribute_text(out, name, &url);
            }
            return Some(());
        }
        Value::Text => true,
        Value::Language => is_language_class(value),
        Value::Footnote => is_footnote_class(element, value),
        Value::Align => is_alignment(value),
        Value::Id => {
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
        }
        Value::Number => {
            (1..=9).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
        }
        Value::Exactly(expected) => value == expected,
    };
    if !ok {
        return None;
    }
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(value);
    out.push('"');
    Some(())
}

/// Writes ` name="value"`, escaping what an attribute value must.
fn push_attribute_text(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    let mut copied = 0;
    for (i, byte) in value.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        // `i` is the index of an ASCII byte, so a char boundary.
        out.push_str(&value[copied..i]);
        out.push_str(entity);
        copied = i + 1;
    }
    out.push_str(&value[copied..]);
    out.push('"');
}

/// A URL attribute's value with the character references pulldown-cmark writes decoded
/// (`&amp;`, `&#x27;`, and the three others of HTML escaping). Any other reference, and
/// this gives up: the browser would decode it before reading the scheme.
pub(super) fn decode(value: &str) -> Option<Cow<'_, str>> {
    if !value.contains('&') {
        return Some(Cow::Borrowed(value));
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let (entity, c) = [
            ("&amp;", '&'),
            ("&#x27;", '\''),
            ("&#39;", '\''),
            ("&quot;", '"'),
            ("&lt;", '<'),
            ("&gt;", '>'),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))?;
        out.push(c);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}
