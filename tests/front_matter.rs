//! Front matter as Hugo, Jekyll, Zola, Eleventy and CMS exports write it, and as an
//! attacker would: every alias and date form, errors with their line and column in the
//! file, unknown keys, and the hostile inputs of issue 19, each refused by a bound of
//! the parser rather than expanded.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use chrono::{DateTime, Utc};
use seedfeed::model::{
    EpisodeType, FrontEnclosure, FrontEpisode, FrontMatter, Person, RejectReason,
};
use seedfeed::parse::{FrontRead, MAX_FRONT_MATTER_BYTES, ParseWarning, read_front_matter};

fn read(text: &str) -> FrontRead<'_> {
    read_front_matter(text).unwrap_or_else(|e| panic!("rejected: {e}\n{text}"))
}

/// [`read`], for where a binding of that name hides it.
fn front_read(text: &str) -> FrontRead<'_> {
    read(text)
}

fn front(text: &str) -> FrontMatter {
    read(text).front
}

/// The line, column and message of a reject.
fn rejected(text: &str) -> (usize, usize, String) {
    match read_front_matter(text) {
        Err(RejectReason::FrontMatter {
            line,
            column,
            message,
        }) => (line, column, message),
        other => panic!("expected a front matter reject, got {other:?}"),
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn person(name: &str) -> Person {
    Person {
        name: name.into(),
        ..Person::default()
    }
}

/// A front matter line and what it must set.
type AliasCase = (&'static str, fn(&FrontMatter) -> bool);

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_three_forms_give_the_same_fields() {
    let yaml = "---\ntitle: Hello\ndate: 2024-05-01\ntags: [a, b]\n---\nBody\n";
    let toml = "+++\ntitle = \"Hello\"\ndate = 2024-05-01\ntags = [\"a\", \"b\"]\n+++\nBody\n";
    let json =
        "{\"title\": \"Hello\", \"date\": \"2024-05-01\",\n \"tags\": [\"a\", \"b\"]}\nBody\n";
    for (text, body_line) in [(yaml, 6), (toml, 6), (json, 3)] {
        let read = read(text);
        assert_eq!(read.front.title.as_deref(), Some("Hello"), "{text}");
        assert_eq!(read.front.published, Some(utc("2024-05-01T00:00:00Z")));
        assert_eq!(read.front.tags, strings(&["a", "b"]));
        assert_eq!((read.body, read.body_line), ("Body\n", body_line), "{text}");
        assert!(read.warnings.is_empty());
    }
}

#[test]
fn text_without_an_opening_delimiter_has_no_front_matter() {
    for text in [
        "Conflict & Justice\n\nMali: countercoup attempted\n",
        "",
        " ---\ntitle: indented\n---\n",
        "----\ntitle: four dashes\n----\n",
        "{Update} the story goes on\n",
        "{ not json }\n",
        "Title\n\n---\n\ntitle: a rule later in the body\n---\n",
    ] {
        let read = read(text);
        assert_eq!(read.front, FrontMatter::default(), "{text:?}");
        assert_eq!((read.body, read.body_line), (text, 1));
        assert!(read.warnings.is_empty());
    }
    let read = read("---  \ntitle: spaces after the delimiters\n---\t\nBody");
    assert_eq!(
        read.front.title.as_deref(),
        Some("spaces after the delimiters")
    );
}

#[test]
fn a_rule_later_in_a_markdown_body_stays_in_the_body() {
    let text = "---\ntitle: Rules\n---\nIntro\n\n---\n\nMore\n---\n";
    let read = read(text);
    assert_eq!(read.front.title.as_deref(), Some("Rules"));
    assert_eq!(read.body, "Intro\n\n---\n\nMore\n---\n");
    assert_eq!(read.body_line, 4);
}

#[test]
fn front_matter_alone_leaves_an_empty_body() {
    for text in [
        "---\ntitle: Only\n---",
        "---\ntitle: Only\n---\n",
        "+++\ntitle = 'Only'\n+++\n",
        "{\"title\": \"Only\"}",
        "{\"title\": \"Only\"}\n",
    ] {
        let read = read(text);
        assert_eq!(read.front.title.as_deref(), Some("Only"), "{text:?}");
        assert_eq!(read.body, "", "{text:?}");
    }
    let read = read("---\n---\n");
    assert_eq!(read.front, FrontMatter::default());
    assert_eq!((read.body, read.body_line), ("", 3));
    assert_eq!(
        front("---\n# only a comment\n...\nBody"),
        FrontMatter::default()
    );
    assert_eq!(front("{}\nBody"), FrontMatter::default());
}

#[test]
fn every_alias_of_every_field() {
    let cases: &[AliasCase] = &[
        ("title: T", |f| f.title.as_deref() == Some("T")),
        ("Title: T", |f| f.title.as_deref() == Some("T")),
        ("date: 2024-05-01", |f| f.published.is_some()),
        ("published: 2024-05-01", |f| f.published.is_some()),
        ("pubDate: 2024-05-01", |f| f.published.is_some()),
        ("updated: 2024-05-01", |f| f.updated.is_some()),
        ("lastmod: 2024-05-01", |f| f.updated.is_some()),
        ("last_modified_at: 2024-05-01", |f| f.updated.is_some()),
        ("draft: true", |f| f.draft),
        ("draft: yes", |f| f.draft),
        ("draft: false", |f| !f.draft),
        ("published: false", |f| f.draft && f.published.is_none()),
        ("published: true", |f| !f.draft && f.published.is_none()),
        ("date: 2024-05-01\npublished: false", |f| {
            f.draft && f.published.is_some()
        }),
        ("section: S", |f| f.section.as_deref() == Some("S")),
        ("category: S", |f| f.section.as_deref() == Some("S")),
        ("categories: [S, T]", |f| {
            f.section.as_deref() == Some("S") && f.tags == ["T"]
        }),
        ("categories: S, T", |f| {
            f.section.as_deref() == Some("S") && f.tags == ["T"]
        }),
        ("tags: [a, b]", |f| f.tags == ["a", "b"]),
        ("tags: a, b ,, c", |f| f.tags == ["a", "b", "c"]),
        ("tags: [Rust, rust, Go]", |f| f.tags == ["Rust", "Go"]),
        ("author: Jane", |f| f.authors == [person("Jane")]),
        ("authors: [Jane, John]", |f| {
            f.authors == [person("Jane"), person("John")]
        }),
        ("summary: S", |f| f.summary.as_deref() == Some("S")),
        ("description: S", |f| f.summary.as_deref() == Some("S")),
        ("excerpt: S", |f| f.summary.as_deref() == Some("S")),
        ("image: /a.png", |f| f.image.as_deref() == Some("/a.png")),
        ("image_alt: A", |f| f.image_alt.as_deref() == Some("A")),
        ("lang: fr", |f| f.lang.as_deref() == Some("fr")),
        ("language: fr", |f| f.lang.as_deref() == Some("fr")),
        ("link: https://e.org/", |f| {
            f.link.as_deref() == Some("https://e.org/")
        }),
        ("canonical: https://e.org/", |f| {
            f.link.as_deref() == Some("https://e.org/")
        }),
        ("canonical_url: https://e.org/", |f| {
            f.link.as_deref() == Some("https://e.org/")
        }),
        ("comments: https://e.org/c", |f| {
            f.comments.as_deref() == Some("https://e.org/c")
        }),
        ("comments: true", |f| f.comments.is_none()),
        ("id: tag:e.org,2024:1", |f| {
            f.id.as_deref() == Some("tag:e.org,2024:1")
        }),
        ("guid: 1234", |f| f.id.as_deref() == Some("1234")),
        ("title: 1984", |f| f.title.as_deref() == Some("1984")),
    ];
    for (line, check) in cases {
        let text = format!("---\n{line}\n---\n");
        let read = read_front_matter(&text).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(check(&read.front), "{line}: {:?}", read.front);
        assert!(read.warnings.is_empty(), "{line}: {:?}", read.warnings);
    }
}

#[test]
fn authors_in_every_shape() {
    let text = "---\nauthors:\n  - Jane Doe\n  - name: John Roe\n    email: john@e.org\n    \
                url: https://e.org/john\n    twitter: jr\n---\n";
    assert_eq!(
        front(text).authors,
        [
            person("Jane Doe"),
            Person {
                name: "John Roe".into(),
                email: Some("john@e.org".into()),
                uri: Some("https://e.org/john".into()),
            }
        ]
    );
    let one_map = "+++\n[author]\nname = 'Ann'\nuri = 'https://e.org/ann'\n+++\n";
    assert_eq!(
        front(one_map).authors,
        [Person {
            name: "Ann".into(),
            email: None,
            uri: Some("https://e.org/ann".into()),
        }]
    );
    assert!(front("---\nauthors: []\n---\n").authors.is_empty());
}

#[test]
fn categories_yield_to_an_explicit_section_and_join_the_tags() {
    let f = front("---\nsection: News\ncategories: [World, Africa]\ntags: [mali, africa]\n---\n");
    assert_eq!(f.section.as_deref(), Some("News"));
    assert_eq!(f.tags, ["mali", "africa", "World"]);
}

#[test]
fn an_image_as_a_url_or_a_map() {
    let f = front("---\nimage:\n  src: /img/a.png\n  alt: A cat\n---\n");
    assert_eq!(f.image.as_deref(), Some("/img/a.png"));
    assert_eq!(f.image_alt.as_deref(), Some("A cat"));
    let f = front("---\nimage: {url: 'https://e.org/a.png'}\nimage_alt: Alt\n---\n");
    assert_eq!(f.image.as_deref(), Some("https://e.org/a.png"));
    assert_eq!(f.image_alt.as_deref(), Some("Alt"));
}

#[test]
fn an_enclosure_as_a_url_or_path_or_a_map() {
    let enclosure = |url: &str| FrontEnclosure {
        url: url.into(),
        ..FrontEnclosure::default()
    };
    assert_eq!(
        front("---\nenclosure: episode.mp3\n---\n").enclosure,
        Some(enclosure("episode.mp3"))
    );
    assert_eq!(
        front("+++\nenclosure = 'https://cdn.example/e.mp3'\n+++\n").enclosure,
        Some(enclosure("https://cdn.example/e.mp3"))
    );
    let full = FrontEnclosure {
        url: "https://cdn.example/e.mp3".into(),
        media_type: Some("audio/mpeg".into()),
        length: Some(12345),
        duration_secs: Some(3723),
    };
    for text in [
        "---\nenclosure:\n  url: https://cdn.example/e.mp3\n  type: audio/mpeg\n  \
         length: 12345\n  duration: 01:02:03\n---\n",
        "+++\n[enclosure]\nurl = 'https://cdn.example/e.mp3'\ntype = 'audio/mpeg'\n\
         length = 12345\nduration = 3723\n+++\n",
        "{\"enclosure\": {\"url\": \"https://cdn.example/e.mp3\", \"type\": \"audio/mpeg\",\n\
         \"length\": \"12345\", \"duration\": \"62:03\"}}\n",
    ] {
        assert_eq!(front(text).enclosure.as_ref(), Some(&full), "{text}");
    }
    // `path` is the other name of `url`; a duration in seconds may have a fraction.
    let f = front("---\nenclosure: {path: shows/e1.m4a, duration: 90.4}\n---\n");
    let e = f.enclosure.unwrap();
    assert_eq!(
        (e.url.as_str(), e.duration_secs),
        ("shows/e1.m4a", Some(90))
    );
    assert!(
        rejected("---\nenclosure: {type: audio/mpeg}\n---\n")
            .2
            .contains("needs a `url`")
    );
}

/// A podcast episode's fields, in every syntax and under both spellings of its type.
#[test]
fn an_episode_in_every_syntax() {
    let full = FrontEpisode {
        number: Some(12),
        season: Some(2),
        episode_type: Some(EpisodeType::Trailer),
        explicit: Some(true),
        transcript: Some("ep12.vtt".into()),
        chapters: Some("https://cdn.example/ep12.chapters.json".into()),
    };
    for text in [
        "---\nepisode: 12\nseason: 2\nepisode_type: trailer\nexplicit: true\n\
         transcript: ep12.vtt\nchapters: https://cdn.example/ep12.chapters.json\n---\n",
        "---\nEpisode: '12'\nseason: \"2\"\nepisodeType: Trailer\nexplicit: yes\n\
         transcript: ep12.vtt\nchapters: https://cdn.example/ep12.chapters.json\n---\n",
        "+++\nepisode = 12\nseason = 2\nepisodeType = 'trailer'\nexplicit = true\n\
         transcript = 'ep12.vtt'\nchapters = 'https://cdn.example/ep12.chapters.json'\n+++\n",
        "{\"episode\": 12, \"season\": 2, \"episodeType\": \"TRAILER\", \"explicit\": true,\n\
         \"transcript\": \"ep12.vtt\", \"chapters\": \"https://cdn.example/ep12.chapters.json\"}\n",
    ] {
        let read = read(text);
        assert_eq!(read.front.episode, full, "{text}");
        assert!(read.warnings.is_empty(), "{text}: {:?}", read.warnings);
    }
    // Apple's older words for the explicit flag.
    assert_eq!(
        front("---\nexplicit: clean\n---\n").episode.explicit,
        Some(false)
    );
    assert_eq!(
        front("---\nexplicit: no\n---\n").episode.explicit,
        Some(false)
    );
    assert_eq!(
        front("---\ntitle: x\n---\n").episode,
        FrontEpisode::default()
    );
}

/// A value an episode's field cannot take is a warning that names the key, its line and
/// what is wrong; the field is left out and the rest of the front matter is read.
#[test]
fn a_bad_episode_value_is_a_warning_not_a_reject() {
    let read = read(
        "---\ntitle: Kept\nepisode: one\nseason: 0\nepisode_type: pilot\n\
         explicit: maybe\n---\n",
    );
    assert_eq!(read.front.title.as_deref(), Some("Kept"));
    assert_eq!(read.front.episode, FrontEpisode::default());
    let ignored = read
        .warnings
        .iter()
        .find_map(|w| match w {
            ParseWarning::IgnoredValues { keys } => Some(keys.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{:?}", read.warnings));
    let keys: Vec<(&str, usize)> = ignored.iter().map(|(k, l, _)| (k.as_str(), *l)).collect();
    assert_eq!(
        keys,
        [
            ("episode", 3),
            ("season", 4),
            ("episode_type", 5),
            ("explicit", 6)
        ]
    );
    assert!(ignored[0].2.contains("whole number above 0"), "{ignored:?}");
    assert!(
        ignored[2].2.contains("full, trailer or bonus"),
        "{ignored:?}"
    );
    let shown: Vec<String> = read.warnings.iter().map(ToString::to_string).collect();
    assert!(
        shown
            .iter()
            .any(|w| w.starts_with("front matter values ignored: episode (line 3: ")),
        "{shown:?}"
    );
    for warning in &read.warnings {
        assert!(warning.is_about_front_matter(), "{warning}");
    }
    for text in [
        "---\nepisode: -3\n---\n",
        "---\nepisode: 2.5\n---\n",
        "---\nseason: [1]\n---\n",
        "---\nepisode: 99999999999\n---\n",
    ] {
        let bad = front_read(text);
        assert_eq!(bad.front.episode, FrontEpisode::default(), "{text}");
        assert_eq!(bad.warnings.len(), 1, "{text}: {:?}", bad.warnings);
    }
}

#[test]
fn an_enclosure_of_the_wrong_shape_points_at_its_key() {
    for (text, wanted) in [
        (
            "---\ntitle: x\nenclosure: {url: a.mp3, length: big}\n---\n",
            "length",
        ),
        (
            "---\ntitle: x\nenclosure: {url: a.mp3, duration: '1:75'}\n---\n",
            "duration",
        ),
        (
            "---\ntitle: x\nenclosure: {url: a.mp3, duration: '1:2:3:4'}\n---\n",
            "duration",
        ),
        ("---\ntitle: x\nenclosure: [a.mp3]\n---\n", "expected text"),
    ] {
        let (line, column, message) = rejected(text);
        assert_eq!((line, column), (3, 1), "{text}");
        assert!(
            message.starts_with("enclosure: ") && message.contains(wanted),
            "{message}"
        );
    }
}

#[test]
fn unknown_keys_inside_an_enclosure_warn_under_its_name() {
    let read = read(
        "---\ntitle: x\nenclosure:\n  url: a.mp3\n  lenght: 12\n  Type: audio/mpeg\n\
                     foo: 1\n---\n",
    );
    let enclosure = read.front.enclosure.unwrap();
    assert_eq!(enclosure.media_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(enclosure.length, None);
    assert_eq!(
        read.warnings,
        [ParseWarning::UnknownKeys {
            keys: vec![("enclosure.lenght".into(), 3), ("foo".into(), 7)]
        }]
    );
}

#[test]
fn every_date_form_in_every_syntax() {
    let cases = [
        ("date: 2024-05-01T10:30:00Z", "2024-05-01T10:30:00Z"),
        ("date: 2024-05-01T12:30:00+02:00", "2024-05-01T10:30:00Z"),
        ("date: 2024-05-01", "2024-05-01T00:00:00Z"),
        ("date: 2024-05-01 10:30", "2024-05-01T10:30:00Z"),
        ("date: 2024-05-01 10:30:00", "2024-05-01T10:30:00Z"),
        ("date: 2024-05-01 12:30:00 +0200", "2024-05-01T10:30:00Z"),
        ("date: 2024-05-01 12:30:00 +02:00", "2024-05-01T10:30:00Z"),
        ("date: 2024-05-01 10:30:00 Z", "2024-05-01T10:30:00Z"),
        ("date: '2024-05-01 10:30:00 -0500'", "2024-05-01T15:30:00Z"),
    ];
    for (line, expected) in cases {
        let f = front(&format!("---\n{line}\n---\n"));
        assert_eq!(f.published, Some(utc(expected)), "{line}");
    }
    let toml = [
        ("date = 2024-05-01T12:30:00+02:00", "2024-05-01T10:30:00Z"),
        ("date = 2024-05-01T10:30:00Z", "2024-05-01T10:30:00Z"),
        ("date = 2024-05-01T10:30:00", "2024-05-01T10:30:00Z"),
        ("date = 2024-05-01 10:30:00.5", "2024-05-01T10:30:00.5Z"),
        ("date = 2024-05-01", "2024-05-01T00:00:00Z"),
        ("date = '2024-05-01 12:30:00 +0200'", "2024-05-01T10:30:00Z"),
    ];
    for (line, expected) in toml {
        let f = front(&format!("+++\n{line}\n+++\n"));
        assert_eq!(f.published, Some(utc(expected)), "{line}");
    }
    let f = front("{\"date\": \"2024-05-01 10:30\", \"lastmod\": \"2024-06-01T00:00:00Z\"}");
    assert_eq!(f.published, Some(utc("2024-05-01T10:30:00Z")));
    assert_eq!(f.updated, Some(utc("2024-06-01T00:00:00Z")));
}

#[test]
fn a_field_of_the_wrong_type_points_at_its_key() {
    let cases: &[(&str, usize, usize, &[&str])] = &[
        (
            "---\ntitle: Fine\ndate: yesterday\n---\n",
            3,
            1,
            &["date", "\"yesterday\"", "2024-05-01"],
        ),
        (
            "---\ntitle: Fine\n\ndraft: maybe\n---\n",
            4,
            1,
            &["draft", "true or false", "\"maybe\""],
        ),
        ("---\ntitle: [a, b]\n---\n", 2, 1, &["title", "a list"]),
        (
            "---\ntags:\n  - ok\n  - [nested]\n---\n",
            2,
            1,
            &["tags", "a list"],
        ),
        (
            "---\nauthor:\n  email: a@e.org\n---\n",
            2,
            1,
            &["author", "name"],
        ),
        (
            "+++\ntitle = 'x'\ndraft = 'maybe'\n+++\n",
            3,
            1,
            &["draft", "maybe"],
        ),
        (
            "+++\ntitle = 'x'\n\n[date]\nday = 1\n+++\n",
            4,
            1,
            &["date", "a map"],
        ),
        (
            "+++\nupdated = 07:32:00\n+++\n",
            2,
            1,
            &["updated", "07:32:00"],
        ),
        (
            "{\"title\": \"x\",\n  \"tags\": {\"a\": 1}}\n",
            2,
            3,
            &["tags", "a map"],
        ),
        (
            "{\"author\": {\"name\": \"x\"},\n \"date\": 1714557600}\n",
            2,
            2,
            &["date", "1714557600"],
        ),
    ];
    for (text, line, column, words) in cases {
        let (l, c, message) = rejected(text);
        assert_eq!((l, c), (*line, *column), "{text:?}: {message}");
        for word in *words {
            assert!(message.contains(word), "{text:?}: {message} lacks {word}");
        }
    }
}

#[test]
fn a_syntax_error_names_its_line_in_the_file() {
    let (line, _, message) = rejected("---\ntitle: ok\ntags: [a, b\nsummary: x\n---\nBody\n");
    assert!((3..=5).contains(&line), "{line}: {message}");
    assert!(message.starts_with("YAML"), "{message}");
    let (line, column, message) = rejected("---\ntitle: ok\n  bad: indent\n---\n");
    assert_eq!(line, 3, "{message}");
    assert!(column >= 1);
    let (line, column, message) = rejected("+++\ntitle = 'ok'\ndate = \n+++\n");
    assert_eq!((line, column), (3, 8), "{message}");
    assert!(message.starts_with("TOML"), "{message}");
    let (line, _, message) = rejected("---\ntitle: a\ntitle: b\n---\n");
    assert_eq!(line, 3, "{message}");
    let (line, column, message) = rejected("{\"title\": \"a\",\n \"tags\": [1,,]}\n");
    assert_eq!((line, column), (2, 13), "{message}");
    assert!(!message.contains("at line"), "{message}");
    let (line, column, message) = rejected("{\"title\": \"a\"} and text\n");
    assert_eq!((line, column), (1, 15), "{message}");
    assert!(message.contains("next line"), "{message}");
}

#[test]
fn unterminated_front_matter_is_refused_with_the_fix() {
    for text in [
        "---\ntitle: no end\n\nBody",
        "---",
        "---\n",
        "---\nA plain article whose first line is a rule.\n\nIts body.\n",
    ] {
        let (line, column, message) = rejected(text);
        assert_eq!((line, column), (1, 1));
        assert!(message.contains("never closed"), "{message}");
        assert!(message.contains("line of text above"), "{message}");
    }
    let (line, _, message) = rejected("+++\ntitle = 'no end'\n");
    assert_eq!(line, 1);
    assert!(message.contains("`+++`"), "{message}");
    let (line, _, message) = rejected("{\"title\": \"no end\",\n\"tags\": [\n");
    assert_eq!(line, 3, "{message}");
}

#[test]
fn prose_between_two_rules_is_not_taken_for_keys() {
    let (line, _, message) = rejected("---\nA sentence of prose.\n---\nBody\n");
    assert_eq!(line, 2);
    assert!(message.contains("keys and values"), "{message}");
    assert!(message.contains("line of text above"), "{message}");
}

#[test]
fn unknown_keys_are_listed_once_with_their_lines() {
    let text = "---\ntitel: Typo\nautor: Jane\nlayout: post\npermalink: /x/\ntitle: Real\n\
                weight: 3\nextra:\n  a: 1\nfoo: bar\n---\n";
    let yaml = read(text);
    assert_eq!(yaml.front.title.as_deref(), Some("Real"));
    assert!(yaml.front.authors.is_empty());
    let expected = ParseWarning::UnknownKeys {
        keys: vec![("titel".into(), 2), ("autor".into(), 3), ("foo".into(), 10)],
    };
    assert_eq!(yaml.warnings, std::slice::from_ref(&expected));
    assert_eq!(
        expected.to_string(),
        "unknown front matter keys, ignored: titel (line 2), autor (line 3), foo (line 10)"
    );
    // YAML 1.1 read `y` and `on` as booleans; here they are keys like any other, and a
    // `.nan` under an unknown key does not refuse the file.
    let yaml_11 = read("---\ny: 1\non: push\nratio: .nan\n---\n");
    assert_eq!(
        yaml_11.warnings,
        [ParseWarning::UnknownKeys {
            keys: vec![("y".into(), 2), ("on".into(), 3), ("ratio".into(), 4)]
        }]
    );
    let toml = read("+++\ntitle = 'x'\ntitel = 'y'\n[params]\nfoo = 1\n+++\n");
    assert_eq!(
        toml.warnings,
        [ParseWarning::UnknownKeys {
            keys: vec![("titel".into(), 3), ("params".into(), 4)]
        }]
    );
    let json = read("{\"title\": \"x\",\n \"nope\": {\"titel\": 1}}\n");
    assert_eq!(
        json.warnings,
        [ParseWarning::UnknownKeys {
            keys: vec![("nope".into(), 2)]
        }]
    );
}

#[test]
fn two_names_of_one_field_use_the_first_and_warn() {
    let read = read("---\npubDate: 2020-01-01\ndate: 2024-05-01\nauthors: [B]\nauthor: A\n---\n");
    assert_eq!(read.front.published, Some(utc("2024-05-01T00:00:00Z")));
    assert_eq!(read.front.authors, [person("A")]);
    let warning = ParseWarning::RepeatedFields {
        keys: vec![
            ("pubDate".into(), 2, "date".into()),
            ("authors".into(), 4, "author".into()),
        ],
    };
    assert_eq!(read.warnings, std::slice::from_ref(&warning));
    assert_eq!(
        warning.to_string(),
        "front matter keys repeating a field, ignored: pubDate (line 2; date is used), \
         authors (line 4; author is used)"
    );
}

#[test]
fn markup_and_control_characters_in_values_stay_text() {
    let text = "---\ntitle: \"<script>alert(1)</script> & <b>bold</b>\"\n\
                summary: \"a\\0b\\x01c\\u0085d\\uFFFEe\"\ntags: ['<i>x</i>', \"\\t\"]\n\
                author: {name: '\"><img src=x onerror=alert(1)>'}\n---\n";
    let f = front(text);
    assert_eq!(
        f.title.as_deref(),
        Some("<script>alert(1)</script> & <b>bold</b>")
    );
    assert_eq!(f.summary.as_deref(), Some("abcde"));
    assert_eq!(f.tags, ["<i>x</i>"]);
    assert_eq!(f.authors, [person("\"><img src=x onerror=alert(1)>")]);
    let json = front("{\"title\": \"a\\u0000b\\u001bc\", \"id\": \"  \"}");
    assert_eq!(json.title.as_deref(), Some("abc"));
    assert_eq!(json.id, None);
    // Text that reaches the parser with a raw NUL (decode rejects such files as binary)
    // is refused or cleaned, never passed on.
    if let Ok(read) = read_front_matter("---\ntitle: a\0b\n---\n") {
        assert_eq!(read.front.title.as_deref(), Some("ab"));
    }
}

#[test]
fn whitespace_in_values_is_collapsed_and_empty_values_dropped() {
    let f = front("---\ntitle: |\n  Two\n  lines  here\nsummary: '   '\nlang: ''\ntags: []\n---\n");
    assert_eq!(f.title.as_deref(), Some("Two lines here"));
    assert_eq!((f.summary, f.lang), (None, None));
}

/// A "billion laughs": a list of nine strings, then `levels` lists of nine aliases of
/// the list before, which would expand to 9^(levels + 1) strings.
fn alias_bomb(levels: usize) -> String {
    let mut bomb = String::from("---\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..=levels {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        bomb.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    bomb + "title: boom\n---\nBody\n"
}

#[test]
fn a_yaml_alias_bomb_is_refused_not_expanded() {
    // 9^5 values pass the parser's default limits: ours stop them early, and 9^10 too.
    for levels in [4, 9] {
        let (line, _, message) = rejected(&alias_bomb(levels));
        assert!(line >= 2, "{line}: {message}");
        assert!(
            message.starts_with("YAML") && message.contains("aliases"),
            "{message}"
        );
    }
    // A few aliases, as a real file may have, are fine.
    let f = front("---\ncommon: &c Jane\nauthor: *c\n---\n");
    assert_eq!(f.authors, [person("Jane")]);
}

#[test]
fn deep_nesting_is_refused_in_every_syntax() {
    let depth = 200;
    let yaml = format!("---\nx: {}{}\n---\n", "[".repeat(depth), "]".repeat(depth));
    let yaml_block = {
        let mut text = String::from("---\n");
        for level in 0..depth {
            text.push_str(&"  ".repeat(level));
            text.push_str("k:\n");
        }
        text + "---\n"
    };
    let json = format!("{{\"x\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let json_80 = format!("{{\"x\": {}{}}}", "[".repeat(80), "]".repeat(80));
    let toml = format!("+++\nx = {}{}\n+++\n", "[".repeat(depth), "]".repeat(depth));
    let toml_dotted = format!("+++\n{} = 1\n+++\n", vec!["k"; 70].join("."));
    for text in [yaml, yaml_block, json, json_80, toml, toml_dotted] {
        let (_, _, message) = rejected(&text);
        assert!(
            message.contains("nested more than 64") || message.contains("recurs"),
            "{message}"
        );
    }
    // Nesting real front matter uses is fine.
    let f = front("---\nauthors:\n  - name: A\n    extra: {a: [1, [2]]}\n---\n");
    assert_eq!(f.authors, [person("A")]);
}

#[test]
fn huge_input_is_refused_by_size_not_read() {
    let line = "x".repeat(1 << 20);
    // In the front matter: over the cap.
    for text in [
        format!("---\ntitle: {line}\n---\nBody"),
        format!("+++\ntitle = '{line}'\n+++\nBody"),
        format!("{{\"title\": \"{line}\"}}\nBody"),
    ] {
        let (line, column, message) = rejected(&text);
        assert_eq!((line, column), (1, 1));
        assert!(message.contains("256 KiB"), "{message}");
    }
    // In the body, or as a text without front matter: not the front matter's business.
    let after = format!("---\ntitle: T\n---\n{line}\n");
    let read = read(&after);
    assert_eq!(read.body.len(), line.len() + 1);
    let plain = format!("{line}\n");
    assert_eq!(read_front_matter(&plain).unwrap().body, plain);
    // Just under the cap is read.
    let value = "y".repeat(MAX_FRONT_MATTER_BYTES - 100);
    let f = front(&format!("---\nsummary: {value}\n---\n"));
    assert_eq!(f.summary.map(|s| s.len()), Some(value.len()));
}

#[test]
fn many_unknown_keys_make_one_short_warning() {
    let mut text = String::from("---\n");
    let mut n = 0;
    while text.len() < MAX_FRONT_MATTER_BYTES - 32 {
        text.push_str(&format!("k{n}: {n}\n"));
        n += 1;
    }
    text.push_str("---\n");
    let read = read(&text);
    let [ParseWarning::UnknownKeys { keys }] = &read.warnings[..] else {
        panic!("{:?}", read.warnings.len());
    };
    assert_eq!(keys.len(), n);
    assert_eq!(keys[n - 1], (format!("k{}", n - 1), n + 1));
    assert!(
        read.warnings[0]
            .to_string()
            .ends_with(&format!(" and {} more", n - 10))
    );
}
