//! Which media files each article file's last read referenced (`media_refs`), found or
//! not, and the stamp the read found each with: written in the batch's transaction with
//! the file's row, replaced at each read, deleted with the file. The ingest driver looks
//! up the articles that reference a media file that settled (appeared, changed or went),
//! and the reconcile scan compares what the reads found with the folder.

use std::collections::HashMap;

use rusqlite::{Row, params};

use super::change::Batch;
use super::{MediaRef, Store, StoreError};
use crate::model::FileStamp;

/// What the last reads of the articles that reference one media file found of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSeen {
    /// Every one found it with this stamp, or (`None`) found nothing there.
    Alike(Option<FileStamp>),
    /// They found it in different states: some were read before it changed.
    Differ,
}

impl MediaSeen {
    /// Whether every article that references the file has seen it as it is `now`
    /// (`None`: nothing there): if not, they are to be read again.
    pub fn is_current(self, now: Option<FileStamp>) -> bool {
        self == Self::Alike(now)
    }
}

impl Batch<'_> {
    /// Records the media files the read of the article file at `path` referenced, in
    /// place of those of its last read (none for a file that is not an article now, or
    /// is gone). The old rows are deleted only when the writer's [`super::known::Known`]
    /// shows there may be some: a cold ingest writes no delete at all.
    pub(super) fn media_refs(&mut self, path: &str, media: &[MediaRef]) -> rusqlite::Result<()> {
        if self.known.may_have_refs(path) {
            self.tx
                .prepare_cached("DELETE FROM media_refs WHERE file = ?1")?
                .execute([path])?;
        }
        if media.is_empty() {
            return Ok(());
        }
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO media_refs (media, file, size, mtime_ns) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (media, file) DO UPDATE SET size = excluded.size, \
             mtime_ns = excluded.mtime_ns",
        )?;
        for reference in media {
            let (size, mtime_ns) = match reference.stamp {
                Some(stamp) => (Some(stamp.size as i64), Some(stamp.mtime_ns)),
                None => (None, None),
            };
            insert.execute(params![reference.path, path, size, mtime_ns])?;
        }
        self.known.add_refs(path);
        Ok(())
    }
}

impl Store {
    /// The article files whose last read referenced the media file at `media`, by path.
    pub fn files_referencing(&self, media: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT file FROM media_refs WHERE media = ?1")?;
        let rows = stmt.query_map([media], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every media file an article references, with what the articles' last reads found
    /// of it: what the reconcile scan compares with the folder. One pass over the table
    /// in the order of its key, so each file's rows come together.
    pub fn referenced_media(&self) -> Result<HashMap<String, MediaSeen>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT media, size, mtime_ns FROM media_refs ORDER BY media")?;
        let mut rows = stmt.query([])?;
        let mut seen: HashMap<String, MediaSeen> = HashMap::new();
        let mut last: Option<(String, MediaSeen)> = None;
        while let Some(row) = rows.next()? {
            let media = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let stamp = stamp_of(row)?;
            match &mut last {
                Some((path, state)) if path == media => {
                    if *state != MediaSeen::Alike(stamp) {
                        *state = MediaSeen::Differ;
                    }
                }
                _ => {
                    let next = (media.to_owned(), MediaSeen::Alike(stamp));
                    seen.extend(last.replace(next));
                }
            }
        }
        seen.extend(last);
        Ok(seen)
    }

    /// The media files below one subfolder (relative path) of the seeds folder, at any
    /// depth, that an article references.
    pub fn referenced_media_under(&self, dir: &str) -> Result<Vec<String>, StoreError> {
        // Every path under `dir/` sorts between `dir/` and `dir0` ('0' follows '/').
        let low = format!("{dir}/");
        let high = format!("{dir}0");
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT media FROM media_refs WHERE media > ?1 AND media < ?2 \
             ORDER BY media",
        )?;
        let rows = stmt.query_map(params![low, high], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The stamp in columns 1 and 2 of a row of `media_refs`.
fn stamp_of(row: &Row<'_>) -> rusqlite::Result<Option<FileStamp>> {
    let size: Option<i64> = row.get(1)?;
    let mtime_ns: Option<i64> = row.get(2)?;
    Ok(size.zip(mtime_ns).map(|(size, mtime_ns)| FileStamp {
        size: size.max(0) as u64,
        mtime_ns,
    }))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::{EntryKey, RejectReason};
    use crate::normalize::{EntryContext, normalize};
    use crate::parse::parse_article;
    use crate::store::FileChange;

    fn stamp(size: u64) -> Option<FileStamp> {
        Some(FileStamp {
            size,
            mtime_ns: 1_700_000_000_000_000_000,
        })
    }

    /// The article file `{key}.md` read, referencing `media` as the read found them.
    fn article(key: &str, media: &[(&str, Option<FileStamp>)]) -> FileChange {
        let text = format!("World\n\nStory {key}\n\n\nBody of {key}.\n");
        let parsed = parse_article(text.as_bytes()).unwrap();
        FileChange::Article {
            path: format!("{key}.md"),
            stamp: stamp(text.len() as u64).unwrap(),
            draft: normalize(
                EntryKey::new(key),
                &parsed.article,
                &EntryContext::for_tests(),
            ),
            warnings: Vec::new(),
            media: media
                .iter()
                .map(|&(path, stamp)| MediaRef {
                    path: path.to_owned(),
                    stamp,
                })
                .collect(),
        }
    }

    fn referencing(store: &Store, media: &str) -> Vec<String> {
        let mut files = store.files_referencing(media).unwrap();
        files.sort();
        files
    }

    /// Each read replaces what the file's last read referenced; a file that is no
    /// article any more, or is gone, references nothing. Kept across a reopening.
    #[test]
    fn a_read_replaces_the_references_of_the_last_and_a_removal_drops_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .apply(
                &[
                    article("a", &[("img/x.jpg", stamp(10)), ("ep.mp3", None)]),
                    article("b", &[("img/x.jpg", stamp(10))]),
                    article("c", &[]),
                ],
                Utc::now(),
            )
            .unwrap();
        assert_eq!(referencing(&store, "img/x.jpg"), ["a.md", "b.md"]);
        assert_eq!(referencing(&store, "ep.mp3"), ["a.md"]);
        assert!(referencing(&store, "nothing.png").is_empty());

        // a read again: the episode is no longer referenced, a new image is.
        store
            .apply(&[article("a", &[("img/y.png", None)])], Utc::now())
            .unwrap();
        assert_eq!(referencing(&store, "img/x.jpg"), ["b.md"]);
        assert!(referencing(&store, "ep.mp3").is_empty());
        assert_eq!(referencing(&store, "img/y.png"), ["a.md"]);

        // a turns into a reject, b goes: neither references anything.
        let reject = FileChange::Rejected {
            path: "a.md".into(),
            key: EntryKey::new("a"),
            stamp: stamp(0).unwrap(),
            reason: RejectReason::Empty,
        };
        let removed = FileChange::Removed {
            path: "b.md".into(),
        };
        store.apply(&[reject, removed], Utc::now()).unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(store.referenced_media().unwrap().is_empty());
    }

    /// What the reads found of each referenced file: alike (found with one stamp, or
    /// missing for all), or different when one article was read before a change.
    #[test]
    fn referenced_media_says_what_the_reads_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .apply(
                &[
                    article("a", &[("x.jpg", stamp(10)), ("gone.png", None)]),
                    article("b", &[("x.jpg", stamp(10)), ("ep.mp3", stamp(5))]),
                    article("c", &[("ep.mp3", stamp(7)), ("gone.png", None)]),
                    article("d", &[("sub/deep/v.mp4", stamp(1))]),
                ],
                Utc::now(),
            )
            .unwrap();
        let seen = store.referenced_media().unwrap();
        assert_eq!(seen.len(), 4);
        assert_eq!(seen["x.jpg"], MediaSeen::Alike(stamp(10)));
        assert_eq!(seen["gone.png"], MediaSeen::Alike(None));
        assert_eq!(seen["ep.mp3"], MediaSeen::Differ);
        assert!(seen["x.jpg"].is_current(stamp(10)));
        assert!(!seen["x.jpg"].is_current(stamp(11)));
        assert!(!seen["x.jpg"].is_current(None));
        assert!(seen["gone.png"].is_current(None));
        assert!(!seen["ep.mp3"].is_current(stamp(7)));
        assert_eq!(
            store.referenced_media_under("sub").unwrap(),
            ["sub/deep/v.mp4"]
        );
        assert!(store.referenced_media_under("su").unwrap().is_empty());
    }

    /// A bulk writer skips the delete for files it knows have no references, and still
    /// replaces those of files that have: the same rows either way.
    #[test]
    fn a_bulk_writer_replaces_references_like_any_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .apply(&[article("a", &[("old.jpg", stamp(1))])], Utc::now())
            .unwrap();
        let mut writer = store.bulk_writer(10).unwrap();
        writer
            .apply(
                &[
                    article("a", &[("new.jpg", stamp(2))]),
                    article("b", &[("new.jpg", None)]),
                ],
                Utc::now(),
            )
            .unwrap();
        // Read again in the same bulk, after its first rows were written.
        writer
            .apply(&[article("b", &[("other.jpg", None)])], Utc::now())
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        assert!(referencing(&store, "old.jpg").is_empty());
        assert_eq!(referencing(&store, "new.jpg"), ["a.md"]);
        assert_eq!(referencing(&store, "other.jpg"), ["b.md"]);
    }
}
