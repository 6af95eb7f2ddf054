//! WebSub (W3C Recommendation) over real parts: the daemon's built-in hub at `/hub`, small
//! subscriber servers on loopback that answer verifications of intent and take the
//! deliveries (or refuse, fail, or hang), and fake external hubs that take the pings. Every
//! wait is a bounded poll; the few lower bounds on retry gaps never assert that something
//! was quick.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

#[path = "../common/mod.rs"]
mod common;
mod deliveries;
mod discovery;
mod endpoint;
mod links;
mod subscriber;
mod unsubscribing;
mod verification;

use std::time::Duration;

use common::daemon::{TestDaemon, patient_client};
use common::poll::eventually;
use seedfeed::config::{Layer, WebSubLayer};
use subscriber::{Received, Subscriber};
use url::form_urlencoded;

// Seed files by section (the key is the file name without `.txt`; each is its own entry).
pub const EDUCATION: &str = "000001_04397e502cfe6ecb";
pub const ENVIRONMENT_A: &str = "000002_3882f248d1329158";
pub const ENVIRONMENT_B: &str = "000003_0f92b6303843f7ce";
pub const TECH_A: &str = "000004_f88cbc88cb0f84a4";
pub const CULTURE_A: &str = "000005_8454f73c811f1124";
pub const CULTURE_B: &str = "000006_058e480546ba2f2b";
pub const RIGHTS_A: &str = "000007_bf50a4629d1bb0da";
pub const BUSINESS: &str = "000008_0fe2eaca8086bb80";
pub const RIGHTS_B: &str = "000009_5b4e9c101c328daf";
pub const TECH_B: &str = "000010_50b520a287132788";
pub const SCIENCE: &str = "000011_04acdc2abc04a70a";
pub const TECH_C: &str = "000012_13f569d08d774318";

pub const FORM: &str = "application/x-www-form-urlencoded";

/// How long a negative check waits first, so that a request that should not come has had
/// the time to come. Only ever makes a test slower, never flaky.
pub const GRACE: Duration = Duration::from_secs(2);

/// Settings with the built-in hub on and loopback callbacks allowed.
pub fn hub_on(websub: WebSubLayer) -> Layer {
    Layer {
        websub: WebSubLayer {
            hub: Some(true),
            allow_private_callbacks: Some(true),
            ..websub
        },
        ..Layer::default()
    }
}

pub async fn start_hub() -> TestDaemon {
    TestDaemon::start_with(hub_on(WebSubLayer::default())).await
}

pub fn topic(daemon: &TestDaemon, path: &str) -> String {
    format!("{}{path}", daemon.base)
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// POSTs `pairs` to the daemon's `/hub` with this content type.
pub async fn post_hub_as(
    daemon: &TestDaemon,
    content_type: &str,
    body: String,
) -> reqwest::Response {
    patient_client()
        .post(daemon.url("/hub"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn post_hub(daemon: &TestDaemon, pairs: &[(&str, &str)]) -> reqwest::Response {
    post_hub_as(daemon, FORM, form(pairs)).await
}

/// A subscription request the hub must accept (202).
pub async fn request_subscription(
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
pub async fn subscribe(
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
pub async fn subscribe_all(daemon: &TestDaemon, subscriptions: &[(&Subscriber, &str)]) {
    let before = subscriptions_held(daemon).await;
    for (subscriber, topic) in subscriptions {
        subscribe(daemon, subscriber, topic, &[]).await;
    }
    wait_for_subscriptions(daemon, before + subscriptions.len() as u64).await;
}

/// The verified subscriptions the hub holds, as `/status` shows them.
pub async fn subscriptions_held(daemon: &TestDaemon) -> u64 {
    daemon.json("/status").await["websub"]["subscriptions"]
        .as_u64()
        .unwrap()
}

/// Waits until the hub has stored what it verified: `/status` shows `count`.
pub async fn wait_for_subscriptions(daemon: &TestDaemon, count: u64) {
    eventually(&format!("{count} subscriptions in /status"), || async {
        subscriptions_held(daemon).await == count
    })
    .await;
}
