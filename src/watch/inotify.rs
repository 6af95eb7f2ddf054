//! The native backend (`watch = "native"`, Linux only): inotify, one watch per folder,
//! asking only for the events that can change what is published. notify's inotify
//! backend always asks for IN_OPEN too, so every file our readers open came back as an
//! event, and in a cold ingest the kernel queueing them and notify's thread reading them
//! took a good share of the CPU (docs/performance.md). Events come out as notify's
//! types, as notify would give them, for [`super::SeedFolder::translate`].
//!
//! Each folder is watched on its own, as the ingest driver's scans find them, rather
//! than with notify's recursive mode, which walks the whole tree and stats every file to
//! find the folders: a second walk of a big folder at start-up, beside our own scan.
//!
//! [`NativeWatcher`] is the backend as [`super::FolderWatcher`] holds it: the seeds folder
//! watched at start, and each subfolder as the ingest driver's scans find it.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};
use notify::event::{
    AccessKind, AccessMode, CreateKind, DataChange, Flag, MetadataKind, ModifyKind, RemoveKind,
    RenameMode,
};
use notify::{Event, EventKind};

use super::{SeedFolder, WatchEvent};

/// What a folder's watch asks for: writes finished, names appearing, going and moving,
/// content and metadata changes, and the folder itself going. Never opens and reads.
/// Symlinks are not followed, and only folders are watched.
const MASK: WatchMask = WatchMask::CREATE
    .union(WatchMask::DELETE)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::MODIFY)
    .union(WatchMask::ATTRIB)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF)
    .union(WatchMask::DONT_FOLLOW)
    .union(WatchMask::ONLYDIR);

/// Folders watched, by descriptor (events name only the descriptor and the file name).
type Folders = Arc<Mutex<HashMap<WatchDescriptor, PathBuf>>>;

/// The seeds folder watched with inotify, each folder on its own as the ingest driver's
/// scans find them ([`NativeWatcher::watch_folders`]), rather than with notify's recursive
/// mode, which walks the whole tree and stats every file to find the folders, on top of
/// our own scan.
pub struct NativeWatcher {
    root: PathBuf,
    watcher: InotifyWatcher,
}

impl NativeWatcher {
    pub(super) fn start(
        folder: &SeedFolder,
        deliver: impl Fn(WatchEvent) + Send + 'static,
    ) -> io::Result<Self> {
        let translator = folder.clone();
        let watcher = InotifyWatcher::start(move |event| {
            for event in translator.translate(Ok(event)) {
                deliver(event);
            }
        })?;
        watcher.watch(folder.root())?;
        Ok(Self {
            root: folder.root().to_owned(),
            watcher,
        })
    }

    /// Watches these subfolders (relative paths) too; watching one twice is harmless. A
    /// folder that cannot be watched (gone, or the system's limit on watches reached) is
    /// logged: its files are still found by the periodic rescans.
    pub(super) fn watch_folders(&self, folders: &[String]) {
        for folder in folders {
            let path = self.root.join(folder);
            if let Err(error) = self.watcher.watch(&path) {
                // Gone, or replaced by a file, since it was seen.
                let gone = matches!(
                    error.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                );
                if !gone {
                    tracing::warn!(folder = %folder, %error, "cannot watch a subfolder; its changes are found by the periodic rescans");
                }
            }
        }
    }
}

pub(super) struct InotifyWatcher {
    watches: Mutex<Watches>,
    folders: Folders,
    stop: Arc<AtomicBool>,
}

impl InotifyWatcher {
    /// Starts the event thread, which passes each event to `handler` as it is read.
    pub(super) fn start(handler: impl Fn(Event) + Send + 'static) -> io::Result<Self> {
        let inotify = Inotify::init()?;
        let watches = inotify.watches();
        let folders = Folders::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_folders = folders.clone();
        let thread_stop = stop.clone();
        std::thread::Builder::new()
            .name("seedfeed-inotify".into())
            .spawn(move || read_events(inotify, &thread_folders, &thread_stop, handler))?;
        Ok(Self {
            watches: Mutex::new(watches),
            folders,
            stop,
        })
    }

    /// Watches the folder at `path`; watching it again is harmless, and a folder renamed
    /// since its watch was added is named by its new path from then on.
    pub(super) fn watch(&self, path: &Path) -> io::Result<()> {
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        let wd = watches.add(path, MASK)?;
        self.folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(wd, path.to_owned());
        Ok(())
    }
}

impl Drop for InotifyWatcher {
    fn drop(&mut self) {
        // The thread waits in a blocking read: a watch added and removed at once brings
        // it an event (IN_IGNORED), after which it sees that it must stop, and closes
        // the descriptor.
        self.stop.store(true, Ordering::Relaxed);
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        match watches.add("/", WatchMask::ATTRIB) {
            Ok(wd) => {
                let _ = watches.remove(wd);
            }
            Err(error) => tracing::debug!(%error, "cannot wake the inotify thread to stop it"),
        }
    }
}

fn read_events(
    mut inotify: Inotify,
    folders: &Folders,
    stop: &AtomicBool,
    handler: impl Fn(Event),
) {
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let events = match inotify.read_events_blocking(&mut buffer) {
            Ok(events) => events,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                if !stop.load(Ordering::Relaxed) {
                    tracing::error!(%error, "cannot read inotify events; watching stopped");
                    handler(rescan());
                }
                return;
            }
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // Handled after the folders are unlocked: the handler may wait on the ingest
        // driver, which may be adding a watch.
        let mut out = Vec::new();
        let mut folders = folders.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            if event.mask.contains(EventMask::Q_OVERFLOW) {
                out.push(rescan());
                continue;
            }
            if event.mask.contains(EventMask::IGNORED) {
                // The folder went (or was unmounted): its descriptor may be reused.
                folders.remove(&event.wd);
                continue;
            }
            let Some(folder) = folders.get(&event.wd) else {
                continue;
            };
            let path = match event.name {
                Some(name) => folder.join(name),
                None => folder.clone(),
            };
            if event.mask.contains(EventMask::UNMOUNT) {
                out.push(rescan());
                continue;
            }
            out.extend(kinds(event.mask).map(|kind| Event::new(kind).add_path(path.clone())));
        }
        drop(folders);
        out.into_iter().for_each(&handler);
    }
}

/// notify's kinds for one inotify event, in the order notify gives them.
fn kinds(mask: EventMask) -> impl Iterator<Item = EventKind> {
    let folder = mask.contains(EventMask::ISDIR);
    [
        (
            EventMask::MOVED_FROM,
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
        ),
        (
            EventMask::MOVED_TO,
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
        ),
        (
            EventMask::MOVE_SELF,
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
        ),
        (
            EventMask::CREATE,
            EventKind::Create(if folder {
                CreateKind::Folder
            } else {
                CreateKind::File
            }),
        ),
        (
            EventMask::DELETE,
            EventKind::Remove(if folder {
                RemoveKind::Folder
            } else {
                RemoveKind::File
            }),
        ),
        // Only folders are watched, so only a folder deletes itself.
        (
            EventMask::DELETE_SELF,
            EventKind::Remove(RemoveKind::Folder),
        ),
        (
            EventMask::MODIFY,
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
        ),
        (
            EventMask::CLOSE_WRITE,
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ),
        (
            EventMask::ATTRIB,
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
        ),
    ]
    .into_iter()
    .filter(move |(bit, _)| mask.contains(*bit))
    .map(|(_, kind)| kind)
}

fn rescan() -> Event {
    Event::new(EventKind::Other).set_flag(Flag::Rescan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{Receiver, channel};
    use std::time::Duration;

    fn started() -> (InotifyWatcher, Receiver<Event>) {
        let (sender, events) = channel();
        let watcher = InotifyWatcher::start(move |event| {
            let _ = sender.send(event);
        })
        .unwrap();
        (watcher, events)
    }

    fn next(events: &Receiver<Event>) -> Event {
        events.recv_timeout(Duration::from_secs(5)).unwrap()
    }

    /// A file written, read and renamed, and a folder made: the writer's events come, our
    /// own read brings none.
    #[test]
    fn reports_writes_renames_and_folders_but_not_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (watcher, events) = started();
        watcher.watch(dir.path()).unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(next(&events).kind, EventKind::Create(CreateKind::File));
        assert_eq!(
            next(&events).kind,
            EventKind::Modify(ModifyKind::Data(DataChange::Any))
        );
        let closed = next(&events);
        assert_eq!(
            closed.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
        );
        assert_eq!(closed.paths, std::slice::from_ref(&file));
        std::fs::read(&file).unwrap();
        std::fs::rename(&file, dir.path().join("b.txt")).unwrap();
        let from = next(&events);
        assert_eq!(
            from.kind,
            EventKind::Modify(ModifyKind::Name(RenameMode::From))
        );
        assert_eq!(from.paths, [file]);
        let to = next(&events);
        assert_eq!(to.kind, EventKind::Modify(ModifyKind::Name(RenameMode::To)));
        assert_eq!(to.paths, [dir.path().join("b.txt")]);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let made = next(&events);
        assert_eq!(made.kind, EventKind::Create(CreateKind::Folder));
        assert_eq!(made.paths, [dir.path().join("sub")]);
        assert!(events.recv_timeout(Duration::from_millis(100)).is_err());
    }

    /// A subfolder renamed and watched again reports under its new name.
    #[test]
    fn a_renamed_folder_watched_again_reports_its_new_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        let (watcher, events) = started();
        watcher.watch(&dir.path().join("old")).unwrap();
        std::fs::rename(dir.path().join("old"), dir.path().join("new")).unwrap();
        assert_eq!(
            next(&events).kind,
            EventKind::Modify(ModifyKind::Name(RenameMode::From))
        );
        watcher.watch(&dir.path().join("new")).unwrap();
        std::fs::write(dir.path().join("new/a.txt"), "x").unwrap();
        assert_eq!(next(&events).paths, [dir.path().join("new/a.txt")]);
    }

    #[test]
    fn refuses_what_is_not_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        let (watcher, _events) = started();
        assert!(watcher.watch(&dir.path().join("a.txt")).is_err());
        assert_eq!(
            watcher
                .watch(&dir.path().join("missing"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }
}
