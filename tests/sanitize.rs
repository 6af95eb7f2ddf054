//! The sanitizer every entry's HTML goes through: what it keeps of the markup articles
//! need, how it makes URLs absolute against the entry's page, and an XSS sweep of known
//! payloads through each way in (HTML as given, Markdown, an HTML article).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::xss::{HTML_PAYLOADS, MARKDOWN_PAYLOADS, assert_safe, unsafe_parts};
use seedfeed::normalize::sanitize;
use seedfeed::parse::html_text as html_to_text;
use seedfeed::parse::{html_document, markdown_body};
use url::Url;

/// The page of the entry whose content is sanitized.
const BASE: &str = "https://x.org/entries/key/";

fn clean(html: &str) -> String {
    sanitize(html, &Url::parse(BASE).unwrap())
}

fn markdown(text: &str) -> String {
    clean(&markdown_body(text).body.html)
}

/// Named cases: HTML in, the sanitized HTML out.
const URLS: &[(&str, &str, &str)] = &[
    (
        "a file beside the entry",
        "<img src=\"foo.png\" alt=\"a\">",
        "<img src=\"https://x.org/entries/key/foo.png\" alt=\"a\">",
    ),
    (
        "up a folder",
        "<a href=\"../x\">x</a>",
        "<a href=\"https://x.org/entries/x\" rel=\"noopener noreferrer\">x</a>",
    ),
    (
        "from the root",
        "<a href=\"/y\">y</a>",
        "<a href=\"https://x.org/y\" rel=\"noopener noreferrer\">y</a>",
    ),
    (
        "a fragment, on the entry's page",
        "<a href=\"#frag\">f</a>",
        "<a href=\"https://x.org/entries/key/#frag\" rel=\"noopener noreferrer\">f</a>",
    ),
    (
        "protocol-relative, on the page's scheme",
        "<img src=\"//host/z.png\">",
        "<img src=\"https://host/z.png\">",
    ),
    (
        "absolute, kept",
        "<a href=\"http://a.example/p?q=1&amp;r=2\">a</a>",
        "<a href=\"http://a.example/p?q=1&amp;r=2\" rel=\"noopener noreferrer\">a</a>",
    ),
    (
        "mail",
        "<a href=\"mailto:desk@x.org\">mail</a>",
        "<a href=\"mailto:desk@x.org\" rel=\"noopener noreferrer\">mail</a>",
    ),
    (
        "an image's data: source, kept",
        "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
        "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
    ),
    (
        "data:image anywhere else, dropped",
        "<a href=\"data:image/png;base64,iVBORw0KGgo=\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    (
        "data:text/html on an image, dropped",
        "<img src=\"data:text/html,hi\" alt=\"a\">",
        "<img alt=\"a\">",
    ),
    (
        "srcset, each candidate",
        "<img src=\"a.png\" srcset=\"a.png 1x, /b.png 2x\">",
        "<img src=\"https://x.org/entries/key/a.png\" srcset=\"https://x.org/entries/key/a.png 1x, https://x.org/b.png 2x\">",
    ),
    (
        "a quote's source and a video's poster",
        "<blockquote cite=\"src.html\">q</blockquote><video controls poster=\"p.jpg\" src=\"v.mp4\"></video>",
        "<blockquote cite=\"https://x.org/entries/key/src.html\">q</blockquote><video controls=\"\" poster=\"https://x.org/entries/key/p.jpg\" src=\"https://x.org/entries/key/v.mp4\"></video>",
    ),
    (
        "an SVG file as an image",
        "<img src=\"chart.svg\" alt=\"chart\">",
        "<img src=\"https://x.org/entries/key/chart.svg\" alt=\"chart\">",
    ),
];

#[test]
fn relative_urls_become_absolute_against_the_entry_page() {
    for (name, html, want) in URLS {
        assert_eq!(clean(html), *want, "{name}");
    }
}

#[test]
fn markdown_links_and_images_become_absolute_too() {
    assert_eq!(
        markdown("[a](../x) ![i](foo.png \"T\") <https://a.example/?a=1&b=2>"),
        "<p><a href=\"https://x.org/entries/x\" rel=\"noopener noreferrer\">a</a> \
         <img src=\"https://x.org/entries/key/foo.png\" alt=\"i\" title=\"T\"> \
         <a href=\"https://a.example/?a=1&amp;b=2\" rel=\"noopener noreferrer\">https://a.example/?a=1&amp;b=2</a></p>\n"
    );
}

/// Named cases: Markdown in, the sanitized HTML out, for the markup articles need.
const KEPT: &[(&str, &str, &str)] = &[
    (
        "a table with its alignment",
        "| a | b |\n|:-:|--:|\n| 1 | 2 |\n",
        "<table><thead><tr><th style=\"text-align: center\">a</th><th style=\"text-align: right\">b</th></tr></thead><tbody>\n\
         <tr><td style=\"text-align: center\">1</td><td style=\"text-align: right\">2</td></tr>\n</tbody></table>\n",
    ),
    (
        "a code block with its language",
        "```rust\nfn main() {}\n```\n",
        "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n",
    ),
    (
        "a task list",
        "- [ ] todo\n- [x] done\n",
        "<ul>\n<li><input disabled=\"\" type=\"checkbox\">\ntodo</li>\n\
         <li><input disabled=\"\" type=\"checkbox\" checked=\"\">\ndone</li>\n</ul>\n",
    ),
    (
        "footnotes",
        "Text.[^n]\n\n[^n]: The note.\n",
        "<p>Text.<sup class=\"footnote-reference\"><a href=\"https://x.org/entries/key/#n\" rel=\"noopener noreferrer\">1</a></sup></p>\n\
         <div class=\"footnote-definition\" id=\"n\"><sup class=\"footnote-definition-label\">1</sup>\n<p>The note.</p>\n</div>\n",
    ),
    (
        "strikethrough, emphasis, inline code",
        "~~old~~ *new* **bold** `x < y`",
        "<p><del>old</del> <em>new</em> <strong>bold</strong> <code>x &lt; y</code></p>\n",
    ),
    (
        "headings, quotes, rules, lists",
        "## Two\n\n> quoted\n\n---\n\n3. three\n4. four\n",
        "<h2>Two</h2>\n<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr>\n<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>\n",
    ),
    (
        "raw HTML an article needs",
        "<figure><img src=\"f.jpg\" alt=\"f\" width=\"640\" height=\"480\"><figcaption>Cap</figcaption></figure>\n\n\
         <details><summary>More</summary>Hidden</details>\n\nH<sub>2</sub>O, x<sup>2</sup>, <s>gone</s>\n",
        "<figure><img src=\"https://x.org/entries/key/f.jpg\" alt=\"f\" width=\"640\" height=\"480\"><figcaption>Cap</figcaption></figure>\n\
         <details><summary>More</summary>Hidden</details>\n<p>H<sub>2</sub>O, x<sup>2</sup>, <s>gone</s></p>\n",
    ),
];

#[test]
fn markup_articles_need_is_kept() {
    for (name, text, want) in KEPT {
        assert_eq!(markdown(text), *want, "{name}");
    }
}

/// Named cases: hostile HTML in, the sanitized HTML out.
const REMOVED: &[(&str, &str, &str)] = &[
    ("a script", "a<script>alert(1)</script>b", "ab"),
    (
        "an image's error handler",
        "<img src=\"x.png\" onerror=\"alert(1)\">",
        "<img src=\"https://x.org/entries/key/x.png\">",
    ),
    (
        "a style element",
        "<style>p{color:red}</style><p>x</p>",
        "<p>x</p>",
    ),
    (
        "a style attribute",
        "<p style=\"color:red\">x</p>",
        "<p>x</p>",
    ),
    (
        "an iframe",
        "<iframe src=\"https://evil.example/\">fallback</iframe>x",
        "x",
    ),
    (
        "a form",
        "<form action=\"/post\"><input name=\"q\"><button>Go</button></form>x",
        "x",
    ),
    (
        "an object and an embed",
        "<object data=\"x.swf\"><embed src=\"x.swf\"></object>x",
        "x",
    ),
    (
        "inline SVG",
        "<svg><a><set attributeName=\"href\" to=\"javascript:alert(1)\"/><text>click</text></a></svg>x",
        "x",
    ),
    (
        "MathML",
        "<math><annotation-xml encoding=\"text/html\"><style><img src=x onerror=alert(1)></style></annotation-xml></math>x",
        "x",
    ),
    ("a comment", "a<!-- secret -->b", "ab"),
    (
        "a javascript: link in any case",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    (
        "an entity-encoded scheme",
        "<a href=\"&#106;avascript&#58;alert(1)\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    (
        "a vbscript: link",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    (
        "a data:text/html link",
        "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    (
        "a checkbox that is not a task list's",
        "<input type=\"text\" value=\"v\" onfocus=\"alert(1)\">",
        "<input type=\"checkbox\">",
    ),
    (
        "a class that is not a language",
        "<code class=\"language-rust evil\">x</code><p class=\"x\">y</p>",
        "<code class=\"language-rust\">x</code><p>y</p>",
    ),
];

#[test]
fn what_could_run_or_embed_is_removed() {
    for (name, html, want) in REMOVED {
        assert_eq!(clean(html), *want, "{name}");
    }
}

#[test]
fn markdown_schemes_are_checked_in_links_autolinks_and_references() {
    let cases = [
        (
            "[x](javascript:alert(1))",
            "<p><a rel=\"noopener noreferrer\">x</a></p>\n",
        ),
        (
            "<javascript:alert(1)>",
            "<p><a rel=\"noopener noreferrer\">javascript:alert(1)</a></p>\n",
        ),
        (
            "[x](JaVaScRiPt:alert(1))",
            "<p><a rel=\"noopener noreferrer\">x</a></p>\n",
        ),
        (
            "[x](&#106;avascript:alert(1))",
            "<p><a rel=\"noopener noreferrer\">x</a></p>\n",
        ),
        (
            "[x][1]\n\n[1]: javascript:alert(1)",
            "<p><a rel=\"noopener noreferrer\">x</a></p>\n",
        ),
        (
            "![i](data:image/png;base64,iVBORw0KGgo=)",
            "<p><img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"i\"></p>\n",
        ),
        ("![i](data:text/html,x)", "<p><img alt=\"i\"></p>\n"),
    ];
    for (text, want) in cases {
        assert_eq!(markdown(text), want, "{text}");
    }
}

#[test]
fn xss_sweep_of_html_payloads() {
    for payload in HTML_PAYLOADS {
        assert_safe(&clean(payload), payload);
        // The same inside Markdown (raw HTML), and as an HTML article's body.
        assert_safe(&markdown(payload), payload);
        assert_safe(&clean(&html_document(payload).body.html), payload);
        let document = format!(
            "<html><head><title>t</title></head><body><article>{payload}</article></body></html>"
        );
        assert_safe(&clean(&html_document(&document).body.html), payload);
    }
}

/// The sweep's check is no formality: it finds something in every HTML payload as given.
#[test]
fn the_check_finds_every_payload_before_sanitizing() {
    for payload in HTML_PAYLOADS {
        assert!(!unsafe_parts(payload).is_empty(), "{payload}");
    }
}

#[test]
fn xss_sweep_of_markdown_payloads() {
    for payload in MARKDOWN_PAYLOADS {
        assert_safe(&markdown(payload), payload);
        // Inside a list and a quote, where the quick way and the parse may part.
        assert_safe(&markdown(&format!("- {payload}\n\n> {payload}\n")), payload);
    }
}

#[test]
fn the_sanitized_html_is_clean_already() {
    let samples = HTML_PAYLOADS
        .iter()
        .map(|p| p.to_string())
        .chain(MARKDOWN_PAYLOADS.iter().map(|p| markdown_body(p).body.html))
        .chain(
            KEPT.iter()
                .map(|(_, text, _)| markdown_body(text).body.html),
        )
        .chain(URLS.iter().map(|(_, html, _)| html.to_string()));
    for html in samples {
        let once = clean(&html);
        assert_eq!(clean(&once), once, "{html}");
    }
}

#[test]
fn a_megabyte_on_one_line_and_nul_bytes() {
    let line = "word <b>bold</b> [link](x.html) ".repeat(32 * 1024);
    let out = markdown(&line);
    assert_eq!(
        out.matches("<strong>").count() + out.matches("<b>").count(),
        32 * 1024
    );
    assert_safe(&out, "a megabyte");
    let html = "<p>".to_owned() + &"a\0b<em>c</em>".repeat(80 * 1024) + "</p>";
    let out = clean(&html);
    assert!(!out.contains('\0'), "NUL bytes are replaced");
    assert_eq!(out.matches("<em>").count(), 80 * 1024);
    let out = markdown("a\0b [x](y\0z)\n");
    assert!(!out.contains('\0'), "{out}");
}

#[test]
fn plain_text_of_html() {
    assert_eq!(
        html_to_text(
            "<h2>Head</h2><p>One &amp; <em>two</em>,\n  three.</p><script>x()</script><p>Four</p>"
        ),
        "Head One & two, three. Four"
    );
    assert_eq!(html_to_text("no markup"), "no markup");
    assert_eq!(html_to_text(""), "");
}
