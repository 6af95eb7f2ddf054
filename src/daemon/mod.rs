//! Start-up, signals and shutdown: the only place that spawns tasks and threads.
//!
//! Order of start-up: open the seeds folder and bind the listener (so mistakes in either
//! fail fast), open the store and serve what it holds, start watching, then scan the
//! folder; the feeds fill in as the scan goes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio::sync::{oneshot, watch};
use url::Url;

use crate::config::{Config, base_str, base_url_for};
use crate::http::{AppState, Workers};
use crate::ingest::{ArticleReader, Ingest, IngestMsg, IngestSettings, Publisher, error_chain};
use crate::model::Status;
use crate::normalize::id_namespace;
use crate::pages::Pages;
use crate::render::{Renderer, Site, Snapshot};
use crate::store::Store;
use crate::watch::{FolderWatcher, SeedFolder};

/// A running daemon: its address, and the handles that stop it.
pub struct Running {
    addr: SocketAddr,
    base_url: Url,
    workers: Workers,
    inbox: mpsc::Sender<IngestMsg>,
    ingest: std::thread::JoinHandle<()>,
    first_scan: Option<oneshot::Receiver<()>>,
    _watcher: Option<Arc<FolderWatcher>>,
}

/// Runs the daemon until SIGINT or SIGTERM. SIGHUP rescans the seeds folder.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Handlers first: a signal that arrives while start-up is still going (a stop right
    // after a start) is kept and acted on once it is done, instead of killing the process.
    let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut hangup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let running = start(&config).await?;
    tracing::info!(addr = %running.addr, base_url = %running.base_url, seeds = %config.seeds.display(), "listening");
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: rescanning the seeds folder");
                running.rescan("SIGHUP");
            }
        }
    }
    tracing::info!("shutting down");
    running.shutdown().await
}

fn signal(kind: tokio::signal::unix::SignalKind) -> anyhow::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).context("installing a signal handler")
}

/// Starts every part and returns once the listener is bound and the stored entries are
/// being served. The first scan goes on in the background; see [`Running::first_scan`].
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    let listeners = crate::http::bind(config.listen, config.workers)
        .with_context(|| format!("cannot listen on {} (config key `listen`)", config.listen))?;
    let addr = listeners
        .first()
        .map(std::net::TcpListener::local_addr)
        .transpose()
        .context("reading the bound address")?
        .unwrap_or(config.listen);
    let base_url = config
        .base_url
        .clone()
        .unwrap_or_else(|| base_url_for(addr));
    let (site, settings) = pipeline(config, &folder, &base_url);

    let (snapshots_tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
    let (status_tx, status) = watch::channel(Arc::new(Status::default()));
    let (inbox, inbox_rx) = mpsc::channel();
    let watcher = start_watcher(&folder, inbox.clone(), config.rescan_interval).map(Arc::new);
    let ingest_watcher = watcher.clone();
    let (started_tx, started) = oneshot::channel();
    let (first_scan_tx, first_scan) = oneshot::channel();
    let data = config.data.clone();
    let tombstone_days = config.tombstone_days;
    let pages = Arc::new(Pages::new(site.clone(), config.data.clone()));
    let publisher_pages = Arc::clone(&pages);
    let ingest = std::thread::Builder::new()
        .name("seedfeed-ingest".into())
        .spawn(move || {
            let store = match Store::open(&data) {
                Ok(store) => store,
                Err(e) => {
                    let _ = started_tx.send(Err(anyhow!(e).context(format!(
                        "opening the database in {} (config key `data`)",
                        data.display()
                    ))));
                    return;
                }
            };
            let publisher = Publisher::new(
                Renderer::new(site),
                snapshots_tx,
                status_tx,
                tombstone_days,
                publisher_pages,
            );
            let mut ingest = Ingest::new(settings, store, publisher, ingest_watcher);
            if let Err(e) = ingest.render_all() {
                let _ = started_tx.send(Err(anyhow!(e).context("rendering the stored entries")));
                return;
            }
            let _ = started_tx.send(Ok(()));
            if let Err(error) = ingest
                .reconcile("start-up")
                .and_then(|()| ingest.settle_all())
            {
                tracing::error!(error = %error_chain(&error), "first scan failed; the next rescan retries");
            }
            tracing::info!("first scan done");
            let _ = first_scan_tx.send(());
            ingest.run(inbox_rx);
        })
        .context("starting the ingest thread")?;
    started
        .await
        .map_err(|_| anyhow!("the ingest thread stopped during start-up"))??;

    let mut state = AppState::new(snapshots, pages, status, config.cache_max_age);
    state.max_url_bytes = config.max_url_bytes;
    state.access_log = config.access_log;
    let metrics = Arc::clone(&state.metrics);
    let app = Arc::new(state);
    let workers = crate::http::start(listeners, app, config.limits, metrics)
        .context("starting the HTTP workers")?;
    Ok(Running {
        addr,
        base_url,
        workers,
        inbox,
        ingest,
        first_scan: Some(first_scan),
        _watcher: watcher,
    })
}

/// What the renderer says about the site and how the folder is read, from the config.
fn pipeline(config: &Config, folder: &SeedFolder, base_url: &Url) -> (Site, IngestSettings) {
    let namespace = id_namespace(&config.id_namespace);
    let site = Site {
        base: base_str(base_url).to_owned(),
        title: config.feed.title.clone(),
        description: config.feed.description.clone(),
        author: config.feed.author.clone(),
        language: config.feed.language.clone(),
        id_namespace: namespace,
        feed_size: config.feed_size,
    };
    let settings = IngestSettings {
        reader: ArticleReader {
            folder: folder.clone(),
            max_file_bytes: config.max_file_bytes,
            namespace,
        },
        settle: config.settle,
        rescan_interval: config.rescan_interval,
    };
    (site, settings)
}

/// Ingests the seeds folder once, on this thread, and returns every document the daemon
/// would serve (the feeds, and the entry and archive pages): for `seedfeed render`. The database is the daemon's, brought up to date
/// as a start-up scan would.
pub fn render_once(config: &Config) -> anyhow::Result<(Arc<Snapshot>, Arc<Pages>)> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    let base_url = config
        .base_url
        .clone()
        .unwrap_or_else(|| base_url_for(config.listen));
    let (site, settings) = pipeline(config, &folder, &base_url);
    let store = Store::open(&config.data).with_context(|| {
        format!(
            "opening the database in {} (config key `data`)",
            config.data.display()
        )
    })?;
    let (snapshots_tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
    let (status_tx, _status) = watch::channel(Arc::new(Status::default()));
    let pages = Arc::new(Pages::new(site.clone(), config.data.clone()));
    let publisher = Publisher::new(
        Renderer::new(site),
        snapshots_tx,
        status_tx,
        config.tombstone_days,
        Arc::clone(&pages),
    );
    let mut ingest = Ingest::new(settings, store, publisher, None);
    ingest
        .render_all()
        .context("rendering the stored entries")?;
    ingest
        .reconcile("render")
        .and_then(|()| ingest.settle_all())
        .context("reading the seeds folder")?;
    ingest
        .freeze_archives()
        .context("freezing the archive pages")?;
    let snapshot = Arc::clone(&snapshots.borrow());
    Ok((snapshot, pages))
}

/// Filesystem events, when the platform gives them; periodic rescans cover the rest.
fn start_watcher(
    folder: &SeedFolder,
    inbox: mpsc::Sender<IngestMsg>,
    rescan_interval: Duration,
) -> Option<FolderWatcher> {
    match FolderWatcher::start(folder, move |event| {
        let _ = inbox.send(IngestMsg::Watch(event));
    }) {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(%error, rescan_secs = rescan_interval.as_secs(), "no filesystem events; relying on periodic rescans");
            None
        }
    }
}

impl Running {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Waits until the start-up scan of the seeds folder has been ingested.
    pub async fn first_scan(&mut self) {
        if let Some(done) = self.first_scan.take() {
            let _ = done.await;
        }
    }

    /// Asks the ingest driver to compare the whole folder with the store.
    pub fn rescan(&self, why: &'static str) {
        let _ = self.inbox.send(IngestMsg::Rescan(why));
    }

    /// Stops accepting, lets in-flight requests finish (up to a bound), stops ingest
    /// after its current batch, and closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // Each worker drains for at most shutdown_timeout.
        let workers = self.workers;
        tokio::task::spawn_blocking(move || workers.stop())
            .await
            .context("stopping the HTTP workers")?;
        drop(self._watcher);
        let _ = self.inbox.send(IngestMsg::Shutdown);
        let ingest = self.ingest;
        tokio::task::spawn_blocking(move || ingest.join())
            .await
            .context("joining the ingest thread")?
            .map_err(|_| anyhow!("the ingest thread panicked"))?;
        Ok(())
    }
}
