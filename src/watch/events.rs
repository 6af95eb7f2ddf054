//! Filesystem events, translated at the boundary into our own [`WatchEvent`]: one arm
//! per quirk. Whether a path was created, modified or removed decides nothing (the
//! settle stage looks at the file itself); what an event tells is when a writer is done
//! and when a whole folder moved. The native and notify backends give notify's event
//! types, and both come through [`SeedFolder::translate`]; the poll backend, which has
//! no events, reports ours directly.

use std::path::Path;

use notify::EventKind;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RemoveKind, RenameMode};

use super::{SeedFolder, is_watched};

/// What the watcher tells the ingest driver, in our own terms. Paths are relative to
/// the seeds folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// This article or media file may have changed, appeared or gone: it settles before
    /// it is read (an article) or the articles that reference it are (a media file).
    Changed(String),
    /// This article or media file was closed after writing, or renamed into place: its
    /// writer is done, so it need not wait to settle (unless it changes again).
    Finished(String),
    /// A folder appeared, went, or was renamed (or this path may have been one): every
    /// file under it is looked at.
    Tree(String),
    /// A file or folder whose name is not UTF-8 appeared (`true`) or went (`false`).
    BadName(String, bool),
    /// Events were lost (queue overflow, watcher error): compare the whole folder.
    Rescan(String),
}

impl SeedFolder {
    /// One notify event to ours. Whether a path was created, modified or removed does not
    /// decide anything: the settle stage looks at the file itself, so a rename, an atomic
    /// save or a delete-and-recreate all end in the right state. What the event kind does
    /// tell is when a writer is done (close after write, rename into place) and when a
    /// whole folder moved.
    pub(super) fn translate(&self, result: notify::Result<notify::Event>) -> Vec<WatchEvent> {
        let event = match result {
            Ok(event) => event,
            Err(error) => return vec![WatchEvent::Rescan(format!("watcher error: {error}"))],
        };
        // The kernel dropped events (inotify queue overflow): nothing is known.
        if event.need_rescan() {
            return vec![WatchEvent::Rescan("the watcher lost events".into())];
        }
        let mut out = Vec::new();
        for (index, path) in event.paths.iter().enumerate() {
            if let Some(shown) = self.bad_name(path) {
                if !matches!(event.kind, EventKind::Access(_)) {
                    let exists = std::fs::symlink_metadata(path).is_ok();
                    out.push(WatchEvent::BadName(shown, exists));
                }
                continue;
            }
            match event.kind {
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                    out.extend(self.watched(path).map(WatchEvent::Finished));
                }
                // Opens, reads and closes after reading (our own among them: notify's
                // inotify backend reports them all) change nothing.
                EventKind::Access(_) => {}
                EventKind::Create(CreateKind::Folder) | EventKind::Remove(RemoveKind::Folder) => {
                    out.extend(self.relative_any(path).map(WatchEvent::Tree));
                }
                // A rename: the old name may have been a folder, so what was stored under
                // it is looked at too; the new name is complete (rsync and editors rename
                // a finished temporary file into place).
                EventKind::Modify(ModifyKind::Name(mode)) => {
                    let arriving = matches!(mode, RenameMode::To)
                        || (matches!(mode, RenameMode::Both) && index == 1);
                    out.extend(self.renamed(path, arriving));
                }
                _ => match self.watched(path) {
                    Some(relative) => out.push(WatchEvent::Changed(relative)),
                    // Neither an article's nor a media file's name: a folder that went
                    // without saying it was one.
                    None if matches!(event.kind, EventKind::Remove(_)) => {
                        out.extend(self.relative_any(path).map(WatchEvent::Tree));
                    }
                    None => {}
                },
            }
        }
        out
    }

    fn renamed(&self, path: &Path, arriving: bool) -> Vec<WatchEvent> {
        let Some(relative) = self.relative_any(path) else {
            return Vec::new();
        };
        let is_dir = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir());
        let is_seed = is_watched(&relative);
        match (arriving, is_dir, is_seed) {
            (_, true, _) => vec![WatchEvent::Tree(relative)],
            (true, false, true) => vec![WatchEvent::Finished(relative)],
            (false, false, true) => vec![
                WatchEvent::Changed(relative.clone()),
                WatchEvent::Tree(relative),
            ],
            (false, false, false) => vec![WatchEvent::Tree(relative)],
            (true, false, false) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_say_when_a_writer_is_done_and_when_a_folder_moved() {
        use notify::Event;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let folder = SeedFolder::open(dir.path()).unwrap();
        let at = |name: &str| folder.root().join(name);
        let translate = |kind: EventKind, paths: &[&str]| {
            let mut event = Event::new(kind);
            for path in paths {
                event = event.add_path(at(path));
            }
            folder.translate(Ok(event))
        };
        assert_eq!(
            translate(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &["a.txt"]
            ),
            [WatchEvent::Finished("a.txt".into())]
        );
        // What notify's inotify backend reports of every read: no work.
        for access in [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Close(AccessMode::Read),
            AccessKind::Read,
        ] {
            assert!(translate(EventKind::Access(access), &["a.txt"]).is_empty());
        }
        assert_eq!(
            translate(EventKind::Modify(ModifyKind::Any), &["a.txt", ".a.txt.swp"]),
            [WatchEvent::Changed("a.txt".into())]
        );
        // rsync: the finished temporary file renamed over the article.
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &[".a.txt.Xy12", "a.txt"]
            ),
            [WatchEvent::Finished("a.txt".into())]
        );
        assert_eq!(
            translate(EventKind::Create(CreateKind::Folder), &["sub"]),
            [WatchEvent::Tree("sub".into())]
        );
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                &["sub"]
            ),
            [WatchEvent::Tree("sub".into())]
        );
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                &["gone"]
            ),
            [WatchEvent::Tree("gone".into())]
        );
        // A media file is watched as an article is: its change has the articles that
        // reference it read again.
        assert_eq!(
            translate(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &["sub/photo.jpg"]
            ),
            [WatchEvent::Finished("sub/photo.jpg".into())]
        );
        assert_eq!(
            translate(EventKind::Remove(RemoveKind::File), &["episode.mp3"]),
            [WatchEvent::Changed("episode.mp3".into())]
        );
        assert_eq!(
            translate(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &[".photo.jpg.Xy12", "photo.jpg"]
            ),
            [WatchEvent::Finished("photo.jpg".into())]
        );
        // An event of no kind and no path, without the rescan flag, says nothing.
        assert!(translate(EventKind::Other, &[]).is_empty());
        let overflow = notify::Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(matches!(
            folder.translate(Ok(overflow)).as_slice(),
            [WatchEvent::Rescan(_)]
        ));
    }
}
