//! Untrusted HTML to the HTML an entry carries: an allowlist of elements and attributes
//! (ammonia, on html5ever's parse of the fragment), URLs checked against an allowlist of
//! schemes and made absolute against the entry's page, since feed readers show content
//! with no base of their own.
//!
//! HTML that only has the few elements and attributes Markdown turns into, written the
//! way pulldown-cmark writes them, takes a quicker way ([`simple`]): the same checks on
//! the URLs, no parse. Anything else it finds makes it give up, and ammonia does the work.

mod media;
mod simple;

use std::borrow::Cow;
use std::collections::HashMap;

use url::Url;

/// Cleans `html` for an entry's content. `base` is the address of the entry's page (its
/// `link`): every relative URL is resolved against it, `#note` to `{base}#note` too, so a
/// footnote link works from a feed reader and, when `base` is the page's exact address,
/// scrolls in place on the page.
///
/// Kept: headings, paragraphs, lists, tables (and their alignment), `code` and `pre` (with
/// `class="language-…"`), quotes, `figure`/`figcaption`, `details`/`summary`, `img` (src,
/// srcset, alt, title, width, height), `picture`/`source`, `video`/`audio` with controls,
/// links (href, title; every link gets `rel="noopener noreferrer"`), `sup`/`sub`,
/// `del`/`s`, the footnote markup pulldown-cmark writes, task-list checkboxes (always
/// `type="checkbox"`), `id`, `lang` and `title` anywhere.
///
/// Removed with their content: `script`, `style`, `iframe`, `object`, `embed`, `form`,
/// `template`, `noscript`, `textarea`, `select`, `button`, inline `svg` and `math`. Other
/// elements lose their tags and keep their text. Event attributes, `style` (but a table
/// cell's alignment) and every attribute not listed are dropped, and so is a URL whose
/// scheme is not the web's, mail's or another application's (`SCHEMES`): `javascript:`
/// and `vbscript:` in any spelling, and `data:` but for an image's `data:image/…` source.
/// Comments go too.
pub fn sanitize(html: &str, base: &Url) -> String {
    simple::sanitize_simple(html, base).unwrap_or_else(|| sanitize_any(html, base))
}

pub use media::BodyMedia;

/// [`sanitize`], then the body's local media references rewritten (`media`, keyed by
/// the URL the sanitizer writes for each): see [`media::rewrite`]. The rewrite reads
/// the sanitizer's output, so the quick way and ammonia end the same.
pub fn sanitize_with_media(html: &str, base: &Url, media: &HashMap<String, BodyMedia>) -> String {
    media::rewrite(&sanitize(html, base), media)
}

/// A reference as an attribute of the body gives it, with the character references the
/// quick way knows decoded (what both ways resolve); `None` when it has another.
pub fn decode_reference(value: &str) -> Option<Cow<'_, str>> {
    simple::decode(value)
}

/// The schemes a URL in an entry may have: ammonia's own list, the web, mail and the other
/// protocols a reader hands to an application. `data:` only as [`resolve_url`] allows it.
const SCHEMES: &[&str] = &[
    "bitcoin",
    "ftp",
    "ftps",
    "geo",
    "http",
    "https",
    "im",
    "irc",
    "ircs",
    "magnet",
    "mailto",
    "mms",
    "mx",
    "news",
    "nntp",
    "openpgp4fpr",
    "sip",
    "sms",
    "smsto",
    "ssh",
    "tel",
    "url",
    "webcal",
    "wtai",
    "xmpp",
];

/// The attributes that hold one URL, on any element that may have them.
fn is_url_attribute(attr: &str) -> bool {
    matches!(attr, "href" | "src" | "cite" | "poster")
}

/// What a URL attribute becomes: its value resolved against `base` (the WHATWG URL
/// parser's, as a browser does it: spaces around and tabs and newlines inside are
/// dropped, so "java\tscript:" is read as the browser reads it), when the scheme of the
/// result is allowed; `None` to drop the attribute. `srcset` holds a list of URLs.
fn resolve_url(element: &str, attr: &str, value: &str, base: &Url) -> Option<String> {
    if attr == "srcset" {
        return resolve_srcset(value, base);
    }
    let url = base.join(value).ok()?;
    let allowed = SCHEMES.contains(&url.scheme())
        || (element == "img" && attr == "src" && is_data_image(&url));
    allowed.then(|| url.into())
}

/// A `data:` URL of an image type, which a browser only ever shows as an image.
fn is_data_image(url: &Url) -> bool {
    url.scheme() == "data"
        && url
            .path()
            .get(..6)
            .is_some_and(|mime| mime.eq_ignore_ascii_case("image/"))
}

/// A `srcset` with every URL resolved ([`resolve_url`]), the candidates whose URL is not
/// allowed left out; `None` when none is left. The list is read as the HTML standard
/// says: candidates apart by commas, each a URL (which may hold commas itself) and
/// optional descriptors.
fn resolve_srcset(value: &str, base: &Url) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let url_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        // A URL that ends with commas ends the candidate there, with no descriptor.
        let (url, descriptor, next) = match url.trim_end_matches(',') {
            trimmed if trimmed.len() < url.len() => (trimmed, "", after),
            _ => {
                let end = after.find(',').unwrap_or(after.len());
                (url, after[..end].trim(), &after[end..])
            }
        };
        rest = next;
        if let Some(url) = resolve_url("source", "src", url, base) {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&url);
            if !descriptor.is_empty() {
                out.push(' ');
                out.push_str(descriptor);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `class="language-rust"` on code and pre (the language of a code block, for a
/// highlighter), from pulldown-cmark or any HTML.
fn is_language_class(class: &str) -> bool {
    class.strip_prefix("language-").is_some_and(|language| {
        !language.is_empty()
            && language
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'#' | b'.'))
    })
}

/// The classes of pulldown-cmark's footnote markup, by the element that carries them.
fn is_footnote_class(element: &str, class: &str) -> bool {
    matches!(
        (element, class),
        ("sup", "footnote-reference" | "footnote-definition-label")
            | ("div", "footnote-definition")
    )
}

/// The one `style` kept: a table cell's alignment, as pulldown-cmark writes it.
fn is_alignment(style: &str) -> bool {
    matches!(
        style,
        "text-align: left" | "text-align: center" | "text-align: right"
    )
}

/// The last word on every attribute ammonia's allowlist let through: URLs resolved,
/// classes and styles narrowed to the few above.
fn filter_attribute<'a>(
    base: &Url,
    element: &str,
    attr: &str,
    value: &'a str,
) -> Option<Cow<'a, str>> {
    match attr {
        "srcset" => resolve_srcset(value, base).map(Cow::Owned),
        _ if is_url_attribute(attr) => resolve_url(element, attr, value, base).map(Cow::Owned),
        "class" => {
            let kept: Vec<&str> = value
                .split_ascii_whitespace()
                .filter(|class| is_language_class(class) || is_footnote_class(element, class))
                .collect();
            (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
        }
        "style" => is_alignment(value.trim()).then_some(Cow::Borrowed(value.trim())),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Elements kept beyond ammonia's default list (which has the headings, lists, tables,
/// quotes, figures, `details`, `img`, `a`, `sup`, `del`, `s`…).
const MORE_ELEMENTS: &[&str] = &["input", "picture", "source", "video", "audio", "section"];

/// Elements removed with everything inside them: ammonia's `script` and `style`, and
/// what has no place in an entry (embedded documents and plug-ins, forms, inline SVG and
/// MathML, whose parsing differs from HTML's and was the door of ammonia's advisories).
const REMOVED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "form", "template", "noscript", "textarea",
    "select", "button", "svg", "math",
];

/// Attributes kept beyond ammonia's defaults, by element.
const MORE_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("img", &["srcset", "sizes"]),
    ("code", &["class"]),
    ("pre", &["class"]),
    ("div", &["class"]),
    ("sup", &["class"]),
    ("th", &["style"]),
    ("td", &["style"]),
    ("input", &["disabled", "checked", "type"]),
    ("source", &["src", "srcset", "sizes", "type", "media"]),
    ("video", &["src", "poster", "controls", "width", "height"]),
    ("audio", &["src", "controls"]),
];

/// The allowlist sanitizer, for any HTML.
fn sanitize_any(html: &str, base: &Url) -> String {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(MORE_ELEMENTS)
        .clean_content_tags(REMOVED_WITH_CONTENT.iter().copied().collect())
        .add_generic_attributes(["id"])
        .url_schemes(SCHEMES.iter().copied().chain(["data"]).collect())
        // A task list's checkbox, whatever the input said. One attribute only: ammonia
        // adds missing ones in the order of a hash map, which differs from run to run,
        // and the content hash must not.
        .set_tag_attribute_values([("input", [("type", "checkbox")].into())].into())
        // The filter resolves the URLs (of more attributes than ammonia would).
        .url_relative(ammonia::UrlRelative::PassThrough);
    for (element, attributes) in MORE_ATTRIBUTES {
        builder.add_tag_attributes(element, attributes.iter());
    }
    let base = base.clone();
    builder.attribute_filter(move |element, attr, value| {
        filter_attribute(&base, element, attr, value)
    });
    builder.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::simple::sanitize_simple;
    use super::*;
    use crate::parse::markdown_body;

    fn base() -> Url {
        Url::parse("https://x.org/entries/key/").unwrap()
    }

    /// Markdown in every construct the quick way knows.
    const TYPICAL: &str = "# T\n\nA [link](../a \"t\") and ![img](i.png) and <https://a.example/?a=1&b=2>,\n\
        *em* **strong** ~~del~~ `code` 'quotes' \"double\" & < >.[^1]\n\n\
        > quote\n\n1. one\n2. two\n\n- [ ] task\n- [x] done\n\n\
        | a | b |\n|:--|--:|\n| 1 | 2 |\n\n```rust\nlet x = 1 < 2;\n```\n\n---\n\n\
        [^1]: A note.\n";

    #[test]
    fn markdown_takes_the_quick_way() {
        let html = markdown_body(TYPICAL).body.html;
        let quick = sanitize_simple(&html, &base());
        assert!(quick.is_some(), "{html}");
        assert_eq!(
            sanitize_any(&html, &base()),
            sanitize_any(&quick.unwrap(), &base())
        );
    }

    /// The media rewrite reads either way's output and makes the same of both: what the
    /// quick way gives, rewritten, is what ammonia gives, rewritten.
    #[test]
    fn the_media_rewrite_ends_both_ways_the_same() {
        let url = |name: &str| base().join(name).unwrap().to_string();
        let media = HashMap::from([
            (
                url("a.png"),
                BodyMedia::Found {
                    url: "https://x.org/media/a.png".into(),
                    width: Some(3),
                    height: Some(2),
                },
            ),
            (url("gone.jpg"), BodyMedia::Missing),
            (url("ep.mp3"), BodyMedia::Missing),
        ]);
        let text = "A ![a \"quoted\" & alt](a.png \"t\") and ![gone > here](gone.jpg).\n\n\
                    [The *episode*](ep.mp3) and [a page](p.html) and ![other](o.png)\n";
        let html = markdown_body(text).body.html;
        let quick = sanitize_simple(&html, &base()).unwrap();
        let slow = sanitize_any(&html, &base());
        let rewritten = media::rewrite(&quick, &media);
        assert_eq!(rewritten, media::rewrite(&slow, &media));
        assert_eq!(sanitize_any(&rewritten, &base()), rewritten);
        assert!(
            rewritten.contains("width=\"3\" height=\"2\""),
            "{rewritten}"
        );
        assert!(
            !rewritten.contains("gone.jpg") && !rewritten.contains("ep.mp3"),
            "{rewritten}"
        );
    }

    /// A `>` in the text of raw HTML (pulldown-cmark escapes it in Markdown's) is written
    /// as the parse's serializer writes it. (Found by the property test below.)
    #[test]
    fn a_greater_than_sign_in_raw_html_is_escaped_as_ammonia_does() {
        let html = markdown_body("<b>\n</b>> ").body.html;
        let quick = sanitize_simple(&html, &base()).unwrap();
        assert_eq!(quick, sanitize_any(&html, &base()));
        assert_eq!(quick, "<b>\n</b>&gt; ");
    }

    #[test]
    fn the_same_html_is_always_cleaned_the_same() {
        for html in [
            "<input>",
            "<input type=\"text\" disabled>",
            "<input checked>",
        ] {
            let first = sanitize_any(html, &base());
            for _ in 0..16 {
                assert_eq!(sanitize_any(html, &base()), first, "{html}");
            }
        }
    }

    #[test]
    fn the_quick_way_gives_up_on_anything_else() {
        let cases = [
            ("a comment", "<p>a<!-- c -->b</p>"),
            ("an element not on its list", "<span>x</span>"),
            ("an attribute not on its list", "<p class=\"x\">x</p>"),
            ("an event attribute", "<img src=\"x\" onerror=\"alert(1)\">"),
            ("an unquoted value", "<a href=x>x</a>"),
            ("a single-quoted value", "<a href='x'>x</a>"),
            (
                "no space between attributes",
                "<a href=\"x\"title=\"t\">x</a>",
            ),
            ("an attribute twice", "<a href=\"x\" href=\"y\">x</a>"),
            ("upper case", "<P>x</P>"),
            ("a tag not closed", "<p>x"),
            ("tags closed out of order", "<em><strong>x</em></strong>"),
            ("an end tag of nothing", "x</p>"),
            ("a NUL", "<p>a\0b</p>"),
            ("a `<` in a value", "<img alt=\"<script>\">"),
            ("a `>` in a value", "<img alt=\"a>b\">"),
            ("an entity in a URL", "<a href=\"javascript&#58;x\">x</a>"),
            ("a newline in a tag", "<a\nhref=\"x\">x</a>"),
            (
                "a checkbox that could be ticked",
                "<input type=\"checkbox\">",
            ),
            ("a text input", "<input disabled=\"\" type=\"text\">"),
            (
                "a style that is not an alignment",
                "<td style=\"color: red\">x</td>",
            ),
            ("a self-closed element that is not void", "<p/>"),
            ("a doctype", "<!DOCTYPE html><p>x</p>"),
            ("a CDATA section", "<![CDATA[x]]>"),
            ("a bare ampersand in raw HTML", "<b>a & b</b>"),
            (
                "a character reference the parse decodes",
                "<b>&#106;&quot;</b>",
            ),
        ];
        for (name, html) in cases {
            assert_eq!(sanitize_simple(html, &base()), None, "{name}");
        }
    }

    /// Fragments of Markdown: links and images with every kind of URL, emphasis, code,
    /// entities, tables, lists, footnotes.
    #[rustfmt::skip]
    const MARKDOWN: &[&str] = &[
        "[", "]", "(", ")", "!", "*", "_", "`", "~~", "#", "> ", "- ", "1. ", "|", ":-", "\n",
        "\n\n", " ", "x", "word", "<", ">", "&", "&amp;", "&#106;", "\"", "'", "\\", "\t",
        "\u{a0}", "é", "javascript:", "JaVaScript:", "data:image/png,x", "data:text/html,x",
        "http://a.example/", "//h/", "../", "#f", "x.png", "[^1]", "[^1]: n", "- [ ] ", "```",
    ];

    /// Raw HTML, a comment and NUL, which the quick way mostly gives up on.
    #[rustfmt::skip]
    const OTHER: &[&str] = &[
        "<b>", "</b>", "<img src=x>", "<!-- more -->", "<span>", "\0", "<a href=\"javascript:x\">",
    ];

    /// Markdown fragments joined at random, with now and then one of [`OTHER`].
    fn markdown_text() -> impl Strategy<Value = String> {
        let markdown = proptest::sample::select(MARKDOWN);
        let other = proptest::sample::select(OTHER);
        let fragment = prop_oneof![12 => markdown, 1 => other];
        proptest::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the quick way passes, ammonia leaves as it is (but for how it writes a
        /// no-break space), and makes the same of as of the HTML it was given.
        #[test]
        fn the_quick_way_agrees_with_ammonia(text in markdown_text()) {
            let html = markdown_body(&text).body.html;
            if let Some(quick) = sanitize_simple(&html, &base()) {
                let again = sanitize_any(&quick, &base());
                prop_assert_eq!(&again.replace("&nbsp;", "\u{a0}"), &quick);
                prop_assert_eq!(again, sanitize_any(&html, &base()));
            }
        }
    }

    #[test]
    fn srcset_candidates_are_resolved_one_by_one() {
        assert_eq!(
            resolve_srcset("a.png 1x, javascript:x 2x,b.png 3x", &base()).as_deref(),
            Some("https://x.org/entries/key/a.png 1x, https://x.org/entries/key/b.png 3x")
        );
        assert_eq!(
            resolve_srcset("a,b.png, c.png 480w", &base()).as_deref(),
            Some("https://x.org/entries/key/a,b.png, https://x.org/entries/key/c.png 480w")
        );
        assert_eq!(resolve_srcset("javascript:x", &base()), None);
    }

    #[test]
    fn language_classes_are_narrow() {
        assert!(is_language_class("language-rust"));
        assert!(is_language_class("language-c++"));
        assert!(!is_language_class("language-"));
        assert!(!is_language_class("language-x\"y"));
        assert!(!is_language_class("hljs"));
    }
}
