//! An article file of any format to an [`Article`]: the bytes decoded (`decode`), the
//! front matter read (`front_matter`), the body read as its format says (the seed
//! grammar of `mod.rs`, `markdown`, `html`), and the front matter laid over what the
//! body implies: its title and section win, and an HTML document's `<head>` fills only
//! what the front matter leaves out.

use super::decode::{ParseWarning, decode_text};
use super::front_matter::read_front_matter;
use super::html::html_document;
use super::markdown::markdown_body;
use super::{Parsed, TITLE_MAX_CHARS, assemble, cut_at_word, split_blocks};
use crate::model::{Article, Format, FrontMatter, HtmlBody, RejectReason};

/// Parses one article file's bytes as `format`. Rejects what cannot be an article (no
/// text at all, binary data) and front matter that does not parse (with its line and
/// column); a file of front matter alone is an article if the front matter gives a title.
pub fn parse_file(format: Format, bytes: &[u8]) -> Result<Parsed, RejectReason> {
    let (text, mut warnings) = decode_text(bytes)?;
    let read = read_front_matter(&text)?;
    warnings.extend(read.warnings);
    let mut front = read.front;
    let mut article = match format {
        Format::Plain => plain(read.body, &mut warnings),
        Format::Markdown => markdown(read.body, &front),
        Format::Html => {
            let document = html_document(read.body);
            front = overlay(front, document.front);
            Article {
                title: document.title.unwrap_or_default(),
                body: Some(document.body),
                ..Article::default()
            }
        }
    };
    article.format = format;
    if let Some(title) = front.title.clone() {
        article.title = title;
    }
    if front.section.is_some() {
        article.section = front.section.clone();
    }
    if article.title.is_empty() {
        article.title = untitled(&article).ok_or(RejectReason::Empty)?;
    }
    article.front = front;
    Ok(Parsed { article, warnings })
}

/// The seed grammar, over the text after any front matter.
fn plain(text: &str, warnings: &mut Vec<ParseWarning>) -> Article {
    let blocks = split_blocks(text);
    if blocks.is_empty() {
        return Article::default();
    }
    let (article, title_shortened) = assemble(&blocks);
    if title_shortened {
        warnings.push(ParseWarning::TitleShortened);
    }
    article
}

/// A Markdown body. Its leading `# Heading` is its title unless the front matter gives
/// one: then a heading that says something else stays in the body.
fn markdown(text: &str, front: &FrontMatter) -> Article {
    let mut parsed = markdown_body(text);
    if let (Some(given), Some(heading)) = (&front.title, &parsed.title)
        && given != heading
    {
        // Text, not markup: the heading's own formatting is not kept.
        let text = heading
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        parsed
            .body
            .html
            .insert_str(0, &format!("<h1>{text}</h1>\n"));
    }
    Article {
        title: parsed.title.unwrap_or_default(),
        body: Some(parsed.body),
        ..Article::default()
    }
}

/// The title of an article that gives none: its first paragraph, as a plain text file's
/// first line is. `None` when the article has no text at all.
fn untitled(article: &Article) -> Option<String> {
    let text = match &article.body {
        Some(HtmlBody {
            first_paragraph, ..
        }) => first_paragraph.as_ref(),
        None => article.paragraphs.first(),
    }?;
    Some(cut_at_word(text, TITLE_MAX_CHARS))
}

/// The front matter, with what it leaves out taken from an HTML document's head.
fn overlay(front: FrontMatter, head: FrontMatter) -> FrontMatter {
    FrontMatter {
        title: front.title.or(head.title),
        published: front.published.or(head.published),
        updated: front.updated.or(head.updated),
        draft: front.draft,
        section: front.section.or(head.section),
        tags: if front.tags.is_empty() {
            head.tags
        } else {
            front.tags
        },
        authors: if front.authors.is_empty() {
            head.authors
        } else {
            front.authors
        },
        summary: front.summary.or(head.summary),
        image: front.image.or(head.image),
        image_alt: front.image_alt.or(head.image_alt),
        lang: front.lang.or(head.lang),
        link: front.link.or(head.link),
        comments: front.comments.or(head.comments),
        id: front.id.or(head.id),
        enclosure: front.enclosure.or(head.enclosure),
        // An HTML head says nothing of episodes.
        episode: front.episode,
    }
}
