//! Responses: the representation of a document chosen for a request (its view and
//! content coding), with its validators, caching and content headers; `OPTIONS`; and the
//! small plain-text errors.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::{Answer, Coding};
use crate::render::{Caching, Delta, Document};

/// Which representation of a feed's address is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// The document itself: the feed, for readers (and any document that is not a feed).
    Feed,
    /// The feed's HTML view, for a browser.
    Html,
}

/// One representation of a document: the bytes of one view in one content coding.
pub(super) struct Representation<'a> {
    /// The document sent: the one at the path, or its HTML view.
    pub(super) document: &'a Document,
    /// Whether the path has another representation for another `Accept` (a feed and
    /// its view).
    pub(super) negotiated: bool,
    pub(super) coding: Coding,
}

impl Representation<'_> {
    fn media_type(&self) -> &'static str {
        self.document.media_type
    }

    fn body(&self) -> &Bytes {
        let document = self.document;
        match self.coding {
            Coding::Identity => &document.body,
            Coding::Gzip => document.gzip.as_ref().unwrap_or(&document.body),
            Coding::Brotli => document.brotli.as_ref().unwrap_or(&document.body),
        }
    }

    /// Each representation has its own strong validator (RFC 9110 §8.8.3): the hash of
    /// the view's bytes (a feed's and its HTML view's differ), then the coding
    /// (`"v-br"`). Every answer carries it, a 304 included, so it is put together at its
    /// exact size, whose buffer becomes the header's bytes as it is.
    fn etag(&self) -> Option<HeaderValue> {
        let version = self.document.etag.trim_end_matches('"');
        let coding = match self.coding {
            Coding::Identity => "",
            Coding::Gzip => "-gzip",
            Coding::Brotli => "-br",
        };
        let mut tag = Vec::with_capacity(version.len() + coding.len() + 1);
        tag.extend_from_slice(version.as_bytes());
        tag.extend_from_slice(coding.as_bytes());
        tag.push(b'"');
        HeaderValue::from_maybe_shared(Bytes::from(tag)).ok()
    }

    /// What a cache must key on: the coding always; the media type for feeds.
    fn vary(&self) -> HeaderValue {
        if self.negotiated {
            HeaderValue::from_static("Accept, Accept-Encoding")
        } else {
            HeaderValue::from_static("Accept-Encoding")
        }
    }
}

/// Builds the response. HEAD is GET without the body: the same headers, Content-Length
/// included. A 304 repeats the validators, Cache-Control and Vary (RFC 9110 §15.4.5); a
/// 226 carries `IM: feed` and the ETag of the current version, which the client sends
/// next, and is never stored by a shared cache.
pub(super) fn respond(
    representation: &Representation<'_>,
    answer: Answer,
    with_body: bool,
    cache_control: &HeaderValue,
) -> Response {
    let document = representation.document;
    let (status, body, coding) = match answer {
        Answer::Full => (
            StatusCode::OK,
            Some(representation.body().clone()),
            representation.coding,
        ),
        Answer::NotModified => (StatusCode::NOT_MODIFIED, None, representation.coding),
        Answer::Delta(n) => {
            let delta = document.deltas.get(n);
            let (body, coding) = delta.map_or((None, Coding::Identity), |delta| {
                let (body, coding) = delta_body(delta, representation.coding);
                (Some(body.clone()), coding)
            });
            (
                StatusCode::from_u16(226).unwrap_or(StatusCode::OK),
                body,
                coding,
            )
        }
    };
    let length = body.as_ref().map(|body| body.len() as u64);
    let mut response = match (with_body, body) {
        (true, Some(body)) => Response::new(Body::from(body)),
        _ => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Room for every header below, so the map never grows while they go in.
    headers.reserve(15);
    caching_headers(headers, representation, answer, cache_control);
    if document.cors {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag, Last-Modified, IM, Link"),
        );
    }
    if let Some(links) = &document.links
        && let Ok(links) = HeaderValue::from_maybe_shared(links.clone())
    {
        headers.insert(header::LINK, links);
    }
    if let Some(length) = length {
        content_headers(headers, representation.media_type(), length, coding);
    }
    if let Answer::Delta(_) = answer {
        headers.insert(
            HeaderName::from_static("im"),
            HeaderValue::from_static("feed"),
        );
    }
    response
}

/// A delta in the coding chosen for the document, when it has that variant; else as it
/// is (a variant is kept only when smaller, and a new version is served before its
/// variants are computed).
fn delta_body(delta: &Delta, coding: Coding) -> (&Bytes, Coding) {
    let variant = match coding {
        Coding::Identity => None,
        Coding::Gzip => delta.gzip.as_ref(),
        Coding::Brotli => delta.brotli.as_ref(),
    };
    variant.map_or((&delta.body, Coding::Identity), |body| (body, coding))
}

/// The validators and how long caches may keep the answer: a delta is never stored, a
/// full archive page is kept for a year.
fn caching_headers(
    headers: &mut HeaderMap,
    representation: &Representation<'_>,
    answer: Answer,
    cache_control: &HeaderValue,
) {
    let document = representation.document;
    let etag = match answer {
        Answer::Delta(_) => HeaderValue::from_str(&document.etag).ok(),
        _ => representation.etag(),
    };
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    if let Ok(date) = HeaderValue::from_maybe_shared(document.last_modified_text.clone()) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    headers.insert(
        header::CACHE_CONTROL,
        match (answer, document.caching) {
            (Answer::Delta(_), _) => HeaderValue::from_static("no-store"),
            (_, Caching::Immutable) => {
                HeaderValue::from_static("public, max-age=31536000, immutable")
            }
            (_, Caching::Revalidate) => cache_control.clone(),
        },
    );
    headers.insert(header::VARY, representation.vary());
}

/// The headers of a body: its type, length and coding.
pub(super) fn content_headers(
    headers: &mut HeaderMap,
    media_type: &'static str,
    length: u64,
    coding: Coding,
) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if coding != Coding::Identity {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
}

/// `OPTIONS` on a document (RFC 9110 §9.3.7), and the CORS preflight for feeds (Fetch
/// standard): the methods, and the request headers a reader may send cross-origin.
pub(super) fn options(document: &Document, request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    if document.cors && request.contains_key(header::ORIGIN) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("If-None-Match, If-Modified-Since, A-IM, Accept"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    response
}

/// The methods documents answer.
const ALLOW: &str = "GET, HEAD, OPTIONS";

/// The errors a request can meet; small plain-text bodies, no internals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    BodyNotAllowed,
    UriTooLong,
    /// The database could not be read (logged with the cause).
    Unavailable,
    /// The first ingest into an empty database has not published yet: an empty feed now
    /// would be cached as the truth, so the client is asked to come back.
    FirstIngest,
}

/// Seconds a client is asked to wait during the first ingest (`Retry-After`).
const FIRST_INGEST_RETRY: u32 = 5;

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "not found\n"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
            Self::NotAcceptable => (StatusCode::NOT_ACCEPTABLE, "no acceptable content coding\n"),
            Self::BodyNotAllowed => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request bodies are not accepted\n",
            ),
            Self::UriTooLong => (StatusCode::URI_TOO_LONG, "URI too long\n"),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the page cannot be read now; try again\n",
            ),
            Self::FirstIngest => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the feeds are being built for the first time; try again in a few seconds\n",
            ),
        };
        let mut response = (status, message).into_response();
        if self == Self::FirstIngest {
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(FIRST_INGEST_RETRY));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if self == Self::MethodNotAllowed {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        }
        response
    }
}
