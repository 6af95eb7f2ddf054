//! `/media/{path}`: the images, audio and video files under the seeds folder, sent from
//! disk with `sendfile` on the connections that can (`sendfile`), else read chunk by
//! chunk (`stream`), per RFC 9110: a strong ETag and `Last-Modified`, conditional
//! requests (304, 412), one byte range (206, 416, `If-Range`), `HEAD`. `{path}` is the
//! file's path below the folder, percent-decoded. The files are opened by a
//! [`MediaFiles`], which the watcher implements on the seeds folder with the rules of
//! safe opening: the HTTP layer does not know the folder. Anything it refuses, like any
//! path that is not a media file's, is a 404. A file answered lately is taken from the
//! files kept open (`open_files`) instead of being opened again.

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::conditional::{if_range_holds, preconditions_hold};
use super::open_files::Opened;
use super::range::{Ranged, content_range, ranged, unsatisfied_range};
use super::stream::FileBody;
use super::{Answer, AppState, Coding, HttpError, Validators, decide, prefers_html};
use crate::parse::media::{MediaFormat, media_format};

/// The path prefix of media files.
pub const MEDIA_PREFIX: &str = "/media/";

/// The media files of the seeds folder, opened safely: what `/media/` serves.
pub trait MediaFiles: Send + Sync {
    /// Opens the media file at `relative`, a `/`-separated path below the folder that
    /// has no empty, `.` or `..` part and names a file with a media extension; or says
    /// why not.
    fn open(&self, relative: &str) -> Result<OpenMedia, MediaError>;
}

/// A media file opened for reading, and its metadata, taken from the open file (so that
/// they describe the bytes that will be read).
#[derive(Debug)]
pub struct OpenMedia {
    pub file: File,
    pub metadata: Metadata,
}

/// Why a media file is not served. Every one answers 404: a client learns nothing of
/// what is on the disk.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no such file")]
    NotFound,
    /// A file that is there but is not served: a symlink leading out of the folder, a
    /// FIFO or device, a hidden or temporary name.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("cannot open: {0}")]
    Io(#[from] std::io::Error),
}

/// The media type of a media file by its extension (the table of `parse::media`);
/// `None` for any other file, articles included.
fn media_type(relative: &str) -> Option<&'static str> {
    media_format(relative).map(MediaFormat::media_type)
}

/// Answers a request for a path under `/media/`, in named steps, each of which may
/// answer early.
pub(super) fn answer(state: &AppState, parts: &Parts) -> Response {
    let Some(files) = state.media.as_deref() else {
        return not_found(state, parts);
    };
    if parts.uri.path().len() + parts.uri.query().map_or(0, str::len) > state.max_url_bytes {
        return HttpError::UriTooLong.into_response();
    }
    let transfer = match parts.method {
        Method::GET => Some(Transfer::of(parts)),
        Method::HEAD => None,
        Method::OPTIONS => return options(),
        _ => return HttpError::MethodNotAllowed.into_response(),
    };
    if super::has_body(&parts.headers) {
        return HttpError::BodyNotAllowed.into_response();
    }
    let Some((relative, media_type)) = requested(parts.uri.path()) else {
        return not_found(state, parts);
    };
    let opened = match files.open(&relative) {
        Ok(opened) => opened,
        Err(error) => {
            refused(&relative, &error);
            return not_found(state, parts);
        }
    };
    let now = Utc::now();
    let file = Served::of(opened, media_type, now);
    let conditions = Conditions::of(&parts.headers, parts.method == Method::GET);
    let answer = choose(&conditions, &file.version, now);
    respond(file, answer, transfer, &state.cache_control)
}

/// The path below the seeds folder that a request path names, and its media type: the
/// part after `/media/`, percent-decoded; `None` unless it is a relative path of plain
/// names (no empty, `.` or `..` part, no NUL) that ends in a media extension.
fn requested(path: &str) -> Option<(String, &'static str)> {
    let raw = path.strip_prefix(MEDIA_PREFIX)?;
    let relative = super::decode_path(raw)?;
    let plain = |part: &str| !matches!(part, "" | "." | "..") && !part.contains('\0');
    if !relative.split('/').all(plain) {
        return None;
    }
    let media_type = media_type(&relative)?;
    Some((relative.into_owned(), media_type))
}

/// Logs why a file is not served: at debug level what clients cause (a missing file, a
/// refused one), as a warning what the operator must fix (a file that cannot be opened).
fn refused(relative: &str, error: &MediaError) {
    match error {
        MediaError::NotFound | MediaError::Refused(_) => {
            tracing::debug!(path = relative, reason = %error, "media file not served");
        }
        MediaError::Io(_) => {
            tracing::warn!(path = relative, error = %error, "cannot open a media file");
        }
    }
}

/// The 404 of any unknown path (a page for a browser, text for the rest).
fn not_found(state: &AppState, parts: &Parts) -> Response {
    let snapshot = Arc::clone(&state.snapshots.borrow());
    let accept = parts.headers.get(header::ACCEPT);
    let html = prefers_html(accept.and_then(|v| v.to_str().ok()));
    super::not_found(&snapshot, html, &parts.method, &state.cache_control)
}

/// How the bytes of a body leave: read here chunk by chunk (`stream`), or sent from the
/// file by the connection (`sendfile`).
enum Transfer {
    Read,
    #[cfg(target_os = "linux")]
    Sendfile(super::sendfile::Segments),
}

impl Transfer {
    /// `sendfile` when the connection put its queue of segments in the request (`server`
    /// does on the public listener's TCP connections), else reads.
    fn of(parts: &Parts) -> Self {
        #[cfg(target_os = "linux")]
        if let Some(segments) = parts.extensions.get::<super::sendfile::Segments>() {
            return Self::Sendfile(segments.clone());
        }
        #[cfg(not(target_os = "linux"))]
        let _ = parts;
        Self::Read
    }
}

/// A media file about to be answered: the open file, its type and its version.
struct Served {
    file: Arc<File>,
    media_type: &'static str,
    version: Version,
}

/// What a request's conditions and range are decided against.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    etag: String,
    last_modified: DateTime<Utc>,
    length: u64,
}

impl Served {
    fn of(opened: Opened, media_type: &'static str, now: DateTime<Utc>) -> Self {
        let meta = &opened.metadata;
        let modified = meta.modified().map_or(now, DateTime::<Utc>::from);
        let version = Version {
            etag: etag(meta),
            // RFC 9110 §8.8.2.1: a modification time in the future (a clock that was
            // wrong when the file was written) is sent as now.
            last_modified: modified.min(now),
            length: meta.len(),
        };
        Self {
            file: opened.file,
            media_type,
            version,
        }
    }
}

/// The strong ETag of a file (RFC 9110 §8.8.3) from its metadata: see [`etag_of`].
fn etag(meta: &Metadata) -> String {
    let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    let ctime_ns = i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
    etag_of(meta.ino(), meta.len(), mtime_ns, ctime_ns)
}

/// The strong ETag of a file version: a hash of its inode, length, and modification and
/// change times in nanoseconds. Strong, because a change to the bytes changes one of
/// them: a file replaced by a rename (how editors, rsync and most uploads write) is a
/// new inode; a file written in place gets a new modification time and a new change
/// time, which no tool can set back (`touch` and `rsync -t` set the modification time,
/// never the change time). What remains is a rewrite in place, to the same length,
/// twice within one tick of the filesystem's clock, the risk nginx and Apache take with
/// coarser tags. Hashed, so the tag does not publish inode numbers, and with no `-`,
/// which `conditional` reads as the start of a coding suffix.
fn etag_of(inode: u64, length: u64, mtime_ns: i128, ctime_ns: i128) -> String {
    let mut hash = Sha256::new();
    hash.update(inode.to_be_bytes());
    hash.update(length.to_be_bytes());
    hash.update(mtime_ns.to_be_bytes());
    hash.update(ctime_ns.to_be_bytes());
    let digest = hash.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The request headers a media answer depends on, as sent.
#[derive(Debug, Default)]
struct Conditions<'a> {
    if_match: Option<&'a str>,
    if_unmodified_since: Option<&'a str>,
    if_none_match: Option<&'a str>,
    if_modified_since: Option<&'a str>,
    range: Option<&'a str>,
    if_range: Option<&'a str>,
    /// Whether the method is GET, the only one with ranges.
    get: bool,
}

impl<'a> Conditions<'a> {
    fn of(headers: &'a HeaderMap, get: bool) -> Self {
        let value = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        Self {
            if_match: value(header::IF_MATCH),
            if_unmodified_since: value(header::IF_UNMODIFIED_SINCE),
            if_none_match: value(header::IF_NONE_MATCH),
            if_modified_since: value(header::IF_MODIFIED_SINCE),
            range: value(header::RANGE),
            if_range: value(header::IF_RANGE),
            get,
        }
    }
}

/// The answer to a request for a media file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaAnswer {
    /// 412: `If-Match` or `If-Unmodified-Since` does not hold.
    PreconditionFailed,
    /// 304.
    NotModified,
    /// 200 with the whole file, or 206 with part of it, or 416.
    Ranged(Ranged),
}

/// Decides the answer in RFC 9110 §13.2.2's order: `If-Match`, else
/// `If-Unmodified-Since` (412 when it fails); `If-None-Match`, else `If-Modified-Since`
/// (304, as for the documents); then, for a GET only (§14.2: no other method defines
/// ranges, so a HEAD answers what a GET without `Range` would), `If-Range` decides
/// whether the `Range` is honoured (§13.1.5), and the range decides the rest.
fn choose(request: &Conditions<'_>, version: &Version, now: DateTime<Utc>) -> MediaAnswer {
    let (etag, modified) = (version.etag.as_str(), version.last_modified);
    if !preconditions_hold(
        request.if_match,
        request.if_unmodified_since,
        etag,
        modified,
    ) {
        return MediaAnswer::PreconditionFailed;
    }
    let validators = Validators {
        if_none_match: request.if_none_match,
        if_modified_since: request.if_modified_since,
        a_im: None,
    };
    if decide(validators, etag, modified, &[]) == Answer::NotModified {
        return MediaAnswer::NotModified;
    }
    let range = request.range.filter(|_| request.get).filter(|_| {
        request
            .if_range
            .is_none_or(|validator| if_range_holds(validator, etag, modified, now))
    });
    MediaAnswer::Ranged(ranged(range, version.length))
}

/// Builds the response. Every answer but a 412 and a 416 carries the validators and
/// `Cache-Control` (a 304 and a 206 repeat what the 200 would have, RFC 9110 §15.4.5,
/// §15.3.7), and `Accept-Ranges`. The URL is not content-hashed (the file may change
/// under it), so caches keep the file as long as the documents and then revalidate.
/// `transfer` is `None` for a HEAD.
fn respond(
    served: Served,
    answer: MediaAnswer,
    transfer: Option<Transfer>,
    cache_control: &HeaderValue,
) -> Response {
    let Served {
        file,
        media_type,
        version,
    } = served;
    let (status, part) = match answer {
        MediaAnswer::PreconditionFailed => return precondition_failed(),
        MediaAnswer::Ranged(Ranged::Unsatisfiable) => return unsatisfiable(version.length),
        MediaAnswer::NotModified => (StatusCode::NOT_MODIFIED, None),
        MediaAnswer::Ranged(Ranged::Whole) => (StatusCode::OK, Some((0, version.length))),
        MediaAnswer::Ranged(Ranged::Part { first, last }) => {
            (StatusCode::PARTIAL_CONTENT, Some((first, last - first + 1)))
        }
    };
    let body = match (part, transfer) {
        (Some((start, length)), Some(transfer)) if length > 0 => {
            body(file, start, length, transfer)
        }
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    insert_text(headers, header::ETAG, version.etag);
    let date = httpdate::fmt_http_date(version.last_modified.into());
    insert_text(headers, header::LAST_MODIFIED, date);
    headers.insert(header::CACHE_CONTROL, cache_control.clone());
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some((_, length)) = part {
        super::response::content_headers(headers, media_type, length, Coding::Identity);
        if media_type == "image/svg+xml" {
            // An SVG opened on its own is a document of this origin that could run
            // scripts: the policy lets it draw itself, and nothing more.
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(SVG_POLICY),
            );
        }
    }
    if let MediaAnswer::Ranged(Ranged::Part { first, last }) = answer {
        let range = content_range(first, last, version.length);
        insert_text(headers, header::CONTENT_RANGE, range);
    }
    response
}

/// What an SVG served on its own may do: draw itself, with its own styles.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// The body of `length` bytes of `file` from byte `start`.
fn body(file: Arc<File>, start: u64, length: u64, transfer: Transfer) -> Body {
    match transfer {
        #[cfg(target_os = "linux")]
        Transfer::Sendfile(segments) => Body::new(super::sendfile::SendfileBody::new(
            segments, file, start, length,
        )),
        Transfer::Read => Body::new(FileBody::new(file, start, length)),
    }
}

fn insert_text(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

fn precondition_failed() -> Response {
    (StatusCode::PRECONDITION_FAILED, "precondition failed\n").into_response()
}

/// 416, with the length the client may ask within (RFC 9110 §15.5.17).
fn unsatisfiable(length: u64) -> Response {
    let mut response = (
        StatusCode::RANGE_NOT_SATISFIABLE,
        "the range is outside the file\n",
    )
        .into_response();
    let headers = response.headers_mut();
    insert_text(headers, header::CONTENT_RANGE, unsatisfied_range(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

/// `OPTIONS` on a media file (RFC 9110 §9.3.7): the methods.
fn options() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_by_extension() {
        for (path, expected) in [
            ("a.jpg", Some("image/jpeg")),
            ("x/y/a.JPEG", Some("image/jpeg")),
            ("a.png", Some("image/png")),
            ("a.webp", Some("image/webp")),
            ("a.avif", Some("image/avif")),
            ("a.gif", Some("image/gif")),
            ("a.svg", Some("image/svg+xml")),
            ("a.mp3", Some("audio/mpeg")),
            ("a.m4a", Some("audio/mp4")),
            ("a.ogg", Some("audio/ogg")),
            ("a.opus", Some("audio/ogg")),
            ("a.mp4", Some("video/mp4")),
            ("a.webm", Some("video/webm")),
            ("post.md", None),
            ("post.txt", None),
            ("page.html", None),
            ("jpg", None),
            ("a.jpg.part", None),
        ] {
            assert_eq!(media_type(path), expected, "{path}");
        }
    }

    #[test]
    fn request_paths_are_plain_relative_names() {
        for (path, expected) in [
            ("/media/a.jpg", Some("a.jpg")),
            ("/media/2026/05/a.mp3", Some("2026/05/a.mp3")),
            ("/media/with%20space.png", Some("with space.png")),
            ("/media/%C3%A9t%C3%A9.webm", Some("été.webm")),
            ("/media/..%2Fsecret.jpg", None),
            ("/media/../secret.jpg", None),
            ("/media/a/../b.jpg", None),
            ("/media/%2E%2E/b.jpg", None),
            ("/media/./b.jpg", None),
            ("/media//etc/b.jpg", None),
            ("/media/%2Fetc/b.jpg", None),
            ("/media/a//b.jpg", None),
            ("/media/a.jpg%00.txt", None),
            ("/media/a%00.jpg", None),
            ("/media/%ff.jpg", None),
            ("/media/", None),
            ("/media/post.md", None),
            ("/media/sub/", None),
            ("/entries/a.jpg", None),
        ] {
            let found = requested(path);
            assert_eq!(found.as_ref().map(|(r, _)| r.as_str()), expected, "{path}");
        }
    }

    #[test]
    fn conditions_are_decided_in_the_order_of_rfc_9110() {
        let modified = DateTime::from_timestamp(1_000_000_000, 0).unwrap();
        let now = modified + chrono::TimeDelta::days(1);
        let version = Version {
            etag: "\"v1\"".into(),
            last_modified: modified,
            length: 1000,
        };
        let date = httpdate::fmt_http_date(modified.into());
        let earlier = httpdate::fmt_http_date((modified - chrono::TimeDelta::seconds(1)).into());
        fn get(range: Option<&str>) -> Conditions<'_> {
            Conditions {
                range,
                get: true,
                ..Conditions::default()
            }
        }
        let part = |first, last| MediaAnswer::Ranged(Ranged::Part { first, last });
        let whole = MediaAnswer::Ranged(Ranged::Whole);
        for (what, conditions, expected) in [
            ("nothing", get(None), whole),
            ("a range", get(Some("bytes=0-0")), part(0, 0)),
            (
                "a range past the end",
                get(Some("bytes=1000-")),
                MediaAnswer::Ranged(Ranged::Unsatisfiable),
            ),
            (
                "a range on HEAD",
                Conditions {
                    get: false,
                    ..get(Some("bytes=0-0"))
                },
                whole,
            ),
            (
                "If-Match another version",
                Conditions {
                    if_match: Some("\"v0\""),
                    if_none_match: Some("\"v1\""),
                    ..get(Some("bytes=0-0"))
                },
                MediaAnswer::PreconditionFailed,
            ),
            (
                "If-Unmodified-Since before the change",
                Conditions {
                    if_unmodified_since: Some(&earlier),
                    ..get(None)
                },
                MediaAnswer::PreconditionFailed,
            ),
            (
                "If-None-Match before Range",
                Conditions {
                    if_match: Some("\"v1\""),
                    if_none_match: Some("\"v1\""),
                    ..get(Some("bytes=0-0"))
                },
                MediaAnswer::NotModified,
            ),
            (
                "If-Modified-Since before Range",
                Conditions {
                    if_modified_since: Some(&date),
                    ..get(Some("bytes=0-0"))
                },
                MediaAnswer::NotModified,
            ),
            (
                "If-Range with the current tag",
                Conditions {
                    if_range: Some("\"v1\""),
                    ..get(Some("bytes=10-19"))
                },
                part(10, 19),
            ),
            (
                "If-Range with the date",
                Conditions {
                    if_range: Some(&date),
                    ..get(Some("bytes=10-19"))
                },
                part(10, 19),
            ),
            (
                "If-Range with a stale tag",
                Conditions {
                    if_range: Some("\"v0\""),
                    ..get(Some("bytes=10-19"))
                },
                whole,
            ),
            (
                "If-Range with a stale date",
                Conditions {
                    if_range: Some(&earlier),
                    ..get(Some("bytes=10-19"))
                },
                whole,
            ),
            (
                "If-Range with a stale tag, past the end",
                Conditions {
                    if_range: Some("\"v0\""),
                    ..get(Some("bytes=5000-"))
                },
                whole,
            ),
            (
                "If-Range without Range",
                Conditions {
                    if_range: Some("\"v1\""),
                    ..get(None)
                },
                whole,
            ),
        ] {
            assert_eq!(choose(&conditions, &version, now), expected, "{what}");
        }
    }

    #[test]
    fn the_etag_follows_every_part_of_the_version() {
        let base = etag_of(7, 100, 1_000_000_001, 1_000_000_001);
        assert!(base.starts_with('"') && base.ends_with('"') && !base.contains('-'));
        assert_eq!(base, etag_of(7, 100, 1_000_000_001, 1_000_000_001));
        for other in [
            etag_of(8, 100, 1_000_000_001, 1_000_000_001),
            etag_of(7, 101, 1_000_000_001, 1_000_000_001),
            etag_of(7, 100, 1_000_000_002, 1_000_000_001),
            etag_of(7, 100, 1_000_000_001, 1_000_000_002),
        ] {
            assert_ne!(base, other);
        }
    }
}
