//! seedfeed against an independent ActivityPub implementation: a follower built with
//! Fedify (`tests/fediverse/`, driven through `common::fedify`) finds `@news` through
//! WebFinger, fetches the actor, follows it and gets the signed Accept, receives the
//! Create, Update and Delete of an article dropped into, edited in and removed from the
//! seeds folder (and looks the entry and the outbox up itself), and unfollows. Fedify verifies every activity it receives with its own
//! code before the follower sees it.
//!
//! Fedify looks `acct:` handles up over https only, so seedfeed sits behind nginx with a
//! throwaway CA (`common::tls_proxy`); the follower serves alice over plain HTTP on
//! loopback, which seedfeed reaches with `allow_private = true`.
//!
//! Needs node (Node.js 20+), `npm ci` in `tests/fediverse`, nginx and openssl, which
//! `.ci/run` installs; fails, saying so, when one is missing.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::articles::{SAMPLE_KEY, sample_article, sample_as, write_file};
use common::daemon::{TestDaemon, free_port};
use common::fedify::Follower;
use common::poll::until;
use common::tls_proxy::TlsProxy;
use seedfeed::config::Layer;
use seedfeed::model::EntryKey;
use serde_json::Value;

/// The harness itself, without seedfeed: Fedify finds its own actor through WebFinger
/// over the proxy's https (the throwaway CA trusted, private addresses allowed), and a
/// Follow it signs reaches its own inbox through the proxy and passes its own
/// verification (the proxy keeps the signed `Host`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedify_follows_itself_through_the_tls_proxy() {
    let (port, alice_port) = (free_port(), free_port());
    let proxy = TlsProxy::start(port, &format!("127.0.0.1:{alice_port}"));
    let mut alice = Follower::start(&proxy.ca(), alice_port).await;
    let handle = format!("alice@127.0.0.1:{port}");
    let context = |alice: &Follower| format!("{}{}", alice.transcript(), proxy.log());

    let webfinger = alice.step(&format!("lookup {handle}"), "webfinger").await;
    let actor = alice.then("actor").await;
    let id = format!("{}/users/alice", proxy.base());
    assert_eq!(webfinger["self"], id, "{}", context(&alice));
    assert_eq!(actor["id"], id, "{}", context(&alice));
    assert_eq!(actor["keyAlgorithm"], "RSASSA-PKCS1-v1_5");

    let follow = alice.step("follow", "follow").await;
    let received = alice.step("wait Follow", "follow").await;
    assert_eq!(
        received["activity"]["id"],
        follow["id"],
        "{}",
        context(&alice)
    );
    alice.step("undo", "undo").await;
    alice.step("wait Undo", "undo").await;

    // A wait is bounded: nothing more is coming, and the step says so.
    let none = alice.try_step("wait Create 300", "create").await;
    assert_eq!(none["ok"], false, "{none:#}");
    alice.quit();
}

/// seedfeed's settings for the test: its actor `news` behind the proxy at `base`.
fn activitypub_at(base: &str) -> Layer {
    Layer::from_toml(&format!(
        "base_url = \"{base}\"\n\
         [activitypub]\nenabled = true\nusername = \"news\"\nallow_private = true\n"
    ))
    .unwrap()
}

/// `followers`' totalItems, as the collection says it.
async fn followers(daemon: &TestDaemon) -> Value {
    let accept = [("accept", "application/activity+json")];
    let response = daemon.get_with("/followers", &accept).await;
    assert_eq!(response.status(), 200, "GET /followers");
    let body = response.text().await.unwrap();
    let collection: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET /followers: {e}\n{body}"));
    collection["totalItems"].clone()
}

async fn wait_for_followers(daemon: &TestDaemon, count: u64) {
    until(&format!("{count} follower(s) in /followers"), || async {
        let total = followers(daemon).await;
        if total == count {
            Ok(())
        } else {
            Err(format!("totalItems {total}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fedify_follower_follows_and_gets_each_change() {
    let port = free_port();
    let base = format!("https://127.0.0.1:{port}");
    let daemon = TestDaemon::start_with(activitypub_at(&base)).await;
    let proxy = TlsProxy::start(port, daemon.socket_addr());
    let mut alice = Follower::start(&proxy.ca(), 0).await;

    follow(&mut alice, &proxy, port).await;
    wait_for_followers(&daemon, 1).await;
    let entry = seedfeed::normalize::entry_url(&base, &EntryKey::new(SAMPLE_KEY));
    let path = daemon.seed_path(&format!("{SAMPLE_KEY}.txt"));
    write_file(&path, &sample_article());
    let created = created(&mut alice, &base, &entry).await;
    let edit = sample_as("Mali: countercoup foiled", "Conflict & Justice");
    write_file(&path, &edit);
    updated(&mut alice, &entry, &created).await;
    std::fs::remove_file(&path).unwrap();
    deleted(&mut alice, &entry).await;

    // 5. Undo(Follow): seedfeed forgets alice.
    alice.step("undo", "undo").await;
    wait_for_followers(&daemon, 0).await;
    alice.quit();
}

/// 1. WebFinger, 2. the actor with its key, 3. Follow and the signed Accept of it.
async fn follow(alice: &mut Follower, proxy: &TlsProxy, port: u16) {
    let (base, news) = (proxy.base(), format!("{}/@news", proxy.base()));
    let context = |alice: &Follower| format!("{}{}", alice.transcript(), proxy.log());
    let lookup = format!("lookup news@127.0.0.1:{port}");
    let webfinger = alice.step(&lookup, "webfinger").await;
    assert_eq!(webfinger["self"], news, "{}", context(alice));
    let actor = alice.then("actor").await;
    assert_eq!(actor["id"], news, "{actor:#}");
    assert_eq!(actor["keyId"], format!("{news}#main-key"), "{actor:#}");
    assert_eq!(actor["inbox"], format!("{base}/inbox"), "{actor:#}");
    assert_eq!(actor["keyAlgorithm"], "RSASSA-PKCS1-v1_5", "{actor:#}");

    let follow = alice.step("follow", "follow").await;
    let accept = alice.step("wait Accept", "accept").await;
    let accept = &accept["activity"];
    assert_eq!(accept["actor"], news, "{}", context(alice));
    assert_eq!(accept["objectId"], follow["id"], "{}", context(alice));
}

/// 4a. The Create of the article just dropped, and Fedify's own lookup of the entry and
/// of the outbox that lists it; returns the Create.
async fn created(alice: &mut Follower, base: &str, entry: &str) -> Value {
    let news = format!("{base}/@news");
    let create = alice.step("wait Create", "create").await;
    let created = create["activity"].clone();
    let context = format!("{created:#}\n{}", alice.transcript());
    assert_eq!(created["id"], format!("{entry}#create"), "{context}");
    assert_eq!(created["actor"], news, "{context}");
    assert_eq!(created["object"]["id"], entry, "{context}");
    assert_eq!(created["object"]["type"], "Note", "{context}");

    let object = alice.step(&format!("object {entry}"), "object").await;
    assert_eq!(object["type"], "Note", "{object:#}");
    assert_eq!(object["id"], entry, "{object:#}");
    assert_eq!(object["attributedTo"], news, "{object:#}");
    let outbox = alice.step(&format!("object {base}/outbox"), "object").await;
    assert_eq!(outbox["type"], "OrderedCollection", "{outbox:#}");
    assert_eq!(outbox["totalItems"], 1, "{outbox:#}");
    created
}

/// 4b. The Update of the article just edited, its object newer than the Create's:
/// Mastodon ignores an Update whose object is not newer than what it has.
async fn updated(alice: &mut Follower, entry: &str, created: &Value) {
    let update = alice.step("wait Update", "update").await;
    let updated = &update["activity"];
    let id = updated["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{entry}#update-")), "{updated:#}");
    assert_eq!(updated["object"]["id"], entry, "{updated:#}");
    let (before, after) = (&created["object"], &updated["object"]);
    let then = before["updated_ms"].as_i64();
    let then = then.or(before["published_ms"].as_i64());
    assert!(
        after["updated_ms"].as_i64() > then,
        "the Update's object is not newer: {before:#} then {after:#}"
    );
}

/// 4c. The Delete of the article just removed, with its Tombstone.
async fn deleted(alice: &mut Follower, entry: &str) {
    let delete = alice.step("wait Delete", "delete").await;
    let deleted = &delete["activity"];
    let context = format!("{deleted:#}\n{}", alice.transcript());
    assert_eq!(deleted["id"], format!("{entry}#delete"), "{context}");
    assert_eq!(deleted["objectId"], entry, "{context}");
    assert_eq!(deleted["object"]["type"], "Tombstone", "{context}");
}
