//! `seedfeed render --out DIR` writes the same bytes the server serves, at the same
//! paths, with the same compressed variants.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::{Path, PathBuf};

use common::articles::sample_as;
use common::binary::seedfeed;
use common::daemon::TestDaemon;
use seedfeed::config::Layer;

const BASE: &str = "https://feeds.example.org";

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_files_are_the_served_bytes() {
    let daemon = TestDaemon::start_with(Layer {
        base_url: Some(BASE.into()),
        ..Layer::default()
    })
    .await;
    daemon.publish_sample().await;
    daemon
        .publish("café au lait", &sample_as("Café society", "Culture"))
        .await;

    let out = tempfile::tempdir().unwrap();
    let export = seedfeed()
        .arg("render")
        .arg("--out")
        .arg(out.path())
        .arg("--seeds")
        .arg(daemon.seeds.path())
        .arg("--data")
        .arg(daemon.data.path())
        .args(["--base-url", BASE])
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );

    let exported = files(out.path());
    let mut documents = 0;
    for file in &exported {
        let name = file.to_str().unwrap();
        if name.ends_with(".gz") || name.ends_with(".br") {
            continue;
        }
        documents += 1;
        let relative = file.strip_prefix(out.path()).unwrap().to_str().unwrap();
        let path = if relative == "index.html" {
            "/".to_owned()
        } else {
            format!("/{relative}")
        };
        let encoded = path.replace(' ', "%20").replace('é', "%C3%A9");
        let served = daemon.get(&encoded).await;
        assert_eq!(served.status(), 200, "{path}");
        assert_eq!(
            served.bytes().await.unwrap(),
            std::fs::read(file).unwrap(),
            "{path}"
        );
        for (extension, coding) in [("gz", "gzip"), ("br", "br")] {
            let sibling = PathBuf::from(format!("{name}.{extension}"));
            let response = daemon
                .get_with(&encoded, &[("accept-encoding", coding)])
                .await;
            let served_coding = response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            if sibling.exists() {
                assert_eq!(served_coding.as_deref(), Some(coding), "{path}");
                assert_eq!(
                    response.bytes().await.unwrap(),
                    std::fs::read(&sibling).unwrap(),
                    "{path}.{extension}"
                );
            } else {
                assert_eq!(
                    served_coding, None,
                    "{path}: served {coding} but not exported"
                );
            }
        }
    }
    for expected in [
        "index.html",
        "feed.atom",
        "feed.rss",
        "feed.json",
        "feeds.opml",
        "feed.xsl",
        "entries/café au lait",
        "categories/culture.atom",
    ] {
        assert!(out.path().join(expected).exists(), "{expected} exported");
    }
    assert!(documents >= 14, "{documents} documents: {exported:?}");
}
