//! The inbox (`/inbox`, the actor's own and the shared one): what other servers POST.
//!
//! A request is read only when it is signed, in either form in use (draft-cavage with
//! `Digest`, or RFC 9421 with `Content-Digest`), by a key whose owner is the activity's
//! actor. Then `Follow` records the follower and queues a signed `Accept`, `Undo` of a
//! `Follow` removes it, and `Delete` of an actor drops its follows; anything else is
//! taken (202) and ignored. Unsigned or badly signed requests get 401, a body over
//! [`MAX_BODY_BYTES`] 413, and a host that sends too many 429.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde_json::Value;
use url::Url;

use super::Fediverse;
use super::remote::{RemoteActor, RemoteError};
use super::signature::{self, SignatureClaim};

/// The largest activity the inbox reads: Mastodon's own limit is about 1 MB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the inbox answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxReply {
    pub status: u16,
    /// A line saying why, for a refusal.
    pub message: String,
}

impl InboxReply {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn accepted() -> Self {
        Self::new(202, "")
    }
}

/// What one request to the inbox carries.
pub struct InboxRequest<'a> {
    pub method: &'a str,
    /// The path and query, as requested.
    pub path_and_query: &'a str,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
}

impl Fediverse {
    /// Answers one POST to the inbox.
    pub async fn inbox(self: &Arc<Self>, request: InboxRequest<'_>) -> InboxReply {
        let reply = self.take(request).await;
        if reply.status >= 400 {
            tracing::info!(status = reply.status, reason = %reply.message, "ActivityPub: inbox request refused");
        }
        reply
    }

    async fn take(self: &Arc<Self>, request: InboxRequest<'_>) -> InboxReply {
        if request.body.len() > MAX_BODY_BYTES {
            return InboxReply::new(413, "the activity is too large");
        }
        // The URL the sender signed: ours, from base_url, never from the Host header.
        let Ok(target) = Url::parse(&format!("{}{}", self.base, request.path_and_query)) else {
            return InboxReply::new(400, "the request's path is not a URL");
        };
        let claim = match signature::parse(request.method, &target, request.headers) {
            Ok(claim) => claim,
            Err(error) => return InboxReply::new(401, format!("not signed: {error}")),
        };
        // A stale request is refused before any key is fetched for it.
        if let Err(error) = claim.check_time(std::time::SystemTime::now()) {
            return InboxReply::new(401, format!("the signature's time: {error}"));
        }
        let host = Url::parse(claim.key_id())
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default();
        if let Err(wait) = self.limits().take(&host, Instant::now()) {
            return InboxReply::new(
                429,
                format!("too many requests; wait {} s", wait.as_secs() + 1),
            );
        }
        let Ok(activity) = serde_json::from_slice::<Value>(request.body) else {
            return InboxReply::new(400, "the body is not JSON");
        };
        let actor = match self.verified(&claim, request.body).await {
            Ok(actor) => actor,
            Err(Refused::Gone(error)) if is_own_delete(&activity, claim.key_id()) => {
                // An actor deleted from its server signs its own Delete with a key that
                // is no longer served; that its own document is gone is the proof.
                return self.actor_gone(&activity, &error).await;
            }
            Err(Refused::Gone(error) | Refused::Key(error)) => {
                return InboxReply::new(401, format!("the signing key: {error}"));
            }
            Err(Refused::Signature(why)) => return InboxReply::new(401, why),
        };
        if activity.get("actor").and_then(id_of) != Some(actor.id.as_str()) {
            return InboxReply::new(401, "the activity's actor does not own the signing key");
        }
        self.dispatch(&activity, &actor).await
    }

    /// The actor whose key signed the request, once the signature is checked; a failed
    /// check with a key kept from before is tried once with the key fetched again.
    async fn verified(
        self: &Arc<Self>,
        claim: &SignatureClaim,
        body: &[u8],
    ) -> Result<Arc<RemoteActor>, Refused> {
        let mut fresh = false;
        loop {
            let (actor, kept) = self
                .actors
                .by_key(claim.key_id(), fresh, &self.client, &self.signer())
                .await
                .map_err(|error| {
                    if error.gone() {
                        Refused::Gone(error)
                    } else {
                        Refused::Key(error)
                    }
                })?;
            match signature::verify(claim, body, &actor.key, std::time::SystemTime::now()) {
                Ok(()) => return Ok(actor),
                // Only a kept key may be out of date.
                Err(error) if !kept => return Err(Refused::Signature(error.to_string())),
                Err(_) => fresh = true,
            }
        }
    }

    async fn dispatch(self: &Arc<Self>, activity: &Value, actor: &RemoteActor) -> InboxReply {
        let kind = activity.get("type").and_then(Value::as_str).unwrap_or("");
        let object = activity.get("object");
        match kind {
            "Follow" if object.and_then(id_of) == Some(self.actor_id.as_str()) => {
                self.followed(activity, actor).await
            }
            "Undo"
                if object.and_then(|o| o.get("type")).and_then(Value::as_str) == Some("Follow") =>
            {
                self.unfollowed(&actor.id, "Undo Follow").await
            }
            "Delete" if object.and_then(id_of) == Some(actor.id.as_str()) => {
                self.unfollowed(&actor.id, "Delete of the actor").await
            }
            _ => InboxReply::accepted(),
        }
    }

    async fn followed(self: &Arc<Self>, follow: &Value, actor: &RemoteActor) -> InboxReply {
        let host = Url::parse(&actor.inbox)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let (id, inbox, json) = (actor.id.clone(), actor.inbox.clone(), follow.to_string());
        let recorded = self
            .db(move |outbox| outbox.follow(&id, &inbox, &host, &json, Utc::now()))
            .await;
        match recorded {
            Ok(()) => {
                tracing::info!(follower = %actor.id, inbox = %actor.inbox, "ActivityPub: new follower");
                self.wake();
                InboxReply::accepted()
            }
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "ActivityPub: a follow could not be recorded");
                InboxReply::new(503, "the follow could not be recorded; try again")
            }
        }
    }

    async fn unfollowed(self: &Arc<Self>, actor: &str, why: &'static str) -> InboxReply {
        let id = actor.to_owned();
        match self.db(move |outbox| outbox.unfollow(&id)).await {
            Ok(was) => {
                if was {
                    tracing::info!(follower = %actor, why, "ActivityPub: follower gone");
                    self.wake();
                }
                InboxReply::accepted()
            }
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "ActivityPub: an unfollow could not be recorded");
                InboxReply::new(503, "the change could not be recorded; try again")
            }
        }
    }

    async fn actor_gone(self: &Arc<Self>, activity: &Value, error: &RemoteError) -> InboxReply {
        let Some(actor) = activity.get("actor").and_then(id_of) else {
            return InboxReply::new(401, format!("the signing key: {error}"));
        };
        self.unfollowed(actor, "its server says it is gone").await
    }
}

enum Refused {
    /// The key's document answered 404 or 410.
    Gone(RemoteError),
    Key(RemoteError),
    Signature(String),
}

/// A `Delete` whose object is its actor, signed with a key of that actor's own document
/// (`{actor}#main-key`): then a 410 for the key is the actor's own.
fn is_own_delete(activity: &Value, key_id: &str) -> bool {
    let actor = activity.get("actor").and_then(id_of);
    activity.get("type").and_then(Value::as_str) == Some("Delete")
        && actor.is_some()
        && activity.get("object").and_then(id_of) == actor
        && key_id.split('#').next() == actor
}

/// The id of a JSON-LD reference: the string itself, or an object's `id`.
fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(id) => Some(id),
        Value::Object(object) => object.get("id").and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_actor_whose_own_key_is_gone_may_be_dropped_unverified() {
        let delete =
            |actor: &str, object: &str| json!({"type": "Delete", "actor": actor, "object": object});
        let alice = "https://m.example/users/alice";
        let key = format!("{alice}#main-key");
        assert!(is_own_delete(&delete(alice, alice), &key));
        // A key elsewhere that answers 410 proves nothing about alice.
        assert!(!is_own_delete(
            &delete(alice, alice),
            "https://evil.example/k#main-key"
        ));
        assert!(!is_own_delete(
            &delete(alice, "https://m.example/notes/1"),
            &key
        ));
        let follow = json!({"type": "Follow", "actor": alice, "object": alice});
        assert!(!is_own_delete(&follow, &key));
    }
}
