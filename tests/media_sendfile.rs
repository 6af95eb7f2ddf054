//! Media bodies as they are sent: on Linux, with `sendfile`, from frames that stand for
//! 1 MiB segments of the file and point into a buffer of zeros (`src/http/sendfile.rs`);
//! elsewhere, read chunk by chunk. A real daemon on loopback serves files of random
//! bytes, and every answer is compared byte for byte with its file: whole, by ranges
//! within and across segments, kept alive and pipelined among documents, to HEAD, to a
//! slow reader, and from a file cut short while it is sent. A segment sent from the
//! wrong offset or file, or a stand-in frame's zeros sent as they are, all show.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::time::Duration;

use common::articles::write_under;
use common::daemon::TestDaemon;
use common::http1::{Connection, Reply, kept_alive_request};
use common::media_files::random_bytes;

/// The size of the segments a body is cut into.
const MIB: usize = 1 << 20;

/// A request's header fields, as written.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// Checks a 206 of `bytes[first..=last]`.
fn assert_part(reply: &Reply, bytes: &[u8], first: usize, last: usize, what: &str) {
    assert_eq!(reply.status, 206, "{what}");
    let range = format!("bytes {first}-{last}/{}", bytes.len());
    assert_eq!(reply.get("content-range"), range, "{what}");
    assert!(
        reply.body == bytes[first..=last],
        "{what}: the bytes differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_files_and_ranges_are_the_files_bytes() {
    let daemon = TestDaemon::start().await;
    let size = 3 * MIB + 12_345;
    let bytes = random_bytes(1, size);
    write_under(daemon.seeds.path(), "show/episode.mp3", &bytes);
    let url = "/media/show/episode.mp3";

    let whole = daemon.exchange("GET", url, &[]).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.get("content-length"), size.to_string());
    assert!(whole.body == bytes, "the whole file, byte for byte");

    for (what, first, last) in [
        ("the first byte", 0, 0),
        ("the middle", size / 2 - 500, size / 2 + 500),
        ("the last byte", size - 1, size - 1),
        ("all but the first byte", 1, size - 1),
        ("one byte past a segment", 12_345, 12_345 + MIB),
        ("across two segments' ends", MIB - 10, 3 * MIB + 10),
        ("one segment exactly", 2 * MIB, 3 * MIB - 1),
    ] {
        let range = format!("bytes={first}-{last}");
        let reply = daemon.exchange("GET", url, &[("Range", &range)]).await;
        assert_part(&reply, &bytes, first, last, what);
    }
    let suffix = daemon
        .exchange("GET", url, &[("Range", "bytes=-1500000")])
        .await;
    assert_part(&suffix, &bytes, size - 1_500_000, size - 1, "a suffix");
}

/// Answers on one connection, pipelined and then one after the other, mixing media
/// files (whole, ranges, HEAD) with documents: each is the bytes it should be, so the
/// segments of one answer never stand for another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_and_pipelined_answers_mix_media_and_documents() {
    let daemon = TestDaemon::start().await;
    daemon.publish_sample().await;
    let seeds = daemon.seeds.path();
    let audio = random_bytes(2, 2 * MIB + MIB / 2);
    let photo = random_bytes(3, 300_000);
    let icon = random_bytes(4, 10);
    write_under(seeds, "a.mp3", &audio);
    write_under(seeds, "b.jpg", &photo);
    write_under(seeds, "c.png", &icon);
    let feed = daemon.exchange("GET", "/feed.atom", &[]).await;
    assert_eq!(feed.status, 200);

    let mut connection = Connection::open(daemon.socket_addr()).await;
    let requests: [(&str, &str, Headers<'_>); 8] = [
        ("GET", "/media/a.mp3", &[]),
        ("GET", "/feed.atom", &[]),
        ("GET", "/media/b.jpg", &[("Range", "bytes=1000-200999")]),
        ("HEAD", "/media/a.mp3", &[]),
        ("GET", "/media/c.png", &[]),
        ("GET", "/healthz", &[]),
        ("GET", "/media/a.mp3", &[("Range", "bytes=1048000-2097999")]),
        ("GET", "/media/b.jpg", &[]),
    ];
    let pipeline: Vec<u8> = requests
        .iter()
        .flat_map(|(method, path, headers)| kept_alive_request(method, path, headers))
        .collect();
    connection.send(&pipeline).await;
    let mut replies = Vec::new();
    for (method, ..) in requests {
        replies.push(connection.reply(method == "HEAD").await);
    }
    assert_eq!(replies[0].status, 200);
    assert!(replies[0].body == audio, "the audio, whole");
    assert_eq!(replies[1].status, 200);
    assert_eq!(replies[1].body, feed.body, "the feed between media");
    assert_part(&replies[2], &photo, 1000, 200_999, "a range of the photo");
    assert_eq!(replies[3].status, 200);
    assert_eq!(replies[3].get("content-length"), audio.len().to_string());
    assert_eq!(replies[4].body, icon, "a file of ten bytes");
    assert_eq!(replies[5].body, b"ok\n");
    assert_part(
        &replies[6],
        &audio,
        1_048_000,
        2_097_999,
        "across a segment",
    );
    assert!(replies[7].body == photo, "the photo, whole");

    // The same connection, one request at a time.
    let etag = feed.get("etag");
    let more: [(&str, Headers<'_>); 3] = [
        ("/media/b.jpg", &[("Range", "bytes=-1")]),
        ("/feed.atom", &[("If-None-Match", etag)]),
        ("/media/a.mp3", &[]),
    ];
    for (path, headers) in more {
        connection
            .send(&kept_alive_request("GET", path, headers))
            .await;
        let reply = connection.reply(false).await;
        match path {
            "/media/b.jpg" => assert_part(&reply, &photo, 299_999, 299_999, "the last byte"),
            "/feed.atom" => assert_eq!((reply.status, reply.body.len()), (304, 0)),
            _ => assert!(reply.body == audio, "the audio again"),
        }
    }
}

/// A reader that takes the answer in small pieces, with pauses, while the server's
/// writes wait on it: every byte arrives, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_gets_every_byte() {
    let daemon = TestDaemon::start().await;
    // Larger than a loopback socket's largest send buffer (4 MiB by default): the
    // server's writes must stop and resume.
    let size = 6 * MIB + 333;
    let bytes = random_bytes(5, size);
    write_under(daemon.seeds.path(), "film.webm", &bytes);

    let mut connection = Connection::narrow(daemon.socket_addr()).await;
    let request = kept_alive_request("GET", "/media/film.webm", &[("Range", "bytes=77-")]);
    connection.send(&request).await;
    let head = connection.head().await;
    assert_eq!(head.status, 206);
    let mut body = Vec::with_capacity(size);
    // Each piece is at least a byte (an empty one fails), so this loop is bounded.
    for round in 0..size {
        if body.len() == size - 77 {
            break;
        }
        let piece = connection.piece(1 + round % 3000).await;
        assert!(!piece.is_empty(), "closed after {} bytes", body.len());
        body.extend_from_slice(&piece);
        if round % 16 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert!(body == bytes[77..], "{} bytes, not the file's", body.len());
}

/// A file cut short while it is sent: the answer stops at the file's new end and the
/// connection closes; the bytes sent are the file's, never zeros in place of the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_cut_short_while_sent_closes_the_connection() {
    let daemon = TestDaemon::start().await;
    let size = 16 * MIB;
    let bytes = random_bytes(6, size);
    write_under(daemon.seeds.path(), "long.ogg", &bytes);

    let mut connection = Connection::narrow(daemon.socket_addr()).await;
    let request = kept_alive_request("GET", "/media/long.ogg", &[]);
    connection.send(&request).await;
    let head = connection.head().await;
    assert_eq!(head.get("content-length"), size.to_string());
    let mut body = Vec::new();
    while body.len() < 64 * 1024 {
        let piece = connection.piece(4096).await;
        assert!(!piece.is_empty());
        body.extend_from_slice(&piece);
    }
    // Cut at a page boundary, far beyond what the server can have sent by now (its send
    // buffer is at most a few MiB): the bytes in flight are still the file's.
    let cut = 12 * MIB;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(daemon.seed_path("long.ogg"))
        .unwrap();
    file.set_len(cut as u64).unwrap();

    let rest = connection
        .until_closed()
        .await
        .expect("the connection closes");
    body.extend_from_slice(&rest);
    assert_eq!(body.len(), cut, "the answer stops at the file's new end");
    assert!(body == bytes[..cut], "the bytes sent are the file's");
}
