//! The site as an ActivityPub actor, over real parts: the daemon on loopback with
//! `[activitypub]` on, and a fake fediverse server (`remote`) whose actors follow it,
//! sign what they send with keys of their own, and check the signatures of what the
//! site delivers. The independent check, with Fedify's own code, is `tests/fediverse.rs`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

#[path = "../common/mod.rs"]
mod common;
mod remote;

use std::time::Duration;

use common::articles::{seed, write_file};
use common::binary::{Binary, seedfeed};
use common::daemon::{TestDaemon, free_port, header, patient_client};
use common::poll::until;
use remote::{Delivery, InboxAnswers, Remote};
use seedfeed::activitypub::signature::SignatureForm;
use seedfeed::config::{ActivityPubLayer, Layer};
use serde_json::{Value, json};

const EDUCATION: &str = "000001_04397e502cfe6ecb";
const TECH: &str = "000004_f88cbc88cb0f84a4";

const ACTIVITY_JSON: &str = "application/activity+json";
const LD_JSON: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// How long a check that something did not come waits for it first.
const GRACE: Duration = Duration::from_secs(2);

fn fediverse_on() -> Layer {
    Layer {
        activitypub: ActivityPubLayer {
            enabled: Some(true),
            allow_private: Some(true),
            ..ActivityPubLayer::default()
        },
        ..Layer::default()
    }
}

async fn actor(daemon: &TestDaemon) -> Value {
    let response = daemon
        .get_with("/@news", &[("accept", ACTIVITY_JSON)])
        .await;
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// Waits until the remote's inbox has a delivery that `wanted` picks.
async fn delivery(remote: &Remote, what: &str, wanted: impl Fn(&Delivery) -> bool) -> Delivery {
    until(what, || {
        let found = remote.deliveries().into_iter().find(|d| wanted(d));
        async move {
            found.ok_or_else(|| {
                format!(
                    "{:?}",
                    remote
                        .deliveries()
                        .iter()
                        .map(|d| (d.kind().to_owned(), d.form, d.answered))
                        .collect::<Vec<_>>()
                )
            })
        }
    })
    .await
}

async fn follow(daemon: &TestDaemon, remote: &Remote, name: &str) -> Value {
    let follow = remote.follow(name, &format!("{}/@news", daemon.base));
    let status = remote
        .send(name, &daemon.url("/inbox"), &follow, SignatureForm::Rfc9421)
        .await;
    assert_eq!(status, 202, "the Follow is taken");
    follow
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_the_actor_and_browsers_get_the_index() {
    let daemon = TestDaemon::start_with(fediverse_on()).await;
    let host = daemon.base.trim_start_matches("http://").to_owned();
    let webfinger = daemon
        .get(&format!("/.well-known/webfinger?resource=acct:news@{host}"))
        .await;
    assert_eq!(webfinger.status(), 200);
    assert_eq!(
        header(&webfinger, "content-type"),
        "application/jrd+json; charset=utf-8"
    );
    assert_eq!(header(&webfinger, "access-control-allow-origin"), "*");
    let jrd: Value = serde_json::from_slice(&webfinger.bytes().await.unwrap()).unwrap();
    assert_eq!(jrd["subject"], format!("acct:news@{host}"));
    let actor_url = format!("{}/@news", daemon.base);
    assert!(
        jrd["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|link| link["rel"] == "self"
                && link["type"] == ACTIVITY_JSON
                && link["href"] == actor_url.as_str())
    );
    let unknown = daemon
        .get(&format!(
            "/.well-known/webfinger?resource=acct:other@{host}"
        ))
        .await;
    assert_eq!(unknown.status(), 404);

    for accept in [ACTIVITY_JSON, LD_JSON] {
        let response = daemon.get_with("/@news", &[("accept", accept)]).await;
        assert_eq!(response.status(), 200);
        assert!(header(&response, "vary").contains("Accept"), "{accept}");
        let actor: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(actor["id"], actor_url.as_str());
        assert_eq!(actor["preferredUsername"], "news");
        assert_eq!(actor["inbox"], format!("{}/inbox", daemon.base));
        assert_eq!(
            actor["endpoints"]["sharedInbox"],
            format!("{}/inbox", daemon.base)
        );
        let pem = actor["publicKey"]["publicKeyPem"].as_str().unwrap();
        assert!(
            pem.starts_with("-----BEGIN PUBLIC KEY-----"),
            "SPKI, not PKCS#1"
        );
    }
    // Revalidated as any document is.
    let first = daemon
        .get_with("/@news", &[("accept", ACTIVITY_JSON)])
        .await;
    let etag = header(&first, "etag");
    let again = daemon
        .get_with(
            "/@news",
            &[("accept", ACTIVITY_JSON), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status(), 304);
    assert!(header(&again, "vary").contains("Accept"));
    let browser = daemon
        .get_with(
            "/@news",
            &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        )
        .await;
    assert_eq!(browser.status(), 200);
    assert!(header(&browser, "vary").contains("Accept"));
    assert!(header(&browser, "content-type").starts_with("text/html"));
    let index = browser.text().await.unwrap();
    assert!(
        index.contains(&format!(
            "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{actor_url}\">"
        )),
        "the index names the actor"
    );

    let nodeinfo: Value = daemon.json("/.well-known/nodeinfo").await;
    let href = nodeinfo["links"][0]["href"].as_str().unwrap();
    let path = href.trim_start_matches(&daemon.base);
    let document: Value = daemon.json(path).await;
    assert_eq!(document["version"], "2.1");
    assert_eq!(document["protocols"], json!(["activitypub"]));
    let host_meta = daemon.body("/.well-known/host-meta").await;
    assert!(host_meta.contains("/.well-known/webfinger?resource={uri}"));

    use std::os::unix::fs::PermissionsExt;
    let key = std::fs::metadata(daemon.data.path().join("activitypub-key.pem")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_gets_the_accept_and_each_new_edited_and_deleted_entry() {
    let daemon = TestDaemon::start_with(fediverse_on()).await;
    let remote = Remote::start().await;
    remote.trust(&actor(&daemon).await);
    let follow = follow(&daemon, &remote, "alice").await;
    // A second follower on the same server: one POST per shared inbox, not per follower.
    let _ = follow_as(&daemon, &remote, "bob").await;
    let accept = delivery(&remote, "the Accept", |d| d.kind() == "Accept").await;
    assert!(accept.verified, "the Accept is signed with the site's key");
    assert_eq!(accept.activity["object"]["id"], follow["id"]);
    assert_eq!(accept.form, SignatureForm::Rfc9421, "RFC 9421 first");

    let id = daemon.publish_seed(EDUCATION).await;
    let entry_url = entry_url(&daemon, &id).await;
    let create = delivery(&remote, "the Create", |d| d.kind() == "Create").await;
    assert!(create.verified);
    assert_eq!(create.object_id(), entry_url);
    assert_eq!(create.activity["object"]["type"], "Note");
    assert_eq!(
        create.activity["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    tokio::time::sleep(GRACE).await;
    let creates = remote
        .deliveries()
        .iter()
        .filter(|d| d.kind() == "Create")
        .count();
    assert_eq!(creates, 1, "one POST for the two followers of one server");

    // The object is served at the entry's URL too.
    let path = entry_url.trim_start_matches(&daemon.base).to_owned();
    let object = daemon.get_with(&path, &[("accept", ACTIVITY_JSON)]).await;
    assert_eq!(object.status(), 200);
    assert!(header(&object, "vary").contains("Accept"));
    let page = daemon.get(&path).await;
    assert!(
        header(&page, "vary").contains("Accept"),
        "the page says it is negotiated"
    );

    let edited =
        String::from_utf8(seed(EDUCATION)).unwrap() + "\n\nA paragraph added in an edit.\n";
    write_file(
        &daemon.seed_path(&format!("{EDUCATION}.txt")),
        edited.as_bytes(),
    );
    let update = delivery(&remote, "the Update", |d| d.kind() == "Update").await;
    assert!(update.verified);
    assert!(
        update.activity["object"]["content"]
            .as_str()
            .unwrap()
            .contains("added in an edit")
    );
    assert!(
        update.activity["object"]["updated"].is_string(),
        "an edit has its date"
    );

    std::fs::remove_file(daemon.seed_path(&format!("{EDUCATION}.txt"))).unwrap();
    let delete = delivery(&remote, "the Delete", |d| d.kind() == "Delete").await;
    assert!(delete.verified);
    assert_eq!(delete.activity["object"]["type"], "Tombstone");
    let gone = daemon.get_with(&path, &[("accept", ACTIVITY_JSON)]).await;
    assert_eq!(gone.status(), 410);
    let tombstone: Value = serde_json::from_slice(&gone.bytes().await.unwrap()).unwrap();
    assert_eq!(tombstone["type"], "Tombstone");

    let status = daemon.status().await;
    assert_eq!(status["activitypub"]["followers"], 2);
    assert_eq!(status["activitypub"]["signature_forms"][0][1], "rfc9421");

    // Unfollowing: nothing more goes to that server once both have left.
    assert_eq!(
        remote
            .send(
                "alice",
                &daemon.url("/inbox"),
                &remote.undo("alice", &follow),
                SignatureForm::Cavage
            )
            .await,
        202
    );
    let bob_follow = remote.follow("bob", &format!("{}/@news", daemon.base));
    remote
        .send(
            "bob",
            &daemon.url("/inbox"),
            &remote.undo("bob", &bob_follow),
            SignatureForm::Rfc9421,
        )
        .await;
    wait_for_followers(&daemon, 0, "no followers").await;
    let before = remote.deliveries().len();
    daemon.publish_seed(TECH).await;
    tokio::time::sleep(GRACE).await;
    assert_eq!(
        remote.deliveries().len(),
        before,
        "no delivery after the unfollow"
    );
}

/// Waits until `/status` counts `count` followers.
async fn wait_for_followers(daemon: &TestDaemon, count: u64, what: &str) {
    daemon
        .wait_for_status(what, |s| {
            (s["activitypub"]["followers"] == count).then_some(())
        })
        .await;
}

/// The URL of the entry with this id, from the JSON Feed.
async fn entry_url(daemon: &TestDaemon, id: &str) -> String {
    let feed = daemon.json("/feed.json").await;
    let item = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap();
    item["url"].as_str().unwrap().to_owned()
}

/// The site at a fixed address, so that its ids outlive a restart.
fn at_fixed_address() -> Layer {
    let port = free_port();
    Layer {
        listen: Some(format!("127.0.0.1:{port}")),
        base_url: Some(format!("http://127.0.0.1:{port}")),
        ..fediverse_on()
    }
}

async fn follow_as(daemon: &TestDaemon, remote: &Remote, name: &str) -> Value {
    follow(daemon, remote, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_tampered_and_oversized_requests_are_refused() {
    let daemon = TestDaemon::start_with(fediverse_on()).await;
    let remote = Remote::start().await;
    let inbox = daemon.url("/inbox");
    let follow = remote.follow("alice", &format!("{}/@news", daemon.base));
    let body = serde_json::to_vec(&follow).unwrap();
    let client = patient_client();
    let post = |headers: reqwest::header::HeaderMap, body: Vec<u8>| {
        let request = client.post(&inbox).headers(headers).body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };

    let unsigned = post(reqwest::header::HeaderMap::new(), body.clone()).await;
    assert_eq!(unsigned, 401, "unsigned");

    // Signed by alice's key, claiming to be mallory: the key's owner is not the actor.
    let mut forged_activity = follow.clone();
    forged_activity["actor"] = json!(remote.actor_id("mallory"));
    let forged_body = serde_json::to_vec(&forged_activity).unwrap();
    let headers = remote.signed_headers("alice", &inbox, &forged_body, SignatureForm::Cavage);
    assert_eq!(
        post(headers, forged_body).await,
        401,
        "actor and key differ"
    );

    // A body other than the one signed.
    let headers = remote.signed_headers("alice", &inbox, &body, SignatureForm::Rfc9421);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(post(headers, tampered).await, 401, "digest mismatch");

    // A replay: a Date of 13 hours ago.
    let mut headers = remote.signed_headers("alice", &inbox, &body, SignatureForm::Cavage);
    let old =
        httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(13 * 3600));
    headers.insert("date", old.parse().unwrap());
    assert_eq!(post(headers, body.clone()).await, 401, "stale date");

    // A 10 MB body is refused from its head: the answer comes before the body is sent
    // (over plain TCP, since a client library would fail writing the rest).
    let big = daemon
        .exchange(
            "POST",
            "/inbox",
            &[
                ("Content-Type", ACTIVITY_JSON),
                ("Content-Length", "10485760"),
            ],
        )
        .await;
    assert_eq!(big.status, 413, "10 MB body");

    // None of them followed.
    tokio::time::sleep(GRACE).await;
    assert_eq!(daemon.status().await["activitypub"]["followers"], 0);
    // The real one does.
    assert_eq!(
        remote
            .send("alice", &inbox, &follow, SignatureForm::Cavage)
            .await,
        202
    );
    wait_for_followers(&daemon, 1, "one follower").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_from_a_private_address_is_refused_unless_allowed() {
    let daemon = TestDaemon::start_with(Layer {
        activitypub: ActivityPubLayer {
            enabled: Some(true),
            ..ActivityPubLayer::default()
        },
        ..Layer::default()
    })
    .await;
    let remote = Remote::start().await;
    let follow = remote.follow("alice", &format!("{}/@news", daemon.base));
    let status = remote
        .send(
            "alice",
            &daemon.url("/inbox"),
            &follow,
            SignatureForm::Rfc9421,
        )
        .await;
    assert_eq!(status, 401, "its key is on loopback, which is not fetched");
    assert_eq!(daemon.status().await["activitypub"]["followers"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_refuses_rfc9421_gets_draft_cavage_and_is_remembered() {
    let daemon = TestDaemon::start_with(fediverse_on()).await;
    let remote = Remote::start().await;
    remote.trust(&actor(&daemon).await);
    remote.set_answers(InboxAnswers {
        rfc9421: 401,
        cavage: 202,
    });
    follow(&daemon, &remote, "alice").await;
    let accept = delivery(&remote, "the Accept in draft-cavage", |d| {
        d.kind() == "Accept" && d.form == SignatureForm::Cavage
    })
    .await;
    assert!(accept.verified);
    daemon
        .wait_for_status("the form remembered", |s| {
            (s["activitypub"]["signature_forms"][0][1] == "cavage").then_some(())
        })
        .await;
    daemon.publish_seed(TECH).await;
    delivery(&remote, "the Create", |d| d.kind() == "Create").await;
    let knocks = remote
        .deliveries()
        .iter()
        .filter(|d| d.form == SignatureForm::Rfc9421)
        .count();
    assert_eq!(knocks, 1, "only the first delivery knocked with RFC 9421");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_that_is_gone_loses_its_followers_and_a_deleted_actor_its_follow() {
    let daemon = TestDaemon::start_with(fediverse_on()).await;
    let remote = Remote::start().await;
    remote.trust(&actor(&daemon).await);
    follow(&daemon, &remote, "alice").await;
    delivery(&remote, "the Accept", |d| d.kind() == "Accept").await;
    remote.set_answers(InboxAnswers {
        rfc9421: 410,
        cavage: 410,
    });
    daemon.publish_seed(TECH).await;
    wait_for_followers(&daemon, 0, "no followers after a 410").await;

    // A deleted actor: its Delete is signed with a key its server no longer serves.
    remote.set_answers(InboxAnswers::OK);
    follow(&daemon, &remote, "carol").await;
    wait_for_followers(&daemon, 1, "carol follows").await;
    remote.serve_actors(false);
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#delete", remote.actor_id("carol")),
        "type": "Delete",
        "actor": remote.actor_id("carol"),
        "object": remote.actor_id("carol"),
    });
    // The key is kept from the Follow: the signature still verifies.
    let status = remote
        .send(
            "carol",
            &daemon.url("/inbox"),
            &delete,
            SignatureForm::Cavage,
        )
        .await;
    assert_eq!(status, 202);
    wait_for_followers(&daemon, 0, "carol gone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_pending_at_a_restart_is_sent_after_it() {
    let mut daemon = TestDaemon::start_with(at_fixed_address()).await;
    let remote = Remote::start().await;
    remote.trust(&actor(&daemon).await);
    follow(&daemon, &remote, "alice").await;
    delivery(&remote, "the Accept", |d| d.kind() == "Accept").await;
    remote.set_answers(InboxAnswers::DOWN);
    daemon.publish_seed(TECH).await;
    delivery(&remote, "a refused Create", |d| {
        d.kind() == "Create" && d.answered == 503
    })
    .await;
    daemon.stop().await;
    remote.set_answers(InboxAnswers::OK);
    // The follower and the row are in the database.
    daemon.restart().await;
    delivery(&remote, "the Create after the restart", |d| {
        d.kind() == "Create" && d.answered == 202
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_again_and_a_flood_is_slowed() {
    let daemon = TestDaemon::start_with(Layer {
        activitypub: ActivityPubLayer {
            inbox_per_minute: Some(3),
            ..fediverse_on().activitypub
        },
        ..Layer::default()
    })
    .await;
    let remote = Remote::start().await;
    let follow = follow(&daemon, &remote, "alice").await;
    wait_for_followers(&daemon, 1, "alice follows").await;
    // The site keeps alice's key; her server rotates it and signs the Undo with the new.
    remote.rotate_key();
    let undo = remote.undo("alice", &follow);
    let status = remote
        .send(
            "alice",
            &daemon.url("/inbox"),
            &undo,
            SignatureForm::Rfc9421,
        )
        .await;
    assert_eq!(
        status, 202,
        "the new key is fetched once the kept one fails"
    );
    wait_for_followers(&daemon, 0, "alice gone").await;
    // Three requests a minute from one host: the fourth waits.
    let third = remote
        .send(
            "alice",
            &daemon.url("/inbox"),
            &undo,
            SignatureForm::Rfc9421,
        )
        .await;
    assert_eq!(third, 202);
    let fourth = remote
        .send(
            "alice",
            &daemon.url("/inbox"),
            &undo,
            SignatureForm::Rfc9421,
        )
        .await;
    assert_eq!(fourth, 429, "over inbox_per_minute");
}

/// The release of `seedfeed serve` on a fixed loopback port over these folders, with
/// the fediverse on and loopback allowed.
fn serve_binary(seeds: &std::path::Path, data: &std::path::Path, port: u16) -> Binary {
    let mut command = seedfeed();
    command
        .env("SEEDFEED_LOG", "info")
        .env("SEEDFEED_SETTLE_MS", "300")
        .env("SEEDFEED_ACTIVITYPUB_ENABLED", "true")
        .env("SEEDFEED_ACTIVITYPUB_ALLOW_PRIVATE", "true")
        .args(["serve", "--admin-listen", "off", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--base-url")
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--seeds")
        .arg(seeds)
        .arg("--data")
        .arg(data);
    let mut binary = Binary::spawn(command);
    binary.wait_for_log("first scan done");
    binary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_the_drop_and_the_delivery_loses_nothing() {
    let (seeds, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut daemon = serve_binary(seeds.path(), data.path(), port);
    let remote = Remote::start().await;
    let answer = patient_client()
        .get(format!("{base}/@news"))
        .header("accept", ACTIVITY_JSON)
        .send()
        .await
        .unwrap();
    let actor: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    remote.trust(&actor);
    let follow = remote.follow("alice", &format!("{base}/@news"));
    let inbox = format!("{base}/inbox");
    assert_eq!(
        remote
            .send("alice", &inbox, &follow, SignatureForm::Rfc9421)
            .await,
        202
    );
    delivery(&remote, "the Accept", |d| d.kind() == "Accept").await;
    // The follower's server is down when the article comes: the Create waits in the
    // outbox, and the daemon is killed with it there.
    remote.set_answers(InboxAnswers::DOWN);
    write_file(&seeds.path().join(format!("{TECH}.txt")), &seed(TECH));
    delivery(&remote, "a refused Create", |d| {
        d.kind() == "Create" && d.answered == 503
    })
    .await;
    daemon.kill();
    remote.set_answers(InboxAnswers::OK);
    let _daemon = serve_binary(seeds.path(), data.path(), port);
    let create = delivery(&remote, "the Create after the kill", |d| {
        d.kind() == "Create" && d.answered == 202
    })
    .await;
    assert!(create.verified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_name_their_activitypub_representation_and_the_credited_account() {
    let daemon = TestDaemon::start_with(Layer {
        activitypub: ActivityPubLayer {
            attribution: Some("@alice@example.social".into()),
            ..fediverse_on().activitypub
        },
        ..Layer::default()
    })
    .await;
    let id = daemon.publish_seed(TECH).await;
    let url = entry_url(&daemon, &id).await;
    let page = daemon.body(url.trim_start_matches(&daemon.base)).await;
    assert!(
        page.contains(&format!(
            "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{url}\">"
        )),
        "the entry page names its object"
    );
    let creator = "<meta name=\"fediverse:creator\" content=\"@alice@example.social\">";
    assert!(page.contains(creator), "{page}");
    assert!(daemon.body("/").await.contains(creator));
    // Without the table, nothing of the sort.
    let plain = TestDaemon::start().await;
    let index = plain.body("/").await;
    assert!(!index.contains("application/activity+json") && !index.contains("fediverse:"));
}
