//! An HTML article to an HTML body: a fragment, or a whole document whose first
//! `<article>` (or else its `<body>`) is the body, with what its `<head>` says as
//! fallbacks for the front matter. Also the plain text of any HTML, for summaries.
//!
//! Two passes of html5ever's tokenizer, no tree: the first splits the document into its
//! head (title, metas, language) and the HTML of the part taken, leaving out scripts,
//! styles and every other element whose content is not markup; the second reads that
//! part for the title, the excerpt and the first paragraph, and takes a leading `<h1>`
//! out. The HTML is written back from the tokens, not sanitized: `normalize::sanitize`
//! does that, for every format.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::{Attribute, LocalName};

use super::words::join_words;
use crate::model::{FrontMatter, HtmlBody, Person};

/// What an HTML article gives: its title, what its head says, and its body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtmlDocument {
    pub title: Option<String>,
    pub front: FrontMatter,
    pub body: HtmlBody,
}

/// Reads an HTML article (a fragment or a whole document).
///
/// - The body: the content of the first `<article>`, else of `<body>` (or of everything
///   after the head, for a document that leaves `<body>` out), else the whole fragment.
///   Scripts, styles, comments and the content of `<title>`, `<textarea>`, `<iframe>`
///   and the like are left out.
/// - `title`: `<title>`, else the first `<h1>` of the body. A leading `<h1>` (the body's
///   first element) is taken out of the body when it is the title: when there is no
///   `<title>`, or `<title>` is the same text, alone or beside the site's name
///   ("Post | Site", "Site – Post"); then the `<h1>` is the title.
/// - `front`: from `<meta>`: `name="description"` (summary), `name="author"` (one author
///   per tag), `name="keywords"` (tags, comma-separated) and `property="article:tag"`,
///   `property="article:published_time"` and `"article:modified_time"` (RFC 3339 or a
///   date), `property="og:image"` and `"og:image:alt"`; and `lang` from `<html lang>`.
///   `<link rel="canonical">` is a page's own address, not a link post's: ignored.
/// - `body.excerpt` and `body.first_paragraph`: as for Markdown, the text before a
///   `<!-- more -->` comment and the first `<p>` with text outside a quote, a list, a
///   table or an aside.
pub fn html_document(text: &str) -> HtmlDocument {
    let split = tokenize(text, Split::default());
    let region = match split.article {
        Some((start, end)) => &split.body[start..end.unwrap_or(split.body.len())],
        None => &split.body[..],
    };
    let head_title = split.title.finish();
    let mut outline = tokenize(region, Outline::new(head_title.as_deref()));
    outline.finish();
    let Outline {
        title,
        first_h1,
        out,
        excerpt,
        first_paragraph,
        ..
    } = outline;
    let title = title.or(head_title).or(first_h1);
    HtmlDocument {
        title,
        front: split.front,
        body: HtmlBody {
            html: out,
            excerpt,
            first_paragraph,
        },
    }
}

/// The plain text of an HTML fragment: its text with entities decoded and every
/// whitespace run collapsed to one space, a space between blocks ("<p>a</p><p>b</p>" is
/// "a b"), none around inline elements ("<em>im</em>possible" is one word). The content
/// of scripts, styles and the like is left out, and so are attributes (an image's alt).
pub fn html_text(html: &str) -> String {
    let mut text = PlainText::default();
    html_text_into(&mut text, html);
    text.finish().unwrap_or_default()
}

/// Appends the plain text of `html` to `text` ([`html_text`]).
pub(super) fn html_text_into(text: &mut PlainText, html: &str) {
    let walk = tokenize(
        html,
        TextOnly {
            text: std::mem::take(text),
            skip: None,
        },
    );
    *text = walk.text;
}

/// Plain text being collected: pieces of text and gaps, collapsed to words and single
/// spaces at the end.
#[derive(Debug, Default)]
pub(super) struct PlainText {
    raw: String,
}

impl PlainText {
    /// Appends text; a NUL becomes U+FFFD, as CommonMark and the HTML parser have it.
    pub(super) fn push(&mut self, text: &str) {
        if memchr::memchr(0, text.as_bytes()).is_some() {
            self.raw.push_str(&text.replace('\0', "\u{fffd}"));
        } else {
            self.raw.push_str(text);
        }
    }

    /// A break between words: the end of a block, a line break.
    pub(super) fn gap(&mut self) {
        if !self.raw.is_empty() && !self.raw.ends_with(' ') {
            self.raw.push(' ');
        }
    }

    pub(super) fn len(&self) -> usize {
        self.raw.len()
    }

    pub(super) fn truncate(&mut self, len: usize) {
        self.raw.truncate(len);
    }

    /// The text, or `None` when it has no words.
    pub(super) fn finish(&self) -> Option<String> {
        let words = join_words(&self.raw);
        (!words.is_empty()).then_some(words)
    }
}

/// A walk over the tokens of a text: what [`TokenSink`] asks, with `&mut self`.
trait Walk {
    /// Takes one token; returns the state the tokenizer must switch to, if not the usual.
    fn token(&mut self, token: Token) -> TokenSinkResult<()>;
}

struct Sink<W>(RefCell<W>);

impl<W: Walk> TokenSink for Sink<W> {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        self.0.borrow_mut().token(token)
    }
}

/// Runs `walk` over the tokens of `text` and returns it.
fn tokenize<W: Walk>(text: &str, walk: W) -> W {
    let tokenizer = Tokenizer::new(Sink(RefCell::new(walk)), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(text));
    // A sink that never asks to run a script makes the tokenizer read to the end.
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.0.into_inner()
}

/// The elements whose content is not markup, and the state the tokenizer reads it in
/// (the HTML standard's tree construction rules say which). None of that content is
/// article text: it is left out, with the element.
fn raw_content(name: &str) -> Option<TokenSinkResult<()>> {
    Some(match name {
        "script" => TokenSinkResult::RawData(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
            TokenSinkResult::RawData(RawKind::Rawtext)
        }
        "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
        "plaintext" => TokenSinkResult::Plaintext,
        _ => return None,
    })
}

/// Elements that sit inside a line of text: no word break at their edges.
fn is_inline(name: &str) -> bool {
    #[rustfmt::skip]
    const INLINE: &[&str] = &[
        "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em",
        "font", "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike",
        "strong", "sub", "sup", "time", "tt", "u", "var",
    ];
    INLINE.contains(&name)
}

/// [`html_text`]'s walk.
struct TextOnly {
    text: PlainText,
    /// The element whose content is being left out.
    skip: Option<LocalName>,
}

impl Walk for TextOnly {
    fn token(&mut self, token: Token) -> TokenSinkResult<()> {
        if self.skip.is_some() {
            if let Token::TagToken(tag) = &token
                && ends(tag, self.skip.as_ref())
            {
                self.skip = None;
            }
            return TokenSinkResult::Continue;
        }
        match token {
            Token::CharacterTokens(text) => self.text.push(&text),
            Token::TagToken(tag) => {
                if !is_inline(&tag.name) {
                    self.text.gap();
                }
                if tag.kind == TagKind::StartTag
                    && let Some(state) = raw_content(&tag.name)
                {
                    self.skip = Some(tag.name);
                    return state;
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Whether `tag` is the end tag of the element `open`.
fn ends(tag: &Tag, open: Option<&LocalName>) -> bool {
    tag.kind == TagKind::EndTag && open == Some(&tag.name)
}

/// The first pass: the head's fields, and the body's HTML written back.
#[derive(Default)]
struct Split {
    /// Past the head: something that belongs to the body has come.
    in_body: bool,
    /// The element whose content is being left out (or read as the title).
    skip: Option<LocalName>,
    /// The text of `<title>` while it is read, and after.
    title: PlainText,
    reading_title: bool,
    seen_title: bool,
    seen_html: bool,
    front: FrontMatter,
    body: String,
    /// Where the content of the first `<article>` starts and ends in `body`.
    article: Option<(usize, Option<usize>)>,
    /// How many `<article>`s are open inside the first one (it included).
    article_depth: usize,
}

impl Walk for Split {
    fn token(&mut self, token: Token) -> TokenSinkResult<()> {
        if self.skip.is_some() {
            self.skipping(&token);
            return TokenSinkResult::Continue;
        }
        match token {
            // Blanks between head elements are not the body's.
            Token::CharacterTokens(text) if self.in_body || !text.trim().is_empty() => {
                self.in_body = true;
                push_escaped_text(&mut self.body, &text);
            }
            Token::CommentToken(comment) if self.in_body && is_more(&comment) => {
                self.body.push_str(MORE_COMMENT);
            }
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => return self.start(tag),
            Token::TagToken(tag) => self.end(&tag),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// How the first pass writes a `<!-- more -->` comment for the second.
const MORE_COMMENT: &str = "<!--more-->";

/// Whether a comment's text is the `<!-- more -->` marker's: "more" in any case, with any
/// blanks around it.
pub(super) fn is_more(comment: &str) -> bool {
    comment.trim().eq_ignore_ascii_case("more")
}

impl Split {
    /// A token inside an element whose content is left out (or read as the title).
    fn skipping(&mut self, token: &Token) {
        match token {
            Token::TagToken(tag) if ends(tag, self.skip.as_ref()) => {
                self.skip = None;
                self.reading_title = false;
            }
            Token::CharacterTokens(text) if self.reading_title => self.title.push(text),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag) -> TokenSinkResult<()> {
        match &*tag.name {
            "html" => {
                if !std::mem::replace(&mut self.seen_html, true) {
                    self.front.lang = attr(&tag.attrs, "lang").map(str::to_owned);
                }
            }
            "head" | "link" | "base" => {}
            "body" => self.in_body = true,
            "meta" => meta(&mut self.front, &tag.attrs),
            // A browser that runs scripts reads a `<noscript>` as text, and in the head it
            // holds what a page does without them (a tracking pixel): left out. In the
            // body it holds what a reader without scripts is to see (the real `<img>` of
            // a lazily loaded one): kept, without the element.
            "noscript" if !self.in_body => {
                self.skip = Some(tag.name);
                return TokenSinkResult::RawData(RawKind::Rawtext);
            }
            "noscript" => {}
            "article" if self.article.is_none() => {
                self.in_body = true;
                self.article = Some((self.body.len(), None));
                self.article_depth = 1;
            }
            name => {
                if let Some(state) = raw_content(name) {
                    self.reading_title = name == "title"
                        && !self.in_body
                        && !std::mem::replace(&mut self.seen_title, true);
                    self.skip = Some(tag.name);
                    return state;
                }
                self.in_body = true;
                if name == "article" && self.article_depth > 0 {
                    self.article_depth += 1;
                }
                push_start_tag(&mut self.body, &tag);
            }
        }
        TokenSinkResult::Continue
    }

    fn end(&mut self, tag: &Tag) {
        match &*tag.name {
            // Before the body, end tags close head elements or are stray.
            _ if !self.in_body => {}
            "html" | "head" | "body" | "noscript" => {}
            "article" if self.article_depth > 0 => {
                self.article_depth -= 1;
                if self.article_depth == 0 {
                    if let Some((_, end)) = &mut self.article {
                        *end = Some(self.body.len());
                    }
                } else {
                    push_end_tag(&mut self.body, &tag.name);
                }
            }
            name => push_end_tag(&mut self.body, name),
        }
    }
}

/// The value of attribute `name`, trimmed, when it has one that is not blank.
fn attr<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| a.value.trim())
        .filter(|v| !v.is_empty())
}

/// Reads one `<meta>` into `front`. For a field that takes one value, the first wins.
fn meta(front: &mut FrontMatter, attrs: &[Attribute]) {
    let Some(content) = attr(attrs, "content") else {
        return;
    };
    let Some(key) = attr(attrs, "name").or_else(|| attr(attrs, "property")) else {
        return;
    };
    let first = |field: &mut Option<String>| {
        field.get_or_insert_with(|| content.to_owned());
    };
    match key.to_ascii_lowercase().as_str() {
        "description" => first(&mut front.summary),
        "og:image" => first(&mut front.image),
        "og:image:alt" => first(&mut front.image_alt),
        "author" => front.authors.push(Person {
            name: content.to_owned(),
            ..Person::default()
        }),
        "keywords" => content.split(',').for_each(|tag| add_tag(front, tag)),
        "article:tag" => add_tag(front, content),
        "article:published_time" => {
            front.published = front
                .published
                .or_else(|| super::front_matter::parse_date(content));
        }
        "article:modified_time" => {
            front.updated = front
                .updated
                .or_else(|| super::front_matter::parse_date(content))
        }
        _ => {}
    }
}

fn add_tag(front: &mut FrontMatter, tag: &str) {
    let tag = tag.trim();
    if !tag.is_empty() && !front.tags.iter().any(|t| t == tag) {
        front.tags.push(tag.to_owned());
    }
}

/// The second pass, over the body the first wrote: the body again, the first `<h1>`, the
/// excerpt and the first paragraph.
struct Outline<'t> {
    head_title: Option<&'t str>,
    out: String,
    /// Where the body's first element starts in `out`, while it is an `<h1>` being read;
    /// `Lead::Done` once anything else has come.
    lead: Lead,
    /// The title the leading `<h1>` gave, when it was taken out.
    title: Option<String>,
    first_h1: Option<String>,
    /// The text of the first `<h1>`, while it is read.
    h1: Option<PlainText>,
    /// All the text so far, until the first `<!-- more -->`.
    text: Option<PlainText>,
    excerpt: Option<String>,
    /// The text of the first paragraph candidate, while it is read.
    paragraph: Option<PlainText>,
    first_paragraph: Option<String>,
    /// How many quotes, lists, tables and asides are open.
    aside: usize,
}

enum Lead {
    Waiting,
    InH1 { start: usize, text_len: usize },
    Done,
}

impl<'t> Outline<'t> {
    fn new(head_title: Option<&'t str>) -> Self {
        Self {
            head_title,
            out: String::new(),
            lead: Lead::Waiting,
            title: None,
            first_h1: None,
            h1: None,
            text: Some(PlainText::default()),
            excerpt: None,
            paragraph: None,
            first_paragraph: None,
            aside: 0,
        }
    }

    fn push_text(&mut self, text: &str) {
        for collector in [&mut self.text, &mut self.h1, &mut self.paragraph]
            .into_iter()
            .flatten()
        {
            collector.push(text);
        }
    }

    fn gap(&mut self) {
        for collector in [&mut self.text, &mut self.h1, &mut self.paragraph]
            .into_iter()
            .flatten()
        {
            collector.gap();
        }
    }

    /// The end of the body: what is still open ends with it.
    fn finish(&mut self) {
        self.end_paragraph();
        if let Some(h1) = self.h1.take() {
            self.first_h1 = h1.finish();
        }
    }

    /// A paragraph candidate ends: the first with text is the first paragraph.
    fn end_paragraph(&mut self) {
        if let Some(text) = self.paragraph.take() {
            self.first_paragraph = text.finish();
        }
    }

    fn start(&mut self, tag: &Tag) {
        let name = &*tag.name;
        if !is_inline(name) {
            self.gap();
            self.end_paragraph();
        }
        if matches!(self.lead, Lead::Waiting) {
            self.lead = match name {
                "h1" => Lead::InH1 {
                    start: self.out.len(),
                    text_len: self.text.as_ref().map_or(0, PlainText::len),
                },
                _ => Lead::Done,
            };
        }
        match name {
            "h1" if self.first_h1.is_none() && self.h1.is_none() => {
                self.h1 = Some(PlainText::default())
            }
            "p" if self.aside == 0 && self.first_paragraph.is_none() => {
                self.paragraph = Some(PlainText::default())
            }
            _ if is_aside(name) => self.aside += 1,
            _ => {}
        }
        push_start_tag(&mut self.out, tag);
    }

    fn end(&mut self, name: &str) {
        push_end_tag(&mut self.out, name);
        if !is_inline(name) {
            self.gap();
            self.end_paragraph();
        }
        if is_aside(name) {
            self.aside = self.aside.saturating_sub(1);
        }
        if name == "h1"
            && let Some(h1) = self.h1.take()
        {
            self.first_h1 = h1.finish();
            if let Lead::InH1 { start, text_len } = std::mem::replace(&mut self.lead, Lead::Done)
                && let Some(title) = self.first_h1.clone()
                && self.head_title.is_none_or(|head| same_title(head, &title))
            {
                self.out.truncate(start);
                if let Some(text) = &mut self.text {
                    text.truncate(text_len);
                }
                self.title = Some(title);
            }
        }
    }
}

impl Walk for Outline<'_> {
    fn token(&mut self, token: Token) -> TokenSinkResult<()> {
        match token {
            Token::CharacterTokens(text) => {
                if !text.trim().is_empty() && matches!(self.lead, Lead::Waiting) {
                    self.lead = Lead::Done;
                }
                self.push_text(&text);
                push_escaped_text(&mut self.out, &text);
            }
            Token::CommentToken(comment) if is_more(&comment) => {
                if let Some(text) = self.text.take() {
                    self.excerpt = text.finish();
                }
            }
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => self.start(&tag),
            Token::TagToken(tag) => self.end(&tag.name),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Elements whose paragraphs are not the article's first: quotes, lists, tables, asides.
fn is_aside(name: &str) -> bool {
    matches!(
        name,
        "blockquote"
            | "ul"
            | "ol"
            | "dl"
            | "table"
            | "aside"
            | "nav"
            | "header"
            | "footer"
            | "figure"
    )
}

/// Whether a `<title>` names the same article as the `<h1>`: the same text (in any case),
/// or that text and the site's name around a separator ("Post | Site", "Site – Post").
fn same_title(head: &str, h1: &str) -> bool {
    let head = join_words(head).to_lowercase();
    let h1 = h1.to_lowercase();
    if head == h1 {
        return true;
    }
    const SEPARATORS: &[char] = &['|', '-', '–', '—', ':', '·', '•', '»', '«'];
    let beside = |rest: &str| rest.trim_start().starts_with(SEPARATORS);
    let beside_end = |rest: &str| rest.trim_end().ends_with(SEPARATORS);
    head.strip_prefix(&h1).is_some_and(beside) || head.strip_suffix(&h1).is_some_and(beside_end)
}

/// Writes a start tag back. Names that are not plain ASCII names (the tokenizer keeps
/// whatever a broken document has) are left out, tag or attribute.
fn push_start_tag(out: &mut String, tag: &Tag) {
    if !is_plain_name(&tag.name) {
        return;
    }
    out.push('<');
    out.push_str(&tag.name);
    for attr in &tag.attrs {
        let name = &*attr.name.local;
        if is_plain_name(name) {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            push_escaped_attr(out, &attr.value);
            out.push('"');
        }
    }
    out.push('>');
}

fn push_end_tag(out: &mut String, name: &str) {
    if is_plain_name(name) {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

fn is_plain_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}

fn push_escaped_text(out: &mut String, text: &str) {
    push_escaped(out, text, false);
}

fn push_escaped_attr(out: &mut String, text: &str) {
    push_escaped(out, text, true);
}

fn push_escaped(out: &mut String, text: &str, quote: bool) {
    let mut copied = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' if quote => "&quot;",
            _ => continue,
        };
        // `i` is the index of an ASCII byte, so a char boundary.
        out.push_str(&text[copied..i]);
        out.push_str(entity);
        copied = i + 1;
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_breaks_words_at_blocks_only() {
        assert_eq!(html_text("<p>a</p><p>b</p>"), "a b");
        assert_eq!(html_text("<em>im</em>possible"), "impossible");
        assert_eq!(html_text("x<br>y"), "x y");
        assert_eq!(html_text("Fish &amp; chips&nbsp;&#33;"), "Fish & chips !");
    }

    #[test]
    fn titles_beside_a_site_name_are_the_same_title() {
        assert!(same_title("Post", "post"));
        assert!(same_title("Post | Site", "Post"));
        assert!(same_title("Site – Post", "Post"));
        assert!(!same_title("Postscript", "Post"));
        assert!(!same_title("Another", "Post"));
    }
}
