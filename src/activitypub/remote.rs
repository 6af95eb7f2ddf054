//! Other servers' actors, as the inbox needs them: the key a request was signed with,
//! the actor that owns it, and where that actor's activities are to be delivered. A key
//! is fetched by its id (a signed GET: servers in authorized-fetch mode ask for one),
//! kept for a day, and fetched again once when a signature made with it fails, which is
//! how a rotated key is learnt.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lru::LruCache;
use serde_json::Value;
use url::Url;

use super::client::Client;
use super::keys::RemoteKey;
use super::signature::Signer;
use crate::store::SignatureForm;
use crate::websub::sender::Failure;

/// How long a fetched key is trusted without a new fetch.
const KEY_TTL: Duration = Duration::from_secs(24 * 3600);

/// Keys kept at once.
const KEYS_KEPT: usize = 4096;

/// Another server's actor, as far as the inbox needs it.
#[derive(Debug)]
pub(super) struct RemoteActor {
    pub id: String,
    /// Where deliveries to it go: its server's shared inbox, else its own.
    pub inbox: String,
    pub key: RemoteKey,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum RemoteError {
    #[error("fetching {url}: {failure}")]
    Fetch { url: String, failure: Failure },
    #[error("fetching {url}: the server answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} is not an actor with the key {key_id}: {why}")]
    NotActor {
        url: String,
        key_id: String,
        why: &'static str,
    },
}

impl RemoteError {
    /// Whether the server said the actor is gone (404 or 410).
    pub fn gone(&self) -> bool {
        matches!(
            self,
            Self::Status {
                status: 404 | 410,
                ..
            }
        )
    }
}

pub(super) struct Actors {
    cache: Mutex<LruCache<String, (Arc<RemoteActor>, Instant)>>,
}

impl Actors {
    pub fn new() -> Self {
        let size = NonZeroUsize::new(KEYS_KEPT).unwrap_or(NonZeroUsize::MIN);
        Self {
            cache: Mutex::new(LruCache::new(size)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, (Arc<RemoteActor>, Instant)>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The actor that owns `key_id`: kept (then `true`), or fetched (`fresh` forces a
    /// fetch).
    pub async fn by_key(
        &self,
        key_id: &str,
        fresh: bool,
        client: &Client,
        signer: &Signer<'_>,
    ) -> Result<(Arc<RemoteActor>, bool), RemoteError> {
        if !fresh
            && let Some((actor, at)) = self.lock().get(key_id)
            && at.elapsed() < KEY_TTL
        {
            return Ok((Arc::clone(actor), true));
        }
        let actor = Arc::new(fetch_actor(key_id, client, signer).await?);
        self.lock()
            .put(key_id.to_owned(), (Arc::clone(&actor), Instant::now()));
        Ok((actor, false))
    }
}

async fn get_json(url: &str, client: &Client, signer: &Signer<'_>) -> Result<Value, RemoteError> {
    let parsed = Url::parse(url).map_err(|_| RemoteError::NotActor {
        url: url.to_owned(),
        key_id: url.to_owned(),
        why: "the key id is not a URL",
    })?;
    // RFC 9421 is what a server that asks for signed fetches checks first today; one that
    // refuses it gets draft-cavage, as deliveries do.
    let mut answer = client.fetch(&parsed, signer, SignatureForm::Rfc9421).await;
    if matches!(answer, Ok((401 | 403, _))) {
        answer = client.fetch(&parsed, signer, SignatureForm::Cavage).await;
    }
    let (status, body) = answer.map_err(|failure| RemoteError::Fetch {
        url: url.to_owned(),
        failure,
    })?;
    if !(200..300).contains(&status) {
        return Err(RemoteError::Status {
            url: url.to_owned(),
            status,
        });
    }
    serde_json::from_slice(&body).map_err(|_| RemoteError::NotActor {
        url: url.to_owned(),
        key_id: url.to_owned(),
        why: "the answer is not JSON",
    })
}

/// Fetches the document a key id names (the fragment dropped): an actor that lists the
/// key, or a key document whose owner is then fetched.
async fn fetch_actor(
    key_id: &str,
    client: &Client,
    signer: &Signer<'_>,
) -> Result<RemoteActor, RemoteError> {
    let document_url = key_id.split('#').next().unwrap_or(key_id);
    let document = get_json(document_url, client, signer).await?;
    let not = |why| RemoteError::NotActor {
        url: document_url.to_owned(),
        key_id: key_id.to_owned(),
        why,
    };
    if document.get("inbox").is_some() {
        return actor_with_key(&document, key_id).ok_or_else(|| not("it lists no such key"));
    }
    // A key of its own (some servers serve `…#main-key` as a document): its owner.
    let owner = document
        .get("owner")
        .and_then(Value::as_str)
        .ok_or_else(|| not("it is neither an actor nor a key with an owner"))?;
    let actor = get_json(owner, client, signer).await?;
    actor_with_key(&actor, key_id).ok_or_else(|| not("its owner does not list the key"))
}

/// The actor in `document`, with the key `key_id` among its `publicKey`s.
pub(super) fn actor_with_key(document: &Value, key_id: &str) -> Option<RemoteActor> {
    let id = document.get("id")?.as_str()?;
    let own_inbox = document.get("inbox")?.as_str()?;
    let shared = document
        .get("endpoints")
        .and_then(|e| e.get("sharedInbox"))
        .and_then(Value::as_str);
    let keys: Vec<&Value> = match document.get("publicKey")? {
        Value::Array(keys) => keys.iter().collect(),
        key => vec![key],
    };
    let key = keys
        .into_iter()
        .find(|key| key.get("id").and_then(Value::as_str) == Some(key_id))?;
    // The key must say it is this actor's: another actor's key in the list proves nothing.
    if key
        .get("owner")
        .and_then(Value::as_str)
        .is_some_and(|owner| owner != id)
    {
        return None;
    }
    let pem = key.get("publicKeyPem")?.as_str()?;
    let key = RemoteKey::from_pem(pem).ok()?;
    let inbox = shared.unwrap_or(own_inbox);
    // Deliveries go only to web URLs.
    let scheme_ok = |url: &str| url.starts_with("https://") || url.starts_with("http://");
    (scheme_ok(inbox)).then(|| RemoteActor {
        id: id.to_owned(),
        inbox: inbox.to_owned(),
        key,
    })
}
