//! What the daemon reports of itself: the counts and lists `/status`, `/metrics` and
//! systemd's `STATUS=` show, made by the publisher after every batch and sent to the HTTP
//! workers through a watch channel. Also what only the scans know: names that are not
//! UTF-8 (rejects the store cannot hold), and files that are not articles.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use crate::model::{BAD_NAME_REASON, DuplicateFile, FileNote, RejectedFile};
use crate::store::{ApplyOutcome, Store, StoreError};

/// The state of ingest at one snapshot, for `/status` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// Entries in the feeds now.
    pub entries: u64,
    pub files: FileCounts,
    /// Files set aside, oldest first (at most [`Status::MAX_REJECTS`]; `files.rejected`
    /// has the count).
    pub rejects: Vec<RejectedFile>,
    /// Files not published because another file has the same content, oldest first (at
    /// most [`Status::MAX_REJECTS`]; `files.duplicates` has the count).
    pub duplicates: Vec<DuplicateFile>,
    /// Articles held back: scheduled ones, soonest due first, then drafts (at most
    /// [`Status::MAX_REJECTS`]; `files.held` has the count).
    pub held: Vec<FileNote>,
    /// Published articles whose last read ignored something, such as unknown front
    /// matter keys, by path (at most [`Status::MAX_REJECTS`]).
    pub warnings: Vec<FileNote>,
    /// Files in the seeds folder that are not articles (`notes.md`), by path, as the last
    /// full scan found them (at most [`Status::MAX_REJECTS`]; `files.not_articles` has
    /// the count).
    pub not_articles: Vec<NotArticle>,
    /// When the last batch of file changes was stored.
    pub last_ingest: Option<DateTime<Utc>>,
    /// When this snapshot was rendered.
    pub rendered_at: DateTime<Utc>,
    /// Changes since the daemon started.
    pub totals: IngestTotals,
    /// How long each publication (render and compression) took, in seconds.
    pub render_seconds: Histogram,
    /// The RFC 5005 archive pages stored, and those filled and not yet stored.
    pub archives: ArchiveProgress,
    /// The bulk of files being stored (a cold start, a big copy), while one is.
    pub ingest: Option<IngestProgress>,
}

impl Status {
    pub const MAX_REJECTS: usize = 1000;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    pub published: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Articles held back: drafts, and articles dated in the future.
    pub held: u64,
    /// Files that are not articles, which are not read.
    pub not_articles: u64,
}

/// A file in the seeds folder that is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotArticle {
    pub path: String,
    pub reason: String,
}

/// Archive pages: `frozen` are stored as served; `waiting` have filled and are frozen
/// when the ingest driver has nothing else to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ArchiveProgress {
    pub frozen: u64,
    pub waiting: u64,
}

/// A bulk of files being stored: `done` of `total` are, and are counted in `entries`
/// once published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestProgress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestTotals {
    pub published: u64,
    pub updated: u64,
    pub removed: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Media files seen to appear, change or go (once settled).
    pub media_changed: u64,
    /// Article files read again because a media file they reference changed.
    pub media_rereads: u64,
}

/// A cumulative histogram with fixed bucket bounds, as Prometheus wants one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Upper bounds (seconds) and how many observations were at or below each.
    pub buckets: Vec<(f64, u64)>,
    pub sum: f64,
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        const BOUNDS: [f64; 11] = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        Self {
            buckets: BOUNDS.iter().map(|b| (*b, 0)).collect(),
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    pub fn observe(&mut self, value: f64) {
        for (bound, count) in &mut self.buckets {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }
}

/// Keeps the [`Status`] and sends each new one; owned by the publisher.
pub struct Reporter {
    status: Status,
    sender: watch::Sender<Arc<Status>>,
    /// Files and folders in the seeds folder whose names are not UTF-8, shown with
    /// U+FFFD, and since when they have been seen: rejects the store cannot hold.
    bad_names: BTreeMap<String, DateTime<Utc>>,
    /// Files that are not articles, and why, as the last full scan found them.
    not_articles: BTreeMap<String, &'static str>,
}

impl Reporter {
    pub fn new(sender: watch::Sender<Arc<Status>>) -> Self {
        Self {
            status: Status::default(),
            sender,
            bad_names: BTreeMap::new(),
            not_articles: BTreeMap::new(),
        }
    }

    /// The files a full scan found that are not articles, and why: the list is replaced,
    /// and each new one logged once (a file kept there on purpose is not logged at every
    /// scan).
    pub fn set_not_articles(&mut self, files: &[(String, &'static str)]) {
        let mut found = BTreeMap::new();
        for (path, reason) in files {
            if !self.not_articles.contains_key(path) {
                tracing::info!(path = %path, reason, "file not read");
            }
            found.insert(path.clone(), *reason);
        }
        self.not_articles = found;
    }

    /// The names a full scan found that are not UTF-8: the list is replaced (keeping
    /// since when each was first seen), and each new one logged once.
    pub fn set_bad_names(&mut self, names: &[String]) {
        let mut kept = BTreeMap::new();
        for name in names {
            let since = match self.bad_names.remove(name) {
                Some(since) => since,
                None => {
                    tracing::warn!(path = %name, reason = BAD_NAME_REASON, "file rejected");
                    Utc::now()
                }
            };
            kept.insert(name.clone(), since);
        }
        self.bad_names = kept;
    }

    /// A name that is not UTF-8 appeared or went; returns whether the list changed.
    pub fn bad_name(&mut self, name: String, exists: bool) -> bool {
        if !exists {
            return self.bad_names.remove(&name).is_some();
        }
        if self.bad_names.contains_key(&name) {
            return false;
        }
        tracing::warn!(path = %name, reason = BAD_NAME_REASON, "file rejected");
        self.bad_names.insert(name, Utc::now());
        true
    }

    /// Counts a batch of changes; the caller sends the new status.
    pub fn count(&mut self, outcome: &ApplyOutcome) {
        let totals = &mut self.status.totals;
        totals.published += outcome.published.len() as u64;
        totals.updated += outcome.updated.len() as u64;
        totals.removed += outcome.removed.len() as u64;
        totals.duplicates += outcome.duplicates.len() as u64;
        totals.rejected += outcome.rejected as u64;
        self.status.last_ingest = Some(Utc::now());
    }

    /// Counts media files that settled and the article files they have read again; the
    /// caller sends the new status.
    pub fn media_changed(&mut self, media: usize, rereads: usize) {
        self.status.totals.media_changed += media as u64;
        self.status.totals.media_rereads += rereads as u64;
    }

    /// Notes how far the archive pages are; returns whether that changed (the caller
    /// sends the new status).
    pub fn archives(&mut self, progress: ArchiveProgress) -> bool {
        std::mem::replace(&mut self.status.archives, progress) != progress
    }

    /// Notes how far the bulk being stored got (`None`: it ended) and sends the status
    /// with it, without reading the store again: a bulk commits several times a second,
    /// and the counts are read when it publishes.
    pub fn ingest_progress(&mut self, progress: Option<IngestProgress>) {
        self.status.ingest = progress;
        self.sender.send_replace(Arc::new(self.status.clone()));
    }

    /// Notes a render that took `elapsed`; the caller sends the new status.
    pub fn rendered(&mut self, elapsed: Duration) {
        self.status.rendered_at = Utc::now();
        self.status.render_seconds.observe(elapsed.as_secs_f64());
    }

    /// Reads the counts and lists from the store and sends the new status.
    pub fn send(&mut self, store: &Store) -> Result<(), StoreError> {
        let counts = store.counts()?;
        self.status.entries = counts.entries;
        self.status.files = FileCounts {
            published: counts.published_files,
            duplicates: counts.duplicates,
            rejected: counts.rejects + self.bad_names.len() as u64,
            held: counts.held,
            not_articles: self.not_articles.len() as u64,
        };
        self.status.not_articles = self
            .not_articles
            .iter()
            .take(Status::MAX_REJECTS)
            .map(|(path, reason)| NotArticle {
                path: path.clone(),
                reason: (*reason).to_owned(),
            })
            .collect();
        let mut rejects: Vec<RejectedFile> = self
            .bad_names
            .iter()
            .map(|(path, since)| RejectedFile {
                path: path.clone(),
                reason: BAD_NAME_REASON.to_owned(),
                since: *since,
            })
            .collect();
        rejects.extend(store.rejected_files(Status::MAX_REJECTS)?);
        rejects.sort_by(|a, b| (a.since, &a.path).cmp(&(b.since, &b.path)));
        rejects.truncate(Status::MAX_REJECTS);
        self.status.rejects = rejects;
        self.status.duplicates = store.duplicate_files(Status::MAX_REJECTS)?;
        self.status.held = store.held_files(Status::MAX_REJECTS)?;
        self.status.warnings = store.warned_files(Status::MAX_REJECTS)?;
        self.sender.send_replace(Arc::new(self.status.clone()));
        Ok(())
    }
}
