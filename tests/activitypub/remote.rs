//! The other side of the federation: a small server on loopback that plays another
//! fediverse server. It serves its actors' documents (with their public keys), takes
//! POSTs at its shared inbox (answering as told, and recording each with whether its
//! signature verified against the site's key), and signs the activities the tests send
//! to the site's inbox.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use seedfeed::activitypub::keys::{InstanceKey, RemoteKey};
use seedfeed::activitypub::signature::{self, OutgoingRequest, SignatureForm, Signer};
use serde_json::{Value, json};
use url::Url;

use crate::common::daemon::patient_client;

/// What the inbox answers to a POST signed in one form.
#[derive(Debug, Clone, Copy)]
pub struct InboxAnswers {
    pub rfc9421: u16,
    pub cavage: u16,
}

impl InboxAnswers {
    pub const OK: Self = Self {
        rfc9421: 202,
        cavage: 202,
    };

    /// A server that is down for the moment.
    pub const DOWN: Self = Self {
        rfc9421: 503,
        cavage: 503,
    };
}

/// One POST the shared inbox took.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub form: SignatureForm,
    /// Whether the signature verified with the site's key.
    pub verified: bool,
    pub answered: u16,
    pub activity: Value,
}

impl Delivery {
    pub fn kind(&self) -> &str {
        self.activity["type"].as_str().unwrap_or("")
    }

    /// The id of the activity's object.
    pub fn object_id(&self) -> &str {
        let object = &self.activity["object"];
        object["id"].as_str().or(object.as_str()).unwrap_or("")
    }
}

struct Shared {
    key: Mutex<InstanceKey>,
    base: String,
    answers: Mutex<InboxAnswers>,
    deliveries: Mutex<Vec<Delivery>>,
    /// The site's public key, once known, to check deliveries with.
    site_key: Mutex<Option<RemoteKey>>,
    /// Whether actor documents are served (false: they answer 410, as for a deleted one).
    actors_served: Mutex<bool>,
}

pub struct Remote {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _task: tokio::task::JoinHandle<()>,
}

impl Remote {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            key: Mutex::new(InstanceKey::generate().unwrap()),
            base: format!("http://{addr}"),
            answers: Mutex::new(InboxAnswers::OK),
            deliveries: Mutex::new(Vec::new()),
            site_key: Mutex::new(None),
            actors_served: Mutex::new(true),
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            shared,
            _task: task,
        }
    }

    pub fn actor_id(&self, name: &str) -> String {
        format!("http://{}/users/{name}", self.addr)
    }

    pub fn set_answers(&self, answers: InboxAnswers) {
        *self.shared.answers.lock().unwrap() = answers;
    }

    /// Gives every actor a new key, as a server that rotates its keys does.
    pub fn rotate_key(&self) {
        *self.shared.key.lock().unwrap() = InstanceKey::generate().unwrap();
    }

    pub fn serve_actors(&self, served: bool) {
        *self.shared.actors_served.lock().unwrap() = served;
    }

    /// Learns the site's key from its actor document, to verify deliveries with.
    pub fn trust(&self, actor: &Value) {
        let pem = actor["publicKey"]["publicKeyPem"].as_str().unwrap();
        *self.shared.site_key.lock().unwrap() = Some(RemoteKey::from_pem(pem).unwrap());
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().unwrap().clone()
    }

    /// A Follow of `object` by `name`.
    pub fn follow(&self, name: &str, object: &str) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#follows/{}", self.actor_id(name), uuid::Uuid::new_v4()),
            "type": "Follow",
            "actor": self.actor_id(name),
            "object": object,
        })
    }

    pub fn undo(&self, name: &str, follow: &Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#undo/{}", self.actor_id(name), uuid::Uuid::new_v4()),
            "type": "Undo",
            "actor": self.actor_id(name),
            "object": follow,
        })
    }

    /// The headers of a POST of `body` to `inbox`, signed as `name` in `form`.
    pub fn signed_headers(
        &self,
        name: &str,
        inbox: &str,
        body: &[u8],
        form: SignatureForm,
    ) -> reqwest::header::HeaderMap {
        let url = Url::parse(inbox).unwrap();
        let key_id = format!("{}#main-key", self.actor_id(name));
        let key = self.shared.key.lock().unwrap();
        let signer = Signer {
            key_id: &key_id,
            key: &key,
        };
        let request = OutgoingRequest {
            method: "POST",
            url: &url,
            body: Some(body),
        };
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/activity+json"),
        );
        let now = std::time::SystemTime::now();
        match form {
            SignatureForm::Rfc9421 => signer.sign_rfc9421(&request, &mut headers, now),
            SignatureForm::Cavage => signer.sign_cavage(&request, &mut headers, now),
        }
        .unwrap();
        headers
    }

    /// POSTs `activity` to `inbox`, signed as `name`; the status.
    pub async fn send(
        &self,
        name: &str,
        inbox: &str,
        activity: &Value,
        form: SignatureForm,
    ) -> u16 {
        let body = serde_json::to_vec(activity).unwrap();
        let headers = self.signed_headers(name, inbox, &body, form);
        patient_client()
            .post(inbox)
            .headers(headers)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    match (parts.method.clone(), path.as_str()) {
        (Method::GET, p) if p.starts_with("/users/") => actor(&shared, &p["/users/".len()..]),
        (Method::POST, "/inbox") => take(&shared, &parts.uri.to_string(), &parts.headers, body),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn actor(shared: &Shared, name: &str) -> Response {
    if !*shared.actors_served.lock().unwrap() {
        return StatusCode::GONE.into_response();
    }
    let id = format!("{}/users/{name}", shared.base);
    let document = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "endpoints": {"sharedInbox": format!("{}/inbox", shared.base)},
        "publicKey": {
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": shared.key.lock().unwrap().public_key_pem(),
        },
    });
    (
        [(CONTENT_TYPE, "application/activity+json")],
        document.to_string(),
    )
        .into_response()
}

fn take(shared: &Shared, path: &str, headers: &HeaderMap, body: Bytes) -> Response {
    let url = Url::parse(&format!("{}{path}", shared.base)).unwrap();
    let claim = signature::parse("POST", &url, headers);
    let form = claim
        .as_ref()
        .map(signature::SignatureClaim::form)
        .unwrap_or(SignatureForm::Cavage);
    let verified = match (&claim, shared.site_key.lock().unwrap().as_ref()) {
        (Ok(claim), Some(key)) => {
            signature::verify(claim, &body, key, std::time::SystemTime::now()).is_ok()
        }
        _ => false,
    };
    let answers = *shared.answers.lock().unwrap();
    let answered = match form {
        SignatureForm::Rfc9421 => answers.rfc9421,
        SignatureForm::Cavage => answers.cavage,
    };
    shared.deliveries.lock().unwrap().push(Delivery {
        form,
        verified,
        answered,
        activity: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    StatusCode::from_u16(answered).unwrap().into_response()
}
