//! Request counters for `/metrics` (served by the admin listener): fixed label sets over
//! plain atomics, so counting is a few relaxed additions on the request path, never a
//! lock or an allocation. Requests of both listeners are counted by route; the
//! connection counters are the public listener's, which `max_connections` caps.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::negotiate::Coding;

/// The kinds of path, as the `route` label. `Status` and `Metrics` are answered on the
/// admin listener, and counted (as 404s) when asked of the public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Feed,
    Section,
    Archive,
    Entry,
    Index,
    Opml,
    Stylesheet,
    Health,
    Status,
    Metrics,
    Hub,
    Media,
    /// The fediverse's own paths (`[activitypub]`).
    Fediverse,
    Other,
}

impl Route {
    const ALL: [Route; 14] = [
        Route::Feed,
        Route::Section,
        Route::Archive,
        Route::Entry,
        Route::Index,
        Route::Opml,
        Route::Stylesheet,
        Route::Health,
        Route::Status,
        Route::Metrics,
        Route::Hub,
        Route::Media,
        Route::Fediverse,
        Route::Other,
    ];

    pub fn of(path: &str) -> Self {
        match path {
            "/" => Self::Index,
            "/feed.rss" | "/feed.atom" | "/feed.json" => Self::Feed,
            "/feeds.opml" => Self::Opml,
            "/feed.xsl" => Self::Stylesheet,
            p if p.starts_with("/page/") => Self::Index,
            "/healthz" => Self::Health,
            "/status" => Self::Status,
            "/metrics" => Self::Metrics,
            crate::websub::HUB_PATH => Self::Hub,
            p if crate::activitypub::is_fediverse_path(p) => Self::Fediverse,
            p if p.starts_with("/categories/") => Self::Section,
            p if p.starts_with("/archive/") => Self::Archive,
            p if p.starts_with("/entries/") => Self::Entry,
            p if p.starts_with(super::MEDIA_PREFIX) => Self::Media,
            _ => Self::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Feed => "feed",
            Self::Section => "section",
            Self::Archive => "archive",
            Self::Entry => "entry",
            Self::Index => "index",
            Self::Opml => "opml",
            Self::Stylesheet => "stylesheet",
            Self::Health => "healthz",
            Self::Status => "status",
            Self::Metrics => "metrics",
            Self::Hub => "hub",
            Self::Media => "media",
            Self::Fediverse => "activitypub",
            Self::Other => "other",
        }
    }
}

/// The statuses the server answers with; anything else counts as "other".
const STATUSES: [u16; 21] = [
    200, 202, 204, 206, 226, 304, 400, 403, 404, 405, 406, 408, 412, 413, 414, 415, 416, 429, 431,
    500, 503,
];
const OTHER_STATUS: usize = STATUSES.len();

#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; STATUSES.len() + 1]; Route::ALL.len()],
    /// Body bytes sent, by content coding: identity, gzip, brotli.
    bytes: [AtomicU64; 3],
    pub connections_open: AtomicI64,
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub connections_evicted: AtomicU64,
}

impl Metrics {
    pub fn record(&self, route: Route, status: u16, coding: Coding, body_bytes: u64) {
        let status = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(OTHER_STATUS);
        self.requests[route as usize][status].fetch_add(1, Ordering::Relaxed);
        self.bytes[coding as usize].fetch_add(body_bytes, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of the request and connection metrics.
    pub fn write_prometheus(&self, out: &mut Exposition) {
        let requests = "seedfeed_http_requests_total";
        out.family(
            requests,
            "counter",
            "HTTP requests answered, by route and status.",
        );
        let (mut all, mut not_modified) = (0u64, 0u64);
        for route in Route::ALL {
            for (i, counter) in self.requests[route as usize].iter().enumerate() {
                let n = counter.load(Ordering::Relaxed);
                all += n;
                if n == 0 {
                    continue;
                }
                let status = STATUSES.get(i).map_or("other".to_owned(), u16::to_string);
                if status == "304" {
                    not_modified += n;
                }
                let labels = format!("route=\"{}\",status=\"{status}\"", route.label());
                out.sample(requests, &labels, n);
            }
        }
        let ratio = if all == 0 {
            0.0
        } else {
            not_modified as f64 / all as f64
        };
        out.single(
            "seedfeed_http_not_modified_ratio",
            "gauge",
            "Share of requests answered 304 since start.",
            ratio,
        );
        let bytes = "seedfeed_http_response_bytes_total";
        out.family(bytes, "counter", "Body bytes sent, by content coding.");
        for coding in [Coding::Identity, Coding::Gzip, Coding::Brotli] {
            let labels = format!("encoding=\"{}\"", coding.token());
            out.sample(
                bytes,
                &labels,
                self.bytes[coding as usize].load(Ordering::Relaxed),
            );
        }
        let open = self.connections_open.load(Ordering::Relaxed).max(0);
        out.single(
            "seedfeed_http_connections_open",
            "gauge",
            "Connections open now on the public listener.",
            open,
        );
        out.single(
            "seedfeed_http_connections_total",
            "counter",
            "Connections accepted by the public listener since start.",
            self.connections_total.load(Ordering::Relaxed),
        );
        out.single(
            "seedfeed_http_connections_refused_total",
            "counter",
            "Connections refused over the connection cap.",
            self.connections_refused.load(Ordering::Relaxed),
        );
        out.single(
            "seedfeed_http_connections_evicted_total",
            "counter",
            "Connections closed at the connection cap to make room for a new one (a slow \
             head, an idle kept-alive connection, or an answer stalled on its reader).",
            self.connections_evicted.load(Ordering::Relaxed),
        );
    }
}

/// The Prometheus text exposition format (version 0.0.4), written into a string.
#[derive(Debug, Default)]
pub struct Exposition(String);

impl Exposition {
    /// The `# HELP` and `# TYPE` lines of a metric family.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample: `labels` is the text between the braces, or empty for none.
    pub fn sample(&mut self, name: &str, labels: &str, value: impl std::fmt::Display) {
        let _ = if labels.is_empty() {
            writeln!(self.0, "{name} {value}")
        } else {
            writeln!(self.0, "{name}{{{labels}}} {value}")
        };
    }

    /// A family of one sample without labels.
    pub fn single(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, kind, help);
        self.sample(name, "", value);
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_status_and_coding() {
        let metrics = Metrics::default();
        metrics.record(Route::of("/feed.atom"), 200, Coding::Brotli, 100);
        metrics.record(Route::of("/feed.atom"), 304, Coding::Identity, 0);
        metrics.record(Route::of("/entries/a"), 404, Coding::Identity, 10);
        metrics.record(Route::of("/x"), 599, Coding::Identity, 0);
        metrics.record(Route::of("/media/a.mp3"), 206, Coding::Identity, 10);
        let mut out = Exposition::default();
        metrics.write_prometheus(&mut out);
        let text = out.into_string();
        for line in [
            "seedfeed_http_requests_total{route=\"feed\",status=\"200\"} 1",
            "seedfeed_http_requests_total{route=\"feed\",status=\"304\"} 1",
            "seedfeed_http_requests_total{route=\"entry\",status=\"404\"} 1",
            "seedfeed_http_requests_total{route=\"other\",status=\"other\"} 1",
            "seedfeed_http_requests_total{route=\"media\",status=\"206\"} 1",
            "seedfeed_http_not_modified_ratio 0.2",
            "seedfeed_http_response_bytes_total{encoding=\"br\"} 100",
            "seedfeed_http_response_bytes_total{encoding=\"identity\"} 20",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
    }
}
