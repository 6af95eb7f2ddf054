//! The test harness: a real daemon on a loopback port with real temp folders, an HTTP
//! client, feed-rs to read our feeds back, and bounded polls (never timed assertions).

#![allow(dead_code)] // each test file uses a different part of the harness
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seedfeed::config::{self, Config, Layer};
use seedfeed::daemon::{self, Running};
use seedfeed::model::{EntryId, EntryKey};
use seedfeed::normalize::{entry_id, id_namespace};
use tempfile::TempDir;

/// How long a poll may wait before the test fails. Generous: machines are shared.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The settle time tests run with: short, but long enough for chunked writes to matter.
pub const SETTLE_MS: u64 = 300;

pub fn sample_article() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/000_9b018788d1e41f8c.txt"))
        .expect("the sample article is in seeds/")
}

pub const SAMPLE_KEY: &str = "000_9b018788d1e41f8c";

/// A daemon over temp seeds and data folders that outlive restarts.
pub struct TestDaemon {
    pub seeds: TempDir,
    pub data: TempDir,
    /// Settings over the harness's own (folders, loopback port, short settle time).
    settings: Layer,
    running: Option<Running>,
    /// The base URL the documents' links start with.
    pub base: String,
    /// Where the server listens (the same as `base` unless `base_url` is set).
    addr: String,
    client: reqwest::Client,
}

impl TestDaemon {
    pub async fn start() -> Self {
        Self::start_with(Layer::default()).await
    }

    pub async fn start_with_settle(settle_ms: u64) -> Self {
        Self::start_with(Layer {
            settle_ms: Some(settle_ms),
            ..Layer::default()
        })
        .await
    }

    /// Starts with these settings over the harness's.
    pub async fn start_with(settings: Layer) -> Self {
        let seeds = TempDir::new().unwrap();
        let data = TempDir::new().unwrap();
        let mut daemon = Self {
            seeds,
            data,
            settings,
            running: None,
            base: String::new(),
            addr: String::new(),
            client: http_client().build().unwrap(),
        };
        daemon.boot().await;
        daemon
    }

    pub fn config(&self) -> Config {
        let harness = Layer {
            seeds: Some(self.seeds.path().to_owned()),
            data: Some(self.data.path().to_owned()),
            listen: Some("127.0.0.1:0".into()),
            settle_ms: Some(SETTLE_MS),
            ..Layer::default()
        };
        config::validate(self.settings.clone().over(harness).over(Layer::defaults())).unwrap()
    }

    async fn boot(&mut self) {
        let mut running = daemon::start(&self.config()).await.unwrap();
        running.first_scan().await;
        self.base = seedfeed::config::base_str(running.base_url()).to_owned();
        self.addr = format!("http://{}", running.local_addr());
        self.running = Some(running);
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
    }

    /// Stops and starts again on the same folders (a new port).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.boot().await;
    }

    pub fn seed_path(&self, name: &str) -> PathBuf {
        self.seeds.path().join(name)
    }

    /// The URL to request `path` at.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A request with any method and extra headers.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    pub async fn client_head(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        self.request(reqwest::Method::HEAD, path, headers).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    pub async fn body(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// Reads a served feed back with feed-rs.
    pub async fn feed(&self, path: &str) -> feed_rs::model::Feed {
        let body = self.body(path).await;
        feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}\n{body}"))
    }

    /// Polls both feeds until `done` holds for each, or fails after [`PATIENCE`].
    pub async fn wait_for_feeds(&self, what: &str, done: impl Fn(&feed_rs::model::Feed) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        for path in ["/feed.atom", "/feed.rss"] {
            loop {
                let feed = self.feed(path).await;
                if done(&feed) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{path}: gave up waiting for {what}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            self.wait_for_variants(path).await;
        }
    }

    /// Waits until `path` is served compressed: a new version of a feed is served first
    /// as it is, then with its gzip and brotli variants.
    pub async fn wait_for_variants(&self, path: &str) {
        for coding in ["gzip", "br"] {
            eventually(&format!("{path} in {coding}"), || async {
                let response = self.get_with(path, &[("accept-encoding", coding)]).await;
                response
                    .headers()
                    .get("content-encoding")
                    .is_some_and(|v| v.as_bytes() == coding.as_bytes())
            })
            .await;
        }
    }

    /// Writes the sample article into the seeds folder and waits until both feeds have
    /// it; returns its path and id.
    pub async fn publish_sample(&self) -> (PathBuf, String) {
        let path = self.seed_path(&format!("{SAMPLE_KEY}.txt"));
        write_file(&path, &sample_article());
        let id = self.id_of(SAMPLE_KEY).to_string();
        let wanted = id.clone();
        self.wait_for_feeds("the sample article", move |feed| {
            feed.entries.iter().any(|e| e.id == wanted)
        })
        .await;
        (path, id)
    }

    /// The id the daemon gives `key` under the default namespace.
    pub fn id_of(&self, key: &str) -> EntryId {
        entry_id(&id_namespace("seedfeed"), &EntryKey::new(key))
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        // A test that failed mid-way still stops its server and ingest thread: dropping
        // the handles closes the listener's task and the ingest inbox.
        self.running.take();
    }
}

/// A client builder for tests. reqwest is built with rustls and without a default crypto
/// provider (seedfeed chooses ring), so one is installed before any client is built.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// Polls an async condition until it holds, or panics after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes a file the way `cp` does when it lands in one go.
pub fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

/// Writes a file the way an editor or an `rsync` does: a temp name, then a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_str().unwrap()
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
