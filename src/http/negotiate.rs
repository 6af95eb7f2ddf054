//! Proactive content negotiation (RFC 9110 §12.5): which representation of a document a
//! client gets: a feed or its HTML view (`Accept`), and the content coding
//! (`Accept-Encoding`).

/// The feed types a reader may name: a reader that prefers any of them to `text/html`
/// gets the feed.
const FEED_TYPES: [&str; 4] = [
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json",
];

/// Whether the client is a browser asking for a page: `text/html` is acceptable and
/// preferred to every feed type. Browsers list `text/html` first and reach feed types
/// only through `*/*` with a lower quality; feed readers name the feed types or send
/// `*/*` alone; validators send no `Accept` at all. Everything but a browser gets the
/// feed, byte for byte.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let html = quality(accept, "text/html");
    let feed = FEED_TYPES
        .iter()
        .map(|feed_type| quality(accept, feed_type))
        .fold(0.0, f32::max);
    html > 0.0 && html > feed
}

/// The quality the `Accept` header gives `media_type` (lower case): that of the most
/// specific range that matches it (`type/subtype` over `type/*` over `*/*`), 0 when none
/// does. Without allocating: every request of a feed asks.
fn quality(accept: &str, media_type: &str) -> f32 {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let specificity = if name.eq_ignore_ascii_case(media_type) {
            3
        } else if name
            .strip_suffix("/*")
            .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        {
            2
        } else if name == "*/*" {
            1
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// A content coding we keep a variant in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value, and the suffix of the variant's entity-tag.
    pub fn token(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Brotli => "br",
        }
    }
}

/// Picks the coding to send (RFC 9110 §12.5.3). No `Accept-Encoding` means identity.
/// Otherwise each coding we hold gets the quality of its own entry, else of `*`, else 0
/// (identity: else 1, "always acceptable" unless refused). The highest quality wins, ties
/// going to brotli, then gzip, then identity (smallest first). `None`: nothing we hold is
/// acceptable (identity refused with `identity;q=0` or `*;q=0`), which is a 406.
pub fn choose_coding(accept_encoding: Option<&str>, gzip: bool, brotli: bool) -> Option<Coding> {
    let Some(header) = accept_encoding else {
        return Some(Coding::Identity);
    };
    let (mut own, mut star): ([Option<f32>; 3], Option<f32>) = ([None; 3], None);
    for item in header.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        match name.as_str() {
            "br" => own[2] = Some(q),
            "gzip" | "x-gzip" => own[1] = Some(q),
            "identity" => own[0] = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let quality = |i: usize, held: bool, default: f32| {
        if held {
            own[i].or(star).unwrap_or(default)
        } else {
            0.0
        }
    };
    let candidates = [
        (Coding::Brotli, quality(2, brotli, 0.0)),
        (Coding::Gzip, quality(1, gzip, 0.0)),
        (Coding::Identity, quality(0, true, 1.0)),
    ];
    candidates
        .into_iter()
        .filter(|(_, q)| *q > 0.0)
        .fold(
            None,
            |best: Option<(Coding, f32)>, (coding, q)| match best {
                Some((_, best_q)) if best_q >= q => best,
                _ => Some((coding, q)),
            },
        )
        .map(|(coding, _)| coding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codings_by_quality_then_size() {
        use Coding::*;
        let pick = |h: Option<&str>| choose_coding(h, true, true);
        assert_eq!(pick(None), Some(Identity));
        assert_eq!(pick(Some("gzip, deflate, br")), Some(Brotli));
        assert_eq!(pick(Some("gzip")), Some(Gzip));
        assert_eq!(pick(Some("gzip;q=1, br;q=0.5")), Some(Gzip));
        assert_eq!(pick(Some("br;q=0, gzip;q=0")), Some(Identity));
        assert_eq!(pick(Some("*")), Some(Brotli));
        assert_eq!(pick(Some("identity")), Some(Identity));
        assert_eq!(pick(Some("")), Some(Identity));
        assert_eq!(pick(Some("identity;q=0, *;q=0")), None);
        assert_eq!(pick(Some("*;q=0")), None);
        assert_eq!(pick(Some("deflate")), Some(Identity));
        // Only what we hold: a document too small to compress is sent as it is.
        assert_eq!(
            choose_coding(Some("gzip, br"), false, false),
            Some(Identity)
        );
        assert_eq!(choose_coding(Some("br"), true, false), Some(Identity));
        assert_eq!(
            choose_coding(Some("gzip;q=0.5, identity;q=0"), true, false),
            Some(Gzip)
        );
    }

    #[test]
    fn browsers_get_the_page_and_readers_the_feed() {
        let chromium =
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers_html(Some(chromium)));
        assert!(prefers_html(Some(firefox)));
        let feedparser = "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1";
        let reader = "application/rss+xml, application/atom+xml, text/html;q=0.8";
        let json_reader = "application/feed+json, application/json;q=0.9, text/html;q=0.5";
        for accept in [
            Some(feedparser),
            Some(reader),
            Some(json_reader),
            Some("*/*"),
            Some("text/html;q=0"),
            None,
        ] {
            assert!(!prefers_html(accept), "{accept:?}");
        }
    }

    #[test]
    fn the_most_specific_range_decides() {
        assert_eq!(
            quality("text/*;q=0.3, text/html;q=0.7, */*;q=0.1", "text/html"),
            0.7
        );
        assert_eq!(quality("text/*;q=0.3, */*;q=0.1", "text/html"), 0.3);
        assert_eq!(quality("image/png", "text/html"), 0.0);
        assert_eq!(quality("Text/HTML;q=0.5, TEXT/*;q=0.2", "text/html"), 0.5);
        assert_eq!(quality("TEXT/*;q=0.2", "text/html"), 0.2);
    }
}
