//! The HTTP surface: [`answer`] looks documents up in the current snapshot, and entry,
//! archive and listing pages in [`Pages`]. No request renders or compresses a feed: a
//! feed is a lookup and a write. A feed's address answers a browser (`Accept` prefers
//! `text/html`) with the feed's HTML view and a reader with the feed, each with its own
//! validators. A page that is not cached is the one case where a request reads the
//! database (indexed rows) and renders; see `publish::Pages`. An unknown path is a
//! small HTML page for a browser, a plain-text 404 for anything else; a path one slash
//! short of a page is redirected to it (old entry links).
//! The listener and its limits are in `server`; the protocol rules (conditional
//! requests, negotiation) are pure functions in their own files. `/status` and
//! `/metrics` are served only by the admin listener (`admin`, answered by
//! `observe::answer_admin`); the public one answers them 404. Media files under the
//! seeds folder are served from disk at `/media/{path}`, with byte ranges (`media`), their
//! bodies sent with `sendfile` on Linux (`sendfile`).

mod admin;
mod conditional;
mod fediverse;
mod media;
mod metrics;
mod negotiate;
mod observe;
mod open_files;
mod range;
mod response;
#[cfg(target_os = "linux")]
mod sendfile;
mod server;
mod slots;
mod stream;

pub use admin::{Admin, AdminError, AdminSocket, bind_admin, fetch_admin, start_admin};
pub use conditional::{Answer, Validators, decide};
pub use media::{MEDIA_PREFIX, MediaError, MediaFiles, OpenMedia};
pub use metrics::{Metrics, Route};
pub use negotiate::{Coding, choose_coding, prefers_html};
pub use open_files::OpenFiles;
pub use response::HttpError;
pub use server::{Workers, bind, share, start};

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use response::{Representation, View, content_headers, options, respond};

use crate::publish::{Pages, Snapshots, Status};
use crate::render::{Document, HtmlView, Snapshot};
use crate::websub::HubReply;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub snapshots: Snapshots,
    /// Entry and archive pages, read from the store when not cached.
    pub pages: Arc<Pages>,
    pub status: watch::Receiver<Arc<Status>>,
    pub metrics: Arc<Metrics>,
    /// `Cache-Control` of documents that change: `public, max-age={cache_max_age}`.
    pub cache_control: HeaderValue,
    /// Longer URLs are refused with 414.
    pub max_url_bytes: usize,
    /// One log line per request, when on.
    pub access_log: bool,
    pub started: Instant,
    /// The built-in WebSub hub, answering `POST /hub`, when on.
    pub hub: Option<Arc<crate::websub::Hub>>,
    /// WebSub's counts for `/status` and `/metrics`, when it is on.
    pub websub: Option<Arc<crate::websub::Counters>>,
    /// The media files served at `/media/`; without them, that path is unknown.
    pub media: Option<Arc<OpenFiles>>,
    /// The site on the fediverse (`[activitypub]`), answering its paths and its inbox.
    pub fediverse: Option<Arc<crate::activitypub::Fediverse>>,
}

impl AppState {
    pub fn new(
        snapshots: Snapshots,
        pages: Arc<Pages>,
        status: watch::Receiver<Arc<Status>>,
        cache_max_age: u32,
    ) -> Self {
        Self {
            snapshots,
            pages,
            status,
            metrics: Arc::new(Metrics::default()),
            cache_control: HeaderValue::from_str(&format!("public, max-age={cache_max_age}"))
                .unwrap_or(HeaderValue::from_static("public, max-age=300")),
            max_url_bytes: 2048,
            access_log: false,
            started: Instant::now(),
            hub: None,
            websub: None,
            media: None,
            fediverse: None,
        }
    }
}

/// Answers one request: what every worker's connections call, and what tests call with a
/// request they build. The few fixed paths are matched before the document lookup, and
/// every answer is counted (and logged, when asked) in one place. hyper calls this
/// directly: an axum `Router` in between cost a measurable share of the CPU time of a
/// 304 (docs/performance.md), for a table of three fixed paths and one map lookup.
pub fn answer<B>(state: &AppState, request: axum::http::Request<B>) -> Response {
    let started = state.access_log.then(Instant::now);
    let (parts, _body) = request.into_parts();
    let route = Route::of(parts.uri.path());
    let response = match route {
        Route::Health => observe::answer(state, route, &parts.method),
        // They list file paths and internals: on the admin listener only.
        Route::Status | Route::Metrics => HttpError::NotFound.into_response(),
        Route::Media => media::answer(state, &parts),
        _ => match &state.fediverse {
            Some(fediverse) => fediverse::answer(state, fediverse, &parts).unwrap_or_else(|| {
                let mut response = document(state, &parts);
                if fediverse::negotiated(parts.uri.path()) {
                    fediverse::vary_on_accept(&mut response);
                }
                response
            }),
            None => document(state, &parts),
        },
    };
    observe::record(state, route, &parts, &response, started);
    response
}

/// Answers a request to the built-in hub: the one path that reads a request body, so
/// the one that is not answered at once. Without the hub, `/hub` is an unknown path.
pub async fn answer_hub(
    state: &AppState,
    request: axum::http::Request<hyper::body::Incoming>,
) -> Response {
    let started = state.access_log.then(Instant::now);
    let (parts, body) = request.into_parts();
    let response = match (&state.hub, &parts.method) {
        (None, _) => HttpError::NotFound.into_response(),
        (Some(hub), &Method::POST) => {
            match axum::body::to_bytes(Body::new(body), crate::websub::MAX_FORM_BYTES).await {
                Ok(form) => {
                    let content_type = parts.headers.get(header::CONTENT_TYPE);
                    let content_type = content_type.and_then(|v| v.to_str().ok());
                    hub_response(hub.answer(content_type, &form).await)
                }
                Err(_) => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large\n",
                )
                    .into_response(),
            }
        }
        (Some(_), _) => {
            let mut response = HttpError::MethodNotAllowed.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
    };
    observe::record(state, Route::Hub, &parts, &response, started);
    response
}

/// The hub's plain answer as a response.
fn hub_response(reply: HubReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.message).into_response();
    if let Some(seconds) = reply.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The request header of RFC 3229 (made once: no header is parsed per request).
const A_IM: HeaderName = HeaderName::from_static("a-im");

/// A document of the snapshot, or of the pages, in the representation the request asks
/// for. Named steps, each of which may answer early.
fn document(state: &AppState, parts: &Parts) -> Response {
    if parts.uri.path().len() + parts.uri.query().map_or(0, str::len) > state.max_url_bytes {
        return HttpError::UriTooLong.into_response();
    }
    let header_str = |name: HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // Asked only where the answer depends on it: most requests are readers' polls.
    let html = || prefers_html(header_str(header::ACCEPT));
    // Clone the Arc and let the channel's lock go at once.
    let snapshot = Arc::clone(&state.snapshots.borrow());
    let Some(path) = decode_path(parts.uri.path()) else {
        return not_found(&snapshot, html(), &parts.method, &state.cache_control);
    };
    if snapshot.get(&path).is_some() && snapshot.filling(&path) {
        return HttpError::FirstIngest.into_response();
    }
    let document = match lookup(state, &snapshot, &path) {
        Ok(Some(document)) => document,
        Ok(None) => return missing(state, &snapshot, &path, parts, html),
        Err(error) => return error.into_response(),
    };
    let with_body = match parts.method {
        Method::GET => true,
        Method::HEAD => false,
        Method::OPTIONS => return options(&document, &parts.headers),
        _ => return HttpError::MethodNotAllowed.into_response(),
    };
    if has_body(&parts.headers) {
        return HttpError::BodyNotAllowed.into_response();
    }
    let (view, chosen) = match browser_view(state, &document, &path, html) {
        Ok(Some(page)) => (View::Html, page),
        Ok(None) => (View::Feed, Arc::clone(&document)),
        Err(error) => return error.into_response(),
    };
    let Some(coding) = choose_coding(
        header_str(header::ACCEPT_ENCODING),
        chosen.gzip.is_some(),
        chosen.brotli.is_some(),
    ) else {
        return HttpError::NotAcceptable.into_response();
    };
    let request = Validators {
        if_none_match: header_str(header::IF_NONE_MATCH),
        if_modified_since: header_str(header::IF_MODIFIED_SINCE),
        a_im: header_str(A_IM),
    };
    // Deltas are only for readers that ask for them.
    let bases: Vec<&str> = match view {
        View::Feed if request.a_im.is_some() => {
            chosen.deltas.iter().map(|d| d.base_etag.as_str()).collect()
        }
        View::Feed | View::Html => Vec::new(),
    };
    let answer = decide(request, &chosen.etag, chosen.last_modified, &bases);
    let representation = Representation {
        document: &chosen,
        negotiated: document.html_view.negotiated(),
        coding,
    };
    respond(&representation, answer, with_body, &state.cache_control)
}

/// The document at a path: the snapshot's, else a page's (read from the database when it
/// is not cached). `Err` when the database cannot be read.
fn lookup(
    state: &AppState,
    snapshot: &Snapshot,
    path: &str,
) -> Result<Option<Arc<Document>>, HttpError> {
    if let Some(document) = snapshot.get(path) {
        return Ok(Some(Arc::clone(document)));
    }
    if !Pages::serves(path) {
        return Ok(None);
    }
    state
        .pages
        .get(path)
        .map_err(|error| unavailable(path, &error))
}

/// The HTML view to send instead of a feed, when the document has one and a browser asks
/// for it (`html`): rendered with the feed, or (an archive page) by the pages.
fn browser_view(
    state: &AppState,
    document: &Document,
    path: &str,
    html: impl FnOnce() -> bool,
) -> Result<Option<Arc<Document>>, HttpError> {
    if !document.html_view.negotiated() || !html() {
        return Ok(None);
    }
    match &document.html_view {
        HtmlView::Rendered(view) => Ok(Some(Arc::clone(view))),
        HtmlView::OnRequest => state
            .pages
            .view(path)
            .map_err(|error| unavailable(path, &error)),
        HtmlView::None => Ok(None),
    }
}

/// A page the database could not give: logged with its cause, answered with a 503.
fn unavailable(path: &str, error: &crate::store::StoreError) -> HttpError {
    tracing::error!(path = %path, error = %crate::logging::error_chain(error), "cannot read a page from the database");
    HttpError::Unavailable
}

/// The answer for a path that names nothing: a small HTML page for a browser (`html`,
/// once the first snapshot has one), the plain-text 404 for everyone else. Both vary on
/// `Accept`. A path that names nothing now may name something after the next change (a
/// new article, the next archive page), so a cache keeps the 404 no longer than a feed:
/// the documents' `cache_control`, where a heuristic could keep it for hours.
fn not_found(
    snapshot: &Snapshot,
    html: bool,
    method: &Method,
    cache_control: &HeaderValue,
) -> Response {
    let mut response = match snapshot.not_found().filter(|_| html) {
        Some(page) => {
            let mut response = match *method {
                Method::HEAD => Response::new(Body::empty()),
                _ => Response::new(Body::from(page.body.clone())),
            };
            *response.status_mut() = StatusCode::NOT_FOUND;
            content_headers(
                response.headers_mut(),
                page.media_type,
                page.body.len() as u64,
                Coding::Identity,
            );
            response
        }
        None => HttpError::NotFound.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    headers.insert(header::CACHE_CONTROL, cache_control.clone());
    response
}

/// A path that names no document. When the same path with a trailing slash is one (an
/// entry's page moved from `/entries/{key}` to `/entries/{key}/`, where a static host can
/// serve it as a folder's `index.html`), a permanent redirect there, to an absolute URL
/// from `base_url`; otherwise 404. 301 rather than 308: every client, old ones included,
/// follows a 301, and 308's one difference (the method is kept) does not matter when only
/// GET and HEAD are ever answered with a document.
fn missing(
    state: &AppState,
    snapshot: &Snapshot,
    path: &str,
    parts: &Parts,
    html: impl FnOnce() -> bool,
) -> Response {
    let slashed = format!("{path}/");
    let exists = !path.ends_with('/')
        && (snapshot.get(&slashed).is_some()
            || (Pages::serves(&slashed) && matches!(state.pages.get(&slashed), Ok(Some(_)))));
    // The path as the client wrote it (still percent-encoded), with its slash.
    let location = state.pages.url(&format!("{}/", parts.uri.path()));
    let location = HeaderValue::from_str(&location).ok().filter(|_| exists);
    let Some(location) = location else {
        return not_found(snapshot, html(), &parts.method, &state.cache_control);
    };
    let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, state.cache_control.clone());
    response
}

/// Paths are compared decoded, so `/entries/a%20b/` finds the entry of `a b`. A path that
/// does not decode to UTF-8 names nothing we serve. Paths are only ever keys of the
/// snapshot's map, never names on a filesystem.
fn decode_path(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    percent_encoding::percent_decode_str(raw).decode_utf8().ok()
}

/// Whether a request carries a body (RFC 9112 §6.3): any `Transfer-Encoding`, or a
/// non-zero `Content-Length`. Documents take none.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            decode_path("/entries/a%20b/").as_deref(),
            Some("/entries/a b/")
        );
        assert_eq!(decode_path("/feed.atom").as_deref(), Some("/feed.atom"));
        assert_eq!(decode_path("/%ff"), None);
    }

    use crate::model::{Article, Entry, EntryKey};
    use crate::normalize::normalize;
    use crate::render::{Renderer, Site};

    fn state() -> AppState {
        let site = Site::for_tests();
        let article = Article {
            title: "T".into(),
            paragraphs: vec!["p".repeat(500)],
            ..Article::default()
        };
        let entry = Entry {
            draft: normalize(
                EntryKey::new("k"),
                &article,
                &crate::normalize::EntryContext::for_tests(),
            ),
            published: chrono::DateTime::UNIX_EPOCH,
            updated: chrono::DateTime::UNIX_EPOCH,
        };
        let mut renderer = Renderer::new(site.clone());
        let snapshot = renderer.snapshot(&[entry], &[]).unwrap();
        // A receiver keeps the last value after its sender is gone.
        let (_, snapshots) = watch::channel(Arc::new(snapshot));
        let (_, status) = watch::channel(Arc::new(Status::default()));
        // Pages of a database that is not there: reading one fails.
        let pages = Pages::new(site, std::path::PathBuf::from("/nonexistent/seedfeed-data"));
        AppState::new(snapshots, Arc::new(pages), status, 300)
    }

    fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> axum::http::Request<()> {
        let mut builder = axum::http::Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn the_app_answers_requests_it_is_handed() {
        let state = state();
        let get = |path: &str, headers: &[(&str, &str)]| {
            answer(&state, request(Method::GET, path, headers))
        };
        assert_eq!(get("/healthz", &[]).status(), 200);
        assert_eq!(get("/nothing", &[]).status(), 404);
        assert_eq!(
            answer(&state, request(Method::POST, "/healthz", &[])).status(),
            405
        );
        let feed = get("/feed.atom", &[("accept-encoding", "gzip")]);
        assert_eq!(feed.status(), 200);
        assert_eq!(feed.headers()["content-encoding"], "gzip");
        let etag = feed.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(get("/feed.atom", &[("if-none-match", &etag)]).status(), 304);
        assert_eq!(
            get("/", &[]).headers()["content-type"],
            "text/html; charset=utf-8"
        );
        // A page the database cannot give is a 503, not a 404 or a panic.
        assert_eq!(get("/entries/k/", &[]).status(), 503);
        // The admin listener alone serves the status and the metrics.
        let admin = |method: Method, path: &str| {
            observe::answer_admin(&state, request(method, path, &[])).status()
        };
        for path in ["/status", "/metrics"] {
            assert_eq!(
                get(path, &[]).status(),
                404,
                "{path} on the public listener"
            );
            assert_eq!(
                admin(Method::GET, path),
                200,
                "{path} on the admin listener"
            );
        }
        assert_eq!(admin(Method::GET, "/healthz"), 200);
        assert_eq!(admin(Method::HEAD, "/status"), 200);
        assert_eq!(admin(Method::POST, "/status"), 405);
        assert_eq!(admin(Method::GET, "/feed.atom"), 404);
    }

    #[test]
    fn a_path_one_slash_short_of_a_document_is_redirected_to_it() {
        let mut snapshot = Snapshot::default();
        let page = Document::new(
            b"<p>2</p>".to_vec(),
            crate::render::HTML_TYPE,
            chrono::Utc::now(),
        );
        snapshot.documents.insert("/page/2/".into(), Arc::new(page));
        let (_, snapshots) = watch::channel(Arc::new(snapshot));
        let (_, status) = watch::channel(Arc::new(Status::default()));
        let pages = Pages::new(Site::for_tests(), std::path::PathBuf::from("/nonexistent"));
        let state = AppState::new(snapshots, Arc::new(pages), status, 300);

        for method in [Method::GET, Method::HEAD] {
            let moved = answer(&state, request(method.clone(), "/page/2", &[]));
            assert_eq!(moved.status(), 301, "{method}");
            assert_eq!(moved.headers()["location"], "https://x.org/page/2/");
            assert_eq!(moved.headers()["cache-control"], "public, max-age=300");
        }
        // The path is kept as the client encoded it.
        let encoded = answer(&state, request(Method::GET, "/page/%32", &[]));
        assert_eq!(encoded.headers()["location"], "https://x.org/page/%32/");
        let get = |path: &str| answer(&state, request(Method::GET, path, &[])).status();
        assert_eq!(get("/page/2/"), 200);
        for path in ["/page/3", "/page", "/page/2//", "/nothing"] {
            assert_eq!(get(path), 404, "{path}");
        }
    }

    /// While the first ingest has published nothing, documents answer 503 with
    /// Retry-After and no-store; the health check and the stylesheet do not wait.
    #[test]
    fn the_first_ingest_answers_503_with_retry_after() {
        let mut state = state();
        let documents = state.snapshots.borrow().documents.clone();
        let filling = crate::render::Snapshot {
            documents,
            first_ingest: true,
            not_found: None,
        };
        state.snapshots = watch::channel(Arc::new(filling)).1;
        for path in ["/feed.atom", "/feed.json", "/"] {
            for method in [Method::GET, Method::HEAD] {
                let response = answer(&state, request(method, path, &[]));
                assert_eq!(response.status(), 503, "{path}");
                assert_eq!(response.headers()["retry-after"], "5", "{path}");
                assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
            }
        }
        let get = |path: &str| answer(&state, request(Method::GET, path, &[])).status();
        assert_eq!(get("/healthz"), 200);
        assert_eq!(get("/feed.xsl"), 200);
        assert_eq!(get("/nothing"), 404);
    }

    const BROWSER: (&str, &str) = (
        "accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    );

    #[test]
    fn a_feed_address_answers_browsers_with_its_view() {
        let state = state();
        let get = |path: &str, headers: &[(&str, &str)]| {
            answer(&state, request(Method::GET, path, headers))
        };
        for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
            let feed = get(path, &[]);
            let page = get(path, &[BROWSER]);
            assert_eq!(page.status(), 200);
            assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
            assert_ne!(feed.headers()["content-type"], "text/html; charset=utf-8");
            for response in [&feed, &page] {
                assert_eq!(response.headers()["vary"], "Accept, Accept-Encoding");
            }
            let (feed_tag, page_tag) = (&feed.headers()["etag"], &page.headers()["etag"]);
            assert_ne!(feed_tag, page_tag, "{path}");
            let revalidate = |tag: &HeaderValue| {
                let tag = tag.to_str().unwrap();
                get(path, &[BROWSER, ("if-none-match", tag)]).status()
            };
            assert_eq!(revalidate(page_tag), 304, "{path}");
            assert_eq!(revalidate(feed_tag), 200, "{path}: another representation");
            let zipped = get(path, &[BROWSER, ("accept-encoding", "gzip")]);
            assert_eq!(zipped.headers()["content-encoding"], "gzip");
            assert_eq!(zipped.headers()["content-type"], "text/html; charset=utf-8");
        }
        // Pages that are not feeds are the same for everyone.
        assert_eq!(get("/", &[BROWSER]).headers()["vary"], "Accept-Encoding");
    }

    #[test]
    fn an_unknown_path_is_a_page_for_browsers_and_text_for_machines() {
        let state = state();
        let browser = answer(&state, request(Method::GET, "/nothing", &[BROWSER]));
        assert_eq!(browser.status(), 404);
        assert_eq!(
            browser.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert_eq!(browser.headers()["vary"], "Accept");
        let head = answer(&state, request(Method::HEAD, "/nothing", &[BROWSER]));
        assert_eq!(head.status(), 404);
        assert_eq!(
            head.headers()["content-length"],
            browser.headers()["content-length"]
        );
        for accept in [None, Some("*/*"), Some("application/atom+xml")] {
            let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
            let machine = answer(&state, request(Method::GET, "/nothing", &headers));
            assert_eq!(machine.status(), 404);
            assert_eq!(
                machine.headers()["content-type"],
                "text/plain; charset=utf-8"
            );
            assert_eq!(machine.headers()["vary"], "Accept");
        }
    }

    #[test]
    fn bodies_are_seen_in_either_framing() {
        let mut headers = HeaderMap::new();
        assert!(!has_body(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        assert!(!has_body(&headers));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert!(has_body(&headers));
        let mut chunked = HeaderMap::new();
        chunked.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        assert!(has_body(&chunked));
    }
}
