//! The store's rules for one article file, as a pure function of what the store holds:
//! which file owns a key, when content is a duplicate, and the dates. The SQL that reads
//! the facts and carries the decision out is in `change`; `seedfeed check` runs the same
//! code on a store in memory.
//!
//! - A key belongs to the first file that publishes it (`a.txt` beside `a.TXT`).
//! - Content already published under another key is a duplicate, not a second entry.
//! - An id an article keeps from an older system belongs to the live entry that has it.
//! - `published` is set once, from the front matter's date or else the file's mtime
//!   (never in the future), moved to the first free millisecond when another entry has
//!   it; after, only a new date in the front matter moves it.
//! - New files are applied in [`date_order`], so the dates are a function of the folder.
//! - `updated` moves only when the content changes, and always forward, unless the front
//!   matter gives it.

use crate::model::{EntryDraft, EntryKey, FileStamp};

/// What the store holds that decides an article file's fate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    /// Another file that publishes the same key.
    pub key_owner: Option<String>,
    /// The live entry of another key with the same content.
    pub same_content: Option<EntryKey>,
    /// The live entry of another key that has the id the article gives.
    pub id_owner: Option<EntryKey>,
    /// This key's entry, live or retired.
    pub entry: Option<StoredEntry>,
}

/// An entry as stored, as far as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub content_hash: [u8; 32],
    /// Whether it has left the feeds (its file went, or became a duplicate).
    pub retired: bool,
    /// Unix milliseconds.
    pub updated: i64,
    /// Unix milliseconds.
    pub published: i64,
    /// The date its front matter gave, unix milliseconds.
    pub date: Option<i64>,
}

/// What applying an article file does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Another file publishes this key: this one is set aside.
    KeyConflict { other: String },
    /// The content is published under `original`: this file is a duplicate of it, and the
    /// key's own entry leaves the feeds if no file publishes it any more.
    Duplicate { original: EntryKey },
    /// Another live entry has the id the article gives: this file is set aside.
    IdConflict { other: EntryKey },
    /// A new entry, published at `wanted` (the front matter's date or the file's mtime,
    /// never in the future) or the first free millisecond after it (see [`first_free`]),
    /// and updated at `updated` (the front matter's, when it gives one later than that).
    Insert { wanted: i64, updated: Option<i64> },
    /// The key's entry takes this content; its published date stays as it is unless
    /// `redate` (the front matter gives a new date). `returns`: it was retired and comes
    /// back to the feeds. `edited`: the content changed, and `updated` moved. Neither: the
    /// same content (a touch, a copy over itself), nothing a reader sees.
    Update {
        updated: i64,
        returns: bool,
        edited: bool,
        redate: Option<i64>,
    },
}

/// Decides what an article file does, given what the store holds (`now` and the stamp's
/// mtime in unix milliseconds).
pub fn decide(existing: &Existing, draft: &EntryDraft, stamp: FileStamp, now: i64) -> Action {
    if let Some(other) = &existing.key_owner {
        return Action::KeyConflict {
            other: other.clone(),
        };
    }
    if let Some(original) = &existing.same_content {
        return Action::Duplicate {
            original: original.clone(),
        };
    }
    if let Some(other) = &existing.id_owner {
        return Action::IdConflict {
            other: other.clone(),
        };
    }
    let mtime = stamp.mtime_ms();
    let date = draft.meta.date.map(|date| date.timestamp_millis().min(now));
    let given_updated = draft
        .meta
        .updated_date
        .map(|date| date.timestamp_millis().min(now));
    let Some(entry) = &existing.entry else {
        return Action::Insert {
            wanted: date.unwrap_or(mtime.min(now)),
            updated: given_updated,
        };
    };
    let edited = entry.content_hash != draft.content_hash.0;
    let redate = date.filter(|_| draft.meta.date.map(|d| d.timestamp_millis()) != entry.date);
    let updated = match (edited, given_updated) {
        (false, _) => entry.updated,
        (true, Some(given)) => given,
        (true, None) => next_updated(entry.updated, mtime, now),
    };
    Action::Update {
        updated,
        returns: entry.retired,
        edited,
        redate,
    }
}

/// `updated` for a content change: the file's mtime when that is news, else now; always
/// later than before, so readers see the change.
pub fn next_updated(previous: i64, mtime: i64, now: i64) -> i64 {
    let candidate = mtime.min(now);
    if candidate > previous {
        candidate
    } else {
        now.max(previous + 1)
    }
}

/// The first published time at or after `wanted` that no entry has: `taken` are the
/// published times from `wanted` on, ascending (a repeat is skipped). A time taken by
/// another entry moves by the smallest step that keeps it unique, so entries first seen
/// in the same millisecond (a `cp` or `git clone` of many files) keep the order in which
/// they are applied, and never pass a later file's time unless a run of taken times
/// reaches it. Distinct dates keep the order of entries the same in every reader, and the
/// W3C validator warns about two Atom entries with equal `updated`.
pub fn first_free(wanted: i64, taken: impl IntoIterator<Item = i64>) -> i64 {
    let mut candidate = wanted;
    for time in taken {
        if time > candidate {
            break;
        }
        if time == candidate {
            candidate += 1;
        }
    }
    candidate
}

/// The order in which new article files are applied, so that their published times are
/// a function of the folder and not of the order a scan or a burst of events delivered
/// them: by mtime to the millisecond, then by key, then by path. A file applied after
/// others takes the first free time at or after its own ([`first_free`]); applied in
/// this order, ties go to the smaller key, and the committed part of an interrupted
/// ingest is a prefix of the same order, so a restart continues where it stopped.
pub fn date_order(a: (i64, &str, &str), b: (i64, &str, &str)) -> std::cmp::Ordering {
    a.cmp(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContentHash, EntryId};

    const NOW: i64 = 1_800_000_000_000;

    fn draft(hash: u8) -> EntryDraft {
        EntryDraft {
            key: EntryKey::new("k"),
            id: EntryId::new(uuid::Uuid::nil()),
            title: "T".into(),
            section: None,
            category: None,
            caption: None,
            summary: String::new(),
            content_html: String::new(),
            related: Vec::new(),
            content_hash: ContentHash([hash; 32]),
            id_given: false,
            meta: Default::default(),
        }
    }

    fn stamp(mtime_ms: i64) -> FileStamp {
        FileStamp {
            size: 1,
            mtime_ns: mtime_ms * 1_000_000,
        }
    }

    fn stored(hash: u8, retired: bool, updated: i64) -> Existing {
        Existing {
            entry: Some(StoredEntry {
                content_hash: [hash; 32],
                retired,
                updated,
                published: updated,
                date: None,
            }),
            ..Existing::default()
        }
    }

    #[test]
    fn a_new_key_is_published_at_its_mtime_never_in_the_future() {
        let new = Existing::default();
        assert_eq!(
            decide(&new, &draft(1), stamp(NOW - 5), NOW),
            Action::Insert {
                wanted: NOW - 5,
                updated: None
            }
        );
        assert_eq!(
            decide(&new, &draft(1), stamp(NOW + 60_000), NOW),
            Action::Insert {
                wanted: NOW,
                updated: None
            }
        );
    }

    fn dated(hash: u8, date: Option<i64>, updated: Option<i64>) -> EntryDraft {
        let mut draft = draft(hash);
        draft.meta.date = date.and_then(chrono::DateTime::from_timestamp_millis);
        draft.meta.updated_date = updated.and_then(chrono::DateTime::from_timestamp_millis);
        draft
    }

    #[test]
    fn the_front_matter_dates_a_new_entry_not_the_mtime() {
        let new = Existing::default();
        let year_ago = NOW - 365 * 86_400_000;
        assert_eq!(
            decide(
                &new,
                &dated(1, Some(year_ago), Some(NOW - 9)),
                stamp(NOW - 5),
                NOW
            ),
            Action::Insert {
                wanted: year_ago,
                updated: Some(NOW - 9)
            }
        );
    }

    #[test]
    fn only_a_new_date_in_the_front_matter_moves_published() {
        let earlier = NOW - 10_000;
        let mut existing = stored(1, false, earlier);
        if let Some(entry) = existing.entry.as_mut() {
            entry.date = Some(earlier);
        }
        let redate = |draft: &EntryDraft| match decide(&existing, draft, stamp(NOW), NOW) {
            Action::Update { redate, .. } => redate,
            other => panic!("{other:?}"),
        };
        assert_eq!(redate(&dated(2, Some(earlier), None)), None);
        assert_eq!(
            redate(&dated(2, None, None)),
            None,
            "a date taken away moves nothing"
        );
        assert_eq!(
            redate(&dated(2, Some(earlier - 7), None)),
            Some(earlier - 7)
        );
        // An edit that gives `updated` sets it, even backwards.
        assert_eq!(
            decide(
                &existing,
                &dated(2, Some(earlier), Some(earlier - 3)),
                stamp(NOW),
                NOW
            ),
            Action::Update {
                updated: earlier - 3,
                returns: false,
                edited: true,
                redate: None
            }
        );
    }

    #[test]
    fn an_id_another_live_entry_has_is_a_conflict() {
        let existing = Existing {
            id_owner: Some(EntryKey::new("old")),
            ..Existing::default()
        };
        assert_eq!(
            decide(&existing, &draft(1), stamp(NOW), NOW),
            Action::IdConflict {
                other: EntryKey::new("old")
            }
        );
    }

    #[test]
    fn a_key_held_by_another_file_is_a_conflict_before_anything_else() {
        let existing = Existing {
            key_owner: Some("a.TXT".into()),
            same_content: Some(EntryKey::new("b")),
            ..stored(1, false, NOW)
        };
        assert_eq!(
            decide(&existing, &draft(2), stamp(NOW), NOW),
            Action::KeyConflict {
                other: "a.TXT".into()
            }
        );
    }

    #[test]
    fn content_published_under_another_key_is_a_duplicate() {
        let existing = Existing {
            same_content: Some(EntryKey::new("b")),
            ..stored(1, false, NOW)
        };
        assert_eq!(
            decide(&existing, &draft(1), stamp(NOW), NOW),
            Action::Duplicate {
                original: EntryKey::new("b")
            }
        );
    }

    /// An update carries no published time: there is nothing by which it could move.
    #[test]
    fn updated_moves_only_with_the_content() {
        let earlier = NOW - 10_000;
        let update = |retired, hash, mtime| {
            decide(
                &stored(1, retired, earlier),
                &draft(hash),
                stamp(mtime),
                NOW,
            )
        };
        let action = |updated, returns, edited| Action::Update {
            updated,
            returns,
            edited,
            redate: None,
        };
        assert_eq!(update(false, 1, NOW), action(earlier, false, false));
        assert_eq!(update(false, 2, NOW - 1), action(NOW - 1, false, true));
        assert_eq!(update(true, 1, NOW), action(earlier, true, false));
        assert_eq!(update(true, 2, NOW - 1), action(NOW - 1, true, true));
    }

    #[test]
    fn updated_always_moves_forward() {
        // An mtime that is news.
        assert_eq!(next_updated(100, 200, 300), 200);
        // An old mtime (cp -p, rsync -t) or one in the future: now.
        assert_eq!(next_updated(100, 50, 300), 300);
        assert_eq!(next_updated(100, 900, 300), 300);
        // A clock behind the stored date: one past it.
        assert_eq!(next_updated(500, 50, 300), 501);
    }

    #[test]
    fn a_taken_time_moves_by_the_smallest_step() {
        assert_eq!(first_free(1000, []), 1000);
        assert_eq!(first_free(1000, [1000]), 1001);
        assert_eq!(first_free(1000, [1000, 1001, 1002]), 1003);
        // A gap is taken, however much later the next taken time is: a file from
        // 10:00:00 does not jump past one from 10:00:30.
        assert_eq!(first_free(1000, [1000, 31_000]), 1001);
        assert_eq!(first_free(1000, [1000, 1001, 1003]), 1002);
        // Times before the wanted one, and repeats (a database from before times were
        // made distinct), change nothing.
        assert_eq!(first_free(1000, [999, 1000, 1000, 1001]), 1002);
    }

    #[test]
    fn files_are_applied_by_mtime_then_key_then_path() {
        let mut files = vec![
            (2, "a", "a.txt"),
            (1, "c", "c.txt"),
            (1, "b", "z/b.txt"),
            (1, "b", "b.txt"),
        ];
        files.sort_by(|a, b| date_order(*a, *b));
        assert_eq!(
            files,
            [
                (1, "b", "b.txt"),
                (1, "b", "z/b.txt"),
                (1, "c", "c.txt"),
                (2, "a", "a.txt")
            ]
        );
    }
}
