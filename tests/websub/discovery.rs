//! External hubs, pinged once per changed topic, and discovery: every feed names its hubs
//! and itself, in its headers and in the document.

use seedfeed::config::{Layer, WebSubLayer};

use crate::common::daemon::TestDaemon;
use crate::common::feeds::feed_links;
use crate::links::assert_links;
use crate::subscriber::{Behaviour, Deliver, Received, Subscriber};
use crate::{EDUCATION, FORM, GRACE, TECH_A, hub_on, topic};

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

    for path in crate::common::feeds::SAMPLE_FEEDS {
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
