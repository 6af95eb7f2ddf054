//! Checkpoints (copying committed pages from the WAL into the database file) on a thread
//! of their own. SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold, so the writer stopped for it, fsyncs included, a large share of the store's
//! time in a bulk ingest (`cargo bench --bench store`). A passive checkpoint runs beside
//! the writer, who goes on appending to the WAL meanwhile.

use std::ffi::c_int;
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

use super::StoreError;

/// WAL bytes after which the thread is asked for a checkpoint.
const CHECKPOINT_BYTES: i64 = 16 * 1024 * 1024;

/// WAL bytes at which the writer checkpoints itself. The thread's checkpoints copy every
/// page, but the WAL starts over only when a commit finds all of it copied, which a
/// writer that never pauses seldom does; this bounds it. By then the thread has copied
/// nearly everything, so the writer's checkpoint is short. A bulk ingest commits up to
/// hundreds of MiB at a time, so the bound is high: the thread must do the copying and
/// wait on the disk, beside the writer; a bound below one commit had the writer
/// checkpoint, and sync the database, after every commit (docs/performance.md compares
/// the thresholds). A bulk ingest may leave this much WAL until the next quiet commit.
const WRITER_CHECKPOINT_BYTES: i64 = 1024 * 1024 * 1024;

/// The WAL file is cut back to this size when it starts over, so that a bulk ingest
/// does not leave a WAL of its longest size behind.
pub(super) const WAL_SIZE_LIMIT: i64 = 32 * 1024 * 1024;

/// The same, while a bulk writer is open (`Store::bulk_writer`): the WAL starts over
/// every few commits of a bulk, and each time it was cut back to [`WAL_SIZE_LIMIT`]
/// only to grow again, its pages freed and allocated anew. Past
/// [`WRITER_CHECKPOINT_BYTES`] the writer checkpoints, so the WAL is seldom longer.
pub(super) const BULK_WAL_SIZE_LIMIT: i64 = 2 * WRITER_CHECKPOINT_BYTES;

pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, with its own connection to `path`, and has `writer` wake it
    /// after each commit that leaves the WAL longer than the threshold.
    pub(super) fn start(path: &Path, writer: &mut Connection) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // A connection finds the database in WAL mode when it first reads it; until then
        // a checkpoint does nothing at all (and says so only by returning -1 frames).
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotWal { mode });
        }
        // One wake-up waiting is enough: a checkpoint copies whatever is there by then.
        let (wake, woken) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("seedfeed-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    if let Err(error) =
                        conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE)
                    {
                        tracing::warn!(%error, "checkpoint failed; the next commit asks again");
                    }
                }
            })
            .map_err(|source| StoreError::Thread { source })?;
        let hook_wake = wake.clone();
        let page_size: i64 = writer.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let pages = |bytes: i64| c_int::try_from(bytes / page_size.max(512)).unwrap_or(c_int::MAX);
        let (thread_pages, writer_pages) =
            (pages(CHECKPOINT_BYTES), pages(WRITER_CHECKPOINT_BYTES));
        writer.wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            if pages >= writer_pages {
                // Never an error out of the hook: the commit is done, and an error here
                // would be reported as the commit's. Busy (the thread is checkpointing)
                // is the usual failure, and the thread's checkpoint does the same work.
                if let Err(error) = wal.checkpoint_v2(CheckpointMode::PASSIVE) {
                    tracing::debug!(%error, "the writer's checkpoint did not run");
                }
            } else if pages >= thread_pages {
                // Either way nothing to do: full means a wake-up is already waiting,
                // disconnected that the store is closing.
                let _ = hook_wake.try_send(());
            }
            Ok(())
        }))?;
        Ok(Self {
            wake: Some(wake),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    /// Stops the thread once the writer's connection (which holds the other sender, in
    /// its hook) is closed; its connection, the last one, then checkpoints what is left.
    fn drop(&mut self) {
        self.wake.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the checkpoint thread panicked");
        }
    }
}
