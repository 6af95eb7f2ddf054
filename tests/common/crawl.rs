//! Every document a daemon serves that someone can reach, found as a crawler finds them:
//! from the index, the OPML list and the main feeds, every address of the site that a
//! page, a feed or a list names is fetched once. Bounded: a site that links without end
//! fails the test.

use std::collections::{BTreeSet, VecDeque};

use super::daemon::{TestDaemon, header};

/// One document as served.
pub struct Served {
    pub path: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Served {
    /// Whether it is a feed (RSS, Atom or JSON Feed), which browsers are sent a page for.
    pub fn is_feed(&self) -> bool {
        [
            "application/rss+xml",
            "application/atom+xml",
            "application/feed+json",
        ]
        .iter()
        .any(|t| self.content_type.starts_with(t))
    }
}

/// Where a crawl starts: what a visitor, a reader and an aggregator first ask for.
const STARTS: [&str; 5] = ["/", "/feeds.opml", "/feed.atom", "/feed.rss", "/feed.json"];

/// Fetches every document of the site reachable from [`STARTS`], at most `most`.
pub async fn crawl(daemon: &TestDaemon, most: usize) -> Vec<Served> {
    let origin = daemon.base.trim_end_matches('/').to_owned();
    let mut seen: BTreeSet<String> = STARTS.iter().map(|p| (*p).to_owned()).collect();
    let mut queue: VecDeque<String> = seen.iter().cloned().collect();
    let mut served = Vec::new();
    while let Some(path) = queue.pop_front() {
        assert!(served.len() < most, "more than {most} documents: {seen:?}");
        let response = daemon.get(&path).await;
        let status = response.status().as_u16();
        let content_type = header(&response, "content-type");
        let body = response.text().await.unwrap();
        if status == 200 {
            for link in site_paths(&body, &origin) {
                if seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
        served.push(Served {
            path,
            status,
            content_type,
            body,
        });
    }
    served
}

/// The paths of every address of the site written out in `body` (in an attribute, a
/// text or a JSON string), without query or fragment.
fn site_paths(body: &str, origin: &str) -> Vec<String> {
    body.match_indices(origin)
        .filter_map(|(at, _)| {
            let rest = &body[at + origin.len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "\"'<>&#?)\\".contains(c))
                .unwrap_or(rest.len());
            let path = &rest[..end];
            path.starts_with('/').then(|| path.to_owned())
        })
        .collect()
}
