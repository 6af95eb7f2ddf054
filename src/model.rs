//! The shared vocabulary of the pipeline: what a parsed article, a normalized entry and a
//! rejected file are. Every stage speaks these types; none of them does I/O.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An article as the file tells it, before any normalization.
///
/// A plain-text article (the seed format) fills `section` to `related` and leaves
/// `front` empty unless it opens with front matter; a Markdown or HTML article fills
/// `title`, `body` and `front`, and `section` from its front matter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Article {
    pub format: Format,
    pub section: Option<String>,
    pub title: String,
    pub caption: Option<String>,
    pub paragraphs: Vec<String>,
    /// Headlines of the "More from GlobalPost:" cross-promotion lines, in file order.
    pub related: Vec<String>,
    /// The body of a Markdown or HTML article; `None` for the plain format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<HtmlBody>,
    /// What the front matter (or an HTML document's head) says; empty when none.
    #[serde(skip_serializing_if = "FrontMatter::is_empty")]
    pub front: FrontMatter,
}

/// The format of an article file, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `.txt`: the seed format.
    #[default]
    Plain,
    /// `.md`, `.markdown`.
    Markdown,
    /// `.html`, `.htm`.
    Html,
}

/// The body of a Markdown or HTML article.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HtmlBody {
    /// The body as HTML, not yet sanitized (normalize does that), relative URLs as the
    /// file wrote them.
    pub html: String,
    /// The plain text of the part before `<!-- more -->`, when the body has the marker.
    pub excerpt: Option<String>,
    /// The plain text of the body's first paragraph, when it has one.
    pub first_paragraph: Option<String>,
}

/// A person an article or the configuration names as an author. A name alone may be the
/// key of an `[authors.{key}]` table of the configuration, resolved when rendering.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// The fields of an article's front matter, under the names the big site generators
/// use (the aliases are the parser's). Every field is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FrontMatter {
    pub title: Option<String>,
    /// `date`, `published`, `pubDate`.
    pub published: Option<DateTime<Utc>>,
    /// `updated`, `lastmod`, `last_modified_at`.
    pub updated: Option<DateTime<Utc>>,
    pub draft: bool,
    /// `section`, `category`, or the first of `categories`.
    pub section: Option<String>,
    pub tags: Vec<String>,
    /// `author` or `authors`.
    pub authors: Vec<Person>,
    /// `summary`, `description`, `excerpt`.
    pub summary: Option<String>,
    pub image: Option<String>,
    pub image_alt: Option<String>,
    pub lang: Option<String>,
    /// `link`, `canonical`: the page a link post points to.
    pub link: Option<String>,
    /// Where the entry's comments are (RSS `comments`).
    pub comments: Option<String>,
    /// `id`, `guid`: an id kept from a previous system.
    pub id: Option<String>,
    /// `enclosure`: an episode or video, by URL or by a path beside the article. Left out
    /// of the serialized form when absent, so that the content hash of every article
    /// written before the field existed stays the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enclosure: Option<FrontEnclosure>,
    /// What a podcast episode's front matter says of it; empty for any other article,
    /// and then left out of the serialized form (the content hash), as `enclosure` is.
    #[serde(skip_serializing_if = "FrontEpisode::is_empty")]
    pub episode: FrontEpisode,
}

/// A podcast episode's fields of the front matter: `episode`, `season`, `episode_type`
/// (or `episodeType`), `explicit`, `transcript` and `chapters` (each a URL, or a path
/// beside the article). A value the reader could not take is left out with a warning.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FrontEpisode {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_type: Option<EpisodeType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapters: Option<String>,
}

impl FrontEpisode {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What kind of episode an entry is (Apple's `itunes:episodeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpisodeType {
    Full,
    Trailer,
    Bonus,
}

impl EpisodeType {
    pub const ALL: [EpisodeType; 3] = [Self::Full, Self::Trailer, Self::Bonus];

    /// The word the front matter and the feeds write.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Trailer => "trailer",
            Self::Bonus => "bonus",
        }
    }
}

/// An enclosure as the front matter gives it: a URL or a path relative to the article's
/// folder, and what the author says of it. For a file of the seeds folder, the type and
/// length come from the file and these are ignored; the duration is kept when given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FrontEnclosure {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Whole seconds (from `90`, `01:30` or `00:01:30`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

impl FrontMatter {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The file name without its extension; the stable name of an entry across edits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EntryKey(String);

impl EntryKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The permanent identifier of an entry: `urn:uuid:…` derived from the key, or the id an
/// article's front matter kept from a previous system, as that system wrote it (an RSS
/// guid may be any text). RSS and JSON Feed write it as it is; Atom, whose ids must be
/// absolute URIs, writes one that is not as a `urn:uuid` of it (see `render::atom`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EntryId(String);

impl EntryId {
    /// The id derived from a key: `urn:uuid:` and the UUID.
    pub fn new(uuid: Uuid) -> Self {
        Self(format!("urn:uuid:{}", uuid.hyphenated()))
    }

    /// An id given by the article, trimmed: any text without control characters, of at
    /// most [`Self::MAX_GIVEN`] bytes. `None` for anything else.
    pub fn given(id: &str) -> Option<Self> {
        let id = id.trim();
        let fits = !id.is_empty() && id.len() <= Self::MAX_GIVEN;
        (fits && !id.chars().any(char::is_control)).then(|| Self(id.to_owned()))
    }

    /// The longest id an article may give: far more than any real one.
    pub const MAX_GIVEN: usize = 2048;

    /// Reads back a stored id (either kind).
    pub fn parse_stored(id: &str) -> Option<Self> {
        Self::given(id).filter(|parsed| parsed.0 == id)
    }

    /// Whether the id is an absolute URI (a scheme, a colon, and more, without spaces),
    /// as an Atom id must be.
    pub fn is_uri(&self) -> bool {
        let Some((scheme, rest)) = self.0.split_once(':') else {
            return false;
        };
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
            && !rest.chars().any(char::is_whitespace)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A section or tag as a feed category: the human term and the URL slug of its feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Category {
    pub term: String,
    pub slug: String,
}

/// What a feed besides the main one gathers entries by: their section, one of their tags,
/// or one of their authors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TermKind {
    Section,
    Tag,
    Author,
}

impl TermKind {
    /// The name of the kind, as the store keys it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Section => "section",
            Self::Tag => "tag",
            Self::Author => "author",
        }
    }
}

/// A hash of an article's normalized content: equal hashes mean the same article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    pub fn to_hex(&self) -> String {
        use fmt::Write;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// Everything about an entry that follows from the article text alone; the store adds
/// the dates, which depend on history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryDraft {
    pub key: EntryKey,
    pub id: EntryId,
    pub title: String,
    pub section: Option<String>,
    pub category: Option<Category>,
    pub caption: Option<String>,
    pub summary: String,
    pub content_html: String,
    pub related: Vec<String>,
    pub content_hash: ContentHash,
    /// Whether `id` was given by the article (kept from a previous system) rather than
    /// derived from the key. What the store needs when writing; an entry read back from
    /// the store has it false, its id being all that counts then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub id_given: bool,
    /// What the article's front matter adds; empty for the plain format.
    #[serde(flatten)]
    pub meta: EntryMeta,
}

/// What an entry carries beyond the seed format's fields, from its front matter: stored
/// as one JSON value, absent (NULL) when empty, as it is for every plain article.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntryMeta {
    /// The tags, each with the slug of its feed (`/tags/{slug}.atom`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Category>,
    /// The authors as the article names them, each with the slug of its feed; a name
    /// that is the key of an `[authors.{key}]` table is resolved when rendering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<Author>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enclosure: Option<Enclosure>,
    /// The language of the entry (BCP 47), when it differs from the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// For a link post: the absolute URL of the page it points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// The absolute URL of the entry's comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// The publication date the front matter gave: it sets `published`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime<Utc>>,
    /// The update date the front matter gave: it sets `updated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_date: Option<DateTime<Utc>>,
    /// What the entry is as a podcast episode, when its front matter says so or a
    /// transcript or chapters go with it; what a podcast feed writes of its item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode: Option<Episode>,
}

impl EntryMeta {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An author of an entry and the slug of the author's feed (`/authors/{slug}.atom`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Author {
    #[serde(flatten)]
    pub person: Person,
    pub slug: String,
}

/// An entry's image, as an absolute URL, with its size in pixels when its header gave
/// one (a file of the seeds folder, served under `/media/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// An entry's enclosure (an episode, a video): an absolute URL, its media type and
/// length in bytes (for a file of the seeds folder, from the file itself), and its
/// duration in whole seconds when known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Enclosure {
    pub url: String,
    pub media_type: String,
    pub length: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

/// An entry as a podcast episode: its number, season, type and explicit flag from the
/// front matter, and its transcript and chapters (a file beside the article, served
/// under `/media/`, or a URL the front matter gives).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Episode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode_type: Option<EpisodeType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Companion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chapters: Option<Companion>,
}

impl Episode {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A file that goes with an episode (a transcript, its chapters): an absolute URL and
/// its media type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Companion {
    pub url: String,
    pub media_type: String,
}

/// A published entry: the draft plus the dates the store keeps for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub draft: EntryDraft,
    /// When the file was first seen (its mtime then, never in the future). Never changes.
    pub published: DateTime<Utc>,
    /// When the content hash last changed.
    pub updated: DateTime<Utc>,
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
}

impl FileStamp {
    /// No `stat` to go by: a file not looked at, gone, or that could not be looked at.
    pub const UNKNOWN: Self = Self {
        size: 0,
        mtime_ns: 0,
    };

    /// The mtime in unix milliseconds: the resolution of every stored date. Whole
    /// seconds would give every file of one `cp` or `git clone` the same date.
    pub fn mtime_ms(&self) -> i64 {
        self.mtime_ns.div_euclid(1_000_000)
    }
}

/// An entry whose file went away: RFC 6721 keeps announcing the deletion for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub key: EntryKey,
    pub id: EntryId,
    pub deleted: DateTime<Utc>,
    pub category_slug: Option<String>,
}

/// A full RFC 5005 archive page, rendered once and kept as bytes: it must never change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivePage {
    /// Where it is served: `/archive/{number}.atom`.
    pub path: String,
    pub number: u64,
    pub body: Vec<u8>,
    /// Its gzip and brotli variants, computed once with it.
    pub gzip: Option<Vec<u8>>,
    pub brotli: Option<Vec<u8>>,
    pub media_type: String,
    pub last_modified: DateTime<Utc>,
}

/// Why a file in the seeds folder is not an article. Rejects are data: stored, listed by
/// `seedfeed check`, retried when the file changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("empty: the file has no text")]
    Empty,
    #[error("binary: {0}")]
    Binary(String),
    #[error("too large: {size} bytes, over the limit of {limit} (max_file_bytes)")]
    TooLarge { size: u64, limit: u64 },
    #[error("not a regular file: {0}")]
    NotRegularFile(String),
    #[error("unreadable: {0}")]
    Unreadable(String),
    #[error("key conflict: {key} is already the key of {other}")]
    KeyConflict { key: String, other: String },
    #[error("front matter, line {line}, column {column}: {message}")]
    FrontMatter {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("id conflict: {id} is already the id of {other}")]
    IdConflict { id: String, other: String },
}

impl RejectReason {
    /// A short stable code for metrics, storage and machine-readable output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Binary(_) => "binary",
            Self::TooLarge { .. } => "too_large",
            Self::NotRegularFile(_) => "not_regular_file",
            Self::Unreadable(_) => "unreadable",
            Self::KeyConflict { .. } => "key_conflict",
            Self::FrontMatter { .. } => "front_matter",
            Self::IdConflict { .. } => "id_conflict",
        }
    }
}

/// Why a file or folder whose name is not UTF-8 is not read.
pub const BAD_NAME_REASON: &str = "the name is not valid UTF-8, so it cannot be a key, a URL or a path in the database; rename it";

/// A subscriber's `hub.secret`: used to sign its deliveries, never shown (its `Debug`
/// hides it, and nothing logs it).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

/// A file set aside, and why, as the store lists it for `/status` and `seedfeed check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedFile {
    pub path: String,
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// A file with something to say beside its state: why an article is held back (a
/// draft, or scheduled), or what reading a published one ignored (unknown front matter
/// keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileNote {
    pub path: String,
    /// Why it is held, or what its read ignored.
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// A file whose content another file already publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateFile {
    pub path: String,
    /// The path of the file that publishes the same content.
    pub duplicate_of: String,
    pub since: DateTime<Utc>,
}
