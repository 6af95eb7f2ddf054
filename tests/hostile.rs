//! A folder of hostile files dropped at once into a running daemon, beside good articles,
//! while a client keeps polling: the daemon stays up and answers; every good article is
//! published exactly once; every bad file is rejected with a reason (or, for temporary
//! names, never read); every document is well-formed; every entry link resolves.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestDaemon, eventually};
use seedfeed::config::Layer;

fn article(title: &str, body: &str) -> Vec<u8> {
    format!("World\n\n{title}\n\n\nA caption.\n\n\n\n{body}\n").into_bytes()
}

/// A good article under `name`, and the title readers must see.
struct Good {
    name: &'static str,
    bytes: Vec<u8>,
    title: String,
}

fn good_files() -> Vec<Good> {
    let mut good = Vec::new();
    let mut add = |name: &'static str, bytes: Vec<u8>, title: &str| {
        good.push(Good {
            name,
            bytes,
            title: title.to_owned(),
        })
    };
    for (name, title) in [
        ("plain_1.txt", "An ordinary article"),
        ("plain_2.txt", "Another ordinary article"),
    ] {
        add(name, article(title, &format!("The body of {name}.")), title);
    }
    let markup = "<script>alert(1)</script> & ]]> \"quoted\" <b>bold</b>";
    add(
        "markup.txt",
        article(markup, "Body with <i>tags</i> and ]]> in it."),
        markup,
    );
    // Control characters XML cannot carry are removed from the text.
    add(
        "control.txt",
        article("Bell\u{7} and escape\u{1b} here", "A \u{1} body."),
        "Bell and escape here",
    );
    // Not UTF-8: decoded as Windows-1252.
    add(
        "latin1.txt",
        b"World\n\nCaf\xe9 cr\xe8me \x93quoted\x94\n\n\nA caption.\n\n\n\nBody.\n".to_vec(),
        "Café crème \u{201c}quoted\u{201d}",
    );
    // Mostly UTF-8 with a stray Windows-1252 byte.
    add(
        "mixed.txt",
        "World\n\nNa\u{ef}ve \u{2014} d\u{e9}j\u{e0} vu\n\n\nA caption.\n\n\n\nA stray byte: \u{1}"
            .bytes()
            .chain(*b"\x96 there.\n")
            .collect(),
        "Na\u{ef}ve \u{2014} d\u{e9}j\u{e0} vu",
    );
    let long_title = "A very long title ".repeat(100);
    add(
        "long_title.txt",
        article(&long_title, "Short body."),
        long_title.trim(),
    );
    let paragraphs: String = (0..10_000)
        .map(|i| format!("Paragraph {i} of a very long article.\n\n"))
        .collect();
    add(
        "ten_thousand_paragraphs.txt",
        article("Ten thousand paragraphs", &paragraphs),
        "Ten thousand paragraphs",
    );
    add(
        "a&b <c> \"d\" #1?%.txt",
        article("Odd characters in the file name", "Body."),
        "Odd characters in the file name",
    );
    let long_name: &'static str = Box::leak(format!("{}.txt", "n".repeat(240)).into_boxed_str());
    add(
        long_name,
        article("A very long file name", "Body."),
        "A very long file name",
    );
    add(
        "crlf.txt",
        b"World\r\n\r\nWindows line ends\r\n\r\n\r\nA caption.\r\n\r\n\r\n\r\nBody.\r\n".to_vec(),
        "Windows line ends",
    );
    add(
        "sub/dir/nested.txt",
        article("In a subfolder", "Body."),
        "In a subfolder",
    );
    add(
        "x.txt/inside.txt",
        article("Inside a folder named x.txt", "Body."),
        "Inside a folder named x.txt",
    );
    good
}

/// Files that must be rejected, with a word their reason must contain.
fn bad_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    binary[10] = 0;
    vec![
        ("binary.txt", binary, "binary"),
        ("empty.txt", Vec::new(), "empty"),
        ("whitespace.txt", b"  \n\n\t \r\n   \n".to_vec(), "empty"),
        (
            "nul.txt",
            b"Title\0with\0NUL\0bytes\0\0\0\0\0".to_vec(),
            "binary",
        ),
        ("huge.txt", vec![b'a'; 2 * 1024 * 1024], "too large"),
    ]
}

/// Temporary names that are never read, whatever they hold.
const TEMPORARIES: [&str; 7] = [
    ".plain_1.txt.Xy12Zq",
    ".#plain_1.txt",
    "plain_1.txt~",
    "plain_1.txt.swp",
    "plain_1.txt.tmp",
    "plain_1.txt.part",
    "4913",
];

fn write(root: &Path, name: &str, bytes: &[u8]) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_folder_dropped_at_once_leaves_the_daemon_up_and_the_feeds_sound() {
    let daemon = TestDaemon::start_with(Layer {
        feed_size: Some(100),
        ..Layer::default()
    })
    .await;
    let good = good_files();
    let bad = bad_files();

    // The folder, built beside the seeds folder, then moved in entry by entry.
    let staging = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.txt"),
        article("Secret", "Outside."),
    )
    .unwrap();
    for file in &good {
        write(staging.path(), file.name, &file.bytes);
    }
    for (name, bytes, _) in &bad {
        write(staging.path(), name, bytes);
    }
    for name in TEMPORARIES {
        write(staging.path(), name, &article(name, "A temporary file."));
    }
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        staging.path().join("link_outside.txt"),
    )
    .unwrap();
    nix::unistd::mkfifo(
        &staging.path().join("pipe.txt"),
        nix::sys::stat::Mode::S_IRWXU,
    )
    .unwrap();
    // A name that is not UTF-8 (Latin-1 "café.txt"): it can be no key, URL or path.
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(
        staging.path().join(latin1),
        article("Latin-1 name", "Body."),
    )
    .unwrap();

    // A normal client keeps polling throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let poller = {
        let (stop, answered) = (Arc::clone(&stop), Arc::clone(&answered));
        let url = daemon.url("/feed.atom");
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                let response = client.get(&url).send().await;
                let status = response.as_ref().map(reqwest::Response::status);
                assert!(
                    matches!(status, Ok(s) if s == 200),
                    "a normal client was not served: {status:?}"
                );
                answered.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let mut entries: Vec<_> = std::fs::read_dir(staging.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    entries.sort();
    for name in &entries {
        std::fs::rename(staging.path().join(name), daemon.seeds.path().join(name)).unwrap();
    }

    // Every good article published, every bad file rejected.
    let wanted_rejects: BTreeSet<&str> = bad
        .iter()
        .map(|(name, _, _)| *name)
        .chain(["link_outside.txt", "pipe.txt", "caf\u{fffd}.txt"])
        .collect();
    eventually("every good article and every reject", || async {
        let status: serde_json::Value =
            serde_json::from_str(&daemon.body("/status").await).unwrap();
        status["entries"] == good.len() && status["files"]["rejected"] == wanted_rejects.len()
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    poller.await.unwrap();
    assert!(answered.load(Ordering::Relaxed) > 0);

    let status: serde_json::Value = serde_json::from_str(&daemon.body("/status").await).unwrap();
    let rejects: BTreeMap<String, String> = status["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejects.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        wanted_rejects,
        "{status}"
    );
    for (name, _, word) in &bad {
        assert!(rejects[*name].contains(word), "{name}: {}", rejects[*name]);
    }
    assert!(rejects["link_outside.txt"].contains("outside the seeds folder"));
    assert!(rejects["pipe.txt"].contains("named pipe"));
    assert!(rejects["caf\u{fffd}.txt"].contains("not valid UTF-8"));
    assert_eq!(status["files"]["duplicates"], 0, "{status}");

    // Each good article exactly once, under the id of its key, with its title.
    let json: serde_json::Value = serde_json::from_str(&daemon.body("/feed.json").await).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), good.len());
    let mut ids = BTreeSet::new();
    for file in &good {
        let key = Path::new(file.name).file_stem().unwrap().to_str().unwrap();
        let id = daemon.id_of(key).to_string();
        let item = items.iter().find(|i| i["id"] == id.as_str());
        let item = item.unwrap_or_else(|| panic!("{} is not in the feed", file.name));
        let title = item["title"].as_str().unwrap();
        // A very long title is cut at a word, with an ellipsis.
        match title.strip_suffix('…') {
            Some(cut) if title != file.title => {
                assert!(
                    file.title.starts_with(cut.trim_end()),
                    "{}: {title}",
                    file.name
                );
            }
            _ => assert_eq!(title, file.title, "{}", file.name),
        }
        assert!(ids.insert(id), "{} twice", file.name);
    }

    // Every document is well-formed, and every entry link resolves as written.
    let opml = daemon.body("/feeds.opml").await;
    let outline = roxmltree::Document::parse(&opml).unwrap();
    // Each feed the list names (its Atom document), in each of the three formats.
    let feeds: Vec<String> = outline
        .descendants()
        .filter_map(|n| n.attribute("xmlUrl"))
        .filter_map(|url| url.strip_suffix(".atom"))
        .flat_map(|stem| ["atom", "rss", "json"].map(|ext| format!("{stem}.{ext}")))
        .collect();
    assert!(feeds.len() >= 6, "the main feeds and a section's: {opml}");
    let client = reqwest::Client::new();
    for url in &feeds {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let body = response.text().await.unwrap();
        if url.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&body)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        } else {
            roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{url}: {e}"));
            feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }
    let index = daemon.get("/").await;
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    let atom = daemon.body("/feed.atom").await;
    let atom = roxmltree::Document::parse(&atom).unwrap();
    let atom_links: BTreeSet<String> = atom
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .flat_map(|entry| entry.children().filter(|c| c.has_tag_name("link")))
        .filter_map(|link| link.attribute("href"))
        .map(str::to_owned)
        .collect();
    let json_links: BTreeSet<String> = items
        .iter()
        .map(|i| i["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(atom_links, json_links);
    for url in &json_links {
        assert!(
            !url.contains(' ') && !url.contains('"') && !url.contains('<') && !url.contains('#'),
            "not percent-encoded: {url}"
        );
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
    }
}
