//! Unsubscribing, once the subscriber confirms, and what survives a restart:
//! subscriptions and the deliveries still pending.

use seedfeed::config::{Layer, WebSubLayer};

use crate::common::articles::SAMPLE_KEY;
use crate::common::daemon::{TestDaemon, free_port};
use crate::subscriber::{Behaviour, Deliver, Subscriber, Verify};
use crate::{
    EDUCATION, GRACE, RIGHTS_A, RIGHTS_B, hub_on, request_subscription, start_hub, subscribe_all,
    subscriptions_held, topic, wait_for_subscriptions,
};

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
