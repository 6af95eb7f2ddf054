//! The poll backend (`watch = "poll"`), for folders whose filesystem sends no events: NFS,
//! SMB and many container volume mounts. A thread looks at the whole seeds folder every
//! `poll_interval_ms` with the reconcile scan's own walk, compares what it sees with what
//! it saw the time before, and reports the difference in our own terms:
//!
//! - an article or media file that appeared, went, was replaced or was written:
//!   [`WatchEvent::Changed`];
//! - a folder that appeared or went: [`WatchEvent::Tree`], and nothing for what is below
//!   it, which the ingest driver's look under the folder finds;
//! - a name that is not UTF-8 appearing or going: [`WatchEvent::BadName`].
//!
//! From there the settle stage takes over, as it does after an event. A poll never learns
//! that a writer is done, so every file waits to be still for the settle time.
//!
//! No file is read. Every look lists every folder, with each file's inode number as the
//! listing gives it: a file that appears, goes or is replaced (an editor's save renames a
//! new file over the old) is seen at the next look. A `stat` (size, mtime, ctime) is what
//! shows a file written in place, and most of a look's cost, so each look stats the files
//! it has not seen before and one slice of the others, in turn ([`SLICES`]): a file written
//! in place is seen within that many looks. On a network filesystem a `stat` answers from
//! the client's attribute cache for seconds anyway.
//!
//! The first look stats every file, and is taken before [`PollWatcher::start`] returns,
//! that is before the daemon's start-up scan: a change made after that scan is never
//! taken for the state the poll started from. When a look takes long (a very big folder,
//! a slow server), the wait before the next grows with it, so that polling takes about a
//! tenth of the time at most.

use std::hash::BuildHasher;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use foldhash::{HashMap, HashSet};

use super::settle::{Look, look};
use super::{Listed, Listing, SeedFolder, WatchEvent};

/// A look waits at least this many times its own duration before the next one.
const PACE: u32 = 9;

/// The polling thread; it stops when this is dropped.
pub struct PollWatcher {
    /// Dropped to stop the thread: its wait ends at once.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl PollWatcher {
    /// Takes the first look, then starts the thread that looks again every `interval`.
    pub(super) fn start(
        folder: &SeedFolder,
        interval: Duration,
        deliver: impl Fn(WatchEvent) + Send + 'static,
    ) -> io::Result<Self> {
        let poller = Poller {
            folder: folder.clone(),
            interval,
            seen: Seen::first(folder)?,
            failing: false,
        };
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("seedfeed-poll".into())
            .spawn(move || poller.run(&stopped, deliver))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for PollWatcher {
    fn drop(&mut self) {
        // Ends the thread's wait; a look under way is finished first, and its events go
        // where they would have gone.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the thread polling the seeds folder panicked");
        }
    }
}

/// The polling thread's state.
struct Poller {
    folder: SeedFolder,
    interval: Duration,
    /// What the last look that succeeded saw.
    seen: Seen,
    /// The last look failed (and said so once).
    failing: bool,
}

impl Poller {
    /// Looks, reports, and waits, until `stopped` says stop (its sender is dropped).
    fn run(mut self, stopped: &Receiver<()>, deliver: impl Fn(WatchEvent)) {
        let mut wait = self.interval;
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
            let started = Instant::now();
            self.look_again(&deliver);
            let took = started.elapsed();
            tracing::trace!(
                files = self.seen.files.len(),
                took_ms = took.as_millis(),
                "polled the seeds folder"
            );
            wait = pace(self.interval, took);
        }
    }

    /// One look at the folder, and what changed since the last one reported. A folder
    /// that cannot be listed (a network filesystem gone away) is logged once, and the
    /// next look that works is compared with the last one that did.
    fn look_again(&mut self, deliver: &impl Fn(WatchEvent)) {
        match self.seen.look_again(&self.folder) {
            Ok(events) => {
                if std::mem::take(&mut self.failing) {
                    tracing::info!(path = %self.folder.root().display(), "the seeds folder can be listed again");
                }
                events.into_iter().for_each(deliver);
            }
            Err(error) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(path = %self.folder.root().display(), %error, "cannot list the seeds folder; polling goes on");
                }
            }
        }
    }
}

/// The wait before the next look: the interval, or longer after a long look.
fn pace(interval: Duration, took: Duration) -> Duration {
    interval.max(took * PACE)
}

/// Every file the poll knows is looked at (`stat`) once in this many looks.
const SLICES: u64 = 10;

/// The slice of a path: the look in [`SLICES`] that stats it. Fixed, so that each file
/// comes in turn whatever else appears or goes.
fn slice_of(path: &str) -> u64 {
    foldhash::quality::FixedState::with_seed(0).hash_one(path) % SLICES
}

/// One article or media file as the looks so far have seen it.
#[derive(Debug)]
struct Known {
    /// Its inode number in its folder's listing.
    ino: u64,
    /// Its last `stat` (`None`: a dangling symlink, or gone while it was listed).
    look: Option<Look>,
    /// The look that last listed it.
    listed_at: u64,
}

/// What the looks so far have seen of the folder.
#[derive(Debug, Default)]
struct Seen {
    /// How many looks there were.
    looks: u64,
    files: HashMap<String, Known>,
    /// Subfolders, by relative path.
    folders: HashSet<String>,
    /// Names that are not UTF-8, as [`Listing`] shows them.
    bad_names: HashSet<String>,
    /// Subfolders the last look could not list.
    unlisted: HashSet<PathBuf>,
}

impl Seen {
    /// The first look at the folder, which stats every file.
    fn first(folder: &SeedFolder) -> io::Result<Self> {
        let mut seen = Self::default();
        seen.look_again(folder)?;
        Ok(seen)
    }

    /// Lists the folder again, looking at this look's slice of the files (at every file
    /// the first time), and returns what changed.
    fn look_again(&mut self, folder: &SeedFolder) -> io::Result<Vec<WatchEvent>> {
        let first = self.looks == 0;
        let slice = (self.looks + 1) % SLICES;
        let mut unlisted = HashSet::default();
        let listing = folder.scan_looking_or(
            |path| first || slice_of(path) == slice,
            |dir, error| {
                if !self.unlisted.contains(dir) {
                    tracing::warn!(path = ?dir, %error, "cannot list a subfolder; skipped until it can be");
                }
                unlisted.insert(dir.to_owned());
            },
        )?;
        self.unlisted = unlisted;
        Ok(self.take(folder.root(), listing))
    }

    /// Takes in a listing of the folder, and returns what differs from the last one.
    /// A file the listing did not look at is looked at here if it is new, or if its name
    /// now stands for another file: asking the scan to look at the files it does not know
    /// would cost a search of them all for every file listed.
    fn take(&mut self, root: &Path, listing: Listing) -> Vec<WatchEvent> {
        self.looks += 1;
        let this_look = self.looks;
        let look_now = |file: &Listed| {
            if file.looked {
                file.look
            } else {
                look(&root.join(&file.path))
            }
        };
        let mut changed = Vec::new();
        for file in listing.files.into_iter().chain(listing.assets) {
            let Some(known) = self.files.get_mut(&file.path) else {
                let known = Known {
                    ino: file.ino,
                    look: look_now(&file),
                    listed_at: this_look,
                };
                self.files.insert(file.path.clone(), known);
                changed.push(file.path);
                continue;
            };
            known.listed_at = this_look;
            if known.ino != file.ino {
                known.ino = file.ino;
                known.look = look_now(&file);
                changed.push(file.path);
            } else if file.looked && known.look != file.look {
                known.look = file.look;
                changed.push(file.path);
            }
        }
        self.files.retain(|path, known| {
            let listed = known.listed_at == this_look;
            if !listed {
                changed.push(path.clone());
            }
            listed
        });
        let mut events = self.take_folders(listing.folders);
        let moved: HashSet<&str> = events.iter().filter_map(tree_of).collect();
        let changed = changed
            .into_iter()
            .filter(|path| !is_below(path, &moved))
            .map(WatchEvent::Changed)
            .collect::<Vec<_>>();
        events.extend(changed);
        events.extend(self.take_bad_names(listing.bad_names));
        events
    }

    /// The folders that appeared or went, but none below another that did: the driver
    /// looks under each, so nothing below one is reported on its own.
    fn take_folders(&mut self, folders: Vec<String>) -> Vec<WatchEvent> {
        let folders: HashSet<String> = folders.into_iter().collect();
        let moved: HashSet<&str> = folders
            .symmetric_difference(&self.folders)
            .map(String::as_str)
            .collect();
        let trees = moved
            .iter()
            .filter(|folder| !is_below(folder, &moved))
            .map(|folder| WatchEvent::Tree((*folder).to_owned()))
            .collect();
        self.folders = folders;
        trees
    }

    fn take_bad_names(&mut self, bad_names: Vec<String>) -> Vec<WatchEvent> {
        let bad_names: HashSet<String> = bad_names.into_iter().collect();
        let appeared = bad_names.difference(&self.bad_names);
        let went = self.bad_names.difference(&bad_names);
        let events = appeared
            .map(|name| WatchEvent::BadName(name.clone(), true))
            .chain(went.map(|name| WatchEvent::BadName(name.clone(), false)))
            .collect();
        self.bad_names = bad_names;
        events
    }
}

fn tree_of(event: &WatchEvent) -> Option<&str> {
    match event {
        WatchEvent::Tree(folder) => Some(folder),
        _ => None,
    }
}

/// Whether one of `folders` holds `path` (relative paths).
fn is_below(path: &str, folders: &HashSet<&str>) -> bool {
    !folders.is_empty()
        && path
            .match_indices('/')
            .any(|(at, _)| folders.contains(&path[..at]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileStamp;

    /// A listing as a scan would give it, every file looked at but with no `stat` (as for
    /// a dangling symlink), each inode number 1: enough to tell what appeared and what
    /// went.
    fn listing(files: &[&str], folders: &[&str], bad_names: &[&str]) -> Listing {
        let strings = |names: &[&str]| names.iter().map(|name| name.to_string()).collect();
        Listing {
            files: files
                .iter()
                .map(|path| Listed {
                    path: path.to_string(),
                    stamp: FileStamp::UNKNOWN,
                    look: None,
                    looked: true,
                    ino: 1,
                })
                .collect(),
            bad_names: strings(bad_names),
            folders: strings(folders),
            not_articles: Vec::new(),
            assets: Vec::new(),
            stopped: false,
        }
    }

    /// The events, in an order of their own.
    fn sorted(events: Vec<WatchEvent>) -> Vec<String> {
        let mut shown: Vec<String> = events.iter().map(|e| format!("{e:?}")).collect();
        shown.sort();
        shown
    }

    #[test]
    fn files_that_appear_or_go_are_changed_and_folders_are_trees() {
        let root = Path::new("/nonexistent");
        let mut seen = Seen::default();
        let before = listing(
            &["a.txt", "old/x.txt", "old/deep/y.txt", "keep/z.txt"],
            &["old", "old/deep", "keep"],
            &["caf\u{fffd}.txt"],
        );
        seen.take(root, before);
        let now = || {
            listing(
                &[
                    "b.txt",
                    "keep/z.txt",
                    "keep/w.txt",
                    "new/n.txt",
                    "new/inner/m.txt",
                ],
                &["keep", "new", "new/inner"],
                &["na\u{fffd}ve.txt"],
            )
        };
        assert_eq!(
            sorted(seen.take(root, now())),
            sorted(vec![
                WatchEvent::BadName("caf\u{fffd}.txt".into(), false),
                WatchEvent::BadName("na\u{fffd}ve.txt".into(), true),
                WatchEvent::Changed("a.txt".into()),
                WatchEvent::Changed("b.txt".into()),
                WatchEvent::Changed("keep/w.txt".into()),
                WatchEvent::Tree("new".into()),
                WatchEvent::Tree("old".into()),
            ])
        );
        assert!(seen.take(root, now()).is_empty());
        // A folder one level down, made and then gone.
        let deeper = || {
            listing(
                &["keep/z.txt", "keep/sub/s.txt"],
                &["keep", "keep/sub"],
                &[],
            )
        };
        let kept = || listing(&["keep/z.txt"], &["keep"], &[]);
        let mut seen = Seen::default();
        seen.take(root, kept());
        assert_eq!(sorted(seen.take(root, deeper())), [r#"Tree("keep/sub")"#]);
        assert_eq!(sorted(seen.take(root, kept())), [r#"Tree("keep/sub")"#]);
        // The same name for another file (another inode number) is a change, seen without
        // a look.
        let mut replaced = kept();
        replaced.files[0].ino = 2;
        replaced.files[0].looked = false;
        assert_eq!(
            seen.take(root, replaced),
            [WatchEvent::Changed("keep/z.txt".into())]
        );
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// Each file is looked at in its turn: a file written in place is seen within
    /// [`SLICES`] looks, and only then; one replaced under its name at the next look.
    #[test]
    fn a_file_written_in_place_is_seen_in_its_turn_and_one_replaced_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let folder = SeedFolder::open(dir.path()).unwrap();
        write(dir.path(), "edited.txt", "Title");
        write(dir.path(), "same.txt", "Title");
        write(dir.path(), "replaced.txt", "Title");
        write(dir.path(), "notes.odt", "not an article");
        write(dir.path(), "photo.jpg", "jpeg");
        let mut seen = Seen::first(&folder).unwrap();
        // Written in place (the inode stays), and replaced by a file renamed over it.
        write(dir.path(), "edited.txt", "Title, and a longer body");
        write(dir.path(), "notes.odt", "still not an article");
        // A media file written in place is seen as an article is.
        write(dir.path(), "photo.jpg", "another jpeg");
        write(dir.path(), ".replaced.txt.tmp", "Title");
        let from = dir.path().join(".replaced.txt.tmp");
        std::fs::rename(from, dir.path().join("replaced.txt")).unwrap();
        let mut looks = Vec::new();
        for _ in 0..SLICES {
            looks.push(seen.look_again(&folder).unwrap());
        }
        assert!(looks[0].contains(&WatchEvent::Changed("replaced.txt".into())));
        let edited = looks
            .iter()
            .position(|events| events.contains(&WatchEvent::Changed("edited.txt".into())));
        // The first look was look 1, so the k-th of these is look k + 2.
        let turn = (0..SLICES).find(|k| (k + 2) % SLICES == slice_of("edited.txt"));
        assert_eq!(edited.map(|k| k as u64), turn);
        let all: Vec<WatchEvent> = looks.into_iter().flatten().collect();
        assert_eq!(
            sorted(all),
            [
                r#"Changed("edited.txt")"#,
                r#"Changed("photo.jpg")"#,
                r#"Changed("replaced.txt")"#
            ]
        );
    }

    #[test]
    fn a_long_look_waits_longer() {
        let interval = Duration::from_secs(1);
        assert_eq!(pace(interval, Duration::from_millis(10)), interval);
        assert_eq!(pace(interval, interval), interval * PACE);
    }

    fn next(events: &Receiver<WatchEvent>) -> WatchEvent {
        events.recv_timeout(Duration::from_secs(10)).unwrap()
    }

    /// The thread reports what appears after its first look, and stops when dropped.
    #[test]
    fn reports_new_files_and_stops_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        // Written under a hidden name and renamed into place, so that no look sees a
        // file half-written and reports it twice.
        let put = |name: &str| {
            std::fs::write(path(".tmp"), "Title").unwrap();
            std::fs::rename(path(".tmp"), path(name)).unwrap();
        };
        put("before.txt");
        let folder = SeedFolder::open(dir.path()).unwrap();
        let (sender, events) = mpsc::channel();
        let watcher = PollWatcher::start(&folder, Duration::from_millis(20), move |event| {
            let _ = sender.send(event);
        })
        .unwrap();
        put("after.txt");
        assert_eq!(next(&events), WatchEvent::Changed("after.txt".into()));
        std::fs::create_dir(path("sub")).unwrap();
        assert_eq!(next(&events), WatchEvent::Tree("sub".into()));
        std::fs::remove_file(path("before.txt")).unwrap();
        assert_eq!(next(&events), WatchEvent::Changed("before.txt".into()));
        drop(watcher);
        // The thread is gone, and with it the sender it held.
        put("late.txt");
        assert_eq!(events.recv(), Err(mpsc::RecvError));
    }
}
