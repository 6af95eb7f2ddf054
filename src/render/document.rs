//! Documents as served: bytes with their compressed variants, validators and caching,
//! the HTML view a browser is sent at a feed's address, and the [`Snapshot`] of the
//! documents readers poll.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Format, XSL_PATH, compress};

/// How long caches may keep a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Revalidate after the configured max-age: it changes with the folder.
    Revalidate,
    /// Never changes (a full archive page).
    Immutable,
}

/// One servable document: its bytes, their compressed variants, and the validators HTTP
/// caching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub body: Bytes,
    /// The gzip and brotli variants, when smaller than `body` (see [`Document::compressed`]).
    pub gzip: Option<Bytes>,
    pub brotli: Option<Bytes>,
    pub media_type: &'static str,
    /// A strong validator: a hash of the body, quoted.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// `last_modified` as an IMF-fixdate (RFC 9110 §5.6.7), written once, not per request.
    pub last_modified_text: Bytes,
    pub caching: Caching,
    /// RFC 3229 deltas: for an earlier version's ETag, this document's entries added or
    /// changed since that version.
    pub deltas: Vec<Delta>,
    /// For feeds: the HTML page a browser is sent instead of the feed (see
    /// `http::prefers_html`).
    pub html_view: HtmlView,
    /// Feeds are meant to be read from any site's scripts: `Access-Control-Allow-Origin: *`.
    pub cors: bool,
    /// The HTTP `Link` header of a feed: its WebSub hubs and itself (`rel="self"`).
    pub links: Option<Bytes>,
}

/// An RFC 3229 delta of a feed: its entries added or changed since the version
/// `base_etag`, with its compressed variants, computed with the document's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub base_etag: String,
    pub body: Bytes,
    /// The gzip and brotli variants, when smaller than `body`.
    pub gzip: Option<Bytes>,
    pub brotli: Option<Bytes>,
}

impl Document {
    /// A document without compressed variants yet.
    pub fn new(body: Vec<u8>, media_type: &'static str, last_modified: DateTime<Utc>) -> Self {
        Self {
            etag: etag_of(&body),
            body: kept_bytes(body),
            gzip: None,
            brotli: None,
            media_type,
            last_modified,
            last_modified_text: Bytes::from(httpdate::fmt_http_date(last_modified.into())),
            caching: Caching::Revalidate,
            deltas: Vec::new(),
            html_view: HtmlView::None,
            cors: false,
            links: None,
        }
    }

    /// Adds the gzip and brotli variants, of the document and of each of its deltas (a
    /// 226 is compressed like a 200). Done once per rendered version, on the ingest
    /// thread; a document whose bytes did not change keeps the variants it has.
    pub fn compressed(mut self) -> Self {
        (self.gzip, self.brotli) = compress::variants(&self.body);
        for delta in &mut self.deltas {
            (delta.gzip, delta.brotli) = compress::variants(&delta.body);
        }
        self
    }

    /// A feed: its media type and CORS; its HTML view is added by the caller.
    pub fn xml_feed(body: Vec<u8>, format: Format, last_modified: DateTime<Utc>) -> Self {
        let mut document = Self::new(body, format.media_type(), last_modified);
        document.cors = true;
        document
    }

    /// Whether the variants have been computed (an HTML page always compresses).
    pub(crate) fn is_compressed(&self) -> bool {
        self.gzip.is_some() || self.brotli.is_some()
    }
}

/// `bytes` to keep in a document, without the spare room of a buffer grown as it was
/// written: a document lives as long as a snapshot or the pages' cache holds it, and a
/// buffer grown by doubling can be up to half unused. Copied into an allocation of its
/// size when more than an eighth is spare (one copy per rendered version).
pub(crate) fn kept_bytes(bytes: Vec<u8>) -> Bytes {
    if bytes.capacity() - bytes.len() > bytes.len() / 8 {
        Bytes::copy_from_slice(&bytes)
    } else {
        Bytes::from(bytes)
    }
}

/// What a browser is sent at a feed's address. Feeds are negotiated on `Accept`: a feed
/// reader gets the feed's bytes, a browser an HTML page about the same feed, each with its
/// own validators, and both answers say `Vary: Accept`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HtmlView {
    /// Not a feed: every client gets the document.
    #[default]
    None,
    /// The view, rendered with the feed and kept as long as its bytes are the same.
    Rendered(Arc<Document>),
    /// Rendered when a browser asks for it: a frozen archive page, whose view shows the
    /// entries as they are now (`publish::Pages::view`).
    OnRequest,
}

impl HtmlView {
    /// Whether the document's address answers browsers with another representation.
    pub fn negotiated(&self) -> bool {
        !matches!(self, Self::None)
    }
}

/// A strong entity tag from the content: equal bytes, equal tags, across restarts.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The documents readers poll, at one moment, by request path: the feeds, the index and
/// the lists. Immutable once built; the HTTP layer holds an `Arc` of the current one and
/// never renders any of them. Entry and archive pages are `publish::Pages`.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub(crate) documents: HashMap<String, Arc<Document>>,
    /// The first ingest into an empty database is under way: the feeds and the index do
    /// not yet say what the folder holds, and an empty feed served now would be kept by
    /// caches and readers as if it did (see [`Snapshot::filling`]).
    pub(crate) first_ingest: bool,
    /// The HTML page of an unknown path, for browsers (not at any path of its own).
    pub(crate) not_found: Option<Arc<Document>>,
}

impl Snapshot {
    /// Whether the document at `path` is not to be served yet: during the first ingest
    /// into an empty database, every document but the stylesheet (which never changes).
    pub fn filling(&self, path: &str) -> bool {
        self.first_ingest && path != XSL_PATH
    }

    pub fn get(&self, path: &str) -> Option<&Arc<Document>> {
        self.documents.get(path)
    }

    /// The HTML page a browser is shown for a path that names nothing.
    pub fn not_found(&self) -> Option<&Arc<Document>> {
        self.not_found.as_ref()
    }

    pub fn documents(&self) -> impl Iterator<Item = (&str, &Arc<Document>)> {
        self.documents
            .iter()
            .map(|(path, doc)| (path.as_str(), doc))
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
