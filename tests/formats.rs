//! Articles as publishers write them, dropped into a running daemon: a folder laid out
//! and written as Hugo, Jekyll, Eleventy and Obsidian users write theirs (front matter in
//! YAML, TOML and JSON, HTML pages, a seed), read back from every feed, the tag and
//! author feeds, the listing pages, the OPML list and `/status`; then hostile files among
//! them, each published safely or rejected with its line, and an article broken after it
//! was published, whose last good version stays.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use common::articles::{copy_tree, sites_fixture, write_file, write_under, yaml_article};
use common::binary::seedfeed;
use common::daemon::{TestDaemon, header, status_note};
use common::feeds::{content, entry, has_entry, html_links, ids, opml_urls, title_as_shown};
use common::media_files::media_bytes;
use common::xss::assert_safe;
use feed_rs::model::{Entry, Feed};
use seedfeed::config::{AuthorLayer, Layer};

/// What one article of `tests/fixtures/sites/` must be in the feeds.
struct Expected {
    /// Its path in the folder.
    path: &'static str,
    key: &'static str,
    title: &'static str,
    /// From its front matter or its head; else the file's mtime.
    published: Option<&'static str>,
    updated: Option<&'static str>,
    section: Option<&'static str>,
    tags: &'static [&'static str],
    authors: &'static [&'static str],
}

/// The articles of `tests/fixtures/sites/`, as their front matter (or head) says.
const SITE: &[Expected] = &[
    Expected {
        path: "hugo/posts/getting-started.md",
        key: "getting-started",
        title: "Getting Started with Hugo",
        published: Some("2024-03-10T08:30:00Z"),
        updated: Some("2024-03-12T17:00:00Z"),
        section: Some("Tutorials"),
        tags: &["Static Sites", "Go"],
        authors: &[],
    },
    // A Hugo page bundle: the article is the folder's `index.md`, named by the folder.
    Expected {
        path: "hugo/posts/page-bundle/index.md",
        key: "page-bundle",
        title: "A Page Bundle",
        published: Some("2024-04-02T08:00:00Z"),
        updated: None,
        section: None,
        tags: &["Go", "bundles"],
        authors: &["Jane Doe"],
    },
    Expected {
        path: "hugo/posts/toml-front-matter.md",
        key: "toml-front-matter",
        title: "TOML Front Matter",
        published: Some("2022-07-01T00:00:00Z"),
        updated: Some("2022-07-03T12:00:00Z"),
        section: None,
        tags: &["toml", "Static Sites"],
        authors: &["Zed Zola"],
    },
    Expected {
        path: "jekyll/_posts/2023-11-05-welcome-to-jekyll.markdown",
        key: "2023-11-05-welcome-to-jekyll",
        title: "Welcome to Jekyll!",
        published: Some("2023-11-05T13:20:00Z"),
        updated: None,
        section: Some("jekyll"),
        tags: &["Go", "update"],
        authors: &["John Smith"],
    },
    Expected {
        path: "eleventy/json-front-matter.md",
        key: "json-front-matter",
        title: "JSON Front Matter",
        published: Some("2021-01-02T10:00:00Z"),
        updated: None,
        section: None,
        tags: &["json", "link posts"],
        authors: &["Jay Son"],
    },
    // Obsidian: tags as text, no date, no heading: the first line is the title.
    Expected {
        path: "obsidian/Reading list.md",
        key: "Reading list",
        title: "Books for the winter",
        published: None,
        updated: None,
        section: None,
        tags: &["reading", "books"],
        authors: &[],
    },
    Expected {
        path: "html/full-document.html",
        key: "full-document",
        title: "An HTML Document",
        published: Some("2020-05-06T07:08:09Z"),
        updated: None,
        section: None,
        tags: &["html", "archive"],
        authors: &["Hazel Tee"],
    },
    Expected {
        path: "html/fragment.htm",
        key: "fragment",
        title: "An HTML Fragment",
        published: None,
        updated: None,
        section: None,
        tags: &[],
        authors: &[],
    },
    Expected {
        path: "plain/desert-rains.txt",
        key: "desert-rains",
        title: "Rare rains turn the desert green",
        published: None,
        updated: None,
        section: Some("Weather & Climate"),
        tags: &[],
        authors: &[],
    },
];

/// `[authors.jane]`, whom the page bundle names by key.
fn with_jane() -> Layer {
    let jane = AuthorLayer {
        name: Some("Jane Doe".into()),
        email: Some("jane@example.com".into()),
        uri: Some("https://jane.example.com/".into()),
    };
    Layer {
        authors: Some(BTreeMap::from([("jane".to_owned(), jane)])),
        ..Layer::default()
    }
}

/// A daemon with `tests/fixtures/sites/` copied into its seeds folder, once every
/// article is in the main feeds.
async fn daemon_with_the_sites() -> TestDaemon {
    let daemon = TestDaemon::start_with(with_jane()).await;
    // The page bundle's cover, beside its article (a media fixture, not a copy in the
    // sites), before the article is there to be read.
    let cover = "hugo/posts/page-bundle/cover.jpg";
    write_under(daemon.seeds.path(), cover, &media_bytes("photo.jpg"));
    copy_tree(&sites_fixture(), daemon.seeds.path());
    let all: Vec<String> = SITE
        .iter()
        .map(|a| daemon.id_of(a.key).to_string())
        .collect();
    daemon
        .wait_for_feeds("every article of the sites", |feed| {
            all.iter().all(|id| entry(feed, id).is_some())
        })
        .await;
    daemon
}

fn date(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().into()
}

fn mtime(path: &Path) -> DateTime<Utc> {
    DateTime::from(std::fs::metadata(path).unwrap().modified().unwrap())
}

/// The terms of an Atom or RSS entry: its section (no scheme) and its tags (the scheme
/// of the site's `/tags/`).
fn section_and_tags(entry: &Entry) -> (Option<String>, Vec<String>) {
    let section = entry.categories.iter().find(|c| c.scheme.is_none());
    let tags = entry.categories.iter().filter(|c| {
        c.scheme
            .as_deref()
            .is_some_and(|scheme| scheme.ends_with("/tags/"))
    });
    (
        section.map(|c| c.term.clone()),
        tags.map(|c| c.term.clone()).collect(),
    )
}

fn author_names(entry: &Entry) -> Vec<String> {
    entry
        .authors
        .iter()
        .filter_map(|a| a.name.clone())
        .collect()
}

/// Checks one article in each of `feeds` (Atom, RSS and JSON Feed, by their paths).
fn check_article(daemon: &TestDaemon, feeds: &[(&str, &Feed)], article: &Expected) {
    let id = daemon.id_of(article.key).to_string();
    let published = article
        .published
        .map_or_else(|| mtime(&daemon.seed_path(article.path)), date);
    for (path, feed) in feeds {
        let what = format!("{} in {path}", article.path);
        let item = entry(feed, &id).unwrap_or_else(|| panic!("{what}: missing"));
        assert_eq!(
            title_as_shown(item.title.as_ref().unwrap(), path),
            article.title,
            "{what}"
        );
        let seen = item.published.unwrap();
        if article.published.is_none() {
            // The mtime, or a few milliseconds after it: files copied together share
            // a millisecond, and published dates are made distinct.
            let (after, most) = if path.ends_with(".rss") {
                (seen.timestamp() - published.timestamp(), 1)
            } else {
                (seen.timestamp_millis() - published.timestamp_millis(), 999)
            };
            assert!(
                (0..=most).contains(&after),
                "{what}: {seen} for the mtime {published}"
            );
        } else if path.ends_with(".rss") {
            assert_eq!(seen.timestamp(), published.timestamp(), "{what}");
        } else {
            assert_eq!(seen, published, "{what}");
        }
        let terms: Vec<String> = item.categories.iter().map(|c| c.term.clone()).collect();
        if path.ends_with(".json") {
            // JSON Feed has one list of tags: the section's name, then the tags.
            let expected: Vec<String> = article
                .section
                .iter()
                .chain(article.tags)
                .map(|t| t.to_string())
                .collect();
            assert_eq!(terms, expected, "{what}");
        } else {
            let (section, tags) = section_and_tags(item);
            assert_eq!(section.as_deref(), article.section, "{what}: {terms:?}");
            assert_eq!(tags, article.tags, "{what}: {terms:?}");
        }
        if path.ends_with(".atom") {
            assert_eq!(author_names(item), article.authors, "{what}");
            let updated = article.updated.map_or(seen, date);
            assert_eq!(item.updated, Some(updated), "{what}");
        }
        if path.ends_with(".json") && !article.authors.is_empty() {
            assert_eq!(author_names(item), article.authors, "{what}");
        }
        assert_safe(&content(item), &what);
    }
}

/// Every article of the folder, whatever the generator that wrote it, is published with
/// the title, dates, section, tags and authors its front matter (or its head) gives, in
/// every format; the tag and author feeds list the right ones; the listing pages answer;
/// the OPML list names every tag's feed; keys only generators use (layout, permalink,
/// slug, weight…) pass silently and a misspelt one is a warning with its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_as_site_generators_write_it_is_published_with_its_metadata() {
    let mut daemon = daemon_with_the_sites().await;
    let atom = daemon.feed("/feed.atom").await;
    let rss = daemon.feed("/feed.rss").await;
    let json = daemon.feed("/feed.json").await;
    let feeds = [
        ("/feed.atom", &atom),
        ("/feed.rss", &rss),
        ("/feed.json", &json),
    ];
    for article in SITE {
        check_article(&daemon, &feeds, article);
    }
    assert_eq!(atom.entries.len(), SITE.len(), "{:?}", ids(&atom));

    // What the bodies became: links absolute, the head's script and the page's
    // navigation left out, Markdown's extensions rendered.
    let html = |key: &str| content(entry(&atom, &daemon.id_of(key).to_string()).unwrap());
    let document = html("full-document");
    assert!(
        document.contains(&format!("href=\"{}/about/\"", daemon.base)),
        "{document}"
    );
    assert!(
        !document.contains("analytics") && !document.contains("Home"),
        "{document}"
    );
    let hugo = html("getting-started");
    assert!(
        hugo.contains("<table>") && hugo.contains("footnote"),
        "{hugo}"
    );
    assert!(
        hugo.contains(&format!("src=\"{}/images/layout.png\"", daemon.base)),
        "{hugo}"
    );
    let bundle = html("page-bundle");
    assert!(
        bundle.contains("type=\"checkbox\"") && bundle.contains("<del>"),
        "{bundle}"
    );
    // The bundle's image beside it is a media file, with its size.
    let cover = daemon.url("/media/hugo/posts/page-bundle/cover.jpg");
    assert!(
        bundle.contains(&format!(
            "src=\"{cover}\" alt=\"cover\" width=\"120\" height=\"80\""
        )),
        "{bundle}"
    );
    let link_post = entry(&atom, &daemon.id_of("json-front-matter").to_string()).unwrap();
    assert!(
        link_post
            .links
            .iter()
            .any(|l| l.rel.as_deref() == Some("related")
                && l.href == "https://elsewhere.example.com/story"),
        "{:?}",
        link_post.links
    );
    let jane = &entry(&atom, &daemon.id_of("page-bundle").to_string())
        .unwrap()
        .authors[0];
    assert_eq!(
        jane.email.as_deref(),
        Some("jane@example.com"),
        "from [authors.jane]"
    );

    check_term_feeds(&daemon).await;
    check_status(&daemon).await;

    // The files that are not articles are listed by full scans: the start-up scan.
    daemon.restart().await;
    let status = daemon.status().await;
    let reason = status_note(&status, "not_articles", "hugo/posts/_index.md");
    assert!(
        reason.is_some_and(|r| r.contains("list page")),
        "{status:#}"
    );
    assert_eq!(status["files"]["published"], SITE.len(), "{status:#}");
}

/// Each tag's and author's feeds list the articles that carry it, in every format; its
/// listing page is HTML linking to them; the OPML list names every feed.
async fn check_term_feeds(daemon: &TestDaemon) {
    let keys_with = |pick: &dyn Fn(&Expected) -> bool| -> BTreeSet<String> {
        SITE.iter()
            .filter(|a| pick(a))
            .map(|a| daemon.id_of(a.key).to_string())
            .collect()
    };
    let terms = [
        ("/tags/go", keys_with(&|a| a.tags.contains(&"Go"))),
        (
            "/tags/static-sites",
            keys_with(&|a| a.tags.contains(&"Static Sites")),
        ),
        ("/tags/books", keys_with(&|a| a.tags.contains(&"books"))),
        // Named by the key of `[authors.jane]`.
        (
            "/authors/jane",
            keys_with(&|a| a.authors.contains(&"Jane Doe")),
        ),
        (
            "/authors/john-smith",
            keys_with(&|a| a.authors.contains(&"John Smith")),
        ),
        (
            "/authors/hazel-tee",
            keys_with(&|a| a.authors.contains(&"Hazel Tee")),
        ),
    ];
    for (term, expected) in &terms {
        assert!(!expected.is_empty(), "{term}");
        for format in ["atom", "rss", "json"] {
            let path = format!("{term}.{format}");
            let seen: BTreeSet<String> = ids(&daemon.feed(&path).await).into_iter().collect();
            assert_eq!(&seen, expected, "{path}");
        }
        let page = daemon.get(&format!("{term}/")).await;
        assert_eq!(page.status(), 200, "{term}/");
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        let links = html_links(&page.text().await.unwrap());
        for article in SITE
            .iter()
            .filter(|a| expected.contains(&daemon.id_of(a.key).to_string()))
        {
            let url = daemon.url(&format!("/entries/{}/", article.key.replace(' ', "%20")));
            assert!(links.contains(&url), "{term}/ links {url}: {links:?}");
        }
    }
    let opml = opml_urls(&daemon.body("/feeds.opml").await).unwrap();
    let tags: BTreeSet<&str> = SITE.iter().flat_map(|a| a.tags.iter().copied()).collect();
    for tag in tags {
        let url = daemon.url(&format!(
            "/tags/{}.atom",
            tag.to_lowercase().replace(' ', "-")
        ));
        assert!(opml.contains(&url), "{url} in {opml:?}");
    }
    for (term, _) in terms.iter().filter(|(t, _)| t.starts_with("/authors/")) {
        let url = daemon.url(&format!("{term}.atom"));
        assert!(opml.contains(&url), "{url} in {opml:?}");
    }
}

/// `/status`: nothing rejected; the one misspelt key warned about with its line, the
/// keys generators use for their own pages passing silently; Hugo's list page of a
/// section (`_index.md`) not read as an article.
async fn check_status(daemon: &TestDaemon) {
    let status = daemon.status().await;
    assert_eq!(status["rejects"], serde_json::json!([]), "{status:#}");
    let warnings = status["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{status:#}");
    let hugo = status_note(&status, "warnings", "hugo/posts/getting-started.md").unwrap();
    assert!(hugo.contains("titel (line 12)"), "{hugo}");
    for ignored in [
        "slug",
        "weight",
        "images",
        "layout",
        "permalink",
        "excerpt",
        "aliases",
        "extra",
    ] {
        assert!(!hugo.contains(ignored), "{ignored}: {hugo}");
    }
    assert_eq!(status["files"]["published"], SITE.len(), "{status:#}");
}

/// `seedfeed check` and `seedfeed parse` read the folder as the daemon does: page bundles
/// named by their folders (two of them are no key conflict), the list page of a section
/// not an article, the misspelt key a warning with its line.
#[test]
fn check_and_parse_name_page_bundles_by_their_folders() {
    let seeds = tempfile::tempdir().unwrap();
    copy_tree(&sites_fixture(), seeds.path());
    let second = seeds.path().join("hugo/posts/second-bundle");
    std::fs::create_dir(&second).unwrap();
    let bundle = yaml_article("title: Another Bundle\ntags: [bundles]", "Its own images.");
    write_file(&second.join("index.md"), &bundle);

    let check = seedfeed()
        .args(["check", "--seeds"])
        .arg(seeds.path())
        .output()
        .unwrap();
    let out = String::from_utf8(check.stdout).unwrap();
    assert_eq!(check.status.code(), Some(0), "{out}");
    assert!(!out.contains("conflict"), "{out}");
    assert!(
        out.contains("hugo/posts/_index.md: not an article"),
        "{out}"
    );
    assert!(
        out.contains(
            "getting-started.md: warning: unknown front matter keys, ignored: titel (line 12)"
        ),
        "{out}"
    );

    let parse = seedfeed()
        .arg("parse")
        .arg(second.join("index.md"))
        .output()
        .unwrap();
    assert!(
        parse.status.success(),
        "{}",
        String::from_utf8_lossy(&parse.stderr)
    );
    let entries: serde_json::Value = serde_json::from_slice(&parse.stdout).unwrap();
    assert_eq!(entries[0]["key"], "second-bundle", "{entries:#}");
}

/// What becomes of a hostile file: `Ok(title)`, published with that title; `Err(words)`,
/// a reject whose reason holds each of these words.
type Outcome = Result<&'static str, &'static [&'static str]>;

/// A file whose front matter or body is hostile, and what becomes of it.
struct Hostile {
    name: &'static str,
    bytes: Vec<u8>,
    outcome: Outcome,
}

/// YAML whose aliases would expand to 9^9 strings if they were replayed.
fn alias_bomb() -> String {
    let mut lines = vec![
        "title: Bomb".to_owned(),
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]".to_owned(),
    ];
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(", ");
        lines.push(format!("{}: &{} [{refs}]", pair[1], pair[1]));
    }
    lines.join("\n")
}

/// Front matter with markup in its values, and a body with a script.
const MARKUP: &str = "title: \"<script>alert(1)</script>\"\n\
    summary: \"<img src=x onerror=alert(1)>\"\n\
    tags: [\"<b>bold</b>\"]\n\
    author: \"<a href='javascript:alert(1)'>Eve</a>\"";

fn hostile_files() -> Vec<Hostile> {
    let hostile = |(name, bytes, outcome)| Hostile {
        name,
        bytes,
        outcome,
    };
    let front_matter = hostile_front_matter().into_iter().map(hostile);
    front_matter.chain(hostile_bytes().map(hostile)).collect()
}

/// Front matter with markup in its values, cut short, alone, or made to expand or nest
/// without end.
fn hostile_front_matter() -> [(&'static str, Vec<u8>, Outcome); 10] {
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    [
        (
            "markup-in-front-matter.md",
            yaml_article(MARKUP, "A body <script>alert(2)</script> with markup."),
            Ok("<script>alert(1)</script>"),
        ),
        (
            "unterminated.md",
            b"---\ntitle: Never closed\n\nThe body.\n".to_vec(),
            Err(&["front matter, line 1", "never closed"]),
        ),
        (
            "front-matter-only.md",
            b"---\ntitle: Only front matter\ntags: [alone]\n---\n".to_vec(),
            Ok("Only front matter"),
        ),
        (
            "front-matter-only-untitled.md",
            b"---\ntags: [alone]\n---\n".to_vec(),
            Err(&["empty"]),
        ),
        (
            "alias-bomb.md",
            yaml_article(&alias_bomb(), "Boom."),
            Err(&["front matter, line", "aliases"]),
        ),
        (
            "deep-yaml.md",
            yaml_article(&format!("title: Deep\nx: {deep}"), "Deep."),
            Err(&["front matter, line 3", "YAML"]),
        ),
        (
            "deep-toml.md",
            format!("+++\ntitle = \"Deep\"\nx = {deep}\n+++\n\nDeep.\n").into_bytes(),
            Err(&["front matter, line 3", "TOML"]),
        ),
        (
            "deep-json.md",
            format!("{{\"title\": \"Deep\", \"x\": {deep}}}\n\nDeep.\n").into_bytes(),
            Err(&["front matter, line 1", "JSON"]),
        ),
        (
            "bad-yaml.md",
            b"---\ntitle: Bad\ntags: [a, b\ndate: 2020-01-01\n---\n\nBody.\n".to_vec(),
            Err(&["front matter, line 4", "YAML"]),
        ),
        (
            "wrong-type.md",
            b"---\ntitle: Wrong type\ndate: [1, 2]\n---\n\nBody.\n".to_vec(),
            Err(&["front matter, line 3", "date"]),
        ),
    ]
}

/// Bytes that are hard to read: a megabyte on one line, NUL bytes, mixed line ends, a
/// byte order mark before the front matter.
fn hostile_bytes() -> [(&'static str, Vec<u8>, Outcome); 5] {
    [
        (
            "megabyte-line.md",
            yaml_article("title: A megabyte on one line", &"word ".repeat(200_000)),
            Ok("A megabyte on one line"),
        ),
        (
            "nul-in-body.md",
            b"---\ntitle: NUL\n---\n\nA NUL\0 byte.\n".to_vec(),
            Err(&["binary", "NUL"]),
        ),
        (
            "nul-escaped.md",
            yaml_article("title: \"Escaped\\0 NUL\"", "The title had an escaped NUL."),
            Ok("Escaped NUL"),
        ),
        (
            "mixed-line-ends.md",
            b"---\r\ntitle: Mixed line ends\r\ntags: [mixed]\n---\r\r\
              First paragraph.\r\n\r\nSecond paragraph.\n"
                .to_vec(),
            Ok("Mixed line ends"),
        ),
        (
            "bom-first.md",
            b"\xef\xbb\xbf---\ntitle: A BOM first\ntags: [bom]\n---\n\nBody.\n".to_vec(),
            Ok("A BOM first"),
        ),
    ]
}

/// Hostile files among the folder's articles: each is published safely (its markup as
/// text, its content sanitized) or is a reject in `/status` that says why, naming the
/// line for front matter; the folder's articles stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_are_published_safely_or_rejected_with_their_line() {
    let daemon = daemon_with_the_sites().await;
    let files = hostile_files();
    for file in &files {
        write_file(&daemon.seed_path(file.name), &file.bytes);
    }
    let published: Vec<String> = files
        .iter()
        .filter(|f| f.outcome.is_ok())
        .map(|f| daemon.id_of(f.name.trim_end_matches(".md")).to_string())
        .collect();
    daemon
        .wait_for_feeds("the hostile files that publish", |feed| {
            published.iter().all(|id| entry(feed, id).is_some())
        })
        .await;
    let rejected = files.iter().filter(|f| f.outcome.is_err()).count();
    let status = daemon
        .wait_for_status("every reject", |s| {
            (s["rejects"].as_array()?.len() == rejected).then(|| s.clone())
        })
        .await;
    let atom = daemon.feed("/feed.atom").await;
    for file in &files {
        let key = file.name.trim_end_matches(".md");
        match file.outcome {
            Ok(title) => {
                let item = entry(&atom, &daemon.id_of(key).to_string()).unwrap();
                let shown = title_as_shown(item.title.as_ref().unwrap(), "/feed.atom");
                assert_eq!(shown, title, "{}", file.name);
                assert_safe(&content(item), file.name);
                let page = daemon.body(&format!("/entries/{key}/")).await;
                assert!(!page.contains("<script"), "{}: {page}", file.name);
            }
            Err(words) => {
                let reason = status_note(&status, "rejects", file.name)
                    .unwrap_or_else(|| panic!("{} is not a reject: {status:#}", file.name));
                for word in words {
                    assert!(reason.contains(word), "{}: {reason}", file.name);
                }
                assert!(entry(&atom, &daemon.id_of(key).to_string()).is_none());
            }
        }
    }
    let item = |key: &str| {
        entry(&atom, &daemon.id_of(key).to_string())
            .cloned()
            .unwrap()
    };
    assert_eq!(
        content(&item("mixed-line-ends")).trim_end(),
        "<p>First paragraph.</p>\n<p>Second paragraph.</p>"
    );
    assert!(content(&item("megabyte-line")).len() > 1_000_000);
    let (_, bom_tags) = section_and_tags(&item("bom-first"));
    assert_eq!(bom_tags, ["bom"]);
    for article in SITE {
        assert!(entry(&atom, &daemon.id_of(article.key).to_string()).is_some());
    }
}

/// An article that was published and is then broken (front matter that does not parse)
/// keeps its last good version in every feed, and its reject names the line; fixed, the
/// new version replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_article_broken_later_keeps_its_last_good_version() {
    let daemon = daemon_with_the_sites().await;
    let path = daemon.seed_path("hugo/posts/getting-started.md");
    let good = std::fs::read_to_string(&path).unwrap();
    let id = daemon.id_of("getting-started").to_string();
    let broken = good.replacen(
        "tags: [\"Static Sites\", \"Go\"]",
        "tags: [\"Static Sites\", \"Go\"",
        1,
    );
    assert_ne!(broken, good);
    write_file(&path, broken.replace("milliseconds", "seconds").as_bytes());
    let reason = daemon
        .wait_for_status("the broken article", |s| {
            status_note(s, "rejects", "hugo/posts/getting-started.md")
        })
        .await;
    // The list opened on line 6 is found unclosed where line 7 starts another key.
    assert!(
        reason.starts_with("front matter, line 7, column"),
        "{reason}"
    );
    for path in [
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/tags/go.atom",
        "/categories/tutorials.rss",
    ] {
        let feed = daemon.feed(path).await;
        let item =
            entry(&feed, &id).unwrap_or_else(|| panic!("{path}: the last good version is gone"));
        assert_eq!(
            item.title.as_ref().unwrap().content,
            "Getting Started with Hugo",
            "{path}"
        );
        assert!(
            content(item).contains("milliseconds"),
            "{path}: {}",
            content(item)
        );
    }
    let page = daemon.body("/entries/getting-started/").await;
    assert!(page.contains("milliseconds"), "{page}");

    write_file(&path, good.replace("milliseconds", "seconds").as_bytes());
    daemon
        .wait_for_feeds("the fixed article", |feed| {
            entry(feed, &id).is_some_and(|e| content(e).contains("<strong>seconds</strong>"))
        })
        .await;
    let status = daemon.status().await;
    assert_eq!(status["rejects"], serde_json::json!([]), "{status:#}");
    let feed = daemon.feed("/tags/go.atom").await;
    assert!(has_entry(id)(&feed));
}
