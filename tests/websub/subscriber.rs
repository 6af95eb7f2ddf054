//! The other end of the hub: small servers on loopback that act as WebSub subscribers
//! (or as external hubs taking pings), answer as told, and record every request.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;
use url::form_urlencoded;

use crate::common::daemon::patient_client;
use crate::common::poll::PATIENCE;
use crate::links::{assert_links, signature};

/// One request a [`Subscriber`] got, and what it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// The status it answered (or will answer, for a held request); 0 if it never does.
    pub answered: u16,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }

    /// A form-encoded body's value of `name` (what external hubs get).
    pub fn form(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn is_delivery(&self) -> bool {
        self.method == Method::POST
    }

    pub fn summary(&self) -> String {
        let body = self.text();
        let cut = body.char_indices().nth(120).map_or(body.len(), |(i, _)| i);
        format!(
            "{} {} {:?} -> {} [{}]",
            self.method,
            self.path,
            self.query,
            self.answered,
            &body[..cut]
        )
    }
}

/// How a subscriber answers a verification of intent.
#[derive(Debug, Clone, Copy)]
pub enum Verify {
    /// 200 with the challenge: agrees.
    Echo,
    /// This status with a short body that is not the challenge.
    Status(u16),
    /// 200 with a body that is not the challenge.
    WrongBody,
    /// 200 with nothing.
    Empty,
}

/// How a subscriber answers one delivery (a POST).
#[derive(Debug, Clone)]
pub enum Deliver {
    Status(u16),
    /// Never answers (longer than any test).
    Hang,
    /// Answers this status once the test says so.
    HoldThen(Arc<Notify>, u16),
}

#[derive(Debug, Clone)]
pub struct Behaviour {
    pub subscribe: Verify,
    pub unsubscribe: Verify,
    /// The answers to the first deliveries, in order.
    pub first: VecDeque<Deliver>,
    /// The answer to every delivery after those.
    pub then: Deliver,
}

impl Behaviour {
    /// Agrees to everything and takes every delivery.
    pub fn ok() -> Self {
        Self {
            subscribe: Verify::Echo,
            unsubscribe: Verify::Echo,
            first: VecDeque::new(),
            then: Deliver::Status(200),
        }
    }

    pub fn verify(subscribe: Verify) -> Self {
        Self {
            subscribe,
            ..Self::ok()
        }
    }

    /// Answers the first deliveries with `first`, then `then`.
    pub fn deliveries(first: Vec<Deliver>, then: Deliver) -> Self {
        Self {
            first: first.into(),
            then,
            ..Self::ok()
        }
    }
}

struct Shared {
    log: Mutex<Vec<Received>>,
    notify: Notify,
    behaviour: Mutex<Behaviour>,
}

/// A WebSub subscriber (or a fake external hub) on 127.0.0.1: answers as told and records
/// every request.
pub struct Subscriber {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    pub async fn start(behaviour: Behaviour) -> Self {
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            notify: Notify::new(),
            behaviour: Mutex::new(behaviour),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, shared, task }
    }

    /// The callback URL, with a query of its own the hub must keep.
    pub fn callback(&self) -> String {
        self.url("/callback?client=test")
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn deliveries(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(Received::is_delivery)
            .collect()
    }

    pub fn clear(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    pub fn summary(&self) -> String {
        self.requests()
            .iter()
            .map(|r| format!("\n  {}", r.summary()))
            .collect()
    }

    /// Waits for the first request that satisfies `pred`, or fails after [`PATIENCE`].
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Received) -> bool) -> Received {
        self.wait_until(what, |log| log.iter().find(|r| pred(r)).cloned())
            .await
    }

    /// Waits until `check` finds something in the log, or fails after [`PATIENCE`].
    pub async fn wait_until<T>(&self, what: &str, check: impl Fn(&[Received]) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let notified = self.shared.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = check(&self.shared.log.lock().unwrap()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "{}: gave up waiting for {what}; got:{}",
                    self.addr,
                    self.summary()
                );
            }
        }
    }

    /// The verification of intent (or denial) for `topic` with this `hub.mode`.
    pub async fn verification(&self, mode: &str, topic: &str) -> Received {
        self.wait_for(&format!("hub.mode={mode} for {topic}"), |r| {
            r.method == Method::GET
                && r.param("hub.mode") == Some(mode)
                && r.param("hub.topic") == Some(topic)
        })
        .await
    }

    /// The first delivery whose body contains `needle`.
    pub async fn delivery_with(&self, needle: &str) -> Received {
        self.wait_for(&format!("a delivery with {needle}"), |r| {
            r.is_delivery() && r.contains(needle)
        })
        .await
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let mut received = Received {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers,
        body,
        at: Instant::now(),
        answered: 0,
    };
    enum Reply {
        Now(u16, String),
        Hold(Arc<Notify>, u16),
        Hang,
    }
    let reply = {
        let mut behaviour = shared.behaviour.lock().unwrap();
        if received.method == Method::POST {
            let deliver = behaviour
                .first
                .pop_front()
                .unwrap_or_else(|| behaviour.then.clone());
            match deliver {
                Deliver::Status(status) => Reply::Now(status, String::new()),
                Deliver::Hang => Reply::Hang,
                Deliver::HoldThen(release, status) => Reply::Hold(release, status),
            }
        } else {
            let verify = match received.param("hub.mode") {
                Some("subscribe") => Some(behaviour.subscribe),
                Some("unsubscribe") => Some(behaviour.unsubscribe),
                _ => None, // a denial, or anything else: acknowledged
            };
            let challenge = received.param("hub.challenge").unwrap_or("").to_owned();
            match verify {
                Some(Verify::Echo) => Reply::Now(200, challenge),
                Some(Verify::Status(status)) => Reply::Now(status, "no\n".into()),
                Some(Verify::WrongBody) => Reply::Now(200, "not the challenge".into()),
                Some(Verify::Empty) | None => Reply::Now(200, String::new()),
            }
        }
    };
    received.answered = match &reply {
        Reply::Now(status, _) | Reply::Hold(_, status) => *status,
        Reply::Hang => 0,
    };
    shared.log.lock().unwrap().push(received);
    shared.notify.notify_waiters();
    let (status, body) = match reply {
        Reply::Now(status, body) => (status, body),
        Reply::Hold(release, status) => {
            release.notified().await;
            (status, String::new())
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (200, String::new())
        }
    };
    (StatusCode::from_u16(status).unwrap(), Body::from(body)).into_response()
}

// ---------------------------------------------------------------------------------------
// The harness itself (passes without a hub: the failures elsewhere are not the harness's)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_subscriber_and_helpers_work() {
    // RFC 4231, test case 2.
    assert_eq!(
        signature("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );

    let mut headers = HeaderMap::new();
    headers.append(
        "link",
        r#"<http://h/hub>; rel="hub", <http://t/a,b>; title="x, y"; rel="self""#
            .parse()
            .unwrap(),
    );
    headers.append("link", "<http://other/hub>; rel=hub".parse().unwrap());
    assert_links(
        &headers,
        &["http://h/hub".into(), "http://other/hub".into()],
        "http://t/a,b",
        "links",
    );

    let subscriber = Subscriber::start(Behaviour::deliveries(
        vec![Deliver::Status(500)],
        Deliver::Status(204),
    ))
    .await;
    let client = patient_client();
    let verify = client
        .get(format!(
            "{}&hub.mode=subscribe&hub.topic=t&hub.challenge=a%2Bb",
            subscriber.callback()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 200);
    assert_eq!(verify.text().await.unwrap(), "a+b");
    for expected in [500, 204] {
        let response = client
            .post(subscriber.callback())
            .body("the document")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    let got = subscriber.delivery_with("document").await;
    assert_eq!((got.answered, got.param("client")), (500, Some("test")));
    assert_eq!(subscriber.deliveries().len(), 2);
    subscriber.verification("subscribe", "t").await;
}
