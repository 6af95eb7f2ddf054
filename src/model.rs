//! The shared vocabulary of the pipeline: what a parsed article, a normalized entry and a
//! rejected file are. Every stage speaks these types; none of them does I/O.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// An article as the text file tells it, before any normalization.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Article {
    pub section: Option<String>,
    pub title: String,
    pub caption: Option<String>,
    pub paragraphs: Vec<String>,
    /// Headlines of the "More from GlobalPost:" cross-promotion lines, in file order.
    pub related: Vec<String>,
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

/// The permanent identifier of an entry, written as `urn:uuid:…` in every feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct EntryId(Uuid);

impl EntryId {
    pub fn new(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// Reads back the `urn:uuid:…` form.
    pub fn parse_urn(urn: &str) -> Option<Self> {
        let rest = urn.strip_prefix("urn:uuid:")?;
        Uuid::parse_str(rest).ok().map(Self)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "urn:uuid:{}", self.0.hyphenated())
    }
}

impl From<EntryId> for String {
    fn from(id: EntryId) -> Self {
        id.to_string()
    }
}

/// A section as a feed category: the human term and the URL slug of its feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Category {
    pub term: String,
    pub slug: String,
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

/// A file whose content another file already publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateFile {
    pub path: String,
    /// The path of the file that publishes the same content.
    pub duplicate_of: String,
    pub since: DateTime<Utc>,
}
