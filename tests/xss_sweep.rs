//! An XSS sweep of everything a running daemon serves: articles carry the payloads of
//! `tests/common/xss.rs` in their bodies (Markdown, HTML fragments and documents, seeds)
//! and in every front matter field that reaches a document (title, summary, section,
//! tags, authors, image, image_alt, link, comments), written as YAML, TOML and JSON; then
//! every document reachable from the index, the OPML list and the main feeds is fetched
//! (main, section, tag and author feeds in every format, archive pages, entry and listing
//! pages, the index, OPML) and every feed again as a browser asks for it. No page may hold
//! markup that runs; no feed may carry any in the HTML readers render (its text decoded,
//! as they decode it) or a URL outside the web's.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeSet;

use common::articles::{json_article, toml_article, write_file, yaml_article};
use common::crawl::{Served, crawl};
use common::daemon::TestDaemon;
use common::feeds::feed_links;
use common::poll::eventually;
use common::xss::{
    HTML_PAYLOADS, MARKDOWN_PAYLOADS, unsafe_feed_parts, unsafe_json_feed_parts, unsafe_page_parts,
};
use serde_json::json;

/// URLs no document may carry as a link, an image or a person's page.
const HOSTILE_URLS: &[&str] = &[
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "java\tscript:alert(1)",
];

/// What a browser sends for a page.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The front matter of article `i`: a payload in every field that reaches a document.
fn front_matter(i: usize, payload: &str) -> serde_json::Value {
    let url = HOSTILE_URLS[i % HOSTILE_URLS.len()];
    let author = if i.is_multiple_of(2) {
        json!(payload)
    } else {
        json!({"name": payload, "email": "eve@example.com", "uri": url})
    };
    json!({
        "title": format!("{payload} (front matter {i})"),
        "summary": payload,
        "section": payload,
        "tags": [payload, "sweep"],
        "author": author,
        "image": url,
        "image_alt": payload,
        "link": url,
        "comments": url,
    })
}

/// One Markdown article with the payload in its front matter and its body, in YAML,
/// TOML or JSON by turns.
fn front_matter_article(i: usize, payload: &str) -> Vec<u8> {
    let front = front_matter(i, payload);
    // A NUL byte makes a file binary, a reject: the body has the payload without it.
    let body = format!("Article {i}.\n\n{}\n\nThe end.", payload.replace('\0', ""));
    match i % 3 {
        // YAML reads a JSON value in flow style.
        0 => {
            let lines: Vec<String> = front
                .as_object()
                .unwrap()
                .iter()
                .map(|(key, value)| format!("{key}: {value}"))
                .collect();
            yaml_article(&lines.join("\n"), &body)
        }
        1 => toml_article(&serde_json::from_value(front).unwrap(), &body),
        _ => json_article(&front, &body),
    }
}

/// An HTML document with the payload in its head and its body.
fn html_document(i: usize, payload: &str) -> Vec<u8> {
    let attribute = payload.replace('"', "&quot;").replace('\0', "");
    let url = HOSTILE_URLS[i % HOSTILE_URLS.len()];
    format!(
        "<!DOCTYPE html>\n<html><head><title>Document {i} {attribute}</title>\n\
         <meta name=\"description\" content=\"{attribute}\">\n\
         <meta name=\"author\" content=\"{attribute}\">\n\
         <meta name=\"keywords\" content=\"{attribute}, sweep\">\n\
         <meta property=\"og:image\" content=\"{url}\">\n\
         <meta property=\"og:image:alt\" content=\"{attribute}\">\n</head>\n\
         <body><article><h1>Document {i}</h1><p>{body}</p>\n{body}\n</article></body></html>\n",
        body = payload.replace('\0', ""),
    )
    .into_bytes()
}

/// Writes every hostile article; returns their keys.
fn write_articles(daemon: &TestDaemon) -> Vec<String> {
    let mut keys = Vec::new();
    let mut write = |key: String, extension: &str, bytes: Vec<u8>| {
        write_file(&daemon.seed_path(&format!("{key}.{extension}")), &bytes);
        keys.push(key);
    };
    for (i, payload) in HTML_PAYLOADS.iter().enumerate() {
        write(format!("front-{i}"), "md", front_matter_article(i, payload));
        write(format!("document-{i}"), "html", html_document(i, payload));
        let fragment = format!(
            "<h1>Fragment {i}</h1>\n<p>{}</p>\n",
            payload.replace('\0', "")
        );
        write(format!("fragment-{i}"), "htm", fragment.into_bytes());
        let seed = format!(
            "{payload}\n\nSeed {i} {payload}\n\n\n{payload}\n\n\n\nSeed {i}: {payload}\n",
            payload = payload.replace('\0', "")
        );
        write(format!("seed-{i}"), "txt", seed.into_bytes());
    }
    for (i, payload) in MARKDOWN_PAYLOADS.iter().enumerate() {
        let front = format!("title: Markdown payload {i}\ntags: [sweep, markdown]");
        write(format!("markdown-{i}"), "md", yaml_article(&front, payload));
    }
    keys
}

/// What is unsafe in one served document, by its type.
fn problems(served: &Served) -> Vec<String> {
    let media_type = served.content_type.split(';').next().unwrap_or_default();
    match media_type {
        "text/html" => unsafe_page_parts(&served.body),
        "application/feed+json" | "application/json" => {
            unsafe_json_feed_parts(&serde_json::from_str(&served.body).unwrap())
        }
        "application/rss+xml"
        | "application/atom+xml"
        | "text/x-opml"
        | "application/xml"
        | "text/xml" => unsafe_feed_parts(&served.body),
        other => vec![format!("a document of an unexpected type: {other}")],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_served_page_or_feed_carries_markup_that_runs() {
    let daemon = TestDaemon::start().await;
    let keys = write_articles(&daemon);
    let status = daemon
        .wait_for_status("every hostile article", |s| {
            let files = &s["files"];
            let read = ["published", "rejected", "duplicates", "held"]
                .iter()
                .map(|k| files[k].as_u64().unwrap_or(0))
                .sum::<u64>();
            // The full archive pages are frozen when the ingest has nothing else to do.
            let archives = &s["archives"];
            let frozen = archives["frozen"].as_u64()? > 0 && archives["waiting"] == 0;
            (read == keys.len() as u64 && frozen).then(|| s.clone())
        })
        .await;
    assert_eq!(status["files"]["published"], keys.len(), "{status:#}");
    eventually("the feeds' link to the archive", || async {
        let atom = daemon.body("/feed.atom").await;
        feed_links(&atom)
            .iter()
            .any(|(rel, _)| rel == "prev-archive")
    })
    .await;

    let served = crawl(&daemon, 20_000).await;
    let mut failures = Vec::new();
    let mut pages = 0;
    for document in served.iter().filter(|d| d.status == 200) {
        for problem in problems(document) {
            failures.push(format!("{}: {problem}", document.path));
        }
        if document.is_feed() {
            let response = daemon
                .get_with(&document.path, &[("accept", BROWSER)])
                .await;
            assert_eq!(response.status(), 200, "{} as a page", document.path);
            for problem in unsafe_page_parts(&response.text().await.unwrap()) {
                failures.push(format!("{} as a page: {problem}", document.path));
            }
            pages += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The sweep saw what it had to: every entry's page, feeds of every kind in every
    // format, the archive pages, the paged listings.
    let paths: BTreeSet<&str> = served
        .iter()
        .filter(|d| d.status == 200)
        .map(|d| d.path.as_str())
        .collect();
    for key in &keys {
        assert!(
            paths.contains(format!("/entries/{key}/").as_str()),
            "/entries/{key}/ not reached"
        );
    }
    for prefix in ["/categories/", "/tags/", "/authors/", "/archive/"] {
        for format in [".rss", ".atom"] {
            let found = paths
                .iter()
                .filter(|p| p.starts_with(prefix) && p.ends_with(format))
                .count();
            assert!(found > 0, "no {prefix}*{format} reached");
        }
    }
    for prefix in ["/categories/", "/tags/", "/authors/"] {
        let json = paths
            .iter()
            .filter(|p| p.starts_with(prefix) && p.ends_with(".json"))
            .count();
        let listings = paths
            .iter()
            .filter(|p| p.starts_with(prefix) && p.ends_with('/'))
            .count();
        assert!(
            json > 10 && listings > 10,
            "{prefix}: {json} feeds, {listings} pages"
        );
    }
    assert!(
        paths.iter().any(|p| p.starts_with("/page/")),
        "no paged listing: {paths:?}"
    );
    assert!(pages > 100, "{pages} feeds seen as pages");
}
