//! `seedfeed import` and `seedfeed new`, run as the binary over temporary folders: every
//! written file's front matter is read back with the `toml` crate and compared field by
//! field with the source; re-runs, a URL source on a loopback server, hostile titles and
//! symlinks.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::articles::import_fixture as fixture;
use common::binary::{Ran, seedfeed_in as seedfeed};
use tempfile::TempDir;
use toml::{Table, Value};

fn import(source: &str, into: &Path) -> Ran {
    let cwd = into.ancestors().find(|dir| dir.is_dir()).unwrap();
    Ran::of(
        seedfeed(cwd)
            .args(["import", source, "--into"])
            .arg(into)
            .output()
            .unwrap(),
    )
}

/// Imports `source` into a new folder and asks that it worked.
fn import_fixture(name: &str) -> (TempDir, PathBuf, Ran) {
    let tmp = TempDir::new().unwrap();
    let into = tmp.path().join("seeds");
    let run = import(fixture(name).to_str().unwrap(), &into);
    assert_eq!(run.code, Some(0), "{run}");
    (tmp, into, run)
}

/// An article file as written: its front matter, parsed, and its body.
#[derive(Debug, Clone, PartialEq)]
struct Article {
    name: String,
    front: Table,
    body: String,
}

impl Article {
    fn read(path: &Path) -> Self {
        let text = fs::read_to_string(path).unwrap();
        let rest = text
            .strip_prefix("+++\n")
            .unwrap_or_else(|| panic!("{} opens with no +++:\n{text}", path.display()));
        let (toml, body) = rest
            .split_once("\n+++\n")
            .unwrap_or_else(|| panic!("{} has no closing +++:\n{text}", path.display()));
        let front: Table = toml.parse().unwrap_or_else(|e| panic!("{text}\n{e}"));
        Self {
            name: path.file_name().unwrap().to_str().unwrap().to_owned(),
            front,
            body: body.to_owned(),
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.front.get(key).map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{key} is not a string in {}", self.name))
        })
    }

    fn date(&self, key: &str) -> Option<DateTime<Utc>> {
        self.str(key).map(|d| {
            DateTime::parse_from_rfc3339(d)
                .unwrap_or_else(|e| panic!("{key} = {d:?} in {}: {e}", self.name))
                .with_timezone(&Utc)
        })
    }

    fn strings(&self, key: &str) -> Vec<&str> {
        self.front.get(key).map_or_else(Vec::new, |v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect()
        })
    }

    /// The HTML inside the body's `<div>` block, which has no blank line.
    fn html(&self) -> &str {
        let html = self
            .body
            .strip_prefix("\n<div>\n")
            .and_then(|b| b.strip_suffix("\n</div>\n"))
            .unwrap_or_else(|| {
                panic!("{}: body is not one <div> block:\n{}", self.name, self.body)
            });
        assert!(
            !html.lines().any(|l| l.trim().is_empty()),
            "{}: a blank line ends the HTML block:\n{html}",
            self.name
        );
        html
    }
}

/// Every article file of `dir`, by file name; nothing else may be in it.
fn articles(dir: &Path) -> BTreeMap<String, Article> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(name.ends_with(".md") && !name.starts_with('.'), "{name}");
            (name, Article::read(&path))
        })
        .collect()
}

/// The article whose front matter has `id`.
fn with_id<'a>(articles: &'a BTreeMap<String, Article>, id: &str) -> &'a Article {
    articles
        .values()
        .find(|a| a.str("id") == Some(id))
        .unwrap_or_else(|| panic!("no article with id {id:?} in {:?}", articles.keys()))
}

fn date(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Whether a name is `{slug}-{10 hex digits}.md`, the slug at most 80 characters.
fn is_import_name(name: &str) -> bool {
    let Some((slug, hash)) = name.strip_suffix(".md").and_then(|s| s.rsplit_once('-')) else {
        return false;
    };
    hash.len() == 10
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && !slug.is_empty()
        && slug.len() <= 80
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

#[test]
fn rss_items_keep_ids_dates_authors_tags_images_and_content() {
    let (_tmp, into, run) = import_fixture("rss.xml");
    let articles = articles(&into);
    assert_eq!(articles.len(), 3, "{:?}", articles.keys());
    assert!(articles.keys().all(|n| is_import_name(n)), "{articles:?}");
    assert!(
        run.stdout
            .contains("imported 3 items: 3 new, 0 unchanged, 0 updated"),
        "{run}"
    );

    let first = with_id(&articles, "tag:old.example.org,2020:post-1");
    assert!(first.name.starts_with("hello-welcome-"), "{}", first.name);
    assert_eq!(first.str("title"), Some("Hello & welcome"));
    assert_eq!(first.date("date"), Some(date("2020-03-03T09:15:00Z")));
    assert_eq!(first.str("updated"), None, "RSS has no update date");
    assert_eq!(first.strings("authors"), ["Ada Lovelace"]);
    assert_eq!(first.strings("tags"), ["Rust", "Feeds"]);
    assert_eq!(first.str("summary"), Some("A first summary & more."));
    assert_eq!(
        first.str("image"),
        Some("https://old.example.org/images/hello.jpg")
    );
    // The page on the old site is not a link post.
    assert_eq!(first.str("link"), None);
    let html = first.html();
    assert!(
        html.starts_with("<p>First paragraph with *stars* and a <a href=\"https://example.com/\">link</a>.</p>\n&#32;\n    <p>An indented paragraph"),
        "{html}"
    );
    assert!(
        html.contains("<pre>code line\n&#32;\nafter a blank line</pre>"),
        "{html}"
    );

    // No guid: the link is the id readers knew it by.
    let second = with_id(&articles, "https://old.example.org/2020/second");
    let authors = second.front["authors"].as_array().unwrap();
    assert_eq!(authors[0]["name"].as_str(), Some("Bob Builder"));
    assert_eq!(authors[0]["email"].as_str(), Some("bob@example.org"));
    assert_eq!(
        second.str("comments"),
        Some("https://old.example.org/2020/second#comments")
    );
    assert_eq!(
        second.str("image"),
        Some("https://old.example.org/images/second.png")
    );
    assert_eq!(second.html(), "Only a description, with <em>markup</em>.");
    assert_eq!(second.str("summary"), None, "the description is the body");

    // The same title as the first: a file of its own.
    let third = with_id(&articles, "https://old.example.org/?p=3");
    assert!(third.name.starts_with("hello-welcome-"), "{}", third.name);
    assert_ne!(third.name, first.name);
}

#[test]
fn atom_entries_keep_their_metadata_and_link_posts_their_target() {
    let (_tmp, into, _) = import_fixture("atom.xml");
    let articles = articles(&into);
    assert_eq!(articles.len(), 2, "{:?}", articles.keys());

    let bold = with_id(&articles, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
    assert_eq!(bold.str("title"), Some("A bold claim"));
    assert_eq!(bold.date("date"), Some(date("2021-06-01T06:30:00Z")));
    assert_eq!(bold.date("updated"), Some(date("2021-06-02T09:00:00Z")));
    let authors = bold.front["authors"].as_array().unwrap();
    assert_eq!(authors.len(), 1);
    assert_eq!(authors[0]["name"].as_str(), Some("Grace Hopper"));
    assert_eq!(authors[0]["email"].as_str(), Some("grace@example.net"));
    assert_eq!(
        authors[0]["uri"].as_str(),
        Some("https://atom.example.net/grace")
    );
    assert_eq!(bold.strings("tags"), ["COBOL", "history"]);
    assert_eq!(
        bold.str("summary"),
        Some("Bold claims & how to check them.")
    );
    assert_eq!(
        bold.str("image"),
        Some("https://atom.example.net/img/bold.png")
    );
    assert_eq!(bold.str("link"), None);
    assert_eq!(
        bold.html(),
        "<p>The <strong>content</strong> of the claim.</p>"
    );

    let link = with_id(&articles, "tag:atom.example.net,2021:link-1");
    assert_eq!(
        link.str("link"),
        Some("https://elsewhere.example.com/story")
    );
    assert_eq!(link.str("lang"), Some("fr"));
    assert_eq!(
        link.strings("authors"),
        ["Site Author"],
        "the feed's author"
    );
    assert_eq!(link.date("date"), Some(date("2021-05-20T10:00:00Z")));
    assert_eq!(link.str("updated"), None);
    assert_eq!(
        link.html(),
        "<p>Regardez ceci &lt;pas du HTML&gt;.</p>\n<p>Deuxième paragraphe.</p>"
    );
}

#[test]
fn json_feed_items_keep_image_language_and_external_url() {
    let (_tmp, into, _) = import_fixture("feed.json");
    let articles = articles(&into);
    assert_eq!(articles.len(), 3, "{:?}", articles.keys());

    let first = with_id(&articles, "2347259");
    assert_eq!(first.str("title"), Some("JSON first"));
    assert_eq!(
        first.str("image"),
        Some("https://json.example.com/img/first.webp")
    );
    assert_eq!(first.str("lang"), Some("en-GB"));
    assert_eq!(first.str("summary"), Some("A short summary"));
    assert_eq!(first.strings("tags"), ["json", "feeds"]);
    assert_eq!(first.date("date"), Some(date("2022-01-02T03:04:05Z")));
    assert_eq!(first.date("updated"), Some(date("2022-01-03T00:00:00Z")));
    let authors = first.front["authors"].as_array().unwrap();
    assert_eq!(authors[0]["name"].as_str(), Some("Linus"));
    assert_eq!(
        authors[0]["uri"].as_str(),
        Some("https://json.example.com/linus")
    );
    assert_eq!(
        first.str("link"),
        None,
        "url is the old page, not a link post"
    );
    assert_eq!(first.html(), "<p>Hello from <code>JSON</code>.</p>");

    let link = with_id(&articles, "https://json.example.com/2022/link");
    assert_eq!(link.str("link"), Some("https://other.example.org/article"));
    assert_eq!(
        link.html(),
        "<p>Plain text with &lt;angle&gt; brackets &amp; an ampersand.</p>"
    );

    let untitled = with_id(&articles, "micro-3");
    assert!(untitled.name.starts_with("untitled-"), "{}", untitled.name);
    assert_eq!(untitled.str("title"), None);
}

#[test]
fn wordpress_exports_give_posts_and_drafts_and_skip_the_rest() {
    let (_tmp, into, run) = import_fixture("wxr.xml");
    let articles = articles(&into);
    assert_eq!(articles.len(), 2, "{:?}", articles.keys());
    assert!(
        run.stdout.contains(
            "imported 2 items: 2 new, 0 unchanged, 0 updated; skipped 1 attachment, 1 page, 1 post with status trash"
        ),
        "{run}"
    );

    let post = with_id(&articles, "https://wp.example.org/?p=10");
    assert!(post.name.starts_with("published-post-"), "{}", post.name);
    assert_eq!(post.str("title"), Some("Published post"));
    assert_eq!(post.date("date"), Some(date("2023-05-06T07:08:09Z")));
    assert_eq!(post.date("updated"), Some(date("2023-06-01T10:00:00Z")));
    assert_eq!(post.front.get("draft"), None);
    assert_eq!(post.strings("authors"), ["Margaret Hamilton"]);
    assert_eq!(post.str("section"), Some("News"));
    assert_eq!(post.strings("tags"), ["Science", "Apollo", "Software"]);
    assert_eq!(post.str("summary"), Some("The excerpt of the post."));
    assert_eq!(
        post.str("image"),
        Some("https://wp.example.org/wp-content/uploads/2023/05/moon.jpg")
    );
    assert_eq!(post.str("image_alt"), Some("The Moon over the lake"));
    assert_eq!(
        post.html(),
        "<p>First paragraph of the post,<br />\nwith a line break.</p>\n<h2>A heading</h2>\n<p>Second paragraph with <em>emphasis</em>.</p>"
    );

    let draft = with_id(&articles, "https://wp.example.org/?p=12");
    assert_eq!(draft.front.get("draft"), Some(&Value::Boolean(true)));
    assert_eq!(draft.str("date"), None, "a draft's zero date is no date");
    assert_eq!(draft.strings("tags"), ["WIP"]);
    assert!(draft.html().contains("<p>Not finished.</p>"), "{draft:?}");
}

#[test]
fn running_again_writes_no_second_file_and_rewrites_what_changed() {
    let (tmp, into, _) = import_fixture("rss.xml");
    let before = articles(&into);

    let again = import(fixture("rss.xml").to_str().unwrap(), &into);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(
        again
            .stdout
            .contains("imported 3 items: 0 new, 3 unchanged, 0 updated"),
        "{again}"
    );
    assert_eq!(again.stdout.matches("unchanged: ").count(), 3, "{again}");
    assert_eq!(articles(&into), before);

    // The old site retitled and edited its first post: the same file, rewritten.
    let source = fs::read_to_string(fixture("rss.xml"))
        .unwrap()
        .replacen(
            "<title>Hello &amp; welcome</title>",
            "<title>Hello again, edited</title>",
            1,
        )
        .replace("First paragraph with", "Edited paragraph with");
    let edited = tmp.path().join("edited.xml");
    fs::write(&edited, source).unwrap();
    let third = import(edited.to_str().unwrap(), &into);
    assert_eq!(third.code, Some(0), "{third}");
    assert!(
        third
            .stdout
            .contains("imported 3 items: 0 new, 2 unchanged, 1 updated"),
        "{third}"
    );
    let after = articles(&into);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "the file keeps its name (the entry's key)"
    );
    let first = with_id(&after, "tag:old.example.org,2020:post-1");
    assert!(
        third
            .stdout
            .contains(&format!("updated: {}", into.join(&first.name).display())),
        "{third}"
    );
    assert_eq!(first.str("title"), Some("Hello again, edited"));
    assert!(first.html().starts_with("<p>Edited paragraph"), "{first:?}");
}

/// Answers one request per response given, in order, on a loopback port; returns the
/// base URL. Each connection is read up to the end of its request head and closed.
fn serve(responses: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = (&stream).write_all(&response);
        }
    });
    format!("http://{address}")
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

#[test]
fn a_feed_is_fetched_from_a_url() {
    let atom = fs::read(fixture("atom.xml")).unwrap();
    let base = serve(vec![
        response("200 OK", "Content-Type: application/atom+xml\r\n", &atom),
        response("404 Not Found", "", b"gone"),
        // Says it is far bigger than the cap: refused before the body is read.
        b"HTTP/1.1 200 OK\r\nContent-Length: 60000000\r\nConnection: close\r\n\r\n<feed".to_vec(),
    ]);
    let tmp = TempDir::new().unwrap();
    let into = tmp.path().join("seeds");

    let url = format!("{base}/feed.atom");
    let run = import(&url, &into);
    assert_eq!(run.code, Some(0), "{run}");
    let articles = articles(&into);
    assert_eq!(articles.len(), 2);
    with_id(&articles, "tag:atom.example.net,2021:link-1");

    let missing = format!("{base}/missing.atom");
    let run = import(&missing, &into);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains(&missing), "{run}");
    assert!(run.stderr.contains("404"), "{run}");

    let huge = format!("{base}/huge.atom");
    let run = import(&huge, &into);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains(&huge), "{run}");
    assert!(run.stderr.contains("60000000 bytes"), "{run}");
}

#[test]
fn hostile_titles_make_plain_names_inside_the_folder() {
    let titles = [
        "../../etc/passwd".to_owned(),
        "<script>alert(1)</script> &amp; <b>bold</b>".to_owned(),
        "word ".repeat(60),
        "?!… — *** ///".to_owned(),
        "two\n+++\nlines".to_owned(),
    ];
    let items: String = titles
        .iter()
        .enumerate()
        .map(|(n, title)| {
            let escaped = title.replace('&', "&amp;").replace('<', "&lt;");
            format!("<item><title>{escaped}</title><guid>urn:x:{n}</guid><description>x</description></item>")
        })
        .collect();
    // A sloppy feed repeats an id: the second item is not a second file.
    let repeated = "<item><title>Repeated</title><guid>urn:x:0</guid></item>";
    // An id over three lines, the middle one the closing fence of the front matter.
    let fenced = "<item><title>Fenced</title><guid>urn:x:\n+++\nfenced</guid></item>";
    let rss = format!(
        "<rss version=\"2.0\"><channel><title>t</title>{items}{repeated}{fenced}</channel></rss>"
    );
    let tmp = TempDir::new().unwrap();
    let source = tmp.path().join("hostile.xml");
    fs::write(&source, rss).unwrap();
    let into = tmp.path().join("deep/seeds");

    let run = import(source.to_str().unwrap(), &into);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("imported 6 items: 6 new, 0 unchanged, 0 updated; skipped 1 with the id of an item before"),
        "{run}"
    );
    assert!(run.stderr.contains("item \"urn:x:0\": skipped"), "{run}");
    let articles = articles(&into);
    assert_eq!(articles.len(), titles.len() + 1, "{:?}", articles.keys());
    let fenced = with_id(&articles, "urn:x: +++ fenced");
    assert_eq!(fenced.str("title"), Some("Fenced"));
    for article in articles.values() {
        assert!(is_import_name(&article.name), "{}", article.name);
    }
    let names: Vec<&str> = articles
        .keys()
        .map(|n| n.rsplit_once('-').unwrap().0)
        .collect();
    for slug in [
        "etc-passwd",
        "script-alert-1-script-amp-b-bold-b",
        "untitled",
        "two-lines",
    ] {
        assert!(names.contains(&slug), "{slug} in {names:?}");
    }
    for (n, title) in titles.iter().enumerate() {
        let article = with_id(&articles, &format!("urn:x:{n}"));
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(article.str("title"), Some(title.as_str()));
    }
    // Nothing beside the folder: no `etc` climbed out of it.
    let beside: Vec<_> = fs::read_dir(tmp.path().join("deep")).unwrap().collect();
    assert_eq!(beside.len(), 1);
    assert!(!tmp.path().join("etc").exists());
}

#[test]
fn a_symlinked_file_is_not_written_through() {
    let (tmp, into, _) = import_fixture("atom.xml");
    let articles = articles(&into);
    let name = &with_id(&articles, "tag:atom.example.net,2021:link-1").name;
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, "not yours").unwrap();
    fs::remove_file(into.join(name)).unwrap();
    std::os::unix::fs::symlink(&outside, into.join(name)).unwrap();

    let run = import(fixture("atom.xml").to_str().unwrap(), &into);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains("tag:atom.example.net,2021:link-1") && run.stderr.contains("symlink"),
        "{run}"
    );
    assert!(
        run.stdout.contains("1 unchanged") && run.stdout.contains("1 failed"),
        "{run}"
    );
    assert_eq!(fs::read_to_string(&outside).unwrap(), "not yours");
    assert!(
        fs::symlink_metadata(into.join(name))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_source_that_is_no_feed_is_an_error_naming_it() {
    let tmp = TempDir::new().unwrap();
    let source = tmp.path().join("notes.txt");
    fs::write(&source, "just some text").unwrap();
    let run = import(source.to_str().unwrap(), &tmp.path().join("seeds"));
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("notes.txt"), "{run}");
}

#[test]
fn new_writes_a_dated_article_and_never_overwrites() {
    let tmp = TempDir::new().unwrap();
    let seeds = tmp.path().join("my-seeds");
    let new = |title: &str| {
        Ran::of(
            seedfeed(tmp.path())
                .args([
                    "new",
                    title,
                    "--section",
                    "News",
                    "--tag",
                    "a",
                    "--tag",
                    "b c",
                ])
                .arg("--seeds")
                .arg(&seeds)
                .output()
                .unwrap(),
        )
    };
    let before = Utc::now();
    let run = new("Hello, World!");
    let after = Utc::now();
    assert_eq!(run.code, Some(0), "{run}");
    let path = seeds.join("hello-world.md");
    assert_eq!(run.stdout.trim(), path.display().to_string());
    let article = Article::read(&path);
    assert_eq!(article.str("title"), Some("Hello, World!"));
    assert_eq!(article.str("section"), Some("News"));
    assert_eq!(article.strings("tags"), ["a", "b c"]);
    let date = article.date("date").unwrap();
    assert!(
        date >= before.with_timezone(&Utc) - chrono::Duration::seconds(1) && date <= after,
        "{date}"
    );
    assert_eq!(article.body, "\n");
    let written = fs::read(&path).unwrap();

    let again = new("Hello, World!");
    assert_eq!(again.code, Some(2), "{again}");
    assert!(
        again.stderr.contains(&path.display().to_string())
            && again.stderr.contains("already exists"),
        "{again}"
    );
    assert_eq!(fs::read(&path).unwrap(), written);

    let hostile = new("../../etc/passwd");
    assert_eq!(hostile.code, Some(0), "{hostile}");
    assert!(seeds.join("etc-passwd.md").is_file());
    assert!(!tmp.path().join("etc").exists());
}

#[test]
fn new_finds_the_seeds_folder_as_serve_does() {
    let tmp = TempDir::new().unwrap();
    // The default: ./seeds.
    let run = Ran::of(
        seedfeed(tmp.path())
            .args(["new", "Default"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert!(tmp.path().join("seeds/default.md").is_file());

    let from_env = tmp.path().join("env-seeds");
    let run = Ran::of(
        seedfeed(tmp.path())
            .args(["new", "From env"])
            .env("SEEDFEED_SEEDS", &from_env)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert!(from_env.join("from-env.md").is_file());

    let config = tmp.path().join("seedfeed.toml");
    fs::write(&config, "seeds = \"config-seeds\"\n").unwrap();
    let run = Ran::of(
        seedfeed(tmp.path())
            .args(["new", "From config", "--config"])
            .arg(&config)
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert!(tmp.path().join("config-seeds/from-config.md").is_file());
}
