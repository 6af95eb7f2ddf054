//! The HTTP surface: an axum router that only looks documents up in the current
//! [`Snapshot`]. No request renders, compresses or touches the database.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::render::{Document, Snapshot};

/// The current snapshot, replaced by the ingest driver after each change.
pub type Snapshots = watch::Receiver<Arc<Snapshot>>;

/// The application as a service: what the daemon serves and what tests call.
pub fn router(snapshots: Snapshots) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(document)
        .with_state(snapshots)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Every other path is a document of the snapshot, or nothing.
async fn document(State(snapshots): State<Snapshots>, method: Method, uri: Uri) -> Response {
    let Some(path) = decode_path(uri.path()) else {
        return HttpError::NotFound.into_response();
    };
    // Clone the Arc and let the channel's lock go at once.
    let snapshot = Arc::clone(&snapshots.borrow());
    let Some(document) = snapshot.get(&path) else {
        return HttpError::NotFound.into_response();
    };
    match method {
        Method::GET => document_response(document, true),
        Method::HEAD => document_response(document, false),
        _ => HttpError::MethodNotAllowed.into_response(),
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

/// HEAD is GET without the body: the same headers, Content-Length included.
fn document_response(document: &Document, with_body: bool) -> Response {
    let body = if with_body {
        Body::from(document.body.clone())
    } else {
        Body::empty()
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(document.media_type),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(document.body.len()),
    );
    if let Ok(etag) = HeaderValue::from_str(&document.etag) {
        headers.insert(header::ETAG, etag);
    }
    if let Ok(date) = HeaderValue::from_str(&http_date(document.last_modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The IMF-fixdate of RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
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
    fn http_dates_are_imf_fixdate() {
        let time = DateTime::from_timestamp(784111777, 0).unwrap();
        assert_eq!(http_date(time), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

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
