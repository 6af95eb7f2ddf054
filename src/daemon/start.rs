//! Building and starting the parts: the seeds folder, the listeners (public and admin),
//! the publisher and its channels, the ingest thread, WebSub and the HTTP workers. [`Parts`] is built
//! once from the configuration for both the daemon ([`start_on`]) and `seedfeed render`
//! ([`render_once`]), which runs the same ingest once on its own thread.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::mpsc;

use anyhow::{Context, anyhow};
use chrono::Utc;
use tokio::sync::{oneshot, watch};
use url::Url;

use super::export::{ExportThread, start_export};
use super::watchdog;
use crate::activitypub::Fediverse;
use crate::config::{AdminListen, Config, base_str, namespace_host};
use crate::http::{Admin, AdminSocket, AppState, MediaFiles, OpenFiles, Workers};
use crate::ingest::{
    ArticleReader, Heartbeat, Ingest, IngestError, IngestMsg, IngestSettings, StampsLoading,
    StopSignal,
};
use crate::logging::error_chain;
use crate::normalize::{EntryContext, id_namespace};
use crate::publish::{Pages, Publisher, Snapshots, Status, Statuses};
use crate::render::{Renderer, Site, Snapshot};
use crate::store::{Identity, Store, choose_namespace};
use crate::watch::{FolderWatcher, SeedFolder, WatchSettings};
use crate::websub::WebSub;

/// A running daemon: its address, and the handles that stop it.
pub struct Running {
    addr: SocketAddr,
    base_url: Url,
    /// The database's id namespace and creation time, for the site of a reload.
    identity: Identity,
    /// Where `/status` and `/metrics` are served (`Off`: nowhere).
    admin_address: AdminListen,
    workers: Workers,
    admin: Option<Admin>,
    inbox: mpsc::Sender<IngestMsg>,
    ingest: std::thread::JoinHandle<()>,
    heartbeat: Heartbeat,
    /// Tells a bulk under way to stop at its next commit.
    stop: StopSignal,
    pub(super) first_scan: Option<oneshot::Receiver<()>>,
    pub(super) status: Statuses,
    websub: Option<WebSub>,
    fediverse: Option<Arc<Fediverse>>,
    _watcher: Option<Arc<FolderWatcher>>,
    /// The exporter of `[export] dir`, when it is set.
    export: Option<ExportThread>,
}

/// What the pipeline is made of, from the configuration: the ingest driver's settings,
/// the publisher with the senders of the snapshot and status channels, and what the
/// HTTP workers read.
struct Parts {
    settings: IngestSettings,
    publisher: Publisher,
    served: Served,
}

/// What the HTTP workers (and WebSub) read: the ingest thread's snapshots and status,
/// the entry and archive pages, and the media files of the seeds folder.
struct Served {
    pages: Arc<Pages>,
    snapshots: Snapshots,
    status: Statuses,
    media: Arc<dyn MediaFiles>,
}

impl Parts {
    fn new(config: &Config, folder: &SeedFolder, base_url: &Url, identity: &Identity) -> Self {
        let site = site(config, base_url, identity);
        let settings = IngestSettings {
            reader: ArticleReader {
                folder: folder.clone(),
                max_file_bytes: config.max_file_bytes,
                context: EntryContext::new(site.id_namespace, base_url),
            },
            settle: config.settle,
            rescan_interval: config.rescan_interval,
            heartbeat: Heartbeat::default(),
            stop: StopSignal::default(),
        };
        let (snapshots_tx, snapshots) = watch::channel(Arc::new(Snapshot::default()));
        let (status_tx, status) = watch::channel(Arc::new(Status::default()));
        let pages = Arc::new(Pages::new(site.clone(), config.data.clone()));
        let publisher = Publisher::new(
            Renderer::new(site),
            snapshots_tx,
            status_tx,
            config.tombstone_days,
            Arc::clone(&pages),
        );
        Self {
            settings,
            publisher,
            served: Served {
                pages,
                snapshots,
                status,
                media: Arc::new(folder.clone()),
            },
        }
    }
}

/// Starts every part and returns once the listener is bound and the stored entries are
/// being served. The first scan goes on in the background; see [`Running::first_scan`].
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    start_on(config, None).await
}

/// [`start`], serving on `listener` when one is given instead of binding `listen`.
///
/// Order: open the seeds folder and bind the listeners (or take the one systemd passed;
/// the admin listener always binds its own), so that mistakes in any fail fast; serve
/// what the store holds; start watching, then scan the folder (the feeds fill in as the
/// scan goes); then WebSub and the HTTP workers.
pub async fn start_on(config: &Config, listener: Option<TcpListener>) -> anyhow::Result<Running> {
    let folder = open_folder(config)?;
    super::check_artwork(&folder, &config.seeds, &config.feed.podcasts)?;
    let listeners = listen(config, listener)?;
    let admin_socket = listen_admin(config)?;
    let admin_address = admin_socket
        .as_ref()
        .map_or(AdminListen::Off, AdminSocket::address);
    let addr = listeners
        .first()
        .map(TcpListener::local_addr)
        .transpose()
        .context("reading the bound address")?
        .unwrap_or(config.listen);
    let base_url = config.base_url_or(addr);
    crate::config::warn_if_links_are_local(addr, config.base_url.as_ref());
    let (store, identity) = open_store(config, &base_url)?;
    let stamps = StampsLoading::start(&store);
    let Parts {
        settings,
        mut publisher,
        served,
    } = Parts::new(config, &folder, &base_url, &identity);
    let export = start_export(config, &served.pages)?;
    if let Some(export) = &export {
        publisher.export_to(Arc::clone(&export.queue));
    }
    let heartbeat = settings.heartbeat.clone();
    let stop = settings.stop.clone();
    let (inbox, inbox_rx) = mpsc::channel();
    let watcher = start_watcher(&folder, inbox.clone(), config).map(Arc::new);
    let (started, started_rx) = oneshot::channel();
    let (first_scan, first_scan_rx) = oneshot::channel();
    let thread = IngestThread {
        inbox: inbox_rx,
        watcher: watcher.clone(),
        started,
        first_scan,
    };
    let ingest = spawn_ingest(store, settings, publisher, thread, stamps)?;
    started_rx
        .await
        .map_err(|_| anyhow!("the ingest thread stopped during start-up"))??;
    // After the stored entries are rendered: the first snapshot it compares with the
    // versions last announced is the state before this start's scan.
    let fediverse = Fediverse::start(
        &config.activitypub,
        Arc::new(site(config, &base_url, &identity)),
        &config.data,
        crate::activitypub::Limits {
            request_timeout: config.websub.request_timeout,
            max_concurrent_requests: config.websub.max_concurrent_requests,
            tombstone_days: config.tombstone_days,
        },
    )
    .context("starting ActivityPub (config table [activitypub])")?;
    let websub = crate::websub::start(
        &config.websub,
        base_str(&base_url),
        &config.data,
        served.snapshots.clone(),
        fediverse
            .clone()
            .map(|fediverse| fediverse as Arc<dyn crate::websub::Activities>),
    )?;
    let pushes = Pushes {
        websub: websub.as_ref(),
        fediverse: fediverse.as_ref(),
    };
    let (workers, admin) = serve(config, listeners, admin_socket, &served, pushes)?;
    Ok(Running {
        addr,
        base_url,
        identity,
        admin_address,
        workers,
        admin,
        inbox,
        ingest,
        heartbeat,
        stop,
        first_scan: Some(first_scan_rx),
        status: served.status,
        websub,
        fediverse,
        _watcher: watcher,
        export,
    })
}

fn open_folder(config: &Config) -> anyhow::Result<SeedFolder> {
    SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))
}

/// The podcasts' artwork of `config`, in the seeds folder `seeds` (a reload keeps the
/// folder the daemon started with).
pub(super) fn check_artwork_of(seeds: &std::path::Path, config: &Config) -> anyhow::Result<()> {
    let folder =
        SeedFolder::open(seeds).with_context(|| format!("seeds folder {}", seeds.display()))?;
    super::check_artwork(&folder, seeds, &config.feed.podcasts)?;
    Ok(())
}

/// The daemon's database, and its identity (recorded at its first start).
fn open_store(config: &Config, base_url: &Url) -> anyhow::Result<(Store, Identity)> {
    let context = || {
        format!(
            "opening the database in {} (config key `data`)",
            config.data.display()
        )
    };
    let mut store = Store::open(&config.data).with_context(context)?;
    let identity = store
        .identity(
            config.id_namespace.as_deref(),
            &namespace_host(base_url),
            Utc::now(),
        )
        .with_context(context)?;
    let rereads = store
        .base_url_is(base_str(base_url))
        .with_context(context)?;
    if rereads > 0 {
        tracing::info!(
            files = rereads,
            base_url = %base_url,
            "base URL changed: the articles whose links are resolved against it are read again"
        );
    }
    Ok((store, identity))
}

/// The listening socket, one handle per worker: the one systemd passed, or `listen`.
fn listen(config: &Config, passed: Option<TcpListener>) -> anyhow::Result<Vec<TcpListener>> {
    match passed {
        Some(listener) => {
            tracing::info!(
                "serving on the socket passed by systemd; config key `listen` is not used"
            );
            crate::http::share(listener, config.workers)
                .context("sharing the socket passed by systemd")
        }
        None => crate::http::bind(config.listen, config.workers)
            .with_context(|| format!("cannot listen on {} (config key `listen`)", config.listen)),
    }
}

/// The admin listener's socket, bound here whether or not systemd passed the public one;
/// `None` when `admin_listen` is off.
fn listen_admin(config: &Config) -> anyhow::Result<Option<AdminSocket>> {
    let socket = crate::http::bind_admin(&config.admin_listen).context(
        "the admin listener (config key `admin_listen`) cannot start: each daemon needs its \
         own address, a unix:PATH socket, or off",
    )?;
    if let AdminListen::Tcp(addr) = config.admin_listen
        && !addr.ip().is_loopback()
    {
        tracing::warn!(admin = %addr, "the admin listener is not on loopback: anyone who can reach it reads /status (file paths, reject reasons) and /metrics");
    }
    Ok(socket)
}

/// What the ingest thread is told through, and how it reports back as it goes.
struct IngestThread {
    inbox: mpsc::Receiver<IngestMsg>,
    /// The watcher whose subfolders the driver's scans add.
    watcher: Option<Arc<FolderWatcher>>,
    /// The stored entries are served (or they could not be).
    started: oneshot::Sender<anyhow::Result<()>>,
    /// The first scan is done.
    first_scan: oneshot::Sender<()>,
}

/// The ingest thread: it serves what the store holds, scans the folder, and then runs
/// the driver loop until shutdown.
fn spawn_ingest(
    store: Store,
    settings: IngestSettings,
    publisher: Publisher,
    life: IngestThread,
    stamps: Option<StampsLoading>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("seedfeed-ingest".into())
        .spawn(move || {
            let mut ingest =
                Ingest::new(settings, store, publisher, life.watcher).with_stamps(stamps);
            if let Err(e) = ingest.render_all() {
                let _ = life
                    .started
                    .send(Err(anyhow!(e).context("rendering the stored entries")));
                return;
            }
            let _ = life.started.send(Ok(()));
            match ingest.first_scan("start-up") {
                Ok(()) => {}
                Err(IngestError::Stopped) => tracing::info!("first scan stopped for the shutdown"),
                Err(error) => {
                    tracing::error!(error = %error_chain(&error), "first scan failed; the next rescan retries");
                }
            }
            tracing::info!("first scan done");
            let _ = life.first_scan.send(());
            ingest.run(life.inbox);
        })
        .context("starting the ingest thread")
}

/// What pushes changes out, as the HTTP workers answer for it.
#[derive(Clone, Copy)]
struct Pushes<'a> {
    websub: Option<&'a WebSub>,
    fediverse: Option<&'a Arc<Fediverse>>,
}

/// The HTTP workers, serving the snapshots, the pages, WebSub's hub and the fediverse's
/// documents and inbox; and the admin listener's, serving the status and the metrics.
fn serve(
    config: &Config,
    listeners: Vec<TcpListener>,
    admin: Option<AdminSocket>,
    served: &Served,
    pushes: Pushes<'_>,
) -> anyhow::Result<(Workers, Option<Admin>)> {
    let websub = pushes.websub;
    let mut state = AppState::new(
        served.snapshots.clone(),
        Arc::clone(&served.pages),
        served.status.clone(),
        config.cache_max_age,
    );
    state.max_url_bytes = config.max_url_bytes;
    state.access_log = config.access_log;
    state.hub = websub.and_then(WebSub::hub);
    state.websub = websub.map(WebSub::counters);
    state.media = Some(Arc::new(OpenFiles::new(Arc::clone(&served.media))));
    state.fediverse = pushes.fediverse.cloned();
    let state = Arc::new(state);
    let workers = crate::http::start(listeners, Arc::clone(&state), config.limits)
        .context("starting the HTTP workers")?;
    let admin = admin
        .map(|socket| crate::http::start_admin(socket, state, config.limits))
        .transpose()
        .context("starting the admin listener")?;
    Ok((workers, admin))
}

/// The namespace of the ids the daemon gives with this configuration, found without
/// writing anything: the one its database recorded when there is one, else the one it
/// would record at its first start.
pub fn namespace_for(config: &Config) -> String {
    let base_url = config.base_url_or(config.listen);
    let host = namespace_host(&base_url);
    let configured = config.id_namespace.as_deref();
    let recorded = Store::open_reader(&config.data)
        .and_then(|store| store.namespace_in_use(configured, &host));
    match recorded {
        Ok(namespace) => namespace.name,
        // No database yet (or none that can be read): what a new one would record.
        Err(_) => choose_namespace(None, configured, &host, false).0.name,
    }
}

/// What the renderer says about the site, from the config and the database's identity.
pub(super) fn site(config: &Config, base_url: &Url, identity: &Identity) -> Site {
    Site {
        base: base_str(base_url).to_owned(),
        title: config.feed.title.clone(),
        description: config.feed.description.clone(),
        author: config.feed.author.clone(),
        language: config.feed.language.clone(),
        id_namespace: id_namespace(&identity.namespace.name),
        feed_size: config.feed_size,
        created: identity.created,
        hubs: crate::websub::hub_urls(&config.websub, base_str(base_url)),
        content: config.feed.content,
        rights: config.feed.rights.clone(),
        authors: config.feed.authors.clone(),
        podcasts: config.feed.podcasts.clone(),
        fediverse: crate::activitypub::page_links(&config.activitypub, base_str(base_url)),
    }
}

/// Ingests the seeds folder once, on this thread, and returns every document the daemon
/// would serve (the feeds, and the entry and archive pages): for `seedfeed render`. The
/// database is the daemon's, brought up to date as a start-up scan would.
pub fn render_once(config: &Config) -> anyhow::Result<(Arc<Snapshot>, Arc<Pages>)> {
    let folder = open_folder(config)?;
    super::check_artwork(&folder, &config.seeds, &config.feed.podcasts)?;
    let base_url = config.base_url_or(config.listen);
    let (store, identity) = open_store(config, &base_url)?;
    let Parts {
        settings,
        publisher,
        served,
    } = Parts::new(config, &folder, &base_url, &identity);
    let mut ingest = Ingest::new(settings, store, publisher, None);
    ingest
        .render_all()
        .context("rendering the stored entries")?;
    ingest
        .first_scan("render")
        .context("reading the seeds folder")?;
    ingest
        .freeze_archives()
        .context("freezing the archive pages")?;
    ingest.compress_all();
    let snapshot = Arc::clone(&served.snapshots.borrow());
    Ok((snapshot, served.pages))
}

/// Filesystem events from the backend the configuration chooses, when it can start;
/// periodic rescans cover the rest.
fn start_watcher(
    folder: &SeedFolder,
    inbox: mpsc::Sender<IngestMsg>,
    config: &Config,
) -> Option<FolderWatcher> {
    let settings = WatchSettings {
        backend: config.watch,
        poll_interval: config.poll_interval,
    };
    let watch = config.watch.name();
    match FolderWatcher::start(folder, settings, move |event| {
        let _ = inbox.send(IngestMsg::Watch(event));
    }) {
        Ok(watcher) => {
            tracing::info!(watch, "watching the seeds folder");
            Some(watcher)
        }
        Err(error) => {
            tracing::warn!(watch, error = %error_chain(&error), rescan_secs = config.rescan_interval.as_secs(), "no filesystem events; relying on periodic rescans");
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

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Where `/status` and `/metrics` are served: the bound address (the port the
    /// system chose, for port 0), the Unix socket, or `Off`.
    pub fn admin_address(&self) -> &AdminListen {
        &self.admin_address
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
        if let Some(fediverse) = &self.fediverse {
            fediverse.set_site(Arc::new(site.clone()));
        }
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
    pub(super) fn probes(&self) -> watchdog::Probes {
        let mut http = self.workers.runtimes();
        http.extend(self.admin.iter().flat_map(Admin::runtimes));
        watchdog::Probes {
            http,
            ingest: self.inbox.clone(),
            heartbeat: self.heartbeat.clone(),
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to a bound), stops ingest
    /// after its current batch (a bulk at its next commit), and closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // Each worker drains for at most shutdown_timeout.
        let (workers, admin) = (self.workers, self.admin);
        let public = tokio::task::spawn_blocking(move || workers.stop());
        let admin = tokio::task::spawn_blocking(move || admin.map(Admin::stop));
        public.await.context("stopping the HTTP workers")?;
        admin.await.context("stopping the admin listener")?;
        if let Some(websub) = self.websub {
            websub.stop().await;
        }
        drop(self._watcher);
        self.stop.stop();
        let _ = self.inbox.send(IngestMsg::Shutdown);
        let ingest = self.ingest;
        tokio::task::spawn_blocking(move || ingest.join())
            .await
            .context("joining the ingest thread")?
            .map_err(|_| anyhow!("the ingest thread panicked"))?;
        if let Some(export) = self.export {
            tokio::task::spawn_blocking(move || export.stop())
                .await
                .context("stopping the export")?;
        }
        Ok(())
    }
}
