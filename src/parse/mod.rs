//! Bytes to [`Article`]: every format by [`parse_file`] (`formats`), and here the seed
//! format of DESIGN.md, where runs of blank lines carry the structure. Pure: it never
//! touches the filesystem, so tests feed it literals.
//!
//! ```text
//! <section>      1 blank line after
//! <title>        2 blank lines after
//! <caption>      3 blank lines after
//! <paragraph>    1 blank line between paragraphs
//! More from GlobalPost: <headline>
//! ```
//!
//! Real files drop the section or the caption, double every blank line, or have none at
//! all. The header is read from the *relative* sizes of the first gaps, so all of those
//! still parse, and a file of plain text becomes an article titled by its first line.

mod decode;
mod formats;
mod front_matter;
mod html;
mod markdown;
pub mod media;
mod words;

pub use decode::ParseWarning;
pub use formats::parse_file;
pub use front_matter::{FrontRead, MAX_FRONT_MATTER_BYTES, read_front_matter};
pub use html::{HtmlDocument, html_document, html_text};
pub use markdown::{MarkdownBody, markdown_body};

use crate::model::{Article, RejectReason};
use words::{join_words, push_words};

/// The marker of a cross-promotion line, kept out of the body paragraphs.
const RELATED_PREFIX: &str = "More from GlobalPost:";

/// Longer first lines are not titles; the whole line is kept as the first paragraph.
const TITLE_MAX_CHARS: usize = 200;

/// A section line is a short label ("Conflict & Justice"), never a sentence.
const SECTION_MAX_CHARS: usize = 60;
const SECTION_MAX_WORDS: usize = 6;

/// A parsed article and what had to be repaired to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub article: Article,
    pub warnings: Vec<ParseWarning>,
}

/// Parses one plain article file's bytes (`.txt`, front matter allowed). Rejects only
/// what cannot be an article: no text at all, binary data, front matter that does not
/// parse. (The size limit is the reader's: it must hold before reading.)
pub fn parse_article(bytes: &[u8]) -> Result<Parsed, RejectReason> {
    parse_file(crate::model::Format::Plain, bytes)
}

/// A run of non-blank lines and the number of blank lines before it.
///
/// `text` is the run as it stands in the file, from its first non-blank character to its
/// last: the lines keep their `\n` and inner spacing, and are trimmed when read. Slicing
/// the text instead of collecting each block's lines saves an allocation per block.
#[derive(Debug)]
struct Block<'a> {
    gap_before: usize,
    text: &'a str,
}

impl<'a> Block<'a> {
    /// The block's lines, trimmed (none is blank).
    fn lines(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        split_lines(self.text).map(str::trim)
    }

    fn is_one_line(&self) -> bool {
        memchr::memchr(b'\n', self.text.as_bytes()).is_none()
    }

    fn joined(&self) -> String {
        join_words(self.text)
    }
}

/// `text.split('\n')`, with the memchr crate's vectorized search for the line ends: the
/// standard library's searches a word at a time, and every byte of an article is
/// searched.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(Some)
        .chain([None])
        .map(move |end| {
            let end = end.unwrap_or(text.len());
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

fn split_blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks: Vec<Block<'_>> = Vec::new();
    let mut gap = 0;
    // The block being read: its gap before, and the span of its text so far.
    let mut current: Option<(usize, usize, usize)> = None;
    let mut line_start = 0;
    for line in split_lines(text) {
        let start = line_start;
        line_start += line.len() + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            if let Some((gap_before, from, to)) = current.take() {
                blocks.push(Block {
                    gap_before,
                    text: &text[from..to],
                });
            }
            gap += 1;
            continue;
        }
        let first = start + (line.len() - trimmed.len());
        let end = first + trimmed.trim_end().len();
        match current.as_mut() {
            Some((_, _, to)) => *to = end,
            None => {
                current = Some((gap, first, end));
                gap = 0;
            }
        }
    }
    if let Some((gap_before, from, to)) = current {
        blocks.push(Block {
            gap_before,
            text: &text[from..to],
        });
    }
    blocks
}

/// The roles of the blocks before the body.
#[derive(Debug, PartialEq, Eq)]
enum Header {
    Title,
    SectionTitle,
    TitleCaption,
    SectionTitleCaption,
}

impl Header {
    fn len(&self) -> usize {
        match self {
            Self::Title => 1,
            Self::SectionTitle | Self::TitleCaption => 2,
            Self::SectionTitleCaption => 3,
        }
    }
}

/// Reads the header from the gaps after the first blocks. The canonical 1, 2, 3 blank
/// lines (or any strictly growing run, as when an editor doubled every blank line) give
/// section, title, caption. Otherwise the widest of the first gaps ends the header; when
/// that leaves two blocks, a short label followed by a non-caption is section + title.
fn read_header(blocks: &[Block<'_>]) -> Header {
    let mut first_gaps = [0; 3];
    let mut count = 0;
    for (slot, block) in first_gaps.iter_mut().zip(blocks.iter().skip(1)) {
        *slot = block.gap_before;
        count += 1;
    }
    let gaps = &first_gaps[..count];
    if let [g1, g2, g3] = gaps[..]
        && g1 < g2
        && g2 < g3
    {
        return Header::SectionTitleCaption;
    }
    let Some(&widest) = gaps.iter().max() else {
        return Header::Title;
    };
    let header_len = gaps.iter().position(|&g| g == widest).map_or(1, |i| i + 1);
    match header_len {
        1 => Header::Title,
        2 => {
            let first_gap = gaps[0];
            if looks_like_section(&blocks[0]) && (first_gap == 1 || !looks_like_caption(&blocks[1]))
            {
                Header::SectionTitle
            } else {
                Header::TitleCaption
            }
        }
        _ => Header::SectionTitleCaption,
    }
}

fn looks_like_section(block: &Block<'_>) -> bool {
    if !block.is_one_line() {
        return false;
    }
    let line = block.text;
    line.chars().count() <= SECTION_MAX_CHARS
        && line.split_whitespace().count() <= SECTION_MAX_WORDS
        && !line.ends_with(['.', '!', '?', ':'])
        && !line.starts_with(RELATED_PREFIX)
}

fn looks_like_caption(block: &Block<'_>) -> bool {
    let text = block.joined();
    text.chars().count() > 100 || text.ends_with('.')
}

fn assemble(blocks: &[Block<'_>]) -> (Article, bool) {
    let header = read_header(blocks);
    let (section, title_block, caption) = match header {
        Header::Title => (None, &blocks[0], None),
        Header::SectionTitle => (Some(&blocks[0]), &blocks[1], None),
        Header::TitleCaption => (None, &blocks[0], Some(&blocks[1])),
        Header::SectionTitleCaption => (Some(&blocks[0]), &blocks[1], Some(&blocks[2])),
    };

    // The title is the first line of its block; further lines are body text.
    let mut paragraphs = Vec::new();
    let (first_line, more_lines) = match title_block.text.split_once('\n') {
        Some((first, rest)) => (first, Some(rest)),
        None => (title_block.text, None),
    };
    let mut title = join_words(first_line);
    let mut shortened = false;
    if title.chars().count() > TITLE_MAX_CHARS {
        paragraphs.push(title.clone());
        title = cut_at_word(&title, TITLE_MAX_CHARS);
        shortened = true;
    }
    if let Some(rest) = more_lines {
        paragraphs.push(join_words(rest));
    }

    let mut related = Vec::new();
    for block in &blocks[header.len()..] {
        let mut paragraph = String::with_capacity(block.text.len());
        for line in block.lines() {
            match line.strip_prefix(RELATED_PREFIX) {
                Some(headline) => {
                    let headline = join_words(headline);
                    if !headline.is_empty() {
                        related.push(headline);
                    }
                }
                None => push_words(&mut paragraph, line),
            }
        }
        if !paragraph.is_empty() {
            paragraphs.push(paragraph);
        }
    }
    let article = Article {
        section: section.map(Block::joined),
        title,
        caption: caption.map(Block::joined),
        paragraphs,
        related,
        ..Article::default()
    };
    (article, shortened)
}

/// Cuts `text` to at most `max` characters at a word boundary, marking the cut with "…".
pub fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    // Leave room for the ellipsis.
    let limit = text
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..limit];
    // Prefer the last space, unless that would throw away most of the text (CJK, URLs).
    let cut = match head.rfind(' ') {
        Some(space) if space >= limit / 2 => &head[..space],
        _ => head,
    };
    let mut out = cut
        .trim_end_matches([' ', ',', ';', ':', '-', '—'])
        .to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Article {
        parse_article(text.as_bytes()).unwrap().article
    }

    #[test]
    fn cut_at_word_respects_limit_and_words() {
        assert_eq!(cut_at_word("short", 10), "short");
        let cut = cut_at_word("the quick brown fox jumps over", 12);
        assert_eq!(cut, "the quick…");
        assert!(cut.chars().count() <= 12);
        let cjk = "字".repeat(50);
        assert_eq!(cut_at_word(&cjk, 10).chars().count(), 10);
    }

    #[test]
    fn header_from_gaps() {
        struct Case {
            name: &'static str,
            text: &'static str,
            section: Option<&'static str>,
            title: &'static str,
            caption: Option<&'static str>,
            paragraphs: &'static [&'static str],
        }
        let cases = [
            Case {
                name: "canonical",
                text: "Tech\n\nA title\n\n\nA caption.\n\n\n\nOne.\n\nTwo.",
                section: Some("Tech"),
                title: "A title",
                caption: Some("A caption."),
                paragraphs: &["One.", "Two."],
            },
            Case {
                name: "doubled blank lines",
                text: "Tech\n\n\nA title\n\n\n\n\nA caption.\n\n\n\n\n\n\nOne.\n\n\nTwo.",
                section: Some("Tech"),
                title: "A title",
                caption: Some("A caption."),
                paragraphs: &["One.", "Two."],
            },
            Case {
                name: "no section",
                text: "A title\n\n\nA caption.\n\n\n\nOne.\n\nTwo.",
                section: None,
                title: "A title",
                caption: Some("A caption."),
                paragraphs: &["One.", "Two."],
            },
            Case {
                name: "no caption, two blank lines",
                text: "Tech\n\nA title\n\n\nOne.\n\nTwo.",
                section: Some("Tech"),
                title: "A title",
                caption: None,
                paragraphs: &["One.", "Two."],
            },
            Case {
                name: "no caption, three blank lines",
                text: "Tech\n\nA title\n\n\n\nOne.\n\nTwo.",
                section: Some("Tech"),
                title: "A title",
                caption: None,
                paragraphs: &["One.", "Two."],
            },
            Case {
                name: "title only, then body",
                text: "A title\n\n\nOne.\n\nTwo.",
                section: None,
                title: "A title",
                caption: None,
                paragraphs: &["One.", "Two."],
            },
            Case {
                name: "plain text",
                text: "First line here\nand more\n\nSecond paragraph.",
                section: None,
                title: "First line here",
                caption: None,
                paragraphs: &["and more", "Second paragraph."],
            },
            Case {
                name: "single line",
                text: "Just a title",
                section: None,
                title: "Just a title",
                caption: None,
                paragraphs: &[],
            },
        ];
        for case in cases {
            let article = parse(case.text);
            assert_eq!(article.section.as_deref(), case.section, "{}", case.name);
            assert_eq!(article.title, case.title, "{}", case.name);
            assert_eq!(article.caption.as_deref(), case.caption, "{}", case.name);
            assert_eq!(article.paragraphs, case.paragraphs, "{}", case.name);
        }
    }

    #[test]
    fn related_lines_leave_the_body() {
        let article = parse(
            "Tech\n\nT\n\n\nC.\n\n\n\nOne.\n\nMore from GlobalPost: Other story (VIDEO)\n\nTwo.\nMore from GlobalPost:   \n",
        );
        assert_eq!(article.paragraphs, ["One.", "Two."]);
        assert_eq!(article.related, ["Other story (VIDEO)"]);
    }

    #[test]
    fn long_first_line_is_kept_whole_as_a_paragraph() {
        let line = "word ".repeat(100);
        let parsed = parse_article(line.as_bytes()).unwrap();
        assert!(parsed.article.title.chars().count() <= TITLE_MAX_CHARS);
        assert_eq!(parsed.article.paragraphs, [line.trim()]);
        assert_eq!(parsed.warnings, [ParseWarning::TitleShortened]);
    }

    #[test]
    fn lines_are_split_as_str_split_splits_them() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "\na",
            "a\nb",
            "a\n\n b \n",
            "é\n字\n",
        ] {
            let expected: Vec<&str> = text.split('\n').collect();
            assert_eq!(split_lines(text).collect::<Vec<_>>(), expected, "{text:?}");
        }
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(parse_article(b""), Err(RejectReason::Empty));
        assert_eq!(parse_article(b" \n\t\r\n \n"), Err(RejectReason::Empty));
        assert_eq!(parse_article(b"\xef\xbb\xbf\n"), Err(RejectReason::Empty));
    }
}
