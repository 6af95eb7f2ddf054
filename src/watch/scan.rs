//! Listing the seeds folder for a reconcile scan: every article file in it and its
//! subfolders, the media files, the subfolders to watch, the names that cannot be read,
//! and the files that are not articles. A file is looked at (`stat`) only when the
//! caller needs its stamp, which it is asked of a batch of files at a time. The files
//! are kept in a [`Listing`], or passed to a [`ScanSink`] as they are listed, which is
//! how the reconcile scan of a big folder holds no more than a few thousand at once.

use std::ops::ControlFlow;
use std::os::unix::fs::DirEntryExt;
use std::path::Path;

use super::SeedFolder;
use super::look::{self, Looked, Lookers, Unlooked, look_at_all, stat};
use super::names::{SeedName, path_name};
use super::read::stamp_of;
use super::settle::Look;
use crate::model::FileStamp;

/// What a scan of the folder found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Article files, by relative path.
    pub files: Vec<Listed>,
    /// Files and folders that cannot be read because their names are not UTF-8 (shown
    /// with U+FFFD).
    pub bad_names: Vec<String>,
    /// The subfolders walked (relative paths), to be watched.
    pub folders: Vec<String>,
    /// Regular files that are not articles ([`SeedName::NotArticle`]: `notes.odt`), by
    /// relative path, with the reason, in the order of the folders' listings; hidden
    /// files and temporaries are not here.
    pub not_articles: Vec<(String, &'static str)>,
    /// Media files ([`SeedName::Asset`]), by relative path: regular files and symlinks,
    /// which whoever opens one checks as `/media/` does. Looked at as article files are.
    pub assets: Vec<Listed>,
    /// Whether the scan stopped before its end because its sink asked it to
    /// ([`ScanSink::stopped`]): what it did not list is not known to be gone.
    pub stopped: bool,
}

/// One article or media file a scan found.
#[derive(Debug, Clone)]
pub struct Listed {
    pub path: String,
    /// What its `stat` said; zero when it was not looked at.
    pub stamp: FileStamp,
    /// Its `stat`; `None` when it vanished since the listing, is a dangling symlink, or
    /// was not looked at.
    pub look: Option<Look>,
    /// Whether the scan looked at it ([`SeedFolder::scan_looking`]).
    pub looked: bool,
    /// Its inode number as its folder's listing gives it, without a `stat` (a symlink's
    /// own): a name that now stands for another file shows a new one.
    pub ino: u64,
}

/// Where a scan puts the article and media files it lists, as it lists them: a scan of a
/// big folder holds no more than a few thousand at a time.
pub trait ScanSink {
    /// What the sink learns of a file when it asks for a look, handed back with the file
    /// once it is looked at.
    type Note: Send;
    /// Whether the scan is to look at (`stat`) the article (`article`) or media file at
    /// `path`: `Some`, with what to hand back with it, or `None`, when a regular file is
    /// listed with `looked` false (a symlink is always looked at).
    fn look_at(&mut self, path: &str, article: bool) -> Option<Self::Note>;
    /// [`Self::look_at`] of each of `files` (path, and whether it is an article), in
    /// order. The scan asks a batch at a time; a sink that answers many at once faster
    /// than one by one says so here.
    fn look_at_each(&mut self, files: &[(&str, bool)]) -> Vec<Option<Self::Note>> {
        files
            .iter()
            .map(|&(path, article)| self.look_at(path, article))
            .collect()
    }
    /// An article file, with the note [`Self::look_at`] gave for it.
    fn article(&mut self, file: Listed, note: Option<Self::Note>);
    /// A media file, with the note [`Self::look_at`] gave for it.
    fn asset(&mut self, file: Listed, note: Option<Self::Note>);
    /// Whether the scan is to stop now (the daemon shuts down): a scan of millions of
    /// files takes seconds. Asked after each file.
    fn stopped(&self) -> bool {
        false
    }
}

/// A sink that keeps every file, for a [`Listing`].
struct Collect<F> {
    needs_look: F,
    files: Vec<Listed>,
    assets: Vec<Listed>,
}

impl<F> Collect<F> {
    fn new(needs_look: F) -> Self {
        Self {
            needs_look,
            files: Vec::new(),
            assets: Vec::new(),
        }
    }

    /// `found`, with the files kept.
    fn into_listing(self, mut found: Listing) -> Listing {
        found.files = self.files;
        found.assets = self.assets;
        found
    }
}

impl<F: Fn(&str) -> bool> ScanSink for Collect<F> {
    type Note = ();

    fn look_at(&mut self, path: &str, _: bool) -> Option<()> {
        (self.needs_look)(path).then_some(())
    }

    fn article(&mut self, file: Listed, _: Option<()>) {
        self.files.push(file);
    }

    fn asset(&mut self, file: Listed, _: Option<()>) {
        self.assets.push(file);
    }
}

impl SeedFolder {
    /// Every article file in the folder and its subfolders, with its stamp (reading none
    /// of them), sorted by path.
    pub fn scan(&self) -> std::io::Result<Listing> {
        let mut found = self.scan_looking(|_| true)?;
        found.files.sort_by(|a, b| a.path.cmp(&b.path));
        found.assets.sort_by(|a, b| a.path.cmp(&b.path));
        found.not_articles.sort();
        Ok(found)
    }

    /// Like [`Self::scan`], in the order of the folders' listings, but a regular file (an
    /// article or a media file) is looked at (`stat`) only when `needs_look` says so of
    /// its path; the others are listed with `looked` false. A `stat` per file was most
    /// of a scan's time, and a file about to be read need not be looked at first: its
    /// read looks at it (see [`Self::read_if_still`]).
    pub fn scan_looking(&self, needs_look: impl Fn(&str) -> bool) -> std::io::Result<Listing> {
        self.scan_looking_or(needs_look, log_unlisted)
    }

    /// Like [`Self::scan_looking`], but each subfolder that cannot be listed is passed to
    /// `unlisted` rather than logged: the poll backend, which lists the folder every
    /// second, says so once.
    pub(super) fn scan_looking_or(
        &self,
        needs_look: impl Fn(&str) -> bool,
        mut unlisted: impl FnMut(&Path, std::io::Error),
    ) -> std::io::Result<Listing> {
        let mut found = Listing::default();
        let mut sink = Collect::new(needs_look);
        self.scan_into(&self.root, &mut found, &mut sink, &mut unlisted)?;
        Ok(sink.into_listing(found))
    }

    /// Like [`Self::scan_looking`], but each article and media file goes to `sink` as it
    /// is listed (those looked at, a few thousand at a time), in no particular order; the
    /// listing returned has the rest.
    pub fn scan_each(&self, sink: &mut impl ScanSink) -> std::io::Result<Listing> {
        let mut found = Listing::default();
        self.scan_into(&self.root, &mut found, sink, &mut log_unlisted)?;
        Ok(found)
    }

    /// The stamp of the file at `relative` as a scan looks at it: of the file a symlink
    /// leads to (of a dangling link itself), `None` when nothing is there or it is a
    /// folder. What the reader records of a media file it could not open, and what the
    /// reconcile scan compares with it when its listing did not find the file.
    pub fn media_stamp(&self, relative: &str) -> Option<FileStamp> {
        stat(&self.root.join(relative))
            .filter(|meta| !meta.is_dir())
            .map(|meta| stamp_of(&meta))
    }

    /// Every article and media file under one subfolder (relative path), as
    /// [`Self::scan`] lists them; nothing when it is not a folder (any more).
    pub fn scan_under(&self, relative_dir: &str) -> Listing {
        let dir = self.root.join(relative_dir);
        let is_dir = std::fs::symlink_metadata(&dir).is_ok_and(|meta| meta.is_dir());
        if !is_dir {
            return Listing::default();
        }
        let mut found = Listing::default();
        let mut sink = Collect::new(|_: &str| true);
        if let Err(error) = self.scan_into(&dir, &mut found, &mut sink, &mut log_unlisted) {
            tracing::warn!(path = relative_dir, %error, "cannot list a subfolder");
        }
        sink.into_listing(found)
    }

    /// Walks one folder depth first. Symlinked folders are not followed (no loops, and no
    /// way out of the seeds folder); a subfolder that cannot be listed is passed to
    /// `unlisted` and skipped, so one bad folder does not hide the rest.
    fn scan_into(
        &self,
        dir: &Path,
        found: &mut Listing,
        sink: &mut impl ScanSink,
        unlisted: &mut impl FnMut(&Path, std::io::Error),
    ) -> std::io::Result<()> {
        std::thread::scope(|scope| {
            let mut looking = Looking::new();
            let walked = self.walk(dir, found, unlisted, |file, dirent| {
                looking.take(scope, sink, file, dirent);
                if sink.stopped() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            looking.finish(scope, sink);
            walked
        })
    }

    /// Lists `dir` and its subfolders depth first, noting in `found` what is neither an
    /// article nor a media file, and passes each article and media file to `each`, until
    /// it says to stop (then `found.stopped`).
    fn walk(
        &self,
        dir: &Path,
        found: &mut Listing,
        unlisted: &mut impl FnMut(&Path, std::io::Error),
        mut each: impl FnMut(ListedAs, std::fs::DirEntry) -> ControlFlow<()>,
    ) -> std::io::Result<()> {
        let mut pending = vec![dir.to_owned()];
        let mut first = true;
        while let Some(dir) = pending.pop() {
            // Relative paths are built from the folder's and each name, not from the
            // components of every file's whole path again.
            let prefix = self.relative_any(&dir);
            found.folders.extend(prefix.clone());
            let listing = match std::fs::read_dir(&dir) {
                Ok(listing) => listing,
                // The seeds folder itself must be listable; a subfolder may vanish or be
                // closed to us.
                Err(e) if first => return Err(e),
                Err(error) => {
                    unlisted(&dir, error);
                    continue;
                }
            };
            first = false;
            for dirent in listing {
                let dirent = dirent?;
                let name = dirent.file_name();
                let shown = name.to_string_lossy();
                if shown.starts_with('.') {
                    continue;
                }
                let relative = match &prefix {
                    Some(prefix) => format!("{prefix}/{shown}"),
                    None => shown.into_owned(),
                };
                if name.to_str().is_none() {
                    found.bad_names.push(relative);
                    continue;
                }
                let Ok(kind) = dirent.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    pending.push(dirent.path());
                    continue;
                }
                if let Some(file) = listed_as(found, relative, kind)
                    && each(file, dirent).is_break()
                {
                    found.stopped = true;
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// A file a scan lists, by what it is.
enum ListedAs {
    Article(String),
    Asset(String),
}

/// What `relative` is to the scan: an article, or a media file (a regular file or a
/// symlink, which whoever opens it checks). A plain file that is neither is noted in
/// `found` with the reason; a symlink is not followed to see what it is, and hidden
/// files and temporaries are passed over.
fn listed_as(found: &mut Listing, relative: String, kind: std::fs::FileType) -> Option<ListedAs> {
    match path_name(&relative) {
        SeedName::Article(_) => Some(ListedAs::Article(relative)),
        SeedName::NotArticle(reason) if kind.is_file() => {
            found.not_articles.push((relative, reason));
            None
        }
        SeedName::Asset if kind.is_file() || kind.is_symlink() => Some(ListedAs::Asset(relative)),
        SeedName::NotArticle(_) | SeedName::Asset | SeedName::Ignored => None,
    }
}

/// The files a scan has listed, a batch at a time: first waiting for the sink to say
/// which to look at, then, for those, to be looked at by the threads started with the
/// first full batch.
struct Looking<'scope, N> {
    /// Listed, not yet put to the sink.
    listed: Vec<(ListedAs, std::fs::DirEntry)>,
    batch: Vec<Unlooked<N>>,
    lookers: Option<Lookers<'scope, N>>,
}

impl<'scope, N: Send + 'scope> Looking<'scope, N> {
    fn new() -> Self {
        Self {
            listed: Vec::new(),
            batch: Vec::new(),
            lookers: None,
        }
    }

    /// Keeps one article or media file, and sorts out a full batch of them.
    fn take<'env>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        sink: &mut impl ScanSink<Note = N>,
        file: ListedAs,
        dirent: std::fs::DirEntry,
    ) {
        self.listed.push((file, dirent));
        if self.listed.len() >= look::BATCH {
            self.sort_out(scope, sink);
        }
    }

    /// Asks `sink` about every file listed since the last time, all at once; passes each
    /// regular file it does not ask about to it without a look, and keeps the others to
    /// be looked at, handing each full batch of them over to the lookers.
    fn sort_out<'env>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        sink: &mut impl ScanSink<Note = N>,
    ) {
        let listed = std::mem::take(&mut self.listed);
        let asked: Vec<(&str, bool)> = listed
            .iter()
            .map(|(file, _)| match file {
                ListedAs::Article(relative) => (relative.as_str(), true),
                ListedAs::Asset(relative) => (relative.as_str(), false),
            })
            .collect();
        let notes = sink.look_at_each(&asked);
        drop(asked);
        // A file the sink gave no note for is passed on all the same: one left out would
        // be taken for gone.
        let notes = notes.into_iter().chain(std::iter::repeat_with(|| None));
        for ((file, dirent), note) in listed.into_iter().zip(notes) {
            self.keep(sink, file, dirent, note);
            if self.batch.len() >= look::BATCH {
                self.hand_over(scope, sink);
            }
        }
    }

    /// One file with the sink's note: passed at once, without a look, when it is a
    /// regular file the sink did not ask about; else kept to be looked at.
    fn keep(
        &mut self,
        sink: &mut impl ScanSink<Note = N>,
        file: ListedAs,
        dirent: std::fs::DirEntry,
        note: Option<N>,
    ) {
        // The type its folder's listing gave (no `stat`), as the walk read it.
        let Ok(kind) = dirent.file_type() else {
            return;
        };
        let (relative, article) = match file {
            ListedAs::Article(relative) => (relative, true),
            ListedAs::Asset(relative) => (relative, false),
        };
        if kind.is_file() && note.is_none() {
            let file = Listed {
                path: relative,
                stamp: FileStamp::UNKNOWN,
                look: None,
                looked: false,
                ino: dirent.ino(),
            };
            pass(
                sink,
                Looked {
                    article,
                    file,
                    note,
                },
            );
            return;
        }
        self.batch.push(Unlooked {
            relative,
            ino: dirent.ino(),
            article,
            note,
            dirent,
            symlink: kind.is_symlink(),
        });
    }

    /// Hands the batch to the lookers (started with the first), and passes what they
    /// have looked at so far to `sink`.
    fn hand_over<'env>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        sink: &mut impl ScanSink<Note = N>,
    ) {
        if self.lookers.is_none() {
            self.lookers = Lookers::start(scope);
        }
        let batch = std::mem::take(&mut self.batch);
        let looked = match &mut self.lookers {
            Some(lookers) => lookers.hand_over(batch),
            None => look_at_all(batch),
        };
        looked.into_iter().for_each(|file| pass(sink, file));
    }

    /// Sorts out the last files listed, looks at the last kept, takes back what the
    /// lookers have, and passes all of it to `sink`.
    fn finish<'env>(
        mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        sink: &mut impl ScanSink<Note = N>,
    ) {
        self.sort_out(scope, sink);
        let rest = self.lookers.map(Lookers::finish).unwrap_or_default();
        let last = look_at_all(self.batch);
        rest.into_iter()
            .chain(last)
            .for_each(|file| pass(sink, file));
    }
}

fn pass<N>(sink: &mut impl ScanSink<Note = N>, looked: Looked<N>) {
    match looked.article {
        true => sink.article(looked.file, looked.note),
        false => sink.asset(looked.file, looked.note),
    }
}

fn log_unlisted(dir: &Path, error: std::io::Error) {
    tracing::warn!(path = ?dir, %error, "cannot list a subfolder; skipped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::{SeedRead, WatchEvent, path_key};
    use notify::EventKind;
    use notify::event::CreateKind;

    /// A scan big enough to stat on two threads lists every file once, in path order,
    /// with its own size; a symlinked folder is still left out, a dangling link listed.
    #[test]
    fn a_big_scan_lists_every_file_with_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let count = 3 * look::BATCH + 100;
        for i in 0..count {
            std::fs::write(root.join(format!("{i:05}.txt")), "x".repeat(i % 50)).unwrap();
        }
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(root.join("sub"), root.join("folder.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("dangling.txt")).unwrap();
        let listed = SeedFolder::open(root).unwrap().scan().unwrap().files;
        assert_eq!(listed.len(), count + 1);
        assert_eq!(listed[0].path, "00000.txt");
        assert!(listed[1].look.is_some() && listed[1].stamp.size == 1);
        assert_eq!(listed[count].path, "dangling.txt");
        for (i, file) in listed[..count].iter().enumerate() {
            assert_eq!(file.path, format!("{i:05}.txt"));
            assert_eq!(file.stamp.size, (i % 50) as u64);
        }
    }

    /// A sink is passed the files as they are listed, not at the end: asked about a
    /// batch at a time, those looked at a few batches behind the listing, with the note
    /// it gave for each, those not looked at at once; each once, in all.
    #[test]
    fn a_scan_passes_its_files_on_as_it_lists_them() {
        struct Count {
            asked: std::cell::Cell<usize>,
            /// How many files each question asked about.
            batches: Vec<usize>,
            /// How many files the scan had listed when it passed the first it looked at.
            asked_at_first: Option<usize>,
            paths: Vec<String>,
        }
        impl ScanSink for Count {
            type Note = usize;
            fn look_at(&mut self, path: &str, _: bool) -> Option<usize> {
                self.asked.set(self.asked.get() + 1);
                number(path)
            }
            fn look_at_each(&mut self, files: &[(&str, bool)]) -> Vec<Option<usize>> {
                self.batches.push(files.len());
                files
                    .iter()
                    .map(|&(path, article)| self.look_at(path, article))
                    .collect()
            }
            fn article(&mut self, file: Listed, note: Option<usize>) {
                assert_eq!(note, number(&file.path), "{}", file.path);
                assert_eq!(file.looked, !file.path.starts_with('n'), "{}", file.path);
                if file.looked {
                    self.asked_at_first.get_or_insert(self.asked.get());
                }
                self.paths.push(file.path);
            }
            fn asset(&mut self, _: Listed, _: Option<usize>) {}
        }
        /// Each file's own note: its number (`new.txt` has none, and is not looked at).
        fn number(path: &str) -> Option<usize> {
            path.strip_suffix(".txt")?.parse().ok()
        }
        let dir = tempfile::tempdir().unwrap();
        let count = 20 * look::BATCH + 10;
        for i in 0..count {
            std::fs::write(dir.path().join(format!("{i:05}.txt")), "x").unwrap();
        }
        std::fs::write(dir.path().join("new.txt"), "x").unwrap();
        let mut sink = Count {
            asked: Default::default(),
            batches: Vec::new(),
            asked_at_first: None,
            paths: Vec::new(),
        };
        let folder = SeedFolder::open(dir.path()).unwrap();
        folder.scan_each(&mut sink).unwrap();
        assert_eq!(sink.asked.get(), count + 1);
        assert_eq!(sink.batches.iter().sum::<usize>(), count + 1);
        assert!(sink.batches.len() > 20 && sink.batches.iter().all(|&n| n <= look::BATCH));
        assert!(sink.asked_at_first.is_some_and(|at| at <= 8 * look::BATCH));
        sink.paths.sort();
        let mut expected: Vec<String> = (0..count).map(|i| format!("{i:05}.txt")).collect();
        expected.push("new.txt".into());
        assert_eq!(sink.paths, expected);
    }

    /// A file the sink's answer leaves out (a short list of notes) is passed on all the
    /// same, not looked at: one left out would be taken for gone.
    #[test]
    fn a_file_without_a_note_is_passed_on_all_the_same() {
        struct Short(Vec<Listed>);
        impl ScanSink for Short {
            type Note = ();
            fn look_at(&mut self, _: &str, _: bool) -> Option<()> {
                Some(())
            }
            fn look_at_each(&mut self, files: &[(&str, bool)]) -> Vec<Option<()>> {
                vec![Some(()); files.len() / 2]
            }
            fn article(&mut self, file: Listed, _: Option<()>) {
                self.0.push(file);
            }
            fn asset(&mut self, _: Listed, _: Option<()>) {}
        }
        let dir = tempfile::tempdir().unwrap();
        let count = look::BATCH + 10;
        for i in 0..count {
            std::fs::write(dir.path().join(format!("{i:05}.txt")), "x").unwrap();
        }
        let mut sink = Short(Vec::new());
        SeedFolder::open(dir.path())
            .unwrap()
            .scan_each(&mut sink)
            .unwrap();
        assert_eq!(sink.0.len(), count);
        let looked = sink.0.iter().filter(|file| file.looked).count();
        assert_eq!(looked, look::BATCH / 2 + 5);
    }

    /// A sink that asks the scan to stop gets no more files listed after that, but for
    /// the looks already under way, and the listing says it was cut short; a sink that
    /// never asks gets them all.
    #[test]
    fn a_scan_stops_when_its_sink_asks() {
        struct Stopping {
            after: usize,
            files: usize,
        }
        impl ScanSink for Stopping {
            type Note = ();
            fn look_at(&mut self, _: &str, _: bool) -> Option<()> {
                Some(())
            }
            fn article(&mut self, _: Listed, _: Option<()>) {
                self.files += 1;
            }
            fn asset(&mut self, _: Listed, _: Option<()>) {}
            fn stopped(&self) -> bool {
                self.files >= self.after
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let count = 12 * look::BATCH;
        for i in 0..count {
            std::fs::write(dir.path().join(format!("{i:05}.txt")), "x").unwrap();
        }
        let folder = SeedFolder::open(dir.path()).unwrap();
        let mut sink = Stopping {
            after: 2 * look::BATCH,
            files: 0,
        };
        let listing = folder.scan_each(&mut sink).unwrap();
        assert!(listing.stopped);
        // The batches handed to the looking threads by then come back; the listing
        // goes no further.
        assert!(
            (2 * look::BATCH..=8 * look::BATCH).contains(&sink.files),
            "{} files",
            sink.files
        );
        let mut sink = Stopping {
            after: usize::MAX,
            files: 0,
        };
        let listing = folder.scan_each(&mut sink).unwrap();
        assert!(!listing.stopped);
        assert_eq!(sink.files, count);
    }

    /// Media files are listed apart from the articles, and looked at only when asked
    /// for, as articles are; [`SeedFolder::media_stamp`] says of one what a look says.
    #[test]
    fn media_files_are_listed_apart_and_looked_at_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("img")).unwrap();
        std::fs::create_dir_all(root.join("folder.jpg")).unwrap();
        std::fs::write(root.join("post.md"), "# Post").unwrap();
        std::fs::write(root.join("img/photo.jpg"), "jpeg!").unwrap();
        std::fs::write(root.join("img/old.png"), "png").unwrap();
        std::fs::write(root.join("img/.hidden.png"), "png").unwrap();
        std::os::unix::fs::symlink(root.join("img/photo.jpg"), root.join("link.jpg")).unwrap();
        std::os::unix::fs::symlink(root.join("missing.jpg"), root.join("dangling.jpg")).unwrap();
        let folder = SeedFolder::open(root).unwrap();
        let mut listing = folder.scan_looking(|path| path != "img/old.png").unwrap();
        listing.assets.sort_by(|a, b| a.path.cmp(&b.path));
        let shown: Vec<(&str, bool, u64)> = listing
            .assets
            .iter()
            .map(|a| (a.path.as_str(), a.looked, a.stamp.size))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "dangling.jpg",
                    true,
                    root.join("missing.jpg").as_os_str().len() as u64
                ),
                ("img/old.png", false, 0),
                ("img/photo.jpg", true, 5),
                ("link.jpg", true, 5),
            ]
        );
        assert_eq!(listing.files.len(), 1);
        for asset in listing.assets.iter().filter(|a| a.looked) {
            assert_eq!(
                folder.media_stamp(&asset.path),
                Some(asset.stamp),
                "{}",
                asset.path
            );
        }
        assert_eq!(folder.media_stamp("missing.jpg"), None);
        assert_eq!(folder.media_stamp("folder.jpg"), None);
    }

    #[test]
    fn scans_subfolders_but_not_hidden_or_symlinked_ones() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["2026/11", ".git", "x.txt", ".rsync-tmp"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for file in [
            "top.txt",
            "2026/11/deep.txt",
            "2026/notes.odt",
            ".git/HEAD.txt",
            "x.txt/inside.txt",
            ".rsync-tmp/a.txt",
        ] {
            std::fs::write(root.join(file), "Title").unwrap();
        }
        std::os::unix::fs::symlink(root.join("2026"), root.join("loop")).unwrap();
        // A name that is not UTF-8 is reported, not read; a hidden one is not reported.
        use std::os::unix::ffi::OsStrExt;
        let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
        std::fs::write(root.join("2026").join(latin1), "Title").unwrap();
        std::fs::write(
            root.join(std::ffi::OsStr::from_bytes(b".\xe9.txt")),
            "Title",
        )
        .unwrap();
        let folder = SeedFolder::open(root).unwrap();
        assert_eq!(folder.scan().unwrap().bad_names, ["2026/caf\u{fffd}.txt"]);
        assert_eq!(
            folder.translate(Ok(notify::Event::new(EventKind::Create(CreateKind::File))
                .add_path(folder.root().join("2026").join(latin1)))),
            [WatchEvent::BadName("2026/caf\u{fffd}.txt".into(), true)]
        );
        let names: Vec<String> = folder
            .scan()
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(names, ["2026/11/deep.txt", "top.txt", "x.txt/inside.txt"]);
        // The file that is not an article is listed as such; the hidden ones are not.
        assert_eq!(
            folder.scan().unwrap().not_articles,
            [(
                "2026/notes.odt".to_owned(),
                "not an article: only .txt, .md, .markdown, .html and .htm files are read"
            )]
        );
        let under: Vec<String> = folder
            .scan_under("2026")
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(under, ["2026/11/deep.txt"]);
        assert!(folder.scan_under("missing").files.is_empty());
        // A folder named like an article is no file to read.
        assert!(matches!(folder.read("x.txt", 100), SeedRead::Gone));
        assert_eq!(path_key("2026/11/deep.txt").unwrap().as_str(), "deep");
        let root = folder.root().to_owned();
        assert_eq!(
            folder.relative(&root.join("2026/11/deep.txt")).as_deref(),
            Some("2026/11/deep.txt")
        );
        assert_eq!(folder.relative(&root.join(".git/HEAD.txt")), None);
        assert_eq!(folder.relative(&root.join("2026/notes.odt")), None);
    }
}
