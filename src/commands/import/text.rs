//! The text conversions an import needs: HTML to one line of plain text (for titles and
//! summaries, which the front matter holds as text), plain text to HTML (for a body
//! given as text), and WordPress's paragraphs (a post's source has blank lines where its
//! pages have `<p>`).

use crate::normalize::escape_html;

/// The text of an HTML fragment on one line: the parser's, which the daemon reads
/// HTML articles with.
pub use crate::parse::html_text as html_to_text;

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
            // The HTML standard reads a NUL reference as the replacement character.
            ("&#0; stays", "\u{fffd} stays"),
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
