//! The connection cap under hostile load, on a real daemon over loopback: at the cap a
//! connection that only waits for its client (a slowloris head, a kept-alive connection
//! between requests) is closed to make room for a newcomer, the longest waiting first;
//! an answer being sent is never closed; one stalled on a client that does not read is
//! closed only once stalled for `stalled_answer_timeout`, and before a connection just
//! opened; with nothing to close, the newcomer gets a 503. And a client that stops
//! reading its answer is cut off at the request timeout, so a slow reader never holds
//! its slot for good.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::articles::write_under;
use common::daemon::{TestDaemon, metric_value};
use common::http1::{Connection, kept_alive_request, request};
use common::media_files::random_bytes;
use common::poll::eventually;
use seedfeed::config::Layer;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Larger than a loopback socket's largest send buffer (4 MiB by default) beside a
/// narrow receive buffer: a client that stops reading leaves the server's writes waiting.
const FILM_BYTES: usize = 6 * (1 << 20) + 333;

/// Settings where no timeout ends a connection within a test: only the cap does.
fn capped(max_connections: usize) -> Layer {
    Layer {
        max_connections: Some(max_connections),
        header_read_timeout: Some(600),
        stalled_answer_timeout: Some(600),
        idle_timeout: Some(600),
        request_timeout: Some(600),
        ..Layer::default()
    }
}

/// A daemon capped at two connections, whose answers may be closed once stalled for a
/// second, with `film.webm` written from `seed`.
async fn two_slots_with_a_film(seed: u32) -> TestDaemon {
    let daemon = TestDaemon::start_with(Layer {
        stalled_answer_timeout: Some(1),
        ..capped(2)
    })
    .await;
    write_film(&daemon, seed);
    daemon
}

/// A slowloris connection: a request head begun and never finished.
async fn slow_head(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /feed.atom HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// Whether the server has closed `stream` (read without waiting: end of stream or reset).
fn closed(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.try_read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(error) => error.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// Writes `film.webm`, FILM_BYTES of random bytes from `seed`, into the seeds folder;
/// returns its bytes.
fn write_film(daemon: &TestDaemon, seed: u32) -> Vec<u8> {
    let film = random_bytes(seed, FILM_BYTES);
    write_under(daemon.seeds.path(), "film.webm", &film);
    film
}

/// A narrow connection in the middle of the film's body: its head read, and a first
/// piece of the body; the rest is left for the caller to read (or not).
async fn film_under_way(daemon: &TestDaemon) -> Connection {
    let mut connection = Connection::narrow(daemon.socket_addr()).await;
    connection
        .send(&kept_alive_request("GET", "/media/film.webm", &[]))
        .await;
    let head = connection.head().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.get("content-length"), FILM_BYTES.to_string());
    connection
}

/// Reads what is left of an answer of `total` bytes, the first of which are `body`.
async fn rest_of(connection: &mut Connection, total: usize, mut body: Vec<u8>) -> Vec<u8> {
    // Each piece is at least a byte (an empty one ends the loop), so this is bounded.
    for _ in 0..total {
        if body.len() >= total {
            break;
        }
        let piece = connection.piece(64 * 1024).await;
        if piece.is_empty() {
            break;
        }
        body.extend_from_slice(&piece);
    }
    body
}

/// A new connection's `GET /healthz`, closed after the answer: its status line.
async fn healthz(daemon: &TestDaemon) -> String {
    daemon
        .raw(&request("GET", "/healthz", &[]))
        .await
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The value of a counter or gauge in `/metrics`.
async fn metric(daemon: &TestDaemon, name: &str) -> u64 {
    metric_value(&daemon.body("/metrics").await, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_at_three_times_the_cap_never_shuts_out_a_reader() {
    const CAP: usize = 8;
    let daemon = TestDaemon::start_with(capped(CAP)).await;
    daemon.publish_sample().await;
    let addr = daemon.socket_addr().to_owned();
    let mut slow = Vec::new();
    for _ in 0..3 * CAP {
        slow.push(slow_head(&addr).await);
    }
    // Each slow head past the cap closed an older one: the cap's worth is left.
    eventually(
        "the slow heads past the cap to close older ones",
        || async { slow.iter().filter(|stream| closed(stream)).count() >= 2 * CAP },
    )
    .await;
    // (Slow heads that came in a burst, while those before them were not yet read
    // from, may have been refused: that is no matter.)
    for _ in 0..3 * CAP {
        assert_eq!(daemon.get("/feed.atom").await.status(), 200);
        assert_eq!(healthz(&daemon).await, "HTTP/1.1 200 OK");
    }
    // The last one closed to make room may still be closing: its task ends at its
    // worker's next turn.
    eventually("at most the cap open", || async {
        metric(&daemon, "seedfeed_http_connections_open").await <= CAP as u64
    })
    .await;
    assert!(metric(&daemon, "seedfeed_http_connections_evicted_total").await >= 2 * CAP as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_between_requests_makes_room() {
    let daemon = TestDaemon::start_with(capped(2)).await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut connection = Connection::open(daemon.socket_addr()).await;
        connection
            .send(&kept_alive_request("GET", "/healthz", &[]))
            .await;
        assert_eq!(connection.reply(false).await.status, 200);
        idle.push(connection);
    }
    assert_eq!(healthz(&daemon).await, "HTTP/1.1 200 OK");
    let idle = &idle;
    eventually("a kept-alive connection to be closed", || async move {
        idle.iter().any(|connection| closed(connection.stream()))
    })
    .await;
    // The newcomer's answer freed its slot at once: the other one stayed.
    assert!(!idle.iter().all(|connection| closed(connection.stream())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_being_sent_is_never_closed_to_make_room() {
    const CAP: usize = 4;
    let daemon = TestDaemon::start_with(capped(CAP)).await;
    let film = write_film(&daemon, 22);
    let mut sending = film_under_way(&daemon).await;
    let first = sending.piece(1000).await;
    assert!(!first.is_empty());
    // Slow heads at three times the cap: the answer under way is the oldest connection,
    // and still it is not the one closed.
    let addr = daemon.socket_addr().to_owned();
    let mut slow = Vec::new();
    for _ in 0..3 * CAP {
        slow.push(slow_head(&addr).await);
    }
    eventually(
        "the slow heads past the cap to close older ones",
        || async { slow.iter().filter(|stream| closed(stream)).count() >= 2 * CAP },
    )
    .await;
    assert_eq!(healthz(&daemon).await, "HTTP/1.1 200 OK");
    let body = rest_of(&mut sending, FILM_BYTES, first).await;
    assert_eq!(body.len(), FILM_BYTES, "the answer was cut short");
    assert!(body == film, "the answer's bytes are the film's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_to_close_a_newcomer_gets_503() {
    let daemon = TestDaemon::start_with(capped(2)).await;
    write_film(&daemon, 23);
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(film_under_way(&daemon).await);
    }
    assert!(healthz(&daemon).await.starts_with("HTTP/1.1 503"));
    assert!(metric(&daemon, "seedfeed_http_connections_refused_total").await > 0);
    drop(held);
    eventually("a slot to free up", || async {
        healthz(&daemon).await == "HTTP/1.1 200 OK"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_stalled_on_its_client_makes_room_once_stalled_for_its_timeout() {
    let daemon = two_slots_with_a_film(24).await;
    // Two readers that stop reading: their answers stall.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        stalled.push(film_under_way(&daemon).await);
    }
    eventually("a stalled answer to make room", || async {
        healthz(&daemon).await == "HTTP/1.1 200 OK"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_just_opened_outlasts_a_stalled_answer() {
    let daemon = two_slots_with_a_film(26).await;
    let _stalled = film_under_way(&daemon).await;
    // Past the stall allowed: the answer may go (its writes stall within milliseconds).
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    // A reader whose request is still on its way, read from once by its worker.
    let mut fresh = Connection::open(daemon.socket_addr()).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // The newcomer at the cap closes the stalled answer, not the reader.
    assert_eq!(healthz(&daemon).await, "HTTP/1.1 200 OK");
    fresh.send(&request("GET", "/healthz", &[])).await;
    assert_eq!(fresh.head().await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_cut_off_at_the_request_timeout() {
    let daemon = TestDaemon::start_with(Layer {
        request_timeout: Some(1),
        ..capped(64)
    })
    .await;
    write_film(&daemon, 25);
    let mut reader = film_under_way(&daemon).await;
    // It reads nothing more; the server gives up on it and closes it.
    eventually("the stalled answer to be cut off", || async {
        metric(&daemon, "seedfeed_http_connections_open").await == 0
    })
    .await;
    let rest = reader.until_closed().await.expect("the connection ends");
    assert!(rest.len() < FILM_BYTES, "{} bytes", rest.len());
}
