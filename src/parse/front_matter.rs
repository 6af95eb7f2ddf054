//! Front matter at the start of an article: YAML between `---` lines, TOML between `+++`
//! lines, or a JSON object, read into [`FrontMatter`] under the names the big site
//! generators use. Pure: text in, fields and the rest of the text out.
//!
//! The block is split here, not by a Markdown parser, because a `---` later in a body is
//! a rule. Only the very start of the text counts:
//!
//! - a first line `---` opens YAML, closed by the next `---` (or `...`) line;
//! - a first line `+++` opens TOML, closed by the next `+++` line;
//! - a `{` as the first character, followed by `"` or `}` (after any spaces), opens a
//!   JSON object, closed by its matching `}`; anything after it on that line is an error.
//!
//! A text that opens any other way has no front matter. A file whose first line is
//! `---` but that has no closing line is a reject that says how to fix it: a plain
//! article that starts with a rule line gets a line of text above it.
//!
//! Each parser is bounded so that hostile input is refused before it is expanded: the
//! block is at most [`MAX_FRONT_MATTER_BYTES`], nesting at most [`MAX_DEPTH`] levels
//! (serde-saphyr's budget for YAML, the parsers' own limits and a check after them for
//! TOML and JSON), and YAML aliases are counted and their replay capped (no "billion
//! laughs").

mod flat_yaml;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::decode::{ParseWarning, remove_illegal_chars};
use super::words::join_words;
use crate::model::{EpisodeType, FrontEnclosure, FrontEpisode, FrontMatter, Person, RejectReason};

/// The largest front matter read, in bytes: far more than any real one (a few hundred
/// bytes), small enough that a hostile one costs nothing.
pub const MAX_FRONT_MATTER_BYTES: usize = 256 * 1024;

/// The deepest nesting of lists and maps accepted (the top-level map is level 1). Real
/// front matter needs three (a list of author maps).
pub const MAX_DEPTH: usize = 64;

/// What reading the front matter at the start of an article gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontRead<'a> {
    /// Empty (`Default`) when the text has none.
    pub front: FrontMatter,
    /// The text after the closing delimiter (or all of it).
    pub body: &'a str,
    /// The 1-based line number in the file where `body` starts.
    pub body_line: usize,
    /// Unknown keys and keys that repeat a field another name already gave, with their
    /// line numbers; at most one warning of each kind.
    pub warnings: Vec<ParseWarning>,
}

/// Reads the front matter at the start of `text`, which is already decoded (no byte
/// order mark, `\n` line ends: see `decode::decode_text`). A block that does not parse,
/// or a field of the wrong type, is a [`RejectReason::FrontMatter`] with the line and
/// column in the file.
pub fn read_front_matter(text: &str) -> Result<FrontRead<'_>, RejectReason> {
    let Some(block) = split(text)? else {
        return Ok(FrontRead {
            front: FrontMatter::default(),
            body: text,
            body_line: 1,
            warnings: Vec::new(),
        });
    };
    let entries = match block.value {
        Value::Map(entries) => entries,
        Value::Null => Vec::new(),
        other => return Err(not_a_map(block.syntax, block.first_line, &other)),
    };
    let keys = KeyLines::new(block.syntax, block.raw, block.first_line);
    let (front, warnings) = to_front_matter(entries, &keys)?;
    Ok(FrontRead {
        front,
        body: block.body,
        body_line: block.body_line,
        warnings,
    })
}

/// The three forms of front matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Yaml,
    Toml,
    Json,
}

/// A front matter block, parsed, and the text after it.
#[derive(Debug)]
struct Block<'a> {
    syntax: Syntax,
    /// The text of the block: between the delimiter lines, or the JSON object.
    raw: &'a str,
    /// The line of the file where `raw` starts.
    first_line: usize,
    value: Value,
    body: &'a str,
    body_line: usize,
}

/// Finds and parses the block at the start of `text`; `None` when there is none.
fn split(text: &str) -> Result<Option<Block<'_>>, RejectReason> {
    let first_end = memchr::memchr(b'\n', text.as_bytes()).unwrap_or(text.len());
    let syntax = match text[..first_end].trim_end() {
        "---" => Syntax::Yaml,
        "+++" => Syntax::Toml,
        _ if opens_json(text) => return split_json(text).map(Some),
        _ => return Ok(None),
    };
    let Some((raw, body, body_line)) = delimited(text, syntax, first_end) else {
        return Err(reject(1, 1, unterminated_message(syntax)));
    };
    if raw.len() > MAX_FRONT_MATTER_BYTES {
        return Err(too_large(raw.len()));
    }
    let value = match syntax {
        Syntax::Yaml => parse_yaml(raw)?,
        _ => parse_toml(raw)?,
    };
    check_depth(&value, 2)?;
    Ok(Some(Block {
        syntax,
        raw,
        first_line: 2,
        value,
        body,
        body_line,
    }))
}

/// A JSON object: `{` first, then (after any whitespace) a key or the closing brace, so
/// that a plain article starting with "{Update}" is not taken for one.
fn opens_json(text: &str) -> bool {
    text.strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with(['"', '}']))
}

/// Splits a block between delimiter lines: its text, the body, and the body's line.
/// `None` when no closing line follows the opening one (which ends at `first_end`).
fn delimited(text: &str, syntax: Syntax, first_end: usize) -> Option<(&str, &str, usize)> {
    let start = first_end + 1;
    if start > text.len() {
        return None;
    }
    let mut line_start = start;
    let mut line_number = 2;
    loop {
        let line_end = memchr::memchr(b'\n', &text.as_bytes()[line_start..])
            .map_or(text.len(), |at| line_start + at);
        if closes(syntax, &text[line_start..line_end]) {
            let body = text.get(line_end + 1..).unwrap_or("");
            return Some((&text[start..line_start], body, line_number + 1));
        }
        if line_end == text.len() {
            return None;
        }
        line_start = line_end + 1;
        line_number += 1;
    }
}

/// Whether `line` closes a block: the same delimiter, or YAML's end-of-document marker
/// (`...`, which Jekyll also accepts); trailing spaces allowed.
fn closes(syntax: Syntax, line: &str) -> bool {
    matches!(
        (syntax, line.trim_end()),
        (Syntax::Yaml, "---" | "...") | (Syntax::Toml, "+++")
    )
}

fn unterminated_message(syntax: Syntax) -> String {
    let delimiter = if syntax == Syntax::Yaml { "---" } else { "+++" };
    format!(
        "front matter opened by the `{delimiter}` on line 1 is never closed: end it with \
         a line of `{delimiter}`; if the file has no front matter, remove that first line \
         or put a line of text above it"
    )
}

/// Reads a JSON object at the start of `text`, where it ends being where the body starts.
/// Only the first [`MAX_FRONT_MATTER_BYTES`] are given to the parser.
fn split_json(text: &str) -> Result<Block<'_>, RejectReason> {
    let window = &text[..floor_char_boundary(text, MAX_FRONT_MATTER_BYTES)];
    let mut stream = serde_json::Deserializer::from_str(window).into_iter::<Value>();
    let value = match stream.next() {
        Some(Ok(value)) => value,
        Some(Err(error)) if error.is_eof() && window.len() < text.len() => {
            return Err(too_large(window.len()));
        }
        Some(Err(error)) => return Err(json_error(&error)),
        None => {
            return Err(reject(
                1,
                1,
                "front matter: the JSON object is empty".into(),
            ));
        }
    };
    let end = stream.byte_offset();
    check_depth(&value, 1)?;
    let raw = &text[..end];
    let closing_line = 1 + memchr::memchr_iter(b'\n', raw.as_bytes()).count();
    let rest = &text[end..];
    let rest_end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
    if !rest[..rest_end].trim().is_empty() {
        let column = raw.len() - raw.rfind('\n').map_or(0, |at| at + 1);
        return Err(reject(
            closing_line,
            column + 1,
            "text after the `}` that closes the JSON front matter; start the body on the \
             next line"
                .into(),
        ));
    }
    Ok(Block {
        syntax: Syntax::Json,
        raw,
        first_line: 1,
        value,
        body: rest.get(rest_end + 1..).unwrap_or(""),
        body_line: closing_line + 1,
    })
}

/// The largest index at most `at` that is a character boundary of `text`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

fn json_error(error: &serde_json::Error) -> RejectReason {
    let message = without_position(error.to_string());
    reject(
        error.line().max(1),
        error.column().max(1),
        format!("JSON: {message}"),
    )
}

/// The YAML budget: a few times what any real front matter uses, so that an alias bomb,
/// a deep nest or a flood of nodes is refused while it is being read, not expanded.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_events: 100_000,
            max_nodes: 50_000,
            max_aliases: 256,
            max_anchors: 256,
            max_merge_keys: 64,
            max_total_scalar_bytes: MAX_FRONT_MATTER_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 4_096,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 256,
        },
        // `yes`, `on`, `y` stay text (YAML 1.2): a key `y:` is not `true:`, and `draft`
        // reads those spellings itself.
        strict_booleans: true,
        // `.nan` under a key we ignore is no reason to refuse the file.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
        with_snippet: false,
    }
}

fn parse_yaml(raw: &str) -> Result<Value, RejectReason> {
    if let Some(value) = flat_yaml::flat_yaml(raw) {
        return Ok(value);
    }
    serde_saphyr::from_str_with_options::<Value>(raw, yaml_options()).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((0, 1), |at| (at.line() as usize, at.column() as usize));
        let message = yaml_message(&error);
        reject(line.max(1) + 1, column.max(1), format!("YAML: {message}"))
    })
}

/// serde-saphyr's message for people, without the position it appends (the reject
/// carries it); a breached budget in our words.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    let mut inner = error.without_snippet();
    while let Error::AliasError { error, .. } = inner {
        inner = error;
    }
    match inner {
        Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!("nested more than {MAX_DEPTH} levels deep"),
        Error::Budget { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => {
            "more aliases, anchors or values than front matter may have".into()
        }
        error => without_position(error.render_with_formatter(&serde_saphyr::UserMessageFormatter)),
    }
}

/// A parser's message without the position at its end: the reject carries it.
fn without_position(message: String) -> String {
    match message.split_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => message,
    }
}

fn parse_toml(raw: &str) -> Result<Value, RejectReason> {
    let table = raw.parse::<toml::Table>().map_err(|error| {
        let at = error.span().map_or(0, |span| span.start);
        let (line, column) = line_and_column(raw, at);
        let message = error.message().trim_end();
        reject(line + 1, column, format!("TOML: {message}"))
    })?;
    Ok(Value::from_toml(toml::Value::Table(table)))
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(text, at);
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = 1 + memchr::memchr_iter(b'\n', before.as_bytes()).count();
    (line, before[line_start..].chars().count() + 1)
}

fn check_depth(value: &Value, first_line: usize) -> Result<(), RejectReason> {
    if value.depth() > MAX_DEPTH {
        return Err(reject(
            first_line,
            1,
            format!("front matter nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    Ok(())
}

fn too_large(size: usize) -> RejectReason {
    reject(
        1,
        1,
        format!(
            "front matter of {size} bytes or more, over the limit of {} KiB",
            MAX_FRONT_MATTER_BYTES / 1024
        ),
    )
}

fn not_a_map(syntax: Syntax, line: usize, value: &Value) -> RejectReason {
    let hint = if syntax == Syntax::Yaml {
        "; if the `---` on line 1 does not open front matter, remove it or put a line of \
         text above it"
    } else {
        ""
    };
    reject(
        line,
        1,
        format!(
            "front matter must be keys and values, not {}{hint}",
            value.describe()
        ),
    )
}

fn reject(line: usize, column: usize, message: String) -> RejectReason {
    RejectReason::FrontMatter {
        line,
        column,
        message,
    }
}

/// A value of any of the three syntaxes: what the field rules read. Numbers keep their
/// spelling, so that `title: 1984` or `id: 1234` read as text.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Number(String),
    Text(String),
    List(Vec<Value>),
    /// Entries in the order the parser gives them (the file's, except for TOML, whose
    /// tables are sorted); a key may repeat in JSON.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// TOML's dates become text in their RFC 3339 spelling, which [`parse_date`] reads.
    fn from_toml(value: toml::Value) -> Self {
        match value {
            toml::Value::String(text) => Self::Text(text),
            toml::Value::Integer(n) => Self::Number(n.to_string()),
            toml::Value::Float(n) => Self::Number(n.to_string()),
            toml::Value::Boolean(b) => Self::Bool(b),
            toml::Value::Datetime(date) => Self::Text(date.to_string()),
            toml::Value::Array(items) => {
                Self::List(items.into_iter().map(Self::from_toml).collect())
            }
            toml::Value::Table(table) => Self::Map(
                table
                    .into_iter()
                    .map(|(key, value)| (key, Self::from_toml(value)))
                    .collect(),
            ),
        }
    }

    /// Levels of lists and maps: 0 for a scalar. The parsers bound the recursion.
    fn depth(&self) -> usize {
        match self {
            Self::List(items) => 1 + items.iter().map(Self::depth).max().unwrap_or(0),
            Self::Map(entries) => 1 + entries.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The value as a message shows it: short, quoted when text.
    fn describe(&self) -> String {
        match self {
            Self::Null => "nothing".into(),
            Self::Bool(b) => b.to_string(),
            Self::Number(n) => n.clone(),
            Self::Text(text) if text.chars().count() > 40 => {
                let start: String = text.chars().take(40).collect();
                format!("{start:?}…")
            }
            Self::Text(text) => format!("{text:?}"),
            Self::List(_) => "a list".into(),
            Self::Map(_) => "a map".into(),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a front matter value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_i128<E>(self, n: i128) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_u128<E>(self, n: u128) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n.to_string()))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::Text(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::Text(text))
    }

    fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Value, E> {
        Ok(Value::Text(String::from_utf8_lossy(bytes).into_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Value::Map(entries))
    }
}

/// A map key: any scalar, as text (YAML allows `2024: …` and `true: …`).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Text(text) | Value::Number(text) => Ok(Self(text)),
            Value::Bool(b) => Ok(Self(b.to_string())),
            Value::Null => Ok(Self("null".into())),
            Value::List(_) | Value::Map(_) => Err(de::Error::custom("a key must be text")),
        }
    }
}

/// Where each top-level key is written in the raw block, found by looking at the text
/// (none of the parsers says where a key is). Built once, when a warning or an error
/// needs it; a key not found points at the block's first line.
struct KeyLines<'a> {
    syntax: Syntax,
    raw: &'a str,
    first_line: usize,
    index: OnceCell<HashMap<String, (usize, usize)>>,
}

impl<'a> KeyLines<'a> {
    fn new(syntax: Syntax, raw: &'a str, first_line: usize) -> Self {
        Self {
            syntax,
            raw,
            first_line,
            index: OnceCell::new(),
        }
    }

    /// The line and column of `key` in the file.
    fn position(&self, key: &str) -> (usize, usize) {
        let index = self.index.get_or_init(|| match self.syntax {
            Syntax::Yaml => yaml_keys(self.raw),
            Syntax::Toml => toml_keys(self.raw),
            Syntax::Json => json_keys(self.raw),
        });
        index
            .get(key)
            .map_or((self.first_line, 1), |&(line, column)| {
                (self.first_line + line - 1, column)
            })
    }
}

/// The top-level keys of a YAML block mapping: lines that start at column 1 with a key
/// (plain or quoted) and a colon.
fn yaml_keys(raw: &str) -> HashMap<String, (usize, usize)> {
    let mut keys = HashMap::new();
    for (index, line) in raw.split('\n').enumerate() {
        if let Some(key) = leading_key(line, Syntax::Yaml) {
            keys.entry(key).or_insert((index + 1, 1));
        }
    }
    keys
}

/// The top-level keys of a TOML block: `key =` or `key.sub =` before the first table
/// header, and the first part of each header (`[key]`, `[key.sub]`, `[[key]]`).
fn toml_keys(raw: &str) -> HashMap<String, (usize, usize)> {
    let mut keys = HashMap::new();
    let mut in_table = false;
    for (index, line) in raw.split('\n').enumerate() {
        let trimmed = line.trim_start();
        let key = match trimmed.strip_prefix('[') {
            Some(header) => {
                in_table = true;
                leading_key(header.trim_start_matches('[').trim_start(), Syntax::Toml)
            }
            None if in_table => continue,
            None => leading_key(trimmed, Syntax::Toml),
        };
        if let Some(key) = key {
            let column = line[..line.len() - trimmed.len()].chars().count() + 1;
            keys.entry(key).or_insert((index + 1, column));
        }
    }
    keys
}

/// A key at the start of `line`, quoted (`"key"`, `'key'`) or bare, when what follows
/// it fits: a colon and a space or the line end in YAML; `=`, a dot (a dotted key) or
/// `]` (a table header) in TOML.
fn leading_key(line: &str, syntax: Syntax) -> Option<String> {
    let (key, rest) = match line.chars().next()? {
        quote @ ('"' | '\'') => {
            let end = line[1..].find(quote)? + 1;
            (&line[1..end], &line[end + 1..])
        }
        c if c.is_whitespace() || matches!(c, '#' | '-' | '?' | '{' | '[') => return None,
        _ if syntax == Syntax::Yaml => {
            let colon = line.match_indices(':').map(|(at, _)| at).find(|&at| {
                line[at + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
            })?;
            (line[..colon].trim_end(), &line[colon..])
        }
        _ => {
            let end = line.find(['=', '.', ']', ' ', '\t']).unwrap_or(line.len());
            (&line[..end], &line[end..])
        }
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    let fits = match syntax {
        Syntax::Yaml => {
            rest.starts_with(':') && rest[1..].chars().next().is_none_or(char::is_whitespace)
        }
        _ => rest.starts_with(['=', '.', ']']),
    };
    fits.then(|| key.to_owned())
}

/// The keys of a JSON object's top level: strings at depth 1 followed by a colon.
fn json_keys(raw: &str) -> HashMap<String, (usize, usize)> {
    let mut keys = HashMap::new();
    let (mut line, mut line_start, mut depth) = (1, 0, 0usize);
    let mut chars = raw.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\n' => (line, line_start) = (line + 1, at + 1),
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '"' => {
                let mut end = at + 1;
                let mut escaped = false;
                for (i, c) in chars.by_ref() {
                    end = i;
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                let is_key = depth == 1 && raw[end + 1..].trim_start().starts_with(':');
                if is_key {
                    let column = raw[line_start..at].chars().count() + 1;
                    keys.entry(raw[at + 1..end].to_owned())
                        .or_insert((line, column));
                }
            }
            _ => {}
        }
    }
    keys
}

/// The fields of [`FrontMatter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Title,
    Published,
    Updated,
    Draft,
    Section,
    Categories,
    Tags,
    Authors,
    Summary,
    Image,
    ImageAlt,
    Lang,
    Link,
    Comments,
    Id,
    Enclosure,
    // A podcast episode's fields: a value that cannot be one is a warning, not a reject.
    Episode,
    Season,
    EpisodeType,
    Explicit,
    Transcript,
    Chapters,
}

/// Every name of every field, lower-case (keys are matched without regard to case, as
/// Hugo does), in the order of precedence: when a file gives one field under two names,
/// the first of them here is used.
const NAMES: &[(&str, Field)] = &[
    ("title", Field::Title),
    ("date", Field::Published),
    ("published", Field::Published),
    ("pubdate", Field::Published),
    ("updated", Field::Updated),
    ("lastmod", Field::Updated),
    ("last_modified_at", Field::Updated),
    ("draft", Field::Draft),
    ("section", Field::Section),
    ("category", Field::Section),
    ("categories", Field::Categories),
    ("tags", Field::Tags),
    ("author", Field::Authors),
    ("authors", Field::Authors),
    ("summary", Field::Summary),
    ("description", Field::Summary),
    ("excerpt", Field::Summary),
    ("image", Field::Image),
    ("image_alt", Field::ImageAlt),
    ("lang", Field::Lang),
    ("language", Field::Lang),
    ("link", Field::Link),
    ("canonical", Field::Link),
    ("canonical_url", Field::Link),
    ("comments", Field::Comments),
    ("id", Field::Id),
    ("guid", Field::Id),
    ("enclosure", Field::Enclosure),
    ("episode", Field::Episode),
    ("season", Field::Season),
    ("episode_type", Field::EpisodeType),
    ("episodetype", Field::EpisodeType),
    ("explicit", Field::Explicit),
    ("transcript", Field::Transcript),
    ("chapters", Field::Chapters),
];

/// Keys the big generators use for their own pages (layout, URLs, menus, ordering) that
/// mean nothing in a feed: ignored without a warning, lower-case.
const IGNORED: &[&str] = &[
    "aliases",
    "build",
    "cascade",
    "comments_enabled",
    "excerpt_separator",
    "extra",
    "hidden",
    "images",
    "keywords",
    "layout",
    "linktitle",
    "math",
    "menu",
    "menus",
    "outputs",
    "permalink",
    "redirect_from",
    "series",
    "sitemap",
    "slug",
    "template",
    "toc",
    "type",
    "url",
    "weight",
];

/// A key that names a field, with the rank of that name in [`NAMES`].
struct Named {
    field: Field,
    rank: usize,
    key: String,
    value: Value,
}

/// Maps the entries of a front matter block to [`FrontMatter`], with the warnings about
/// unknown and repeated keys.
fn to_front_matter(
    entries: Vec<(String, Value)>,
    keys: &KeyLines<'_>,
) -> Result<(FrontMatter, Vec<ParseWarning>), RejectReason> {
    let mut named = Vec::new();
    let mut unknown = Vec::new();
    let mut front = FrontMatter::default();
    for (key, value) in entries {
        let lower = key.to_ascii_lowercase();
        // Jekyll's `published: false` holds a page back; a date under that name is a date.
        if lower == "published"
            && let Value::Bool(published) = value
        {
            front.draft |= !published;
            continue;
        }
        match NAMES.iter().position(|(name, _)| *name == lower) {
            Some(rank) => named.push(Named {
                field: NAMES[rank].1,
                rank,
                key,
                value,
            }),
            None if IGNORED.contains(&lower.as_str()) => {}
            None => {
                let line = keys.position(&key).0;
                unknown.push((key, line));
            }
        }
    }
    named.sort_by_key(|n| (n.field, n.rank));
    let mut warnings = Vec::new();
    let mut repeated = Vec::new();
    let mut ignored = Vec::new();
    let mut categories = Vec::new();
    let mut previous: Option<&Named> = None;
    for n in &named {
        if let Some(used) = previous.filter(|p| p.field == n.field) {
            repeated.push((n.key.clone(), keys.position(&n.key).0, used.key.clone()));
            continue;
        }
        previous = Some(n);
        let (line, column) = keys.position(&n.key);
        if let Some(applied) = apply_episode(&mut front.episode, n.field, &n.value) {
            if let Err(problem) = applied {
                ignored.push((n.key.clone(), line, problem));
            }
            continue;
        }
        let inner = apply(&mut front, &mut categories, n.field, &n.value)
            .map_err(|problem| reject(line, column, format!("{}: {problem}", n.key)))?;
        // Keys inside a field's map that it does not know (`enclosure: {lenght: …}`),
        // named under the field's key, on its line.
        unknown.extend(
            inner
                .into_iter()
                .map(|inner| (format!("{}.{inner}", n.key), line)),
        );
    }
    add_categories(&mut front, categories);
    if !unknown.is_empty() {
        unknown.sort_by_key(|(_, line)| *line);
        warnings.push(ParseWarning::UnknownKeys { keys: unknown });
    }
    if !repeated.is_empty() {
        repeated.sort_by_key(|(_, line, _)| *line);
        warnings.push(ParseWarning::RepeatedFields { keys: repeated });
    }
    if !ignored.is_empty() {
        ignored.sort_by_key(|(_, line, _)| *line);
        warnings.push(ParseWarning::IgnoredValues { keys: ignored });
    }
    Ok((front, warnings))
}

/// Sets one field from its value; the error says what is wrong with the value. Returns
/// the keys inside the value's map that the field does not know.
fn apply(
    front: &mut FrontMatter,
    categories: &mut Vec<String>,
    field: Field,
    value: &Value,
) -> Result<Vec<String>, String> {
    match field {
        Field::Title => front.title = text(value)?,
        Field::Published => front.published = date(value)?,
        Field::Updated => front.updated = date(value)?,
        Field::Draft => front.draft |= flag(value)?,
        Field::Section => front.section = text(value)?,
        Field::Categories => *categories = text_list(value)?,
        Field::Tags => front.tags = text_list(value)?,
        Field::Authors => front.authors = persons(value)?,
        Field::Summary => front.summary = text(value)?,
        Field::Image => {
            let (url, alt) = image(value)?;
            front.image = url;
            front.image_alt = front.image_alt.take().or(alt);
        }
        Field::ImageAlt => front.image_alt = front.image_alt.take().or(text(value)?),
        Field::Lang => front.lang = text(value)?,
        Field::Link => front.link = text(value)?,
        // Jekyll themes use `comments: true` to turn comments on: not a URL, not an error.
        Field::Comments if matches!(value, Value::Bool(_)) => {}
        Field::Comments => front.comments = text(value)?,
        Field::Id => front.id = text(value)?,
        Field::Enclosure => {
            let (enclosure, unknown) = enclosure(value)?;
            front.enclosure = enclosure;
            return Ok(unknown);
        }
        Field::Episode
        | Field::Season
        | Field::EpisodeType
        | Field::Explicit
        | Field::Transcript
        | Field::Chapters => {}
    }
    Ok(Vec::new())
}

/// Sets one of an episode's fields; `None` for the other fields. A value that cannot be
/// the field's is `Some(Err)` with what is wrong, and leaves the field unset: the rest of
/// the article is published, so a typo in an episode number does not hold it back.
fn apply_episode(
    episode: &mut FrontEpisode,
    field: Field,
    value: &Value,
) -> Option<Result<(), String>> {
    let applied = match field {
        Field::Episode => positive(value).map(|n| episode.number = n),
        Field::Season => positive(value).map(|n| episode.season = n),
        Field::EpisodeType => episode_type(value).map(|t| episode.episode_type = t),
        Field::Explicit => explicit(value).map(|e| episode.explicit = e),
        Field::Transcript => text(value).map(|t| episode.transcript = t),
        Field::Chapters => text(value).map(|c| episode.chapters = c),
        _ => return None,
    };
    Some(applied)
}

/// A whole number above 0 (an episode or season number), as a number or text of digits.
fn positive(value: &Value) -> Result<Option<u32>, String> {
    let problem = || {
        format!(
            "expected a whole number above 0, found {}",
            value.describe()
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) | Value::Text(n) => match n.trim().parse::<u32>() {
            Ok(0) | Err(_) => Err(problem()),
            Ok(n) => Ok(Some(n)),
        },
        _ => Err(problem()),
    }
}

/// `full`, `trailer` or `bonus`, in any case.
fn episode_type(value: &Value) -> Result<Option<EpisodeType>, String> {
    let Some(word) = text(value)? else {
        return Ok(None);
    };
    EpisodeType::ALL
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(&word))
        .map(Some)
        .ok_or_else(|| {
            format!(
                "expected full, trailer or bonus, found {}",
                value.describe()
            )
        })
}

/// `true` or `false` (or the YAML 1.1 spellings [`flag`] takes, and Apple's older
/// `yes`, `clean`): whether the episode is explicit.
fn explicit(value: &Value) -> Result<Option<bool>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Text(text) if text.trim().eq_ignore_ascii_case("clean") => Ok(Some(false)),
        Value::Text(text) if text.trim().eq_ignore_ascii_case("explicit") => Ok(Some(true)),
        other => flag(other).map(Some),
    }
}

/// `categories`: the first is the section, unless `section` or `category` gave one; the
/// others are tags, after those of `tags`. Tags are kept once each, ignoring case.
fn add_categories(front: &mut FrontMatter, categories: Vec<String>) {
    let mut categories = categories.into_iter();
    if front.section.is_none() {
        front.section = categories.next();
    }
    let mut tags: Vec<String> = Vec::with_capacity(front.tags.len());
    for tag in std::mem::take(&mut front.tags)
        .into_iter()
        .chain(categories)
    {
        if !tags.iter().any(|kept| kept.eq_ignore_ascii_case(&tag)) {
            tags.push(tag);
        }
    }
    front.tags = tags;
}

/// A scalar as clean text: XML-illegal characters removed, whitespace runs collapsed,
/// trimmed; `None` when nothing is left.
fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Text(text) | Value::Number(text) => Ok(clean(text)),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!("expected text, found {}", other.describe())),
    }
}

fn clean(text: &str) -> Option<String> {
    let (legal, _) = remove_illegal_chars(text);
    let words = join_words(&legal);
    (!words.is_empty()).then_some(words)
}

/// A list of texts, or one text of comma-separated items.
fn text_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Text(text) => Ok(text.split(',').filter_map(clean).collect()),
        Value::List(items) => {
            let mut texts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::List(_) | Value::Map(_) => {
                        return Err(format!(
                            "expected a list of texts, found {} in it",
                            item.describe()
                        ));
                    }
                    scalar => texts.extend(text(scalar)?),
                }
            }
            Ok(texts)
        }
        other => text(other).map(|text| text.into_iter().collect()),
    }
}

/// `true`/`false`, or the YAML 1.1 spellings Jekyll's files use (`yes`, `no`, `on`, `off`).
fn flag(value: &Value) -> Result<bool, String> {
    match value {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(true),
            "false" | "no" | "off" => Ok(false),
            _ => Err(format!(
                "expected true or false, found {}",
                value.describe()
            )),
        },
        other => Err(format!(
            "expected true or false, found {}",
            other.describe()
        )),
    }
}

fn date(value: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Text(text) if text.trim().is_empty() => Ok(None),
        Value::Text(text) => parse_date(text).map(Some).ok_or_else(|| {
            format!(
                "{} is not a date; write 2024-05-01, 2024-05-01 10:30 or \
                 2024-05-01T10:30:00+02:00",
                value.describe()
            )
        }),
        other => Err(format!("expected a date, found {}", other.describe())),
    }
}

/// Reads the date forms of the site generators: RFC 3339; `YYYY-MM-DD`; a date and a
/// time (`HH:MM` or `HH:MM:SS`, fractions allowed) after `T` or a space, with an optional
/// zone `Z`, `UTC`, `+HH:MM`, `+HHMM` or `+HH`, before which a space is allowed (Jekyll's
/// `2024-05-01 10:30:00 +0200`). TOML's dates arrive in the RFC 3339 spelling. A date or
/// time without a zone is UTC.
pub(super) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    let (day, rest) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], text[at + 1..].trim_start()),
        None => (text, ""),
    };
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    if rest.is_empty() {
        return Some(day.and_time(NaiveTime::MIN).and_utc());
    }
    let time_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(rest.len());
    let (time, zone) = (&rest[..time_end], rest[time_end..].trim_start());
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    let offset = parse_zone(zone)?;
    let local = offset.from_local_datetime(&day.and_time(time)).single()?;
    Some(local.with_timezone(&Utc))
}

/// A zone after a time: none, `Z`, `UTC`, or a signed offset of hours and minutes.
fn parse_zone(zone: &str) -> Option<FixedOffset> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") || zone.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, digits) = match zone.as_bytes()[0] {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), str::parse)
        .ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// An author or a list of them; each a name, or a map `{name, email, uri | url}`.
fn persons(value: &Value) -> Result<Vec<Person>, String> {
    match value {
        Value::List(items) => {
            let mut people = Vec::with_capacity(items.len());
            for item in items {
                if let Value::List(_) = item {
                    return Err("expected an author, found a list inside the list".into());
                }
                people.extend(person(item)?);
            }
            Ok(people)
        }
        other => person(other).map(|person| person.into_iter().collect()),
    }
}

fn person(value: &Value) -> Result<Option<Person>, String> {
    let Value::Map(entries) = value else {
        return Ok(text(value)?.map(|name| Person {
            name,
            ..Person::default()
        }));
    };
    let name = text(lookup(entries, &["name"]))?;
    let email = text(lookup(entries, &["email"]))?;
    let uri = text(lookup(entries, &["uri", "url"]))?;
    match name {
        Some(name) => Ok(Some(Person { name, email, uri })),
        None if email.is_none() && uri.is_none() => Ok(None),
        None => Err("an author given as a map needs a `name`".into()),
    }
}

/// `image: URL`, or `image: {url | src, alt}`.
fn image(value: &Value) -> Result<(Option<String>, Option<String>), String> {
    let Value::Map(entries) = value else {
        return Ok((text(value)?, None));
    };
    Ok((
        text(lookup(entries, &["url", "src"]))?,
        text(lookup(entries, &["alt"]))?,
    ))
}

/// The keys an `enclosure` map may have, lower-case.
const ENCLOSURE_KEYS: &[&str] = &["url", "path", "type", "length", "duration"];

/// `enclosure: URL-or-path`, or `enclosure: {url | path, type, length, duration}`, with
/// the keys of the map it does not know.
fn enclosure(value: &Value) -> Result<(Option<FrontEnclosure>, Vec<String>), String> {
    let Value::Map(entries) = value else {
        let enclosure = text(value)?.map(|url| FrontEnclosure {
            url,
            ..FrontEnclosure::default()
        });
        return Ok((enclosure, Vec::new()));
    };
    let unknown = entries
        .iter()
        .filter(|(key, _)| !ENCLOSURE_KEYS.contains(&key.to_ascii_lowercase().as_str()))
        .map(|(key, _)| key.clone())
        .collect();
    let url = text(lookup(entries, &["url", "path"]))?;
    let media_type = text(lookup(entries, &["type"]))?;
    let length = count(lookup(entries, &["length"]), "a length in bytes")?;
    let duration_secs = duration(lookup(entries, &["duration"]))?;
    match url {
        Some(url) => Ok((
            Some(FrontEnclosure {
                url,
                media_type,
                length,
                duration_secs,
            }),
            unknown,
        )),
        None if media_type.is_none() && length.is_none() && duration_secs.is_none() => {
            Ok((None, unknown))
        }
        None => Err("an enclosure given as a map needs a `url` or a `path`".into()),
    }
}

/// A whole number of bytes, as a number or text of digits.
fn count(value: &Value, what: &str) -> Result<Option<u64>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) | Value::Text(n) => n
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("expected {what}, found {}", value.describe())),
        other => Err(format!("expected {what}, found {}", other.describe())),
    }
}

/// A duration in whole seconds: a number of seconds (a fraction rounded), or text
/// `HH:MM:SS` or `MM:SS`, as podcast feeds write it.
fn duration(value: &Value) -> Result<Option<u64>, String> {
    let problem = || {
        format!(
            "{} is not a duration; write seconds (90), MM:SS (01:30) or HH:MM:SS",
            value.describe()
        )
    };
    let text = match value {
        Value::Null => return Ok(None),
        Value::Number(n) | Value::Text(n) => n.trim(),
        other => return Err(format!("expected a duration, found {}", other.describe())),
    };
    if text.is_empty() {
        return Ok(None);
    }
    parse_duration(text).map(Some).ok_or_else(problem)
}

/// Seconds from `90`, `90.4`, `01:30` or `1:02:03`; minutes and seconds after the first
/// part are two digits below 60.
pub(super) fn parse_duration(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split(':').collect();
    if let [seconds] = parts[..] {
        let seconds: f64 = seconds.parse().ok()?;
        // A fraction rounds to the nearest second; the cast saturates on huge values.
        return (seconds.is_finite() && seconds >= 0.0).then(|| seconds.round() as u64);
    }
    if parts.len() > 3 {
        return None;
    }
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let (first, rest) = parts.split_first()?;
    if !digits(first) || first.len() > 9 {
        return None;
    }
    let mut total: u64 = first.parse().ok()?;
    for part in rest {
        let value: u64 = part
            .parse()
            .ok()
            .filter(|_| digits(part) && part.len() == 2)?;
        if value >= 60 {
            return None;
        }
        total = total * 60 + value;
    }
    Some(total)
}

/// The value of the first of `names` present in a map (ignoring case), or null.
fn lookup<'v>(entries: &'v [(String, Value)], names: &[&str]) -> &'v Value {
    names
        .iter()
        .find_map(|name| {
            entries
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        })
        .unwrap_or(&Value::Null)
}

#[cfg(test)]
mod tests {
    use super::super::decode::decode_text;
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_date_forms_of_the_generators() {
        let cases = [
            ("2024-05-01T10:30:00Z", "2024-05-01T10:30:00Z"),
            ("2024-05-01T10:30:00.250+02:00", "2024-05-01T08:30:00.250Z"),
            ("2024-05-01", "2024-05-01T00:00:00Z"),
            ("2024-05-01 10:30", "2024-05-01T10:30:00Z"),
            ("2024-05-01 10:30:15", "2024-05-01T10:30:15Z"),
            ("2024-05-01 10:30:00 +0200", "2024-05-01T08:30:00Z"),
            ("2024-05-01 10:30:00 +02:00", "2024-05-01T08:30:00Z"),
            ("2024-05-01 10:30 -05", "2024-05-01T15:30:00Z"),
            ("2024-05-01 10:30:00 Z", "2024-05-01T10:30:00Z"),
            ("2024-05-01 10:30:00 UTC", "2024-05-01T10:30:00Z"),
            ("2024-05-01T10:30:00", "2024-05-01T10:30:00Z"),
            ("  2024-05-01  ", "2024-05-01T00:00:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_date(input), Some(utc(expected)), "{input}");
        }
        for wrong in [
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "10:30:00",
            "2024-05-01 25:00",
            "2024-05-01 10:30 +2500",
            "2024-05-01 10:30 CEST",
            "",
        ] {
            assert_eq!(parse_date(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn a_byte_order_mark_before_the_opening_line_is_gone_after_decoding() {
        let bytes = b"\xef\xbb\xbf---\r\ntitle: Hello\r\n---\r\nBody\r\n";
        let (text, _) = decode_text(bytes).unwrap();
        let read = read_front_matter(&text).unwrap();
        assert_eq!(read.front.title.as_deref(), Some("Hello"));
        assert_eq!((read.body, read.body_line), ("Body\n", 4));
    }

    #[test]
    fn mixed_line_ends_are_one_after_decoding() {
        let bytes = b"---\r\ntitle: Mixed\rdate: 2024-05-01\n---\r\nBody";
        let (text, _) = decode_text(bytes).unwrap();
        let read = read_front_matter(&text).unwrap();
        assert_eq!(read.front.title.as_deref(), Some("Mixed"));
        assert_eq!(read.front.published, Some(utc("2024-05-01T00:00:00Z")));
        assert_eq!((read.body, read.body_line), ("Body", 5));
    }

    #[test]
    fn a_nul_byte_is_binary_before_front_matter_is_read() {
        let bytes = b"---\ntitle: a\0b\n---\nBody";
        assert!(matches!(decode_text(bytes), Err(RejectReason::Binary(_))));
    }

    #[test]
    fn key_lines_of_each_syntax() {
        let yaml = yaml_keys(
            "title: A\n  nested: x\n\"quoted key\": 1\n# c: 2\n- x\nurl:\nmy key : a:b\n",
        );
        assert_eq!(yaml.get("title"), Some(&(1, 1)));
        assert_eq!(yaml.get("quoted key"), Some(&(3, 1)));
        assert_eq!(yaml.get("url"), Some(&(6, 1)));
        assert_eq!(yaml.get("my key"), Some(&(7, 1)));
        assert!(!yaml.contains_key("nested") && !yaml.contains_key("c"));
        let toml = toml_keys("title = 'A'\nsite.x = 1\n[author]\nname = 'x'\n [[tags]]\n");
        assert_eq!(toml.get("title"), Some(&(1, 1)));
        assert_eq!(toml.get("site"), Some(&(2, 1)));
        assert_eq!(toml.get("author"), Some(&(3, 1)));
        assert_eq!(toml.get("tags"), Some(&(5, 2)));
        assert!(!toml.contains_key("name"));
        let json =
            json_keys("{\"author\": {\"name\": \"x\"},\n  \"name\": \"a \\\" b\",\n \"t\":1}");
        assert_eq!(json.get("author"), Some(&(1, 2)));
        assert_eq!(json.get("name"), Some(&(2, 3)));
        assert_eq!(json.get("t"), Some(&(3, 2)));
    }
}
