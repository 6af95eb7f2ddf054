//! Proactive content negotiation (RFC 9110 §12.5.1): which representation of an XML feed
//! a client gets.

/// Whether the client is a browser asking for a page: `text/html` is acceptable and
/// preferred to both feed types. Browsers list `text/html` first and reach feed types
/// only through `*/*` with a lower quality; feed readers name the feed types or send
/// `*/*` alone; validators send no `Accept` at all.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let html = quality(accept, "text/html");
    let feed = quality(accept, "application/atom+xml").max(quality(accept, "application/rss+xml"));
    html > 0.0 && html > feed
}

/// The quality the `Accept` header gives `media_type`: that of the most specific range
/// that matches it (`type/subtype` over `type/*` over `*/*`), 0 when none does.
fn quality(accept: &str, media_type: &str) -> f32 {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        let specificity = if name == media_type {
            3
        } else if name == format!("{kind}/*") {
            2
        } else if name == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_the_page_and_readers_the_feed() {
        let chromium =
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers_html(Some(chromium)));
        assert!(prefers_html(Some(firefox)));
        let feedparser = "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1";
        let reader = "application/rss+xml, application/atom+xml, text/html;q=0.8";
        for accept in [
            Some(feedparser),
            Some(reader),
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
    }
}
