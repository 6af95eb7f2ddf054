//! The fediverse's paths (`[activitypub]`): its documents, answered from
//! `activitypub::Fediverse`, and its inbox, the one other path that reads a request
//! body. The actor's address answers a browser with the index page, and an entry's page
//! answers an ActivityPub client with the entry's object; each of those responses says
//! `Vary: Accept`, since a cache that ignored `Accept` would give one the other's.

use std::sync::Arc;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::conditional::{Answer, Validators, decide};
use super::{AppState, HttpError};
use crate::activitypub::{ApDocument, Fediverse, InboxRequest, MAX_BODY_BYTES};
use crate::render::etag_of;

/// The answer to a GET or HEAD the fediverse answers; `None` for every other request,
/// which the rest of the server answers (then [`vary_on_accept`] says whether its answer
/// depends on `Accept`).
pub(super) fn answer(state: &AppState, fediverse: &Fediverse, parts: &Parts) -> Option<Response> {
    let path = parts.uri.path();
    // Every request comes through here: the feeds' polls leave at once.
    if !crate::activitypub::is_fediverse_path(path) && !negotiated(path) {
        return None;
    }
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let fixed = is_fixed_path(path);
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        return fixed.then(|| {
            let mut response = HttpError::MethodNotAllowed.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        });
    }
    if let Some(document) = fediverse.document(path, parts.uri.query(), accept) {
        let if_none_match = parts
            .headers
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok());
        return Some(respond(
            state,
            document,
            parts.method == Method::HEAD,
            if_none_match,
        ));
    }
    // A browser at the actor's address: the site's index.
    (path == fediverse.actor_path()).then(|| {
        let mut response = super::document(state, &index_request(parts));
        vary_on_accept(&mut response);
        response
    })
}

/// Whether the answer at `path` depends on `Accept` when the fediverse is on: the
/// entries' pages, which ActivityPub clients get as objects.
pub(super) fn negotiated(path: &str) -> bool {
    path.starts_with("/entries/")
}

pub(super) fn vary_on_accept(response: &mut Response) {
    let headers = response.headers_mut();
    let vary = headers
        .get(header::VARY)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let value = match vary {
        Some(vary)
            if vary
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("accept")) =>
        {
            return;
        }
        Some(vary) => format!("{vary}, Accept"),
        None => "Accept".to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::VARY, value);
    }
}

fn is_fixed_path(path: &str) -> bool {
    use crate::activitypub::{
        FOLLOWERS_PATH, FOLLOWING_PATH, HOST_META_PATH, NODEINFO_LINKS_PATH, NODEINFO_PATH,
        OUTBOX_PATH, WEBFINGER_PATH,
    };
    [
        WEBFINGER_PATH,
        NODEINFO_LINKS_PATH,
        NODEINFO_PATH,
        HOST_META_PATH,
        OUTBOX_PATH,
        FOLLOWERS_PATH,
        FOLLOWING_PATH,
    ]
    .contains(&path)
}

/// The request for the index that stands for a browser's request of the actor.
fn index_request(parts: &Parts) -> Parts {
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri("/")
        .body(())
        .unwrap_or_default();
    *request.headers_mut() = parts.headers.clone();
    request.into_parts().0
}

/// A document with its strong entity tag (of its bytes: the documents are rendered
/// per request, and equal bytes give equal tags), or 304 when the client holds it.
fn respond(
    state: &AppState,
    document: ApDocument,
    head: bool,
    if_none_match: Option<&str>,
) -> Response {
    let status = StatusCode::from_u16(document.status).unwrap_or(StatusCode::OK);
    let etag = etag_of(&document.body);
    let request = Validators {
        if_none_match,
        ..Validators::default()
    };
    let unchanged = status == StatusCode::OK
        && decide(request, &etag, DateTime::<Utc>::UNIX_EPOCH, &[]) == Answer::NotModified;
    let length = document.body.len();
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else if head {
        (status, Body::empty()).into_response()
    } else {
        (status, Body::from(document.body)).into_response()
    };
    let headers = response.headers_mut();
    if !unchanged {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(document.media_type),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, state.cache_control.clone());
    // WebFinger (RFC 7033 §5) and the rest are read by browser-based clients too.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if document.vary_accept {
        vary_on_accept(&mut response);
    }
    response
}

/// Answers a POST to the inbox: its body read up to the cap, then the fediverse's
/// verdict. Without `[activitypub]` the inbox is an unknown path.
pub(crate) async fn answer_inbox(
    state: &AppState,
    request: Request<hyper::body::Incoming>,
) -> Response {
    let (parts, body) = request.into_parts();
    let Some(fediverse) = state.fediverse.as_ref().map(Arc::clone) else {
        return HttpError::NotFound.into_response();
    };
    if parts.method != Method::POST {
        let mut response = HttpError::MethodNotAllowed.into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    // A body announced too large is refused before a byte of it is read.
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "the activity is too large\n").into_response();
    }
    let Ok(body) = axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "the activity is too large\n").into_response();
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    let reply = fediverse
        .inbox(InboxRequest {
            method: parts.method.as_str(),
            path_and_query,
            headers: &parts.headers,
            body: &body,
        })
        .await;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = if reply.message.is_empty() {
        String::new()
    } else {
        format!("{}\n", reply.message)
    };
    (status, message).into_response()
}
