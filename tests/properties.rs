//! Property tests of the whole pipeline, parse → normalize → render, on inputs no one
//! wrote by hand: arbitrary bytes, bytes that look like text, and "article-shaped" text
//! built from the fragments that break feeds (markup, entities, `]]>`, control and
//! non-characters, odd line ends and blank-line runs, very long lines), encoded as UTF-8,
//! Windows-1252 or UTF-16, with or without a byte order mark.
//!
//! Each test is named for the invariant it checks. A failure prints the shrunk input (as
//! escaped bytes, with the text and encoding it was made from). The case count is bounded
//! for CI; `PROPTEST_CASES` overrides it. Failures are not persisted to files: a failing
//! input found here belongs in a named regression test.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeMap;
use std::fmt;

use common::pipeline_invariant::{
    Fault, accepted, escaped, read_back, render, stable, well_formed,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use seedfeed::normalize::looks_like_html;
use seedfeed::parse::{ParseWarning, parse_article};

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

/// The cases of one test: `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A broken part of the invariant fails the property, with what broke and where.
impl From<Fault> for TestCaseError {
    fn from(fault: Fault) -> Self {
        TestCaseError::fail(fault.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// How article-shaped text was turned into bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1252,
    Utf16LeBom,
    Utf16BeBom,
    /// UTF-8 with Windows-1252 bytes pasted in (at the given places).
    Utf8WithLegacyBytes,
}

/// One input file: its bytes, and (for article-shaped inputs) what they were made from.
#[derive(Clone)]
struct Input {
    bytes: Vec<u8>,
    origin: Option<(String, Encoding)>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.bytes.escape_ascii())?;
        if let Some((text, encoding)) = &self.origin {
            write!(
                f,
                " ({} bytes; text {text:?} as {encoding:?})",
                self.bytes.len()
            )?;
        } else {
            write!(f, " ({} bytes)", self.bytes.len())?;
        }
        Ok(())
    }
}

fn arbitrary_bytes() -> impl Strategy<Value = Input> {
    proptest::collection::vec(any::<u8>(), 0..4096).prop_map(|bytes| Input {
        bytes,
        origin: None,
    })
}

/// Arbitrary bytes with the distribution of text: mostly printable ASCII and line ends,
/// some high bytes (UTF-8 sequences or Windows-1252), a few controls. Uniform bytes are
/// almost always rejected as binary; these mostly are not.
fn text_like_bytes() -> impl Strategy<Value = Input> {
    let byte = prop_oneof![
        30 => 0x20u8..0x7f,
        4 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b'\t'),
        6 => 0x80u8..=0xff,
        1 => 1u8..0x20,
        1 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..4096).prop_map(|bytes| Input {
        bytes,
        origin: None,
    })
}

fn strings(items: &[&'static str]) -> impl Strategy<Value = String> + use<> {
    proptest::sample::select(items.to_vec()).prop_map(String::from)
}

/// Ordinary words, punctuation, and text in other scripts.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z]{1,10}",
        2 => "[A-Z][a-z]{0,8}[.,:;!?]",
        1 => "[0-9]{1,4}",
        2 => strings(&[
            "café", "naïve", "Straße", "JOSÉ”", "“quoted”", "it’s", "—", "…", "€5",
            "字", "日本語", "مرحبا", "Ελλάδα", "Привет", "e\u{301}", "\u{202e}abc",
            "😀", "👍🏽", "𝔘𝔫𝔦", "𠜎", "🇫🇷", "\u{1f600}\u{200d}\u{1f4bb}",
        ]),
    ]
}

/// Text that means something to a markup parser.
fn hazard() -> impl Strategy<Value = String> {
    strings(&[
        "&",
        "<",
        ">",
        "]]>",
        "\"",
        "'",
        "<script>alert(1)</script>",
        "<SCRIPT src=x>",
        "<scr<script>ipt>",
        "<b>",
        "</b>",
        "</p>",
        "<img src=x onerror=alert(1)>",
        "\" onmouseover=\"alert(1)",
        "' x='",
        "&amp;",
        "&#39;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&#x26;",
        "&#x3C;",
        "&nbsp;",
        "&#0;",
        "&#1;",
        "&#xFFFF;",
        "&bogus;",
        "&amp",
        "<![CDATA[",
        "]]]]><![CDATA[>",
        "<!--",
        "-->",
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE x [<!ENTITY e \"boom\">]>",
        "&e;",
        "</entry>",
        "<entry>",
        "</item>",
        "</feed>",
        "+00:00</updated>",
        "%2F",
        "\\",
        "{\"a\":1}",
        "\\u0000",
    ])
}

/// Characters that must not reach a feed, and a few edge cases that may.
fn odd_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => (0u32..=0x1f).prop_map(|c| char::from_u32(c).unwrap()),
        3 => proptest::sample::select(vec![
            '\u{7f}', '\u{80}', '\u{85}', '\u{9f}', '\u{fffe}', '\u{ffff}', '\u{feff}',
            '\u{fdd0}', '\u{fdef}', '\u{1fffe}', '\u{10ffff}', '\u{fffd}', '\u{d7ff}',
            '\u{e000}', '\u{a0}', '\u{ad}', '\u{200b}', '\u{2028}', '\u{2029}', '\u{3000}',
            '\u{180e}', '\u{1680}', '\u{10000}', '\u{1f600}', '\u{e0001}',
        ]),
    ]
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => word(),
        4 => hazard(),
        1 => odd_char().prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
        1 => strings(&[" ", "  ", "\t", " \t ", "\u{a0}", "\u{3000}", "\u{b}", "\u{c}"]),
    ]
}

/// A line of text: fragments, joined with a space or run together.
fn text_line(fragments: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec((fragment(), any::<bool>()), fragments).prop_map(|parts| {
        let mut line = String::new();
        for (part, spaced) in parts {
            if spaced && !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&part);
        }
        line
    })
}

fn section_line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => strings(&[
            "Tech", "World", "world", "Conflict & Justice", "Santé publique", "<Science>",
            "Asia & Pacific", "世界", "😀", "R&D;", "&amp;", "</b>", "C++ / Rust", "✓✓",
            "Sports.", "Q&A: now?",
        ]),
        1 => text_line(1..4),
    ]
}

fn related_line() -> impl Strategy<Value = String> {
    (
        strings(&[
            "More from GlobalPost:",
            "More from GlobalPost: ",
            "More from GlobalPost:\t",
        ]),
        prop_oneof![Just(String::new()), text_line(1..8)],
    )
        .prop_map(|(prefix, headline)| prefix + &headline)
}

/// Lines far longer than a title may be, with and without spaces.
fn long_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (word(), 30..250usize).prop_map(|(w, n)| vec![w; n].join(" ")),
        (
            strings(&["x", "字", "&", "<", "😀", "]]>", "a\u{1}"]),
            150..1200usize
        )
            .prop_map(|(s, n)| s.repeat(n)),
        (text_line(4..12), 5..30usize).prop_map(|(l, n)| vec![l; n].join(" ")),
    ]
}

fn any_line() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => text_line(1..14),
        2 => section_line(),
        2 => related_line(),
        1 => long_line(),
    ]
}

/// What a blank line holds: nothing, or only whitespace.
fn blank() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => Just(""),
        1 => proptest::sample::select(vec![" ", "\t", " \t ", "\u{a0}", "\u{3000}", "\u{c}"]),
    ]
}

/// A line of the file and the blank lines after it.
#[derive(Debug, Clone)]
struct Block {
    line: String,
    blanks: Vec<&'static str>,
}

fn block(
    line: impl Strategy<Value = String>,
    gap: impl Strategy<Value = usize>,
) -> impl Strategy<Value = Block> {
    (line, gap)
        .prop_flat_map(|(line, gap)| (Just(line), proptest::collection::vec(blank(), gap)))
        .prop_map(|(line, blanks)| Block { line, blanks })
}

/// Lines of any kind with runs of 0 to 6 blank lines between them.
fn free_layout() -> impl Strategy<Value = Vec<Block>> {
    let gap = prop_oneof![3 => 0..2usize, 3 => 1..4usize, 1 => 4..7usize];
    proptest::collection::vec(block(any_line(), gap), 1..14)
}

/// The seed format: section, 1 blank line, title, 2, caption, 3, paragraphs 1 apart and
/// "More from GlobalPost:" lines; any part may be missing, and every blank line may be
/// doubled (as an editor does).
fn canonical_layout() -> impl Strategy<Value = Vec<Block>> {
    (
        proptest::option::of(section_line()),
        prop_oneof![4 => text_line(1..10), 1 => long_line()],
        proptest::option::of(prop_oneof![text_line(3..20), long_line()]),
        proptest::collection::vec(prop_oneof![4 => any_line(), 1 => related_line()], 0..8),
        1..=2usize,
    )
        .prop_map(|(section, title, caption, body, scale)| {
            let mut lines: Vec<(String, usize)> = Vec::new();
            if let Some(section) = section {
                lines.push((section, scale));
            }
            lines.push((title, 2 * scale));
            if let Some(caption) = caption {
                lines.push((caption, 3 * scale));
            }
            lines.extend(body.into_iter().map(|line| (line, scale)));
            lines
                .into_iter()
                .map(|(line, gap)| Block {
                    line,
                    blanks: vec![""; gap],
                })
                .collect()
        })
}

/// Joins blocks into text with the given line ends ("\n", "\r\n", "\r"; one per line,
/// cycled), optional leading blank lines and an optional final line end.
fn layout_text(blocks: &[Block], ends: &[&str], leading: usize, final_end: bool) -> String {
    let mut ends = ends.iter().cycle();
    let mut text = String::new();
    for _ in 0..leading {
        text.push_str(ends.next().unwrap());
    }
    for (i, block) in blocks.iter().enumerate() {
        text.push_str(&block.line);
        let last = i + 1 == blocks.len();
        if !last || final_end || !block.blanks.is_empty() {
            text.push_str(ends.next().unwrap());
        }
        for blank in &block.blanks {
            text.push_str(blank);
            text.push_str(ends.next().unwrap());
        }
    }
    text
}

fn line_ends() -> impl Strategy<Value = Vec<&'static str>> {
    let end = proptest::sample::select(vec!["\n", "\r\n", "\r"]);
    prop_oneof![
        6 => end.clone().prop_map(|e| vec![e]),
        1 => proptest::collection::vec(end, 2..6),
    ]
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        6 => Just(Encoding::Utf8),
        1 => Just(Encoding::Utf8Bom),
        3 => Just(Encoding::Windows1252),
        1 => Just(Encoding::Utf16LeBom),
        1 => Just(Encoding::Utf16BeBom),
        1 => Just(Encoding::Utf8WithLegacyBytes),
    ]
}

fn encode(text: &str, encoding: Encoding, legacy: &[(usize, u8)]) -> Vec<u8> {
    let utf16 = |bom: [u8; 2], unit: fn(u16) -> [u8; 2]| {
        bom.into_iter()
            .chain(text.encode_utf16().flat_map(unit))
            .collect::<Vec<u8>>()
    };
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Utf8Bom => [&[0xef, 0xbb, 0xbf], text.as_bytes()].concat(),
        // Characters Windows-1252 lacks become `&#NNNN;`, as a legacy editor would save.
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252.encode(text).0.into_owned(),
        Encoding::Utf16LeBom => utf16([0xff, 0xfe], u16::to_le_bytes),
        Encoding::Utf16BeBom => utf16([0xfe, 0xff], u16::to_be_bytes),
        Encoding::Utf8WithLegacyBytes => {
            let mut bytes = text.as_bytes().to_vec();
            for &(at, byte) in legacy {
                // At a character boundary, so the UTF-8 around it stays valid.
                let mut at = at % (bytes.len() + 1);
                while at < bytes.len() && (bytes[at] & 0xc0) == 0x80 {
                    at += 1;
                }
                bytes.insert(at, byte);
            }
            bytes
        }
    }
}

fn article_shaped() -> impl Strategy<Value = Input> {
    (
        prop_oneof![free_layout(), canonical_layout()],
        line_ends(),
        0..3usize,
        any::<bool>(),
        encoding(),
        proptest::collection::vec((any::<usize>(), 0x80u8..=0xff), 1..6),
    )
        .prop_map(|(blocks, ends, leading, final_end, encoding, legacy)| {
            let text = layout_text(&blocks, &ends, leading, final_end);
            Input {
                bytes: encode(&text, encoding, &legacy),
                origin: Some((text, encoding)),
            }
        })
}

/// Every kind of input, article-shaped most often (other bytes are mostly rejected).
fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => arbitrary_bytes(),
        1 => text_like_bytes(),
        4 => article_shaped(),
    ]
}

/// File names without their extension: ASCII, spaces, Unicode, URL-significant
/// characters; never `/` or NUL, which no file name holds.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9]{3}_[0-9a-f]{16}",
        3 => "[a-zA-Z0-9 _.,'&()-]{1,30}",
        2 => "[ -.0-~]{1,30}",
        2 => proptest::collection::vec(
            prop_oneof![
                "[a-z0-9 _-]",
                strings(&["é", "ß", "字", "😀", "\u{a0}", " ", "%", "#", "?", "+", "\u{301}"]),
            ],
            1..20,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1024))]

    /// No byte sequence panics the parser; whatever it accepts has a title, and its
    /// fields are clean (see the next property).
    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes(input in arbitrary_bytes()) {
        accepted(&input.bytes)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Every field of an accepted article is one clean line: no `\r`, no C0 control but
    /// tab, no U+FFFE/U+FFFF (nor anything else the decoder removes), no leading or
    /// trailing whitespace, whitespace runs collapsed; the title is not empty.
    #[test]
    fn accepted_articles_have_clean_trimmed_fields_and_a_title(input in any_input()) {
        accepted(&input.bytes)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Every XML document (feeds in RSS and Atom, section feeds, archive pages, the OPML
    /// list) is well-formed and holds, literally or by reference, only characters XML 1.0
    /// allows; the JSON feeds are JSON.
    #[test]
    fn every_document_is_well_formed_xml_or_json(input in any_input(), key in key()) {
        if let Some(r) = render(&input.bytes, &key)? {
            well_formed(&r)?;
        }
    }

    /// feed-rs reads the main feed back in every format and finds the entry by its id,
    /// with a title: in Atom and JSON Feed the article's title exactly (Atom's
    /// `type="html"` unescaped), in RSS the same as a reader shows it.
    #[test]
    fn every_feed_reads_back_with_the_entry_and_its_title(input in any_input(), key in key()) {
        if let Some(r) = render(&input.bytes, &key)? {
            read_back(&r)?;
        }
    }

    /// The index and the entry's page hold only the templates' markup: every character of
    /// the article is escaped, so no `<script` (nor any other tag or attribute) comes
    /// from it, and its title and body appear escaped.
    #[test]
    fn html_pages_escape_every_character_of_the_article(input in any_input(), key in key()) {
        if let Some(r) = render(&input.bytes, &key)? {
            escaped(&r)?;
        }
    }

    /// The same input renders to the same bytes, every document of the snapshot; the
    /// entry's id is the same each time and is the UUIDv5 of the key.
    #[test]
    fn rendering_is_byte_stable_and_the_id_derives_from_the_key(input in any_input(), key in key()) {
        stable(&input.bytes, &key)?;
    }
}

/// The article-shaped strategy is only worth its cases if most of them parse and they
/// reach every branch of the parser: checked on a fixed sample, so it cannot go
/// vacuous unnoticed.
#[test]
fn article_shaped_inputs_reach_every_parser_branch() {
    let mut runner = TestRunner::deterministic();
    let strategy = article_shaped();
    let total = 400;
    let mut accepted = 0;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..total {
        let input = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(parsed) = parse_article(&input.bytes) else {
            continue;
        };
        accepted += 1;
        let article = &parsed.article;
        let mut mark = |what| *seen.entry(what).or_default() += 1;
        if article.section.is_some() {
            mark("section");
        }
        if article.caption.is_some() {
            mark("caption");
        }
        if !article.related.is_empty() {
            mark("related");
        }
        if article.paragraphs.len() > 1 {
            mark("paragraphs");
        }
        if looks_like_html(&article.title) {
            mark("html-like title");
        }
        for warning in &parsed.warnings {
            mark(match warning {
                ParseWarning::Windows1252 { .. } => "windows-1252",
                ParseWarning::Utf16 => "utf-16",
                ParseWarning::RemovedCharacters { .. } => "removed characters",
                ParseWarning::TitleShortened => "title shortened",
            });
        }
    }
    assert!(
        accepted * 10 >= total * 7,
        "only {accepted} of {total} article-shaped inputs parse"
    );
    for what in [
        "section",
        "caption",
        "related",
        "paragraphs",
        "html-like title",
        "windows-1252",
        "utf-16",
        "removed characters",
        "title shortened",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) >= 5,
            "{what} in too few article-shaped inputs: {seen:?}"
        );
    }
}
