//! Verification of intent and denial: a fresh challenge and the granted lease, a denial
//! for a topic that is not ours, and no subscription without the challenge echoed.

use axum::http::Method;
use seedfeed::config::WebSubLayer;

use crate::common::daemon::TestDaemon;
use crate::subscriber::{Behaviour, Subscriber, Verify};
use crate::{
    EDUCATION, GRACE, TECH_A, hub_on, request_subscription, start_hub, subscribe, topic,
    wait_for_subscriptions,
};

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
