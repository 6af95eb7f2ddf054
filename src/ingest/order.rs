//! The order in which settled paths are applied. A new entry's published time is its
//! file's mtime, moved to the first free millisecond when another entry has it, and it
//! never moves after; so which of two files sharing a millisecond gets it depends on
//! which is applied first. Applying in `store::date_order` (mtime, then key, then path)
//! makes the dates a function of the folder: the same from any scan order, any batching,
//! and across restarts after a crash, whose committed part is a prefix of that order.
//!
//! Paths that settled as gone come first, so a file moved within the folder hands its
//! key over before its new path claims it.
//!
//! A file that has not settled yet (still being written, by its own clock or as the
//! settler saw it) is read only once it settles, so the files after it in that order
//! wait with it: were they applied first, their dates would depend on how long a copy
//! took. A file being written has a new mtime and sorts last, so what waits is the rest
//! of a copy still under way.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::store::date_order;
use crate::watch::{Look, Settled, SettledPaths, key_part};

/// Paths stat'ed on one thread at most; more are split over two. A cold start's scan
/// lists its files without a look, so this is the one `stat` each gets before its read.
const ONE_THREAD: usize = 4096;

/// What orders a settled path: its mtime in unix milliseconds (`i64::MAX` for a path
/// gone since it settled: it sorts last, and its read finds it gone), and its index in
/// the settled list. The keys are sorted, not the paths: sixteen bytes a path beside the
/// list while it is put in order (a cold start orders a million).
type SortKey = (i64, usize);

/// Settled paths split by [`in_date_order`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct InOrder {
    /// To apply now, in this order.
    pub ready: SettledPaths,
    /// To settle again: a listed file still being written, and every file after it.
    pub waiting: Vec<String>,
}

/// `settled` in the order to apply it, up to the first file that has not settled: a
/// listed one still being written at `wall` (by its own clock, as its read would find
/// it), or one of `unsettled`, the files the settler still waits for.
pub(super) fn in_date_order<'a>(
    root: &Path,
    settled: SettledPaths,
    (settle, wall): (Duration, SystemTime),
    unsettled: impl Iterator<Item = (&'a str, Look)>,
) -> InOrder {
    let mut present = settled;
    let gone = present.extract(|settled, _| settled == Settled::Absent);
    let (mut keys, changing) = look_all(root, &present, settle, wall);
    // Keys are borrowed from the paths (`key_part`): a key kept per path would be memory
    // in proportion to the folder. Paths differ, so the order is total and the sort
    // need not be stable (a stable one takes a buffer of half the keys).
    let order_of = |&(mtime_ms, index): &SortKey| {
        let path = present.get(index).1;
        (mtime_ms, key_part(path), path)
    };
    // The mtimes first, from the keys alone: a path is looked at only on a tie. Reading
    // two paths at every comparison made the sort of a folder whose names do not follow
    // their dates one cache miss after another.
    keys.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| date_order(order_of(a), order_of(b)))
    });
    let first_unsettled = unsettled
        .map(|(path, look)| (look.mtime_ms(), key_part(path), path))
        .min();
    let first_waiting = keys.iter().position(|key| {
        changing[key.1]
            || first_unsettled.is_some_and(|first| date_order(order_of(key), first).is_gt())
    });
    drop(changing);
    present.reorder(keys.into_iter().map(|(_, index)| index));
    let waiting = first_waiting.map_or_else(SettledPaths::new, |at| present.split_off(at));
    present.prepend(gone);
    InOrder {
        ready: present,
        waiting: waiting.iter().map(|(_, path)| path.to_owned()).collect(),
    }
}

/// Each path's sort key and whether it is still changing (listed by a scan, and changed
/// within `settle` by its own clock), on two threads for many paths.
fn look_all(
    root: &Path,
    settled: &SettledPaths,
    settle: Duration,
    wall: SystemTime,
) -> (Vec<SortKey>, Vec<bool>) {
    let look_part = |part: std::ops::Range<usize>| {
        let offset = part.start;
        let mut keys = Vec::with_capacity(settled.len() - offset);
        let mut changing = Vec::with_capacity(settled.len() - offset);
        for (index, (how, path)) in (offset..).zip(settled.part(part)) {
            let (mtime_ms, still_changing) = look_one(root, how, path, settle, wall);
            keys.push((mtime_ms, index));
            changing.push(still_changing);
        }
        (keys, changing)
    };
    let total = settled.len();
    if total <= ONE_THREAD {
        return look_part(0..total);
    }
    let half = total / 2;
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| look_part(half..total));
        // The first part's lists have room for the second's.
        let (mut keys, mut changing) = look_part(0..half);
        match helper.join() {
            Ok((more_keys, more_changing)) => {
                keys.extend(more_keys);
                changing.extend(more_changing);
            }
            // Were a `stat` loop to panic, its paths would be lost: passed on, not hidden.
            Err(panic) => std::panic::resume_unwind(panic),
        }
        (keys, changing)
    })
}

/// A path's mtime in unix milliseconds (`i64::MAX` when it has gone), and whether it is
/// listed and still changing.
fn look_one(
    root: &Path,
    how: Settled,
    path: &str,
    settle: Duration,
    wall: SystemTime,
) -> (i64, bool) {
    let look = Look::at(&root.join(path));
    let changing = how == Settled::Listed && look.is_some_and(|look| !look.is_still(settle, wall));
    (look.map_or(i64::MAX, |look| look.mtime_ms()), changing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn write_at(dir: &Path, name: &str, seconds: u64) {
        let path = dir.join(name);
        std::fs::write(&path, name).unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    fn paths(settled: &SettledPaths) -> Vec<String> {
        settled.iter().map(|(_, path)| path.to_owned()).collect()
    }

    #[test]
    fn gone_paths_first_then_by_mtime_then_key() {
        let dir = tempfile::tempdir().unwrap();
        write_at(dir.path(), "a.txt", 10);
        write_at(dir.path(), "b.txt", 30);
        write_at(dir.path(), "c.txt", 10);
        std::fs::create_dir(dir.path().join("x")).unwrap();
        write_at(dir.path(), "x/0.txt", 20);
        let settled: SettledPaths = [
            (Settled::Listed, "a.txt"),
            (Settled::Present, "b.txt"),
            (Settled::Listed, "c.txt"),
            (Settled::Absent, "old.txt"),
            (Settled::Listed, "vanished.txt"),
            (Settled::Listed, "x/0.txt"),
        ]
        .into_iter()
        .collect();
        let in_order = in_date_order(
            dir.path(),
            settled,
            (Duration::ZERO, SystemTime::now()),
            std::iter::empty(),
        );
        assert_eq!(
            paths(&in_order.ready),
            [
                "old.txt",
                "a.txt",
                "c.txt",
                "x/0.txt",
                "b.txt",
                "vanished.txt"
            ]
        );
        assert!(in_order.waiting.is_empty());
    }

    /// Files just written (their ctime is now, whatever their mtime) are still changing
    /// by their own clock: the first listed one in date order waits, and so does every
    /// file after it; a file that settled by being watched does not wait for itself.
    #[test]
    fn a_listed_file_still_being_written_holds_back_the_files_after_it() {
        let dir = tempfile::tempdir().unwrap();
        write_at(dir.path(), "a.txt", 10);
        write_at(dir.path(), "b.txt", 20);
        write_at(dir.path(), "c.txt", 30);
        let settled: SettledPaths = [
            (Settled::Present, "a.txt"),
            (Settled::Listed, "b.txt"),
            (Settled::Present, "c.txt"),
            (Settled::Absent, "old.txt"),
        ]
        .into_iter()
        .collect();
        let settle = Duration::from_secs(60);
        let in_order = in_date_order(
            dir.path(),
            settled,
            (settle, SystemTime::now()),
            std::iter::empty(),
        );
        assert_eq!(paths(&in_order.ready), ["old.txt", "a.txt"]);
        assert_eq!(in_order.waiting, ["b.txt", "c.txt"]);
    }

    /// A file the settler still waits for holds back the files after it, not those before.
    #[test]
    fn a_file_not_settled_yet_holds_back_the_files_after_it() {
        let dir = tempfile::tempdir().unwrap();
        write_at(dir.path(), "a.txt", 10);
        write_at(dir.path(), "b.txt", 20);
        write_at(dir.path(), "c.txt", 20);
        write_at(dir.path(), "d.txt", 30);
        let settled: SettledPaths = ["a.txt", "c.txt", "d.txt"]
            .map(|p| (Settled::Present, p))
            .into_iter()
            .collect();
        let b = Look::at(&dir.path().join("b.txt")).unwrap();
        let clock = (Duration::ZERO, SystemTime::now());
        let in_order = in_date_order(dir.path(), settled, clock, [("b.txt", b)].into_iter());
        assert_eq!(paths(&in_order.ready), ["a.txt"]);
        assert_eq!(in_order.waiting, ["c.txt", "d.txt"]);
    }

    /// Many paths are looked at on two threads; none is lost, and the order holds.
    #[test]
    fn many_paths_keep_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let count = ONE_THREAD + 100;
        let mut settled = SettledPaths::new();
        for i in 0..count {
            let name = format!("{i:05}.txt");
            write_at(dir.path(), &name, (count - i) as u64 / 3);
            settled.push(Settled::Listed, &name);
        }
        let ordered = in_date_order(
            dir.path(),
            settled,
            (Duration::ZERO, SystemTime::now()),
            std::iter::empty(),
        );
        let ordered = paths(&ordered.ready);
        assert_eq!(ordered.len(), count);
        let name = |i: usize| format!("{:05}.txt", count - i);
        assert_eq!(ordered[..4], [name(2), name(1), name(5), name(4)]);
    }
}
