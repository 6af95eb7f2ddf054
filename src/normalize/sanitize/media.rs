//! The last step of cleaning a body that references media files beside it: in the
//! sanitized HTML, an `<img>` of a file that was read points at its `/media/` URL and
//! gets the `width` and `height` its header gave; a link to audio or video, and the
//! `src` of an `<audio>`, `<video>` or `<source>` and a video's `poster`, that was read
//! points at its `/media/` URL. The `<img>` of a file that is missing or does not read
//! becomes its alt text, a link to one becomes its text, and an `src` or `poster` that
//! names one is left out.
//!
//! It reads the sanitizer's output, whichever way made it (ammonia or the quick way), so
//! both give the same result: that output is written one way only (every attribute
//! double-quoted, `"` escaped in values, `<` escaped in text, no comments), which makes
//! a tag's end and its attributes plain to find.

use std::collections::HashMap;
use std::fmt::Write as _;

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
        match element(tag) {
            "img" => image(tag, media, &mut out),
            "a" => links.push(link(tag, media, &mut out)),
            "audio" | "source" => embedded(tag, &["src"], media, &mut out),
            "video" => embedded(tag, &["src", "poster"], media, &mut out),
            _ => out.push_str(tag),
        }
    }
    out.push_str(&html[at..]);
    out
}

/// The name of the element a tag opens (`""` for a closing tag).
fn element(tag: &str) -> &str {
    let name = &tag[1..];
    let end = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    &name[..end]
}

/// Where the value of `attribute` is in `tag`, and what the reference it holds became.
fn lookup<'m>(
    tag: &str,
    attribute: &str,
    media: &'m HashMap<String, BodyMedia>,
) -> Option<((usize, usize), &'m BodyMedia)> {
    let (start, end) = value_span(tag, attribute)?;
    let url = decode(&tag[start..end])?;
    Some(((start, end), media.get(url.as_ref())?))
}

/// `tag` with the value at `start..end` replaced by `url`.
fn with_value(tag: &str, span: (usize, usize), url: &str) -> String {
    let mut out = String::with_capacity(tag.len() + url.len());
    push_with_value(&mut out, tag, span, url);
    out
}

/// [`with_value`], written onto `out`.
fn push_with_value(out: &mut String, tag: &str, (start, end): (usize, usize), url: &str) {
    out.push_str(&tag[..start]);
    for part in url.split_inclusive(['&', '"']) {
        match part.as_bytes().last() {
            Some(b'&') => {
                out.push_str(&part[..part.len() - 1]);
                out.push_str("&amp;");
            }
            Some(b'"') => {
                out.push_str(&part[..part.len() - 1]);
                out.push_str("&quot;");
            }
            _ => out.push_str(part),
        }
    }
    out.push_str(&tag[end..]);
}

/// An `<img>`: at its `/media/` URL with the size its header gave, or its alt text.
fn image(tag: &str, media: &HashMap<String, BodyMedia>, out: &mut String) {
    match lookup(tag, "src", media) {
        None => out.push_str(tag),
        Some((_, BodyMedia::Missing)) => {
            if let Some((start, end)) = value_span(tag, "alt") {
                out.push_str(&tag[start..end].replace('<', "&lt;").replace('>', "&gt;"));
            }
        }
        Some((span, BodyMedia::Found { url, width, height })) => {
            push_with_value(out, tag, span, url);
            // Before the tag's `>`.
            out.pop();
            for (size, value) in [("width", width), ("height", height)] {
                if let Some(value) = value
                    && value_span(tag, size).is_none()
                {
                    // Writing into a String cannot fail.
                    let _ = write!(out, " {size}=\"{value}\"");
                }
            }
            out.push('>');
        }
    }
}

/// An `<a>`: at its `/media/` URL, or dropped (its text stays). Whether it was dropped.
fn link(tag: &str, media: &HashMap<String, BodyMedia>, out: &mut String) -> bool {
    match lookup(tag, "href", media) {
        None => out.push_str(tag),
        Some((_, BodyMedia::Missing)) => return true,
        Some((span, BodyMedia::Found { url, .. })) => push_with_value(out, tag, span, url),
    }
    false
}

/// An `<audio>`, `<video>` or `<source>`: each of its `attributes` at its `/media/` URL,
/// or left out when its file is missing (the element's fallback content then shows).
fn embedded(tag: &str, attributes: &[&str], media: &HashMap<String, BodyMedia>, out: &mut String) {
    let mut edits: Vec<((usize, usize), Option<&str>)> = Vec::new();
    for attribute in attributes {
        match lookup(tag, attribute, media) {
            None => {}
            Some(((start, end), BodyMedia::Missing)) => {
                // From the space before the name to the closing quote.
                let name_start = start - 2 - attribute.len();
                edits.push(((name_start - 1, end + 1), None));
            }
            Some((span, BodyMedia::Found { url, .. })) => edits.push((span, Some(url))),
        }
    }
    // From the last to the first, so each span still holds.
    edits.sort_by_key(|&((start, _), _)| std::cmp::Reverse(start));
    let mut rewritten = tag.to_owned();
    for ((start, end), url) in edits {
        rewritten = match url {
            Some(url) => with_value(&rewritten, (start, end), url),
            None => [&rewritten[..start], &rewritten[end..]].concat(),
        };
    }
    out.push_str(&rewritten);
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

    #[test]
    fn players_point_at_their_files_or_lose_a_missing_one() {
        let found = |url: &str| BodyMedia::Found {
            url: url.into(),
            width: None,
            height: None,
        };
        let media = HashMap::from([
            (
                "https://x.org/entries/k/ep.mp3".to_owned(),
                found("https://x.org/media/ep.mp3"),
            ),
            (
                "https://x.org/entries/k/v.mp4".to_owned(),
                found("https://x.org/media/v.mp4"),
            ),
            (
                "https://x.org/entries/k/gone.jpg".to_owned(),
                BodyMedia::Missing,
            ),
            (
                "https://x.org/entries/k/gone.webm".to_owned(),
                BodyMedia::Missing,
            ),
        ]);
        let html = "<audio controls src=\"https://x.org/entries/k/ep.mp3\"></audio>\
            <video poster=\"https://x.org/entries/k/gone.jpg\" src=\"https://x.org/entries/k/v.mp4\" controls>\
            <source src=\"https://x.org/entries/k/gone.webm\" type=\"video/webm\">fallback</video>";
        assert_eq!(
            rewrite(html, &media),
            "<audio controls src=\"https://x.org/media/ep.mp3\"></audio>\
            <video src=\"https://x.org/media/v.mp4\" controls>\
            <source type=\"video/webm\">fallback</video>"
        );
    }
}
