//! One step of settling: the paths that settled are read, applied to the store in one
//! transaction (or, for a bulk, in a stream of chunks committed in steps that grow from a
//! few thousand files to a few tens of thousands), and
//! what changed is published. A file still being written goes back to settle. A media
//! file that settled is not read: the articles whose last read referenced it are, at
//! the next step, and the content hash of each decides whether its entry changes.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;

use super::order::in_date_order;
use super::reader::{ReadChunk, read_changes};
use super::spool::Spool;
use super::{Ingest, IngestError, bulk};
use crate::logging::error_chain;
use crate::model::EntryKey;
use crate::publish::Publisher;
use crate::store::{ApplyOutcome, FileChange, Store};
use crate::watch::{SeedName, Settled, SettledPaths, path_key, path_name};

/// A batch that changes more entries than this logs them in one line (each at debug).
const BULK_LOG: usize = 20;

/// More settled files than this are a bulk: read on threads, with progress lines.
const BULK: usize = 500;

/// A bulk's first commit comes after this many files (or a quarter of a smaller bulk:
/// a crash loses no more than that), in one transaction that stays open while the
/// readers go on; each later commit holds as many files as all before it, up to
/// [`COMMIT_MOST`]. The first commit comes soon, so that the feeds fill at once.
const COMMIT_FIRST: usize = 4096;

/// The most files a bulk's commit holds. Each commit rewrites every page it touched.
/// A file's row lands in its place by path, and its entry's by key: when the names do
/// not follow the dates, the order the bulk is applied in, a commit touches most pages
/// of those trees however few files it holds, so a bigger commit writes each page once
/// for many more files. It is bounded for memory: the files' rows wait in memory until
/// the commit (`store::file_rows`). docs/performance.md has the figures.
const COMMIT_MOST: usize = 32768;

/// A bulk of the first scan into an empty database publishes its first commit, and then
/// what it stored this often, so that the feeds fill while it runs: a render of the main
/// feeds costs milliseconds against a second of storing.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// The paths of one batch: a few, read at once, or a bulk's, read on threads.
enum Paths {
    Few(SettledPaths),
    Bulk(Spool),
}

/// What storing a batch left to do: the paths to read again (the store's requeue, and
/// those listed without a look that turned out to be still changing).
struct Stored {
    requeue: Vec<String>,
    changing: Vec<String>,
}

impl Ingest {
    /// Reads, stores and publishes every path that has settled.
    pub(super) fn process_settled(&mut self) -> Result<(), IngestError> {
        let settled = self.settler.poll(
            self.settings.reader.folder.root(),
            Instant::now(),
            SystemTime::now(),
        );
        let (settled, media) = self.media_settled(settled)?;
        let settled = self.hold_back_moves(settled);
        let settled = self.in_date_order(settled);
        if settled.is_empty() {
            if media {
                self.publisher.refresh_status(&self.store)?;
            }
            return Ok(());
        }
        let Stored { requeue, changing } = self.store_settled(settled)?;
        let now = Instant::now();
        for path in requeue.into_iter().chain(changing) {
            self.settler.touch(path, now);
        }
        Ok(())
    }

    /// Reads the settled paths, applies what they say, committing as it goes, and
    /// publishes what changed: once, after the last commit, or, during the first scan
    /// into an empty database, also after the first commit and every [`PUBLISH_EVERY`]
    /// on the way. Any other bulk
    /// (a big copy into a live site) publishes only its end: WebSub and the fediverse
    /// hear of the state it leaves, not of every step.
    fn store_settled(&mut self, settled: SettledPaths) -> Result<Stored, IngestError> {
        let total = settled.len();
        let progressive = total > BULK && self.publisher.filling();
        // A bulk's paths wait on disk, in order, while it runs.
        let paths = match total > BULK {
            true => Paths::Bulk(Spool::on_disk(settled, self.store.temp_file())),
            false => Paths::Few(settled),
        };
        let mut stored = Stored {
            requeue: Vec::new(),
            changing: Vec::new(),
        };
        // Committed and not yet published; published in parts, it stays small.
        let mut unpublished = ApplyOutcome::default();
        let mut uncommitted = ApplyOutcome::default();
        let mut published_at: Option<Instant> = None;
        let reader = &self.settings.reader;
        let heartbeat = &self.settings.heartbeat;
        let stop = &self.settings.stop;
        let publisher = &mut self.publisher;
        let mut writer = if total > BULK {
            self.store.bulk_writer(total)?
        } else {
            self.store.writer()
        };
        let mut apply = |done: usize, chunk: ReadChunk, commit: bool| {
            let changes = chunk.changes;
            stored.changing.extend(chunk.changing);
            let part = writer.apply(&changes, Utc::now())?;
            heartbeat.beat();
            log_set_aside(&part, &changes);
            uncommitted.merge(part);
            if commit {
                let store = writer.commit()?;
                publisher.committed();
                log_entries(&uncommitted);
                unpublished.merge(std::mem::take(&mut uncommitted));
                if total > BULK {
                    tracing::info!(done, total, "ingest progress");
                    publisher.ingest_progress(Some((done, total)));
                }
                let due = published_at.is_none_or(|at| at.elapsed() >= PUBLISH_EVERY);
                if progressive && due && done < total {
                    let part = std::mem::take(&mut unpublished);
                    stored.requeue.extend(publish_part(publisher, store, part)?);
                    published_at = Some(Instant::now());
                    tracing::info!(done, total, "published so far");
                }
                if total > BULK && done < total && stop.is_stopped() {
                    tracing::info!(done, total, "bulk stopped for the shutdown");
                    return Err(IngestError::Stopped);
                }
            }
            Ok::<_, IngestError>(())
        };
        let settle = self.settings.settle;
        match paths {
            Paths::Few(paths) => apply(total, read_changes(reader, paths.iter(), settle), true)?,
            Paths::Bulk(spool) => {
                let first = COMMIT_FIRST.min(total.div_ceil(4));
                let most = COMMIT_MOST.min(total.div_ceil(4)).max(first);
                let batch = |committed: usize| committed.clamp(first, most);
                bulk::read_and_apply(reader, spool, settle, batch, apply)?;
            }
        }
        drop(writer);
        if total > BULK {
            self.publisher.ingest_progress(None);
        }
        stored
            .requeue
            .extend(publish_part(&mut self.publisher, &self.store, unpublished)?);
        // After the publication, which does not need it: a bulk may have dropped it. What
        // was stored stands if it cannot be built: the next writer tries again first.
        if let Err(error) = self.store.build_hash_index() {
            tracing::warn!(
                error = %error_chain(&error),
                "index of content hashes not built; the next write tries again"
            );
        }
        Ok(stored)
    }

    /// Takes the media files out of the settled paths: each has the article files whose
    /// last read referenced it start settling (those settled now are read anyway), and
    /// is counted in the status. Returns the other paths, and whether there were any
    /// media files.
    fn media_settled(
        &mut self,
        settled: SettledPaths,
    ) -> Result<(SettledPaths, bool), IngestError> {
        // Taken out in place: a cold start settles a million paths at once, and a copy
        // of them would be tens of megabytes more at the ingest's peak.
        let mut settled = settled;
        let media = settled.extract(|_, path| path_name(path) == SeedName::Asset);
        if media.is_empty() {
            return Ok((settled, false));
        }
        let reading: HashSet<&str> = settled.iter().map(|(_, path)| path).collect();
        let now = Instant::now();
        let mut rereads = 0;
        for (_, path) in media.iter() {
            let files = self.store.files_referencing(path)?;
            if files.is_empty() {
                tracing::debug!(path = %path, "media file changed; no article references it");
                continue;
            }
            tracing::info!(path = %path, articles = files.len(), "media file changed; its articles are read again");
            for file in files {
                if !reading.contains(file.as_str()) {
                    self.settler.touch(file, now);
                    rereads += 1;
                }
            }
        }
        self.publisher.media_changed(media.len(), rereads);
        Ok((settled, true))
    }

    /// The settled paths to apply now, in date order; the rest settle again (see
    /// `order`). Media files still settling hold nothing back: an article read before
    /// one of its files is complete is read again once it is.
    fn in_date_order(&mut self, settled: SettledPaths) -> SettledPaths {
        let root = self.settings.reader.folder.root();
        let clock = (self.settings.settle, SystemTime::now());
        let unsettled = self
            .settler
            .unsettled()
            .filter(|(path, _)| path_name(path) != SeedName::Asset);
        let in_order = in_date_order(root, settled, clock, unsettled);
        let now = Instant::now();
        for path in in_order.waiting {
            self.settler.touch(path, now);
        }
        in_order.ready
    }

    /// A file whose key is still held by a path on its way out (a file or folder renamed
    /// or moved within the seeds folder: the old path settles as gone only after
    /// `settle`, the new one may be ready at once) waits for that path, so that the
    /// key passes from one to the other instead of being refused as a key conflict.
    fn hold_back_moves(&mut self, settled: SettledPaths) -> SettledPaths {
        let leaving: HashSet<EntryKey> = self.settler.missing().filter_map(path_key).collect();
        if leaving.is_empty() {
            return settled;
        }
        let mut ready = settled;
        let held = ready.extract(|how, path| {
            how != Settled::Absent && path_key(path).is_some_and(|k| leaving.contains(&k))
        });
        let now = Instant::now();
        for (_, path) in held.iter() {
            self.settler.touch(path.to_owned(), now);
        }
        ready
    }
}

/// Publishes what committed changes did to the feeds, and counts them in the status;
/// returns the paths the store asks to read again.
fn publish_part(
    publisher: &mut Publisher,
    store: &Store,
    mut outcome: ApplyOutcome,
) -> Result<Vec<String>, IngestError> {
    if outcome.feeds_changed() {
        publisher.publish(store, &outcome)?;
    }
    publisher.record(store, &outcome)?;
    Ok(std::mem::take(&mut outcome.requeue))
}

/// One log line per event, with fields: what entered, changed or left the feeds (once
/// committed). Each version of a file is processed once, so each is logged once. A big
/// batch (a bulk copy, a cold start) logs its entries as one line, and each entry only at
/// debug level: a hundred thousand lines would say less and cost more.
fn log_entries(outcome: &ApplyOutcome) {
    let entries = outcome.published.len() + outcome.updated.len() + outcome.removed.len();
    if entries > BULK_LOG {
        tracing::info!(
            published = outcome.published.len(),
            updated = outcome.updated.len(),
            removed = outcome.removed.len(),
            "entries changed"
        );
    }
    for (what, keys) in [
        ("entry published", &outcome.published),
        ("entry updated", &outcome.updated),
        ("entry removed", &outcome.removed),
    ] {
        for key in keys {
            if entries > BULK_LOG {
                tracing::debug!(key = %key, "{what}");
            } else {
                tracing::info!(key = %key, "{what}");
            }
        }
    }
}

/// One warning per file set aside, and why.
fn log_set_aside(outcome: &ApplyOutcome, changes: &[FileChange]) {
    for (path, original) in &outcome.duplicates {
        tracing::warn!(path = %path, duplicate_of = %original, "duplicate content; not published twice");
    }
    for change in changes {
        if let FileChange::Rejected { path, reason, .. } = change {
            tracing::warn!(path = %path, reason = %reason, "file rejected");
        }
    }
}
