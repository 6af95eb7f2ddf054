//! The hostile folder: inputs that look hostile but are articles, files that cannot be
//! articles, names never read, pairs of files that clash, symlinks, pipes and sockets;
//! and what must become of each, checked against `/status` and the JSON feed.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use seedfeed::model::EntryDraft;
use seedfeed::parse::parse_article;

use crate::Problems;
use crate::common::articles::{captioned, write_under};
use crate::common::site::draft;
use crate::status::SetAside;

/// The canonical layout: section, title, caption, body.
fn article(section: &str, title: &str, body: &str) -> Vec<u8> {
    captioned(section, title, "A caption.", body)
}

/// A file that must be published exactly once.
pub struct Good {
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
    "notes.odt",
    "README",
    "sub/.article.txt.AbC123",
    "sub/dir/article.txt~",
    "sub/dir/.#article.txt",
    "x.txt/4913",
];

/// How the two files of a pair clash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// One key (`a.txt` beside `a.TXT`): one published, the other rejected.
    Key,
    /// The same content: one published, the other a duplicate of it.
    Content,
}

/// Two files, each with its bytes, and how they clash.
pub type Pair = (&'static str, Vec<u8>, &'static str, Vec<u8>, Clash);

/// The hostile folder, and what must become of each file in it.
pub struct Corpus {
    pub good: Vec<Good>,
    /// Path in `/status` and a word its reason must hold.
    pub rejected: BTreeMap<&'static str, &'static str>,
    /// Either rejected with a reason or not looked at, both sound; never published.
    pub rejected_or_ignored: [&'static str; 3],
    /// Never read: in no feed and not in `/status`.
    pub ignored: Vec<&'static str>,
    pub pairs: Vec<Pair>,
}

impl Corpus {
    /// Writes the folder into `staging`; `outside` holds what symlinks lead out to.
    pub fn write(staging: &Path, outside: &Path, max_file_bytes: usize) -> Self {
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
    pub fn check_status(
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
    pub fn expected_entries(
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
pub struct Expected {
    pub path: String,
    pub draft: EntryDraft,
    /// Text its content must hold.
    pub body: Vec<String>,
}
