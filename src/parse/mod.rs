//! Bytes to [`Article`]: the seed format of DESIGN.md, where runs of blank lines carry the
//! structure. Pure: it never touches the filesystem, so tests feed it literals.
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

pub use decode::ParseWarning;

use crate::model::{Article, RejectReason};

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

/// Parses one article file's bytes. Rejects only what cannot be an article: no text at
/// all, or binary data. (The size limit is the reader's: it must hold before reading.)
pub fn parse_article(bytes: &[u8]) -> Result<Parsed, RejectReason> {
    let (text, mut warnings) = decode::decode_text(bytes)?;
    let blocks = split_blocks(&text);
    if blocks.is_empty() {
        return Err(RejectReason::Empty);
    }
    let (article, title_shortened) = assemble(&blocks);
    if title_shortened {
        warnings.push(ParseWarning::TitleShortened);
    }
    Ok(Parsed { article, warnings })
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
/// standard library's, a word at a time, was nearly a tenth of the time of a parse.
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
    };
    (article, shortened)
}

/// Joins lines into one line of text, every whitespace run collapsed to one space.
fn join_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_words(&mut out, text);
    out
}

/// Appends the words of `text` to `out`, each after one space unless `out` is empty:
/// `str::split_whitespace` joined with spaces, but a run of words already separated by
/// single spaces (nearly all text) is copied whole instead of word by word. The scan
/// passes over such text [`PLAIN_BLOCK`] bytes at a time and looks at the rest byte by
/// byte (parse of the seeds: this function went from 60% of the time to a few percent).
fn push_words(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() {
            match whitespace_len(bytes, i) {
                0 => break,
                len => i += len,
            }
        }
        if i == bytes.len() {
            return;
        }
        let run_start = i;
        let run_end = 'run: loop {
            if let Some(window) = bytes.get(i..i + PLAIN_BLOCK + 3)
                && is_plain(window)
            {
                i += PLAIN_BLOCK;
                continue;
            }
            // Byte by byte to the end of this block. `i` may step into a multi-byte
            // character: its continuation bytes are never whitespace, nor in the table.
            let block_end = (i + PLAIN_BLOCK).min(bytes.len());
            while i < block_end {
                if !MAY_START_WHITESPACE[usize::from(bytes[i])] {
                    i += 1;
                    continue;
                }
                match whitespace_len(bytes, i) {
                    // A character that only starts like whitespace ("’" starts like U+2000).
                    0 => i += 1,
                    // A single space between two words stays in the run.
                    1 if bytes[i] == b' '
                        && i + 1 < bytes.len()
                        && whitespace_len(bytes, i + 1) == 0 =>
                    {
                        i += 1;
                    }
                    _ => break 'run i,
                }
            }
            if i == bytes.len() {
                break i;
            }
        };
        if !out.is_empty() {
            out.push(' ');
        }
        // Both ends are at whitespace characters or the end: char boundaries.
        out.push_str(&text[run_start..run_end]);
    }
}

/// How many bytes [`push_words`] passes over at once when they are plain text.
const PLAIN_BLOCK: usize = 32;

/// Whether the first [`PLAIN_BLOCK`] bytes of `window` (which has three bytes more, to
/// see the whole of a character that starts in the block and the one after it) are words
/// and single spaces only: no whitespace character but the space, and no space followed
/// by whitespace. A quick test of the bytes that may start whitespace settles most
/// blocks; the others get an exact test of the multi-byte characters, because those bytes
/// (0xC2, 0xE1–0xE3) also start the curly quotes, dashes and CJK text that news is full
/// of, and the quick test alone sent such blocks byte by byte. Parse of 20k generated
/// articles (fastest of three passes, six alternating rounds): median 11.2 µs per article
/// with the quick test alone, 9.3 with the exact one alone, 7.9 with both. Both are folds
/// of comparisons without early exit over a fixed length, which compile to vector
/// instructions.
fn is_plain(window: &[u8]) -> bool {
    let Ok(window) = <&[u8; PLAIN_BLOCK + 3]>::try_from(window) else {
        return false;
    };
    // Most blocks have no byte that may start whitespace but single spaces: a cheaper
    // test says so first.
    let may_start = |b: u8| b.wrapping_sub(b'\t') < 5 || b == 0xc2 || b.wrapping_sub(0xe1) < 3;
    let unsure = window[..PLAIN_BLOCK]
        .iter()
        .zip(&window[1..])
        .fold(false, |seen, (&b, &next)| {
            seen | may_start(b) | ((b == b' ') & (next == b' ' || may_start(next)))
        });
    if !unsure {
        return true;
    }
    // Whether a whitespace character starts at each byte of the block and the one after.
    let mut starts = [false; PLAIN_BLOCK + 1];
    for (i, start) in starts.iter_mut().enumerate() {
        *start = starts_whitespace(window[i], window[i + 1], window[i + 2]);
    }
    let not_plain = window[..PLAIN_BLOCK]
        .iter()
        .zip(starts.iter().zip(&starts[1..]))
        .fold(false, |seen, (&b, (&here, &next))| {
            let space = b == b' ';
            seen | (here & !space) | (space & next)
        });
    !not_plain
}

/// Whether the bytes `b0 b1 b2` (UTF-8, `b1` and `b2` whatever follows) start a
/// whitespace character: [`whitespace_len`]'s answer, written as comparisons only so that
/// [`is_plain`] tests a whole block at once.
#[inline(always)]
fn starts_whitespace(b0: u8, b1: u8, b2: u8) -> bool {
    (b0.wrapping_sub(b'\t') < 5)
        | (b0 == b' ')
        | ((b0 == 0xc2) & ((b1 == 0x85) | (b1 == 0xa0)))
        | ((b0 == 0xe1) & (b1 == 0x9a) & (b2 == 0x80))
        | ((b0 == 0xe2)
            & (((b1 == 0x80)
                & ((b2.wrapping_sub(0x80) < 0x0b) | (b2 == 0xa8) | (b2 == 0xa9) | (b2 == 0xaf)))
                | ((b1 == 0x81) & (b2 == 0x9f))))
        | ((b0 == 0xe3) & (b1 == 0x80) & (b2 == 0x80))
}

/// The bytes a whitespace character can start with: ASCII whitespace, and the first
/// bytes of U+0085, U+00A0 (0xC2), U+1680 (0xE1), U+2000.. (0xE2) and U+3000 (0xE3).
/// A table lookup per byte keeps the scan of [`push_words`] tight (parse of the seeds:
/// about twice as fast as calling [`whitespace_len`] on every byte).
const MAY_START_WHITESPACE: [bool; 256] = {
    let mut table = [false; 256];
    let starts: [u8; 10] = [
        b'\t', b'\n', 0x0b, 0x0c, b'\r', b' ', 0xc2, 0xe1, 0xe2, 0xe3,
    ];
    let mut k = 0;
    while k < starts.len() {
        table[starts[k] as usize] = true;
        k += 1;
    }
    table
};

/// The length in bytes of the whitespace character (`char::is_whitespace`, Unicode
/// White_Space) that starts at `bytes[i]`, or 0. `bytes` is UTF-8.
#[inline]
fn whitespace_len(bytes: &[u8], i: usize) -> usize {
    let byte = bytes[i];
    // The quick answer for nearly every byte: printable ASCII and most UTF-8 bytes.
    if byte > b' ' && !matches!(byte, 0xc2 | 0xe1..=0xe3) {
        return 0;
    }
    let next = |n: usize| bytes.get(i + n).copied();
    match (byte, next(1), next(2)) {
        (b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ', _, _) => 1,
        // U+0085 NEXT LINE, U+00A0 NO-BREAK SPACE
        (0xc2, Some(0x85 | 0xa0), _) => 2,
        // U+1680 OGHAM SPACE MARK
        (0xe1, Some(0x9a), Some(0x80)) => 3,
        // U+2000..U+200A, U+2028, U+2029, U+202F; U+205F
        (0xe2, Some(0x80), Some(0x80..=0x8a | 0xa8 | 0xa9 | 0xaf))
        | (0xe2, Some(0x81), Some(0x9f)) => 3,
        // U+3000 IDEOGRAPHIC SPACE
        (0xe3, Some(0x80), Some(0x80)) => 3,
        _ => 0,
    }
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
    fn words_are_joined_as_split_whitespace_joins_them() {
        let reference = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let pieces = [
            "a", "bc", "é", "字", "—", " ", "  ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{85}",
            "\u{a0}", "\u{1680}", "\u{2000}", "\u{200a}", "\u{200b}", "\u{2028}", "\u{2029}",
            "\u{202f}", "\u{205f}", "\u{3000}", "\u{3001}", "\u{2019}", "\u{e1}", "\u{1}",
            // Characters that start like whitespace but are not.
            "\u{a9}", "\u{1681}", "\u{2030}", "\u{2027}", "\u{202a}", "\u{205e}", "\u{3003}",
        ];
        // Every string of up to three pieces, and a few longer ones.
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
        }
        // Pairs of pieces at every offset in longer text, for the block-at-a-time scan.
        for a in pieces {
            for b in pieces {
                for offset in 0..=PLAIN_BLOCK + 4 {
                    let lead = "word ".repeat(10);
                    texts.push(format!("{}{a}{b}{lead}", &lead[..offset]));
                }
            }
        }
        texts.push("  the quick\u{a0}brown  fox\n\tjumps \u{3000}over ".into());
        for text in &texts {
            assert_eq!(join_words(text), reference(text), "{text:?}");
            let mut appended = String::from("x");
            push_words(&mut appended, text);
            let expected = match reference(text) {
                words if words.is_empty() => "x".to_owned(),
                words => format!("x {words}"),
            };
            assert_eq!(appended, expected, "{text:?}");
        }
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
    fn starts_whitespace_agrees_with_whitespace_len() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            for next in ["", "a", "\u{80}", " "] {
                let text = format!("{c}{next}xx");
                let b = text.as_bytes();
                let expected = whitespace_len(b, 0) > 0;
                assert_eq!(starts_whitespace(b[0], b[1], b[2]), expected, "{text:?}");
            }
        }
    }

    #[test]
    fn whitespace_len_agrees_with_char_is_whitespace() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let mut buf = [0; 4];
            let encoded = c.encode_utf8(&mut buf).as_bytes();
            let expected = if c.is_whitespace() { encoded.len() } else { 0 };
            assert_eq!(whitespace_len(encoded, 0), expected, "{c:?}");
        }
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(parse_article(b""), Err(RejectReason::Empty));
        assert_eq!(parse_article(b" \n\t\r\n \n"), Err(RejectReason::Empty));
        assert_eq!(parse_article(b"\xef\xbb\xbf\n"), Err(RejectReason::Empty));
    }
}
