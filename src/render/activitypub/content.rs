//! An entry's HTML as the few elements Mastodon keeps of a remote post: paragraphs,
//! line breaks, links and spans. Mastodon's sanitizer drops every other tag and runs the
//! text together, so the structure is carried over first: each block (a heading, a quote,
//! a figure caption…) becomes a paragraph, a list one paragraph with a line per item
//! ("• " or "1. " before it), a table row a line, a `pre` block's newlines line breaks.
//! Images, audio, video and embedded documents are left out (the entry's image and
//! enclosure go as attachments); scripts, styles, inline SVG and MathML go with their
//! content; other inline elements (`strong`, `em`, `code`…) lose their tags and keep
//! their text.
//!
//! One pass of html5ever's tokenizer writes that structure; ammonia, with only those
//! four elements allowed, then cleans what the pass wrote, so that nothing else can get
//! through whatever the input was. Both passes are linear in the size of the HTML.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::{LocalName, local_name};

use crate::normalize::escape_html;
use crate::render::web_url;

/// `html` as Mastodon keeps it: only `p`, `br`, `a` (`href` and `rel`) and `span`, the
/// text of everything else in paragraphs. Empty when the HTML has no text.
pub fn mastodon_html(html: &str) -> String {
    let flat = flatten(html);
    allowlist().clean(&flat).to_string()
}

/// Plain text as paragraphs: escaped, a blank line between paragraphs, a line break for
/// each other newline. Empty when the text is only whitespace.
pub fn text_paragraphs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let normalized = text.replace("\r\n", "\n");
    for paragraph in normalized.split("\n\n") {
        let lines: Vec<&str> = paragraph
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        out.push_str("<p>");
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            out.push_str(&escape_html(line));
        }
        out.push_str("</p>");
    }
    out
}

/// The ammonia allowlist of the second pass: the four elements, links with a web or
/// mail address (relative ones are dropped: a remote server has no base for them) and
/// the `rel` the first pass kept, never a class.
fn allowlist() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(["p", "br", "a", "span"].into())
        .tag_attributes([("a", ["href", "rel"].into())].into())
        .generic_attributes(std::collections::HashSet::new())
        .url_schemes(["http", "https", "mailto"].into())
        .url_relative(ammonia::UrlRelative::Deny)
        // `rel` is the first pass's: ammonia would otherwise set its own on every link.
        .link_rel(None)
        .clean_content_tags(["script", "style"].into())
        .strip_comments(true);
    builder
}

/// The first pass: the structure of `html` as paragraphs, line breaks and links.
fn flatten(html: &str) -> String {
    let tokenizer = Tokenizer::new(
        Sink(RefCell::new(Flatten::new(html.len()))),
        TokenizerOpts::default(),
    );
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    // A sink that never asks to run a script makes the tokenizer read to the end.
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let mut walk = tokenizer.sink.0.into_inner();
    walk.close_paragraph();
    walk.out
}

struct Sink(RefCell<Flatten>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        self.0.borrow_mut().token(token)
    }
}

/// Elements left out with everything inside them: code, styles, plug-ins, forms, inline
/// SVG and MathML, and media, whose fallback text is not the article's.
fn is_dropped_with_content(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("script")
            | local_name!("style")
            | local_name!("template")
            | local_name!("noscript")
            | local_name!("iframe")
            | local_name!("object")
            | local_name!("embed")
            | local_name!("svg")
            | local_name!("math")
            | local_name!("video")
            | local_name!("audio")
            | local_name!("picture")
            | local_name!("textarea")
            | local_name!("select")
            | local_name!("button")
            | local_name!("title")
            | local_name!("head")
            | local_name!("xmp")
            | local_name!("noembed")
            | local_name!("noframes")
    )
}

/// The state the tokenizer must read an element's content in, for the elements whose
/// content is not markup (the HTML standard's tree construction rules say which).
fn raw_state(name: &LocalName) -> Option<TokenSinkResult<()>> {
    Some(match *name {
        local_name!("script") => TokenSinkResult::RawData(RawKind::ScriptData),
        local_name!("style")
        | local_name!("xmp")
        | local_name!("iframe")
        | local_name!("noembed")
        | local_name!("noframes") => TokenSinkResult::RawData(RawKind::Rawtext),
        local_name!("title") | local_name!("textarea") => TokenSinkResult::RawData(RawKind::Rcdata),
        _ => return None,
    })
}

/// Elements that end the paragraph before them and start a new one after them.
fn is_block(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("p")
            | local_name!("div")
            | local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
            | local_name!("blockquote")
            | local_name!("pre")
            | local_name!("figure")
            | local_name!("figcaption")
            | local_name!("section")
            | local_name!("article")
            | local_name!("aside")
            | local_name!("header")
            | local_name!("footer")
            | local_name!("nav")
            | local_name!("main")
            | local_name!("details")
            | local_name!("summary")
            | local_name!("address")
            | local_name!("dl")
            | local_name!("dt")
            | local_name!("dd")
            | local_name!("table")
            | local_name!("caption")
            | local_name!("hr")
            | local_name!("center")
            | local_name!("ul")
            | local_name!("ol")
            | local_name!("body")
            | local_name!("html")
    )
}

/// An open `<a>` of the input.
enum Link {
    /// To be written before its first text: its start tag. A link opens in each
    /// paragraph it has text in (a paragraph cannot hold a paragraph), and a link with
    /// no text is not written at all.
    Pending(String),
    /// Its start tag (kept for the next paragraph) is written in the open paragraph.
    Written(String),
    /// Not written: it has no web or mail address, or is inside another link. Its text
    /// is kept.
    Plain,
}

/// The walk of the first pass.
struct Flatten {
    out: String,
    /// A `<p>` is open in `out`.
    open_paragraph: bool,
    /// Nothing written yet on the current line: a space would lead it.
    line_start: bool,
    /// Whitespace seen since the last text: one space before the next word.
    space: bool,
    /// What goes before the next text: a list item's bullet or number.
    prefix: Option<String>,
    /// The element whose content is being left out, and how deep it nests in itself.
    skip: Option<(LocalName, usize)>,
    /// The open `<a>` tags.
    links: Vec<Link>,
    /// The open lists: `None` for a bulleted one, the next number for a numbered one.
    lists: Vec<Option<u64>>,
    /// How many `pre` blocks are open: their newlines are line breaks.
    pre: usize,
}

impl Flatten {
    fn new(len: usize) -> Self {
        Self {
            out: String::with_capacity(len),
            open_paragraph: false,
            line_start: true,
            space: false,
            prefix: None,
            skip: None,
            links: Vec::new(),
            lists: Vec::new(),
            pre: 0,
        }
    }

    fn token(&mut self, token: Token) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) if self.skip.is_some() => self.skipped_tag(&tag),
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => return self.start(tag),
            Token::TagToken(tag) => self.end(&tag.name),
            Token::CharacterTokens(text) if self.skip.is_none() => self.text(&text),
            Token::EOFToken => self.close_paragraph(),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// A tag inside an element being left out: only its own name counts, to find its end.
    fn skipped_tag(&mut self, tag: &Tag) {
        let Some((name, depth)) = &mut self.skip else {
            return;
        };
        if tag.name != *name || tag.self_closing {
            return;
        }
        match tag.kind {
            TagKind::StartTag => *depth += 1,
            TagKind::EndTag if *depth > 1 => *depth -= 1,
            TagKind::EndTag => self.skip = None,
        }
    }

    fn start(&mut self, tag: Tag) -> TokenSinkResult<()> {
        let name = &tag.name;
        if is_dropped_with_content(name) {
            // HTML ignores the slash of `<video/>`; only SVG and MathML close that way.
            let foreign = matches!(*name, local_name!("svg") | local_name!("math"));
            if !(foreign && tag.self_closing) {
                self.skip = Some((name.clone(), 1));
                if let Some(state) = raw_state(name) {
                    return state;
                }
            }
            return TokenSinkResult::Continue;
        }
        match *name {
            local_name!("br") => self.line_break(),
            local_name!("a") => self.open_link(&tag),
            local_name!("li") => self.list_item(&tag),
            local_name!("tr") => self.line_break(),
            local_name!("td") | local_name!("th") => self.space = true,
            local_name!("ul") => self.lists.push(None),
            local_name!("ol") => {
                let start = attribute(&tag, "start").and_then(|s| s.trim().parse().ok());
                self.lists.push(Some(start.unwrap_or(1)));
            }
            _ => {}
        }
        if *name == local_name!("pre") {
            self.pre += 1;
        }
        if is_block(name) {
            self.close_paragraph();
        }
        TokenSinkResult::Continue
    }

    fn end(&mut self, name: &LocalName) {
        match *name {
            local_name!("a") => {
                if let Some(Link::Written(_)) = self.links.pop() {
                    self.out.push_str("</a>");
                }
            }
            local_name!("ul") | local_name!("ol") => {
                self.lists.pop();
            }
            local_name!("pre") => self.pre = self.pre.saturating_sub(1),
            local_name!("br") => self.line_break(),
            _ => {}
        }
        if is_block(name) {
            self.close_paragraph();
        }
    }

    /// A link is written when it has a web or mail address and is not inside another.
    fn open_link(&mut self, tag: &Tag) {
        let inside_one = self.links.iter().any(|link| !matches!(link, Link::Plain));
        let href = attribute(tag, "href")
            .map(str::trim)
            .filter(|href| web_url(href).is_some() || is_mailto(href));
        let Some(href) = href.filter(|_| !inside_one) else {
            self.links.push(Link::Plain);
            return;
        };
        let mut start = format!("<a href=\"{}\"", escape_html(href));
        if let Some(rel) = attribute(tag, "rel").filter(|rel| is_rel(rel)) {
            start.push_str(&format!(" rel=\"{}\"", rel.trim()));
        }
        start.push('>');
        self.links.push(Link::Pending(start));
    }

    /// Writes the start tag of a link waiting for its text.
    fn write_pending_link(&mut self) {
        for link in &mut self.links {
            if let Link::Pending(start) = link {
                self.out.push_str(start);
                *link = Link::Written(std::mem::take(start));
            }
        }
    }

    /// A list item: a line of the list's paragraph, led by a bullet or its number.
    fn list_item(&mut self, tag: &Tag) {
        self.line_break();
        let prefix = match self.lists.last_mut() {
            Some(Some(number)) => {
                let value = attribute(tag, "value").and_then(|v| v.trim().parse().ok());
                let this = value.unwrap_or(*number);
                *number = this.saturating_add(1);
                format!("{this}. ")
            }
            Some(None) | None => "• ".to_owned(),
        };
        self.prefix = Some(prefix);
    }

    fn text(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\n' if self.pre > 0 => self.line_break(),
                ' ' | '\t' | '\n' | '\r' | '\x0c' => self.space = true,
                _ => {
                    self.open_line();
                    if self.space && !self.line_start {
                        self.out.push(' ');
                    }
                    self.write_pending_link();
                    self.space = false;
                    self.line_start = false;
                    push_escaped_char(&mut self.out, c);
                }
            }
        }
    }

    /// Opens a paragraph when none is, and writes a pending list prefix.
    fn open_line(&mut self) {
        if !self.open_paragraph {
            self.out.push_str("<p>");
            self.open_paragraph = true;
            self.line_start = true;
            self.space = false;
        }
        if let Some(prefix) = self.prefix.take() {
            self.out.push_str(&escape_html(&prefix));
            self.line_start = true;
            self.space = false;
        }
    }

    /// A line break inside the open paragraph; nothing at the start of one.
    fn line_break(&mut self) {
        if self.open_paragraph && !(self.line_start && self.out.ends_with("<br>")) {
            self.out.push_str("<br>");
        }
        self.line_start = true;
        self.space = false;
    }

    /// Ends the open paragraph, and a link open in it, which opens again in the next
    /// paragraph with text.
    fn close_paragraph(&mut self) {
        for link in &mut self.links {
            if let Link::Written(start) = link {
                self.out.push_str("</a>");
                *link = Link::Pending(std::mem::take(start));
            }
        }
        if self.open_paragraph {
            if self.out.ends_with("<br>") {
                self.out.truncate(self.out.len() - "<br>".len());
            }
            self.out.push_str("</p>");
            self.open_paragraph = false;
        }
        self.line_start = true;
        self.space = false;
    }
}

fn attribute<'t>(tag: &'t Tag, name: &str) -> Option<&'t str> {
    tag.attrs
        .iter()
        .find(|attr| &*attr.name.local == name)
        .map(|attr| attr.value.as_ref())
}

fn is_mailto(href: &str) -> bool {
    href.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
        && !href.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A `rel` worth keeping: link types, lowercase words and spaces.
fn is_rel(rel: &str) -> bool {
    !rel.trim().is_empty() && rel.bytes().all(|b| b.is_ascii_lowercase() || b == b' ')
}

fn push_escaped_char(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Named real-world bodies and what Mastodon is given of them.
    #[test]
    fn bodies_keep_their_text_in_paragraphs() {
        for (name, html, expected) in [
            (
                "paragraphs",
                "<p>One</p>\n<p>Two</p>",
                "<p>One</p><p>Two</p>",
            ),
            (
                "a heading is a paragraph",
                "<h2>Part <em>one</em></h2><p>Text</p>",
                "<p>Part one</p><p>Text</p>",
            ),
            (
                "inline tags lose their tags, not their words",
                "<p><strong>Bold</strong> and <code>x &lt; y</code>, im<em>possible</em></p>",
                "<p>Bold and x &lt; y, impossible</p>",
            ),
            (
                "a bulleted list",
                "<ul>\n<li>a</li>\n<li>b</li>\n</ul>",
                "<p>• a<br>• b</p>",
            ),
            (
                "a numbered loose list",
                "<ol start=\"3\"><li><p>a</p></li><li><p>b</p></li></ol>",
                "<p>3. a</p><p>4. b</p>",
            ),
            (
                "a nested list",
                "<ul><li>a<ul><li>b</li></ul></li></ul>",
                "<p>• a</p><p>• b</p>",
            ),
            ("a line break", "<p>a<br>b<br/></p>", "<p>a<br>b</p>"),
            (
                "pre",
                "<pre><code>x = 1\ny = 2</code></pre>",
                "<p>x = 1<br>y = 2</p>",
            ),
            (
                "an image and its caption",
                "<figure><img src=\"https://x.org/a.jpg\" alt=\"A\"><figcaption>Cap</figcaption></figure>",
                "<p>Cap</p>",
            ),
            (
                "scripts, styles, iframes and svg go with their content",
                "<p>a</p><script>alert('<p>x</p>')</script><style>p{}</style>\
                 <iframe src=\"https://e.org\">frame</iframe><svg><text>t</text><svg>u</svg></svg><p>b</p>",
                "<p>a</p><p>b</p>",
            ),
            (
                "video with fallback text",
                "<video src=\"https://x.org/v.mp4\" controls>Your browser</video><p>b</p>",
                "<p>b</p>",
            ),
            (
                "a table row is a line",
                "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>",
                "<p>A B<br>1 2</p>",
            ),
            ("text alone", "just text", "<p>just text</p>"),
            ("nothing", " \n <img src=\"https://x.org/a.png\"> ", ""),
        ] {
            assert_eq!(mastodon_html(html), expected, "{name}");
        }
    }

    #[test]
    fn links_keep_their_web_address_and_rel() {
        for (name, html, expected) in [
            (
                "a link",
                "<p>See <a href=\"https://e.org/?a=1&amp;b=2\" rel=\"noopener noreferrer\" class=\"x\" title=\"t\">this</a>.</p>",
                "<p>See <a href=\"https://e.org/?a=1&amp;b=2\" rel=\"noopener noreferrer\">this</a>.</p>",
            ),
            (
                "mail",
                "<p><a href=\"mailto:a@e.org\">mail</a></p>",
                "<p><a href=\"mailto:a@e.org\">mail</a></p>",
            ),
            (
                "javascript",
                "<p><a href=\"javascript:alert(1)\">x</a></p>",
                "<p>x</p>",
            ),
            ("relative", "<p><a href=\"/a\">x</a></p>", "<p>x</p>"),
            (
                "a link in a link",
                "<a href=\"https://a.org\">a <a href=\"https://b.org\">b</a> c</a>",
                "<p><a href=\"https://a.org\">a b c</a></p>",
            ),
            (
                "a link around blocks links each",
                "<a href=\"https://a.org\"><h2>T</h2><p>x</p></a><p>y</p>",
                "<p><a href=\"https://a.org\">T</a></p><p><a href=\"https://a.org\">x</a></p><p>y</p>",
            ),
            (
                "a link without text",
                "<p>a<a href=\"https://a.org\"><img src=\"https://a.org/i.png\"></a> b</p>",
                "<p>a b</p>",
            ),
        ] {
            assert_eq!(mastodon_html(html), expected, "{name}");
        }
    }

    /// Whatever the input, only the four elements come out.
    #[test]
    fn only_the_allowed_elements_come_out() {
        let hostile = "<p onclick=\"x\">a<span class=\"h\" style=\"s\">b</span></p>\
                       <math><mi>x</mi></math><p><a href=\"https://a.org\" onmouseover=\"x\">l</a>\
                       <img src=x onerror=alert(1)></p><!-- c --><noscript><p>n</p></noscript>\
                       <form><input value=\"v\"><button>go</button></form>";
        let out = mastodon_html(hostile);
        assert_eq!(out, "<p>ab</p><p><a href=\"https://a.org\">l</a></p>");
    }

    #[test]
    fn plain_text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_paragraphs("News & views\nfrom <here>\n\n\nSecond "),
            "<p>News &amp; views<br>from &lt;here&gt;</p><p>Second</p>"
        );
        assert_eq!(text_paragraphs("  \n "), "");
    }
}
