//! Push to aggregators (W3C WebSub Recommendation, 2018): both halves.
//!
//! - **Publisher.** Every feed names its hubs (`<link rel="hub">`, JSON Feed `hubs`,
//!   HTTP `Link`; see `render`). When a feed's document changes, each external hub in
//!   `websub.hubs` is sent `hub.mode=publish&hub.url={topic}`.
//! - **Hub** (`websub.hub`, at [`HUB_PATH`]). Subscribers subscribe to any of our feeds;
//!   the request is verified with the subscriber, the subscription kept in the database
//!   for its lease, and each new version of the feed POSTed to it, signed when it gave a
//!   secret.
//!
//! The service task watches the snapshots the ingest driver publishes; it never holds
//! up ingest or serving. Changes become rows of the outbox (`store::Outbox`) in the same
//! transaction that records the versions announced, and rows leave it only once sent, or
//! given up after `retry_seconds`: a restart loses no subscription and no pending push.
//! Requests being verified when the daemon stops are lost; their subscribers retry.

pub(crate) mod callback;
mod hub;
pub(crate) mod sender;
mod service;

pub use hub::{Hub, HubReply, MAX_FORM_BYTES};
pub use service::{Activities, BoxFuture, WebSub, start};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use url::Url;

use crate::config::WebSubConfig;
use crate::model::Secret;

/// Where the built-in hub answers.
pub const HUB_PATH: &str = "/hub";

/// The hubs every feed announces: the built-in one first (when on), then the external
/// ones, as configured.
pub fn hub_urls(config: &WebSubConfig, base: &str) -> Vec<String> {
    let own = config.hub.then(|| format!("{base}{HUB_PATH}"));
    own.into_iter()
        .chain(config.hubs.iter().map(|url| url.as_str().to_owned()))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribe => "subscribe",
            Self::Unsubscribe => "unsubscribe",
        }
    }
}

/// A subscription request the hub understood, waiting to be verified.
#[derive(Debug, Clone)]
pub struct Intent {
    pub mode: Mode,
    pub callback: Url,
    pub topic: String,
    /// The lease the hub grants (for a subscription).
    pub lease: Duration,
    pub secret: Option<Secret>,
}

/// The leases the hub grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leases {
    pub default: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl Leases {
    fn of(config: &WebSubConfig) -> Self {
        Self {
            default: config.lease,
            min: config.min_lease,
            max: config.max_lease,
        }
    }

    /// The lease asked for, within the bounds; the default when none was asked.
    pub fn grant(&self, asked: Option<Duration>) -> Duration {
        asked.map_or(self.default, |asked| asked.clamp(self.min, self.max))
    }
}

/// What `/status` and `/metrics` show of WebSub: the service updates it, the HTTP
/// workers read it.
#[derive(Debug, Default)]
pub struct Counters {
    pub subscriptions: AtomicU64,
    /// Deliveries and pings waiting (due now or later).
    pub pending: AtomicU64,
    /// Since start: sent and taken, failed attempts, and sends given up.
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

/// [`Counters`] at one moment, as `/status` writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CountersNow {
    pub subscriptions: u64,
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub dropped: u64,
}

impl Counters {
    pub fn now(&self) -> CountersNow {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CountersNow {
            subscriptions: read(&self.subscriptions),
            pending: read(&self.pending),
            sent: read(&self.sent),
            failed: read(&self.failed),
            dropped: read(&self.dropped),
        }
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show() {
        let secret = Secret::new("hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
        let intent = Intent {
            mode: Mode::Subscribe,
            callback: Url::parse("https://a.example/").unwrap(),
            topic: "t".into(),
            lease: Duration::from_secs(1),
            secret: Some(secret),
        };
        assert!(!format!("{intent:?}").contains("hunter2"));
    }

    #[test]
    fn leases_are_bounded() {
        let leases = Leases {
            default: Duration::from_secs(10),
            min: Duration::from_secs(5),
            max: Duration::from_secs(20),
        };
        assert_eq!(leases.grant(None), Duration::from_secs(10));
        assert_eq!(
            leases.grant(Some(Duration::from_secs(1))),
            Duration::from_secs(5)
        );
        assert_eq!(
            leases.grant(Some(Duration::from_secs(99))),
            Duration::from_secs(20)
        );
        assert_eq!(
            leases.grant(Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }
}
