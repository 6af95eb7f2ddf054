//! Known XSS payloads, and the check that HTML is safe to show: read as a browser's
//! tokenizer reads it (html5ever's, switching to raw text where a browser would), no
//! element that runs or embeds anything, no event attribute, and no URL attribute with a
//! scheme outside the web's (a `data:image/…` image source aside). The same check for
//! whole pages of ours (whose head has the frame's own `<title>`, `<meta>`, `<link>` and
//! `<style>`), and for the documents readers render: the HTML an RSS or Atom feed carries
//! as text (decoded, as a reader decodes it) and its URLs, JSON Feed's `content_html` and
//! URLs, and the URLs of an OPML list.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// HTML payloads from the usual cheat sheets (OWASP's, PortSwigger's), the mutation XSS
/// of the DOMPurify and ammonia advisories (SVG and MathML, `annotation-xml`, SVG
/// `set`/`animate`), and obfuscated schemes.
pub const HTML_PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>alert(1)//<</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"x\" ONERROR=\"alert(1)\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<img src=\"javascript:alert(1)\">",
    "<img srcset=\"javascript:alert(1) 1x, x.png 2x\">",
    "<img src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"  javascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"java&#x09;script:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript&#x3A;alert(1)\">x</a>",
    "<a href=javascript&colon;alert(1)>x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<a href=\"data:image/svg+xml,<svg onload=alert(1)>\">x</a>",
    "<a href=\"#\" onclick=\"alert(1)\">x</a>",
    "<a href=\"x\" onmouseover=alert(1)>x</a>",
    "<blockquote cite=\"javascript:alert(1)\">q</blockquote>",
    "<video poster=\"javascript:alert(1)\" src=\"javascript:alert(1)\"></video>",
    "<video><source onerror=alert(1) src=x></video>",
    "<audio src=x onerror=alert(1)></audio>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text y=\"20\">x</text></a></svg>",
    "<svg><a><set attributeName=\"href\" to=\"javascript:alert(1)\"></set><text>x</text></a></svg>",
    "<svg><a><animate attributeName=\"href\" values=\"javascript:alert(1)\"></animate><text>x</text></a></svg>",
    "<svg><p><style><img src=x onerror=alert(1)></style></p></svg>",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<math><annotation-xml encoding=\"text/html\"><style><img src=x onerror=alert(1)></style></annotation-xml></math>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<textarea><script>alert(1)</script></textarea>",
    "<title><img src=x onerror=alert(1)></title>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<p style=\"behavior:url(x.htc)\">x</p>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=\"stylesheet\" href=\"https://evil.example/x.css\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input onfocus=alert(1) autofocus>",
    "<input type=\"image\" src=\"javascript:alert(1)\">",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<details open ontoggle=alert(1)>x</details>",
    "<body onload=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<x onclick=alert(1)>x</x>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<select><option><script>alert(1)</script></option></select>",
    "<template><script>alert(1)</script></template>",
    "<a href=\"java\0script:alert(1)\">x</a>",
    "<img src=\"x\0\" onerror\0=alert(1)>",
];

/// Markdown payloads: schemes in links, autolinks and references, entity-encoded
/// schemes, and raw HTML.
pub const MARKDOWN_PAYLOADS: &[&str] = &[
    "[x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:text/html,<script>alert(1)</script>)",
    "[x][1]\n\n[1]: javascript:alert(1)",
    "[x](\"onmouseover=alert(1))",
    "[x](https://a.example/ \"title\\\" onmouseover=\\\"alert(1)\")",
    "![x\" onerror=\"alert(1)](x.png)",
    "<img src=x onerror=alert(1)>",
    "<script>\nalert(1)\n</script>",
    "text <span onclick=alert(1)>x</span>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "```html\n<script>alert(1)</script>\n```",
];

/// Panics, naming `what`, when `html` holds anything a browser could run.
pub fn assert_safe(html: &str, what: &str) {
    if let Some(problem) = unsafe_parts(html).first() {
        panic!("{what}: {problem} in {html:?}");
    }
}

/// The elements that run, embed or submit something, or change how the rest of the
/// page is read (raw text, foreign content).
const UNSAFE_ELEMENTS: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "form",
    "base",
    "meta",
    "link",
    "svg",
    "math",
    "template",
    "noscript",
    "textarea",
    "button",
    "select",
    "set",
    "animate",
    "foreignobject",
    "title",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
];

/// The attributes whose value is a URL (or a list of URLs).
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "cite",
    "poster",
    "action",
    "formaction",
    "data",
    "background",
    "xlink:href",
    "ping",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "usemap",
    "manifest",
    "icon",
];

/// What is unsafe in `html`, one line each. Also any "<script" at all, even one a
/// browser would not take for a script element (`<scr<script>ipt>`): a filter that
/// removes a tag once would make one of it.
pub fn unsafe_parts(html: &str) -> Vec<String> {
    check(html, Check::default())
}

/// Panics, naming `what`, when a whole page of ours holds anything a browser could run
/// beyond its frame (see [`unsafe_page_parts`]).
pub fn assert_safe_page(html: &str, what: &str) {
    let problems = unsafe_page_parts(html);
    assert!(problems.is_empty(), "{what}: {problems:?} in {html}");
}

/// [`unsafe_parts`] of a whole page of ours: in its `<head>`, the frame every page has is
/// allowed, one `<title>`, one `<style>` without attributes (the site's own rules),
/// `<meta>` that is not `http-equiv`, and `<link>`s, whose attributes are checked as any
/// other's. Markup that broke out of a title or a `content` attribute is a second title,
/// an event attribute or an element outside that frame.
pub fn unsafe_page_parts(html: &str) -> Vec<String> {
    check(
        html,
        Check {
            page: Some(RefCell::default()),
            ..Check::default()
        },
    )
}

fn check(html: &str, sink: Check) -> Vec<String> {
    let mut found = Vec::new();
    if html.to_ascii_lowercase().contains("<script") {
        found.push("\"<script\"".to_owned());
    }
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    found.extend(tokenizer.sink.problems.into_inner());
    found
}

#[derive(Default)]
struct Check {
    problems: RefCell<Vec<String>>,
    /// For a whole page: where the tokenizer is in it, and what of the frame it has seen.
    page: Option<RefCell<Frame>>,
}

/// The head of a page, as far as the tokenizer has read it.
#[derive(Default)]
struct Frame {
    in_head: bool,
    head_done: bool,
    titles: usize,
    styles: usize,
}

impl Check {
    /// Whether this start tag is the page's own frame: in the head, once each for
    /// `<title>` and `<style>`.
    fn is_frame(&self, tag: &html5ever::tokenizer::Tag) -> bool {
        let Some(page) = &self.page else {
            return false;
        };
        let mut frame = page.borrow_mut();
        let name = &*tag.name;
        if name == "head" && !frame.head_done {
            frame.in_head = true;
            return true;
        }
        if !frame.in_head {
            return false;
        }
        match name {
            "title" if frame.titles == 0 => frame.titles += 1,
            "style" if frame.styles == 0 && tag.attrs.is_empty() => frame.styles += 1,
            "meta" if !tag.attrs.iter().any(|a| &*a.name.local == "http-equiv") => {}
            "link" => {}
            _ => return false,
        }
        true
    }

    fn end_tag(&self, name: &str) {
        if let Some(page) = &self.page
            && name == "head"
        {
            let mut frame = page.borrow_mut();
            frame.in_head = false;
            frame.head_done = true;
        }
    }
}

impl TokenSink for Check {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind == TagKind::EndTag {
            self.end_tag(&tag.name);
            return TokenSinkResult::Continue;
        }
        let frame = self.is_frame(&tag);
        let mut problems = self.problems.borrow_mut();
        let name = &*tag.name;
        if UNSAFE_ELEMENTS.contains(&name) && !frame {
            problems.push(format!("element <{name}>"));
        }
        for attr in &tag.attrs {
            let attr_name = &*attr.name.local;
            if attr_name.starts_with("on") {
                problems.push(format!("event attribute {attr_name} on <{name}>"));
            }
            if attr_name == "style" && !attr.value.starts_with("text-align:") {
                problems.push(format!("style {:?} on <{name}>", &*attr.value));
            }
            if URL_ATTRIBUTES.contains(&attr_name) {
                for url in attr.value.split(',') {
                    if !is_safe_url(name, attr_name, url) {
                        problems.push(format!("{attr_name}={url:?} on <{name}>"));
                    }
                }
            }
        }
        // Read on as a browser would: the content of these elements is not markup.
        match name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

/// A URL whose scheme is the web's or mail's (what a feed's links, images and people's
/// pages must be), read as a browser reads a link's.
pub fn is_web_url(url: &str) -> bool {
    is_safe_url("a", "href", url)
}

/// A URL (entities already decoded by the tokenizer) whose scheme is the web's or mail's,
/// or an image's `data:image/…` source. Relative URLs are unsafe too: content must carry
/// absolute ones.
fn is_safe_url(element: &str, attr: &str, url: &str) -> bool {
    // What a browser drops before reading the scheme: blanks and controls around, tabs
    // and newlines inside.
    let url: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .to_ascii_lowercase();
    let web = ["https://", "http://", "mailto:"]
        .iter()
        .any(|scheme| url.starts_with(scheme));
    web || (element == "img" && attr == "src" && url.starts_with("data:image/"))
}

/// The elements of RSS and Atom whose text is a URL.
const URL_ELEMENTS: &[&str] = &["link", "comments", "docs", "uri", "icon", "logo", "url"];

/// The attributes of RSS, Atom, Media RSS and OPML whose value is a URL.
const URL_XML_ATTRIBUTES: &[&str] = &[
    "href", "url", "src", "domain", "scheme", "xmlUrl", "htmlUrl",
];

/// What is unsafe in an RSS or Atom feed (or an OPML list) as readers render it: the
/// decoded text of every element that carries HTML (RSS `description` and
/// `content:encoded`, Atom and Media RSS text constructs of `type="html"`, and an RSS
/// title a reader would take for HTML), read as HTML by [`unsafe_parts`]; and every URL
/// (links, `comments`, people's pages, images, categories' schemes), which must be the
/// web's.
pub fn unsafe_feed_parts(xml: &str) -> Vec<String> {
    use super::feeds::{ATOM_NS, CONTENT_NS, MEDIA_NS};
    let doc = match roxmltree::Document::parse(xml) {
        Ok(doc) => doc,
        Err(error) => return vec![format!("not XML: {error}")],
    };
    let mut found = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let (namespace, name) = (node.tag_name().namespace(), node.tag_name().name());
        let text: String = node.children().filter_map(|c| c.text()).collect();
        let typed_html = node.attribute("type") == Some("html");
        let html = match (namespace, name) {
            (None, "description") | (Some(CONTENT_NS), "encoded") => true,
            // RSS does not say; readers guess, as `render::rss` does.
            (None, "title") => seedfeed::normalize::looks_like_html(&text),
            (Some(ATOM_NS), _) | (Some(MEDIA_NS), _) => typed_html,
            _ => false,
        };
        if html {
            for problem in unsafe_parts(&text) {
                found.push(format!("<{name}> as HTML: {problem} in {text:?}"));
            }
        }
        if URL_ELEMENTS.contains(&name) && !text.trim().is_empty() && !is_web_url(&text) {
            found.push(format!("<{name}> {text:?}"));
        }
        for attr in node.attributes() {
            if URL_XML_ATTRIBUTES.contains(&attr.name()) && !is_web_url(attr.value()) {
                found.push(format!("{}={:?} on <{name}>", attr.name(), attr.value()));
            }
        }
    }
    found
}

/// The members of JSON Feed whose value is a URL.
const URL_MEMBERS: &[&str] = &[
    "home_page_url",
    "feed_url",
    "next_url",
    "icon",
    "favicon",
    "url",
    "external_url",
    "image",
    "banner_image",
    "avatar",
];

/// What is unsafe in a JSON Feed as readers render it: every `content_html` read as HTML
/// by [`unsafe_parts`], and every URL the web's.
pub fn unsafe_json_feed_parts(value: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member.as_str()) {
                    ("content_html", Some(html)) => {
                        found.extend(
                            unsafe_parts(html)
                                .into_iter()
                                .map(|p| format!("{key}: {p}")),
                        );
                    }
                    (key, Some(url)) if URL_MEMBERS.contains(&key) && !is_web_url(url) => {
                        found.push(format!("{key}: {url:?}"));
                    }
                    _ => found.extend(unsafe_json_feed_parts(member)),
                }
            }
        }
        serde_json::Value::Array(items) => {
            found.extend(items.iter().flat_map(unsafe_json_feed_parts));
        }
        _ => {}
    }
    found
}
