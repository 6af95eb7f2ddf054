//! Bytes to clean text: encoding detection, line ends, and removal of the characters
//! XML 1.0 cannot carry, so that nothing downstream ever has to think about them.

use std::borrow::Cow;
use std::fmt;

use encoding_rs::{UTF_8, WINDOWS_1252};

use crate::model::RejectReason;

/// Something the decoder repaired; the caller logs it with the file's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseWarning {
    /// Bytes that are not UTF-8 were read as Windows-1252, the usual legacy encoding of
    /// Western text (Word, old CMS exports).
    Windows1252 { bytes: usize },
    /// The file starts with a UTF-16 byte order mark and was decoded as such.
    Utf16,
    /// Characters XML cannot carry (C0/C1 controls, noncharacters) were dropped.
    RemovedCharacters { count: usize },
    /// The first line was too long for a title; it is kept whole as the first paragraph.
    TitleShortened,
    /// Front matter keys seedfeed does not know, each with its line in the file: kept
    /// out of the entry, listed so that a typo (`titel`) is seen.
    UnknownKeys { keys: Vec<(String, usize)> },
    /// Front matter keys naming a field another of its names already gave (`pubDate`
    /// beside `date`): each key with its line in the file and the key used instead.
    RepeatedFields { keys: Vec<(String, usize, String)> },
    /// Front matter values of an episode's fields that cannot be what the field is (an
    /// episode number that is not a whole number above 0): each key with its line and
    /// what is wrong. Left out of the entry, which is published without them.
    IgnoredValues { keys: Vec<(String, usize, String)> },
}

impl ParseWarning {
    /// Whether the warning is about the front matter, whose author has something to fix
    /// (a typo in a key), rather than a repair of the text.
    pub fn is_about_front_matter(&self) -> bool {
        matches!(
            self,
            Self::UnknownKeys { .. } | Self::RepeatedFields { .. } | Self::IgnoredValues { .. }
        )
    }
}

impl fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Windows1252 { bytes } => {
                write!(
                    f,
                    "{bytes} bytes are not UTF-8; decoded them as Windows-1252"
                )
            }
            Self::Utf16 => f.write_str("decoded as UTF-16 (byte order mark)"),
            Self::RemovedCharacters { count } => {
                write!(f, "removed {count} control or non-character code points")
            }
            Self::TitleShortened => f.write_str("first line too long for a title; shortened"),
            Self::UnknownKeys { keys } => {
                f.write_str("unknown front matter keys, ignored: ")?;
                write_list(f, keys, |f, (key, line)| write!(f, "{key} (line {line})"))
            }
            Self::RepeatedFields { keys } => {
                f.write_str("front matter keys repeating a field, ignored: ")?;
                write_list(f, keys, |f, (key, line, used)| {
                    write!(f, "{key} (line {line}; {used} is used)")
                })
            }
            Self::IgnoredValues { keys } => {
                f.write_str("front matter values ignored: ")?;
                write_list(f, keys, |f, (key, line, problem)| {
                    write!(f, "{key} (line {line}: {problem})")
                })
            }
        }
    }
}

/// Writes the items of a warning's list, separated by commas: the first
/// [`LISTED_KEYS`], then how many more there are.
fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    write_item: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().take(LISTED_KEYS).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_item(f, item)?;
    }
    if items.len() > LISTED_KEYS {
        write!(f, " and {} more", items.len() - LISTED_KEYS)?;
    }
    Ok(())
}

/// How many keys a warning names; a file with hundreds of unknown keys gets a line, not
/// a page.
const LISTED_KEYS: usize = 10;

/// Share of control bytes (other than tab, line ends and form feed) above which a file is
/// taken for binary data rather than text with a few stray characters.
const MAX_CONTROL_SHARE: f64 = 0.10;

/// Decodes `bytes` into text with `\n` line ends and only XML-legal characters. Clean
/// UTF-8 (the usual file) is borrowed as it is, not copied.
pub fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, Vec<ParseWarning>), RejectReason> {
    let mut warnings = Vec::new();
    let raw = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) if encoding == UTF_8 => {
            check_not_binary(&bytes[bom_len..])?;
            decode_utf8_with_fallback(&bytes[bom_len..], &mut warnings)
        }
        Some((encoding, bom_len)) => {
            // UTF-16: NUL bytes are normal there, so the binary check runs on the text.
            warnings.push(ParseWarning::Utf16);
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
            if had_errors || text.contains('\0') {
                return Err(RejectReason::Binary(
                    "starts with a UTF-16 byte order mark but is not UTF-16 text".into(),
                ));
            }
            Cow::Owned(text.into_owned())
        }
        None => {
            check_not_binary(bytes)?;
            decode_utf8_with_fallback(bytes, &mut warnings)
        }
    };
    if !may_need_cleaning(raw.as_bytes()) {
        return Ok((raw, warnings));
    }
    let text = normalize_line_ends(&raw);
    let (text, removed) = remove_illegal_chars(&text);
    if removed > 0 {
        warnings.push(ParseWarning::RemovedCharacters { count: removed });
    }
    Ok((Cow::Owned(text), warnings))
}

/// Whether UTF-8 `bytes` may hold a CR or a character that [`remove_illegal_chars`]
/// drops: every such character starts with one of these bytes (C0 controls but tab and
/// LF, DEL, 0xC2 for the C1 controls, 0xEF for U+FDD0.., U+FEFF, U+FFFE/F, 0xF0.. for
/// the noncharacters of the other planes). Most files have none, and skip both repairs.
fn may_need_cleaning(bytes: &[u8]) -> bool {
    let suspect =
        |b: u8| (b < 0x20 && b != b'\t' && b != b'\n') | (b == 0x7f) | (b == 0xc2) | (b >= 0xef);
    // A fold without early exit over fixed chunks vectorizes; `any` per byte does not.
    bytes
        .chunks(64)
        .any(|chunk| chunk.iter().fold(false, |seen, &b| seen | suspect(b)))
}

/// Control bytes (other than tab, line ends and form feed) count towards binary data.
fn is_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f
}

fn check_not_binary(bytes: &[u8]) -> Result<(), RejectReason> {
    // Counted in chunks of at most 255 into a byte, which the compiler vectorizes; a NUL
    // is a control byte, so it is looked for only when there are any.
    let controls: usize = bytes
        .chunks(255)
        .map(|chunk| {
            let in_chunk = chunk
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(is_control(b))));
            usize::from(in_chunk)
        })
        .sum();
    if controls == 0 {
        return Ok(());
    }
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(RejectReason::Binary(format!("NUL byte at offset {pos}")));
    }
    if controls as f64 / bytes.len() as f64 > MAX_CONTROL_SHARE {
        return Err(RejectReason::Binary(format!(
            "{controls} of {} bytes are control characters",
            bytes.len()
        )));
    }
    Ok(())
}

/// Valid UTF-8 stays as it is. Otherwise the file is either legacy text, decoded whole as
/// Windows-1252 (in such a file an accented capital before a curly quote, "É”", happens to
/// be valid UTF-8 and must not be read as such), or UTF-8 with a few pasted Windows-1252
/// bytes, where each invalid run is decoded alone. Whichever kind of non-ASCII text is in
/// the majority decides. Never produces U+FFFD.
fn decode_utf8_with_fallback<'a>(
    bytes: &'a [u8],
    warnings: &mut Vec<ParseWarning>,
) -> Cow<'a, str> {
    // simdutf8 stays vectorized over text with many multi-byte characters (curly quotes,
    // accents), where `str::from_utf8` leaves its ASCII fast path at each of them.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let (utf8_chars, invalid_bytes) =
        bytes.utf8_chunks().fold((0, 0), |(valid, invalid), chunk| {
            let non_ascii = chunk.valid().chars().filter(|c| !c.is_ascii()).count();
            (valid + non_ascii, invalid + chunk.invalid().len())
        });
    if invalid_bytes > utf8_chars {
        let legacy_bytes = bytes.iter().filter(|b| !b.is_ascii()).count();
        warnings.push(ParseWarning::Windows1252 {
            bytes: legacy_bytes,
        });
        let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
        return Cow::Owned(text.into_owned());
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        let (decoded, _) = WINDOWS_1252.decode_without_bom_handling(chunk.invalid());
        text.push_str(&decoded);
    }
    warnings.push(ParseWarning::Windows1252 {
        bytes: invalid_bytes,
    });
    Cow::Owned(text)
}

/// CRLF (Windows) and lone CR (classic Mac OS) both become LF.
fn normalize_line_ends(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Keeps only characters XML 1.0 allows and that belong in article text: tab and newline
/// but no other C0 control, no DEL or C1 control (a sign of mis-decoding), no stray byte
/// order mark, no noncharacter (U+FFFE, U+FFFF, U+FDD0..U+FDEF and their plane twins).
pub(super) fn remove_illegal_chars(text: &str) -> (String, usize) {
    let is_legal = |c: char| {
        let cp = c as u32;
        match c {
            '\t' | '\n' => true,
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{feff}' => false,
            '\u{fdd0}'..='\u{fdef}' => false,
            _ => (cp & 0xfffe) != 0xfffe,
        }
    };
    let removed = text.chars().filter(|&c| !is_legal(c)).count();
    if removed == 0 {
        return (text.to_owned(), 0);
    }
    (text.chars().filter(|&c| is_legal(c)).collect(), removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_quotes_are_decoded() {
        let (text, warnings) = decode_text(b"It\x92s here").unwrap();
        assert_eq!(text, "It\u{2019}s here");
        assert_eq!(warnings, vec![ParseWarning::Windows1252 { bytes: 1 }]);
    }

    #[test]
    fn a_legacy_file_is_decoded_whole_even_where_bytes_look_like_utf8() {
        // "JOSÉ”" in Windows-1252: É (0xC9) then ” (0x94) is also a valid UTF-8 pair.
        let (text, warnings) = decode_text(b"JOS\xc9\x94 and caf\xe9 na\xefve").unwrap();
        assert_eq!(text, "JOS\u{c9}\u{201d} and caf\u{e9} na\u{ef}ve");
        assert_eq!(warnings, vec![ParseWarning::Windows1252 { bytes: 4 }]);
    }

    #[test]
    fn mixed_utf8_and_windows_1252_keeps_both() {
        let bytes: Vec<u8> = "caf\u{e9} \u{2014} "
            .as_bytes()
            .iter()
            .chain(b"\x93hi\x94")
            .copied()
            .collect();
        let (text, _) = decode_text(&bytes).unwrap();
        assert_eq!(text, "caf\u{e9} \u{2014} \u{201c}hi\u{201d}");
    }

    #[test]
    fn bom_and_line_ends() {
        let (text, warnings) = decode_text(b"\xef\xbb\xbfa\r\nb\rc\n").unwrap();
        assert_eq!(text, "a\nb\nc\n");
        assert!(warnings.is_empty());
    }

    #[test]
    fn utf16_with_bom() {
        let bytes: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("Hi\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (text, warnings) = decode_text(&bytes).unwrap();
        assert_eq!(text, "Hi\n");
        assert_eq!(warnings, vec![ParseWarning::Utf16]);
    }

    #[test]
    fn illegal_characters_are_removed() {
        let input = "a\u{1}b\u{b}c\u{fffe}d\u{ffff}e\u{85}f\tg, then enough plain text";
        let (text, warnings) = decode_text(input.as_bytes()).unwrap();
        assert_eq!(text, "abcdef\tg, then enough plain text");
        assert_eq!(warnings, vec![ParseWarning::RemovedCharacters { count: 5 }]);
    }

    #[test]
    fn nul_and_control_heavy_input_is_binary() {
        assert!(matches!(
            decode_text(b"abc\0def"),
            Err(RejectReason::Binary(_))
        ));
        assert!(matches!(
            decode_text(b"\x01\x02\x03abc"),
            Err(RejectReason::Binary(_))
        ));
        assert!(decode_text(b"one stray \x01 control in a longer line of text").is_ok());
    }
}
