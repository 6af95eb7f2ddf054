//! A bulk of settled paths (a cold start, a big copy): two threads read and parse while
//! the driver's thread writes, as a stream. Handing over whole batches left a core idle
//! at every hand-over, whichever stage finished first waiting for the other.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use super::IngestError;
use super::reader::{ArticleReader, ReadChunk, read_changes};
use super::spool::Spool;

/// Paths a reader takes at a time: small enough that the writer's next batch is never
/// far from ready, large enough that the hand-over costs nothing next to the reading.
const CHUNK: usize = 32;

/// Reader threads. Reading and parsing an article costs about as much CPU as writing
/// it, so two readers and the writer keep two cores busy.
const READERS: usize = 2;

/// Chunks read ahead of the writer at most: enough that the writer never waits for the
/// readers, few enough that the texts waiting stay a few megabytes.
const AHEAD: usize = 32;

/// How much lower the readers' priority is than the writer's (a nice increment). Two
/// readers and the writer share two cores, and the writer, the one stage that cannot be
/// split, waited for a core for much of its time; the readers, far enough ahead, can
/// wait instead. docs/performance.md has the increments tried.
#[cfg(target_os = "linux")]
const READER_NICE: i32 = 15;

/// What a reader hands the writer: a chunk read, with its place in the bulk, or why the
/// spool could not give the next one.
type Handed = Result<(usize, ReadChunk), std::io::Error>;

/// Reads every path of `spool` on reader threads (see [`read_changes`] for `settle`)
/// and passes what was read to `apply` a chunk at a time, in the spool's order, with the
/// number of paths passed so far and whether to commit: once the paths passed since the
/// last commit reach `batch` of the number committed before (rounded up to a chunk), and
/// after the last. Stops at the first error of `apply`, or of the spool.
pub(super) fn read_and_apply(
    reader: &ArticleReader,
    spool: Spool,
    settle: Duration,
    batch: impl Fn(usize) -> usize,
    mut apply: impl FnMut(usize, ReadChunk, bool) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let chunks = spool.len().div_ceil(CHUNK);
    let spool = Mutex::new(spool);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // The readers go on while a batch is written, up to AHEAD chunks.
        let (sender, receiver) = sync_channel(AHEAD);
        let readers = (0..READERS)
            .map(|_| {
                let sender = sender.clone();
                let (spool, stop) = (&spool, &stop);
                std::thread::Builder::new()
                    .name("seedfeed-read".into())
                    .spawn_scoped(scope, move || {
                        // Linux keeps a nice value per thread: this one only. Elsewhere
                        // nice(2) would lower the whole daemon, so the readers do not.
                        #[cfg(target_os = "linux")]
                        if let Err(error) = rustix::process::nice(READER_NICE) {
                            tracing::debug!(%error, "cannot lower a reader's priority");
                        }
                        read_chunks(reader, spool, settle, stop, &sender);
                    })
            })
            .collect::<Result<Vec<_>, _>>();
        let readers = match readers {
            Ok(readers) => readers,
            Err(source) => {
                // Those that started stop at once; the scope waits for them.
                stop.store(true, Ordering::Relaxed);
                return Err(IngestError::Thread { source });
            }
        };
        // Only the readers hold senders now: when they are all gone, so is the stream.
        drop(sender);
        let written = write_in_order(receiver, chunks, batch, &mut apply);
        stop.store(true, Ordering::Relaxed);
        let panicked = readers.into_iter().any(|reader| reader.join().is_err());
        match written {
            Ok(()) if panicked => Err(IngestError::ReaderPanicked),
            result => result,
        }
    })
}

/// One reader: takes the spool's next chunk, reads it and sends it on, until the spool
/// is empty, the writer stops, or the spool fails (which it sends on).
fn read_chunks(
    reader: &ArticleReader,
    spool: &Mutex<Spool>,
    settle: Duration,
    stop: &AtomicBool,
    sender: &SyncSender<Handed>,
) {
    while !stop.load(Ordering::Relaxed) {
        // The lock is held only to take a chunk; a poisoned one means the other reader
        // panicked, which the scope passes on.
        let taken = match spool.lock() {
            Ok(mut spool) => spool.take(CHUNK),
            Err(_) => return,
        };
        let handed = match taken {
            Ok(Some((start, paths))) => {
                Ok((start / CHUNK, read_changes(reader, paths.iter(), settle)))
            }
            Ok(None) => return,
            Err(error) => Err(error),
        };
        let failed = handed.is_err();
        // The writer gave up (an error): nothing more to do.
        if sender.send(handed).is_err() || failed {
            return;
        }
    }
}

/// Takes the readers' chunks as they come and applies them in their order. A stream
/// that ends before every chunk came means a reader died (it panicked).
fn write_in_order(
    receiver: Receiver<Handed>,
    chunks: usize,
    batch: impl Fn(usize) -> usize,
    apply: &mut impl FnMut(usize, ReadChunk, bool) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    // Chunks read ahead of their turn (two readers: at most a few).
    let mut early: BTreeMap<usize, ReadChunk> = BTreeMap::new();
    let mut next = 0;
    let mut done = 0;
    let mut uncommitted = 0;
    while next < chunks {
        let read = receiver.recv().map_err(|_| IngestError::ReaderPanicked)?;
        let (index, chunk) = read.map_err(|source| IngestError::Spool { source })?;
        early.insert(index, chunk);
        while let Some(chunk) = early.remove(&next) {
            next += 1;
            done += chunk.len();
            uncommitted += chunk.len();
            let commit = uncommitted >= batch(done - uncommitted) || next == chunks;
            if commit {
                uncommitted = 0;
            }
            apply(done, chunk, commit)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileChange;
    use crate::watch::{SeedFolder, Settled, SettledPaths};

    /// A copy of `paths` in a spool on disk.
    fn spool(paths: &SettledPaths) -> Spool {
        Spool::on_disk(paths.iter().collect(), tempfile::tempfile())
    }

    fn reader(dir: &std::path::Path) -> ArticleReader {
        ArticleReader {
            folder: SeedFolder::open(dir).unwrap(),
            max_file_bytes: 1 << 20,
            context: crate::normalize::EntryContext::for_tests(),
        }
    }

    fn path_of(change: &FileChange) -> &str {
        match change {
            FileChange::Article { path, .. }
            | FileChange::Rejected { path, .. }
            | FileChange::Held { path, .. }
            | FileChange::Removed { path } => path,
        }
    }

    /// Every path comes out once, in the order given, in batches of the size asked for.
    #[test]
    fn applies_every_path_in_order_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let mut settled = SettledPaths::new();
        for i in 0..1000 {
            let name = format!("{i:04}.txt");
            if i % 7 == 0 {
                // Gone before it was read, and a reject: both come out in their place.
                settled.push(Settled::Absent, &name);
                continue;
            }
            let text = if i % 11 == 0 { "" } else { "Title\n\n\nBody." };
            std::fs::write(dir.path().join(&name), text).unwrap();
            // Listed without a look, and still for the settle time of zero: read.
            let how = if i % 5 == 0 {
                Settled::Listed
            } else {
                Settled::Present
            };
            settled.push(how, &name);
        }
        let mut seen = Vec::new();
        let mut commits = Vec::new();
        let mut uncommitted = 0;
        read_and_apply(
            &reader(dir.path()),
            spool(&settled),
            Duration::ZERO,
            |committed| committed.clamp(100, 300),
            |done, chunk, commit| {
                assert!(chunk.changing.is_empty());
                seen.extend(chunk.changes.iter().map(|c| path_of(c).to_owned()));
                uncommitted += chunk.len();
                if commit {
                    commits.push((done, uncommitted));
                    uncommitted = 0;
                }
                Ok(())
            },
        )
        .unwrap();
        let expected: Vec<String> = settled.iter().map(|(_, p)| p.to_owned()).collect();
        assert_eq!(seen, expected);
        // Each commit but the last holds at least `batch` of the changes committed before
        // it, and at most one chunk more: 128, then 128 (at least 100), 256, then 320
        // (at least 300) until the end.
        let sizes: Vec<usize> = commits.iter().map(|&(_, len)| len).collect();
        assert_eq!(sizes, [128, 128, 256, 320, 168]);
        assert_eq!(commits.last(), Some(&(1000, 168)));
    }

    /// The nice value in a `/proc/.../stat` line (the 19th field).
    #[cfg(target_os = "linux")]
    fn nice_of(stat: &str) -> i64 {
        // The name, in parentheses, may hold spaces: the fields after it are counted.
        let rest = stat.rsplit_once(')').unwrap().1;
        rest.split_whitespace().nth(16).unwrap().parse().unwrap()
    }

    /// The readers run at a lower priority than the thread that writes.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_readers_yield_to_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mut settled = SettledPaths::new();
        // More chunks than the readers may read ahead: they are still there while the
        // first chunks are written.
        for i in 0..(AHEAD + 8) * CHUNK {
            let name = format!("{i:05}.txt");
            std::fs::write(dir.path().join(&name), "Title\n\n\nBody.").unwrap();
            settled.push(Settled::Present, &name);
        }
        let writer = nice_of(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
        // Each reader thread seen while chunks are written, and its nice value.
        let mut readers = std::collections::BTreeMap::new();
        read_and_apply(
            &reader(dir.path()),
            spool(&settled),
            Duration::ZERO,
            |_| 100,
            |_, _, _| {
                for task in std::fs::read_dir("/proc/self/task").unwrap() {
                    let task = task.unwrap().path();
                    let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
                    if name.trim() == "seedfeed-read"
                        && let Ok(stat) = std::fs::read_to_string(task.join("stat"))
                    {
                        readers.insert(task, nice_of(&stat));
                    }
                }
                Ok(())
            },
        )
        .unwrap();
        // (Other tests' readers may be seen too: they run in this process.)
        assert!(
            !readers.is_empty(),
            "no reader seen while chunks were written"
        );
        let expected = (writer + i64::from(READER_NICE)).min(19);
        assert!(
            readers.values().all(|&nice| nice == expected),
            "{readers:?}, writer {writer}"
        );
    }

    /// An error of the writer stops the readers and comes back as it was.
    #[test]
    fn stops_at_the_first_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut settled = SettledPaths::new();
        for i in 0..5000 {
            settled.push(Settled::Absent, &format!("{i}.txt"));
        }
        let mut calls = 0;
        let result = read_and_apply(
            &reader(dir.path()),
            spool(&settled),
            Duration::ZERO,
            |_| 100,
            |_, _, _| {
                calls += 1;
                Err(IngestError::Scan {
                    path: "here".into(),
                    source: std::io::Error::other("full"),
                })
            },
        );
        assert!(matches!(result, Err(IngestError::Scan { .. })));
        assert_eq!(calls, 1);
    }

    /// A spool that cannot give its paths back (its file cut short) stops the bulk with
    /// an error that says so, after the chunks it did give.
    #[test]
    fn a_spool_that_cannot_be_read_back_stops_the_bulk() {
        let dir = tempfile::tempdir().unwrap();
        let mut settled = SettledPaths::new();
        for i in 0..1000 {
            settled.push(Settled::Absent, &format!("{i:04}.txt"));
        }
        let file = tempfile::tempfile().unwrap();
        let same = file.try_clone().unwrap();
        let spool = Spool::on_disk(settled, Ok(file));
        // Two whole records of 13 bytes each, and part of a third.
        same.set_len(2 * 13 + 5).unwrap();
        let mut applied = 0;
        let result = read_and_apply(
            &reader(dir.path()),
            spool,
            Duration::ZERO,
            |_| 100,
            |_, chunk, _| {
                applied += chunk.len();
                Ok(())
            },
        );
        assert!(
            matches!(result, Err(IngestError::Spool { .. })),
            "{result:?}"
        );
        assert_eq!(
            applied, 0,
            "the first chunk is 32 paths: none of it is whole"
        );
    }

    /// A file listed without a look that changed within the settle time is not read: it
    /// comes back to settle again. One listed long enough ago is read as usual.
    #[test]
    fn a_listed_file_that_is_still_changing_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut settled = SettledPaths::new();
        for i in 0..600 {
            let name = format!("{i:04}.txt");
            std::fs::write(dir.path().join(&name), "Title\n\n\nBody.").unwrap();
            settled.push(Settled::Listed, &name);
        }
        let run = |settle| {
            let (mut changes, mut changing) = (0, Vec::new());
            read_and_apply(
                &reader(dir.path()),
                spool(&settled),
                settle,
                |_| 100,
                |_, chunk, _| {
                    changes += chunk.changes.len();
                    changing.extend(chunk.changing);
                    Ok(())
                },
            )
            .unwrap();
            (changes, changing)
        };
        let (changes, changing) = run(Duration::from_secs(3600));
        assert_eq!(changes, 0);
        assert_eq!(changing.len(), 600);
        assert_eq!(changing[599], "0599.txt", "in their order");
        assert_eq!(run(Duration::ZERO), (600, Vec::new()));
    }
}
