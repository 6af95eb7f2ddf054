//! The site as an ActivityPub actor (`[activitypub]`, docs/fediverse.md): one account,
//! `@{username}@{host}`, that Mastodon and the rest of the fediverse follow, and to whose
//! followers each new, edited or deleted entry is delivered.
//!
//! - Discovery and documents ([`Fediverse::document`]): WebFinger, NodeInfo, host-meta,
//!   the actor, each entry as a `Note` or `Article` (a deleted one as a `Tombstone`), the
//!   outbox, followers and following collections. The JSON is `render::activitypub`'s.
//! - The inbox ([`inbox`]): signed `Follow`, `Undo` and `Delete` requests.
//! - Deliveries ([`deliver`]): rows of the one push outbox that WebSub's deliveries use
//!   (`store::followers` queues them), sent by its service with its retries and backoff,
//!   one POST per shared inbox, signed with RFC 9421 and, for a host that refuses that,
//!   draft-cavage.
//!
//! The instance key ([`keys`]) is generated at first start and kept in the data folder.

mod client;
mod deliver;
mod documents;
mod inbox;
pub mod keys;
mod remote;
pub mod signature;

pub use documents::{ApDocument, wants_activity};
pub use inbox::{InboxReply, InboxRequest, MAX_BODY_BYTES};

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use tokio::sync::Notify;

use crate::config::ActivityPubConfig;
use crate::render::Site;
use crate::store::{Outbox, OutboxError, SignatureForm, Store};
use crate::websub::callback::RateLimit;

use client::Client;
use keys::InstanceKey;
use remote::Actors;
use signature::Signer;

use crate::render::activitypub::host as ap_host;

pub use crate::render::activitypub::{
    FOLLOWERS_PATH, FOLLOWING_PATH, HOST_META_PATH, INBOX_PATH, NODEINFO_LINKS_PATH, NODEINFO_PATH,
    OUTBOX_PATH, WEBFINGER_PATH,
};

/// The actor's path: `/@{username}`.
pub fn actor_path(config: &ActivityPubConfig) -> String {
    format!("/@{}", config.username)
}

/// What the HTML pages say of the account, when `[activitypub]` is on; `base` is the
/// base URL without a trailing slash.
pub fn page_links(config: &ActivityPubConfig, base: &str) -> Option<crate::render::FediverseLinks> {
    config.enabled.then(|| crate::render::FediverseLinks {
        actor: format!("{base}{}", actor_path(config)),
        attribution: config.attribution.clone(),
    })
}

/// Whether `path` is one of the fediverse's own (for the request counters): the
/// discovery documents, the collections, the inbox and the actor.
pub fn is_fediverse_path(path: &str) -> bool {
    path.starts_with("/@")
        || path.starts_with("/.well-known/")
        || [
            INBOX_PATH,
            OUTBOX_PATH,
            FOLLOWERS_PATH,
            FOLLOWING_PATH,
            NODEINFO_PATH,
        ]
        .contains(&path)
}

/// What `/status` shows of the fediverse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FediverseStatus {
    pub followers: u64,
    /// Followers by the host of their inbox, the most first.
    pub followers_by_host: Vec<(String, u64)>,
    /// Activities waiting to be delivered (due now or later).
    pub pending: u64,
    /// Since start: delivered and taken, failed attempts, and deliveries given up.
    pub sent: u64,
    pub failed: u64,
    pub dropped: u64,
    /// The signature form each host took: `rfc9421` or `cavage`.
    pub signature_forms: Vec<(String, &'static str)>,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// The fediverse side of the site, shared by the HTTP workers (documents, inbox) and the
/// push service (announcing entries, delivering).
pub struct Fediverse {
    config: ActivityPubConfig,
    /// The base URL without a trailing slash: what signed requests to the inbox name.
    base: String,
    actor_id: String,
    key_id: String,
    key: InstanceKey,
    client: Client,
    actors: Actors,
    limits: Mutex<RateLimit>,
    outbox: Mutex<Outbox>,
    store: Mutex<Store>,
    site: Mutex<Arc<Site>>,
    wake: Notify,
    counters: Counters,
    status: Mutex<FediverseStatus>,
    /// How long deletions are kept (`tombstone_days`): a Delete is announced while its
    /// tombstone is.
    tombstone_days: u32,
}

/// What the fediverse takes from the rest of the configuration: the outgoing requests'
/// limits (`[websub]`'s: one budget for both) and how long deletions are announced.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
    pub tombstone_days: u32,
}

impl Fediverse {
    /// The fediverse side of `site`, when `[activitypub]` is on: the key loaded or made
    /// in `data`, whose database has the current schema already.
    pub fn start(
        config: &ActivityPubConfig,
        site: Arc<Site>,
        data: &Path,
        limits: Limits,
    ) -> anyhow::Result<Option<Arc<Self>>> {
        if !config.enabled {
            return Ok(None);
        }
        let key = InstanceKey::load_or_generate(data)?;
        let base = site.base.trim_end_matches('/').to_owned();
        if url::Url::parse(&base).is_ok_and(|url| url.path() != "/") {
            anyhow::bail!(
                "[activitypub] needs a base_url at the root of its host ({base} has a path): \
                 WebFinger answers at /.well-known/webfinger of the host"
            );
        }
        let account = format!("@{}@{}", config.username, ap_host(&site));
        let actor_id = format!("{base}{}", actor_path(config));
        let client = Client::new(
            config.allow_private,
            limits.request_timeout,
            limits.max_concurrent_requests,
            config.deliveries_per_second,
        )
        .context("setting up the ActivityPub HTTP client")?;
        let fediverse = Self {
            key_id: format!("{actor_id}#main-key"),
            actor_id,
            base,
            key,
            client,
            actors: Actors::new(),
            limits: Mutex::new(RateLimit::new(config.inbox_per_minute)),
            outbox: Mutex::new(Outbox::open(data).context("opening the database for ActivityPub")?),
            store: Mutex::new(
                Store::open_reader(data).context("opening the database for ActivityPub")?,
            ),
            site: Mutex::new(site),
            wake: Notify::new(),
            counters: Counters::default(),
            status: Mutex::new(FediverseStatus::default()),
            tombstone_days: limits.tombstone_days,
            config: config.clone(),
        };
        tracing::info!(account = %account, actor = %fediverse.actor_id, "ActivityPub: on");
        Ok(Some(Arc::new(fediverse)))
    }

    /// The actor's path: `/@{username}`.
    pub fn actor_path(&self) -> String {
        actor_path(&self.config)
    }

    /// The site the documents are rendered for; a reload replaces it.
    pub fn set_site(&self, site: Arc<Site>) {
        *lock(&self.site) = site;
    }

    fn site(&self) -> Arc<Site> {
        Arc::clone(&lock(&self.site))
    }

    fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.key,
            key_id: &self.key_id,
        }
    }

    fn limits(&self) -> MutexGuard<'_, RateLimit> {
        lock(&self.limits)
    }

    /// Tells the push service that the outbox holds something new (an `Accept`).
    fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until the inbox queued something for the push service.
    async fn inbox_queued(&self) {
        self.wake.notified().await;
    }

    /// Runs a database step off the async threads (the ingest writer may hold the lock).
    async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        step: impl FnOnce(&mut Outbox) -> Result<T, OutboxError> + Send + 'static,
    ) -> anyhow::Result<T> {
        let this = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || step(&mut lock(&this.outbox)))
            .await
            .context("an ActivityPub database step stopped")?;
        Ok(result?)
    }

    /// What `/status` shows.
    pub fn status(&self) -> FediverseStatus {
        let mut status = lock(&self.status).clone();
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        status.sent = read(&self.counters.sent);
        status.failed = read(&self.counters.failed);
        status.dropped = read(&self.counters.dropped);
        status
    }

    /// Reads the followers, the pending deliveries and the hosts' signature forms again
    /// for `/status`.
    fn read_status(&self, outbox: &Outbox) -> Result<(), OutboxError> {
        let (followers, followers_by_host) = outbox.followers_by_host()?;
        let pending = outbox.pending_activities()?;
        let signature_forms = outbox
            .signature_forms()?
            .into_iter()
            .map(|(host, form): (String, SignatureForm)| (host, form.as_str()))
            .collect();
        let mut status = lock(&self.status);
        status.followers = followers;
        status.followers_by_host = followers_by_host;
        status.pending = pending;
        status.signature_forms = signature_forms;
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
