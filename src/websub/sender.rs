//! The hub's outgoing requests: verifications of intent, denials, deliveries and pings.
//!
//! Every request has a timeout (connection included) and reads at most a few KiB of the
//! answer; redirects are not followed (a callback answers for itself). At most
//! `max_concurrent_requests` are in flight, and at most [`PER_HOST`] to one host, so a
//! subscriber that hangs holds a couple of slots until its timeout, never the others'.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderValue, LINK};
use sha2::Sha256;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::Mode;
use super::callback::{CheckedResolver, Policy, host_of};
use crate::config::WebSubConfig;
use crate::model::Secret;

/// Requests in flight to one host at most.
const PER_HOST: usize = 2;

/// The most of an answer that is read: a challenge echoed back, or an error's start.
const MAX_ANSWER_BYTES: usize = 4096;

/// Why a request did not do its job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Try again later: a network error, a timeout, a 5xx, a 429…
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help (a 4xx from a hub).
    #[error("{0}")]
    Refused(String),
    /// `410 Gone`: the subscriber wants no more.
    #[error("410 Gone")]
    Gone,
}

pub struct Sender {
    /// For callbacks: their addresses are checked by the resolver.
    callbacks: reqwest::Client,
    /// For the operator's own hubs, which may be anywhere.
    hubs: reqwest::Client,
    policy: Policy,
    slots: Slots,
}

/// The two permits a request holds while in flight: its host's and one of all.
pub(crate) type Slot = (OwnedSemaphorePermit, OwnedSemaphorePermit);

/// Outgoing requests in flight: at most `per_host` to one host and a number in all, so
/// that a host that hangs holds a few slots until its timeouts, never the others'.
pub(crate) struct Slots {
    all: Arc<Semaphore>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Slots {
    pub(crate) fn new(all: usize, per_host: usize) -> Self {
        Self {
            all: Arc::new(Semaphore::new(all.max(1))),
            per_host: per_host.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot for `url`'s host, then for one of all.
    pub(crate) async fn acquire(&self, url: &Url) -> Slot {
        let host = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            // Forget hosts nobody is waiting on, so the table stays small.
            if hosts.len() > 1024 {
                hosts.retain(|_, s| Arc::strong_count(s) > 1);
            }
            Arc::clone(
                hosts
                    .entry(host_of(url))
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
            )
        };
        // Neither semaphore is ever closed.
        let (Ok(own), Ok(any)) = (
            host.acquire_owned().await,
            Arc::clone(&self.all).acquire_owned().await,
        ) else {
            unreachable!("the outgoing requests' semaphores are never closed")
        };
        (own, any)
    }
}

impl Sender {
    pub fn new(config: &WebSubConfig) -> Result<Self, reqwest::Error> {
        // reqwest is built without a default crypto provider; ring is ours. Installing
        // fails only when one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Policy {
            allow_private: config.allow_private_callbacks,
        };
        let client = |resolver: Option<CheckedResolver>| {
            let mut builder = reqwest::Client::builder()
                .user_agent(concat!(
                    "seedfeed/",
                    env!("CARGO_PKG_VERSION"),
                    " (WebSub hub)"
                ))
                .timeout(config.request_timeout)
                .connect_timeout(config.request_timeout.min(Duration::from_secs(5)))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .pool_idle_timeout(Duration::from_secs(30));
            if let Some(resolver) = resolver {
                builder = builder.dns_resolver(resolver);
            }
            builder.build()
        };
        Ok(Self {
            callbacks: client(Some(CheckedResolver { policy }))?,
            hubs: client(None)?,
            policy,
            slots: Slots::new(config.max_concurrent_requests, PER_HOST),
        })
    }

    /// Verification of intent (WebSub §5.3): a GET with a challenge, which the
    /// subscriber must echo with a 2xx.
    pub async fn verify(
        &self,
        callback: &Url,
        mode: Mode,
        topic: &str,
        lease: Option<Duration>,
    ) -> Result<(), Failure> {
        let challenge = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut url = callback.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("hub.mode", mode.as_str())
                .append_pair("hub.topic", topic)
                .append_pair("hub.challenge", &challenge);
            if let Some(lease) = lease {
                query.append_pair("hub.lease_seconds", &lease.as_secs().to_string());
            }
        }
        let (status, body) = self.get(&url).await?;
        if !status.is_success() {
            return Err(Failure::Refused(format!(
                "the callback answered {status} to the challenge"
            )));
        }
        if body != challenge.as_bytes() {
            return Err(Failure::Refused(
                "the callback did not echo the challenge".into(),
            ));
        }
        Ok(())
    }

    /// Tells a subscriber its subscription was denied (WebSub §5.2). Sent once.
    pub async fn deny(&self, callback: &Url, topic: &str, reason: &str) -> Result<(), Failure> {
        let mut url = callback.clone();
        url.query_pairs_mut()
            .append_pair("hub.mode", "denied")
            .append_pair("hub.topic", topic)
            .append_pair("hub.reason", reason);
        self.get(&url).await.map(drop)
    }

    async fn get(&self, url: &Url) -> Result<(reqwest::StatusCode, Vec<u8>), Failure> {
        self.policy
            .check(url)
            .map_err(|e| Failure::Refused(e.to_string()))?;
        self.send(url, self.callbacks.get(url.clone())).await
    }

    /// Sends a request to `url` once a slot for it is free; returns the status and the
    /// start of the answer (read also so that the connection can be used again). The
    /// status decides: an answer cut short after it reads as empty.
    async fn send(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), Failure> {
        let _slot = self.slots.acquire(url).await;
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?;
        let status = response.status();
        Ok((status, read_some(response).await.unwrap_or_default()))
    }

    /// Content distribution (WebSub §7): the topic's document, its type, the `Link`
    /// header that names the hubs and the topic, and, with a secret, the body's
    /// HMAC-SHA256 as `X-Hub-Signature`.
    pub async fn deliver(
        &self,
        callback: &Url,
        body: Bytes,
        media_type: &'static str,
        links: Option<&Bytes>,
        secret: Option<&Secret>,
    ) -> Result<(), Failure> {
        self.policy
            .check(callback)
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let mut request = self
            .callbacks
            .post(callback.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static(media_type));
        if let Some(links) = links.and_then(|l| HeaderValue::from_maybe_shared(l.clone()).ok()) {
            request = request.header(LINK, links);
        }
        if let Some(secret) = secret {
            request = request.header("X-Hub-Signature", signature(secret, &body));
        }
        let (status, _) = self.send(callback, request.body(body)).await?;
        match status.as_u16() {
            200..=299 => Ok(()),
            410 => Err(Failure::Gone),
            _ => Err(Failure::Transient(format!(
                "the callback answered {status}"
            ))),
        }
    }

    /// Tells an external hub that a topic changed: `hub.mode=publish&hub.url=…`, the
    /// form most hubs take (WebSub leaves publishing to each hub).
    pub async fn ping(&self, hub: &Url, topic: &str) -> Result<(), Failure> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", topic)
            .finish();
        let request = self
            .hubs
            .post(hub.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(form);
        let (status, _) = self.send(hub, request).await?;
        match status.as_u16() {
            200..=299 => Ok(()),
            408 | 425 | 429 | 500..=599 => {
                Err(Failure::Transient(format!("the hub answered {status}")))
            }
            _ => Err(Failure::Refused(format!("the hub answered {status}"))),
        }
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of the body under the secret.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// At most [`MAX_ANSWER_BYTES`] of an answer's body.
async fn read_some(mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::Transient(describe(&e)))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            body.truncate(MAX_ANSWER_BYTES + 1);
            break;
        }
    }
    Ok(body)
}

/// A request error with its causes on one line (reqwest's own message is only the
/// outermost: "error sending request").
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        let secret = Secret::new("Jefe".into());
        assert_eq!(
            signature(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
