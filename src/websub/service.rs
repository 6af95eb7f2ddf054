//! The WebSub task: it turns new snapshots into outbox rows, sends the rows that are due,
//! verifies subscription requests, and drops expired subscriptions. Sends and
//! verifications run as tasks of their own, so one slow subscriber delays nobody else.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use url::Url;

use super::callback::Policy;
use super::hub::Hub;
use super::sender::{Failure, Sender};
use super::{Counters, Intent, Leases, Mode};
use crate::config::WebSubConfig;
use crate::publish::Snapshots;
use crate::store::{Outbox, OutboxError, PushJob, PushKind};

/// How often expired subscriptions are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The longest wait between two attempts of a failing delivery or ping.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Rows taken from the outbox at a time.
const DUE_AT_ONCE: usize = 256;

/// Subscription requests waiting to be verified; over it, `/hub` answers 503.
const MAX_WAITING_INTENTS: usize = 1024;

type JobKey = (PushKind, String, String);

/// How soon after sends finish the counts in `/status` follow.
const COUNTS_EVERY: Duration = Duration::from_secs(1);

/// The rows being sent, by the task sending each.
#[derive(Default)]
struct InFlight {
    keys: HashSet<JobKey>,
    tasks: HashMap<tokio::task::Id, JobKey>,
}

impl InFlight {
    fn started(&mut self, task: tokio::task::Id, key: JobKey) {
        self.keys.insert(key.clone());
        self.tasks.insert(task, key);
    }

    fn finished(&mut self, task: tokio::task::Id) {
        if let Some(key) = self.tasks.remove(&task) {
            self.keys.remove(&key);
        }
    }
}

/// What a finished task tells the service loop.
struct Done {
    /// The outbox must be read again: a row is due again or later, or a subscription
    /// came or went.
    look: bool,
}

/// The fediverse's side of the push service (`activitypub::Fediverse`): its activities
/// are rows of this outbox, queued as entries change and sent with the same retries.
/// A trait so that the fediverse, which needs WebSub's outgoing-request policy, is not
/// imported back here.
pub trait Activities: Send + Sync {
    /// Queues what the entries' changes call for; blocking, on the outbox's thread.
    fn announce(&self, outbox: &mut Outbox) -> anyhow::Result<usize>;
    /// Reads what `/status` shows of the fediverse again.
    fn refresh_status(&self, outbox: &Outbox) -> Result<(), OutboxError>;
    /// Sends one row of kind `activity`; `Ok(false)`: nothing was left to send.
    fn deliver(self: Arc<Self>, job: PushJob) -> BoxFuture<'static, Result<bool, Failure>>;
    /// Resolves when the inbox queued something.
    fn woken(&self) -> BoxFuture<'_, ()>;
    /// Counts a failed attempt, and whether it was given up.
    fn count_failure(&self, dropped: bool);
}

/// A future the push service awaits without knowing its type.
pub type BoxFuture<'a, T = ()> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The running WebSub service, and the hub the HTTP workers answer `/hub` with.
pub struct WebSub {
    hub: Option<Arc<Hub>>,
    counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts the service on the current runtime, when there is anything to do: the hub is
/// on, there are hubs to ping, or the site is on the fediverse (whose deliveries are
/// rows of the same outbox). `base` is the site's base URL (topics are `base` + path);
/// the database in `data` has the current schema already.
pub fn start(
    config: &WebSubConfig,
    base: &str,
    data: &Path,
    snapshots: Snapshots,
    fediverse: Option<Arc<dyn Activities>>,
) -> anyhow::Result<Option<WebSub>> {
    if !config.hub && config.hubs.is_empty() && fediverse.is_none() {
        return Ok(None);
    }
    let outbox = Outbox::open(data).context("opening the database for WebSub")?;
    let sender = Sender::new(config).context("setting up the WebSub HTTP client")?;
    let (intents_tx, intents) = mpsc::channel(MAX_WAITING_INTENTS);
    let hub = config.hub.then(|| {
        Arc::new(Hub::new(
            intents_tx,
            Policy {
                allow_private: config.allow_private_callbacks,
            },
            Leases::of(config),
            config.subscribe_per_minute,
        ))
    });
    let (stop, stopped) = watch::channel(false);
    let counters = Arc::new(Counters::default());
    let shared = Arc::new(Shared {
        counters: Arc::clone(&counters),
        outbox: Mutex::new(outbox),
        sender,
        base: base.to_owned(),
        hubs: config.hubs.iter().map(|u| u.as_str().to_owned()).collect(),
        retry_for: config.retry_for,
        snapshots: snapshots.clone(),
        fediverse,
    });
    let service = Service {
        shared,
        intents,
        snapshots,
        stop: stopped,
        recorded: Vec::new(),
    };
    let task = tokio::spawn(service.run());
    Ok(Some(WebSub {
        hub,
        counters,
        stop,
        task,
    }))
}

impl WebSub {
    /// The hub, when `websub.hub` is on.
    pub fn hub(&self) -> Option<Arc<Hub>> {
        self.hub.clone()
    }

    /// What `/status` and `/metrics` show.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// Stops the service; sends in flight are abandoned and stay in the outbox.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            tracing::warn!("the WebSub task did not stop in time");
        }
    }
}

/// What the service task and the tasks it spawns share.
struct Shared {
    counters: Arc<Counters>,
    outbox: Mutex<Outbox>,
    sender: Sender,
    base: String,
    /// The external hubs to ping.
    hubs: Vec<String>,
    retry_for: Duration,
    snapshots: Snapshots,
    /// The fediverse side, whose activities are rows of this outbox too.
    fediverse: Option<Arc<dyn Activities>>,
}

impl Shared {
    /// Runs a database step off the async threads (the ingest writer may hold the lock).
    async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        step: impl FnOnce(&mut Outbox) -> Result<T, OutboxError> + Send + 'static,
    ) -> anyhow::Result<T> {
        let shared = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || {
            let mut outbox = shared.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            step(&mut outbox)
        })
        .await
        .context("a WebSub database step stopped")?;
        Ok(result?)
    }

    /// The path of a topic, when it is one of the feeds served now.
    fn feed_path<'t>(&self, topic: &'t str) -> Option<&'t str> {
        let path = topic.strip_prefix(&self.base)?;
        let snapshot = self.snapshots.borrow();
        snapshot
            .get(path)
            .is_some_and(|document| document.links.is_some())
            .then_some(path)
    }
}

struct Service {
    shared: Arc<Shared>,
    intents: mpsc::Receiver<Intent>,
    snapshots: Snapshots,
    stop: watch::Receiver<bool>,
    /// The feeds' versions last recorded, so that a snapshot that changed no feed (one
    /// that only adds compressed variants, say) costs no database transaction.
    recorded: Vec<(String, String)>,
}

impl Service {
    async fn run(mut self) {
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut in_flight = InFlight::default();
        let mut next_sweep = tokio::time::Instant::now();
        let mut wake = next_sweep;
        // Whether the outbox must be read again: it changed in a way that may make a row
        // due (a change, a retry, a row sent while a newer change came), or time passed.
        // A send that simply succeeded does not need it, so a fan-out to many subscribers
        // does not read the outbox once per subscriber.
        let mut look = true;
        // The snapshot served now is compared with the versions last announced.
        self.snapshots.mark_changed();
        loop {
            if tokio::time::Instant::now() >= next_sweep {
                self.sweep().await;
                next_sweep = tokio::time::Instant::now() + SWEEP_EVERY;
                look = true;
            }
            if look {
                look = false;
                wake = match self.dispatch(&mut tasks, &mut in_flight).await {
                    Ok(Some(due)) => instant_of(due).min(next_sweep),
                    Ok(None) => next_sweep,
                    Err(error) => {
                        tracing::error!(error = %format!("{error:#}"), "WebSub: cannot read the outbox; trying again");
                        tokio::time::Instant::now() + Duration::from_secs(5)
                    }
                };
            }
            tokio::select! {
                _ = self.stop.changed() => break,
                Some(intent) = self.intents.recv() => {
                    tasks.spawn(verify(Arc::clone(&self.shared), intent));
                }
                // The inbox queued an Accept, or a follower left.
                () = fediverse_woken(self.shared.fediverse.as_deref()) => look = true,
                changed = self.snapshots.changed() => match changed {
                    Ok(()) => {
                        self.announce().await;
                        look = true;
                    }
                    // The ingest driver is gone: the daemon is stopping.
                    Err(_) => break,
                },
                Some(joined) = tasks.join_next_with_id() => {
                    // A task that panicked leaves its row due: it is tried again.
                    let (id, done) = match joined {
                        Ok((id, done)) => (id, done),
                        Err(error) => (error.id(), Done { look: true }),
                    };
                    in_flight.finished(id);
                    look |= done.look;
                    // The counts /status shows, soon enough.
                    wake = wake.min(tokio::time::Instant::now() + COUNTS_EVERY);
                }
                () = tokio::time::sleep_until(wake) => look = true,
            }
        }
        tasks.shutdown().await;
    }

    /// Records the feeds' versions; changed ones are queued for their subscribers and
    /// hubs. The fediverse compares its entries too.
    async fn announce(&mut self) {
        if let Some(fediverse) = &self.shared.fediverse {
            let fediverse = Arc::clone(fediverse);
            match self
                .shared
                .db(move |outbox| Ok(fediverse.announce(outbox)))
                .await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(queued)) => tracing::debug!(queued, "ActivityPub: activities queued"),
                Ok(Err(error)) | Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "ActivityPub: cannot queue the changed entries; the next change retries")
                }
            }
        }
        let mut versions: Vec<(String, String)> = {
            let snapshot = self.snapshots.borrow_and_update();
            snapshot
                .documents()
                .filter(|(_, document)| document.links.is_some())
                .map(|(path, document)| (path.to_owned(), document.etag.clone()))
                .collect()
        };
        versions.sort_unstable();
        // The empty snapshot before the store is read announces nothing.
        if versions.is_empty() || versions == self.recorded {
            return;
        }
        let (base, hubs) = (self.shared.base.clone(), self.shared.hubs.clone());
        let recording = versions.clone();
        let result = self
            .shared
            .db(move |outbox| outbox.announce(&versions, &base, &hubs, Utc::now()))
            .await;
        if result.is_ok() {
            self.recorded = recording;
        }
        match result {
            Ok(0) => {}
            Ok(queued) => tracing::debug!(queued, "WebSub: changes queued"),
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "WebSub: cannot queue the changed feeds; the next change retries")
            }
        }
    }

    /// Starts a task for each row that is due and not in flight; returns when the next
    /// row falls due.
    async fn dispatch(
        &mut self,
        tasks: &mut JoinSet<Done>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        let now = Utc::now();
        let fediverse = self.shared.fediverse.clone();
        let (jobs, next, (subscriptions, pending)) = self
            .shared
            .db(move |outbox| {
                if let Some(fediverse) = fediverse {
                    fediverse.refresh_status(outbox)?;
                }
                Ok((
                    outbox.due(now, DUE_AT_ONCE)?,
                    outbox.next_due(now)?,
                    outbox.counts()?,
                ))
            })
            .await?;
        let counters = &self.shared.counters;
        counters
            .subscriptions
            .store(subscriptions, Ordering::Relaxed);
        counters.pending.store(pending, Ordering::Relaxed);
        for job in jobs {
            let key = job.key();
            if !in_flight.keys.contains(&key) {
                let task = tasks.spawn(send(Arc::clone(&self.shared), job));
                in_flight.started(task.id(), key);
            }
        }
        Ok(next)
    }

    async fn sweep(&self) {
        match self.shared.db(|outbox| outbox.expire(Utc::now())).await {
            Ok(0) => {}
            Ok(expired) => {
                tracing::info!(expired, "WebSub: subscriptions whose lease ended dropped")
            }
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "WebSub: cannot drop expired subscriptions")
            }
        }
    }
}

/// The runtime's clock for a wall-clock time (now, if it has passed).
fn instant_of(time: DateTime<Utc>) -> tokio::time::Instant {
    let wait = (time - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::Instant::now() + wait
}

/// The wait before attempt `failed + 1`: 1 s, 2 s, 4 s … up to [`MAX_BACKOFF`].
fn backoff(failed: u32) -> Duration {
    let exponent = failed.saturating_sub(1).min(20);
    Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF)
}

/// Waits until the fediverse's inbox queued something; forever without it.
async fn fediverse_woken(fediverse: Option<&dyn Activities>) {
    match fediverse {
        Some(fediverse) => fediverse.woken().await,
        None => std::future::pending().await,
    }
}

/// Sends one row and records the outcome.
async fn send(shared: Arc<Shared>, job: PushJob) -> Done {
    let result = match job.kind {
        PushKind::Deliver => deliver(&shared, &job).await,
        PushKind::Ping => match Url::parse(&job.target) {
            Ok(hub) => shared.sender.ping(&hub, &job.topic).await.map(|()| true),
            Err(e) => Err(Failure::Refused(format!("not a URL ({e})"))),
        },
        PushKind::Activity => match &shared.fediverse {
            Some(fediverse) => Arc::clone(fediverse).deliver(job.clone()).await,
            // The fediverse was turned off: what it queued waits for it to come back.
            None => return Done { look: false },
        },
    };
    let what = match job.kind {
        PushKind::Deliver => "delivery",
        PushKind::Ping => "publish ping",
        PushKind::Activity => "activity",
    };
    let recorded = match result {
        Ok(sent) => {
            // The fediverse counts its own.
            if sent && job.kind != PushKind::Activity {
                Counters::count(&shared.counters.sent);
                tracing::debug!(kind = what, target = %job.target, topic = %job.topic, "WebSub: sent");
            }
            let now = Utc::now();
            shared.db(move |outbox| outbox.sent(&job, now)).await
        }
        Err(Failure::Gone) if job.kind == PushKind::Activity => {
            tracing::info!(inbox = %job.target, "ActivityPub: the inbox answered 410 Gone; its followers are dropped");
            shared
                .db(move |outbox| outbox.drop_inbox(&job.target).map(|_| true))
                .await
        }
        Err(Failure::Gone) => {
            tracing::info!(callback = %job.target, topic = %job.topic, "WebSub: the subscriber answered 410 Gone; subscription ended");
            shared
                .db(move |outbox| outbox.unsubscribe(&job.topic, &job.target).map(|_| true))
                .await
        }
        Err(failure) => retry_or_drop(&shared, job, what, &failure)
            .await
            .map(|()| true),
    };
    let look = recorded.unwrap_or_else(|error| {
        tracing::error!(error = %format!("{error:#}"), "WebSub: cannot record a send; it will be sent again");
        true
    });
    Done { look }
}

/// After a failed send: another attempt later, or, once `retry_seconds` have passed
/// since the change (or when trying again cannot help), the row is dropped.
async fn retry_or_drop(
    shared: &Arc<Shared>,
    job: PushJob,
    what: &'static str,
    failure: &Failure,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let waited =
        Duration::from_millis(u64::try_from(now.timestamp_millis() - job.first).unwrap_or(0));
    let reason = failure.to_string();
    let give_up = matches!(failure, Failure::Refused(_)) || waited >= shared.retry_for;
    match (&shared.fediverse, job.kind) {
        (Some(fediverse), PushKind::Activity) => fediverse.count_failure(give_up),
        _ => Counters::count(&shared.counters.failed),
    }
    if give_up {
        tracing::warn!(kind = what, target = %job.target, topic = %job.topic, attempts = job.attempts + 1, reason, "WebSub: giving up");
        if job.kind != PushKind::Activity {
            Counters::count(&shared.counters.dropped);
        }
        return shared.db(move |outbox| outbox.drop_job(&job)).await;
    }
    let wait = backoff(job.attempts + 1);
    tracing::info!(kind = what, target = %job.target, topic = %job.topic, attempts = job.attempts + 1, retry_in_ms = wait.as_millis() as u64, reason, "WebSub: send failed; will retry");
    let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
    shared
        .db(move |outbox| outbox.retry(&job, &reason, at))
        .await
}

/// Sends a topic's current document to a subscriber. A row whose subscription or topic
/// is gone is done without a request: `Ok(false)`.
async fn deliver(shared: &Arc<Shared>, job: &PushJob) -> Result<bool, Failure> {
    let document = shared
        .feed_path(&job.topic)
        .and_then(|path| shared.snapshots.borrow().get(path).cloned());
    let Some(document) = document else {
        return Ok(false);
    };
    let Some(subscription) = job
        .subscription
        .as_ref()
        .filter(|s| s.lease_ends > Utc::now())
    else {
        return Ok(false);
    };
    let callback = Url::parse(&job.target).map_err(|e| Failure::Refused(e.to_string()))?;
    shared
        .sender
        .deliver(
            &callback,
            document.body.clone(),
            document.media_type,
            document.links.as_ref(),
            subscription.secret.as_ref(),
        )
        .await
        .map(|()| true)
}

/// Verifies a subscription request with its subscriber (WebSub §5.3) and, if the
/// subscriber confirms, records it. A topic that is not one of our feeds is denied.
async fn verify(shared: Arc<Shared>, intent: Intent) -> Done {
    // A subscription that came or went changes the counts, and the first ones wake the
    // loop: read the outbox again.
    let done = Done { look: true };
    let Intent {
        mode,
        callback,
        topic,
        lease,
        secret,
    } = intent;
    if mode == Mode::Subscribe && shared.feed_path(&topic).is_none() {
        let reason = "the topic is not a feed of this site";
        tracing::info!(callback = %callback, topic = %topic, "WebSub: subscription denied: {reason}");
        if let Err(failure) = shared.sender.deny(&callback, &topic, reason).await {
            tracing::info!(callback = %callback, reason = %failure, "WebSub: the denial was not delivered");
        }
        return done;
    }
    let granted = (mode == Mode::Subscribe).then_some(lease);
    if let Err(failure) = shared.sender.verify(&callback, mode, &topic, granted).await {
        tracing::info!(mode = mode.as_str(), callback = %callback, topic = %topic, reason = %failure, "WebSub: request not verified; nothing changed");
        return done;
    }
    let now = Utc::now();
    let lease_ends = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let (t, c) = (topic.clone(), callback.to_string());
    let recorded = match mode {
        Mode::Subscribe => {
            shared
                .db(move |outbox| outbox.subscribe(&t, &c, secret.as_ref(), lease_ends, now))
                .await
        }
        Mode::Unsubscribe => {
            shared
                .db(move |outbox| outbox.unsubscribe(&t, &c).map(drop))
                .await
        }
    };
    match recorded {
        Ok(()) => {
            tracing::info!(mode = mode.as_str(), callback = %callback, topic = %topic, lease_secs = granted.map(|l| l.as_secs()), "WebSub: verified")
        }
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), callback = %callback, "WebSub: a verified request could not be recorded")
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(11), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
