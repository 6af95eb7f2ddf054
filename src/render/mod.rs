//! Entries to a [`Snapshot`]: every document the server serves, rendered once per change.
//! Knows nothing of SQLite or HTTP: it takes entries in and gives bytes out.

mod atom;
mod html;
mod rss;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::model::{Entry, EntryKey};

pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
pub const HTML_TYPE: &str = "text/html; charset=utf-8";

pub const RSS_PATH: &str = "/feed.rss";
pub const ATOM_PATH: &str = "/feed.atom";
pub const INDEX_PATH: &str = "/";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("writing the RSS feed")]
    Rss(#[from] ::rss::Error),
    #[error("writing the Atom feed")]
    Atom(#[from] ::atom_syndication::Error),
}

/// What the documents say about the site, and where absolute URLs point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The base URL without a trailing slash: `https://news.example.org`.
    pub base: String,
    pub title: String,
    pub description: String,
    pub author: String,
    pub language: String,
    /// The permanent id of the main feed (`urn:uuid:…`), independent of the base URL.
    pub feed_id: String,
    pub feed_size: usize,
}

/// Characters kept as they are in a key's URL path segment (RFC 3986 unreserved).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Site {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn entry_url(&self, key: &EntryKey) -> String {
        entry_url(&self.base, key)
    }
}

/// The absolute URL of an entry's page, the feeds' `link`: `{base}/entries/{key}`.
pub fn entry_url(base: &str, key: &EntryKey) -> String {
    format!(
        "{base}/entries/{}",
        utf8_percent_encode(key.as_str(), PATH_SEGMENT)
    )
}

/// The path (percent-decoded) the server answers an entry's page at.
pub fn entry_path(key: &EntryKey) -> String {
    format!("/entries/{}", key.as_str())
}

/// One servable document: its bytes and the validators HTTP caching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub body: Bytes,
    pub media_type: &'static str,
    /// A strong validator: a hash of the body, quoted.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

impl Document {
    pub fn new(body: Vec<u8>, media_type: &'static str, last_modified: DateTime<Utc>) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            digest[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Self {
            body: Bytes::from(body),
            media_type,
            etag,
            last_modified,
        }
    }
}

/// Every document at one moment, by request path. Immutable once built; the HTTP layer
/// holds an `Arc` of the current one and never renders anything.
#[derive(Debug, Default)]
pub struct Snapshot {
    documents: HashMap<String, Arc<Document>>,
}

impl Snapshot {
    pub fn get(&self, path: &str) -> Option<&Arc<Document>> {
        self.documents.get(path)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }
}

/// Keeps the rendered entry pages between snapshots, so a change re-renders only the
/// pages of the entries it touched plus the feeds and the index.
#[derive(Debug)]
pub struct Renderer {
    site: Site,
    pages: HashMap<String, Arc<Document>>,
}

impl Renderer {
    pub fn new(site: Site) -> Self {
        Self {
            site,
            pages: HashMap::new(),
        }
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    pub fn set_pages(&mut self, entries: &[Entry]) {
        for entry in entries {
            let page = html::entry_page(&self.site, entry);
            self.pages
                .insert(entry_path(&entry.draft.key), Arc::new(page));
        }
    }

    pub fn remove_pages(&mut self, keys: &[EntryKey]) {
        for key in keys {
            self.pages.remove(&entry_path(key));
        }
    }

    /// Renders the feeds and the index from the newest entries (newest first) and joins
    /// them with the kept entry pages.
    pub fn snapshot(&self, latest: &[Entry]) -> Result<Snapshot, RenderError> {
        let latest = &latest[..latest.len().min(self.site.feed_size)];
        let mut documents = self.pages.clone();
        let feed_updated = newest_update(latest);
        let rss = rss::render(&self.site, latest)?;
        let atom = atom::render(&self.site, latest)?;
        let index = html::index_page(&self.site, latest);
        for (path, body, media_type) in [
            (RSS_PATH, rss, RSS_TYPE),
            (ATOM_PATH, atom, ATOM_TYPE),
            (INDEX_PATH, index, HTML_TYPE),
        ] {
            documents.insert(
                path.to_owned(),
                Arc::new(Document::new(body, media_type, feed_updated)),
            );
        }
        Ok(Snapshot { documents })
    }
}

/// A feed's date is its newest entry's update, never the time of rendering, so that an
/// unchanged feed renders to the same bytes. An empty feed has the epoch.
fn newest_update(entries: &[Entry]) -> DateTime<Utc> {
    entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH)
}
