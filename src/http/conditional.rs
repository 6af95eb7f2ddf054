//! Conditional requests (RFC 9110 §13) and feed deltas (RFC 3229): what to answer, as a
//! pure decision from the request's validators and the document's. The documents use
//! [`decide`]; media files add the preconditions of a resumed download
//! ([`preconditions_hold`], [`if_range_holds`]).

use std::time::SystemTime;

use chrono::{DateTime, Utc};

/// The answer to a GET or HEAD of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with the whole document.
    Full,
    /// 304: the client's copy is current.
    NotModified,
    /// 226 IM Used: the delta against the document's `n`th earlier version.
    Delta(usize),
}

/// The request headers that matter, as sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct Validators<'a> {
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub a_im: Option<&'a str>,
}

/// Decides the answer, in RFC 9110 §13.2.2's order:
///
/// 1. `If-None-Match`, when present, decides alone (§13.1.2): `*`, or any listed tag
///    equal to the current ETag under weak comparison (§8.8.3.2), is 304. Otherwise, if
///    the client accepts the `feed` instance manipulation (`A-IM: feed`, RFC 3229 §10.5.3)
///    and a listed tag names an earlier version we still hold, the answer is that delta.
/// 2. Only without `If-None-Match`: `If-Modified-Since` (§13.1.3) is 304 when the
///    document has not changed since that date (at one-second resolution, that of the
///    header). An unparsable date is ignored, as the RFC says.
/// 3. Otherwise the whole document.
pub fn decide(
    request: Validators<'_>,
    etag: &str,
    last_modified: DateTime<Utc>,
    delta_bases: &[&str],
) -> Answer {
    if let Some(header) = request.if_none_match {
        let header = header.trim();
        if header == "*" {
            return Answer::NotModified;
        }
        if entity_tags(header).any(|tag| weak_eq(tag, etag)) {
            return Answer::NotModified;
        }
        if request.a_im.is_some_and(accepts_feed_im) {
            for tag in entity_tags(header) {
                if let Some(n) = delta_bases.iter().position(|base| weak_eq(tag, base)) {
                    return Answer::Delta(n);
                }
            }
        }
        return Answer::Full;
    }
    if let Some(since) = request.if_modified_since.and_then(parse_http_date)
        && last_modified.timestamp() <= since.timestamp()
    {
        return Answer::NotModified;
    }
    Answer::Full
}

/// Whether the preconditions of RFC 9110 §13.2.2 steps 1 and 2 hold (false: 412):
///
/// 1. `If-Match`, when present, decides alone (§13.1.1): `*` holds (the representation
///    exists), a list holds when a tag in it equals the current ETag under strong
///    comparison (§8.8.3.2).
/// 2. Only without `If-Match`: `If-Unmodified-Since` (§13.1.4) holds unless the
///    representation changed after that date (at one-second resolution, that of the
///    header); an unparsable date is ignored.
pub fn preconditions_hold(
    if_match: Option<&str>,
    if_unmodified_since: Option<&str>,
    etag: &str,
    last_modified: DateTime<Utc>,
) -> bool {
    if let Some(header) = if_match {
        let header = header.trim();
        return header == "*" || entity_tags(header).any(|tag| strong_eq(tag, etag));
    }
    match if_unmodified_since.and_then(parse_http_date) {
        Some(since) => last_modified.timestamp() <= since.timestamp(),
        None => true,
    }
}

/// Whether an `If-Range` precondition holds, so that the `Range` beside it is honoured
/// (RFC 9110 §13.1.5); when it does not, the whole representation is sent.
///
/// - An entity-tag holds when it equals the current ETag under strong comparison: a
///   weak tag never does.
/// - An HTTP-date holds when it is exactly the `Last-Modified` date (not "earlier or
///   equal", as for `If-Unmodified-Since`) and that date is a strong validator
///   (§8.8.2.2). The client must send a date only when it judged it strong; the server
///   adds what it knows: a file modified less than a second before `now` may still
///   change within the same second, under the same date, so its date is weak.
/// - Anything else (no quotes, no date) does not hold.
pub fn if_range_holds(
    header: &str,
    etag: &str,
    last_modified: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let header = header.trim();
    if header.starts_with('"') || header.starts_with("W/") {
        return strong_eq(header, etag);
    }
    parse_http_date(header).is_some_and(|date| {
        date.timestamp() == last_modified.timestamp()
            && now - last_modified >= chrono::TimeDelta::seconds(1)
    })
}

/// Strong comparison (RFC 9110 §8.8.3.2): neither tag is weak, and they are the same
/// characters.
fn strong_eq(a: &str, b: &str) -> bool {
    !a.starts_with("W/") && !b.starts_with("W/") && a == b
}

/// The entity-tags of an `If-None-Match` list (RFC 9110 §8.8.3): `"a", W/"b"`. Commas
/// inside a quoted tag do not split it. Read as they are needed, into no list: every
/// revalidation of a document goes through here.
fn entity_tags(header: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    header
        .split(move |c| {
            if c == '"' {
                quoted = !quoted;
            }
            c == ',' && !quoted
        })
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
}

/// Weak comparison (RFC 9110 §8.8.3.2) of one version: the opaque tags are equal, `W/`
/// aside, and so is the coding suffix (`"v-br"`, `"v-gzip"` are the brotli and gzip
/// representations of version `"v"`): a client holding any coding of the current
/// version holds the current version. (A feed's HTML view is another version, with its
/// own tag: the hash of its own bytes.)
fn weak_eq(a: &str, b: &str) -> bool {
    version_of(a) == version_of(b)
}

/// The version part of an entity-tag: `W/"abc-gz"` → `abc`.
fn version_of(tag: &str) -> &str {
    let opaque = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
    opaque.split('-').next().unwrap_or(opaque)
}

/// Whether an `A-IM` list (RFC 3229 §10.5.3) names `feed` with a non-zero quality.
fn accepts_feed_im(header: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        name.eq_ignore_ascii_case("feed") && !refused
    })
}

/// An HTTP-date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept.
fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    let time: SystemTime = httpdate::parse_http_date(text.trim()).ok()?;
    Some(DateTime::<Utc>::from(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETAG: &str = "\"current\"";
    const OLD: &str = "\"old\"";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn decide_with(inm: Option<&str>, ims: Option<&str>, a_im: Option<&str>) -> Answer {
        let request = Validators {
            if_none_match: inm,
            if_modified_since: ims,
            a_im,
        };
        decide(request, ETAG, at(784111777), &[OLD])
    }

    #[test]
    fn if_none_match_lists_star_and_weak_tags() {
        assert_eq!(
            decide_with(Some("\"current\""), None, None),
            Answer::NotModified
        );
        assert_eq!(
            decide_with(Some("\"x\", W/\"current\""), None, None),
            Answer::NotModified
        );
        assert_eq!(decide_with(Some("*"), None, None), Answer::NotModified);
        assert_eq!(decide_with(Some("\"x\",\"y\""), None, None), Answer::Full);
        assert_eq!(
            decide_with(Some("\"a,b\", \"current\""), None, None),
            Answer::NotModified
        );
    }

    #[test]
    fn entity_tag_lists_split_outside_quotes() {
        let tags: Vec<&str> = entity_tags(" \"a,b\" , W/\"c\",, \"d\"").collect();
        assert_eq!(tags, ["\"a,b\"", "W/\"c\"", "\"d\""]);
        assert_eq!(entity_tags(" , ").count(), 0);
    }

    #[test]
    fn if_none_match_takes_precedence_over_if_modified_since() {
        let later = "Sun, 06 Nov 2044 08:49:37 GMT";
        assert_eq!(decide_with(Some("\"x\""), Some(later), None), Answer::Full);
        assert_eq!(decide_with(None, Some(later), None), Answer::NotModified);
    }

    #[test]
    fn if_modified_since_in_every_date_form() {
        for same in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                decide_with(None, Some(same), None),
                Answer::NotModified,
                "{same}"
            );
        }
        assert_eq!(
            decide_with(None, Some("Sun, 06 Nov 1994 08:49:36 GMT"), None),
            Answer::Full
        );
        assert_eq!(decide_with(None, Some("yesterday"), None), Answer::Full);
    }

    #[test]
    fn any_representation_of_the_version_matches() {
        assert_eq!(
            decide_with(Some("\"current-br\""), None, None),
            Answer::NotModified
        );
        assert_eq!(
            decide_with(Some("W/\"current-gzip\""), None, None),
            Answer::NotModified
        );
        assert_eq!(
            decide_with(Some("\"currentish\""), None, None),
            Answer::Full
        );
        assert_eq!(
            decide_with(Some("\"old-gzip\""), None, Some("feed")),
            Answer::Delta(0)
        );
    }

    #[test]
    fn if_match_and_if_unmodified_since() {
        let holds =
            |im: Option<&str>, ius: Option<&str>| preconditions_hold(im, ius, ETAG, at(784111777));
        assert!(holds(None, None));
        assert!(holds(Some("*"), None));
        assert!(holds(Some("\"x\", \"current\""), None));
        // Strong comparison: a weak tag, or another coding's, is not the same bytes.
        assert!(!holds(Some("W/\"current\""), None));
        assert!(!holds(Some("\"current-gzip\""), None));
        assert!(!holds(Some("\"old\""), None));
        let same = "Sun, 06 Nov 1994 08:49:37 GMT";
        let before = "Sun, 06 Nov 1994 08:49:36 GMT";
        assert!(holds(None, Some(same)));
        assert!(!holds(None, Some(before)));
        assert!(
            holds(None, Some("yesterday")),
            "an unparsable date is ignored"
        );
        // If-Match decides alone.
        assert!(holds(Some(ETAG), Some(before)));
        assert!(!holds(Some(OLD), Some(same)));
    }

    #[test]
    fn if_range_compares_strongly_and_dates_exactly() {
        let modified = at(784111777);
        let later = at(784111777 + 60);
        let holds = |header: &str| if_range_holds(header, ETAG, modified, later);
        assert!(holds(ETAG));
        assert!(holds(" \"current\" "));
        assert!(!holds("W/\"current\""));
        assert!(!holds(OLD));
        assert!(!holds("\"current-gzip\""));
        assert!(holds("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(holds("Sunday, 06-Nov-94 08:49:37 GMT"));
        // Exact match only: an earlier or a later date is another version.
        assert!(!holds("Sun, 06 Nov 1994 08:49:36 GMT"));
        assert!(!holds("Sun, 06 Nov 1994 08:49:38 GMT"));
        assert!(!holds("yesterday"));
        assert!(!holds(""));
        // Modified within the last second: the date is weak.
        let now = modified + chrono::TimeDelta::milliseconds(500);
        assert!(!if_range_holds(
            "Sun, 06 Nov 1994 08:49:37 GMT",
            ETAG,
            modified,
            now
        ));
        assert!(if_range_holds(ETAG, ETAG, modified, now));
    }

    #[test]
    fn deltas_need_a_im_feed_and_a_known_base() {
        assert_eq!(decide_with(Some(OLD), None, Some("feed")), Answer::Delta(0));
        assert_eq!(
            decide_with(Some(OLD), None, Some("vcdiff, feed;q=0.5")),
            Answer::Delta(0)
        );
        assert_eq!(decide_with(Some(OLD), None, Some("feed;q=0")), Answer::Full);
        assert_eq!(decide_with(Some(OLD), None, None), Answer::Full);
        assert_eq!(
            decide_with(Some("\"unknown\""), None, Some("feed")),
            Answer::Full
        );
        // A client that holds the current version needs nothing.
        assert_eq!(
            decide_with(Some("\"old\", \"current\""), None, Some("feed")),
            Answer::NotModified
        );
    }
}
