//! Deliveries: the topic's document as served, with its links and signature, to every
//! subscriber of a main or section feed; retried with backoff, dropped after
//! `retry_seconds` or a 410, and never stalled by a subscriber that hangs.

use std::sync::Arc;
use std::time::Duration;

use seedfeed::config::WebSubLayer;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::common::daemon::{SETTLE_MS, TestDaemon};
use crate::links::{assert_links, signature};
use crate::subscriber::{Behaviour, Deliver, Subscriber};
use crate::{
    BUSINESS, CULTURE_A, CULTURE_B, EDUCATION, ENVIRONMENT_A, ENVIRONMENT_B, GRACE, RIGHTS_A,
    SCIENCE, TECH_A, TECH_B, TECH_C, hub_on, start_hub, subscribe, subscribe_all, topic,
    wait_for_subscriptions,
};

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
