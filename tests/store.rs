//! The store over a real SQLite file in a temp folder: the history rules of the entry
//! dates, duplicates, deletions, and what survives reopening the database.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use chrono::Duration;
use common::changes::{article, rejected, removed, stamp};
use common::site::{at, id_of};
use seedfeed::model::FileStamp;
use seedfeed::model::{Article, EntryDraft, EntryKey, RejectReason};
use seedfeed::store::{Counts, FileChange, Store};
use tempfile::TempDir;

/// An entry in the section Tech.
fn draft(key: &str, title: &str) -> EntryDraft {
    in_section(key, title, "Tech")
}

fn in_section(key: &str, title: &str, section: &str) -> EntryDraft {
    let article = Article {
        section: Some(section.into()),
        title: title.into(),
        caption: None,
        paragraphs: vec![format!("Body of {title}.")],
        ..Article::default()
    };
    common::site::draft(key, &article)
}

const NOW: i64 = 1_800_000_000;

#[test]
fn first_sighting_dates_from_mtime_and_reopen_keeps_everything() {
    let dir = TempDir::new().unwrap();
    let mtime = at(NOW - 3600);
    {
        let mut store = Store::open(dir.path()).unwrap();
        let outcome = store
            .apply(&[article("a.txt", draft("a", "A"), mtime)], at(NOW))
            .unwrap();
        assert_eq!(outcome.published, [EntryKey::new("a")]);
    }
    assert!(dir.path().join("seedfeed.db").exists());
    let mut store = Store::open(dir.path()).unwrap();
    let entries = store.latest_entries(10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].published, mtime);
    assert_eq!(entries[0].updated, mtime);
    assert_eq!(entries[0].draft, draft("a", "A"));
    assert_eq!(store.file_stamp("a.txt").unwrap(), Some(stamp(mtime)));

    // The same content again (a restart re-reading it, a `touch`) changes nothing.
    let outcome = store
        .apply(
            &[article("a.txt", draft("a", "A"), at(NOW - 10))],
            at(NOW + 60),
        )
        .unwrap();
    assert!(!outcome.feeds_changed(), "{outcome:?}");
    assert_eq!(store.latest_entries(10).unwrap(), entries);
}

#[test]
fn published_is_never_in_the_future() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(
            &[article("a.txt", draft("a", "A"), at(NOW + 86_400))],
            at(NOW),
        )
        .unwrap();
    assert_eq!(store.latest_entries(1).unwrap()[0].published, at(NOW));
}

#[test]
fn an_edit_keeps_id_and_published_and_moves_updated() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(&[article("a.txt", draft("a", "A"), at(NOW - 100))], at(NOW))
        .unwrap();
    let before = store.latest_entries(1).unwrap().remove(0);

    let outcome = store
        .apply(
            &[article("a.txt", draft("a", "A, edited"), at(NOW + 5))],
            at(NOW + 5),
        )
        .unwrap();
    assert_eq!(outcome.updated, [EntryKey::new("a")]);
    let after = store.latest_entries(1).unwrap().remove(0);
    assert_eq!(after.draft.id, before.draft.id);
    assert_eq!(after.published, before.published);
    assert_eq!(after.updated, at(NOW + 5));
    assert_eq!(after.draft.title, "A, edited");

    // An edit whose mtime is older than the last update (cp -p of an old version) still
    // moves `updated` forward.
    store
        .apply(
            &[article("a.txt", draft("a", "A, restored"), at(NOW - 50))],
            at(NOW + 9),
        )
        .unwrap();
    assert_eq!(store.latest_entries(1).unwrap()[0].updated, at(NOW + 9));
}

#[test]
fn duplicates_are_published_once_and_take_over_when_the_original_goes() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let same = |key: &str| {
        let mut d = draft("a", "Same");
        let id = id_of(key);
        d.key = EntryKey::new(key);
        d.id = id;
        d
    };
    store
        .apply(&[article("a.txt", same("a"), at(NOW - 10))], at(NOW))
        .unwrap();
    let outcome = store
        .apply(&[article("b.txt", same("b"), at(NOW - 5))], at(NOW))
        .unwrap();
    assert_eq!(
        outcome.duplicates,
        [("b.txt".to_owned(), EntryKey::new("a"))]
    );
    assert!(!outcome.feeds_changed());
    assert_eq!(store.latest_entries(10).unwrap().len(), 1);
    let counts = store.counts().unwrap();
    assert_eq!(
        (counts.entries, counts.published_files, counts.duplicates),
        (1, 1, 1)
    );

    // The original goes: the duplicate is read again and then published under its key.
    let outcome = store.apply(&[removed("a.txt")], at(NOW + 1)).unwrap();
    assert_eq!(outcome.removed, [EntryKey::new("a")]);
    assert_eq!(outcome.requeue, ["b.txt".to_owned()]);
    let outcome = store
        .apply(&[article("b.txt", same("b"), at(NOW - 5))], at(NOW + 2))
        .unwrap();
    assert_eq!(outcome.published, [EntryKey::new("b")]);
    assert_eq!(
        store.latest_entries(10).unwrap()[0].draft.key,
        EntryKey::new("b")
    );
}

#[test]
fn a_deleted_file_leaves_and_comes_back_with_its_id_and_date() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(&[article("a.txt", draft("a", "A"), at(NOW - 100))], at(NOW))
        .unwrap();
    let first = store.latest_entries(1).unwrap().remove(0);
    let outcome = store.apply(&[removed("a.txt")], at(NOW + 1)).unwrap();
    assert_eq!(outcome.removed, [EntryKey::new("a")]);
    assert!(store.latest_entries(10).unwrap().is_empty());
    assert!(store.file_stamps().unwrap().is_empty());
    // Removing a file nobody knows is nothing.
    assert!(
        !store
            .apply(&[removed("zzz.txt")], at(NOW + 1))
            .unwrap()
            .feeds_changed()
    );

    let outcome = store
        .apply(
            &[article("a.txt", draft("a", "A"), at(NOW + 50))],
            at(NOW + 50),
        )
        .unwrap();
    assert_eq!(outcome.published, [EntryKey::new("a")]);
    let back = store.latest_entries(1).unwrap().remove(0);
    assert_eq!(
        (back.draft.id, back.published, back.updated),
        (first.draft.id, first.published, first.updated)
    );
}

/// `holds_nothing` says, without counting, what all-zero counts say: a store with no
/// file and no live entry (the start of a first ingest).
#[test]
fn holds_nothing_is_what_counts_of_zero_say() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let agree = |store: &Store| {
        let nothing = store.holds_nothing().unwrap();
        assert_eq!(nothing, store.counts().unwrap() == Counts::default());
        nothing
    };
    assert!(agree(&store));
    let reject = rejected(
        "b.txt",
        "b",
        FileStamp {
            size: 0,
            mtime_ns: 1,
        },
        RejectReason::Empty,
    );
    store.apply(&[reject], at(NOW)).unwrap();
    assert!(!agree(&store), "a rejected file");
    store.apply(&[removed("b.txt")], at(NOW + 1)).unwrap();
    assert!(agree(&store));
    store
        .apply(
            &[article("a.txt", draft("a", "A"), at(NOW - 100))],
            at(NOW + 2),
        )
        .unwrap();
    assert!(!agree(&store), "a live entry");
    store.apply(&[removed("a.txt")], at(NOW + 3)).unwrap();
    assert!(agree(&store), "only a deleted entry");
}

#[test]
fn a_published_file_that_turns_bad_keeps_its_last_good_version() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(&[article("a.txt", draft("a", "A"), at(NOW - 100))], at(NOW))
        .unwrap();
    let reject = rejected(
        "a.txt",
        "a",
        FileStamp {
            size: 0,
            mtime_ns: 1,
        },
        RejectReason::Empty,
    );
    let outcome = store.apply(&[reject], at(NOW + 1)).unwrap();
    assert!(!outcome.feeds_changed());
    assert_eq!(store.latest_entries(10).unwrap().len(), 1);
    assert_eq!(store.counts().unwrap().rejects, 1);
    // Once the bad file is deleted, the entry goes too.
    let outcome = store.apply(&[removed("a.txt")], at(NOW + 2)).unwrap();
    assert_eq!(outcome.removed, [EntryKey::new("a")]);
}

#[test]
fn a_key_held_by_another_file_is_a_reject_until_that_file_goes() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .apply(&[article("a.txt", draft("a", "A"), at(NOW - 100))], at(NOW))
        .unwrap();
    store
        .apply(
            &[article("a.TXT", draft("a", "Other A"), at(NOW - 50))],
            at(NOW),
        )
        .unwrap();
    assert_eq!(store.latest_entries(10).unwrap()[0].draft.title, "A");
    assert_eq!(store.counts().unwrap().rejects, 1);
    let outcome = store.apply(&[removed("a.txt")], at(NOW + 1)).unwrap();
    assert_eq!(outcome.requeue, ["a.TXT".to_owned()]);
}

#[test]
fn files_copied_together_get_distinct_published_times_in_order() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mtime = at(NOW - 100);
    let batch: Vec<_> = (0..5)
        .map(|i| {
            article(
                &format!("{i}.txt"),
                draft(&i.to_string(), &format!("T{i}")),
                mtime,
            )
        })
        .collect();
    store.apply(&batch, at(NOW)).unwrap();
    let entries = store.latest_entries(10).unwrap();
    let mut times: Vec<_> = entries.iter().map(|e| e.published).collect();
    times.dedup();
    assert_eq!(times.len(), 5, "{times:?}");
    assert!(
        times
            .iter()
            .all(|t| *t >= mtime && *t < mtime + Duration::seconds(1))
    );
    let keys: Vec<_> = entries.iter().map(|e| e.draft.key.to_string()).collect();
    assert_eq!(
        keys,
        ["4", "3", "2", "1", "0"],
        "newest first, in the order they were seen"
    );
}

/// `a` and `c` at 10:00:00 and `b` at 10:00:30, applied in path order: `c` moves by one
/// millisecond, not past `b` (it once came out at 10:00:30.001, ahead of `b`).
#[test]
fn a_shared_mtime_moves_by_the_smallest_step_and_never_past_a_later_file() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let ten = at(NOW - 3600);
    let batch = [
        article("a.txt", draft("a", "A"), ten),
        article("b.txt", draft("b", "B"), ten + Duration::seconds(30)),
        article("c.txt", draft("c", "C"), ten),
    ];
    store.apply(&batch, at(NOW)).unwrap();
    let dates: Vec<_> = store
        .latest_entries(10)
        .unwrap()
        .iter()
        .map(|e| (e.draft.key.to_string(), e.published))
        .collect();
    assert_eq!(
        dates,
        [
            ("b".to_owned(), ten + Duration::seconds(30)),
            ("c".to_owned(), ten + Duration::milliseconds(1)),
            ("a".to_owned(), ten),
        ]
    );
}

/// A long run of taken times (a big copy in one millisecond) is walked past a page of
/// the index at a time, by a new writer that knows nothing of it.
#[test]
fn a_file_after_a_long_run_of_taken_times_takes_the_first_free_one() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mtime = at(NOW - 3600);
    let batch: Vec<_> = (0..600)
        .map(|i| {
            article(
                &format!("{i:03}.txt"),
                draft(&format!("{i:03}"), &format!("T{i}")),
                mtime,
            )
        })
        .collect();
    store.apply(&batch, at(NOW)).unwrap();
    store
        .apply(
            &[article("late.txt", draft("late", "Late"), mtime)],
            at(NOW),
        )
        .unwrap();
    let latest = &store.latest_entries(1).unwrap()[0];
    assert_eq!(latest.draft.key.as_str(), "late");
    assert_eq!(latest.published, mtime + Duration::milliseconds(600));
}

#[test]
fn latest_entries_are_newest_first_and_limited() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let batch: Vec<_> = (0..10)
        .map(|i| {
            article(
                &format!("{i}.txt"),
                draft(&i.to_string(), &format!("T{i}")),
                at(NOW - 1000 + i * 10),
            )
        })
        .collect();
    store.apply(&batch, at(NOW)).unwrap();
    let keys: Vec<_> = store
        .latest_entries(3)
        .unwrap()
        .iter()
        .map(|e| e.draft.key.to_string())
        .collect();
    assert_eq!(keys, ["9", "8", "7"]);
    assert_eq!(store.live_entries().unwrap().len(), 10);
}

#[test]
fn sections_tombstones_and_publication_order() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let batch = [
        article("a.txt", in_section("a", "A", "Tech"), at(NOW - 30)),
        article(
            "b.txt",
            in_section("b", "B", "Conflict & Justice"),
            at(NOW - 20),
        ),
        article("c.txt", in_section("c", "C", "Tech"), at(NOW - 10)),
    ];
    let outcome = store.apply(&batch, at(NOW)).unwrap();
    assert_eq!(
        outcome.categories,
        ["conflict-justice".to_owned(), "tech".to_owned()].into()
    );
    let slugs: Vec<_> = store
        .categories(at(0))
        .unwrap()
        .into_iter()
        .map(|c| c.slug)
        .collect();
    assert_eq!(slugs, ["conflict-justice", "tech"], "by section name");
    let tech: Vec<_> = store
        .latest_in_category("tech", 10)
        .unwrap()
        .into_iter()
        .map(|e| e.draft.key.to_string())
        .collect();
    assert_eq!(tech, ["c", "a"]);
    assert_eq!(store.max_seq().unwrap(), 3);
    let first_two: Vec<_> = store
        .entries_by_seq(1, 2)
        .unwrap()
        .into_iter()
        .map(|e| e.draft.key.to_string())
        .collect();
    assert_eq!(first_two, ["b", "a"], "newest first within the page");

    // An edit that moves an entry to another section touches both sections.
    let outcome = store
        .apply(
            &[article(
                "a.txt",
                in_section("a", "A", "Health"),
                at(NOW + 1),
            )],
            at(NOW + 1),
        )
        .unwrap();
    assert_eq!(
        outcome.categories,
        ["health".to_owned(), "tech".to_owned()].into()
    );

    // A deletion is a tombstone of the entry's section, until it is older than `since`.
    let outcome = store.apply(&[removed("c.txt")], at(NOW + 2)).unwrap();
    assert_eq!(outcome.categories, ["tech".to_owned()].into());
    let tombstones = store.tombstones(at(NOW)).unwrap();
    assert_eq!(tombstones.len(), 1);
    assert_eq!(tombstones[0].key, EntryKey::new("c"));
    assert_eq!(tombstones[0].deleted, at(NOW + 2));
    assert_eq!(tombstones[0].category_slug.as_deref(), Some("tech"));
    assert!(store.tombstones(at(NOW + 3)).unwrap().is_empty());
    // A section with only a tombstone is still listed while the tombstone is kept.
    let slugs: Vec<_> = store
        .categories(at(NOW))
        .unwrap()
        .into_iter()
        .map(|c| c.slug)
        .collect();
    assert_eq!(slugs, ["conflict-justice", "health", "tech"]);
    let slugs: Vec<_> = store
        .categories(at(NOW + 3))
        .unwrap()
        .into_iter()
        .map(|c| c.slug)
        .collect();
    assert_eq!(slugs, ["conflict-justice", "health"]);
    // A returning file keeps its number: archive pages never move.
    store
        .apply(
            &[article("c.txt", in_section("c", "C", "Tech"), at(NOW - 10))],
            at(NOW + 4),
        )
        .unwrap();
    assert_eq!(store.max_seq().unwrap(), 3);
}

/// A section is named as its newest live entry names it; with none live, as its newest
/// deleted one did.
#[test]
fn a_section_is_named_by_its_newest_live_entry() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let batch = [
        article("a.txt", in_section("a", "A", "Tech"), at(NOW - 30)),
        article("b.txt", in_section("b", "B", "TECH"), at(NOW - 20)),
        article("c.txt", in_section("c", "C", "tech"), at(NOW - 10)),
    ];
    store.apply(&batch, at(NOW)).unwrap();
    let term = |store: &Store| store.category("tech").unwrap().map(|c| c.term);
    assert_eq!(term(&store).as_deref(), Some("tech"));
    store.apply(&[removed("c.txt")], at(NOW + 1)).unwrap();
    assert_eq!(
        term(&store).as_deref(),
        Some("TECH"),
        "the live entry first"
    );
    store
        .apply(&[removed("a.txt"), removed("b.txt")], at(NOW + 2))
        .unwrap();
    assert_eq!(
        term(&store).as_deref(),
        Some("tech"),
        "the newest deleted one"
    );
    assert_eq!(store.category("sport").unwrap(), None);
}

#[test]
fn archive_pages_and_settings_survive_a_reopen() {
    let dir = TempDir::new().unwrap();
    let page = seedfeed::model::ArchivePage {
        path: "/archive/1.atom".into(),
        number: 1,
        body: b"<feed/>".to_vec(),
        gzip: None,
        brotli: Some(b"br".to_vec()),
        media_type: "application/atom+xml; charset=utf-8".into(),
        last_modified: at(NOW),
    };
    {
        let mut store = Store::open(dir.path()).unwrap();
        store
            .save_archive_pages(std::slice::from_ref(&page))
            .unwrap();
        store.set_meta("archive_page_size", "50").unwrap();
        // A page once stored is never replaced.
        let mut other = page.clone();
        other.body = b"<changed/>".to_vec();
        store.save_archive_pages(&[other]).unwrap();
    }
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(store.archive_page("/archive/1.atom").unwrap(), Some(page));
    assert_eq!(store.archive_page_paths().unwrap(), ["/archive/1.atom"]);
    assert_eq!(store.newest_archive_page().unwrap(), Some(1));
    // A second connection, read-only, sees what the writer committed.
    let reader = Store::open_reader(dir.path()).unwrap();
    assert_eq!(reader.newest_archive_page().unwrap(), Some(1));
    assert_eq!(
        store.meta("archive_page_size").unwrap().as_deref(),
        Some("50")
    );
    assert_eq!(store.meta("nothing").unwrap(), None);
    store.clear_archive_pages().unwrap();
    assert_eq!(store.newest_archive_page().unwrap(), None);
    assert_eq!(reader.archive_page("/archive/1.atom").unwrap(), None);
}

/// The checkpoint thread copies committed pages into the database file while the WAL is
/// still far from the size at which the writer would checkpoint by itself.
#[test]
fn committed_pages_reach_the_database_file_without_the_writer() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let db = dir.path().join("seedfeed.db");
    let empty = std::fs::metadata(&db).unwrap().len();
    // About 40 MB of WAL (each body is 8 KB): past the thread's threshold (16 MiB), far
    // below the writer's own (256 MiB).
    let body = "word ".repeat(1600);
    for batch in 0..10 {
        let changes: Vec<FileChange> = (0..500)
            .map(|i| {
                let key = format!("k{batch}_{i:03}");
                let mut draft = draft(&key, &key);
                draft.content_html = body.clone();
                article(&format!("{key}.txt"), draft, at(1_700_000_000 + i))
            })
            .collect();
        store.apply(&changes, at(1_800_000_000)).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut size = empty;
    while size < empty + 16 * 1024 * 1024 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        size = std::fs::metadata(&db).unwrap().len();
    }
    assert!(
        size >= empty + 16 * 1024 * 1024,
        "the database file holds {size} bytes; the WAL was not checkpointed"
    );
    assert_eq!(store.counts().unwrap().entries, 5000);
}

/// A bulk stopped before the index of content hashes was built again (a kill, a failed
/// commit): the next start builds it, and the next writer finds duplicates with it.
#[test]
fn a_start_builds_the_index_a_stopped_bulk_dropped() {
    let same = |key: &str| {
        let mut d = draft("x", "Same");
        d.id = id_of(key);
        d.key = EntryKey::new(key);
        d
    };
    let dir = TempDir::new().unwrap();
    {
        let mut store = Store::open(dir.path()).unwrap();
        let mut writer = store.bulk_writer(1_000_000).unwrap();
        let first = article("first.txt", same("first"), at(NOW - 10));
        writer.apply(&[first], at(NOW)).unwrap();
        writer.commit().unwrap();
    }
    assert!(!has_hash_index(dir.path()));
    let mut store = Store::open(dir.path()).unwrap();
    assert!(has_hash_index(dir.path()));
    let second = article("second.txt", same("second"), at(NOW));
    let outcome = store.apply(&[second], at(NOW)).unwrap();
    assert_eq!(outcome.duplicates.len(), 1, "{outcome:?}");
}

/// Whether the database in `dir` has the index of live content hashes, as another
/// connection sees it.
fn has_hash_index(dir: &std::path::Path) -> bool {
    let conn = rusqlite::Connection::open(dir.join("seedfeed.db")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name = 'entries_live_by_hash'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

/// Which writer applies the bulk in `a_bulk_writer_decides_as_the_plain_writer_does`.
#[derive(Clone, Copy, PartialEq)]
enum WriterKind {
    Plain,
    /// A bulk writer told of a bulk of this many files.
    Bulk(usize),
}

/// A bulk writer skips the lookups that what the store holds shows cannot find anything
/// (store::known): it must decide everything as the plain writer does, over a store that
/// already holds entries (so what it loads matters) and within the bulk itself; also
/// when the bulk is big enough to run without the index of content hashes, which it then
/// drops and the store builds again.
#[test]
fn a_bulk_writer_decides_as_the_plain_writer_does() {
    let same = |key: &str, title: &str| {
        let mut d = draft("x", title);
        d.id = id_of(key);
        d.key = EntryKey::new(key);
        d
    };
    let reject =
        |path: &str, key: &str| rejected(path, key, stamp(at(NOW - 40)), RejectReason::Empty);
    let before = vec![
        article("old.txt", draft("old", "Old"), at(NOW - 100)),
        article("kept.txt", same("kept", "Kept"), at(NOW - 90)),
        article("gone.txt", draft("gone", "Gone"), at(NOW - 80)),
        article("bad.txt", draft("bad", "Bad"), at(NOW - 70)),
    ];
    let bulk = [
        vec![
            // The same mtime as a stored entry, and as each other: distinct dates.
            article("n1.txt", draft("n1", "N1"), at(NOW - 100)),
            article("n2.txt", draft("n2", "N2"), at(NOW - 100)),
            // The content of a stored entry, then of an entry new in this bulk.
            article("dup.txt", same("dup", "Kept"), at(NOW - 30)),
            article("n3.txt", same("n3", "N3"), at(NOW - 30)),
            article("n3copy.txt", same("n3copy", "N3"), at(NOW - 30)),
        ],
        vec![
            // A deleted entry's file returns; a stored entry changes; a stored key and a
            // key new in this bulk are claimed by a second file.
            article("gone.txt", draft("gone", "Gone again"), at(NOW - 20)),
            article("old.txt", draft("old", "Old, edited"), at(NOW - 20)),
            article("OLD.txt", draft("old", "Other old"), at(NOW - 20)),
            article("N1.txt", draft("n1", "Other n1"), at(NOW - 20)),
            reject("bad.txt", "bad"),
            reject("new-bad.txt", "new-bad"),
            removed("kept.txt"),
        ],
        vec![
            // The file that duplicated a removed entry, and a rejected file made good.
            article("dup.txt", same("dup", "Kept"), at(NOW - 10)),
            article("new-bad.txt", draft("new-bad", "Good now"), at(NOW - 10)),
            article("n4.txt", draft("n4", "N4"), at(NOW - 100)),
        ],
    ];
    // A million files: past the size from which a bulk drops the index.
    let big = WriterKind::Bulk(1_000_000);
    let run = |kind: WriterKind| {
        let dir = TempDir::new().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.apply(&before, at(NOW)).unwrap();
        store.apply(&[removed("gone.txt")], at(NOW)).unwrap();
        let mut outcomes = Vec::new();
        {
            let mut writer = match kind {
                WriterKind::Plain => store.writer(),
                WriterKind::Bulk(files) => store.bulk_writer(files).unwrap(),
            };
            for (i, part) in bulk.iter().enumerate() {
                outcomes.push(writer.apply(part, at(NOW + i as i64)).unwrap());
                if i == 1 {
                    writer.commit().unwrap();
                    assert_eq!(has_hash_index(dir.path()), kind != big);
                }
            }
            writer.commit().unwrap();
        }
        store.build_hash_index().unwrap();
        assert!(has_hash_index(dir.path()));
        let state = (
            store.live_entries().unwrap(),
            store.tombstones(at(0)).unwrap(),
            store.counts().unwrap(),
            store.duplicate_files(100).unwrap(),
            store.rejected_files(100).unwrap(),
        );
        (outcomes, state)
    };
    let (plain_outcomes, plain) = run(WriterKind::Plain);
    for kind in [WriterKind::Bulk(1000), big] {
        let (bulk_outcomes, bulk) = run(kind);
        assert_eq!(bulk_outcomes, plain_outcomes);
        assert_eq!(bulk, plain);
    }
    // The scenario reaches every decision the lookups make.
    let (entries, tombstones, counts, duplicates, rejects) = plain;
    assert_eq!(entries.len(), 9, "{entries:#?}");
    assert_eq!(counts.entries, 9, "the live entries, counted");
    assert_eq!(tombstones.len(), 1, "{tombstones:?}");
    assert_eq!(counts.duplicates, 1, "{duplicates:?}");
    assert_eq!(counts.rejects, 3, "{rejects:?}");
    let mut published: Vec<_> = entries.iter().map(|e| e.published).collect();
    published.sort();
    published.dedup();
    assert_eq!(published.len(), entries.len(), "dates are distinct");
}

/// A writer writes its files' rows when it commits, in the order of their paths
/// (`store::file_rows`). What it decided earlier in its transaction still counts: a
/// second file with a key another file publishes is set aside, a file removed after it
/// was stored takes its entry out, and a file changed twice keeps its last state.
#[test]
fn a_writer_decides_with_the_files_it_has_not_written_yet() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.writer();
    let first = [
        article("b.txt", draft("b", "B"), at(NOW - 30)),
        article("a.txt", draft("a", "A"), at(NOW - 20)),
        article("c.txt", draft("c", "C"), at(NOW - 10)),
    ];
    writer.apply(&first, at(NOW)).unwrap();
    let second = [
        article("b.md", draft("b", "Another B"), at(NOW - 5)),
        removed("a.txt"),
        article("c.txt", draft("c", "C, edited"), at(NOW - 2)),
    ];
    let outcome = writer.apply(&second, at(NOW + 1)).unwrap();
    writer.commit().unwrap();
    drop(writer);
    assert_eq!(outcome.rejected, 1, "{outcome:?}");
    assert_eq!(outcome.removed, [EntryKey::new("a")]);
    assert_eq!(outcome.updated, [EntryKey::new("c")]);
    let titles: Vec<String> = store
        .live_entries()
        .unwrap()
        .into_iter()
        .map(|entry| entry.draft.title)
        .collect();
    assert_eq!(titles, ["C, edited", "B"]);
    let rejected = store.rejected_files(10).unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].path, "b.md");
    assert_eq!(store.file_stamp("a.txt").unwrap(), None);
    assert_eq!(store.file_stamp("c.txt").unwrap(), Some(stamp(at(NOW - 2))));
}
