//! The daemon: start-up, signals and shutdown, and what systemd is told of each. The
//! parts are built and started in `start` ([`start_on`]); this file is the main loop of
//! `seedfeed serve`, which waits for signals and the first scan. Threads of their own
//! run the ingest driver (and, during a bulk, its readers), the HTTP workers, the
//! database's checkpoints, the watcher and the static export (`export`);
//! `docs/architecture.md` lists them.

mod artwork;
mod export;
mod start;
pub mod systemd;
mod watchdog;

pub use artwork::{ARTWORK_SIDES, ArtworkError, check_artwork};
pub use export::export_once;
pub use start::{Running, namespace_for, render_once, start, start_on};

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use tokio::signal::unix::{Signal, SignalKind};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::publish::Statuses;

use systemd::{Notifier, State};

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

/// The signals the daemon acts on. Their handlers are installed first: a signal that
/// arrives while start-up is still going (a stop right after a start) is kept and acted
/// on once it is done, instead of killing the process.
struct Signals {
    terminate: Signal,
    interrupt: Signal,
    hangup: Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        let signal =
            |kind| tokio::signal::unix::signal(kind).context("installing a signal handler");
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }
}

/// Runs the daemon until SIGINT or SIGTERM. SIGHUP reloads the configuration and rescans
/// the seeds folder. systemd hears of each step (`READY=1`, `RELOADING=1`, `STOPPING=1`,
/// `STATUS=`, `WATCHDOG=1`) when it asked to (`NOTIFY_SOCKET`, `WATCHDOG_USEC`).
pub async fn run(config: Config, service: Service) -> anyhow::Result<()> {
    let mut signals = Signals::install()?;
    let notifier = Arc::new(Notifier::from_env());
    notifier.notify(&[State::Status("starting: scanning the seeds folder")]);
    let Service {
        listener,
        reload,
        set_log_level,
    } = service;
    let mut running = start_on(&config, listener).await?;
    tracing::info!(addr = %running.local_addr(), admin = %running.admin_address(), base_url = %running.base_url(), seeds = %config.seeds.display(), "listening");
    let mut tasks = JoinSet::new();
    start_watchdog(&mut tasks, &notifier, &running);
    let mut first_scan = running.first_scan.take();
    let mut config = config;
    let mut failed = None;
    loop {
        tokio::select! {
            _ = signals.interrupt.recv() => break,
            _ = signals.terminate.recv() => break,
            // Collects the tasks that are done (a reload's), so that none is kept.
            Some(_) = tasks.join_next() => {}
            scanned = wait_for(&mut first_scan) => {
                first_scan = None;
                if !scanned {
                    failed = Some(anyhow!("the ingest thread stopped during the first scan"));
                    break;
                }
                ready(&mut tasks, &notifier, &running.status);
            }
            _ = signals.hangup.recv() => {
                let was_ready = first_scan.is_none();
                if was_ready {
                    notifier.notify(&[State::Reloading]);
                }
                config = reload_config(&running, config, &*reload, &*set_log_level);
                running.rescan("SIGHUP");
                let tell = was_ready.then(|| (Arc::clone(&notifier), running.status.clone()));
                tasks.spawn(reloaded(running.ping(), tell));
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

/// Keeps systemd's watchdog fed while the loops are alive, when systemd asked for it.
fn start_watchdog(tasks: &mut JoinSet<()>, notifier: &Arc<Notifier>, running: &Running) {
    if let Some(period) = systemd::watchdog_period() {
        tracing::info!(
            keep_alive_ms = period.as_millis() as u64,
            "systemd watchdog on"
        );
        tasks.spawn(watchdog::keep_alive(
            Arc::clone(notifier),
            period,
            running.probes(),
        ));
    }
}

/// The first scan is done: every seed is in the feeds, so a reader that subscribes as
/// soon as `systemctl start` returns sees them all. systemd is told, and hears of the
/// counts from then on.
fn ready(tasks: &mut JoinSet<()>, notifier: &Arc<Notifier>, status: &Statuses) {
    let text = systemd::status_text(&status.borrow());
    notifier.notify(&[State::Ready, State::Status(&text)]);
    tracing::info!("ready");
    tasks.spawn(report_status(Arc::clone(notifier), status.clone()));
}

/// Waits for the ingest driver to answer (it handles its messages in order: once it
/// answers, the new settings are rendered and the folder compared with the store), then
/// tells systemd the reload is done, when it was ready before it.
async fn reloaded(
    caught_up: impl std::future::Future<Output = ()>,
    tell: Option<(Arc<Notifier>, Statuses)>,
) {
    caught_up.await;
    if let Some((notifier, status)) = tell {
        let text = systemd::status_text(&status.borrow());
        notifier.notify(&[State::Ready, State::Status(&text)]);
    }
    tracing::info!("reload done");
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
    if reloaded.feed.podcasts != config.feed.podcasts
        && let Err(error) = start::check_artwork_of(&config.seeds, &reloaded)
    {
        tracing::error!(error = %one_line(&format!("{error:#}")), "SIGHUP: configuration not reloaded; keeping the running one");
        return config;
    }
    let changes = crate::config::reload::compare(&config, &reloaded);
    for key in &changes.need_restart {
        tracing::warn!(
            key,
            "SIGHUP: this setting changed but takes effect only after a restart"
        );
    }
    if changes.live.contains(&"log_level")
        && let Err(error) = set_log_level(&reloaded.log_level)
    {
        tracing::error!(error = %one_line(&format!("{error:#}")), "SIGHUP: log_level not changed");
    }
    let now = crate::config::reload::in_force(&config, &reloaded);
    if changes.live.iter().any(|key| *key != "log_level") {
        running.set_site(start::site(&now, running.base_url(), running.identity()));
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
async fn report_status(notifier: Arc<Notifier>, mut status: Statuses) {
    status.mark_unchanged();
    while status.changed().await.is_ok() {
        let text = systemd::status_text(&status.borrow_and_update());
        notifier.notify(&[State::Status(&text)]);
        tokio::time::sleep(STATUS_EVERY).await;
    }
}
