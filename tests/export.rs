//! `seedfeed render --out DIR` writes the same bytes the server serves, with the same
//! compressed variants, at the files a static server maps the served URLs to; its
//! `_headers` gives Netlify and Cloudflare Pages the media types and headers the daemon
//! sends. Entry pages are at `/entries/{key}/` so that a static host serves them as HTML:
//! the daemon redirects the older `/entries/{key}`, and ids did not move with the links.
//!
//! With `[export] dir`, the daemon keeps the same export current itself: after each
//! change the folder is what `render --out` writes, byte for byte; only the files whose
//! bytes changed are written (the others keep their time, for the sync tools), a deleted
//! entry's page goes, and the manifest lists every file.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::{Path, PathBuf};

use common::articles::{article, sample_as};
use common::daemon::{TestDaemon, header, http_client};
use common::export::{
    HOST_HEADERS, MANIFEST, documents, mtimes, render, render_copy, tree, tree_difference, url_path,
};
use common::feeds::{entry, has_entry};
use common::media_files::media_bytes;
use common::poll::until;
use seedfeed::config::{ExportLayer, Layer};

const BASE: &str = "https://feeds.example.org";

/// A key with characters a URL must percent-encode, and that static servers decode.
const ODD_KEY: &str = "café au lait? 100% #1+2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_files_are_the_served_bytes() {
    // Two entries a feed: five articles fill the first two archive pages.
    let daemon = TestDaemon::start_with(Layer {
        base_url: Some(BASE.into()),
        feed_size: Some(2),
        ..Layer::default()
    })
    .await;
    daemon.publish_sample().await;
    daemon
        .publish(ODD_KEY, &sample_as("Café society", "Culture"))
        .await;
    for n in 1..=3 {
        let text = article(
            "Culture",
            &format!("Story {n}"),
            &format!("Story number {n}."),
        );
        daemon.publish(&format!("story-{n}"), &text).await;
    }

    // Media files beside the articles are exported where /media/ serves them; one
    // that /media/ refuses (a symlink out of the folder) and a hidden one are not.
    let seeds = daemon.seeds.path();
    std::fs::create_dir(seeds.join("2026")).unwrap();
    std::fs::write(seeds.join("2026/photo.jpg"), media_bytes("photo.jpg")).unwrap();
    std::fs::write(seeds.join("episode one.mp3"), media_bytes("cbr.mp3")).unwrap();
    std::fs::write(seeds.join(".hidden.png"), media_bytes("picture.png")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.jpg"), b"not for the web").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.jpg"), seeds.join("escape.jpg"))
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let env = [("SEEDFEED_FEED_SIZE", "2")];
    render(
        daemon.seeds.path(),
        daemon.data.path(),
        out.path(),
        BASE,
        &env,
    );

    let host_headers = std::fs::read_to_string(out.path().join(HOST_HEADERS)).unwrap();
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/static-hosting.md");
    assert!(
        std::fs::read_to_string(doc)
            .unwrap()
            .contains(&format!("```text\n{host_headers}```")),
        "docs/static-hosting.md shows another _headers than:\n{host_headers}"
    );
    let rules = host_rules(&host_headers);
    let exported = documents(out.path());
    for (path, file) in &exported {
        let served = daemon.get(&url_path(path)).await;
        assert_eq!(served.status(), 200, "{path}");
        check_host_headers(&rules, path, &served);
        assert_eq!(
            served.bytes().await.unwrap(),
            std::fs::read(file).unwrap(),
            "{path}"
        );
        for (extension, coding) in [("gz", "gzip"), ("br", "br")] {
            let mut sibling = file.clone().into_os_string();
            sibling.push(format!(".{extension}"));
            let sibling = PathBuf::from(sibling);
            if sibling.exists() {
                // The daemon serves a changed feed before its variants are made.
                daemon.wait_for_variant(&url_path(path), coding).await;
            }
            let response = daemon
                .get_with(&url_path(path), &[("accept-encoding", coding)])
                .await;
            let served_coding = response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            if sibling.exists() {
                assert_eq!(served_coding.as_deref(), Some(coding), "{path}");
                assert_eq!(
                    response.bytes().await.unwrap(),
                    std::fs::read(&sibling).unwrap(),
                    "{path}.{extension}"
                );
            } else {
                assert_eq!(
                    served_coding, None,
                    "{path}: served {coding} but not exported"
                );
            }
        }
    }
    let odd_page = format!("entries/{ODD_KEY}/index.html");
    for expected in [
        "index.html",
        "feed.atom",
        "feed.rss",
        "feed.json",
        "feeds.opml",
        "feed.xsl",
        &odd_page,
        "entries/story-1/index.html",
        "categories/culture.atom",
        "archive/1.atom",
        "archive/1.rss",
        "media/2026/photo.jpg",
        "media/episode one.mp3",
    ] {
        assert!(out.path().join(expected).exists(), "{expected} exported");
    }
    for refused in ["media/escape.jpg", "media/.hidden.png"] {
        assert!(!out.path().join(refused).exists(), "{refused} exported");
    }
    assert!(exported.len() >= 20, "{exported:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_entry_links_are_redirected_to_the_pages_and_ids_stay() {
    let daemon = TestDaemon::start_with(Layer {
        base_url: Some(BASE.into()),
        ..Layer::default()
    })
    .await;
    let id = daemon
        .publish(ODD_KEY, &sample_as("Café society", "Culture"))
        .await;
    let page = url_path(&format!("/entries/{ODD_KEY}/"));

    // The feeds link the page at its new address; the id is still the key's.
    assert_eq!(id, daemon.id_of(ODD_KEY).to_string());
    for path in ["/feed.atom", "/feed.rss"] {
        let feed = daemon.feed(path).await;
        let linked = entry(&feed, &id).unwrap_or_else(|| panic!("{path}: no entry {id}"));
        assert_eq!(linked.links[0].href, format!("{BASE}{page}"), "{path}");
    }
    let json = daemon.json("/feed.json").await;
    assert_eq!(json["items"][0]["id"], id);
    assert_eq!(json["items"][0]["url"], format!("{BASE}{page}"));

    // The old address answers a permanent redirect to the page, from base_url.
    let client = http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let old = page.trim_end_matches('/');
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let moved = client
            .request(method.clone(), daemon.url(old))
            .send()
            .await
            .unwrap();
        assert_eq!(moved.status(), 301, "{method} {old}");
        assert_eq!(header(&moved, "location"), format!("{BASE}{page}"));
    }
    let landed = client.get(daemon.url(&page)).send().await.unwrap();
    assert_eq!(landed.status(), 200);
    assert_eq!(header(&landed, "content-type"), "text/html; charset=utf-8");

    // Only to a page there is: an unknown key stays unknown.
    for path in ["/entries/nope", "/entries/nope/", "/entries", "/feed"] {
        let response = client.get(daemon.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_keeps_its_export_current() {
    let export = tempfile::tempdir().unwrap();
    let out = export.path();
    let daemon = TestDaemon::start_with(Layer {
        base_url: Some(BASE.into()),
        feed_size: Some(2),
        export: ExportLayer {
            dir: Some(out.to_owned()),
        },
        ..Layer::default()
    })
    .await;
    daemon.publish_sample().await;
    for n in 1..=4 {
        let text = article(
            "Culture",
            &format!("Story {n}"),
            &format!("Story number {n}."),
        );
        daemon.publish(&format!("story-{n}"), &text).await;
    }
    std::fs::write(daemon.seed_path("photo.jpg"), media_bytes("photo.jpg")).unwrap();
    same_as_render(&daemon, out).await;
    for expected in [
        "entries/story-1/index.html",
        "entries/story-1/index.html.gz",
        "archive/1.atom",
        "page/2/index.html",
        "media/photo.jpg",
        HOST_HEADERS,
    ] {
        assert!(
            manifest(out).contains(expected),
            "{expected} not in the manifest"
        );
    }
    let (before, dated) = (tree(out), mtimes(out));

    // A new article: its page and the documents that show it are written; every file
    // whose bytes did not change keeps its time (the untouched entries' pages, the
    // frozen archive pages, the media file).
    let text = article("Culture", "Story 9", "Story number 9.");
    let id = daemon.publish("story-9", &text).await;
    until("the new entry in the exported feeds", || async {
        let atom = std::fs::read(out.join("feed.atom")).unwrap_or_default();
        let shown =
            feed_rs::parser::parse(&atom[..]).is_ok_and(|feed| has_entry(id.clone())(&feed));
        let listed = manifest(out).contains("entries/story-9/index.html");
        (shown && listed).then_some(()).ok_or_else(String::new)
    })
    .await;
    same_as_render(&daemon, out).await;
    let (after, redated) = (tree(out), mtimes(out));
    let kept: Vec<&String> = before
        .iter()
        .filter(|(path, bytes)| after.get(*path) == Some(bytes) && path.as_str() != MANIFEST)
        .map(|(path, _)| path)
        .collect();
    for path in &kept {
        assert_eq!(dated[*path], redated[*path], "{path} was written again");
    }
    for untouched in [
        "entries/story-1/index.html",
        "archive/1.atom",
        "media/photo.jpg",
    ] {
        assert!(kept.iter().any(|path| *path == untouched), "{untouched}");
    }
    assert_ne!(before["feed.atom"], after["feed.atom"]);

    // A deleted article: its page leaves the folder and the manifest, so that a static
    // host answers 404 for it, as the daemon does.
    std::fs::remove_file(daemon.seed_path("story-2.txt")).unwrap();
    until("the deleted entry's page removed", || async {
        let gone = !out.join("entries/story-2").exists();
        (gone && !manifest(out).contains("entries/story-2/"))
            .then_some(())
            .ok_or_else(String::new)
    })
    .await;
    assert_eq!(daemon.get("/entries/story-2/").await.status(), 404);
    same_as_render(&daemon, out).await;
}

/// The export's manifest, as text.
fn manifest(out: &Path) -> String {
    std::fs::read_to_string(out.join(MANIFEST)).unwrap_or_default()
}

/// Waits until the daemon's export in `out` is, byte for byte, what `render --out` writes
/// from a copy of its database (the manifest included).
async fn same_as_render(daemon: &TestDaemon, out: &Path) {
    let (seeds, data) = (
        daemon.seeds.path().to_owned(),
        daemon.data.path().to_owned(),
    );
    until("the export to be what render --out writes", || {
        let (seeds, data, out) = (seeds.clone(), data.clone(), out.to_owned());
        async move {
            tokio::task::spawn_blocking(move || {
                let rendered = render_copy(&seeds, &data, BASE, &[("SEEDFEED_FEED_SIZE", "2")]);
                let difference = tree_difference(&out, rendered.path());
                difference.is_empty().then_some(()).ok_or(difference)
            })
            .await
            .unwrap()
        }
    })
    .await;
}

/// One rule of `_headers`: a path pattern (one `*` at most) and the headers it sets.
struct Rule {
    pattern: String,
    headers: Vec<(String, String)>,
}

impl Rule {
    fn matches(&self, path: &str) -> bool {
        match self.pattern.split_once('*') {
            Some((prefix, suffix)) => {
                path.len() >= prefix.len() + suffix.len()
                    && path.starts_with(prefix)
                    && path.ends_with(suffix)
            }
            None => self.pattern == path,
        }
    }
}

/// The rules of a `_headers` file: a path at the start of a line, then its indented
/// `Name: value` lines; `#` starts a comment.
fn host_rules(text: &str) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with('/') {
            rules.push(Rule {
                pattern: line.trim().to_owned(),
                headers: Vec::new(),
            });
            continue;
        }
        let (name, value) = line.trim().split_once(':').unwrap();
        let rule = rules.last_mut().unwrap();
        rule.headers
            .push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    assert!(!rules.is_empty(), "{text}");
    rules
}

/// What `_headers` makes a host send for `path` is what the daemon sent: the media type
/// of every document but the HTML pages and the media files (which every host types by
/// their extensions), CORS, and the
/// Cache-Control of full archive pages. No header is set by two rules: the hosts would
/// join their values.
fn check_host_headers(rules: &[Rule], path: &str, served: &reqwest::Response) {
    let mut set: Vec<(&str, &str)> = Vec::new();
    for rule in rules.iter().filter(|rule| rule.matches(path)) {
        for (name, value) in &rule.headers {
            assert!(
                set.iter().all(|(seen, _)| seen != name),
                "{path}: {name} is set by two rules"
            );
            set.push((name, value));
        }
    }
    let host = |name: &str| {
        set.iter()
            .find(|(seen, _)| *seen == name)
            .map(|(_, value)| value.to_string())
    };
    let daemon = |name: &str| Some(header(served, name)).filter(|value| !value.is_empty());
    let media_type = daemon("content-type").unwrap();
    if media_type.starts_with("text/html") || path.starts_with("/media/") {
        // Hosts type HTML, images, audio and video by their extensions themselves.
        assert_eq!(host("content-type"), None, "{path}");
    } else {
        assert_eq!(host("content-type"), Some(media_type), "{path}");
    }
    let cors = "access-control-allow-origin";
    assert_eq!(host(cors), daemon(cors), "{path}: {cors}");
    if let Some(cache_control) = host("cache-control") {
        assert_eq!(Some(cache_control), daemon("cache-control"), "{path}");
    }
    assert_eq!(
        host("cache-control").is_some(),
        path.starts_with("/archive/"),
        "{path}: a full archive page is kept for good, and only it"
    );
}
