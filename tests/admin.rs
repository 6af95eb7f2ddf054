//! The admin listener and `seedfeed status`: `/status` and `/metrics` are served on
//! `admin_listen` only (loopback TCP, a Unix socket, or nowhere), the public listener
//! answers them 404, and `seedfeed status` reads the admin listener as `serve` would
//! configure it, for people or as JSON, and says what to set when it cannot.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashSet;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use common::articles::write_file;
use common::binary::{Binary, seedfeed};
use common::daemon::{TestDaemon, free_port, header, http_client};
use common::poll::eventually;
use seedfeed::config::{AdminListen, Layer};

/// `seedfeed` with these arguments, run to its end off the async workers.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || seedfeed().args(args).output().unwrap())
        .await
        .unwrap()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits until the daemon's status lists `path` (the daemon has read it).
async fn wait_until_listed(daemon: &TestDaemon, path: &str) {
    eventually(&format!("{path} in /status"), || async {
        daemon.body("/status").await.contains(path)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_metrics_are_served_on_the_admin_listener_only() {
    let daemon = TestDaemon::start().await;
    let client = http_client().build().unwrap();
    let get = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    for path in ["/status", "/metrics"] {
        let public = get(daemon.public_url(path)).await;
        assert_eq!(public.status(), 404, "{path} on the public listener");
        let admin = get(daemon.admin_url(path).unwrap()).await;
        assert_eq!(admin.status(), 200, "{path} on the admin listener");
        assert_eq!(header(&admin, "cache-control"), "no-store");
    }
    let status = get(daemon.admin_url("/status").unwrap()).await;
    let status: serde_json::Value = serde_json::from_str(&status.text().await.unwrap()).unwrap();
    assert_eq!(status["entries"], 0);
    assert_eq!(status["archives"]["frozen"], 0);
    assert!(
        status.get("ingest").is_none(),
        "no bulk under way: {status:#}"
    );
    // The memory of this process, which the in-process daemon shares.
    let rss = status["memory"]["rss_bytes"].as_u64().unwrap();
    assert!(rss > 1 << 20, "{status:#}");
    assert!(status["memory"]["peak_rss_bytes"].as_u64().unwrap() >= rss);
    // Liveness is public, and on the admin listener too; documents are public only.
    assert_eq!(get(daemon.public_url("/healthz")).await.status(), 200);
    assert_eq!(
        get(daemon.admin_url("/healthz").unwrap()).await.status(),
        200
    );
    assert_eq!(get(daemon.public_url("/feed.atom")).await.status(), 200);
    assert_eq!(
        get(daemon.admin_url("/feed.atom").unwrap()).await.status(),
        404
    );
    // The public requests for them are counted as such.
    let metrics = daemon.body("/metrics").await;
    assert!(
        metrics.contains("\nprocess_resident_memory_bytes "),
        "{metrics}"
    );
    assert!(
        metrics.contains("seedfeed_http_requests_total{route=\"status\",status=\"404\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedfeed_status_prints_the_rejects_with_their_reasons() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    write_file(&daemon.seed_path("empty.txt"), b"");
    wait_until_listed(&daemon, "empty.txt").await;
    let admin = daemon.admin_address().to_string();

    let out = run(args(&["status", "--admin-listen", &admin])).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    for needle in [
        format!("at {admin}, up "),
        "\nentries        1\n".to_owned(),
        "\nrejects (1):\n  empty.txt: empty".to_owned(),
        "\nlast ingest    20".to_owned(),
        "\nwebsub         off\n".to_owned(),
    ] {
        assert!(stdout.contains(&needle), "no {needle:?} in\n{stdout}");
    }

    let out = run(args(&["status", "--json", "--admin-listen", &admin])).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json is not JSON ({e}):\n{}", text(&out.stdout)));
    assert_eq!(json["rejects"][0]["path"], "empty.txt");
    assert_eq!(json["entries"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_can_be_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("admin.sock");
    // A socket file a killed daemon left behind: replaced, not an error.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let setting = format!("unix:{}", socket.display());
    let mut daemon = TestDaemon::start_with(Layer {
        admin_listen: Some(setting.clone()),
        ..Layer::default()
    })
    .await;
    assert_eq!(daemon.admin_address().to_string(), setting);
    let metadata = std::fs::symlink_metadata(&socket).unwrap();
    assert!(metadata.file_type().is_socket());
    assert_eq!(metadata.permissions().mode() & 0o777, 0o660);
    write_file(&daemon.seed_path("empty.txt"), b"");

    // `seedfeed status` reads the setting from the same layers as `serve`: a file here.
    let config = dir.path().join("seedfeed.toml");
    write_file(&config, format!("admin_listen = {setting:?}\n").as_bytes());
    let config = config.display().to_string();
    let listed = || async {
        let out = run(args(&["status", "--config", &config])).await;
        out.status.success() && text(&out.stdout).contains("empty.txt: empty")
    };
    eventually("seedfeed status over the socket to list empty.txt", listed).await;
    let out = run(args(&["status", "--json", "--config", &config])).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rejects"][0]["path"], "empty.txt");

    daemon.stop().await;
    assert!(!socket.exists(), "the socket file is left after a stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_path_in_use_or_not_a_socket_is_an_error_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("admin.sock");
    let setting = format!("unix:{}", socket.display());
    let daemon = TestDaemon::start_with(Layer {
        admin_listen: Some(setting.clone()),
        ..Layer::default()
    })
    .await;
    let mut second = daemon.config();
    second.data = dir.path().join("data");
    let error = format!("{:#}", start_error(&second).await);
    assert!(
        error.contains("admin_listen") && error.contains("server that is running"),
        "{error}"
    );
    assert!(socket.exists(), "the running daemon's socket was removed");

    let file = dir.path().join("not-a-socket");
    write_file(&file, b"keep me");
    second.admin_listen = AdminListen::Unix(file.clone());
    let error = format!("{:#}", start_error(&second).await);
    assert!(error.contains("not a socket"), "{error}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

/// Starts a daemon that must fail, and returns why.
async fn start_error(config: &seedfeed::config::Config) -> anyhow::Error {
    match seedfeed::daemon::start(config).await {
        Ok(_) => panic!("the daemon started"),
        Err(error) => error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_port_in_use_is_an_error_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let daemon = TestDaemon::start().await;
    let mut config = daemon.config();
    let dir = tempfile::tempdir().unwrap();
    config.data = dir.path().to_owned();
    config.admin_listen = AdminListen::Tcp(taken.local_addr().unwrap());
    let error = format!("{:#}", start_error(&config).await);
    let port = taken.local_addr().unwrap().port().to_string();
    assert!(
        error.contains("admin_listen") && error.contains(&port),
        "{error}"
    );
}

/// The sockets of process `pid` that listen: TCP (v4 and v6) and Unix.
fn listening_sockets(pid: u32) -> usize {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let listening = |table: &str, state: usize, listen: &str, inode: usize| {
        let text = std::fs::read_to_string(Path::new("/proc/net").join(table)).unwrap();
        text.lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .filter(|f| f.get(state) == Some(&listen))
            .filter(|f| f.get(inode).is_some_and(|i| inodes.contains(*i)))
            .count()
    };
    // tcp: `st` 0A is LISTEN; unix: flags 00010000 is __SO_ACCEPTCON.
    listening("tcp", 3, "0A", 9)
        + listening("tcp6", 3, "0A", 9)
        + listening("unix", 3, "00010000", 6)
}

#[test]
fn admin_listen_off_binds_nothing() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let serve = |admin: &str| {
        let mut command = seedfeed();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", admin])
            .arg("--seeds")
            .arg(seeds.path())
            .arg("--data")
            .arg(data.path());
        let mut binary = Binary::spawn(command);
        let line = binary.wait_for_log("listening");
        (binary, line)
    };
    let (off, line) = serve("off");
    assert!(line.contains("admin=off"), "{line}");
    assert_eq!(listening_sockets(off.pid()), 1, "only the public listener");
    drop(off);
    // The same count sees the admin listener when there is one.
    let (on, line) = serve("127.0.0.1:0");
    assert!(line.contains("admin=127.0.0.1:"), "{line}");
    assert_eq!(
        listening_sockets(on.pid()),
        2,
        "the public and the admin listener"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seedfeed_status_without_a_daemon_says_what_it_tried_and_what_to_set() {
    let nobody = format!("127.0.0.1:{}", free_port());
    let out = run(args(&["status", "--admin-listen", &nobody])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    for needle in [
        nobody.as_str(),
        "admin_listen",
        "seedfeed serve",
        "--admin-listen",
    ] {
        assert!(stderr.contains(needle), "no {needle:?} in\n{stderr}");
    }

    let out = run(args(&["status", "--admin-listen", "off"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("admin listener is off"), "{stderr}");

    // The public listener is not the admin one: its 404 is named as such.
    let daemon = TestDaemon::start().await;
    let public = daemon.socket_addr().to_owned();
    let out = run(args(&["status", "--admin-listen", &public])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("404"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_says_how_far_the_archive_pages_are() {
    let daemon = TestDaemon::start_with(Layer {
        feed_size: Some(2),
        ..Layer::default()
    })
    .await;
    for i in 0..5 {
        let story = article(&format!("Story {i}"), "Tech");
        daemon.publish(&format!("story-{i}"), &story).await;
    }
    // Five entries, pages of two: pages 1 and 2 are full and frozen.
    eventually("two archive pages frozen in /status", || async {
        let status = daemon.json("/status").await;
        status["archives"] == serde_json::json!({"frozen": 2, "waiting": 0})
    })
    .await;
    let metrics = daemon.body("/metrics").await;
    assert!(
        metrics.contains("\nseedfeed_archive_pages_frozen 2\n"),
        "{metrics}"
    );
    let admin = daemon.admin_address().to_string();
    let out = run(args(&["status", "--admin-listen", &admin])).await;
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\narchive pages  frozen 2, waiting 0\n"),
        "{stdout}"
    );
}

fn article(title: &str, section: &str) -> Vec<u8> {
    common::articles::article(section, title, &format!("The story of {title}."))
}
