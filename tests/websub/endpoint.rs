//! The hub endpoint: off unless turned on, strict about what it accepts, closed to
//! callbacks on private addresses, and rate-limited per callback host.

use seedfeed::config::{Layer, WebSubLayer};

use crate::common::daemon::TestDaemon;
use crate::subscriber::{Behaviour, Subscriber};
use crate::{GRACE, form, hub_on, post_hub, post_hub_as, start_hub, topic};

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
