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

/// The state of ingest at one snapshot, for `/status` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// Entries in the feeds now.
    pub entries: u64,
    pub files: FileCounts,
    /// Files set aside, oldest first (at most [`Status::MAX_REJECTS`]; `files.rejected`
    /// has the count).
    pub rejects: Vec<RejectedFile>,
    /// Files not published because another file has the same content, oldest first (at
    /// most [`Status::MAX_REJECTS`]; `files.duplicates` has the count).
    pub duplicates: Vec<DuplicateFile>,
    /// When the last batch of file changes was stored.
    pub last_ingest: Option<DateTime<Utc>>,
    /// When this snapshot was rendered.
    pub rendered_at: DateTime<Utc>,
    /// Changes since the daemon started.
    pub totals: IngestTotals,
    /// How long each publication (render and compression) took, in seconds.
    pub render_seconds: Histogram,
}

impl Status {
    pub const MAX_REJECTS: usize = 1000;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    pub published: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestTotals {
    pub published: u64,
    pub updated: u64,
    pub removed: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// A cumulative histogram with fixed bucket bounds, as Prometheus wants one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Upper bounds (seconds) and how many observations were at or below each.
    pub buckets: Vec<(f64, u64)>,
    pub sum: f64,
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        const BOUNDS: [f64; 11] = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        Self {
            buckets: BOUNDS.iter().map(|b| (*b, 0)).collect(),
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    pub fn observe(&mut self, value: f64) {
        for (bound, count) in &mut self.buckets {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }
}
