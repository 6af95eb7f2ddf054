//! Serving over a real loopback socket: content codings, CORS and OPTIONS, the error
//! statuses, the limits that keep slow and hostile clients from taking the server down
//! (the connection cap under hostile load is `slowloris.rs`'s),
//! `/status` and `/metrics`, and a bounded graceful shutdown.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::io::Read;

use common::articles::{SAMPLE_KEY, sample_article, write_file};
use common::daemon::{TestDaemon, header};
use common::poll::{PATIENCE, eventually};
use seedfeed::config::Layer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_coding_is_its_own_representation() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let identity = daemon.get("/feed.atom").await;
    let identity_etag = header(&identity, "etag");
    let body = identity.bytes().await.unwrap();

    let br = daemon
        .get_with("/feed.atom", &[("accept-encoding", "gzip, deflate, br")])
        .await;
    assert_eq!(header(&br, "content-encoding"), "br");
    assert_eq!(header(&br, "vary"), "Accept, Accept-Encoding");
    let br_etag = header(&br, "etag");
    let compressed = br.bytes().await.unwrap();
    assert!(compressed.len() < body.len());
    let mut unbrotlied = Vec::new();
    brotli::BrotliDecompress(&mut &compressed[..], &mut unbrotlied).unwrap();
    assert_eq!(unbrotlied, body);

    let gzip = daemon
        .get_with("/feed.atom", &[("accept-encoding", "gzip;q=1, br;q=0.5")])
        .await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    let gzip_etag = header(&gzip, "etag");
    let compressed = gzip.bytes().await.unwrap();
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, body);

    let etags = [&identity_etag, &br_etag, &gzip_etag];
    assert!(
        etags.iter().all(|e| e.starts_with('"') && e.ends_with('"')),
        "strong: {etags:?}"
    );
    assert!(identity_etag != br_etag && br_etag != gzip_etag && gzip_etag != identity_etag);
    // A cache holding one representation revalidates it whatever it asks for now.
    let revalidated = daemon
        .get_with(
            "/feed.atom",
            &[("accept-encoding", "br"), ("if-none-match", &gzip_etag)],
        )
        .await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(header(&revalidated, "etag"), br_etag);
    assert_eq!(header(&revalidated, "vary"), "Accept, Accept-Encoding");

    let refused = daemon
        .get_with("/feed.atom", &[("accept-encoding", "identity;q=0, *;q=0")])
        .await;
    assert_eq!(refused.status(), 406);
    let head = daemon
        .client_head("/feed.atom", &[("accept-encoding", "br")])
        .await;
    assert_eq!(
        header(&head, "content-length"),
        unbrotlied_len(&daemon).await.to_string()
    );
}

/// The length of the brotli variant of /feed.atom, from a GET.
async fn unbrotlied_len(daemon: &TestDaemon) -> usize {
    daemon
        .get_with("/feed.atom", &[("accept-encoding", "br")])
        .await
        .bytes()
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_allow_any_origin_and_answer_the_preflight() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let feed = daemon.get("/feed.json").await;
    assert_eq!(header(&feed, "access-control-allow-origin"), "*");
    assert_eq!(header(&feed, "x-content-type-options"), "nosniff");
    let preflight = daemon
        .request(
            reqwest::Method::OPTIONS,
            "/feed.atom",
            &[
                ("origin", "https://reader.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "if-none-match"),
            ],
        )
        .await;
    assert_eq!(preflight.status(), 204);
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert!(header(&preflight, "access-control-allow-methods").contains("GET"));
    assert!(
        header(&preflight, "access-control-allow-headers")
            .to_lowercase()
            .contains("if-none-match")
    );
    let page = daemon.request(reqwest::Method::OPTIONS, "/", &[]).await;
    assert_eq!(page.status(), 204);
    assert_eq!(header(&page, "allow"), "GET, HEAD, OPTIONS");
    assert_eq!(header(&page, "access-control-allow-origin"), "");
    assert_eq!(
        header(&daemon.get("/").await, "access-control-allow-origin"),
        ""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_odd_requests_get_small_errors() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let long = format!("/feed.atom?{}", "a".repeat(3000));
    assert_eq!(daemon.get(&long).await.status(), 414);
    let huge = "x".repeat(20_000);
    let response = daemon
        .raw(format!("GET /feed.atom HTTP/1.1\r\nHost: t\r\nX-Big: {huge}\r\n\r\n").as_bytes())
        .await;
    assert!(response.starts_with("HTTP/1.1 431"), "{response}");
    let response = daemon.raw(b"GET /feed.atom HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello").await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/entries/..%2F..%2Fdata%2Fseedfeed.db",
        "/./feed.atom",
        "//feed.atom",
    ] {
        let response = daemon
            .raw(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
            .await;
        assert!(
            response.starts_with("HTTP/1.1 404") || response.starts_with("HTTP/1.1 400"),
            "{path}: {response}"
        );
        assert!(response.len() < 400, "small body: {response}");
    }
    let response = daemon
        .raw(b"DELETE /feed.atom HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await;
    assert!(
        response.starts_with("HTTP/1.1 405")
            && response
                .to_lowercase()
                .contains("allow: get, head, options"),
        "{response}"
    );
    // Pipelined requests are answered in order.
    let response = daemon.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nHEAD /feed.atom HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await;
    let statuses: Vec<_> = response
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &response[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["200", "200", "404"], "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_block_others() {
    let daemon = TestDaemon::start_with(Layer {
        header_read_timeout: Some(1),
        idle_timeout: Some(2),
        ..Layer::default()
    })
    .await;
    daemon.publish_sample().await;
    let addr = daemon.socket_addr().to_owned();
    // Slowloris: many connections, each trickling a request head.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"GET /feed.atom HTTP/1.1\r\nHost: t\r\nX-A: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A normal reader is served all the while.
    for _ in 0..20 {
        assert_eq!(daemon.get("/feed.atom").await.status(), 200);
    }
    // Each slow head is cut off at the header-read timeout.
    for mut stream in slow {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "a trickling connection stays open");
    }
    // A kept-alive connection that asks nothing more is closed too.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(PATIENCE, idle.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "an idle kept-alive connection stays open");
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_trickled_forever_is_cut_off_at_the_header_read_timeout() {
    // The idle timeout is far away: only the header-read timeout can end this.
    let daemon = TestDaemon::start_with(Layer {
        header_read_timeout: Some(1),
        idle_timeout: Some(600),
        ..Layer::default()
    })
    .await;
    let addr = daemon.socket_addr().to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut closed = false;
    while std::time::Instant::now() < deadline {
        // One more header line every 200 ms, as a slowloris client sends them.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if stream.write_all(b"X-Slow: yes\r\n").await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 1];
        match tokio::time::timeout(std::time::Duration::from_millis(1), stream.read(&mut probe))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "a trickled head kept its connection open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_metrics_describe_the_daemon() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    write_file(&daemon.seed_path("empty.txt"), b"");
    write_file(&daemon.seed_path("copy.txt"), &sample_article());
    eventually("the reject and the duplicate in /status", || async {
        let status = daemon.body("/status").await;
        status.contains("empty.txt") && status.contains("copy.txt")
    })
    .await;
    let status = daemon.json("/status").await;
    assert_eq!(status["entries"], 1);
    assert_eq!(status["files"]["published"], 1);
    assert_eq!(status["files"]["rejected"], 1);
    assert_eq!(status["rejects"][0]["path"], "empty.txt");
    assert!(
        status["rejects"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("empty")
    );
    // A duplicate names the file it repeats, and since when.
    assert_eq!(status["files"]["duplicates"], 1);
    assert_eq!(status["duplicates"][0]["path"], "copy.txt");
    assert_eq!(
        status["duplicates"][0]["duplicate_of"],
        format!("{SAMPLE_KEY}.txt")
    );
    assert!(status["duplicates"][0]["since"].is_string());
    assert!(status["rejects"][0]["since"].is_string());
    assert!(status["last_ingest"].is_string());
    assert!(status["uptime_seconds"].is_u64() && status["snapshot_age_seconds"].is_number());
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["totals"]["published"], 1);

    let etag = header(&daemon.get("/feed.atom").await, "etag");
    let _ = daemon
        .get_with("/feed.atom", &[("if-none-match", &etag)])
        .await;
    let _ = daemon
        .get_with("/feed.rss", &[("accept-encoding", "gzip")])
        .await;
    let metrics = daemon.get("/metrics").await;
    assert!(header(&metrics, "content-type").starts_with("text/plain; version=0.0.4"));
    let metrics = metrics.text().await.unwrap();
    for needle in [
        "seedfeed_http_requests_total{route=\"feed\",status=\"304\"} 1",
        "seedfeed_entries 1",
        "seedfeed_rejected_files 1",
        "seedfeed_ingest_files_total{outcome=\"published\"} 1",
        "seedfeed_ingest_files_total{outcome=\"rejected\"} 1",
        "seedfeed_render_duration_seconds_bucket{le=\"+Inf\"}",
        "seedfeed_http_not_modified_ratio",
        "seedfeed_http_connections_open",
    ] {
        assert!(metrics.contains(needle), "missing {needle}:\n{metrics}");
    }
    let gzip_bytes = metrics
        .lines()
        .find_map(|l| l.strip_prefix("seedfeed_http_response_bytes_total{encoding=\"gzip\"} "))
        .unwrap();
    assert_ne!(gzip_bytes, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_for_at_most_the_shutdown_timeout() {
    let mut daemon = TestDaemon::start_with(Layer {
        shutdown_timeout: Some(1),
        ..Layer::default()
    })
    .await;
    daemon.publish_sample().await;
    let addr = daemon.socket_addr().to_owned();
    // A client that asks and never reads: its response cannot finish.
    let mut stuck = TcpStream::connect(&addr).await.unwrap();
    for _ in 0..50 {
        stuck
            .write_all(b"GET /feed.atom HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
    }
    let stopped = tokio::time::timeout(PATIENCE, daemon.stop()).await;
    assert!(
        stopped.is_ok(),
        "shutdown waits for a client that never reads"
    );
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "no longer accepting"
    );
}
