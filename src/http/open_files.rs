//! The media files answered lately, kept open as nginx's `open_file_cache` keeps them:
//! a file asked for again and again (a podcast's cover, an article's images) costs one
//! `fstat` of the open file per answer, where opening it safely beneath the folder, then
//! reading its metadata and closing it, took three system calls and a walk of its path.
//!
//! An entry is used for at most [`VALID`] after the file was opened through
//! [`MediaFiles`], and only while the open file still has a name (a file deleted, or
//! replaced by a rename over it, has none) and its change time is the one it had then
//! (a write, a rename or a change of mode moves it). Within those bounds an answer is
//! the file's current bytes and metadata; what the cache can miss is a change above the
//! file (a folder renamed, a symlink on the way pointed elsewhere), which an answer
//! follows within [`VALID`]. Failures are not kept: a missing file is looked for again
//! at every request.
//!
//! The files are shared by the workers and by the answers in flight, which send from
//! them at explicit offsets (`sendfile`, `read_at`), so no answer moves another's
//! position. At most [`MOST`] are kept open; `slots` sets their descriptors aside. An
//! entry found stale is dropped at once, and [`sweep`] drops the expired ones every
//! [`VALID`]: a file deleted from the folder is closed within two seconds, asked for
//! again or not, and its disk space freed once the answers sending it are done.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::media::{MediaError, MediaFiles, OpenMedia};

/// How long an entry is used before the file is opened through [`MediaFiles`] again.
const VALID: Duration = Duration::from_secs(1);

/// The most files kept open.
pub(super) const MOST: usize = 128;

/// The media files of the folder, opened through [`MediaFiles`] or taken from the files
/// kept open.
pub struct OpenFiles {
    files: Arc<dyn MediaFiles>,
    kept: Mutex<HashMap<String, Kept>>,
}

/// A file kept open, and what it must still show to be used.
struct Kept {
    file: Arc<File>,
    opened: Instant,
    changed: (i64, i64),
}

/// A media file opened for an answer, and its metadata as the open file shows it now.
pub(super) struct Opened {
    pub file: Arc<File>,
    pub metadata: Metadata,
}

impl OpenFiles {
    pub fn new(files: Arc<dyn MediaFiles>) -> Self {
        Self {
            files,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The media file at `relative` (as [`MediaFiles::open`] takes it).
    pub(super) fn open(&self, relative: &str) -> Result<Opened, MediaError> {
        if let Some(opened) = self.reusable(relative) {
            return Ok(opened);
        }
        let OpenMedia { file, metadata } = self.files.open(relative)?;
        let file = Arc::new(file);
        self.keep(relative, &file, &metadata);
        Ok(Opened { file, metadata })
    }

    /// The file kept for `relative`, when it may still be used; its metadata is read
    /// without the lock held.
    fn reusable(&self, relative: &str) -> Option<Opened> {
        let (file, changed) = {
            let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = kept.get(relative)?;
            if entry.opened.elapsed() >= VALID {
                return None;
            }
            (Arc::clone(&entry.file), entry.changed)
        };
        let metadata = file.metadata().ok();
        match metadata {
            Some(metadata) if metadata.nlink() > 0 && changed_of(&metadata) == changed => {
                Some(Opened { file, metadata })
            }
            _ => {
                self.forget(relative, &file);
                None
            }
        }
    }

    /// Drops the entry of `relative` if it still holds `file` (another worker may have
    /// kept a newer one meanwhile).
    fn forget(&self, relative: &str, file: &Arc<File>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept
            .get(relative)
            .is_some_and(|entry| Arc::ptr_eq(&entry.file, file))
        {
            kept.remove(relative);
        }
    }

    /// What [`sweep`] does at each tick.
    fn drop_expired(&self) {
        expire(&mut self.kept.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Keeps `file` for `relative`. When [`MOST`] are kept, the expired go first, then
    /// the one opened longest ago.
    fn keep(&self, relative: &str, file: &Arc<File>, metadata: &Metadata) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MOST && !kept.contains_key(relative) {
            expire(&mut kept);
        }
        if kept.len() >= MOST && !kept.contains_key(relative) {
            let oldest = kept
                .iter()
                .min_by_key(|(_, entry)| entry.opened)
                .map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                kept.remove(&oldest);
            }
        }
        let entry = Kept {
            file: Arc::clone(file),
            opened: Instant::now(),
            changed: changed_of(metadata),
        };
        kept.insert(relative.to_owned(), entry);
    }
}

/// Drops the entries past their validity, closing their files once no answer sends
/// from them.
fn expire(kept: &mut HashMap<String, Kept>) {
    kept.retain(|_, entry| entry.opened.elapsed() < VALID);
}

/// Drops the expired entries of `files` every [`VALID`], for as long as the runtime it
/// is spawned on runs (one HTTP worker's).
pub(super) async fn sweep(files: Arc<OpenFiles>) {
    let mut ticks = tokio::time::interval(VALID);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        files.drop_expired();
    }
}

/// A file's change time (`st_ctime`), which any write, rename or change of its mode
/// moves.
fn changed_of(metadata: &Metadata) -> (i64, i64) {
    (metadata.ctime(), metadata.ctime_nsec())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A folder's files opened by name, counting the opens.
    struct Folder {
        root: tempfile::TempDir,
        opens: AtomicUsize,
    }

    impl MediaFiles for Folder {
        fn open(&self, relative: &str) -> Result<OpenMedia, MediaError> {
            self.opens.fetch_add(1, Ordering::Relaxed);
            let file = File::open(self.root.path().join(relative)).map_err(|error| match error
                .kind()
            {
                std::io::ErrorKind::NotFound => MediaError::NotFound,
                _ => MediaError::Io(error),
            })?;
            let metadata = file.metadata()?;
            Ok(OpenMedia { file, metadata })
        }
    }

    fn folder() -> (Arc<Folder>, OpenFiles) {
        let folder = Arc::new(Folder {
            root: tempfile::tempdir().unwrap(),
            opens: AtomicUsize::new(0),
        });
        let files = OpenFiles::new(Arc::clone(&folder) as Arc<dyn MediaFiles>);
        (folder, files)
    }

    fn read(opened: &Opened) -> Vec<u8> {
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0; opened.metadata.len() as usize];
        opened.file.read_exact_at(&mut bytes, 0).unwrap();
        bytes
    }

    #[test]
    fn a_file_asked_for_again_is_not_opened_again() {
        let (folder, files) = folder();
        std::fs::write(folder.root.path().join("a.jpg"), "jpeg").unwrap();
        for _ in 0..3 {
            assert_eq!(read(&files.open("a.jpg").unwrap()), b"jpeg");
        }
        assert_eq!(folder.opens.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_file_replaced_deleted_or_rewritten_is_opened_again() {
        let (folder, files) = folder();
        let path = folder.root.path().join("a.jpg");
        std::fs::write(&path, "one").unwrap();
        assert_eq!(read(&files.open("a.jpg").unwrap()), b"one");

        // Replaced by a rename over it: the kept file has no name left.
        let next = folder.root.path().join("next.jpg");
        std::fs::write(&next, "two!").unwrap();
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(read(&files.open("a.jpg").unwrap()), b"two!");

        // Rewritten in place: its change time moves.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, "three").unwrap();
        assert_eq!(read(&files.open("a.jpg").unwrap()), b"three");

        std::fs::remove_file(&path).unwrap();
        assert!(matches!(files.open("a.jpg"), Err(MediaError::NotFound)));
        assert_eq!(folder.opens.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn an_entry_is_used_no_longer_than_its_validity() {
        let (folder, files) = folder();
        std::fs::write(folder.root.path().join("a.jpg"), "jpeg").unwrap();
        std::fs::write(folder.root.path().join("b.jpg"), "jpeg").unwrap();
        files.open("a.jpg").unwrap();
        files.open("b.jpg").unwrap();
        if let Some(entry) = files.kept.lock().unwrap().get_mut("a.jpg") {
            entry.opened -= VALID;
        }
        files.open("a.jpg").unwrap();
        assert_eq!(folder.opens.load(Ordering::Relaxed), 3);

        // The sweep drops what expired, and only that.
        if let Some(entry) = files.kept.lock().unwrap().get_mut("b.jpg") {
            entry.opened -= VALID;
        }
        files.drop_expired();
        let kept = files.kept.lock().unwrap();
        assert!(kept.contains_key("a.jpg") && !kept.contains_key("b.jpg"));
    }

    #[test]
    fn a_stale_entry_is_dropped_when_found() {
        let (folder, files) = folder();
        std::fs::write(folder.root.path().join("a.jpg"), "jpeg").unwrap();
        files.open("a.jpg").unwrap();
        std::fs::remove_file(folder.root.path().join("a.jpg")).unwrap();
        assert!(matches!(files.open("a.jpg"), Err(MediaError::NotFound)));
        assert!(
            files.kept.lock().unwrap().is_empty(),
            "the deleted file is let go"
        );
    }

    #[test]
    fn no_more_than_the_most_are_kept_and_the_oldest_goes_first() {
        let (folder, files) = folder();
        for n in 0..=MOST {
            std::fs::write(folder.root.path().join(format!("{n}.jpg")), "x").unwrap();
            files.open(&format!("{n}.jpg")).unwrap();
        }
        let kept = files.kept.lock().unwrap();
        assert_eq!(kept.len(), MOST);
        assert!(!kept.contains_key("0.jpg"));
        assert!(kept.contains_key(&format!("{MOST}.jpg")));
    }
}
