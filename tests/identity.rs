//! What makes a site's ids its own: the namespace of the entry ids comes from the host
//! of the base URL unless `id_namespace` says otherwise, is recorded in the database at
//! its first start, and never changes after; and a feed with nothing in it yet is dated
//! by the database's creation, not by 1970.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::articles::SAMPLE_KEY;
use common::daemon::TestDaemon;
use common::feeds::has_entry;
use seedfeed::config::Layer;
use seedfeed::model::EntryKey;
use seedfeed::normalize::{entry_id, id_namespace};

fn at_base(base_url: &str) -> Layer {
    Layer {
        base_url: Some(base_url.into()),
        ..Layer::default()
    }
}

fn id_in(namespace: &str) -> String {
    entry_id(&id_namespace(namespace), &EntryKey::new(SAMPLE_KEY)).to_string()
}

/// Two sites with a file of the same name give its entry different ids; each is the
/// UUIDv5 of the key in the namespace of the site's host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sites_give_the_same_file_different_ids() {
    let news = TestDaemon::start_with(at_base("https://news.example.org")).await;
    let blog = TestDaemon::start_with(at_base("https://example.net/blog/")).await;
    let (_, news_id) = news.publish_sample().await;
    let (_, blog_id) = blog.publish_sample().await;
    assert_ne!(news_id, blog_id);
    assert_eq!(news_id, id_in("news.example.org"));
    assert_eq!(blog_id, id_in("example.net/blog"));
}

/// The namespace is the database's: a move to a new domain, or an `id_namespace` set
/// later, changes no id; a database rebuilt from the same folder and host gives the
/// same ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_namespace_outlives_a_new_host_and_a_rebuild() {
    let mut daemon = TestDaemon::start_with(at_base("https://old.example.org")).await;
    let (_, id) = daemon.publish_sample().await;
    assert_eq!(id, id_in("old.example.org"));

    daemon
        .restart_with(at_base("https://new.example.org"))
        .await;
    daemon
        .wait_for_feeds("the entry after a move", has_entry(id.clone()))
        .await;
    daemon
        .restart_with(Layer {
            id_namespace: Some("something else".into()),
            ..at_base("https://new.example.org")
        })
        .await;
    daemon
        .wait_for_feeds("the entry with a new id_namespace", has_entry(id.clone()))
        .await;

    // The same folder and host into a new database: the same id.
    daemon.stop().await;
    std::fs::remove_dir_all(daemon.data.path()).unwrap();
    daemon
        .restart_with(at_base("https://old.example.org"))
        .await;
    daemon
        .wait_for_feeds("the entry after a rebuild", has_entry(id))
        .await;
}

/// An empty folder's feeds carry the time the database was created, in every format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_feed_is_dated_by_the_database_not_1970() {
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let mut daemon = TestDaemon::start().await;
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let atom = daemon.feed("/feed.atom").await;
    let updated = atom.updated.unwrap();
    assert!(before <= updated && updated <= after, "{updated}");
    // The same after a restart: it is the creation, not the start.
    daemon.restart().await;
    assert_eq!(daemon.feed("/feed.atom").await.updated, Some(updated));
    let json = daemon.json("/feed.json").await;
    assert!(json["items"].as_array().unwrap().is_empty());
}
