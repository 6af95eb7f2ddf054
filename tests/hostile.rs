//! A folder of hostile files dropped at once into a running daemon, beside good articles,
//! while a client keeps polling (issue 5): the daemon stays up and answers; every good
//! article is published exactly once; every bad file is rejected with a reason, or, for
//! temporary and hidden names, never read; every document served is well-formed; every
//! entry link resolves exactly as written; and a restart changes none of it.
//!
//! Findings are collected rather than asserted one at a time, so that a failing run
//! names every file and document that went wrong at once.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::articles::{captioned, write_under};
use common::daemon::{SETTLE_MS, TestDaemon, header, http_client, patient_client};
use common::feeds::{ATOM_NS, CONTENT_NS, feed_links, opml_urls, rss_html, unescape_html};
use common::poll::within;
use common::site::draft;
use seedfeed::config::Layer;
use seedfeed::model::EntryDraft;
use seedfeed::normalize::{escape_html, looks_like_html};
use seedfeed::parse::parse_article;

/// A client that gets no answer within this long counts as not served. Generous: the
/// machine is shared, and the feeds here are megabytes served by a debug build.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_folder_dropped_at_once_leaves_the_daemon_up_and_the_feeds_sound() {
    // Room in the feeds for every good article, so each one can be checked there.
    let mut daemon = TestDaemon::start_with(Layer {
        feed_size: Some(200),
        ..Layer::default()
    })
    .await;
    let max_file_bytes = usize::try_from(daemon.config().max_file_bytes).unwrap();

    // Beside the seeds folder, on the same filesystem, so that a rename moves it in.
    let staging = tempfile::tempdir_in(daemon.seeds.path().parent().unwrap()).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(staging.path(), outside.path(), max_file_bytes);

    let poller = Poller::start([daemon.url("/healthz"), daemon.url("/feed.atom")]);

    // The drop: every entry of the staging folder renamed in, one right after another
    // (the subfolders go whole).
    let mut names: Vec<_> = std::fs::read_dir(staging.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in &names {
        std::fs::rename(staging.path().join(name), daemon.seeds.path().join(name)).unwrap();
    }

    // Wait (bounded) until the daemon has taken it all in; whatever is missing then is
    // reported below, file by file.
    let published_count = corpus.good.len() + corpus.pairs.len();
    let _ = within(|| async {
        let status = daemon.json("/status").await;
        let done = status["entries"] == published_count
            && status["files"]["duplicates"] == 2
            && status["files"]["rejected"]
                .as_u64()
                .is_some_and(|n| n as usize > corpus.rejected.len());
        if done { Ok(()) } else { Err(()) }
    })
    .await;
    // A late second publication would show within a few more settle times.
    tokio::time::sleep(Duration::from_millis(4 * SETTLE_MS)).await;

    let mut problems = Problems::default();
    poller.stop(&mut problems).await;
    let client = patient_client();

    let status = daemon.json("/status").await;
    let set_aside = SetAside::of(&status);
    corpus.check_status(&status, &set_aside, &mut problems);
    let json = daemon.json("/feed.json").await;
    let expected = corpus.expected_entries(&json, &set_aside, &mut problems);
    let links = check_feeds(&daemon, &client, &expected, &mut problems).await;
    check_links(&daemon, &client, &expected, &links, &mut problems).await;
    check_other_documents(&daemon, &client, &mut problems).await;

    // A restart over the same folder changes nothing: the start-up scan finds every file
    // as it was stored, so no entry is published again and no rival takes its place.
    let before = State::of(&daemon).await;
    daemon.restart().await;
    let (Ok(after) | Err(after)) = within(|| async {
        let state = State::of(&daemon).await;
        if state == before {
            Ok(state)
        } else {
            Err(state)
        }
    })
    .await;
    problems.check(after == before, || {
        format!(
            "after a restart the feed and /status differ:\nbefore {before:#?}\nafter {after:#?}"
        )
    });
    let status = daemon.json("/status").await;
    problems.check(status["totals"]["published"] == 0, || {
        format!("a restart published entries again: {}", status["totals"])
    });

    assert!(
        problems.0.is_empty(),
        "{} problems with the hostile folder:\n- {}",
        problems.0.len(),
        problems.0.join("\n- ")
    );
}

/// The canonical layout: section, title, caption, body.
fn article(section: &str, title: &str, body: &str) -> Vec<u8> {
    captioned(section, title, "A caption.", body)
}

/// A file that must be published exactly once.
struct Good {
    /// Relative to the seeds folder.
    path: String,
    bytes: Vec<u8>,
    /// The title readers must see: the text as written, with only the characters XML
    /// cannot carry removed.
    title: String,
    /// The title is over the parser's limit: readers see a prefix of it, cut at a word.
    cut: bool,
    /// Text the entry's content must hold (as text, once its HTML is decoded).
    body: Vec<String>,
}

fn good(path: &str, bytes: Vec<u8>, title: &str) -> Good {
    Good {
        path: path.to_owned(),
        bytes,
        title: title.to_owned(),
        cut: false,
        body: Vec::new(),
    }
}

/// Inputs that look hostile but are articles: markup, entities, control characters,
/// legacy and mixed encodings, huge and odd files, and names that need escaping.
fn good_files(max_file_bytes: usize) -> Vec<Good> {
    let mut files = vec![
        good(
            "plain_1.txt",
            article("World", "An ordinary article", "The body of plain_1."),
            "An ordinary article",
        ),
        good(
            "plain_2.txt",
            article("World", "Another ordinary article", "The body of plain_2."),
            "Another ordinary article",
        ),
    ];

    // Markup, CDATA ends and quotes in the text: readers see them as text.
    let markup = "<script>alert(1)</script> & ]]> \"quoted\" 'single' <b>bold</b>";
    let paragraph = "Body with <i>tags</i>, ]]> and <![CDATA[ x ]]> in it & more.";
    let related = "<b>Related</b> ]]> &amp; more";
    files.push(Good {
        body: vec![paragraph.to_owned(), related.to_owned()],
        ..good(
            "markup.txt",
            article(
                "World",
                markup,
                &format!("{paragraph}\n\nMore from GlobalPost: {related}"),
            ),
            markup,
        )
    });
    // Text that is already an entity must not be decoded by anyone.
    let entities = "Fish &amp; chips &#39;n&#x27; R&D; &lt;b&gt; ]]&gt;";
    files.push(Good {
        body: vec![entities.to_owned()],
        ..good(
            "entities.txt",
            article("World", entities, entities),
            entities,
        )
    });
    files.push(good(
        "markup_section.txt",
        article("<b>Bold</b> ]]> &amp;", "Markup in the section", "Body."),
        "Markup in the section",
    ));

    // C0, DEL and C1 controls and noncharacters are removed; the rest stays.
    files.push(Good {
        body: vec!["A body with a stray control in it, and enough text around it.".into()],
        ..good(
            "control.txt",
            article(
                "World",
                "Bell\u{7} and escape\u{1b} here\u{7f}\u{85}\u{fffe}\u{fdd0}",
                "A body with a stray \u{1}control in it, and enough text around it.",
            ),
            "Bell and escape here",
        )
    });
    // Not UTF-8 at all: Windows-1252, whose undefined 0x81 is a C1 control, removed.
    files.push(Good {
        body: vec!["Un caf\u{e9} \u{2013} tr\u{e8}s bien.".into()],
        ..good(
            "latin1.txt",
            b"Sant\xe9\n\nCaf\xe9 cr\xe8me \x93quoted\x94\x81\n\n\nA caption.\n\n\n\nUn caf\xe9 \x96 tr\xe8s bien.\n"
                .to_vec(),
            "Caf\u{e9} cr\u{e8}me \u{201c}quoted\u{201d}",
        )
    });
    // Mostly UTF-8 with a stray Windows-1252 byte.
    files.push(Good {
        body: vec!["A stray byte \u{2013} there.".into()],
        ..good(
            "mixed.txt",
            "World\n\nNa\u{ef}ve \u{2014} d\u{e9}j\u{e0} vu\n\n\nA caption.\n\n\n\nA stray byte "
                .bytes()
                .chain(*b"\x96 there.\n")
                .collect(),
            "Na\u{ef}ve \u{2014} d\u{e9}j\u{e0} vu",
        )
    });
    let utf16 = |title: &str| String::from_utf8(article("World", title, "Body.")).unwrap();
    let (le, be) = ("UTF-16LE title \u{1f980}", "UTF-16BE title \u{1f980}");
    files.push(good(
        "utf16le.txt",
        [0xff, 0xfe]
            .into_iter()
            .chain(utf16(le).encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        le,
    ));
    files.push(good(
        "utf16be.txt",
        [0xfe, 0xff]
            .into_iter()
            .chain(utf16(be).encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
        be,
    ));
    files.push(good(
        "utf8_bom.txt",
        [0xef, 0xbb, 0xbf]
            .into_iter()
            .chain(article("World", "After a byte order mark", "Body."))
            .collect(),
        "After a byte order mark",
    ));
    // A bidirectional override, emoji, CJK, a combining accent: legal, kept as they are.
    let unicode = "Right\u{202e}to-left \u{1f980} \u{540d}\u{524d} e\u{301}";
    files.push(good(
        "unicode.txt",
        article("World", unicode, "Body."),
        unicode,
    ));

    // Very long titles: cut at a word, or anywhere when there is no word to cut at.
    for (name, title) in [
        ("long_title.txt", "A very long title ".repeat(100)),
        ("long_word_title.txt", "x".repeat(5000)),
    ] {
        files.push(Good {
            cut: true,
            ..good(name, article("World", &title, "Short body."), title.trim())
        });
    }
    let paragraphs: String = (0..10_000)
        .map(|i| format!("Paragraph {i} of a very long article.\n\n"))
        .collect();
    files.push(Good {
        body: vec!["Paragraph 9999 of a very long article.".into()],
        ..good(
            "ten_thousand_paragraphs.txt",
            article("Long reads", "Ten thousand paragraphs", &paragraphs),
            "Ten thousand paragraphs",
        )
    });
    // Exactly max_file_bytes: the limit is for larger files.
    let mut at_limit = article("Long reads", "Exactly at the size limit", "");
    while at_limit.len() < max_file_bytes {
        at_limit.extend_from_slice(b"All work and no play makes a long article. ");
    }
    at_limit.truncate(max_file_bytes - 1);
    at_limit.push(b'\n');
    files.push(good("at_limit.txt", at_limit, "Exactly at the size limit"));
    files.push(good(
        "crlf.txt",
        b"World\r\n\r\nWindows line ends\r\n\r\n\r\nA caption.\r\n\r\n\r\n\r\nBody.\r\n".to_vec(),
        "Windows line ends",
    ));
    files.push(good(
        "cr_only.txt",
        b"World\r\rClassic Mac line ends\r\r\rA caption.\r\r\r\rBody.\r".to_vec(),
        "Classic Mac line ends",
    ));
    files.push(good(
        "single_line.txt",
        b"Only a title line, no newline".to_vec(),
        "Only a title line, no newline",
    ));
    // Sections whose feeds' URLs are slugs: transliterated, hashed, or shared.
    for (name, section) in [
        ("section_cpp.txt", "C++"),
        ("section_csharp.txt", "C#"),
        ("section_emoji.txt", "\u{1f980}\u{1f980}"),
        ("section_cjk.txt", "\u{540d}\u{524d}"),
    ] {
        let title = format!("In the section {section}");
        files.push(good(
            name,
            article(section, &title, &format!("The body of {name}.")),
            &title,
        ));
    }

    // Names that must be percent-encoded in URLs and escaped in XML.
    let odd_names = [
        "a&b <c> \"d\" #1?%.txt",
        "%2e%2e.txt",
        "a%2Fb.txt",
        "%ff.txt",
        "nul%00.txt",
        "it's + plus; semi=eq,comma@at$!*().txt",
        "back\\slash.txt",
        "tab\there.txt",
        "new\nline.txt",
        "ctrl\u{1}char.txt",
        "\u{fc}n\u{ef}c\u{f6}d\u{e9} \u{1f980} \u{540d}\u{524d}.txt",
        "rtl\u{202e}txt.exe.txt",
        "]]>.txt",
        "<!--.txt",
        " leading and trailing space .txt",
        "upper.TXT",
        "a.b.c.txt",
        "x.txt.txt",
        "CON.txt",
        // One name in Unicode's composed and decomposed forms: two keys.
        "caf\u{e9}.txt",
        "cafe\u{301}.txt",
    ];
    for (i, name) in odd_names.into_iter().enumerate() {
        let title = format!("Odd file name number {i}");
        files.push(good(
            name,
            article("World", &title, &format!("The body of odd name {i}.")),
            &title,
        ));
    }
    // Very long names, within the 255-byte limit of the filesystem.
    let long_ascii = format!("{}.txt", "n".repeat(251));
    let long_emoji = format!("{}.txt", "\u{1f980}".repeat(62));
    for (i, name) in [long_ascii, long_emoji].into_iter().enumerate() {
        assert!(name.len() <= 255);
        let title = format!("A very long file name, number {i}");
        files.push(good(&name, article("World", &title, "Body."), &title));
    }

    // The folder is watched recursively: folders moved in whole, one of them named x.txt.
    files.push(good(
        "sub/dir/article.txt",
        article("World", "In a subfolder", "Body."),
        "In a subfolder",
    ));
    files.push(good(
        &format!("deep/{}deep.txt", "d/".repeat(40)),
        article("World", "Forty folders down", "Body."),
        "Forty folders down",
    ));
    files.push(good(
        "x.txt/inside.txt",
        article("World", "Inside a folder named x.txt", "Body."),
        "Inside a folder named x.txt",
    ));
    files
}

/// Files that cannot be articles, and a word their reason must hold.
fn bad_files(max_file_bytes: usize) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..4096u32).map(|i| (i * 7919 % 251) as u8));
    vec![
        ("binary.txt", png, "NUL byte"),
        ("nul.txt", b"Title\0with\0NUL\0bytes".to_vec(), "NUL byte"),
        (
            "controls.txt",
            b"\x01\x02\x03\x04\x05\x06 abc\x1b[31m\x7f".repeat(200),
            "control characters",
        ),
        ("empty.txt", Vec::new(), "empty"),
        (
            "whitespace.txt",
            b"  \n\n\t \r\n   \x0c\n".to_vec(),
            "empty",
        ),
        ("bom_only.txt", b"\xef\xbb\xbf\n".to_vec(), "empty"),
        // A UTF-16 byte order mark before a lone surrogate.
        (
            "fake_utf16.txt",
            b"\xff\xfeA\x00\x00\xd8".to_vec(),
            "UTF-16",
        ),
        (
            "huge.txt",
            b"Huge\n\n".repeat(2 * 1024 * 1024 / 6 + 1),
            "too large",
        ),
        (
            "over_limit.txt",
            vec![b'a'; max_file_bytes + 1],
            "too large",
        ),
    ]
}

/// Names never read, whatever they hold: editor and transfer temporaries, hidden files
/// and folders, other extensions. Each holds an article titled `IGNORED {name}`.
const IGNORED: [&str; 19] = [
    ".plain_1.txt.XyZ12",
    ".#plain_1.txt",
    "#plain_1.txt#",
    "plain_1.txt~",
    "plain_1.txt.swp",
    "plain_1.txt.tmp",
    "plain_1.txt.part",
    "4913",
    ".hidden.txt",
    ".hidden/inside.txt",
    ".git/HEAD.txt",
    ".txt",
    "txt",
    "notes.md",
    "README",
    "sub/.article.txt.AbC123",
    "sub/dir/article.txt~",
    "sub/dir/.#article.txt",
    "x.txt/4913",
];

/// How the two files of a pair clash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clash {
    /// One key (`a.txt` beside `a.TXT`): one published, the other rejected.
    Key,
    /// The same content: one published, the other a duplicate of it.
    Content,
}

/// Two files, each with its bytes, and how they clash.
type Pair = (&'static str, Vec<u8>, &'static str, Vec<u8>, Clash);

/// The hostile folder, and what must become of each file in it.
struct Corpus {
    good: Vec<Good>,
    /// Path in `/status` and a word its reason must hold.
    rejected: BTreeMap<&'static str, &'static str>,
    /// Either rejected with a reason or not looked at, both sound; never published.
    rejected_or_ignored: [&'static str; 3],
    /// Never read: in no feed and not in `/status`.
    ignored: Vec<&'static str>,
    pairs: Vec<Pair>,
}

impl Corpus {
    /// Writes the folder into `staging`; `outside` holds what symlinks lead out to.
    fn write(staging: &Path, outside: &Path, max_file_bytes: usize) -> Self {
        let mut files = good_files(max_file_bytes);
        let bad = bad_files(max_file_bytes);
        for file in &files {
            write_under(staging, &file.path, &file.bytes);
        }
        for (name, bytes, _) in &bad {
            write_under(staging, name, bytes);
        }
        for name in IGNORED {
            let title = format!("IGNORED {name}");
            write_under(staging, name, &article("World", &title, "Never read."));
        }
        std::fs::create_dir(staging.join("emptydir.txt")).unwrap();

        let same = article("World", "The same content twice", "Body.");
        let linked = article("World", "Reached through a symlink too", "Body.");
        let pairs = vec![
            (
                "conflict.txt",
                article("World", "Conflict, lower case", "Body."),
                "conflict.TXT",
                article("World", "Conflict, upper case", "Body."),
                Clash::Key,
            ),
            // The key is the file name, whatever the folder.
            (
                "clash.txt",
                article("World", "Clash at the top", "Body."),
                "sub/clash.txt",
                article("World", "Clash in a subfolder", "Body."),
                Clash::Key,
            ),
            ("dup_a.txt", same.clone(), "dup_b.txt", same, Clash::Content),
            // alias.txt is a symlink to target.txt, inside the folder.
            (
                "target.txt",
                linked.clone(),
                "alias.txt",
                linked,
                Clash::Content,
            ),
        ];
        for (a, bytes_a, b, bytes_b, _) in &pairs {
            write_under(staging, a, bytes_a);
            if *b != "alias.txt" {
                write_under(staging, b, bytes_b);
            }
        }

        write_under(
            outside,
            "secret.txt",
            &article("World", "IGNORED secret outside", "Outside."),
        );
        write_under(
            outside,
            "dir/secret.txt",
            &article("World", "IGNORED secret in a linked folder", "Outside."),
        );
        let symlink = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, staging.join(name)).unwrap();
        };
        symlink(Path::new("target.txt"), "alias.txt");
        symlink(&outside.join("secret.txt"), "link_outside.txt");
        symlink(&outside.join("secret.txt"), "sub/dir/link_outside.txt");
        symlink(Path::new("no_such_file.txt"), "dangling.txt");
        // Symlinked folders are not followed: one with a folder's name, one with an
        // article's, and a loop back to the seeds folder.
        symlink(&outside.join("dir"), "linked_dir");
        symlink(&outside.join("dir"), "linked.txt");
        symlink(Path::new("."), "loop.txt");
        // A symlink into a hidden folder: hidden files are never read, whatever the name
        // they are reached by.
        symlink(Path::new(".hidden/inside.txt"), "peek.txt");
        for dir in ["", "sub/dir/"] {
            let fifo = staging.join(format!("{dir}pipe.txt"));
            nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
            let socket = staging.join(format!("{dir}socket.txt"));
            drop(std::os::unix::net::UnixListener::bind(socket).unwrap());
        }

        // Names that are not UTF-8 (Latin-1): reported, unless hidden; a folder's content
        // is not read.
        let latin1 = |name: &[u8]| staging.join(OsStr::from_bytes(name));
        let never = article("World", "IGNORED under a Latin-1 name", "Body.");
        std::fs::write(latin1(b"caf\xe9.txt"), &never).unwrap();
        std::fs::write(latin1(b".hidden \xe9.txt"), &never).unwrap();
        std::fs::create_dir(latin1(b"dir \xff")).unwrap();
        std::fs::write(latin1(b"dir \xff").join("inside.txt"), &never).unwrap();

        // A file nobody may read: rejected as unreadable, unless this test runs with the
        // privilege to read it anyway (as root), when it is an article like any other.
        let locked = article("World", "A file with mode 000", "Body.");
        write_under(staging, "mode_000.txt", &locked);
        let path = staging.join("mode_000.txt");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let unreadable = std::fs::File::open(&path).is_err();
        if !unreadable {
            files.push(good("mode_000.txt", locked, "A file with mode 000"));
        }

        let rejected = bad
            .iter()
            .map(|(name, _, word)| (*name, *word))
            .chain([
                ("link_outside.txt", "outside the seeds folder"),
                ("sub/dir/link_outside.txt", "outside the seeds folder"),
                ("dangling.txt", "dangling symlink"),
                ("pipe.txt", "named pipe"),
                ("sub/dir/pipe.txt", "named pipe"),
                ("socket.txt", "socket"),
                ("sub/dir/socket.txt", "socket"),
                ("caf\u{fffd}.txt", "not valid UTF-8"),
                ("dir \u{fffd}", "not valid UTF-8"),
            ])
            .chain(unreadable.then_some(("mode_000.txt", "unreadable")))
            .collect();
        let ignored = IGNORED
            .iter()
            .copied()
            .chain(["emptydir.txt", "linked_dir"])
            .collect();
        Self {
            good: files,
            rejected,
            rejected_or_ignored: ["linked.txt", "loop.txt", "peek.txt"],
            ignored,
            pairs,
        }
    }

    /// `/status`: every reject with its path and a reason, the duplicates with what they
    /// repeat, nothing about the names never read, and each entry published once.
    fn check_status(
        &self,
        status: &serde_json::Value,
        set_aside: &SetAside,
        problems: &mut Problems,
    ) {
        for (path, word) in &self.rejected {
            match set_aside.rejects.get(*path) {
                Some(reason) => problems.check(reason.contains(word), || {
                    format!("{path:?} rejected with {reason:?}, which does not say {word:?}")
                }),
                None => problems.push(format!("{path:?} is not listed as rejected")),
            }
        }
        for (path, reason) in &set_aside.rejects {
            problems.check(!reason.trim().is_empty(), || {
                format!("{path:?} rejected without a reason")
            });
            let path = path.as_str();
            let known = self.rejected.contains_key(path)
                || self.rejected_or_ignored.contains(&path)
                || self
                    .pairs
                    .iter()
                    .any(|(a, _, b, _, clash)| *clash == Clash::Key && (*a == path || *b == path));
            problems.check(known, || {
                format!("{path:?} rejected ({reason}) but it is an article")
            });
        }
        let listed: Vec<&String> = set_aside
            .rejects
            .keys()
            .chain(set_aside.duplicates.keys())
            .collect();
        for name in &self.ignored {
            problems.check(!listed.iter().any(|p| p.as_str() == *name), || {
                format!("{name:?} is never to be read, yet /status lists it")
            });
        }
        problems.check(
            !listed
                .iter()
                .any(|p| p.starts_with('.') || p.contains("/.") || p.contains("secret")),
            || format!("/status lists hidden files or files outside the folder: {listed:?}"),
        );
        let count = self.good.len() + self.pairs.len();
        let totals = &status["totals"];
        problems.check(
            totals["published"] == count && totals["updated"] == 0 && totals["removed"] == 0,
            || {
                format!(
                    "{count} entries must be published once each, none updated or removed: {totals}"
                )
            },
        );
    }

    /// The entries that must be in the feeds, as parsing and normalizing their files
    /// gives them: the good files, and the one of each pair that the daemon kept.
    fn expected_entries(
        &self,
        json_feed: &serde_json::Value,
        set_aside: &SetAside,
        problems: &mut Problems,
    ) -> Vec<Expected> {
        let draft_of = |path: &str, bytes: &[u8]| {
            let name = path.rsplit('/').next().unwrap();
            let key = name.rsplit_once('.').unwrap().0;
            parse_article(bytes)
                .ok()
                .map(|parsed| draft(key, &parsed.article))
        };
        let mut expected = Vec::new();
        for file in &self.good {
            let Some(draft) = draft_of(&file.path, &file.bytes) else {
                problems.push(format!("{:?}: the parser rejects it", file.path));
                continue;
            };
            // The parser's title is the one intended, whatever the feeds say.
            if file.cut {
                let kept = draft.title.strip_suffix('\u{2026}').unwrap_or_default();
                problems.check(
                    !kept.is_empty()
                        && draft.title.chars().count() <= 200
                        && file.title.starts_with(kept.trim_end()),
                    || format!("{:?}: title cut to {:?}", file.path, draft.title),
                );
            } else {
                problems.check(draft.title == file.title, || {
                    format!(
                        "{:?}: title {:?}, not {:?}",
                        file.path, draft.title, file.title
                    )
                });
            }
            expected.push(Expected {
                path: file.path.clone(),
                draft,
                body: file.body.clone(),
            });
        }

        let published: Vec<&str> = json_feed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_str())
            .collect();
        for (a, bytes_a, b, bytes_b, clash) in &self.pairs {
            let (a, b) = (*a, *b);
            let drafts = [
                (a, draft_of(a, bytes_a).unwrap()),
                (b, draft_of(b, bytes_b).unwrap()),
            ];
            let kept: Vec<&str> = match clash {
                Clash::Key => {
                    let losers: Vec<&str> = [a, b]
                        .into_iter()
                        .filter(|p| set_aside.rejects.contains_key(*p))
                        .collect();
                    for loser in &losers {
                        let reason = &set_aside.rejects[*loser];
                        problems.check(reason.contains("key conflict"), || {
                            format!("{loser:?} rejected with {reason:?}, not as a key conflict")
                        });
                    }
                    [a, b].into_iter().filter(|p| !losers.contains(p)).collect()
                }
                Clash::Content => drafts
                    .iter()
                    .filter(|(_, d)| published.contains(&d.id.to_string().as_str()))
                    .map(|(p, _)| *p)
                    .collect(),
            };
            let [kept] = kept[..] else {
                problems.push(format!(
                    "exactly one of {a:?} and {b:?} ({clash:?} clash) must be published: {kept:?}"
                ));
                continue;
            };
            if *clash == Clash::Content {
                let other = if kept == a { b } else { a };
                let of = set_aside.duplicates.get(other);
                problems.check(of.map(String::as_str) == Some(kept), || {
                    format!("{other:?} must be listed as a duplicate of {kept:?}, not {of:?}")
                });
            }
            let [(_, draft_a), (_, draft_b)] = drafts;
            expected.push(Expected {
                path: kept.to_owned(),
                draft: if kept == a { draft_a } else { draft_b },
                body: Vec::new(),
            });
        }
        let keys: BTreeSet<&str> = expected.iter().map(|e| e.draft.key.as_str()).collect();
        assert_eq!(keys.len(), expected.len(), "the test's keys are unique");
        expected
    }
}

/// A published entry as it must read back.
struct Expected {
    path: String,
    draft: EntryDraft,
    /// Text its content must hold.
    body: Vec<String>,
}

/// The files `/status` lists as rejected (path and reason) and as duplicates (path and
/// the path of the file they repeat).
struct SetAside {
    rejects: BTreeMap<String, String>,
    duplicates: BTreeMap<String, String>,
}

impl SetAside {
    fn of(status: &serde_json::Value) -> Self {
        Self {
            rejects: pairs_of(status, "rejects", "path", "reason"),
            duplicates: pairs_of(status, "duplicates", "path", "duplicate_of"),
        }
    }
}

fn pairs_of(
    value: &serde_json::Value,
    list: &str,
    key: &str,
    of: &str,
) -> BTreeMap<String, String> {
    value[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
            (text(key), text(of))
        })
        .collect()
}

/// What a restart must not change: each entry's id and title in `/feed.json`, and the
/// files `/status` sets aside, with their reasons.
#[derive(Debug, PartialEq, Eq)]
struct State {
    entries: BTreeMap<String, String>,
    rejects: BTreeMap<String, String>,
    duplicates: BTreeMap<String, String>,
}

impl State {
    async fn of(daemon: &TestDaemon) -> Self {
        let feed = daemon.json("/feed.json").await;
        let status = daemon.json("/status").await;
        let SetAside {
            rejects,
            duplicates,
        } = SetAside::of(&status);
        Self {
            entries: pairs_of(&feed, "items", "id", "title"),
            rejects,
            duplicates,
        }
    }
}

/// Findings, reported together at the end.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn push(&mut self, what: String) {
        self.0.push(what);
    }
}

/// A normal client polling the daemon throughout the drop.
struct Poller {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Poller {
    /// Asks for each URL in turn until stopped.
    fn start<const N: usize>(urls: [String; N]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let task = {
            let (stop, answered, failures) = (
                Arc::clone(&stop),
                Arc::clone(&answered),
                Arc::clone(&failures),
            );
            tokio::spawn(async move {
                let client = http_client().timeout(CLIENT_TIMEOUT).build().unwrap();
                for url in urls.iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let outcome = match client.get(url).send().await {
                        Ok(response) if response.status() == 200 => {
                            response.bytes().await.map(drop).map_err(|e| e.to_string())
                        }
                        Ok(response) => Err(format!("status {}", response.status())),
                        Err(e) => Err(e.to_string()),
                    };
                    match outcome {
                        Ok(()) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.lock().unwrap().push(format!("{url}: {e}")),
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        Self {
            stop,
            answered,
            failures,
            task,
        }
    }

    /// Stops polling: every request must have been answered.
    async fn stop(self, problems: &mut Problems) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let failures = self.failures.lock().unwrap().clone();
        problems.check(failures.is_empty(), || {
            format!("a polling client was not served: {failures:#?}")
        });
        problems.check(self.answered.load(Ordering::Relaxed) > 0, || {
            "the polling client got no answer".into()
        });
    }
}

/// Every feed the daemon links to, from the main ones and the OPML list on (sections,
/// RFC 5005 pages): each well-formed, in every content coding, each entry in it once
/// and as its file says. Returns every entry link, with the formats it was found in.
async fn check_feeds(
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
async fn check_links(
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
                    && url.path().strip_prefix("/entries/") == Some(encoded_key)
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
async fn check_other_documents(
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

/// The formats every feed is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    Atom,
    Rss,
    Json,
}

/// One entry of a feed as it reads back.
#[derive(Debug)]
struct Item {
    id: String,
    /// As a reader gets it: Atom's `type="html"` is decoded here; RSS has no type, so
    /// its title is left as sent.
    title: String,
    link: String,
    /// The content's HTML.
    content: String,
    categories: Vec<String>,
}

impl Item {
    /// The item says what its file says: title, content and section.
    fn check(&self, format: Format, path: &str, e: &Expected, problems: &mut Problems) {
        let draft = &e.draft;
        // RSS has no text type: text a reader would take for HTML is sent escaped.
        let as_sent = |text: &str| match format {
            Format::Rss if looks_like_html(text) => escape_html(text),
            _ => text.to_owned(),
        };
        let title = as_sent(&draft.title);
        problems.check(self.title == title, || {
            format!(
                "{path}: {:?} titled {:?}, not {title:?}",
                e.path, self.title
            )
        });
        problems.check(self.content == draft.content_html, || {
            format!(
                "{path}: {:?}: the content differs:\n{:.300}\nnot\n{:.300}",
                e.path, self.content, draft.content_html
            )
        });
        let text = html_text(&self.content);
        for body in &e.body {
            problems.check(text.contains(body.as_str()), || {
                format!("{path}: {:?}: the content does not read {body:?}", e.path)
            });
        }
        let section: Vec<String> = draft.section.iter().map(|s| as_sent(s)).collect();
        problems.check(self.categories == section, || {
            format!(
                "{path}: {:?} in {:?}, not {section:?}",
                e.path, self.categories
            )
        });
    }
}

/// A feed read back: its entries, and the feed URLs it links to (self, RFC 5005 pages).
struct Feed {
    items: Vec<Item>,
    links: Vec<String>,
}

impl Feed {
    /// Parses a feed with parsers of our own choosing: `roxmltree` (strict XML) and
    /// feed-rs for RSS and Atom, `serde_json` for JSON Feed.
    fn parse(format: Format, body: &str) -> Result<Self, String> {
        match format {
            Format::Json => Self::json(body),
            Format::Atom | Format::Rss => {
                let doc = roxmltree::Document::parse(body).map_err(|e| e.to_string())?;
                feed_rs::parser::parse(body.as_bytes()).map_err(|e| format!("feed-rs: {e}"))?;
                let links = feed_links(body).into_iter().map(|(_, href)| href).collect();
                let items = if format == Format::Atom {
                    atom_items(&doc)
                } else {
                    rss_items(&doc)
                };
                Ok(Self { items, links })
            }
        }
    }

    fn json(body: &str) -> Result<Self, String> {
        let json: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let items = json["items"]
            .as_array()
            .ok_or("no items")?
            .iter()
            .map(|i| Item {
                id: text(i, "id"),
                title: text(i, "title"),
                link: text(i, "url"),
                content: text(i, "content_html"),
                categories: i["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str())
                    .map(str::to_owned)
                    .collect(),
            })
            .collect();
        let links = ["feed_url", "next_url"]
            .iter()
            .filter_map(|k| json[*k].as_str())
            .map(str::to_owned)
            .collect();
        Ok(Self { items, links })
    }
}

fn atom_items(doc: &roxmltree::Document<'_>) -> Vec<Item> {
    let entries = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name((ATOM_NS, "entry")));
    entries
        .map(|entry| {
            let child = |name: &str| entry.children().find(|c| c.has_tag_name((ATOM_NS, name)));
            let all = |name: &'static str| {
                entry
                    .children()
                    .filter(move |c| c.has_tag_name((ATOM_NS, name)))
            };
            let title = child("title").map_or_else(String::new, |t| {
                let text = all_text(t);
                if t.attribute("type") == Some("html") {
                    unescape_html(&text)
                } else {
                    text
                }
            });
            Item {
                id: child("id").map(all_text).unwrap_or_default(),
                title,
                link: all("link")
                    .find(|c| c.attribute("rel").unwrap_or("alternate") == "alternate")
                    .and_then(|c| c.attribute("href"))
                    .unwrap_or_default()
                    .to_owned(),
                content: child("content").map(all_text).unwrap_or_default(),
                categories: all("category")
                    .filter_map(|c| c.attribute("term"))
                    .map(str::to_owned)
                    .collect(),
            }
        })
        .collect()
}

fn rss_items(doc: &roxmltree::Document<'_>) -> Vec<Item> {
    let plain = |n: &roxmltree::Node<'_, '_>, name: &str| {
        n.tag_name().name() == name && n.tag_name().namespace().is_none()
    };
    doc.descendants()
        .filter(|n| plain(n, "item"))
        .map(|item| {
            let child = |name: &str| {
                item.children()
                    .find(|c| plain(c, name))
                    .map(all_text)
                    .unwrap_or_default()
            };
            Item {
                id: child("guid"),
                title: child("title"),
                link: child("link"),
                // The RSS Profile's hexadecimal references, back to the HTML the entry
                // was built with (the same characters).
                content: rss_html(
                    &item
                        .children()
                        .find(|c| c.has_tag_name((CONTENT_NS, "encoded")))
                        .map(all_text)
                        .unwrap_or_default(),
                ),
                categories: item
                    .children()
                    .filter(|c| plain(c, "category"))
                    .map(all_text)
                    .collect(),
            }
        })
        .collect()
}

fn all_text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// The text of an HTML fragment whose text is escaped (so that no `<` is text).
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape_html(&out)
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
