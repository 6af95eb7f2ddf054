//! Start-up, signals and shutdown: the only place that spawns tasks and threads, and that
//! talks to systemd.
//!
//! Order of start-up: open the seeds folder and bind the listener (or take the one
//! systemd passed), so mistakes in either fail fast; open the store and serve what it
//! holds, start watching, then scan the folder; the feeds fill in as the scan goes. Once
//! the scan is done, systemd is told the service is ready.

pub mod systemd;
mod watchdog;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio::sync::{oneshot, watch};
use url::Url;

use crate::config::{Config, base_str, base_url_for};
use crate::http::{AppState, Workers};
use crate::ingest::{
    ArticleReader, Heartbeat, Ingest, IngestMsg, IngestSettings, Publisher, error_chain,
};
use crate::model::Status;
use crate::normalize::id_namespace;
use crate::pages::Pages;
use crate::render::{Renderer, Site, Snapshot};
use crate::store::Store;
use crate::watch::{FolderWatcher, SeedFolder};
use crate::websub::WebSub;

use systemd::{Notifier, State};

/// A running daemon: its address, and the handles that stop it.
pub struct Running {
    addr: SocketAddr,
    base_url: Url,
    workers: Workers,
    inbox: mpsc::Sender<IngestMsg>,
    ingest: std::thread::JoinHandle<()>,
    heartbeat: Heartbeat,
    first_scan: Option<oneshot::Receiver<()>>,
    status: watch::Receiver<Arc<Status>>,
    websub: Option<WebSub>,
    _watcher: Option<Arc<FolderWatcher>>,
}

/// What the daemon gets from its command beside the configuration.
pub struct Service {
    /// A listening socket passed by systemd (socket activation): served instead of
    /// binding `listen`.
    pub listener: Option<std::net::TcpListener>,
    /// Reads the configuration again (the same file, environment and flags), on SIGHUP.
    pub reload: Box<LoadConfig>,
    /// Applies a new `log_level`.
    pub set_log_level: Box<SetLogLevel>,
}

pub type LoadConfig = dyn Fn() -> anyhow::Result<Config> + Send;
pub type SetLogLevel = dyn Fn(&str) -> anyhow::Result<()> + Send;

/// How often `STATUS=` may be sent while the counts move (a bulk copy changes them every
/// batch).
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// Runs the daemon until SIGINT or SIGTERM. SIGHUP reloads the configuration and rescans
/// the seeds folder. systemd hears of each step (`READY=1`, `RELOADING=1`, `STOPPING=1`,
/// `STATUS=`, `WATCHDOG=1`) when it asked to (`NOTIFY_SOCKET`, `WATCHDOG_USEC`).
pub async fn run(config: Config, service: Service) -> anyhow::Result<()> {
    // Handlers first: a signal that arrives while start-up is still going (a stop right
    // after a start) is kept and acted on once it is done, instead of killing the process.
    let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut hangup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let notifier = Arc::new(Notifier::from_env());
    notifier.notify(&[State::Status("starting: scanning the seeds folder")]);
    let Service {
        listener,
        reload,
        set_log_level,
    } = service;
    let mut running = start_on(&config, listener).await?;
    tracing::info!(addr = %running.addr, base_url = %running.base_url, seeds = %config.seeds.display(), "listening");
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(period) = systemd::watchdog_period() {
        tracing::info!(
            keep_alive_ms = period.as_millis() as u64,
            "systemd watchdog on"
        );
        tasks.spawn(watchdog::keep_alive(
            Arc::clone(&notifier),
            period,
            running.probes(),
        ));
    }
    let mut first_scan = running.first_scan.take();
    let mut config = config;
    let mut failed = None;
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            // Collects the tasks that are done (a reload's), so that none is kept.
            Some(_) = tasks.join_next() => {}
            scanned = wait_for(&mut first_scan) => {
                first_scan = None;
                if !scanned {
                    failed = Some(anyhow!("the ingest thread stopped during the first scan"));
                    break;
                }
                // Every seed is in the feeds now: a reader that subscribes as soon as
                // `systemctl start` returns sees them all.
                let text = systemd::status_text(&running.status.borrow());
                notifier.notify(&[State::Ready, State::Status(&text)]);
                tracing::info!("ready");
                tasks.spawn(report_status(Arc::clone(&notifier), running.status.clone()));
            }
            _ = hangup.recv() => {
                let ready = first_scan.is_none();
                if ready {
                    notifier.notify(&[State::Reloading]);
                }
                config = reload_config(&running, config, &*reload, &*set_log_level);
                running.rescan("SIGHUP");
                // The driver handles its messages in order: once it answers, the new
                // settings are rendered and the folder compared with the store.
                let caught_up = running.ping();
                let notifier = Arc::clone(&notifier);
                let status = running.status.clone();
                tasks.spawn(async move {
                    let _ = caught_up.await;
                    if ready {
                        let text = systemd::status_text(&status.borrow());
                        notifier.notify(&[State::Ready, State::Status(&text)]);
                    }
                    tracing::info!("reload done");
                });
            }
        }
    }
    notifier.notify(&[
        State::Stopping,
        State::Status("stopping: finishing the requests in flight"),
    ]);
    tracing::info!("shutting down");
    tasks.abort_all();
    running.shutdown().await?;
    failed.map_or(Ok(()), Err)
}

/// Resolves when the first scan is done (false: the ingest thread is gone); never, once
/// it has been seen.
async fn wait_for(first_scan: &mut Option<oneshot::Receiver<()>>) -> bool {
    match first_scan {
        Some(done) => done.await.is_ok(),
        None => std::future::pending().await,
    }
}

/// SIGHUP: reads the configuration again and applies what can change live; returns the
/// configuration now in force. An invalid file changes nothing.
fn reload_config(
    running: &Running,
    config: Config,
    reload: &LoadConfig,
    set_log_level: &SetLogLevel,
) -> Config {
    let reloaded = match reload() {
        Ok(reloaded) => reloaded,
        Err(error) => {
            tracing::error!(error = %one_line(&format!("{error:#}")), "SIGHUP: configuration not reloaded; keeping the running one");
            return config;
        }
    };
    let changes = crate::config::reload::compare(&config, &reloaded);
    for key in &changes.need_restart {
        tracing::warn!(
            key,
            "SIGHUP: this setting changed but takes effect only after a restart"
        );
    }
    if changes.live.contains(&"log_level") {
        if let Err(error) = set_log_level(&reloaded.log_level) {
            tracing::error!(error = %one_line(&format!("{error:#}")), "SIGHUP: log_level not changed");
        }
    }
    let now = crate::config::reload::in_force(&config, &reloaded);
    if changes.live.iter().any(|key| *key != "log_level") {
        running.set_site(site(&now, &running.base_url));
    }
    tracing::info!(changed = ?changes.live, "SIGHUP: configuration reloaded; rescanning the seeds folder");
    now
}

/// A message on one line (a TOML error quotes the line at fault below it), so that the
/// log stays one line per event.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sends `STATUS=` as the counts change, at most every [`STATUS_EVERY`].
async fn report_status(notifier: Arc<Notifier>, mut status: watch::Receiver<Arc<Status>>) {
    status.mark_unchanged();
    while status.changed().await.is_ok() {
        let text = systemd::status_text(&status.borrow_and_update());
        notifier.notify(&[State::Status(&text)]);
        tokio::time::sleep(STATUS_EVERY).await;
    }
}

fn signal(kind: tokio::signal::unix::SignalKind) -> anyhow::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).context("installing a signal handler")
}

/// Starts every part and returns once the listener is bound and the stored entries are
/// being served. The first scan goes on in the background; see [`Running::first_scan`].
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    start_on(config, None).await
}

/// [`start`], serving on `listener` when one is given instead of binding `listen`.
pub async fn start_on(
    config: &Config,
    listener: Option<std::net::TcpListener>,
) -> anyhow::Result<Running> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    let listeners = match listener {
        Some(listener) => {
            tracing::info!(
                "serving on the socket passed by systemd; config key `listen` is not used"
            );
            crate::http::share(listener, config.workers)
                .context("sharing the socket passed by systemd")?
        }
        None => crate::http::bind(config.listen, config.workers)
            .with_context(|| format!("cannot listen on {} (config key `listen`)", config.listen))?,
    };
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
    let site = site(config, &base_url);
    let settings = settings(config, &folder);
    let heartbeat = settings.heartbeat.clone();

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

    // After the stored entries are rendered: the first snapshot it compares with the
    // versions last announced is the state before this start's scan.
    let websub = crate::websub::start(
        &config.websub,
        base_str(&base_url),
        &config.data,
        snapshots.clone(),
    )?;
    let mut state = AppState::new(snapshots, pages, status.clone(), config.cache_max_age);
    state.max_url_bytes = config.max_url_bytes;
    state.access_log = config.access_log;
    state.hub = websub.as_ref().and_then(WebSub::hub);
    state.websub = websub.as_ref().map(WebSub::counters);
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
        heartbeat,
        first_scan: Some(first_scan),
        status,
        websub,
        _watcher: watcher,
    })
}

/// What the renderer says about the site, from the config.
fn site(config: &Config, base_url: &Url) -> Site {
    Site {
        base: base_str(base_url).to_owned(),
        title: config.feed.title.clone(),
        description: config.feed.description.clone(),
        author: config.feed.author.clone(),
        language: config.feed.language.clone(),
        id_namespace: id_namespace(&config.id_namespace),
        feed_size: config.feed_size,
        hubs: crate::websub::hub_urls(&config.websub, base_str(base_url)),
    }
}

/// How the folder is read, from the config.
fn settings(config: &Config, folder: &SeedFolder) -> IngestSettings {
    IngestSettings {
        reader: ArticleReader {
            folder: folder.clone(),
            max_file_bytes: config.max_file_bytes,
            namespace: id_namespace(&config.id_namespace),
        },
        settle: config.settle,
        rescan_interval: config.rescan_interval,
        heartbeat: Heartbeat::default(),
    }
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
    let site = site(config, &base_url);
    let settings = settings(config, &folder);
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
    ingest.compress_all();
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

    /// Asks the ingest driver to render every feed and page with new site settings.
    pub fn set_site(&self, site: Site) {
        let _ = self.inbox.send(IngestMsg::Reload(Box::new(site)));
    }

    /// Resolves once the ingest driver has handled every message sent before (or has
    /// stopped).
    pub fn ping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let _ = self.inbox.send(IngestMsg::Ping(reply));
        async move {
            let _ = answer.await;
        }
    }

    /// What the watchdog checks: each HTTP worker's event loop and the ingest driver.
    fn probes(&self) -> watchdog::Probes {
        watchdog::Probes {
            http: self.workers.runtimes(),
            ingest: self.inbox.clone(),
            heartbeat: self.heartbeat.clone(),
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to a bound), stops ingest
    /// after its current batch, and closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // Each worker drains for at most shutdown_timeout.
        let workers = self.workers;
        tokio::task::spawn_blocking(move || workers.stop())
            .await
            .context("stopping the HTTP workers")?;
        if let Some(websub) = self.websub {
            websub.stop().await;
        }
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
