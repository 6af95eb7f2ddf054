//! The whitespace kernel of the parser: lines joined into one line of words, every
//! whitespace run (Unicode White_Space) collapsed to one space. Most of a parse's time
//! was here, so text that is already words and single spaces is copied a block at a
//! time after a test that compiles to vector instructions.

/// Joins lines into one line of text, every whitespace run collapsed to one space.
pub(super) fn join_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_words(&mut out, text);
    out
}

/// Appends the words of `text` to `out`, each after one space unless `out` is empty:
/// `str::split_whitespace` joined with spaces, but a run of words already separated by
/// single spaces (nearly all text) is copied whole instead of word by word. The scan
/// passes over such text [`PLAIN_BLOCK`] bytes at a time and looks at the rest byte by
/// byte.
pub(super) fn push_words(out: &mut String, text: &str) {
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
/// of, and the quick test alone sent such blocks byte by byte (docs/performance.md has
/// the parse times of each test alone and of both). Both are folds of comparisons
/// without early exit over a fixed length, which compile to vector instructions.
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
/// A table lookup per byte keeps the scan of [`push_words`] tight: far cheaper than
/// calling [`whitespace_len`] on every byte.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
