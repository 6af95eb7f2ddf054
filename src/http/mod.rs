//! The HTTP surface: an axum router that only looks documents up in the current
//! [`Snapshot`]. No request renders, compresses or touches the database.

mod conditional;
mod negotiate;

pub use conditional::{Answer, Validators, decide, http_date};
pub use negotiate::prefers_html;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use crate::render::{BROWSER_VIEW_TYPE, Caching, Document, Snapshot};

/// The current snapshot, replaced by the ingest driver after each change.
pub type Snapshots = watch::Receiver<Arc<Snapshot>>;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub snapshots: Snapshots,
    /// `Cache-Control: max-age` of documents that change.
    pub cache_max_age: u32,
}

/// The application as a service: what the daemon serves and what tests call.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(document)
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Every other path is a document of the snapshot, or nothing.
async fn document(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(path) = decode_path(uri.path()) else {
        return HttpError::NotFound.into_response();
    };
    // Clone the Arc and let the channel's lock go at once.
    let snapshot = Arc::clone(&state.snapshots.borrow());
    let Some(document) = snapshot.get(&path) else {
        return HttpError::NotFound.into_response();
    };
    let with_body = match method {
        Method::GET => true,
        Method::HEAD => false,
        _ => return HttpError::MethodNotAllowed.into_response(),
    };
    let header_str = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let view = if document.browser_view && prefers_html(header_str(header::ACCEPT)) {
        View::Browser
    } else {
        View::Feed
    };
    let request = Validators {
        if_none_match: header_str(header::IF_NONE_MATCH),
        if_modified_since: header_str(header::IF_MODIFIED_SINCE),
        a_im: header_str(HeaderName::from_static("a-im")),
    };
    let etag = view.etag(document);
    let bases: Vec<&str> = match view {
        View::Feed => document
            .deltas
            .iter()
            .map(|d| d.base_etag.as_str())
            .collect(),
        View::Browser => Vec::new(),
    };
    let answer = decide(request, &etag, document.last_modified, &bases);
    respond(document, view, answer, with_body, state.cache_max_age)
}

/// Which representation of a document is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Feed,
    /// An XML feed as `application/xml`, which browsers show through its stylesheet.
    Browser,
}

impl View {
    fn media_type(self, document: &Document) -> &'static str {
        match self {
            Self::Feed => document.media_type,
            Self::Browser => BROWSER_VIEW_TYPE,
        }
    }

    /// Two representations need two strong validators (RFC 9110 §8.8.1).
    fn etag(self, document: &Document) -> String {
        match self {
            Self::Feed => document.etag.clone(),
            Self::Browser => format!("{}-xml\"", document.etag.trim_end_matches('"')),
        }
    }
}

/// Paths are compared decoded, so `/entries/a%20b` finds the entry of `a b`. A path that
/// does not decode to UTF-8 names nothing we serve.
fn decode_path(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|path| path.into_owned())
}

/// Builds the response. HEAD is GET without the body: the same headers, Content-Length
/// included. A 304 repeats the validators and caching headers (RFC 9110 §15.4.5); a 226
/// carries `IM: feed` and the ETag of the current version, which the client sends next.
fn respond(
    document: &Document,
    view: View,
    answer: Answer,
    with_body: bool,
    max_age: u32,
) -> Response {
    let (status, body, cache_control) = match answer {
        Answer::Full => (
            StatusCode::OK,
            Some(document.body.clone()),
            cache_control(document, max_age),
        ),
        Answer::NotModified => (
            StatusCode::NOT_MODIFIED,
            None,
            cache_control(document, max_age),
        ),
        Answer::Delta(n) => (
            StatusCode::from_u16(226).unwrap_or(StatusCode::OK),
            document.deltas.get(n).map(|d| d.body.clone()),
            // A delta is for this client only; a shared cache must not hand it on.
            "no-store".to_owned(),
        ),
    };
    let length = body.as_ref().map(|b| b.len());
    let mut response = match (with_body, body) {
        (true, Some(body)) => Response::new(Body::from(body)),
        _ => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&view.etag(document)) {
        headers.insert(header::ETAG, etag);
    }
    if document.browser_view {
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    }
    if let Ok(date) = HeaderValue::from_str(&http_date(document.last_modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    if let Ok(value) = HeaderValue::from_str(&cache_control) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Some(length) = length {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(view.media_type(document)),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    if let Answer::Delta(_) = answer {
        headers.insert(
            HeaderName::from_static("im"),
            HeaderValue::from_static("feed"),
        );
    }
    response
}

fn cache_control(document: &Document, max_age: u32) -> String {
    match document.caching {
        Caching::Revalidate => format!("public, max-age={max_age}"),
        Caching::Immutable => "public, max-age=31536000, immutable".to_owned(),
    }
}

/// The errors a request can meet; small plain-text bodies, no internals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    NotFound,
    MethodNotAllowed,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "not found\n").into_response(),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD")],
                "method not allowed\n",
            )
                .into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            decode_path("/entries/a%20b").as_deref(),
            Some("/entries/a b")
        );
        assert_eq!(decode_path("/feed.atom").as_deref(), Some("/feed.atom"));
        assert_eq!(decode_path("/%ff"), None);
    }
}
