//! Looking at (`stat`) the files a scan lists, on two threads beside the one listing
//! them. A `stat` is most of a scan's time once the store knows the files (a restart),
//! and the listing and the store's comparison of each file are the rest: with the looks
//! on threads of their own, the three overlap instead of taking turns.
//!
//! The listing thread hands over batches of files through a bounded queue, and takes
//! back what was looked at after each batch it hands over, so that a scan of a million
//! files holds a few batches at a time. A scan too small to fill a batch looks at its
//! files itself, with no thread started.

use std::fs::Metadata;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

use super::read::stamp_of;
use super::scan::Listed;
use super::settle::Look;
use crate::model::FileStamp;

/// Files handed over at a time: the queue's lock and the hand-over cost nothing next to
/// a thousand `stat` calls.
pub(super) const BATCH: usize = 1024;

/// Threads that look.
const LOOKERS: usize = 2;

/// Batches waiting in the queue at most: the listing waits when the lookers are this far
/// behind.
const QUEUED: usize = 2 * LOOKERS;

/// A file listed by a scan, not yet looked at, with what the scan's sink noted of it.
pub(super) struct Unlooked<N> {
    pub relative: String,
    pub ino: u64,
    pub article: bool,
    pub note: Option<N>,
    /// Its entry in its folder's listing, which a plain file is looked at through (no
    /// walk of the whole path again); a symlink, followed, is looked at by its path.
    pub dirent: std::fs::DirEntry,
    pub symlink: bool,
}

/// A looked-at file, whether it is an article (else a media file), and the sink's note.
pub(super) struct Looked<N> {
    pub article: bool,
    pub file: Listed,
    pub note: Option<N>,
}

/// The looking threads of one scan, started with its first full batch.
pub(super) struct Lookers<'scope, N> {
    queue: SyncSender<Vec<Unlooked<N>>>,
    looked: Receiver<Vec<Looked<N>>>,
    /// Batches handed over and not taken back.
    out: usize,
    threads: Vec<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope, N: Send + 'scope> Lookers<'scope, N> {
    /// Starts the threads; `None` when not even one can be started (the listing thread
    /// then looks at every file itself).
    pub fn start<'env>(scope: &'scope Scope<'scope, 'env>) -> Option<Self> {
        let (queue, batches) = sync_channel::<Vec<Unlooked<N>>>(QUEUED);
        let batches = Arc::new(Mutex::new(batches));
        let (done, looked) = channel();
        let threads: Vec<_> = (0..LOOKERS)
            .map_while(|_| {
                let (batches, done) = (Arc::clone(&batches), done.clone());
                std::thread::Builder::new()
                    .name("seedfeed-scan".into())
                    .spawn_scoped(scope, move || look_at_batches(&batches, &done))
                    .ok()
            })
            .collect();
        if threads.is_empty() {
            return None;
        }
        Some(Self {
            queue,
            looked,
            out: 0,
            threads,
        })
    }

    /// Hands `batch` over, and returns what has been looked at so far. Waits while the
    /// queue is full.
    pub fn hand_over(&mut self, batch: Vec<Unlooked<N>>) -> Vec<Looked<N>> {
        match self.queue.send(batch) {
            Ok(()) => self.out += 1,
            // Every looker is gone: one panicked, which the scope passes on when it
            // ends. The batch is looked at here meanwhile, not lost.
            Err(unsent) => return look_at_all(unsent.0),
        }
        let mut looked = Vec::new();
        while let Ok(batch) = self.looked.try_recv() {
            self.out -= 1;
            looked.extend(batch);
        }
        looked
    }

    /// Waits for every batch handed over, and returns what has not been returned yet.
    pub fn finish(self) -> Vec<Looked<N>> {
        let Self {
            queue,
            looked,
            out,
            threads,
        } = self;
        drop(queue);
        let mut rest = Vec::new();
        for _ in 0..out {
            match looked.recv() {
                Ok(batch) => rest.extend(batch),
                // A looker panicked: the scope passes it on.
                Err(_) => break,
            }
        }
        for thread in threads {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        rest
    }
}

fn look_at_batches<N>(batches: &Mutex<Receiver<Vec<Unlooked<N>>>>, done: &Sender<Vec<Looked<N>>>) {
    loop {
        // The lock is held only to take one batch; a poisoned one means another looker
        // panicked, and the scope passes that on.
        let batch = match batches.lock() {
            Ok(batches) => batches.recv(),
            Err(_) => return,
        };
        let Ok(batch) = batch else {
            return;
        };
        if done.send(look_at_all(batch)).is_err() {
            return;
        }
    }
}

/// Each file with its `stat`, in the order given; a symlink to a folder is dropped.
pub(super) fn look_at_all<N>(unlooked: Vec<Unlooked<N>>) -> Vec<Looked<N>> {
    unlooked.into_iter().filter_map(look_at).collect()
}

/// One listed file with its `stat`; `None` for a symlink to a folder, which is not
/// followed and is no article either.
fn look_at<N>(file: Unlooked<N>) -> Option<Looked<N>> {
    let meta = match file.symlink {
        false => file.dirent.metadata().ok(),
        true => stat(&file.dirent.path()),
    };
    let listed = match meta {
        Some(meta) if meta.is_dir() => return None,
        Some(meta) => Listed {
            path: file.relative,
            stamp: stamp_of(&meta),
            look: Some(Look::of(&meta)),
            looked: true,
            ino: file.ino,
        },
        // Vanished since the listing, or a dangling symlink: reported when read.
        None => Listed {
            path: file.relative,
            stamp: FileStamp::UNKNOWN,
            look: None,
            looked: true,
            ino: file.ino,
        },
    };
    Some(Looked {
        article: file.article,
        file: listed,
        note: file.note,
    })
}

/// Metadata of the file a path names, following a symlink when it can.
pub(super) fn stat(path: &Path) -> Option<Metadata> {
    std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()
}
