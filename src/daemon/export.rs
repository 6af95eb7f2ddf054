//! The static export's wiring: `seedfeed render --out` as one full pass
//! ([`export_once`]), and the daemon's exporter thread for `[export] dir`
//! ([`start_export`]), with the seeds folder as the source of the media files. The
//! passes themselves are `publish::export`'s.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::http::MediaFiles;
use crate::logging::error_chain;
use crate::publish::export::{Changes, ExportFolder, Exporter, MediaSource, Work};
use crate::publish::{ExportQueue, Pages};
use crate::watch::SeedFolder;

/// How much lower the exporter's priority is than the daemon's other threads (a nice
/// increment): it must never slow the serving or the ingest down.
#[cfg(target_os = "linux")]
const EXPORT_NICE: i32 = 10;

/// The media files of the seeds folder, listed by a scan and opened as `/media/` opens
/// them (a symlink out of the folder or to another kind of file is refused).
struct FolderMedia(SeedFolder);

impl MediaSource for FolderMedia {
    fn list(&self) -> std::io::Result<Vec<String>> {
        let listing = self.0.scan()?;
        Ok(listing.assets.into_iter().map(|asset| asset.path).collect())
    }

    fn open(&self, relative: &str) -> Option<(std::fs::File, std::fs::Metadata)> {
        match MediaFiles::open(&self.0, relative) {
            Ok(media) => Some((media.file, media.metadata)),
            Err(error) => {
                tracing::warn!(path = relative, %error, "media file not exported");
                None
            }
        }
    }
}

/// `seedfeed render --out`: the seeds folder ingested once, and every document written
/// into `out` as one full pass (only what changed since a previous export there).
pub fn export_once(config: &Config, out: &Path) -> anyhow::Result<Changes> {
    let (snapshot, pages) = super::render_once(config)?;
    let mut exporter = exporter(config, out, pages)?;
    let work = Work {
        snapshot,
        full: true,
        entries: Default::default(),
        media: true,
    };
    exporter
        .pass(&work, &|| false)
        .with_context(|| format!("exporting into {}", out.display()))
}

/// An exporter into `out` (created if missing, its manifest read) of the daemon's pages
/// and database, with the media files of the seeds folder.
fn exporter(config: &Config, out: &Path, pages: Arc<Pages>) -> anyhow::Result<Exporter> {
    let mut folder = ExportFolder::create(out)
        .with_context(|| format!("creating the export folder {}", out.display()))?;
    folder
        .read_manifest()
        .with_context(|| format!("reading the manifest of {}", out.display()))?;
    let seeds = SeedFolder::open(&config.seeds)
        .with_context(|| format!("opening the seeds folder {}", config.seeds.display()))?;
    Exporter::new(
        folder,
        pages,
        &config.data,
        Some(Box::new(FolderMedia(seeds))),
    )
    .with_context(|| format!("opening the database in {}", config.data.display()))
}

/// The daemon's exporter thread, and the queue that feeds it.
pub(super) struct ExportThread {
    pub(super) queue: Arc<ExportQueue>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ExportThread {
    /// Stops the thread (after the document it is writing) and waits for it.
    pub(super) fn stop(mut self) {
        self.queue.stop();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the export thread panicked");
        }
    }
}

impl Drop for ExportThread {
    /// A start that fails after the thread started leaves it nothing to wait for.
    fn drop(&mut self) {
        self.queue.stop();
    }
}

/// Starts the exporter of `[export] dir` when it is set: the folder is created here, so
/// that a folder the daemon cannot write fails the start; its manifest is read on the
/// thread, which then waits for the first snapshot to export.
pub(super) fn start_export(
    config: &Config,
    pages: &Arc<Pages>,
) -> anyhow::Result<Option<ExportThread>> {
    let Some(dir) = &config.export_dir else {
        return Ok(None);
    };
    let context = || {
        format!(
            "the export folder {} (config key `export.dir`)",
            dir.display()
        )
    };
    let folder = ExportFolder::create(dir).with_context(context)?;
    let seeds = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    let queue = Arc::new(ExportQueue::new());
    let (pages, data, dir) = (Arc::clone(pages), config.data.clone(), dir.clone());
    let thread_queue = Arc::clone(&queue);
    let thread = std::thread::Builder::new()
        .name("seedfeed-export".into())
        .spawn(move || {
            lower_priority();
            let mut folder = folder;
            let exporter = folder.read_manifest().and_then(|_| {
                Exporter::new(folder, pages, &data, Some(Box::new(FolderMedia(seeds))))
            });
            match exporter {
                Ok(exporter) => crate::publish::export::run(exporter, &thread_queue),
                Err(error) => {
                    tracing::error!(
                        export = %dir.display(),
                        error = %error_chain(&error),
                        "the export cannot start; the daemon serves without it"
                    );
                    // Nothing gathers for a thread that is gone.
                    thread_queue.stop();
                }
            }
        })
        .context("starting the export thread")?;
    Ok(Some(ExportThread {
        queue,
        thread: Some(thread),
    }))
}

/// Linux keeps a nice value per thread: this one only. Elsewhere nice(2) would lower the
/// whole daemon, so the exporter does not.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::nice(EXPORT_NICE) {
        tracing::debug!(%error, "cannot lower the exporter's priority");
    }
}
