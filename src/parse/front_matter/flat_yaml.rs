//! The YAML front matter most articles have, read without the general parser: a map of
//! plain keys to plain or quoted one-line scalars, one-line `[a, b]` lists and `- item`
//! lists. [`flat_yaml`] gives what serde-saphyr gives for such a block (the tests
//! compare the two over every shape it accepts) and `None` for anything else, which
//! then goes to serde-saphyr, whose general event stream is costly next to the rest of
//! reading an article when the block is a few lines (docs/performance.md).
//!
//! Whatever YAML could read in more than one way is left to serde-saphyr: anchors,
//! tags, nested maps, multi-line scalars, comments after a value, repeated keys, escapes
//! other than the common ones, and plain scalars that could be numbers, booleans or
//! nulls other than the plainest spellings (`true`, `false`, `42`).

use super::Value;

/// The block as a map, when every line is one of the simple shapes; `None` otherwise.
pub(super) fn flat_yaml(raw: &str) -> Option<Value> {
    if !plain_text(raw) {
        return None;
    }
    let mut entries: Vec<(String, Value)> = Vec::new();
    let mut lines = raw.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.bytes().all(|b| b == b' ') || line.starts_with('#') {
            continue;
        }
        let (key, rest) = line.split_once(':')?;
        if !plain_key(key) || entries.iter().any(|(seen, _)| seen == key) {
            return None;
        }
        let rest = rest.trim_end_matches(' ');
        let value = if rest.is_empty() {
            block_list(&mut lines)?
        } else {
            // `key:value` is one plain scalar in YAML, not a pair.
            let rest = rest.strip_prefix(' ')?.trim_start_matches(' ');
            match rest.as_bytes().first()? {
                b'[' => flow_list(rest)?,
                b'"' | b'\'' => match quoted(rest)? {
                    (text, "") => Value::Text(text),
                    _ => return None,
                },
                _ => plain(rest, false)?,
            }
        };
        entries.push((key.to_owned(), value));
    }
    // A block of comments alone is null to serde-saphyr, not an empty map.
    (!entries.is_empty()).then_some(Value::Map(entries))
}

/// No character YAML refuses or reads specially (controls, tabs, carriage returns, a
/// byte order mark, the Unicode line separators): those blocks go to the full parser.
fn plain_text(raw: &str) -> bool {
    raw.chars().all(|c| match c {
        '\n' => true,
        ' '..='~' => true,
        '\u{00a0}'..='\u{2027}' | '\u{202a}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' => true,
        c => c >= '\u{10000}',
    })
}

/// A key the fast path takes: ASCII letters, digits, `_` and `-`, starting with a
/// letter or `_`, and not a word YAML might read as a boolean or a null.
fn plain_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !ambiguous_word(key)
}

/// Words that are booleans or nulls in one YAML schema or another.
fn ambiguous_word(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// The `- item` lines after a key with no value on its line, all indented alike: a
/// list of scalars. No such line: the key's value is null.
fn block_list<'a>(lines: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Option<Value> {
    let mut items = Vec::new();
    let mut indent = None;
    while let Some(line) = lines.peek() {
        let depth = line.len() - line.trim_start_matches(' ').len();
        let Some(item) = line[depth..].strip_prefix("- ") else {
            // An indented line that is not an item (a nested map, a continued scalar,
            // an empty item) is not a shape of ours; the next key ends the list.
            if depth > 0 || line.starts_with('-') {
                return None;
            }
            break;
        };
        if *indent.get_or_insert(depth) != depth {
            return None;
        }
        lines.next();
        let item = item.trim_matches(' ');
        items.push(match item.as_bytes().first()? {
            b'"' | b'\'' => match quoted(item)? {
                (text, "") => Value::Text(text),
                _ => return None,
            },
            _ => plain(item, false)?,
        });
    }
    Some(if indent.is_none() {
        Value::Null
    } else {
        Value::List(items)
    })
}

/// `[a, "b", 'c']` on one line: a list of scalars.
fn flow_list(text: &str) -> Option<Value> {
    let mut rest = text.strip_prefix('[')?.trim_start_matches(' ');
    let mut items = Vec::new();
    if let Some(after) = rest.strip_prefix(']') {
        return after.is_empty().then_some(Value::List(items));
    }
    loop {
        let (item, after) = match rest.as_bytes().first()? {
            b'"' | b'\'' => {
                let (text, after) = quoted(rest)?;
                (Value::Text(text), after.trim_start_matches(' '))
            }
            _ => {
                let end = rest.find([',', ']'])?;
                (
                    plain(rest[..end].trim_end_matches(' '), true)?,
                    &rest[end..],
                )
            }
        };
        items.push(item);
        if let Some(after) = after.strip_prefix(',') {
            rest = after.trim_start_matches(' ');
        } else {
            return (after == "]").then_some(Value::List(items));
        }
    }
}

/// A quoted scalar at the start of `text` and what follows it, trimmed of spaces.
/// Double quotes take the common escapes only; single quotes double themselves.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.chars().next()?;
    let body = &text[quote.len_utf8()..];
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == quote {
            if quote == '\'' && chars.next_if(|&(_, next)| next == '\'').is_some() {
                value.push('\'');
                continue;
            }
            return Some((value, body[at + 1..].trim_matches(' ')));
        }
        if quote == '"' && c == '\\' {
            value.push(match chars.next()?.1 {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'n' => '\n',
                't' => '\t',
                _ => return None,
            });
            continue;
        }
        value.push(c);
    }
    // No closing quote on the line: a multi-line scalar.
    None
}

/// A plain (unquoted) scalar: text, or one of the few numbers and booleans whose
/// reading no YAML schema disputes. `None` for anything that starts with an
/// indicator, holds a comment or a `: `, or could be read as another type.
fn plain(text: &str, in_flow: bool) -> Option<Value> {
    let first = *text.as_bytes().first()?;
    if b"-?:,[]{}#&*!|>'\"%@`~ ".contains(&first)
        || text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || (in_flow && text.contains(['[', ']', '{', '}']))
    {
        return None;
    }
    match text {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ if ambiguous_word(text) => return None,
        _ => {}
    }
    if first.is_ascii_digit() || first == b'+' || first == b'.' {
        return if small_integer(text) {
            Some(Value::Number(text.to_owned()))
        } else if date_like(text) {
            Some(Value::Text(text.to_owned()))
        } else {
            None
        };
    }
    Some(Value::Text(text.to_owned()))
}

/// `0` or a decimal integer without a leading zero that fits any integer type.
fn small_integer(text: &str) -> bool {
    text == "0"
        || (text.len() <= 18 && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit()))
}

/// `2024-05-01`, optionally followed by a time (`T` or one space, `HH:MM`, seconds,
/// a fraction) and a zone (`Z` or `±HH:MM`): a date, which YAML reads as text here.
fn date_like(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let dash = |at: usize| b.get(at) == Some(&b'-');
    if !(digits(0..4) && dash(4) && digits(5..7) && dash(7) && digits(8..10)) {
        return false;
    }
    let mut rest = &text[10..];
    if rest.is_empty() {
        return true;
    }
    rest = match rest.strip_prefix(['T', ' ']) {
        Some(time) => time,
        None => return false,
    };
    let t = rest.as_bytes();
    let two = |at: usize| {
        t.get(at..at + 2)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if !(two(0) && t.get(2) == Some(&b':') && two(3)) {
        return false;
    }
    rest = &rest[5..];
    if let Some(seconds) = rest.strip_prefix(':') {
        let s = seconds.as_bytes();
        if !(s.len() >= 2 && s[..2].iter().all(u8::is_ascii_digit)) {
            return false;
        }
        rest = &seconds[2..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return false;
            }
            rest = &fraction[len..];
        }
    }
    match rest.as_bytes() {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml_options;
    use super::*;

    /// The general parser's reading, when it has one.
    fn saphyr(raw: &str) -> Option<Value> {
        serde_saphyr::from_str_with_options::<Value>(raw, yaml_options()).ok()
    }

    /// Wherever the fast path gives a value, serde-saphyr gives the same one.
    fn agrees(raw: &str) -> bool {
        match flat_yaml(raw) {
            Some(fast) => {
                assert_eq!(Some(&fast), saphyr(raw).as_ref(), "{raw:?}");
                true
            }
            None => false,
        }
    }

    const SCALARS: &[&str] = &[
        "Plain words",
        "\"Quoted: with a colon\"",
        "\"Escapes \\\"inside\\\" and \\\\ and \\/ and \\n and \\t\"",
        "'Single ''quoted'' text'",
        "'a # not a comment'",
        "Hello, world [1] {2}",
        "https://example.com/a?b=c#d",
        "Santé — “quotes” and 日本語",
        "2024-05-01",
        "2024-05-01T10:20:30Z",
        "2024-05-01T10:20:30.123+02:00",
        "2024-05-01 10:20",
        "2023-11-15T00:13:20+02:00",
        "true",
        "false",
        "0",
        "42",
        "123456789012345678",
        "images/cover.jpg",
        "C++",
        "C#",
        "a-b_c.d",
        "x:y",
        "It's fine",
        "trailing spaces   ",
    ];

    /// Shapes the fast path must leave to the full parser, each for its own reason.
    const DECLINED: &[&str] = &[
        "",
        "# a comment alone\n",
        "title: Q&A: what next",
        "title: text # comment",
        "title: \"quoted\" # comment",
        "title: &anchor value",
        "title: *alias",
        "title: !tag value",
        "title: |\n  block\n",
        "title: >\n  folded\n",
        "title: yes",
        "title: True",
        "title: ~",
        "title: null",
        "title: 0x1F",
        "title: 100%",
        "title: 007",
        "title: 1.5",
        "title: -3",
        "title: .inf",
        "title: 1234567890123456789",
        "title: 2024-13",
        "title: \"unterminated\n  continued\"",
        "title: \"\\u00e9\"",
        "title: plain\n  continued",
        "author:\n  name: Ann\n",
        "tags: [a, [b]]",
        "tags: [a, b,]",
        "tags: {a: b}",
        "tags:\n  - a\n   - b\n",
        "tags:\n  -\n",
        "tags:\n  - a\n\n  - b\n",
        "title: a\ntitle: b",
        "True: x",
        "key with space: x",
        "\"quoted key\": x",
        "? complex\n: key",
        "title:\tx",
        "title: x\r",
        "%YAML 1.2",
        "title: a\u{85}b",
        "<<: {a: b}",
        "title:value",
    ];

    #[test]
    fn gives_what_the_general_parser_gives_for_every_value_it_takes() {
        for scalar in SCALARS {
            assert!(agrees(&format!("title: {scalar}\n")), "declined {scalar:?}");
            for shape in [
                format!("title: {scalar}\n"),
                format!("a: 1\nsummary:   {scalar}\n\n# a comment\nb: c\n"),
                format!("tags: [{scalar}, x]\n"),
                format!("tags: [ {scalar} ]\n"),
                format!("tags:\n  - {scalar}\n  - y\n"),
                format!("tags:\n- {scalar}\n"),
            ] {
                agrees(&shape);
            }
        }
        for raw in ["title: x", "tags: []\n", "empty:\nnext: 1\n", "empty:   \n"] {
            assert!(agrees(raw), "{raw:?}");
        }
    }

    #[test]
    fn takes_the_front_matter_generators_write() {
        let hugo = "title: \"Canada: ceasefire collapses\"\ndate: 2023-11-14T18:17:18Z\n\
            draft: false\nsection: Culture\ntags: [government, flood]\nauthors: [Somchai Álvarez]\n\
            summary: \"\\\"It’s a great day,\\\" she said.\"\nimage: images/a.jpg\n\
            image_alt: \"João (L), arrives (Somchai/EPA)\"\n";
        let jekyll = "layout: post\ntitle:  Welcome to Jekyll!\ndate:   2015-11-10 14:30:00\n\
            categories:\n  - jekyll\n  - update\nauthor: Ann\n";
        for raw in [hugo, jekyll] {
            assert!(agrees(raw), "the fast path declined {raw:?}");
        }
    }

    #[test]
    fn leaves_every_other_shape_to_the_general_parser() {
        for raw in DECLINED {
            assert_eq!(flat_yaml(raw), None, "{raw:?}");
        }
    }
}
