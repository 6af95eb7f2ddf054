//! The inputs of the properties: arbitrary bytes, bytes with the distribution of text,
//! and article-shaped text built from the fragments that break feeds, encoded as the
//! files of real editors are; and the file names they are stored under.

use std::fmt;

use proptest::prelude::*;

/// How article-shaped text was turned into bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
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
pub struct Input {
    pub bytes: Vec<u8>,
    pub origin: Option<(String, Encoding)>,
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

pub fn arbitrary_bytes() -> impl Strategy<Value = Input> {
    proptest::collection::vec(any::<u8>(), 0..4096).prop_map(|bytes| Input {
        bytes,
        origin: None,
    })
}

/// Arbitrary bytes with the distribution of text: mostly printable ASCII and line ends,
/// some high bytes (UTF-8 sequences or Windows-1252), a few controls. Uniform bytes are
/// almost always rejected as binary; these mostly are not.
pub fn text_like_bytes() -> impl Strategy<Value = Input> {
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

pub fn article_shaped() -> impl Strategy<Value = Input> {
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
pub fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => arbitrary_bytes(),
        1 => text_like_bytes(),
        4 => article_shaped(),
    ]
}

/// File names without their extension: ASCII, spaces, Unicode, URL-significant
/// characters; never `/` or NUL, which no file name holds.
pub fn key() -> impl Strategy<Value = String> {
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
