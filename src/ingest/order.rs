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

use std::cmp::Ordering;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::store::date_order;
use crate::watch::{Look, Settled, key_part};

/// Paths stat'ed on one thread at most; more are split over two. A cold start's scan
/// lists its files without a look, so this is the one `stat` each gets before its read.
const ONE_THREAD: usize = 4096;

/// A settled path with what orders it.
struct Ordered {
    settled: Settled,
    /// Unix milliseconds; `i64::MAX` for a path gone since it settled (it sorts last, and
    /// its read finds it gone).
    mtime_ms: i64,
    /// Listed by a scan, and changed within `settle` by its own clock.
    changing: bool,
}

/// Settled paths split by [`in_date_order`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct InOrder {
    /// To apply now, in this order.
    pub ready: Vec<Settled>,
    /// To settle again: a listed file still being written, and every file after it.
    pub waiting: Vec<String>,
}

/// `settled` in the order to apply it, up to the first file that has not settled: a
/// listed one still being written at `wall` (by its own clock, as its read would find
/// it), or one of `unsettled`, the files the settler still waits for.
pub(super) fn in_date_order<'a>(
    root: &Path,
    settled: Vec<Settled>,
    (settle, wall): (Duration, SystemTime),
    unsettled: impl Iterator<Item = (&'a str, Look)>,
) -> InOrder {
    // Taken out in place, not copied (a cold start's million paths).
    let mut present = settled;
    let gone: Vec<Settled> = present
        .extract_if(.., |s| matches!(s, Settled::Absent(_)))
        .collect();
    let mut ordered = look_all(root, present, settle, wall);
    ordered.sort_by(compare);
    let first_unsettled = unsettled
        .map(|(path, look)| (look.mtime_ms(), key_part(path), path))
        .min();
    let after_unsettled = |o: &Ordered| {
        first_unsettled.is_some_and(|first| compare_to(o, first) == Ordering::Greater)
    };
    let first_changing = ordered
        .iter()
        .position(|o| o.changing || after_unsettled(o));
    let waiting = first_changing.map_or_else(Vec::new, |at| ordered.split_off(at));
    InOrder {
        ready: gone
            .into_iter()
            .chain(ordered.into_iter().map(|o| o.settled))
            .collect(),
        waiting: waiting
            .into_iter()
            .map(|o| path_of(&o.settled).to_owned())
            .collect(),
    }
}

// Keys are borrowed from the paths (`key_part`): a sort of a cold start's paths compares
// each many times, and a key kept per path would be memory in proportion to the folder.
fn compare(a: &Ordered, b: &Ordered) -> Ordering {
    let b_path = path_of(&b.settled);
    compare_to(a, (b.mtime_ms, key_part(b_path), b_path))
}

fn compare_to(a: &Ordered, b: (i64, &str, &str)) -> Ordering {
    let a_path = path_of(&a.settled);
    date_order((a.mtime_ms, key_part(a_path), a_path), b)
}

/// Each path with its mtime, on two threads for many paths.
fn look_all(
    root: &Path,
    settled: Vec<Settled>,
    settle: Duration,
    wall: SystemTime,
) -> Vec<Ordered> {
    let look_one = |s| look_one(root, s, settle, wall);
    if settled.len() <= ONE_THREAD {
        return settled.into_iter().map(look_one).collect();
    }
    let total = settled.len();
    let mut first = settled;
    let second = first.split_off(total / 2);
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| second.into_iter().map(look_one).collect::<Vec<_>>());
        let mut ordered = Vec::with_capacity(total);
        ordered.extend(first.into_iter().map(look_one));
        match helper.join() {
            Ok(rest) => ordered.extend(rest),
            // Were a `stat` loop to panic, its paths would be lost: passed on, not hidden.
            Err(panic) => std::panic::resume_unwind(panic),
        }
        ordered
    })
}

fn look_one(root: &Path, settled: Settled, settle: Duration, wall: SystemTime) -> Ordered {
    let path = path_of(&settled);
    let look = Look::at(&root.join(path));
    let changing = matches!(settled, Settled::Listed(_))
        && look.is_some_and(|look| !look.is_still(settle, wall));
    Ordered {
        mtime_ms: look.map_or(i64::MAX, |look| look.mtime_ms()),
        changing,
        settled,
    }
}

fn path_of(settled: &Settled) -> &str {
    match settled {
        Settled::Present(path) | Settled::Absent(path) | Settled::Listed(path) => path,
    }
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

    fn paths(settled: &[Settled]) -> Vec<String> {
        settled.iter().map(|s| path_of(s).to_owned()).collect()
    }

    #[test]
    fn gone_paths_first_then_by_mtime_then_key() {
        let dir = tempfile::tempdir().unwrap();
        write_at(dir.path(), "a.txt", 10);
        write_at(dir.path(), "b.txt", 30);
        write_at(dir.path(), "c.txt", 10);
        std::fs::create_dir(dir.path().join("x")).unwrap();
        write_at(dir.path(), "x/0.txt", 20);
        let settled = vec![
            Settled::Listed("a.txt".into()),
            Settled::Present("b.txt".into()),
            Settled::Listed("c.txt".into()),
            Settled::Absent("old.txt".into()),
            Settled::Listed("vanished.txt".into()),
            Settled::Listed("x/0.txt".into()),
        ];
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
        let settled = vec![
            Settled::Present("a.txt".into()),
            Settled::Listed("b.txt".into()),
            Settled::Present("c.txt".into()),
            Settled::Absent("old.txt".into()),
        ];
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
        let settled = ["a.txt", "c.txt", "d.txt"]
            .map(|p| Settled::Present(p.into()))
            .to_vec();
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
        let settled: Vec<Settled> = (0..count)
            .map(|i| {
                let name = format!("{i:05}.txt");
                write_at(dir.path(), &name, (count - i) as u64 / 3);
                Settled::Listed(name)
            })
            .collect();
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
