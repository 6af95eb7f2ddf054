//! A Markdown body to HTML: CommonMark with tables, footnotes, strikethrough and task
//! lists (pulldown-cmark), and what the rest of the pipeline reads from it: the title a
//! leading level-1 heading gives, the excerpt before a `<!-- more -->` line and the plain
//! text of the first paragraph.
//!
//! The HTML is not sanitized here: raw HTML in the Markdown passes through as written,
//! and URLs stay as the file wrote them. `normalize::sanitize` does both, for every format.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::html::{PlainText, html_text_into, is_more};
use crate::model::HtmlBody;

/// What a Markdown body gives: its title, when it opens with one, and the body without it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MarkdownBody {
    pub title: Option<String>,
    pub body: HtmlBody,
}

/// The extensions of the issue: GitHub's tables, footnotes, strikethrough and task lists.
/// No smart punctuation, heading attributes or math: text stays as written.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// Renders `text`, the Markdown after any front matter (decoded, `\n` line ends).
///
/// - `title`: the plain text of a level-1 heading that is the first block (ATX `#` or
///   Setext `===`), taken out of the body. An empty heading is no title and stays.
/// - `body.excerpt`: the plain text of everything before the first `<!-- more -->` line
///   (Hugo's and WordPress's marker; any case, any spaces inside), the title left out,
///   when there is one. Every such line is left out of the HTML.
/// - `body.first_paragraph`: the plain text of the first paragraph with text that is not
///   inside a quote, a list, a table or a footnote.
pub fn markdown_body(text: &str) -> MarkdownBody {
    let mut events: Vec<Event<'_>> = Parser::new_ext(text, options()).collect();
    let title = take_title(&mut events);
    // A marker is a comment, so a file without "<!--" has none: skip the look.
    let excerpt = if memchr::memmem::find(text.as_bytes(), b"<!--").is_some() {
        take_excerpt(&mut events)
    } else {
        None
    };
    let first_paragraph = first_paragraph(&events);
    let mut html = String::with_capacity(text.len() + text.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    MarkdownBody {
        title,
        body: HtmlBody {
            html,
            excerpt,
            first_paragraph,
        },
    }
}

/// Takes a leading level-1 heading out of `events` and returns its text.
fn take_title(events: &mut Vec<Event<'_>>) -> Option<String> {
    let Some(Event::Start(Tag::Heading {
        level: HeadingLevel::H1,
        ..
    })) = events.first()
    else {
        return None;
    };
    let end = events
        .iter()
        .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))?;
    let title = plain_text(&events[1..end])?;
    events.drain(..=end);
    Some(title)
}

/// Takes every `<!-- more -->` line out of `events` and returns the plain text before the
/// first one, when there is one (`None` also when nothing but blanks comes before it).
fn take_excerpt(events: &mut Vec<Event<'_>>) -> Option<String> {
    let first = events.iter().position(is_more_marker)?;
    let excerpt = plain_text(&events[..first]);
    events.retain(|event| !is_more_marker(event));
    excerpt
}

/// Whether an event is a `<!-- more -->` line: an HTML block of the comment alone.
fn is_more_marker(event: &Event<'_>) -> bool {
    matches!(event, Event::Html(html) if is_more_comment(html))
}

/// Whether `html` is the comment `<!--more-->`, in any case and with any blanks inside
/// or around it.
fn is_more_comment(html: &str) -> bool {
    html.trim()
        .strip_prefix("<!--")
        .and_then(|rest| rest.strip_suffix("-->"))
        .is_some_and(is_more)
}

/// The plain text of the first paragraph with text outside a quote, a list, a table or
/// a footnote.
fn first_paragraph(events: &[Event<'_>]) -> Option<String> {
    let mut depth = 0usize;
    let mut start = None;
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Start(tag) if is_container(tag) => depth += 1,
            Event::End(end) if is_container_end(end) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Paragraph) if depth == 0 => start = Some(i + 1),
            Event::End(TagEnd::Paragraph) if depth == 0 => {
                if let Some(text) = start.take().and_then(|s| plain_text(&events[s..i])) {
                    return Some(text);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_container(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::BlockQuote(_) | Tag::List(_) | Tag::Table(_) | Tag::FootnoteDefinition(_)
    )
}

fn is_container_end(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Table | TagEnd::FootnoteDefinition
    )
}

/// The plain text of `events`: their text with every whitespace run collapsed to one
/// space, blocks apart by a space. Image descriptions, footnotes and footnote references
/// are left out; the text of raw HTML is kept, its tags are not. `None` when no text is
/// left.
fn plain_text(events: &[Event<'_>]) -> Option<String> {
    let mut text = PlainText::default();
    // Raw HTML comes a line at a time ("<script>", "alert(1)", "</script>"): the lines of
    // a run are read as one.
    let mut html = String::new();
    // Inside an image (its alt text) or a footnote definition: text left out.
    let mut hidden = 0usize;
    for event in events {
        if let Event::Html(raw) | Event::InlineHtml(raw) = event {
            if hidden == 0 {
                html.push_str(raw);
            }
            continue;
        }
        if !html.is_empty() {
            html_text_into(&mut text, &html);
            html.clear();
        }
        match event {
            Event::Start(Tag::Image { .. } | Tag::FootnoteDefinition(_)) => hidden += 1,
            Event::End(TagEnd::Image | TagEnd::FootnoteDefinition) => {
                hidden = hidden.saturating_sub(1)
            }
            _ if hidden > 0 => {}
            Event::Text(t) | Event::Code(t) => text.push(t),
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.gap(),
            Event::Start(tag) if !is_inline_end(&tag.to_end()) => text.gap(),
            Event::End(end) if !is_inline_end(end) => text.gap(),
            _ => {}
        }
    }
    if !html.is_empty() {
        html_text_into(&mut text, &html);
    }
    text.finish()
}

/// Inline elements end without a gap: "*im*possible" is one word.
fn is_inline_end(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link
            | TagEnd::Superscript
            | TagEnd::Subscript
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_h1_is_the_title_and_leaves_the_body() {
        let md = markdown_body("# Hello *world*\n\nFirst para.\n");
        assert_eq!(md.title.as_deref(), Some("Hello world"));
        assert_eq!(md.body.html, "<p>First para.</p>\n");
    }

    #[test]
    fn the_more_marker_is_recognized_in_any_spelling() {
        for marker in [
            "<!--more-->",
            "<!-- more -->",
            "<!--  MORE  -->",
            " <!-- More-->",
        ] {
            assert!(is_more_comment(marker), "{marker}");
        }
        for other in ["<!-- more than -->", "<!-- -->", "more", "<!-- more"] {
            assert!(!is_more_comment(other), "{other}");
        }
    }
}
