//! The fediverse's outgoing requests: signed GETs of other servers' actors and signed
//! POSTs of activities to their inboxes. Every request has a timeout and goes through
//! the resolver WebSub's callbacks use, so that, unless `allow_private` is on, no actor
//! or inbox URL makes this server call into its own network. At most [`PER_HOST`]
//! requests are in flight to one host and `max_concurrent_requests` in all, and a host
//! is sent at most `deliveries_per_second` POSTs a second (WebSub's [`Slots`] and pacing).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use url::Url;

use super::signature::{OutgoingRequest, Signer};
use crate::store::SignatureForm;
use crate::websub::callback::{CheckedResolver, Policy, host_of};
use crate::websub::sender::{Failure, Slots, describe};

/// Requests in flight to one host at most.
const PER_HOST: usize = 4;

/// The most of an actor document that is read.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// What an inbox's answer is read of: its status decides.
const MAX_ANSWER_BYTES: usize = 4096;

pub(super) const ACTIVITY_JSON: &str = "application/activity+json";

pub(super) struct Client {
    http: reqwest::Client,
    policy: Policy,
    slots: Slots,
    /// When each host may next be sent a POST.
    paced: Mutex<HashMap<String, Instant>>,
    gap: Duration,
}

/// The answer to a POST: its status, and the form of signature it carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Posted {
    pub status: u16,
    pub form: SignatureForm,
}

impl Client {
    pub fn new(
        allow_private: bool,
        timeout: Duration,
        max_concurrent: usize,
        per_second: u32,
    ) -> Result<Self, reqwest::Error> {
        // reqwest is built without a default crypto provider; ring is ours. Installing
        // fails only when one is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Policy { allow_private };
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "seedfeed/",
                env!("CARGO_PKG_VERSION"),
                " (ActivityPub)"
            ))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(30))
            .dns_resolver(CheckedResolver { policy })
            .build()?;
        Ok(Self {
            http,
            policy,
            slots: Slots::new(max_concurrent, PER_HOST),
            paced: Mutex::new(HashMap::new()),
            gap: Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))),
        })
    }

    /// Waits until `host` may be sent another POST: a burst of articles is spread out
    /// rather than sent to one server at once.
    async fn pace(&self, host: &str) {
        let wait = {
            let mut paced = self.paced.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if paced.len() > 4096 {
                paced.retain(|_, at| *at > now);
            }
            let at = paced
                .get(host)
                .copied()
                .filter(|at| *at > now)
                .unwrap_or(now);
            paced.insert(host.to_owned(), at + self.gap);
            at - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// A signed GET of an ActivityPub document (an actor, a key); its JSON.
    pub async fn fetch(
        &self,
        url: &Url,
        signer: &Signer<'_>,
        form: SignatureForm,
    ) -> Result<(u16, Bytes), Failure> {
        self.policy
            .check(url)
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(ACTIVITY_JSON));
        sign(form, signer, "GET", url, &mut headers, None)?;
        let _slot = self.slots.acquire(url).await;
        let response = self
            .http
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?;
        let status = response.status().as_u16();
        let body = read_at_most(response, MAX_DOCUMENT_BYTES).await?;
        Ok((status, body))
    }

    /// POSTs an activity to an inbox, signed first in `form`; a 401 or 403 to an RFC
    /// 9421 signature is tried once more with draft-cavage ("double knocking").
    pub async fn post(
        &self,
        inbox: &Url,
        body: Bytes,
        signer: &Signer<'_>,
        form: SignatureForm,
    ) -> Result<Posted, Failure> {
        self.policy
            .check(inbox)
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let host = host_of(inbox);
        let mut form = form;
        loop {
            self.pace(&host).await;
            let status = self.post_once(inbox, &body, signer, form).await?;
            if matches!(status, 401 | 403) && form == SignatureForm::Rfc9421 {
                form = SignatureForm::Cavage;
                continue;
            }
            return Ok(Posted { status, form });
        }
    }

    async fn post_once(
        &self,
        inbox: &Url,
        body: &Bytes,
        signer: &Signer<'_>,
        form: SignatureForm,
    ) -> Result<u16, Failure> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
        headers.insert(ACCEPT, HeaderValue::from_static(ACTIVITY_JSON));
        sign(form, signer, "POST", inbox, &mut headers, Some(body))?;
        let _slot = self.slots.acquire(inbox).await;
        let response = self
            .http
            .post(inbox.clone())
            .headers(headers)
            .body(body.clone())
            .send()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?;
        let status = response.status().as_u16();
        // Read so that the connection can be used again; the status decides.
        let _ = read_at_most(response, MAX_ANSWER_BYTES).await;
        Ok(status)
    }
}

fn sign(
    form: SignatureForm,
    signer: &Signer<'_>,
    method: &str,
    url: &Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
) -> Result<(), Failure> {
    let request = OutgoingRequest { method, url, body };
    let now = std::time::SystemTime::now();
    match form {
        SignatureForm::Rfc9421 => signer.sign_rfc9421(&request, headers, now),
        SignatureForm::Cavage => signer.sign_cavage(&request, headers, now),
    }
    .map_err(|error| Failure::Refused(format!("signing the request: {error}")))
}

/// At most `limit` bytes of an answer's body; more is an error (an actor document that
/// large is not one).
async fn read_at_most(mut response: reqwest::Response, limit: usize) -> Result<Bytes, Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::Transient(describe(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(Failure::Refused(format!(
                "the answer is over {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
