//! The settle rule: a file is read only once its size and times have been still for
//! `settle`, and a path is taken as deleted only once it has stayed missing that long.
//! An event never decides anything by itself; the file's own state does.

use foldhash::{HashMap, HashMapExt};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::settled::{Settled, SettledPaths};

/// What one `stat` says about a path; any difference between two looks is a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    size: u64,
    mtime_ns: i64,
    /// ctime moves on every write, rename and `touch -d`, and cannot be set back by a
    /// copy that preserves mtime (`cp -p`, `rsync -t`), so it tells when a file last
    /// changed even when mtime is old.
    ctime_ns: i64,
    ino: u64,
}

#[derive(Debug)]
struct Pending {
    /// The last look; `None` inside `Some` means the path was missing.
    last: Option<Option<Look>>,
    /// When the last look first showed what it shows.
    unchanged_since: Instant,
    /// How the file looked when its writer said it was done (closed it after writing, or
    /// renamed it into place). While it still looks so, it need not wait to settle.
    finished: Option<Look>,
    /// How a scan found it moments ago, when it was touched because of that scan.
    scanned: Option<Look>,
}

impl Pending {
    /// A path first seen at `now`, not looked at yet.
    fn new(now: Instant) -> Self {
        Self {
            last: None,
            unchanged_since: now,
            finished: None,
            scanned: None,
        }
    }

    /// Looks at the path if need be: how it settled, or `None` while it has not.
    fn settled(
        &mut self,
        root: &Path,
        relative: &str,
        settle: Duration,
        now: Instant,
        wall: SystemTime,
    ) -> Option<Settled> {
        if let Some(scanned) = self.scanned.take()
            && is_still(scanned, settle, wall)
        {
            return Some(Settled::Present);
        }
        let look = look(&root.join(relative));
        if self.last != Some(look) {
            self.last = Some(look);
            self.unchanged_since = now;
        }
        let still_for = now.saturating_duration_since(self.unchanged_since);
        match look {
            // Still since our first look, or (for files that were old when first seen, as
            // at start-up) still by their own clock.
            Some(look) => (self.finished == Some(look)
                || still_for >= settle
                || quiet_by_clock(look, wall) >= settle)
                .then_some(Settled::Present),
            None => (still_for >= settle).then_some(Settled::Absent),
        }
    }
}

/// Paths waiting to settle, by path relative to the folder.
#[derive(Debug)]
pub struct Settler {
    settle: Duration,
    pending: HashMap<String, Pending>,
    /// Paths a scan listed without a look ([`Self::touch_listed`]), ready at the next
    /// poll. Kept out of `pending`: a start-up may list every file of a big folder, and
    /// putting each in the map held up the first read, with one core idle. Kept as the
    /// poll returns them, so that the poll hands a million of them over without a copy.
    listed: SettledPaths,
}

impl Settler {
    pub fn new(settle: Duration) -> Self {
        Self {
            settle,
            pending: HashMap::new(),
            listed: SettledPaths::new(),
        }
    }

    /// Something happened at `relative`; look at it until it settles.
    pub fn touch(&mut self, relative: String, now: Instant) {
        self.pending.entry(relative).or_insert(Pending::new(now));
    }

    /// Like [`Self::touch`], for a file a scan has just looked at. If that look shows it
    /// still for `settle` by its own clock, the next poll takes it without a look of its
    /// own: a second `stat` moments later would say the same of every file but one being
    /// written right now, which brings its own events (and its read takes the stamp of
    /// what it reads). At start-up over 100k files, that is 100k `stat`s fewer before
    /// the first file is read.
    pub fn touch_scanned(&mut self, relative: String, look: Option<Look>, now: Instant) {
        self.pending
            .entry(relative)
            .or_insert(Pending::new(now))
            .scanned = look;
    }

    /// Like [`Self::touch_scanned`], for a file a scan listed without looking at it
    /// (`SeedFolder::scan_looking`): the next poll takes it as [`Settled::Listed`], and
    /// its read decides by its first look whether it has settled. At start-up over 100k
    /// new files, that is 100k `stat`s fewer before the first file is read.
    pub fn touch_listed(&mut self, relative: &str) {
        self.listed.push(Settled::Listed, relative);
    }

    /// The writer of `relative` is done with it: it is ready at the next poll as long as
    /// it still looks as it does now. A later write changes its look, and then it settles
    /// the usual way.
    pub fn finish(&mut self, root: &Path, relative: String, now: Instant) {
        let look = look(&root.join(&relative));
        let pending = self.pending.entry(relative).or_insert(Pending::new(now));
        pending.finished = look;
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.listed.is_empty()
    }

    /// How many paths wait (a path both listed and touched counts twice until the next
    /// poll).
    pub fn len(&self) -> usize {
        self.pending.len() + self.listed.len()
    }

    /// The pending paths that were there at the last look, with that look: files that
    /// have not settled yet.
    pub fn unsettled(&self) -> impl Iterator<Item = (&str, Look)> {
        self.pending
            .iter()
            .filter_map(|(path, pending)| match pending.last {
                Some(Some(look)) => Some((path.as_str(), look)),
                _ => None,
            })
    }

    /// The pending paths that were missing at the last look: files on their way out,
    /// unless they come back before they settle.
    pub fn missing(&self) -> impl Iterator<Item = &str> {
        self.pending
            .iter()
            .filter(|(_, pending)| pending.last == Some(None))
            .map(|(path, _)| path.as_str())
    }

    /// Looks at every pending path once and returns those that have settled, by path.
    pub fn poll(&mut self, root: &Path, now: Instant, wall: SystemTime) -> SettledPaths {
        let settle = self.settle;
        // The listed paths are handed over as they are (a start-up lists a million); a
        // listed path is taken as listed, whatever else touched it.
        let mut settled = std::mem::take(&mut self.listed);
        if !self.pending.is_empty() {
            for (_, listed) in settled.iter() {
                self.pending.remove(listed);
            }
        }
        for (path, mut pending) in std::mem::take(&mut self.pending) {
            match pending.settled(root, &path, settle, now, wall) {
                Some(how) => settled.push(how, &path),
                None => {
                    self.pending.insert(path, pending);
                }
            }
        }
        // Two scans before a poll list a path twice; nothing else can repeat one.
        settled.sort_dedup();
        settled
    }
}

/// How the file at `path` looks now (a symlink followed when it can be); `None` when
/// there is nothing there.
pub(super) fn look(path: &Path) -> Option<Look> {
    let meta = std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()?;
    Some(Look::of(&meta))
}

impl Look {
    /// The look of `path` (a symlink followed when it can be); `None` when nothing is
    /// there.
    pub fn at(path: &Path) -> Option<Self> {
        look(path)
    }

    /// The mtime in unix milliseconds.
    pub fn mtime_ms(&self) -> i64 {
        self.mtime_ns.div_euclid(1_000_000)
    }

    /// Whether the file has not changed for `settle` before `wall`, by its own clock.
    pub fn is_still(self, settle: Duration, wall: SystemTime) -> bool {
        is_still(self, settle, wall)
    }

    pub fn of(meta: &Metadata) -> Self {
        Self {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            ino: meta.ino(),
        }
    }
}

/// Whether the file has not changed for `settle` before `wall`, by its own timestamps.
pub(super) fn is_still(look: Look, settle: Duration, wall: SystemTime) -> bool {
    quiet_by_clock(look, wall) >= settle
}

/// How long ago the file last changed by its own timestamps; zero when they are in the
/// future (clock skew on a network filesystem), which leaves the decision to our clock.
fn quiet_by_clock(look: Look, wall: SystemTime) -> Duration {
    let last_change_ns = look.mtime_ns.max(look.ctime_ns);
    let now_ns = wall
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    Duration::from_nanos(now_ns.saturating_sub(last_change_ns).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a poll returned, to compare.
    fn polled(settled: &SettledPaths) -> Vec<(Settled, &str)> {
        settled.iter().collect()
    }

    #[test]
    fn a_fresh_file_waits_and_a_missing_one_settles_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "half").unwrap();
        let settle = Duration::from_secs(60);
        let mut settler = Settler::new(settle);
        let t0 = Instant::now();
        let wall = SystemTime::now();
        settler.touch("a.txt".into(), t0);
        settler.touch("gone.txt".into(), t0);
        assert!(settler.poll(dir.path(), t0, wall).is_empty());
        // Still unchanged a settle period later: both settle.
        let later = t0 + settle;
        let settled = settler.poll(dir.path(), later, wall + settle);
        assert_eq!(
            polled(&settled),
            [(Settled::Present, "a.txt"), (Settled::Absent, "gone.txt")]
        );
        assert!(settler.is_empty());
    }

    #[test]
    fn a_change_restarts_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").unwrap();
        let settle = Duration::from_secs(60);
        let mut settler = Settler::new(settle);
        let t0 = Instant::now();
        let wall = SystemTime::now();
        settler.touch("a.txt".into(), t0);
        assert!(settler.poll(dir.path(), t0, wall).is_empty());
        std::fs::write(&path, "one two").unwrap();
        let t1 = t0 + settle / 2;
        assert!(settler.poll(dir.path(), t1, wall).is_empty());
        assert!(settler.poll(dir.path(), t0 + settle, wall).is_empty());
        assert_eq!(settler.poll(dir.path(), t1 + settle, wall).len(), 1);
    }

    #[test]
    fn a_finished_file_is_ready_at_once_unless_written_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "done").unwrap();
        std::fs::write(dir.path().join("b.txt"), "done").unwrap();
        let mut settler = Settler::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let wall = SystemTime::now();
        settler.finish(dir.path(), "a.txt".into(), t0);
        settler.finish(dir.path(), "b.txt".into(), t0);
        // b is opened again and appended to after its writer closed it once.
        std::fs::write(dir.path().join("b.txt"), "done, and more").unwrap();
        assert_eq!(
            polled(&settler.poll(dir.path(), t0, wall)),
            [(Settled::Present, "a.txt")]
        );
        assert_eq!(settler.len(), 1);
    }

    /// A scan's look of a file still for long enough is taken as it is; one of a file
    /// written just now is not, and the file waits as usual.
    #[test]
    fn a_scanned_old_file_is_taken_without_another_look() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "text").unwrap();
        let scanned = Some(Look::of(&std::fs::metadata(&path).unwrap()));
        let settle = Duration::from_secs(2);
        let mut settler = Settler::new(settle);
        let t0 = Instant::now();
        // Written just now by the wall clock: it waits, whatever the scan saw.
        settler.touch_scanned("a.txt".into(), scanned, t0);
        assert!(settler.poll(dir.path(), t0, SystemTime::now()).is_empty());
        assert_eq!(settler.len(), 1);
        // Written a minute ago by the wall clock: taken at once, on the scan's look alone
        // (the file is gone since, which only its read will find).
        let mut settler = Settler::new(settle);
        settler.touch_scanned("a.txt".into(), scanned, t0);
        std::fs::remove_file(&path).unwrap();
        let wall = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(
            polled(&settler.poll(dir.path(), t0, wall)),
            [(Settled::Present, "a.txt")]
        );
    }

    /// A listed path is ready at the next poll without a look, once however often it was
    /// listed, and as listed even when an event touched it too.
    #[test]
    fn a_listed_path_is_taken_once_as_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.txt"), "being written").unwrap();
        let mut settler = Settler::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let wall = SystemTime::now();
        settler.touch_listed("b.txt");
        settler.touch("b.txt".into(), t0);
        settler.touch("c.txt".into(), t0);
        settler.touch_listed("a.txt");
        settler.touch_listed("b.txt");
        assert_eq!(
            polled(&settler.poll(dir.path(), t0, wall)),
            [(Settled::Listed, "a.txt"), (Settled::Listed, "b.txt")]
        );
        // c.txt is missing, and only settles as gone after a while.
        assert_eq!(settler.len(), 1);
        assert_eq!(settler.missing().collect::<Vec<_>>(), ["c.txt"]);
    }

    #[test]
    fn an_old_file_settles_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "old").unwrap();
        let mut settler = Settler::new(Duration::from_millis(500));
        let t0 = Instant::now();
        settler.touch("a.txt".into(), t0);
        let wall = SystemTime::now() + Duration::from_secs(5);
        assert_eq!(
            polled(&settler.poll(dir.path(), t0, wall)),
            [(Settled::Present, "a.txt")]
        );
    }
}
