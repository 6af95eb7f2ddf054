//! The checks of what the daemon serves after the drop: every feed it links to, in
//! every content coding, with each entry once and as its file says; every entry link;
//! and the other documents.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Read;

use seedfeed::normalize::escape_html;

use crate::Problems;
use crate::common::daemon::{TestDaemon, header};
use crate::common::feeds::opml_urls;
use crate::corpus::Expected;
use crate::reading::{Feed, Format};

/// Every feed the daemon links to, from the main ones and the OPML list on (sections,
/// RFC 5005 pages): each well-formed, in every content coding, each entry in it once
/// and as its file says. Returns every entry link, with the formats it was found in.
pub async fn check_feeds(
    daemon: &TestDaemon,
    client: &reqwest::Client,
    expected: &[Expected],
    problems: &mut Problems,
) -> BTreeMap<String, BTreeSet<Format>> {
    let by_id: BTreeMap<String, &Expected> = expected
        .iter()
        .map(|e| (e.draft.id.to_string(), e))
        .collect();
    // Entries with a section: each must be in one section's feeds, whatever its slug.
    let sectioned: BTreeSet<&str> = by_id
        .iter()
        .filter(|(_, e)| e.draft.section.is_some())
        .map(|(id, _)| id.as_str())
        .collect();

    let mut queue: VecDeque<String> = ["/feed.atom", "/feed.rss", "/feed.json"]
        .iter()
        .map(|p| format!("{}{p}", daemon.base))
        .collect();
    let opml = daemon.body("/feeds.opml").await;
    match opml_urls(&opml) {
        Ok(listed) => {
            for stem in listed
                .iter()
                .filter_map(|url| url.rsplit_once('.'))
                .map(|(stem, _)| stem)
            {
                queue.extend(["atom", "rss", "json"].map(|ext| format!("{stem}.{ext}")));
            }
        }
        Err(e) => problems.push(format!("/feeds.opml is not well-formed: {e}")),
    }

    let mut visited = BTreeSet::new();
    let mut links: BTreeMap<String, BTreeSet<Format>> = BTreeMap::new();
    let mut in_sections: BTreeMap<Format, Vec<String>> = BTreeMap::new();
    let mut archived: BTreeMap<Format, Vec<String>> = BTreeMap::new();
    while let Some(url) = queue.pop_front() {
        if !visited.insert(url.clone()) {
            continue;
        }
        let Some(path) = url.strip_prefix(&daemon.base) else {
            problems.push(format!("a feed links to {url:?}, not on this site"));
            continue;
        };
        let format = match path.rsplit_once('.').map(|(_, ext)| ext) {
            Some("atom") => Format::Atom,
            Some("rss") => Format::Rss,
            Some("json") => Format::Json,
            _ => continue,
        };
        let response = client.get(&url).send().await.unwrap();
        if response.status() != 200 {
            problems.push(format!("{path}: {}", response.status()));
            continue;
        }
        let body = response.text().await.unwrap();
        check_codings(client, &url, path, body.as_bytes(), problems).await;
        let feed = match Feed::parse(format, &body) {
            Ok(feed) => feed,
            Err(e) => {
                problems.push(format!("{path} is not well-formed: {e}"));
                continue;
            }
        };
        queue.extend(feed.links.iter().cloned());

        let ids: Vec<&str> = feed.items.iter().map(|i| i.id.as_str()).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        problems.check(unique.len() == ids.len(), || {
            format!("{path} holds an entry twice: {ids:?}")
        });
        // Entries that must not be here, by title (a file never read is titled IGNORED).
        let strays = |keep: &dyn Fn(&str) -> bool| -> Vec<&str> {
            let items = feed.items.iter().filter(|i| !keep(&i.id));
            items.map(|i| i.title.as_str()).collect()
        };
        if path.starts_with("/feed.") {
            let missing: Vec<&str> = by_id
                .iter()
                .filter(|(id, _)| !unique.contains(id.as_str()))
                .map(|(_, e)| e.path.as_str())
                .collect();
            let extra = strays(&|id| by_id.contains_key(id));
            problems.check(missing.is_empty() && extra.is_empty(), || {
                format!(
                    "{path}: missing {missing:?}; entries that must not be published: {extra:?}"
                )
            });
        } else if path.starts_with("/categories/") {
            let extra = strays(&|id| sectioned.contains(id));
            problems.check(extra.is_empty(), || {
                format!("{path}: entries with no section, or not to be published: {extra:?}")
            });
            let seen = in_sections.entry(format).or_default();
            seen.extend(ids.iter().map(|id| (*id).to_owned()));
        } else if path.starts_with("/archive/") {
            let seen = archived.entry(format).or_default();
            seen.extend(ids.iter().map(|id| (*id).to_owned()));
        }

        for item in &feed.items {
            links.entry(item.link.clone()).or_default().insert(format);
            if let Some(e) = by_id.get(&item.id) {
                item.check(format, path, e, problems);
            }
        }
    }

    for format in [Format::Atom, Format::Rss, Format::Json] {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for id in in_sections.get(&format).into_iter().flatten() {
            *seen.entry(id.as_str()).or_default() += 1;
        }
        let missing: Vec<&str> = sectioned
            .iter()
            .filter(|id| !seen.contains_key(**id))
            .map(|id| by_id[*id].path.as_str())
            .collect();
        let twice: Vec<&&str> = seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| id)
            .collect();
        problems.check(missing.is_empty() && twice.is_empty(), || {
            format!("each entry with a section must be in one section's {format:?} feed: missing {missing:?}, in two {twice:?}")
        });
    }
    for (format, ids) in &archived {
        let unique: BTreeSet<&String> = ids.iter().collect();
        problems.check(unique.len() == ids.len(), || {
            format!("the {format:?} archive pages hold an entry twice")
        });
    }
    links
}

/// The gzip and brotli variants of a document are the same document.
async fn check_codings(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    identity: &[u8],
    problems: &mut Problems,
) {
    for coding in ["gzip", "br"] {
        let response = client
            .get(url)
            .header("accept-encoding", coding)
            .send()
            .await
            .unwrap();
        let sent = header(&response, "content-encoding");
        let bytes = response.bytes().await.unwrap();
        let mut decoded = Vec::new();
        let decodes = match sent.as_str() {
            "gzip" => flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut decoded)
                .is_ok(),
            "br" => brotli::BrotliDecompress(&mut &bytes[..], &mut decoded).is_ok(),
            _ => {
                decoded = bytes.to_vec();
                true
            }
        };
        problems.check(decodes && decoded == identity, || {
            format!("{path}: its {sent:?} variant is not the same document")
        });
    }
}

/// Every entry link: the same in the three formats, percent-encoded, sent by the client
/// exactly as written, and leading to the entry's page.
pub async fn check_links(
    daemon: &TestDaemon,
    client: &reqwest::Client,
    expected: &[Expected],
    links: &BTreeMap<String, BTreeSet<Format>>,
    problems: &mut Problems,
) {
    let by_key: BTreeMap<&str, &Expected> =
        expected.iter().map(|e| (e.draft.key.as_str(), e)).collect();
    let mut linked = BTreeSet::new();
    for (link, formats) in links {
        problems.check(formats.len() == 3, || {
            format!("{link:?} is only in the {formats:?} feeds")
        });
        let Some(encoded_key) = link
            .strip_prefix(&daemon.base)
            .and_then(|path| path.strip_prefix("/entries/"))
            .and_then(|path| path.strip_suffix('/'))
        else {
            problems.push(format!(
                "entry link {link:?} is not an entry page of this site"
            ));
            continue;
        };
        problems.check(
            is_encoded_url(encoded_key) && !encoded_key.contains('/'),
            || format!("entry link {link:?} is not percent-encoded"),
        );
        match reqwest::Url::parse(link) {
            Ok(url) => problems.check(
                url.as_str() == link
                    && url.path() == format!("/entries/{encoded_key}/")
                    && url.query().is_none(),
                || {
                    format!(
                        "entry link {link:?} would be requested as {:?}",
                        url.as_str()
                    )
                },
            ),
            Err(e) => problems.push(format!("entry link {link:?} is no URL: {e}")),
        }
        let key = percent_encoding::percent_decode_str(encoded_key).decode_utf8_lossy();
        let Some(e) = by_key.get(key.as_ref()) else {
            problems.push(format!(
                "entry link {link:?} names no published file ({key:?})"
            ));
            continue;
        };
        linked.insert(e.draft.key.as_str());
        let response = client.get(link).send().await.unwrap();
        let status = response.status();
        let media_type = header(&response, "content-type");
        let page = response.text().await.unwrap_or_default();
        problems.check(status == 200 && media_type.starts_with("text/html"), || {
            format!(
                "{:?}: its link {link:?} answers {status} {media_type:?}",
                e.path
            )
        });
        let heading = format!("<h1>{}</h1>", escape_html(&e.draft.title));
        problems.check(status != 200 || page.contains(&heading), || {
            format!("{:?}: its page has no {heading:?}", e.path)
        });
    }
    for e in expected {
        problems.check(linked.contains(e.draft.key.as_str()), || {
            format!("{:?}: no feed links to its page", e.path)
        });
    }
}

/// The index page, the stylesheet and the daemon's own documents.
pub async fn check_other_documents(
    daemon: &TestDaemon,
    client: &reqwest::Client,
    problems: &mut Problems,
) {
    for path in ["/", "/feed.xsl", "/status", "/healthz"] {
        let response = client.get(daemon.url(path)).send().await.unwrap();
        let status = response.status();
        let media_type = header(&response, "content-type");
        let body = response.text().await.unwrap_or_default();
        problems.check(status == 200, || format!("{path}: {status}"));
        let sound = match path {
            "/" => media_type.starts_with("text/html"),
            "/feed.xsl" => roxmltree::Document::parse(&body).is_ok(),
            "/status" => serde_json::from_str::<serde_json::Value>(&body).is_ok(),
            _ => body.trim() == "ok",
        };
        problems.check(sound, || format!("{path} is not sound: {media_type:?}"));
    }
}

/// Only what a URL path may hold as it is (RFC 3986 `pchar` and `/`), and every `%`
/// starting a well-formed escape.
fn is_encoded_url(url: &str) -> bool {
    let bytes = url.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => {
            bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        }
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
        _ => b"-._~!$&'()*+,;=:@/".contains(&b),
    })
}
