//! The last step of cleaning a body that references media files beside it: in the
//! sanitized HTML, an `<img>` of a file that was read points at its `/media/` URL and
//! gets the `width` and `height` its header gave; a link to audio or video that was read
//! points at its `/media/` URL; the `<img>` of a file that is missing or does not read
//! becomes its alt text, and a link to one becomes its text.
//!
//! It reads the sanitizer's output, whichever way made it (ammonia or the quick way), so
//! both give the same result: that output is written one way only (every attribute
//! double-quoted, `"` escaped in values, `<` escaped in text, no comments), which makes
//! a tag's end and its attributes plain to find.

use std::collections::HashMap;

use super::simple::decode;

/// What a local media reference in the body became, keyed by the URL the sanitizer
/// wrote for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyMedia {
    /// The file was read: its `/media/` URL and an image's size.
    Found {
        url: String,
        width: Option<u32>,
        height: Option<u32>,
    },
    /// The file is missing, refused or does not read: no link to it.
    Missing,
}

/// `html` (the sanitizer's output) with the references of `media` rewritten.
pub(super) fn rewrite(html: &str, media: &HashMap<String, BodyMedia>) -> String {
    if media.is_empty() {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len() + 64);
    // For each `<a>` open: whether its tags were dropped (a link to a missing file).
    let mut links: Vec<bool> = Vec::new();
    let mut at = 0;
    while let Some(lt) = html[at..].find('<').map(|lt| at + lt) {
        out.push_str(&html[at..lt]);
        let end = tag_end(html, lt);
        let tag = &html[lt..end];
        at = end;
        if tag == "</a>" {
            if !links.pop().unwrap_or(false) {
                out.push_str(tag);
            }
            continue;
        }
        let (name, attribute) = if tag.starts_with("<img ") {
            ("img", "src")
        } else if tag.starts_with("<a ") || tag == "<a>" {
            ("a", "href")
        } else {
            out.push_str(tag);
            continue;
        };
        let found = value_span(tag, attribute)
            .and_then(|(start, end)| Some(((start, end), decode(&tag[start..end])?)))
            .and_then(|(span, url)| Some((span, media.get(url.as_ref())?)));
        let dropped = matches!(found, Some((_, BodyMedia::Missing)));
        match found {
            None => out.push_str(tag),
            Some((_, BodyMedia::Missing)) if name == "img" => {
                if let Some((start, end)) = value_span(tag, "alt") {
                    out.push_str(&tag[start..end].replace('<', "&lt;").replace('>', "&gt;"));
                }
            }
            Some((_, BodyMedia::Missing)) => {}
            Some(((start, end), BodyMedia::Found { url, width, height })) => {
                out.push_str(&tag[..start]);
                out.push_str(&url.replace('&', "&amp;").replace('"', "&quot;"));
                let rest = &tag[end..tag.len() - 1];
                out.push_str(rest);
                if name == "img" {
                    for (size, value) in [("width", width), ("height", height)] {
                        if let Some(value) = value
                            && value_span(tag, size).is_none()
                        {
                            out.push_str(&format!(" {size}=\"{value}\""));
                        }
                    }
                }
                out.push('>');
            }
        }
        if name == "a" {
            links.push(dropped);
        }
    }
    out.push_str(&html[at..]);
    out
}

/// Where the tag that opens at `lt` ends (after its `>`), skipping double-quoted values.
fn tag_end(html: &str, lt: usize) -> usize {
    let mut quoted = false;
    for (i, byte) in html.bytes().enumerate().skip(lt + 1) {
        match byte {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return i + 1,
            _ => {}
        }
    }
    html.len()
}

/// Where the value of attribute `name` is in a tag of the sanitizer's output: after the
/// element's name, attributes apart by spaces, each a name, or a name and a
/// double-quoted value (in which `"` is always escaped).
fn value_span(tag: &str, name: &str) -> Option<(usize, usize)> {
    let bytes = tag.as_bytes();
    let mut at = tag.find(' ')?;
    while at < bytes.len() {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        let name_end = bytes[at..]
            .iter()
            .position(|&b| matches!(b, b'=' | b' ' | b'>' | b'/'))
            .map_or(bytes.len(), |p| at + p);
        if name_end == at {
            return None;
        }
        let this = &tag[at..name_end];
        if !tag[name_end..].starts_with("=\"") {
            at = name_end;
            continue;
        }
        let start = name_end + 2;
        let end = tag[start..].find('"')? + start;
        if this == name {
            return Some((start, end));
        }
        at = end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_missing_and_other_references() {
        let media = HashMap::from([
            (
                "https://x.org/entries/k/a.png".to_owned(),
                BodyMedia::Found {
                    url: "https://x.org/media/a.png".into(),
                    width: Some(64),
                    height: Some(48),
                },
            ),
            (
                "https://x.org/entries/k/gone.jpg".to_owned(),
                BodyMedia::Missing,
            ),
            (
                "https://x.org/entries/k/gone.mp3".to_owned(),
                BodyMedia::Missing,
            ),
        ]);
        let html = "<p><img src=\"https://x.org/entries/k/a.png\" alt=\"src=&quot;x\">\
            <img src=\"https://x.org/entries/k/gone.jpg\" alt=\"a>b\">\
            <img src=\"https://x.org/entries/k/other.png\" alt=\"o\">\
            <a href=\"https://x.org/entries/k/gone.mp3\" rel=\"noopener noreferrer\">ep <em>1</em></a>\
            <a href=\"https://x.org/\" rel=\"noopener noreferrer\">home</a></p>";
        assert_eq!(
            rewrite(html, &media),
            "<p><img src=\"https://x.org/media/a.png\" alt=\"src=&quot;x\" width=\"64\" height=\"48\">\
            a&gt;b\
            <img src=\"https://x.org/entries/k/other.png\" alt=\"o\">\
            ep <em>1</em>\
            <a href=\"https://x.org/\" rel=\"noopener noreferrer\">home</a></p>"
        );
    }
}
