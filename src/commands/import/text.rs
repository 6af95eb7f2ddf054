//! The text conversions an import needs: HTML to one line of plain text (for titles and
//! summaries, which the front matter holds as text), plain text to HTML (for a body
//! given as text), and WordPress's paragraphs (a post's source has blank lines where its
//! pages have `<p>`).

use crate::normalize::escape_html;

/// The text of an HTML fragment on one line: tags dropped (with what `<script>` and
/// `<style>` hold), the common entities decoded, whitespace runs made one space.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&decode_entities(&rest[..open]));
        let tag = &rest[open..];
        let opens_tag =
            tag[1..].starts_with(|c: char| c.is_ascii_alphabetic() || "/!?".contains(c));
        if !opens_tag {
            // `1 < 2`: a `<` that opens no tag is text.
            text.push('<');
            rest = &tag[1..];
            continue;
        }
        let Some(close) = tag.find('>') else {
            // A tag never closed: the rest is text.
            text.push_str(&decode_entities(tag));
            rest = "";
            break;
        };
        let name = tag_name(&tag[1..close]);
        rest = &tag[close + 1..];
        if name == "script" || name == "style" {
            let end = format!("</{name}");
            rest = find_ascii_ci(rest, &end).map_or("", |at| &rest[at..]);
            rest = rest.find('>').map_or("", |at| &rest[at + 1..]);
        }
        // A tag separates words (`<p>a</p><p>b</p>` is "a b").
        text.push(' ');
    }
    text.push_str(&decode_entities(rest));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lower-case name of the tag whose inside (between `<` and `>`) is `inside`.
fn tag_name(inside: &str) -> String {
    inside
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Where `needle` (ASCII) is in `haystack`, ignoring ASCII case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes numeric character references and the named entities feeds use most; an
/// entity it does not know is left as written.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| Some((entity(&rest[1..=semi])?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 2..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of an entity's name (`amp`, `#39`, `#x2019`).
fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        _ => return None,
    })
}

/// Plain text as HTML: every character escaped, a paragraph per run of lines.
pub fn text_to_html(text: &str) -> String {
    paragraphs(&text.replace("\r\n", "\n").replace('\r', "\n"))
        .map(|paragraph| format!("<p>{}</p>", escape_html(paragraph.trim())))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The runs of lines of `text` between blank lines.
fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
}

/// The tags that open a block WordPress leaves alone rather than wrapping in `<p>`.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "iframe",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// A WordPress post's source as the HTML its pages showed (what WordPress's `wpautop`
/// does, in its main rule): a run of lines that does not open with a block tag becomes
/// a paragraph, its line breaks `<br />`. Blank lines inside `<pre>` stay. Block-editor
/// posts (`<!-- wp:`) carry their own markup and are left as they are, as WordPress
/// does.
pub fn wordpress_paragraphs(source: &str) -> String {
    let source = source.replace("\r\n", "\n").replace('\r', "\n");
    if source.contains("<!-- wp:") {
        return source;
    }
    let mut chunks: Vec<String> = Vec::new();
    let mut open_pre = false;
    for chunk in source.split("\n\n") {
        match chunks.last_mut() {
            // Inside a `<pre>`, a blank line is part of it.
            Some(last) if open_pre => {
                last.push_str("\n\n");
                last.push_str(chunk);
            }
            _ => chunks.push(chunk.to_owned()),
        }
        let last = chunks.last().map_or("", String::as_str);
        open_pre = count_ci(last, "<pre") > count_ci(last, "</pre");
    }
    chunks
        .iter()
        .map(|chunk| chunk.trim_matches('\n'))
        .filter(|chunk| !chunk.trim().is_empty())
        .map(|chunk| {
            if opens_block(chunk) {
                chunk.to_owned()
            } else {
                format!("<p>{}</p>", chunk.trim().replace('\n', "<br />\n"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn count_ci(text: &str, needle: &str) -> usize {
    let mut count = 0;
    let mut rest = text;
    while let Some(at) = find_ascii_ci(rest, needle) {
        count += 1;
        rest = &rest[at + needle.len()..];
    }
    count
}

/// Whether `chunk` opens with a block tag or a comment.
fn opens_block(chunk: &str) -> bool {
    let chunk = chunk.trim_start();
    if chunk.starts_with("<!--") {
        return true;
    }
    chunk
        .strip_prefix('<')
        .map(tag_name)
        .is_some_and(|name| BLOCK_TAGS.contains(&name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_one_line_of_text() {
        let cases = [
            ("<p>Hello <b>world</b></p>", "Hello world"),
            ("<p>a</p><p>b</p>", "a b"),
            (
                "Fish &amp; chips &#8217;n&#x2019; &lt;b&gt;",
                "Fish & chips ’n’ <b>",
            ),
            ("x <script>alert('<p>')</script> y", "x y"),
            ("1 < 2 and &unknown; &", "1 < 2 and &unknown; &"),
            ("a <b>c</b> 1 < 2 > 0", "a c 1 < 2 > 0"),
            ("line\n\n  breaks\tand  spaces", "line breaks and spaces"),
            ("&#0; stays", "&#0; stays"),
        ];
        for (html, text) in cases {
            assert_eq!(html_to_text(html), text, "{html:?}");
        }
    }

    #[test]
    fn text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("One <b>\n& two\r\n\r\nThree"),
            "<p>One &lt;b&gt;\n&amp; two</p>\n<p>Three</p>"
        );
    }

    #[test]
    fn wordpress_source_gets_its_paragraphs() {
        let source = "First line\nsecond line\n\n<h2>Head</h2>\n\n<pre>code\n\nmore</pre>\n\nLast";
        assert_eq!(
            wordpress_paragraphs(source),
            "<p>First line<br />\nsecond line</p>\n<h2>Head</h2>\n<pre>code\n\nmore</pre>\n<p>Last</p>"
        );
        let blocks = "<!-- wp:paragraph -->\n<p>Hi</p>\n<!-- /wp:paragraph -->";
        assert_eq!(wordpress_paragraphs(blocks), blocks);
    }
}
