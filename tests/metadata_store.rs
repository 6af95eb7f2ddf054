//! What the store does with an article's front matter, on a real database file: the
//! tags' and authors' feeds, ids kept from an older system, dates the article gives, and
//! articles held back (drafts, and those dated in the future).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use chrono::{DateTime, Duration, Utc};
use common::changes::{article, removed, stamp};
use common::site::at;
use seedfeed::model::{Article, Author, Category, EntryDraft, EntryId, EntryKey, Person, TermKind};
use seedfeed::store::{FileChange, Hold, Store};
use tempfile::TempDir;

const NOW: i64 = 1_800_000_000;

/// A draft of `key` whose content is `title`, with `tags` and `authors`.
fn draft(key: &str, title: &str, tags: &[&str], authors: &[&str]) -> EntryDraft {
    let article = Article {
        title: title.into(),
        paragraphs: vec![format!("Body of {title}.")],
        ..Article::default()
    };
    let mut draft = common::site::draft(key, &article);
    draft.meta.tags = tags
        .iter()
        .map(|term| Category {
            term: (*term).into(),
            slug: seedfeed::normalize::slugify(term),
        })
        .collect();
    draft.meta.authors = authors
        .iter()
        .map(|name| Author {
            person: Person {
                name: (*name).into(),
                ..Person::default()
            },
            slug: seedfeed::normalize::slugify(name),
        })
        .collect();
    draft
}

fn keys(entries: &[seedfeed::model::Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.draft.key.as_str()).collect()
}

fn held(path: &str, key: &str, hold: Hold) -> FileChange {
    FileChange::Held {
        path: path.into(),
        key: EntryKey::new(key),
        stamp: stamp(at(NOW - 100)),
        hold,
    }
}

#[test]
fn tags_and_authors_have_feeds_that_follow_every_change() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let outcome = store
        .apply(
            &[
                article(
                    "a.md",
                    draft("a", "A", &["Rust", "C++"], &["jane"]),
                    at(NOW - 30),
                ),
                article(
                    "b.md",
                    draft("b", "B", &["rust", "C#"], &["Jane", "Bob"]),
                    at(NOW - 20),
                ),
            ],
            at(NOW),
        )
        .unwrap();
    assert!(outcome.tags.contains("rust") && outcome.authors.contains("jane"));
    let rust = store.latest_with_term(TermKind::Tag, "rust", 10).unwrap();
    assert_eq!(
        keys(&rust),
        ["b", "a"],
        "newest first; case does not make a new tag"
    );
    // "C++" and "C#" slugify alike: the second gets a slug of its own, for good.
    let tags = store.terms(TermKind::Tag).unwrap();
    let c_sharp = tags.iter().find(|t| t.term == "C#").unwrap().slug.clone();
    assert_ne!(c_sharp, "c");
    assert_eq!(
        keys(&store.latest_with_term(TermKind::Tag, "c", 10).unwrap()),
        ["a"]
    );
    assert_eq!(
        keys(&store.latest_with_term(TermKind::Tag, &c_sharp, 10).unwrap()),
        ["b"]
    );
    // The stored entry says which slug its tags were given.
    let b = &store.entries(&[EntryKey::new("b")]).unwrap()[0];
    assert_eq!(b.draft.meta.tags[1].slug, c_sharp);
    let authors = store.terms(TermKind::Author).unwrap();
    assert_eq!(
        authors.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(),
        ["bob", "jane"]
    );

    // An edit that drops a tag takes the entry out of its feed; a deletion out of all.
    let outcome = store
        .apply(
            &[article(
                "a.md",
                draft("a", "A2", &["Go"], &[]),
                at(NOW - 10),
            )],
            at(NOW),
        )
        .unwrap();
    assert!(outcome.tags.contains("rust") && outcome.tags.contains("go"));
    assert!(outcome.authors.contains("jane"));
    assert_eq!(
        keys(&store.latest_with_term(TermKind::Tag, "rust", 10).unwrap()),
        ["b"]
    );
    assert!(store.term(TermKind::Tag, "c").unwrap().is_none());
    store.apply(&[removed("b.md")], at(NOW)).unwrap();
    assert!(
        store
            .latest_with_term(TermKind::Tag, "rust", 10)
            .unwrap()
            .is_empty()
    );
    assert!(store.terms(TermKind::Author).unwrap().is_empty());
    assert_eq!(store.terms(TermKind::Tag).unwrap().len(), 1, "go is left");

    // The slugs stay with their terms after a restart.
    drop(store);
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(
            &[article("c.md", draft("c", "C", &["C#"], &[]), at(NOW - 5))],
            at(NOW),
        )
        .unwrap();
    assert_eq!(
        keys(&store.latest_with_term(TermKind::Tag, &c_sharp, 10).unwrap()),
        ["c"]
    );
}

fn with_id(key: &str, title: &str, id: &str) -> EntryDraft {
    let mut draft = draft(key, title, &[], &[]);
    draft.id = EntryId::given(id).unwrap();
    draft.id_given = true;
    draft
}

#[test]
fn a_kept_id_stays_unique_and_moves_with_a_renamed_file() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let id = "tag:example.org,2020:post-1";
    store
        .apply(
            &[article("old.md", with_id("old", "Post", id), at(NOW - 50))],
            at(NOW),
        )
        .unwrap();
    let entry = &store.latest_entries(1).unwrap()[0];
    assert_eq!(entry.draft.id.as_str(), id);

    // A second file with the same id, while the first is live: set aside, named.
    let outcome = store
        .apply(
            &[article(
                "new.md",
                with_id("new", "Post, renamed", id),
                at(NOW - 40),
            )],
            at(NOW),
        )
        .unwrap();
    assert_eq!(outcome.rejected, 1);
    let rejects = store.rejected_files(10).unwrap();
    assert!(rejects[0].reason.contains("id conflict") && rejects[0].reason.contains("old"));

    // The first goes (the rename completes): the second is read again and takes the id,
    // and the old entry's deletion is not announced under the id that lives on.
    let outcome = store.apply(&[removed("old.md")], at(NOW)).unwrap();
    assert_eq!(outcome.requeue, ["new.md"]);
    store
        .apply(
            &[article(
                "new.md",
                with_id("new", "Post, renamed", id),
                at(NOW - 40),
            )],
            at(NOW + 1),
        )
        .unwrap();
    let live = store.latest_entries(10).unwrap();
    assert_eq!(keys(&live), ["new"]);
    assert_eq!(live[0].draft.id.as_str(), id);
    assert!(store.tombstones(at(0)).unwrap().is_empty());
}

fn dated(key: &str, title: &str, date: Option<i64>, updated: Option<i64>) -> EntryDraft {
    let mut draft = draft(key, title, &[], &[]);
    draft.meta.date = date.map(at);
    draft.meta.updated_date = updated.map(at);
    draft
}

#[test]
fn the_dates_an_article_gives_are_its_dates() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let year_ago = NOW - 365 * 86_400;
    store
        .apply(
            &[article(
                "a.md",
                dated("a", "A", Some(year_ago), Some(year_ago + 60)),
                at(NOW - 5),
            )],
            at(NOW),
        )
        .unwrap();
    let a = &store.latest_entries(1).unwrap()[0];
    assert_eq!((a.published, a.updated), (at(year_ago), at(year_ago + 60)));

    // An edit keeps the date unless the article gives a new one.
    store
        .apply(
            &[article(
                "a.md",
                dated("a", "A2", Some(year_ago), None),
                at(NOW - 4),
            )],
            at(NOW),
        )
        .unwrap();
    let a = &store.latest_entries(1).unwrap()[0];
    assert_eq!((a.published, a.updated), (at(year_ago), at(NOW - 4)));
    store
        .apply(
            &[article(
                "a.md",
                dated("a", "A3", Some(year_ago - 9), None),
                at(NOW - 3),
            )],
            at(NOW),
        )
        .unwrap();
    assert_eq!(
        store.latest_entries(1).unwrap()[0].published,
        at(year_ago - 9)
    );
}

#[test]
fn drafts_and_scheduled_articles_are_held_out_of_the_feeds() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(
            &[article("a.md", draft("a", "A", &["t"], &[]), at(NOW - 50))],
            at(NOW),
        )
        .unwrap();
    // Made a draft: it leaves the feeds (its tag's too) and is listed as held.
    let outcome = store
        .apply(&[held("a.md", "a", Hold::Draft)], at(NOW))
        .unwrap();
    assert_eq!(outcome.removed, [EntryKey::new("a")]);
    assert!(outcome.tags.contains("t"));
    assert!(store.latest_entries(10).unwrap().is_empty());
    assert_eq!(store.counts().unwrap().held, 1);
    assert_eq!(store.counts().unwrap().rejects, 0);
    assert_eq!(store.held_files(10).unwrap()[0].reason, "a draft");

    // Scheduled: due at its date, which the store gives for the timer.
    let due: DateTime<Utc> = at(NOW) + Duration::hours(1);
    store
        .apply(&[held("b.md", "b", Hold::Until(due))], at(NOW))
        .unwrap();
    assert_eq!(store.next_due().unwrap(), Some(due));
    assert!(store.due_files(at(NOW)).unwrap().is_empty());
    assert_eq!(store.due_files(due).unwrap(), ["b.md"]);
    let held = store.held_files(10).unwrap();
    assert_eq!(held[0].path, "b.md", "the scheduled one first, then drafts");
    assert!(held[0].reason.starts_with("scheduled for "));

    // Read again once due, it is published, and nothing is due any more.
    store
        .apply(
            &[article("b.md", draft("b", "B", &[], &[]), at(NOW - 40))],
            due,
        )
        .unwrap();
    assert_eq!(store.next_due().unwrap(), None);
    assert_eq!(keys(&store.latest_entries(10).unwrap()), ["b"]);
}

#[test]
fn what_a_read_ignored_is_listed_with_the_file() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let warned = FileChange::Article {
        path: "a.md".into(),
        stamp: stamp(at(NOW - 5)),
        draft: draft("a", "A", &[], &[]),
        warnings: vec!["unknown front matter keys, ignored: titel (line 2)".into()],
        media: Vec::new(),
    };
    store.apply(&[warned], at(NOW)).unwrap();
    let notes = store.warned_files(10).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].reason.contains("titel (line 2)"));
    // Fixed, the warning goes.
    store
        .apply(
            &[article("a.md", draft("a", "A", &[], &[]), at(NOW - 4))],
            at(NOW),
        )
        .unwrap();
    assert!(store.warned_files(10).unwrap().is_empty());
}

#[test]
fn a_new_base_url_marks_the_articles_whose_links_follow_it() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.base_url_is("https://old.example").unwrap(),
        0,
        "a first start"
    );
    let plain = Article {
        title: "Plain".into(),
        paragraphs: vec!["Text.".into()],
        ..Article::default()
    };
    store
        .apply(
            &[
                article("a.md", draft("a", "A", &[], &[]), at(NOW - 9)),
                article("b.txt", common::site::draft("b", &plain), at(NOW - 8)),
                article("c.txt", draft("c", "C", &["t"], &[]), at(NOW - 7)),
            ],
            at(NOW),
        )
        .unwrap();
    assert_eq!(
        store.base_url_is("https://old.example").unwrap(),
        0,
        "the same"
    );
    assert_eq!(store.base_url_is("https://new.example").unwrap(), 2);
    assert_ne!(
        store.file_stamp("a.md").unwrap(),
        Some(stamp(at(NOW - 9))),
        "read again at the next scan"
    );
    assert_ne!(
        store.file_stamp("c.txt").unwrap(),
        Some(stamp(at(NOW - 7))),
        "its front matter has links"
    );
    assert_eq!(
        store.file_stamp("b.txt").unwrap(),
        Some(stamp(at(NOW - 8))),
        "a plain article has none"
    );
    assert_eq!(
        store.base_url_is("https://new.example").unwrap(),
        0,
        "recorded"
    );
}
