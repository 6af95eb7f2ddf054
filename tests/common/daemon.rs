//! A real daemon in this process, on a loopback port over temp seeds and data folders,
//! and the HTTP client that talks to it; feeds are read back with feed-rs, and every wait
//! is a bounded poll. Each daemon has an admin listener on a loopback port of its own,
//! and requests for `/status` and `/metrics` go there.

use std::path::PathBuf;

use seedfeed::config::{self, AdminListen, Config, Layer};
use seedfeed::daemon::{self, Running};
use seedfeed::model::EntryId;
use tempfile::TempDir;

use super::articles::{SAMPLE_KEY, sample_article, seed, write_file};
use super::feeds::has_entry;
use super::poll::{PATIENCE, eventually, until};

/// The settle time tests run with: short, but long enough for chunked writes to matter.
pub const SETTLE_MS: u64 = 300;

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
    /// Where `/status` and `/metrics` are served.
    admin: AdminListen,
    client: reqwest::Client,
}

/// The paths only the admin listener serves.
const ADMIN_PATHS: [&str; 2] = ["/status", "/metrics"];

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
        Self::start_prepared(settings, |_| {}).await
    }

    /// [`Self::start_with`], once `prepare` has put in the seeds folder what must be
    /// there at start-up (a podcast's artwork).
    pub async fn start_prepared(settings: Layer, prepare: impl FnOnce(&std::path::Path)) -> Self {
        let seeds = TempDir::new().unwrap();
        prepare(seeds.path());
        let data = TempDir::new().unwrap();
        let mut daemon = Self {
            seeds,
            data,
            settings,
            running: None,
            base: String::new(),
            addr: String::new(),
            admin: AdminListen::Off,
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
            admin_listen: Some("127.0.0.1:0".into()),
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
        self.admin = running.admin_address().clone();
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

    /// [`Self::restart`] with other settings over the harness's.
    pub async fn restart_with(&mut self, settings: Layer) {
        self.stop().await;
        self.settings = settings;
        self.boot().await;
    }

    pub fn seed_path(&self, name: &str) -> PathBuf {
        self.seeds.path().join(name)
    }

    /// The URL to request `path` at: on the admin listener for `/status` and
    /// `/metrics` (when it listens on TCP), on the public one for everything else.
    pub fn url(&self, path: &str) -> String {
        let admin = ADMIN_PATHS.iter().any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('?'))
        });
        match self.admin_url(path) {
            Some(url) if admin => url,
            _ => self.public_url(path),
        }
    }

    /// `path` on the public listener, whatever it is.
    pub fn public_url(&self, path: &str) -> String {
        format!("{}{path}", self.addr)
    }

    /// `path` on the admin listener, when it listens on TCP.
    pub fn admin_url(&self, path: &str) -> Option<String> {
        match &self.admin {
            AdminListen::Tcp(addr) => Some(format!("http://{addr}{path}")),
            AdminListen::Unix(_) | AdminListen::Off => None,
        }
    }

    /// Where the admin listener listens, as `admin_listen` would say it.
    pub fn admin_address(&self) -> &AdminListen {
        &self.admin
    }

    /// Where the server listens, `host:port`, for raw connections.
    pub fn socket_addr(&self) -> &str {
        self.addr.trim_start_matches("http://")
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
        self.request(reqwest::Method::GET, path, headers).await
    }

    /// Sends raw bytes (a request as written on the wire) and reads until the server
    /// closes or [`PATIENCE`] passes.
    pub async fn raw(&self, request: &[u8]) -> String {
        String::from_utf8_lossy(&self.raw_bytes(request).await).into_owned()
    }

    /// [`Self::raw`], the answer's bytes as they came.
    pub async fn raw_bytes(&self, request: &[u8]) -> Vec<u8> {
        super::http1::send(self.socket_addr(), request).await
    }

    /// One request on a connection of its own, exactly as given (see [`super::http1`]),
    /// and its answer.
    pub async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> super::http1::Reply {
        super::http1::exchange(self.socket_addr(), method, path, headers).await
    }

    pub async fn body(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// A JSON document (`/status`, `/feed.json`) as served.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let body = self.body(path).await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}\n{body}"))
    }

    /// Reads a served feed back with feed-rs.
    pub async fn feed(&self, path: &str) -> feed_rs::model::Feed {
        let body = self.body(path).await;
        feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}\n{body}"))
    }

    /// `/status`, as the admin listener serves it.
    pub async fn status(&self) -> serde_json::Value {
        self.json("/status").await
    }

    /// Polls `/status` until `found` finds what it looks for in it; returns that.
    pub async fn wait_for_status<T>(
        &self,
        what: &str,
        found: impl Fn(&serde_json::Value) -> Option<T>,
    ) -> T {
        until(&format!("{what} in /status"), || async {
            let status = self.status().await;
            found(&status).ok_or_else(|| format!("{status:#}"))
        })
        .await
    }

    /// Polls the feed at `path` (any feed, in any format, which may not exist yet: a
    /// new tag's) until `done` holds; returns it.
    pub async fn wait_for_feed(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&feed_rs::model::Feed) -> bool,
    ) -> feed_rs::model::Feed {
        until(&format!("{what} in {path}"), || async {
            let response = self.get(path).await;
            if response.status() == 404 {
                return Err("404".to_owned());
            }
            assert_eq!(response.status(), 200, "GET {path}");
            let body = response.bytes().await.unwrap();
            let feed = feed_rs::parser::parse(body.as_ref())
                .unwrap_or_else(|e| panic!("{path}: {e}\n{}", String::from_utf8_lossy(&body)));
            if done(&feed) {
                Ok(feed)
            } else {
                Err(format!("{:?}", super::feeds::ids(&feed)))
            }
        })
        .await
    }

    /// Polls both feeds until `done` holds for each, or fails after [`PATIENCE`].
    pub async fn wait_for_feeds(&self, what: &str, done: impl Fn(&feed_rs::model::Feed) -> bool) {
        for path in ["/feed.atom", "/feed.rss"] {
            until(&format!("{what} in {path}"), || async {
                if done(&self.feed(path).await) {
                    Ok(())
                } else {
                    Err(String::new())
                }
            })
            .await;
            self.wait_for_variants(path).await;
        }
    }

    /// Waits until `path` is served compressed: a new version of a feed is served first
    /// as it is, then with its gzip and brotli variants.
    pub async fn wait_for_variants(&self, path: &str) {
        for coding in ["gzip", "br"] {
            self.wait_for_variant(path, coding).await;
        }
    }

    /// Waits until `path` is served in `coding` (`gzip` or `br`).
    pub async fn wait_for_variant(&self, path: &str, coding: &str) {
        eventually(&format!("{path} in {coding}"), || async {
            let response = self.get_with(path, &[("accept-encoding", coding)]).await;
            response
                .headers()
                .get("content-encoding")
                .is_some_and(|v| v.as_bytes() == coding.as_bytes())
        })
        .await;
    }

    /// Writes `{key}.txt` into the seeds folder and waits until both feeds have its
    /// entry; returns the entry's id.
    pub async fn publish(&self, key: &str, bytes: &[u8]) -> String {
        write_file(&self.seed_path(&format!("{key}.txt")), bytes);
        let id = self.id_of(key).to_string();
        self.wait_for_feeds(key, has_entry(id.clone())).await;
        id
    }

    /// Writes the sample article into the seeds folder and waits until both feeds have
    /// it; returns its path and id.
    pub async fn publish_sample(&self) -> (PathBuf, String) {
        let id = self.publish(SAMPLE_KEY, &sample_article()).await;
        (self.seed_path(&format!("{SAMPLE_KEY}.txt")), id)
    }

    /// Copies `seeds/{key}.txt` of the repository into the seeds folder; returns the
    /// entry's id, without waiting for it.
    pub fn drop_seed(&self, key: &str) -> String {
        write_file(&self.seed_path(&format!("{key}.txt")), &seed(key));
        self.id_of(key).to_string()
    }

    /// Drops a seed of the repository and waits until both main feeds have it.
    pub async fn publish_seed(&self, key: &str) -> String {
        self.publish(key, &seed(key)).await
    }

    /// The id the daemon gives `key`: in the namespace its database recorded (the host
    /// of its base URL, unless its configuration names one).
    pub fn id_of(&self, key: &str) -> EntryId {
        let namespace = seedfeed::daemon::namespace_for(&self.config());
        seedfeed::normalize::entry_id(
            &seedfeed::normalize::id_namespace(&namespace),
            &seedfeed::model::EntryKey::new(key),
        )
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        // A test that failed mid-way still stops its server and ingest thread: dropping
        // the handles closes the listener's task and the ingest inbox.
        self.running.take();
    }
}

/// The reason `/status` gives for the file at `path` in its list `list` (`rejects`,
/// `duplicates`, `held`, `warnings`, `not_articles`), or nothing when it is not there.
pub fn status_note(status: &serde_json::Value, list: &str, path: &str) -> Option<String> {
    status[list]
        .as_array()
        .unwrap_or_else(|| panic!("no list {list} in {status:#}"))
        .iter()
        .find(|note| note["path"] == path)
        .map(|note| note["reason"].as_str().unwrap_or_default().to_owned())
}

/// The value of a counter or gauge without labels in a `/metrics` exposition.
pub fn metric_value(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in {metrics}"))
        .parse()
        .unwrap()
}

/// A client builder for tests. reqwest is built with rustls and without a default crypto
/// provider (seedfeed chooses ring), so one is installed before any client is built.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A client whose every request gives up after [`PATIENCE`].
pub fn patient_client() -> reqwest::Client {
    http_client().timeout(PATIENCE).build().unwrap()
}

/// A response header's value, or nothing when it is absent.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| {
            v.to_str()
                .unwrap_or_else(|_| panic!("{name} is not visible ASCII: {v:?}"))
                .to_owned()
        })
        .unwrap_or_default()
}

/// A loopback port no one listens on now, for a server that must keep its port. Never
/// the same port twice in one test process: its tests run side by side, and two servers
/// told the same port would leave one of them answering for both (the kernel hands out
/// ports at random, so a repeat is rare, but it has happened).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..1_000 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
    panic!("the kernel gave only ports already handed out, 1,000 times over");
}
