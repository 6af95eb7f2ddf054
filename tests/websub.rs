//! WebSub (W3C Recommendation) over real parts: the daemon's built-in hub at `/hub`, small
//! subscriber servers on loopback that answer verifications of intent and take the
//! deliveries (or refuse, fail, or hang), and fake external hubs that take the pings. Every
//! wait is a bounded poll; the few lower bounds on retry gaps never assert that something
//! was quick.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

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
use common::articles::SAMPLE_KEY;
use common::daemon::{SETTLE_MS, TestDaemon, free_port, patient_client};
use common::feeds::feed_links;
use common::poll::{PATIENCE, eventually};
use hmac::{Hmac, KeyInit, Mac};
use seedfeed::config::{Layer, WebSubLayer};
use sha2::Sha256;
use tokio::sync::Notify;
use tokio::time::Instant;
use url::form_urlencoded;

// Seed files by section (the key is the file name without `.txt`; each is its own entry).
const EDUCATION: &str = "000001_04397e502cfe6ecb";
const ENVIRONMENT_A: &str = "000002_3882f248d1329158";
const ENVIRONMENT_B: &str = "000003_0f92b6303843f7ce";
const TECH_A: &str = "000004_f88cbc88cb0f84a4";
const CULTURE_A: &str = "000005_8454f73c811f1124";
const CULTURE_B: &str = "000006_058e480546ba2f2b";
const RIGHTS_A: &str = "000007_bf50a4629d1bb0da";
const BUSINESS: &str = "000008_0fe2eaca8086bb80";
const RIGHTS_B: &str = "000009_5b4e9c101c328daf";
const TECH_B: &str = "000010_50b520a287132788";
const SCIENCE: &str = "000011_04acdc2abc04a70a";
const TECH_C: &str = "000012_13f569d08d774318";

const FORM: &str = "application/x-www-form-urlencoded";

/// How long a negative check waits first, so that a request that should not come has had
/// the time to come. Only ever makes a test slower, never flaky.
const GRACE: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------------------
// The daemon

/// Settings with the built-in hub on and loopback callbacks allowed.
fn hub_on(websub: WebSubLayer) -> Layer {
    Layer {
        websub: WebSubLayer {
            hub: Some(true),
            allow_private_callbacks: Some(true),
            ..websub
        },
        ..Layer::default()
    }
}

async fn start_hub() -> TestDaemon {
    TestDaemon::start_with(hub_on(WebSubLayer::default())).await
}

fn topic(daemon: &TestDaemon, path: &str) -> String {
    format!("{}{path}", daemon.base)
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// POSTs `pairs` to the daemon's `/hub` with this content type.
async fn post_hub_as(daemon: &TestDaemon, content_type: &str, body: String) -> reqwest::Response {
    patient_client()
        .post(daemon.url("/hub"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_hub(daemon: &TestDaemon, pairs: &[(&str, &str)]) -> reqwest::Response {
    post_hub_as(daemon, FORM, form(pairs)).await
}

/// A subscription request the hub must accept (202).
async fn request_subscription(
    daemon: &TestDaemon,
    mode: &str,
    callback: &str,
    topic: &str,
    extra: &[(&str, &str)],
) {
    let mut pairs = vec![
        ("hub.mode", mode),
        ("hub.callback", callback),
        ("hub.topic", topic),
    ];
    pairs.extend_from_slice(extra);
    let response = post_hub(daemon, &pairs).await;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 202, "{mode} {callback} to {topic}: {text}");
}

/// Subscribes `subscriber` to `topic` and waits for the hub's verification of intent.
async fn subscribe(
    daemon: &TestDaemon,
    subscriber: &Subscriber,
    topic: &str,
    extra: &[(&str, &str)],
) -> Received {
    request_subscription(daemon, "subscribe", &subscriber.callback(), topic, extra).await;
    subscriber.verification("subscribe", topic).await
}

/// Subscribes each (subscriber, topic), waits for every verification, then lets the hub
/// store them.
async fn subscribe_all(daemon: &TestDaemon, subscriptions: &[(&Subscriber, &str)]) {
    let before = subscriptions_held(daemon).await;
    for (subscriber, topic) in subscriptions {
        subscribe(daemon, subscriber, topic, &[]).await;
    }
    wait_for_subscriptions(daemon, before + subscriptions.len() as u64).await;
}

/// The verified subscriptions the hub holds, as `/status` shows them.
async fn subscriptions_held(daemon: &TestDaemon) -> u64 {
    daemon.json("/status").await["websub"]["subscriptions"]
        .as_u64()
        .unwrap()
}

/// Waits until the hub has stored what it verified: `/status` shows `count`.
async fn wait_for_subscriptions(daemon: &TestDaemon, count: u64) {
    eventually(&format!("{count} subscriptions in /status"), || async {
        subscriptions_held(daemon).await == count
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Subscribers and fake hubs

/// One request a [`Subscriber`] got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
    /// The status it answered (or will answer, for a held request); 0 if it never does.
    answered: u16,
}

impl Received {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }

    /// A form-encoded body's value of `name` (what external hubs get).
    fn form(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn is_delivery(&self) -> bool {
        self.method == Method::POST
    }

    fn summary(&self) -> String {
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
enum Verify {
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
enum Deliver {
    Status(u16),
    /// Never answers (longer than any test).
    Hang,
    /// Answers this status once the test says so.
    HoldThen(Arc<Notify>, u16),
}

#[derive(Debug, Clone)]
struct Behaviour {
    subscribe: Verify,
    unsubscribe: Verify,
    /// The answers to the first deliveries, in order.
    first: VecDeque<Deliver>,
    /// The answer to every delivery after those.
    then: Deliver,
}

impl Behaviour {
    /// Agrees to everything and takes every delivery.
    fn ok() -> Self {
        Self {
            subscribe: Verify::Echo,
            unsubscribe: Verify::Echo,
            first: VecDeque::new(),
            then: Deliver::Status(200),
        }
    }

    fn verify(subscribe: Verify) -> Self {
        Self {
            subscribe,
            ..Self::ok()
        }
    }

    /// Answers the first deliveries with `first`, then `then`.
    fn deliveries(first: Vec<Deliver>, then: Deliver) -> Self {
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
struct Subscriber {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    async fn start(behaviour: Behaviour) -> Self {
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
    fn callback(&self) -> String {
        self.url("/callback?client=test")
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    fn set_behaviour(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    fn requests(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    fn deliveries(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(Received::is_delivery)
            .collect()
    }

    fn clear(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    fn summary(&self) -> String {
        self.requests()
            .iter()
            .map(|r| format!("\n  {}", r.summary()))
            .collect()
    }

    /// Waits for the first request that satisfies `pred`, or fails after [`PATIENCE`].
    async fn wait_for(&self, what: &str, pred: impl Fn(&Received) -> bool) -> Received {
        self.wait_until(what, |log| log.iter().find(|r| pred(r)).cloned())
            .await
    }

    /// Waits until `check` finds something in the log, or fails after [`PATIENCE`].
    async fn wait_until<T>(&self, what: &str, check: impl Fn(&[Received]) -> Option<T>) -> T {
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
    async fn verification(&self, mode: &str, topic: &str) -> Received {
        self.wait_for(&format!("hub.mode={mode} for {topic}"), |r| {
            r.method == Method::GET
                && r.param("hub.mode") == Some(mode)
                && r.param("hub.topic") == Some(topic)
        })
        .await
    }

    /// The first delivery whose body contains `needle`.
    async fn delivery_with(&self, needle: &str) -> Received {
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
// Link headers and signatures

/// Every (target, rel) of the `Link` headers, whether sent as several headers or as one
/// comma-separated header; a `rel` with several values gives several pairs.
fn links(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in headers.get_all("link") {
        let text = value.to_str().unwrap();
        for link in split_link_values(text) {
            let link = link.trim();
            let rest = link
                .strip_prefix('<')
                .unwrap_or_else(|| panic!("not a link-value: {link:?} in {text:?}"));
            let (target, params) = rest
                .split_once('>')
                .unwrap_or_else(|| panic!("not a link-value: {link:?} in {text:?}"));
            for param in params.split(';') {
                let Some((name, value)) = param.split_once('=') else {
                    continue;
                };
                if name.trim().eq_ignore_ascii_case("rel") {
                    for rel in value.trim().trim_matches('"').split_whitespace() {
                        out.push((target.to_owned(), rel.to_ascii_lowercase()));
                    }
                }
            }
        }
    }
    out
}

/// Splits a `Link` header at the commas between link-values (not those in a URL or a
/// quoted string).
fn split_link_values(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_url, mut in_quotes, mut start) = (false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '<' if !in_quotes => in_url = true,
            '>' if !in_quotes => in_url = false,
            '"' if !in_url => in_quotes = !in_quotes,
            ',' if !in_url && !in_quotes => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The headers link each hub with rel="hub" and have exactly one rel="self", `self_url`.
fn assert_links(headers: &HeaderMap, hubs: &[String], self_url: &str, what: &str) {
    let links = links(headers);
    for hub in hubs {
        assert!(
            links.iter().any(|(t, rel)| t == hub && rel == "hub"),
            "{what}: no <{hub}>; rel=\"hub\" in {links:?}"
        );
    }
    let selves: Vec<_> = links.iter().filter(|(_, rel)| rel == "self").collect();
    assert_eq!(
        selves,
        [&(self_url.to_owned(), "self".to_owned())],
        "{what}: exactly one rel=\"self\""
    );
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

// ---------------------------------------------------------------------------------------
// The hub endpoint

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_is_not_there_unless_turned_on() {
    let daemon = TestDaemon::start().await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    let response = post_hub(
        &daemon,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", &subscriber.callback()),
            ("hub.topic", &topic(&daemon, "/feed.atom")),
        ],
    )
    .await;
    assert_eq!(response.status(), 404, "POST /hub with the hub off");
    assert_eq!(daemon.get("/hub").await.status(), 404, "GET /hub");
    let atom = daemon.body("/feed.atom").await;
    assert!(
        !atom.contains(&topic(&daemon, "/hub")),
        "a hub that is off is not announced: {atom}"
    );
    tokio::time::sleep(GRACE).await;
    assert!(
        subscriber.requests().is_empty(),
        "nothing verified:{}",
        subscriber.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_accepts_well_formed_requests_and_refuses_the_rest() {
    let daemon = start_hub().await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    let callback = subscriber.callback();
    let feed = topic(&daemon, "/feed.atom");
    let long_secret = "s".repeat(200);
    let ok_secret = "s".repeat(199);
    let mode = ("hub.mode", "subscribe");
    let cb = ("hub.callback", callback.as_str());
    let top = ("hub.topic", feed.as_str());

    let bad: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no hub.mode", vec![cb, top]),
        ("an unknown mode", vec![("hub.mode", "bogus"), cb, top]),
        ("an empty mode", vec![("hub.mode", ""), cb, top]),
        ("no hub.callback", vec![mode, top]),
        (
            "a callback that is no URL",
            vec![mode, ("hub.callback", "not a url"), top],
        ),
        (
            "an ftp callback",
            vec![mode, ("hub.callback", "ftp://127.0.0.1/callback"), top],
        ),
        ("no hub.topic", vec![mode, cb]),
        (
            "a secret of 200 bytes",
            vec![mode, cb, top, ("hub.secret", &long_secret)],
        ),
        (
            "a lease that is no number",
            vec![mode, cb, top, ("hub.lease_seconds", "soon")],
        ),
        ("an empty body", vec![]),
    ];
    for (what, pairs) in &bad {
        let response = post_hub(&daemon, pairs).await;
        assert_eq!(response.status(), 400, "{what}: {:?}", form(pairs));
    }

    for content_type in [
        "text/plain",
        "application/json",
        "multipart/form-data; boundary=x",
    ] {
        let response = post_hub_as(&daemon, content_type, form(&[mode, cb, top])).await;
        assert_eq!(response.status(), 415, "Content-Type: {content_type}");
    }

    let response = daemon.get("/hub").await;
    assert_eq!(response.status(), 405, "GET /hub");

    // Well-formed: a secret just under the limit, a lease, a charset parameter.
    let response = post_hub(&daemon, &[mode, cb, top, ("hub.secret", &ok_secret)]).await;
    assert_eq!(response.status(), 202, "a secret of 199 bytes");
    let response = post_hub_as(
        &daemon,
        "application/x-www-form-urlencoded; charset=utf-8",
        form(&[mode, cb, top, ("hub.lease_seconds", "86400")]),
    )
    .await;
    assert_eq!(response.status(), 202, "form-encoded with a charset");
    let response = post_hub(&daemon, &[("hub.mode", "unsubscribe"), cb, top]).await;
    assert_eq!(response.status(), 202, "unsubscribe");
    subscriber.verification("subscribe", &feed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_on_private_addresses_are_refused_by_default() {
    let daemon = TestDaemon::start_with(Layer {
        websub: WebSubLayer {
            hub: Some(true),
            ..WebSubLayer::default()
        },
        ..Layer::default()
    })
    .await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    for callback in [
        subscriber.callback(),
        "http://[::1]:9/callback".to_owned(),
        "http://[::ffff:127.0.0.1]:9/callback".to_owned(),
        "http://10.1.2.3/callback".to_owned(),
        "http://172.16.0.1/callback".to_owned(),
        "https://192.168.1.1/callback".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        let response = post_hub(
            &daemon,
            &[
                ("hub.mode", "subscribe"),
                ("hub.callback", &callback),
                ("hub.topic", &feed),
            ],
        )
        .await;
        assert_eq!(response.status(), 403, "{callback}");
    }
    tokio::time::sleep(GRACE).await;
    assert!(
        subscriber.requests().is_empty(),
        "a refused callback is never called:{}",
        subscriber.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_callback_host_gets_429_past_its_requests_per_minute() {
    let daemon = TestDaemon::start_with(hub_on(WebSubLayer {
        subscribe_per_minute: Some(3),
        ..WebSubLayer::default()
    }))
    .await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    for n in 1..=3 {
        let callback = subscriber.url(&format!("/callback/{n}"));
        let response = post_hub(
            &daemon,
            &[
                ("hub.mode", "subscribe"),
                ("hub.callback", &callback),
                ("hub.topic", &feed),
            ],
        )
        .await;
        assert_eq!(response.status(), 202, "request {n} of 3");
    }
    let response = post_hub(
        &daemon,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", &subscriber.url("/callback/4")),
            ("hub.topic", &feed),
        ],
    )
    .await;
    assert_eq!(response.status(), 429, "the fourth in a minute");
    // Another callback host has its own count.
    let response = post_hub(
        &daemon,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", "http://127.0.0.2:9/callback"),
            ("hub.topic", &feed),
        ],
    )
    .await;
    assert_eq!(response.status(), 202, "another host");
}

// ---------------------------------------------------------------------------------------
// Verification of intent and denial

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_carries_a_fresh_challenge_and_the_granted_lease() {
    let daemon = TestDaemon::start_with(hub_on(WebSubLayer {
        lease_seconds: Some(200),
        min_lease_seconds: Some(100),
        max_lease_seconds: Some(300),
        ..WebSubLayer::default()
    }))
    .await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    let mut challenges = Vec::new();
    for (path, asked, granted) in [
        ("/none", None, "200"),
        ("/low", Some("50"), "100"),
        ("/high", Some("1000000"), "300"),
        ("/within", Some("250"), "250"),
    ] {
        let callback = subscriber.url(&format!("{path}?client=abc&n=1"));
        let extra: Vec<(&str, &str)> = asked
            .map(|a| ("hub.lease_seconds", a))
            .into_iter()
            .collect();
        request_subscription(&daemon, "subscribe", &callback, &feed, &extra).await;
        let verification = subscriber
            .wait_for(&format!("the verification at {path}"), |r| r.path == path)
            .await;
        assert_eq!(verification.method, Method::GET, "{path}");
        assert_eq!(verification.param("hub.mode"), Some("subscribe"), "{path}");
        assert_eq!(
            verification.param("hub.topic"),
            Some(feed.as_str()),
            "{path}"
        );
        assert_eq!(
            verification.param("hub.lease_seconds"),
            Some(granted),
            "{path}: asked {asked:?} within [100, 300], 200 by default"
        );
        assert_eq!(
            verification.param("client"),
            Some("abc"),
            "{path}: the callback's own query is kept: {:?}",
            verification.query
        );
        assert_eq!(verification.param("n"), Some("1"), "{path}");
        let challenge = verification.param("hub.challenge").unwrap_or("").to_owned();
        assert!(!challenge.is_empty(), "{path}: a challenge");
        challenges.push(challenge);
    }
    let mut distinct = challenges.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        challenges.len(),
        "fresh challenges: {challenges:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_that_is_not_one_of_our_feeds_is_denied() {
    let daemon = start_hub().await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    for other in [
        "https://example.org/feed.atom".to_owned(),
        topic(&daemon, "/feeds.opml"),
        topic(&daemon, "/"),
    ] {
        request_subscription(&daemon, "subscribe", &subscriber.callback(), &other, &[]).await;
        let denial = subscriber.verification("denied", &other).await;
        assert!(
            denial.param("hub.reason").is_some_and(|r| !r.is_empty()),
            "{other}: a reason: {:?}",
            denial.query
        );
        assert_eq!(
            denial.param("client"),
            Some("test"),
            "the callback's query is kept"
        );
    }
    tokio::time::sleep(GRACE).await;
    let asked: Vec<_> = subscriber
        .requests()
        .into_iter()
        .filter(|r| r.param("hub.mode") != Some("denied"))
        .map(|r| r.summary())
        .collect();
    assert!(
        asked.is_empty(),
        "a denied topic is not verified: {asked:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_that_does_not_echo_the_challenge_is_not_subscribed() {
    let daemon = start_hub().await;
    let not_found = Subscriber::start(Behaviour::verify(Verify::Status(404))).await;
    let wrong = Subscriber::start(Behaviour::verify(Verify::WrongBody)).await;
    let empty = Subscriber::start(Behaviour::verify(Verify::Empty)).await;
    let agrees = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    for subscriber in [&not_found, &wrong, &empty, &agrees] {
        subscribe(&daemon, subscriber, &feed, &[]).await;
    }
    // Only the one that echoed the challenge is held.
    wait_for_subscriptions(&daemon, 1).await;

    let first = daemon.drop_seed(EDUCATION);
    agrees.delivery_with(&first).await;
    let second = daemon.drop_seed(TECH_A);
    agrees.delivery_with(&second).await;
    tokio::time::sleep(GRACE).await;
    for (what, subscriber) in [
        ("404", &not_found),
        ("a wrong body", &wrong),
        ("an empty body", &empty),
    ] {
        assert!(
            subscriber.deliveries().is_empty(),
            "verification answered with {what}, yet delivered to:{}",
            subscriber.summary()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Deliveries

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_delivered_as_the_topic_document_with_links_and_signature() {
    let daemon = start_hub().await;
    let signed = Subscriber::start(Behaviour::ok()).await;
    let unsigned = Subscriber::start(Behaviour::ok()).await;
    let rss = Subscriber::start(Behaviour::ok()).await;
    let json = Subscriber::start(Behaviour::ok()).await;
    let secret = "a shared secret";
    let atom_topic = topic(&daemon, "/feed.atom");
    let rss_topic = topic(&daemon, "/feed.rss");
    let json_topic = topic(&daemon, "/feed.json");
    subscribe(&daemon, &signed, &atom_topic, &[("hub.secret", secret)]).await;
    wait_for_subscriptions(&daemon, 1).await;
    subscribe_all(
        &daemon,
        &[
            (&unsigned, &atom_topic),
            (&rss, &rss_topic),
            (&json, &json_topic),
        ],
    )
    .await;

    let written = Instant::now();
    let id = daemon.drop_seed(EDUCATION);
    let delivery = signed.delivery_with(&id).await;
    eprintln!(
        "from writing the article to its delivery: {:?} (settle time {} ms)",
        delivery.at - written,
        SETTLE_MS
    );

    let hub = topic(&daemon, "/hub");
    for (subscriber, topic_url, path, media_type) in [
        (
            &signed,
            &atom_topic,
            "/feed.atom",
            "application/atom+xml; charset=utf-8",
        ),
        (
            &unsigned,
            &atom_topic,
            "/feed.atom",
            "application/atom+xml; charset=utf-8",
        ),
        (
            &rss,
            &rss_topic,
            "/feed.rss",
            "application/rss+xml; charset=utf-8",
        ),
        (
            &json,
            &json_topic,
            "/feed.json",
            "application/feed+json; charset=utf-8",
        ),
    ] {
        let delivery = subscriber.delivery_with(&id).await;
        assert_eq!(delivery.path, "/callback", "{path}");
        assert_eq!(
            delivery.param("client"),
            Some("test"),
            "{path}: the callback as given"
        );
        assert_eq!(delivery.header("content-type"), Some(media_type), "{path}");
        assert_eq!(
            delivery.header("content-encoding"),
            None,
            "{path}: uncompressed"
        );
        let served = daemon.get(path).await.bytes().await.unwrap();
        assert_eq!(
            delivery.text(),
            String::from_utf8_lossy(&served),
            "{path}: the delivery is the document as served"
        );
        assert_links(
            &delivery.headers,
            std::slice::from_ref(&hub),
            topic_url,
            path,
        );
        let feed = feed_rs::parser::parse(&delivery.body[..])
            .unwrap_or_else(|e| panic!("{path}: {e}\n{}", delivery.text()));
        assert!(
            feed.entries.iter().any(|e| e.id == id),
            "{path}: the new entry {id} is in the delivered feed"
        );
    }

    let signed = signed.delivery_with(&id).await;
    assert_eq!(
        signed.header("x-hub-signature"),
        Some(signature(secret, &signed.body).as_str()),
        "HMAC-SHA256 of the body under the secret"
    );
    for (what, subscriber) in [("atom", &unsigned), ("rss", &rss), ("json", &json)] {
        let delivery = subscriber.delivery_with(&id).await;
        assert_eq!(
            delivery.header("x-hub-signature"),
            None,
            "{what}: no secret, no signature"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_feeds_are_topics_too() {
    let daemon = start_hub().await;
    daemon.publish_seed(TECH_A).await;
    let subscriber = Subscriber::start(Behaviour::ok()).await;
    let section = topic(&daemon, "/categories/tech.atom");
    subscribe_all(&daemon, &[(&subscriber, &section)]).await;

    let id = daemon.drop_seed(TECH_B);
    let delivery = subscriber.delivery_with(&id).await;
    assert_eq!(
        delivery.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    let served = daemon.body("/categories/tech.atom").await;
    assert_eq!(delivery.text(), served, "the section feed as served");
    assert_links(
        &delivery.headers,
        &[topic(&daemon, "/hub")],
        &section,
        "section delivery",
    );
    let feed = feed_rs::parser::parse(&delivery.body[..]).unwrap();
    let ids: Vec<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    assert!(ids.contains(&id), "{ids:?}");
    assert!(ids.contains(&daemon.id_of(TECH_A).to_string()), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_with_backoff_until_it_succeeds() {
    let daemon = start_hub().await;
    let subscriber = Subscriber::start(Behaviour::deliveries(
        vec![Deliver::Status(500), Deliver::Status(503)],
        Deliver::Status(200),
    ))
    .await;
    subscribe_all(&daemon, &[(&subscriber, &topic(&daemon, "/feed.atom"))]).await;

    let id = daemon.drop_seed(CULTURE_A);
    let attempts = subscriber
        .wait_until("three attempts, the last answered 200", |log| {
            let posts: Vec<_> = log.iter().filter(|r| r.is_delivery()).cloned().collect();
            (posts.len() >= 3).then_some(posts)
        })
        .await;
    for attempt in &attempts {
        assert!(attempt.contains(&id), "every attempt has the entry");
        assert_eq!(attempt.body, attempts[0].body, "nothing changed in between");
    }
    let gaps = [
        attempts[1].at - attempts[0].at,
        attempts[2].at - attempts[1].at,
    ];
    eprintln!("retry gaps: {gaps:?} (about 1 s, then 2 s)");
    // Lower bounds only: a busy machine makes gaps longer, never shorter.
    assert!(
        gaps[0] >= Duration::from_millis(400),
        "backoff before the first retry: {gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(800),
        "a longer one before the second: {gaps:?}"
    );

    tokio::time::sleep(GRACE).await;
    assert_eq!(
        subscriber.deliveries().len(),
        3,
        "a 2xx ends the retries:{}",
        subscriber.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_sends_the_document_as_it_is_then() {
    let daemon = TestDaemon::start_with(hub_on(WebSubLayer {
        // Longer than the test holds the first delivery.
        request_timeout: Some(15),
        ..WebSubLayer::default()
    }))
    .await;
    let release = Arc::new(Notify::new());
    let subscriber = Subscriber::start(Behaviour::deliveries(
        vec![Deliver::HoldThen(Arc::clone(&release), 500)],
        Deliver::Status(200),
    ))
    .await;
    subscribe_all(&daemon, &[(&subscriber, &topic(&daemon, "/feed.atom"))]).await;

    // The first delivery is held open while a second article comes in, then fails.
    let first = daemon.drop_seed(CULTURE_A);
    subscriber.delivery_with(&first).await;
    let second = daemon.publish_seed(CULTURE_B).await;
    release.notify_one();

    subscriber
        .wait_for("a delivery of both entries answered 200", |r| {
            r.is_delivery() && r.answered == 200 && r.contains(&first) && r.contains(&second)
        })
        .await;
    tokio::time::sleep(GRACE).await;
    let deliveries = subscriber.deliveries();
    for later in &deliveries[1..] {
        assert!(
            later.contains(&second),
            "every delivery after the failed one has the newer entry:{}",
            subscriber.summary()
        );
    }
    let served = daemon.body("/feed.atom").await;
    assert_eq!(deliveries.last().unwrap().text(), served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_keeps_failing_is_dropped_after_retry_seconds() {
    let daemon = TestDaemon::start_with(hub_on(WebSubLayer {
        retry_seconds: Some(2),
        ..WebSubLayer::default()
    }))
    .await;
    let subscriber = Subscriber::start(Behaviour::deliveries(vec![], Deliver::Status(500))).await;
    subscribe_all(&daemon, &[(&subscriber, &topic(&daemon, "/feed.atom"))]).await;

    let id = daemon.drop_seed(RIGHTS_A);
    let first = subscriber.delivery_with(&id).await;
    subscriber
        .wait_until("a retry", |log| {
            (log.iter().filter(|r| r.is_delivery()).count() >= 2).then_some(())
        })
        .await;
    // Retried after about 1 s and 3 s at most within 2 s of retries; one that went on
    // would try again about 7 s and 15 s after the first attempt.
    tokio::time::sleep_until(first.at + Duration::from_secs(9)).await;
    let attempts = subscriber.deliveries();
    assert!(
        attempts.len() <= 3,
        "no more attempts after retry_seconds:{}",
        subscriber.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_gone_ends_the_subscription() {
    let daemon = start_hub().await;
    let gone = Subscriber::start(Behaviour::deliveries(
        vec![Deliver::Status(410)],
        Deliver::Status(200),
    ))
    .await;
    let stays = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    subscribe_all(&daemon, &[(&gone, &feed), (&stays, &feed)]).await;

    let first = daemon.drop_seed(BUSINESS);
    gone.delivery_with(&first).await;
    stays.delivery_with(&first).await;
    let second = daemon.drop_seed(SCIENCE);
    stays.delivery_with(&second).await;
    let third = daemon.drop_seed(TECH_C);
    stays.delivery_with(&third).await;
    tokio::time::sleep(GRACE).await;
    assert_eq!(
        gone.deliveries().len(),
        1,
        "nothing after 410 Gone, not even a retry:{}",
        gone.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_subscriber_does_not_stall_the_others() {
    let daemon = TestDaemon::start_with(hub_on(WebSubLayer {
        request_timeout: Some(2),
        ..WebSubLayer::default()
    }))
    .await;
    let hangs = Subscriber::start(Behaviour::deliveries(vec![], Deliver::Hang)).await;
    let normal = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    // The hanging one first, so that one queue for both would have it in front.
    subscribe_all(&daemon, &[(&hangs, &feed), (&normal, &feed)]).await;

    let first = daemon.drop_seed(ENVIRONMENT_A);
    hangs.delivery_with(&first).await;
    normal.delivery_with(&first).await;
    let second = daemon.drop_seed(ENVIRONMENT_B);
    normal.delivery_with(&second).await;
}

// ---------------------------------------------------------------------------------------
// Unsubscribing and restarts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribing_stops_deliveries_once_the_subscriber_confirms() {
    let daemon = start_hub().await;
    let leaves = Subscriber::start(Behaviour::ok()).await;
    // Does not confirm an unsubscription (one it did not ask for, say).
    let refuses = Subscriber::start(Behaviour {
        unsubscribe: Verify::Status(404),
        ..Behaviour::ok()
    })
    .await;
    let control = Subscriber::start(Behaviour::ok()).await;
    let feed = topic(&daemon, "/feed.atom");
    subscribe_all(
        &daemon,
        &[(&leaves, &feed), (&refuses, &feed), (&control, &feed)],
    )
    .await;
    let held = subscriptions_held(&daemon).await;

    let first = daemon.drop_seed(RIGHTS_A);
    for subscriber in [&leaves, &refuses, &control] {
        subscriber.delivery_with(&first).await;
    }

    for subscriber in [&leaves, &refuses] {
        request_subscription(&daemon, "unsubscribe", &subscriber.callback(), &feed, &[]).await;
        let verification = subscriber.verification("unsubscribe", &feed).await;
        assert!(
            verification
                .param("hub.challenge")
                .is_some_and(|c| !c.is_empty()),
            "a challenge: {:?}",
            verification.query
        );
        assert_eq!(verification.param("client"), Some("test"));
    }
    // One confirmed the unsubscription, the other did not.
    wait_for_subscriptions(&daemon, held - 1).await;

    let second = daemon.drop_seed(RIGHTS_B);
    control.delivery_with(&second).await;
    refuses.delivery_with(&second).await;
    tokio::time::sleep(GRACE).await;
    assert!(
        !leaves.deliveries().iter().any(|d| d.contains(&second)),
        "nothing after the confirmed unsubscription:{}",
        leaves.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_and_pending_deliveries_survive_a_restart() {
    // A fixed port, so that the topic URLs stay the same across the restart.
    let port = free_port();
    let mut daemon = TestDaemon::start_with(Layer {
        listen: Some(format!("127.0.0.1:{port}")),
        ..hub_on(WebSubLayer::default())
    })
    .await;
    let feed = topic(&daemon, "/feed.atom");
    let base = daemon.base.clone();
    // Fails every delivery until the daemon has restarted.
    let subscriber = Subscriber::start(Behaviour::deliveries(vec![], Deliver::Status(500))).await;
    subscribe_all(&daemon, &[(&subscriber, &feed)]).await;

    let first = daemon.drop_seed(SAMPLE_KEY);
    subscriber.delivery_with(&first).await;
    daemon.stop().await;
    subscriber.set_behaviour(Behaviour::ok());
    daemon.restart().await;
    assert_eq!(daemon.base, base, "the same topics after the restart");

    subscriber
        .wait_for("the pending delivery, retried after the restart", |r| {
            r.is_delivery() && r.answered == 200 && r.contains(&first)
        })
        .await;
    let second = daemon.drop_seed(EDUCATION);
    let delivery = subscriber.delivery_with(&second).await;
    assert_eq!(delivery.text(), daemon.body("/feed.atom").await);
}

// ---------------------------------------------------------------------------------------
// External hubs and discovery

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_hubs_are_pinged_once_per_changed_topic_and_retried() {
    let steady = Subscriber::start(Behaviour::deliveries(vec![], Deliver::Status(204))).await;
    let flaky = Subscriber::start(Behaviour::deliveries(
        vec![Deliver::Status(500)],
        Deliver::Status(204),
    ))
    .await;
    // The built-in hub stays off: pinging external hubs does not need it.
    let daemon = TestDaemon::start_with(Layer {
        websub: WebSubLayer {
            hubs: Some(vec![steady.url("/ping"), flaky.url("/ping")]),
            allow_private_callbacks: Some(true),
            ..WebSubLayer::default()
        },
        ..Layer::default()
    })
    .await;
    let changed = |section: &str| -> Vec<String> {
        ["/feed.atom", "/feed.rss", "/feed.json"]
            .into_iter()
            .map(str::to_owned)
            .chain(["atom", "rss", "json"].map(|f| format!("/categories/{section}.{f}")))
            .map(|path| topic(&daemon, &path))
            .collect()
    };
    // Whether the log has a ping for `url` (answered 2xx, if `ok`).
    let pinged = |log: &[Received], url: &str, ok: bool| -> bool {
        log.iter().any(|r| {
            r.is_delivery()
                && r.form("hub.url").as_deref() == Some(url)
                && (!ok || (200..300).contains(&r.answered))
        })
    };

    daemon.drop_seed(EDUCATION);
    for url in changed("education") {
        steady
            .wait_until(&format!("a ping for {url}"), |log| {
                pinged(log, &url, false).then_some(())
            })
            .await;
        flaky
            .wait_until(&format!("a successful ping for {url}"), |log| {
                pinged(log, &url, true).then_some(())
            })
            .await;
    }
    for ping in steady.deliveries() {
        assert_eq!(ping.path, "/ping");
        assert_eq!(
            ping.form("hub.mode").as_deref(),
            Some("publish"),
            "{}",
            ping.summary()
        );
        assert!(
            ping.header("content-type")
                .is_some_and(|t| t.starts_with(FORM)),
            "form-encoded: {:?}",
            ping.header("content-type")
        );
    }
    let failed = flaky
        .deliveries()
        .into_iter()
        .find(|r| r.answered == 500)
        .unwrap();
    let failed_url = failed.form("hub.url").unwrap();
    assert!(
        flaky
            .deliveries()
            .iter()
            .any(|r| r.at > failed.at && r.form("hub.url") == Some(failed_url.clone())),
        "the failed ping for {failed_url} is sent again:{}",
        flaky.summary()
    );

    // A second change, counted on its own: each changed topic once, the others not.
    tokio::time::sleep(GRACE).await;
    steady.clear();
    daemon.drop_seed(TECH_A);
    let wanted = changed("tech");
    for url in &wanted {
        steady
            .wait_until(&format!("a ping for {url}"), |log| {
                pinged(log, url, false).then_some(())
            })
            .await;
    }
    tokio::time::sleep(GRACE).await;
    let mut urls: Vec<String> = steady
        .deliveries()
        .iter()
        .map(|r| r.form("hub.url").unwrap_or_default())
        .collect();
    urls.sort();
    let mut expected = wanted.clone();
    expected.sort();
    assert_eq!(
        urls,
        expected,
        "once per changed topic:{}",
        steady.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_announce_their_hubs_and_themselves() {
    let external = Subscriber::start(Behaviour::deliveries(vec![], Deliver::Status(204))).await;
    let external_hub = external.url("/ping");
    let daemon = TestDaemon::start_with(hub_on(WebSubLayer {
        hubs: Some(vec![external_hub.clone()]),
        ..WebSubLayer::default()
    }))
    .await;
    daemon.publish_sample().await;
    let hubs = [topic(&daemon, "/hub"), external_hub.clone()];

    for path in [
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/categories/conflict-justice.atom",
        "/categories/conflict-justice.rss",
        "/categories/conflict-justice.json",
    ] {
        let own = topic(&daemon, path);
        let response = daemon.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_links(response.headers(), &hubs, &own, path);
        let body = response.text().await.unwrap();

        if path.ends_with(".json") {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            let announced = json["hubs"]
                .as_array()
                .unwrap_or_else(|| panic!("{path}: no hubs array: {body}"));
            for hub in &hubs {
                assert!(
                    announced
                        .iter()
                        .any(|h| h["type"] == "WebSub" && h["url"] == hub.as_str()),
                    "{path}: {hub} in {announced:?}"
                );
            }
            assert_eq!(json["feed_url"], own.as_str(), "{path}");
            continue;
        }

        let feed_links = feed_links(&body);
        for hub in &hubs {
            assert!(
                feed_links
                    .iter()
                    .any(|(rel, href)| href == hub && rel == "hub"),
                "{path}: <link rel=\"hub\" href=\"{hub}\"/> in {feed_links:?}"
            );
        }
        let selves: Vec<_> = feed_links.iter().filter(|(rel, _)| rel == "self").collect();
        assert_eq!(selves, [&("self".to_owned(), own.clone())], "{path}");
    }
}

// ---------------------------------------------------------------------------------------
// The harness itself (passes without a hub: the failures above are not the harness's)

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
