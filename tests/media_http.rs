//! Media files under the seeds folder, served at `/media/{path}` by a real daemon over
//! loopback, per RFC 9110: validators and conditional requests, one byte range in every
//! form, `If-Range`, `HEAD`, a large file streamed byte for byte, many ranges at once and
//! slow readers, and every path that must not be served. Requests go on the wire as
//! written (`common::http1`): a client library would resolve `..` before sending it.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::articles::{sample_article, write_under};
use common::daemon::TestDaemon;
use common::http1::{Reply, exchange};
use common::poll::PATIENCE;

/// Tests that hold many megabytes run one at a time, so that the one that measures the
/// process's memory sees only its own.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `len` bytes in which every position has its own value (a range read from the wrong
/// place differs).
fn pattern(len: usize) -> Vec<u8> {
    common::media_files::random_bytes(0x2545_f491, len)
}

/// Sets a file's modification time: an hour ago, so that its date is a strong validator.
fn age(path: &Path, ago: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - ago).unwrap();
}

const HOUR: Duration = Duration::from_secs(3600);

/// The headers every answer that describes the file carries, equal in `a` and `b`.
fn same_description(a: &Reply, b: &Reply, what: &str) {
    for name in [
        "etag",
        "last-modified",
        "cache-control",
        "accept-ranges",
        "content-type",
    ] {
        assert_eq!(a.header(name), b.header(name), "{what}: {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_file_is_served_whole_with_its_validators_and_to_head() {
    let daemon = TestDaemon::start().await;
    let photo = pattern(10_000);
    write_under(daemon.seeds.path(), "photo.jpg", &photo);
    let episode = pattern(3000);
    write_under(daemon.seeds.path(), "2026/05/episode one.MP3", &episode);
    let feed_caching = common::daemon::header(&daemon.get("/feed.atom").await, "cache-control");

    let get = daemon
        .exchange(
            "GET",
            "/media/photo.jpg",
            &[("Accept-Encoding", "gzip, br")],
        )
        .await;
    assert_eq!(get.status, 200);
    assert_eq!(get.body, photo);
    assert_eq!(get.get("content-type"), "image/jpeg");
    assert_eq!(get.get("content-length"), "10000");
    assert_eq!(get.get("accept-ranges"), "bytes");
    assert_eq!(get.get("x-content-type-options"), "nosniff");
    assert_eq!(
        get.header("content-encoding"),
        None,
        "media is sent as it is"
    );
    assert_eq!(
        get.get("cache-control"),
        feed_caching,
        "revalidated like a feed"
    );
    let etag = get.get("etag");
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "a strong tag: {etag}"
    );
    let modified = std::fs::metadata(daemon.seed_path("photo.jpg"))
        .unwrap()
        .modified()
        .unwrap();
    let sent = httpdate::parse_http_date(get.get("last-modified")).unwrap();
    let seconds = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(seconds(sent), seconds(modified));

    let head = daemon.exchange("HEAD", "/media/photo.jpg", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.get("content-length"), "10000");
    same_description(&get, &head, "HEAD");

    // In a subfolder, percent-encoded, an extension in capitals.
    let nested = daemon
        .exchange("GET", "/media/2026/05/episode%20one.MP3", &[])
        .await;
    assert_eq!(nested.status, 200);
    assert_eq!(nested.get("content-type"), "audio/mpeg");
    assert_eq!(nested.body, episode);
    assert_ne!(nested.get("etag"), etag);

    let options = daemon.exchange("OPTIONS", "/media/photo.jpg", &[]).await;
    assert_eq!(options.status, 204);
    assert_eq!(options.get("allow"), "GET, HEAD, OPTIONS");
    let post = daemon.exchange("POST", "/media/photo.jpg", &[]).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.get("allow"), "GET, HEAD, OPTIONS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_requests_answer_304_and_412() {
    let daemon = TestDaemon::start().await;
    let path = daemon.seed_path("cover.png");
    write_under(daemon.seeds.path(), "cover.png", &pattern(5000));
    age(&path, HOUR);
    let url = "/media/cover.png";
    let full = daemon.exchange("GET", url, &[]).await;
    let (etag, date) = (full.get("etag"), full.get("last-modified"));
    let earlier = httpdate::fmt_http_date(httpdate::parse_http_date(date).unwrap() - HOUR);

    for (what, headers, status) in [
        ("If-None-Match, current", vec![("If-None-Match", etag)], 304),
        (
            "If-None-Match, a list",
            vec![("If-None-Match", &format!("\"x\", {etag}"))],
            304,
        ),
        (
            "If-None-Match, another",
            vec![("If-None-Match", "\"x\"")],
            200,
        ),
        (
            "If-Modified-Since, same",
            vec![("If-Modified-Since", date)],
            304,
        ),
        (
            "If-Modified-Since, earlier",
            vec![("If-Modified-Since", &earlier)],
            200,
        ),
        (
            "If-None-Match decides alone",
            vec![("If-None-Match", "\"x\""), ("If-Modified-Since", date)],
            200,
        ),
        ("If-Match, current", vec![("If-Match", etag)], 200),
        ("If-Match, *", vec![("If-Match", "*")], 200),
        ("If-Match, another", vec![("If-Match", "\"x\"")], 412),
        (
            "If-Unmodified-Since, same",
            vec![("If-Unmodified-Since", date)],
            200,
        ),
        (
            "If-Unmodified-Since, earlier",
            vec![("If-Unmodified-Since", &earlier)],
            412,
        ),
    ] {
        let reply = daemon.exchange("GET", url, &headers).await;
        assert_eq!(reply.status, status, "{what}");
        match status {
            304 => {
                assert!(reply.body.is_empty(), "{what}");
                for name in ["etag", "last-modified", "cache-control"] {
                    assert_eq!(reply.header(name), full.header(name), "{what}: {name}");
                }
            }
            200 => assert_eq!(reply.body, full.body, "{what}"),
            _ => assert_eq!(reply.header("etag"), None, "{what}"),
        }
    }

    // Edited in place, to the same length: another version, another tag.
    std::fs::write(&path, &pattern(5001)[1..]).unwrap();
    age(&path, HOUR / 2);
    let edited = daemon
        .exchange("GET", url, &[("If-None-Match", etag)])
        .await;
    assert_eq!(edited.status, 200);
    assert_ne!(edited.get("etag"), etag);
    assert_eq!(edited.body, pattern(5001)[1..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_range_in_every_form() {
    let daemon = TestDaemon::start().await;
    let bytes = pattern(10_000);
    write_under(daemon.seeds.path(), "talk.ogg", &bytes);
    age(&daemon.seed_path("talk.ogg"), HOUR);
    let url = "/media/talk.ogg";
    let full = daemon.exchange("GET", url, &[]).await;

    for (range, first, last) in [
        ("bytes=0-0", 0, 0),
        ("bytes=4000-4999", 4000, 4999),
        ("bytes=-500", 9500, 9999),
        ("bytes=100-", 100, 9999),
        ("bytes=9000-20000", 9000, 9999),
        ("bytes=-20000", 0, 9999),
    ] {
        let part = daemon.exchange("GET", url, &[("Range", range)]).await;
        assert_eq!(part.status, 206, "{range}");
        assert_eq!(
            part.get("content-range"),
            format!("bytes {first}-{last}/10000"),
            "{range}"
        );
        assert_eq!(part.get("content-length"), (last - first + 1).to_string());
        assert_eq!(part.body, bytes[first..=last], "{range}");
        same_description(&full, &part, range);
    }
    for range in ["bytes=10000-", "bytes=20000-30000", "bytes=-0"] {
        let refused = daemon.exchange("GET", url, &[("Range", range)]).await;
        assert_eq!(refused.status, 416, "{range}");
        assert_eq!(refused.get("content-range"), "bytes */10000", "{range}");
    }
    // Several ranges, or one that is not one, are answered with the whole file.
    for range in ["bytes=0-1,5-6", "bytes=5-2", "lines=1-2"] {
        let whole = daemon.exchange("GET", url, &[("Range", range)]).await;
        assert_eq!(whole.status, 200, "{range}");
        assert_eq!(whole.header("content-range"), None, "{range}");
        assert_eq!(whole.body, bytes, "{range}");
    }
    // HEAD is answered as a GET without the range would be (RFC 9110 §14.2).
    let head = daemon
        .exchange("HEAD", url, &[("Range", "bytes=0-0")])
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.get("content-length"), "10000");
    assert!(head.body.is_empty());
    // A client that holds the current version gets a 304, range or not.
    let held = daemon
        .exchange(
            "GET",
            url,
            &[("Range", "bytes=0-0"), ("If-None-Match", full.get("etag"))],
        )
        .await;
    assert_eq!(held.status, 304);

    let metrics = daemon.body("/metrics").await;
    for line in [
        "seedfeed_http_requests_total{route=\"media\",status=\"206\"} 6",
        "seedfeed_http_requests_total{route=\"media\",status=\"416\"} 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_range_honours_the_range_only_for_the_current_version() {
    let daemon = TestDaemon::start().await;
    let bytes = pattern(4000);
    write_under(daemon.seeds.path(), "clip.webm", &bytes);
    age(&daemon.seed_path("clip.webm"), HOUR);
    let url = "/media/clip.webm";
    let full = daemon.exchange("GET", url, &[]).await;
    let (etag, date) = (full.get("etag"), full.get("last-modified"));
    let stale_date = httpdate::fmt_http_date(httpdate::parse_http_date(date).unwrap() - HOUR);
    let weak = format!("W/{etag}");

    for (what, validator, partial) in [
        ("the current tag", etag, true),
        ("the current date", date, true),
        ("a stale tag", "\"0123456789abcdef\"", false),
        ("a stale date", &stale_date, false),
        ("the weak form of the current tag", &weak, false),
        ("no validator at all", "soon", false),
    ] {
        let headers = [("Range", "bytes=1000-1999"), ("If-Range", validator)];
        let reply = daemon.exchange("GET", url, &headers).await;
        if partial {
            assert_eq!(reply.status, 206, "{what}");
            assert_eq!(reply.body, bytes[1000..2000], "{what}");
        } else {
            assert_eq!(reply.status, 200, "{what}");
            assert_eq!(reply.body, bytes, "{what}");
        }
    }
    // A stale If-Range with a range past the end is the whole file, not a 416.
    let headers = [
        ("Range", "bytes=9000-"),
        ("If-Range", "\"0123456789abcdef\""),
    ];
    assert_eq!(daemon.exchange("GET", url, &headers).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_streams_byte_for_byte_and_ranges_run_in_parallel() {
    let _heavy = HEAVY.lock().await;
    let daemon = TestDaemon::start().await;
    let size = 5 * 1024 * 1024 + 123;
    let bytes = std::sync::Arc::new(pattern(size));
    write_under(daemon.seeds.path(), "episode.m4a", &bytes);
    let url = "/media/episode.m4a";

    let whole = daemon.exchange("GET", url, &[]).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.get("content-length"), size.to_string());
    assert!(whole.body == *bytes, "the whole file, byte for byte");

    // Ranges across the boundaries of the reads, all at once.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..16usize {
        let addr = daemon.socket_addr().to_owned();
        let bytes = std::sync::Arc::clone(&bytes);
        tasks.spawn(async move {
            let first = n * 300_007 + 65_000;
            let last = (first + 200_000 + n * 1000).min(size - 1);
            let range = format!("bytes={first}-{last}");
            let reply = exchange(&addr, "GET", url, &[("Range", &range)]).await;
            assert_eq!(reply.status, 206, "{range}");
            assert!(reply.body == bytes[first..=last], "{range}");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    if let Some(ranged) = curl(&daemon.public_url(url), &["-r", "1000000-1999999"]) {
        assert!(ranged == bytes[1_000_000..2_000_000], "curl's range");
    }
}

/// What `curl -sS ARGS URL` prints, when curl is installed (it is not required).
fn curl(url: &str, args: &[&str]) -> Option<Vec<u8>> {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "60"])
        .args(args)
        .arg(url)
        .output()
        .ok()?;
    assert!(output.status.success(), "curl {args:?} {url}: {output:?}");
    Some(output.stdout)
}

/// Connections that ask for a large file and then read nothing do not make the server
/// hold the file: the memory of the process grows by far less than the files they asked
/// for, and other requests are still answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_readers_keep_memory_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let _heavy = HEAVY.lock().await;
    let daemon = TestDaemon::start().await;
    const SIZE: usize = 16 * 1024 * 1024;
    const READERS: usize = 16;
    write_under(daemon.seeds.path(), "film.mp4", &pattern(SIZE));
    let before = resident_bytes();

    let mut readers = Vec::new();
    for n in 0..READERS {
        let mut stream = tokio::net::TcpStream::connect(daemon.socket_addr())
            .await
            .unwrap();
        let range = format!("bytes={}-", n * 1000);
        let request = common::http1::request("GET", "/media/film.mp4", &[("Range", &range)]);
        stream.write_all(&request).await.unwrap();
        // The head only: the answer has begun, and its body waits on this reader.
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            let read = tokio::time::timeout(PATIENCE, stream.read(&mut byte)).await;
            assert_eq!(read.unwrap().unwrap(), 1, "the answer's head");
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 206"), "{head:?}");
        readers.push(stream);
    }

    let grown = resident_bytes().saturating_sub(before);
    let asked = (SIZE * READERS) as u64;
    assert!(
        grown < asked / 4,
        "the process grew by {grown} bytes for {READERS} readers of {SIZE} bytes"
    );
    let health = daemon.exchange("GET", "/healthz", &[]).await;
    assert_eq!(health.status, 200, "the workers still answer");
    drop(readers);
}

/// The resident memory of this process, from `/proc/self/status`.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// The daemon keeps the files it answered open for a while (`http::open_files`): each
/// answer is still the file as it is at that moment, whatever happened to it between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_kept_open_is_answered_as_it_is_now() {
    let daemon = TestDaemon::start().await;
    let folder = daemon.seeds.path();
    let first = pattern(5000);
    write_under(folder, "photo.jpg", &first);
    let get = |path: &'static str| daemon.exchange("GET", path, &[]);
    let answer = get("/media/photo.jpg").await;
    assert_eq!((answer.status, &answer.body), (200, &first));

    // Replaced by a rename over it, as editors and `rsync` write.
    let second = pattern(7000);
    write_under(folder, "photo.jpg.next", &second);
    std::fs::rename(folder.join("photo.jpg.next"), folder.join("photo.jpg")).unwrap();
    let replaced = get("/media/photo.jpg").await;
    assert_eq!((replaced.status, &replaced.body), (200, &second));
    assert_ne!(replaced.get("etag"), answer.get("etag"));

    // Rewritten in place, shorter.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(folder.join("photo.jpg"), &first[..3000]).unwrap();
    let rewritten = get("/media/photo.jpg").await;
    assert_eq!(
        (rewritten.status, &rewritten.body[..]),
        (200, &first[..3000])
    );
    assert_eq!(rewritten.get("content-length"), "3000");

    // Renamed away: the old name is gone, the new one answers.
    std::fs::rename(folder.join("photo.jpg"), folder.join("moved.jpg")).unwrap();
    assert_eq!(get("/media/photo.jpg").await.status, 404);
    let moved = get("/media/moved.jpg").await;
    assert_eq!((moved.status, &moved.body[..]), (200, &first[..3000]));

    std::fs::remove_file(folder.join("moved.jpg")).unwrap();
    assert_eq!(get("/media/moved.jpg").await.status, 404);
}

/// Whether this process (the daemon runs in it) has `path` open, deleted or not.
#[cfg(target_os = "linux")]
fn holds_open(path: &Path) -> bool {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| {
                let target = target.to_string_lossy();
                target.strip_suffix(" (deleted)").unwrap_or(&target) == path.to_string_lossy()
            })
        })
}

/// A file deleted after it was answered is closed even when nothing asks for it again,
/// so that its disk space is freed.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_file_is_let_go_without_another_request() {
    let daemon = TestDaemon::start().await;
    write_under(daemon.seeds.path(), "gone.jpg", &pattern(4000));
    let path = daemon.seed_path("gone.jpg");
    assert_eq!(
        daemon.exchange("GET", "/media/gone.jpg", &[]).await.status,
        200
    );
    assert!(holds_open(&path), "kept open once answered");
    std::fs::remove_file(&path).unwrap();
    common::poll::eventually("the deleted file to be closed", || async {
        !holds_open(&path)
    })
    .await;
}

/// What is not a media file of the folder is a 404, whatever the path says: a missing
/// file, an article, `..` in every spelling, an absolute path, hidden names, a FIFO, a
/// folder, and symlinks that lead out, one of them disguised as a photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_a_media_file_of_the_folder_is_not_found() {
    let daemon = TestDaemon::start().await;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.jpg");
    std::fs::write(&secret, "outside the seeds folder").unwrap();
    let seeds = daemon.seeds.path();
    std::os::unix::fs::symlink(&secret, seeds.join("photo.jpg")).unwrap();
    std::os::unix::fs::symlink(outside.path(), seeds.join("away")).unwrap();
    write_under(seeds, "inside.jpg", b"inside");
    std::os::unix::fs::symlink(seeds.join("inside.jpg"), seeds.join("alias.jpg")).unwrap();
    write_under(seeds, "post.md", b"# A post\n\nText.\n");
    write_under(seeds, "000_a.txt", &sample_article());
    std::os::unix::fs::symlink(seeds.join("post.md"), seeds.join("post.png")).unwrap();
    write_under(seeds, ".hidden.jpg", b"hidden");
    write_under(seeds, ".git/logo.png", b"hidden folder");
    write_under(seeds, "sub/song.mp3", b"song");
    nix::unistd::mkfifo(&seeds.join("pipe.mp3"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    std::fs::create_dir(seeds.join("folder.jpg")).unwrap();

    // The controls: a file inside, and a symlink to it.
    for path in [
        "/media/inside.jpg",
        "/media/alias.jpg",
        "/media/sub/song.mp3",
    ] {
        assert_eq!(
            daemon.exchange("GET", path, &[]).await.status,
            200,
            "{path}"
        );
    }
    let encoded = |path: &Path| -> String {
        let bytes = path.to_str().unwrap().bytes();
        bytes.map(|b| format!("%{b:02X}")).collect()
    };
    let absolute = encoded(&secret);
    // Both temporary folders are in the same folder: `..` from the seeds reaches the
    // secret.
    let beside = outside.path().file_name().unwrap().to_str().unwrap();
    assert_eq!(outside.path().parent(), seeds.parent());
    for path in [
        "/media/photo.jpg",
        "/media/away/secret.jpg",
        "/media/missing.mp3",
        "/media/post.md",
        "/media/000_a.txt",
        "/media/post.png",
        "/media/../inside.jpg",
        &format!("/media/../{beside}/secret.jpg"),
        &format!("/media/sub/../../{beside}/secret.jpg"),
        &format!("/media/%2e%2e/{beside}/secret.jpg"),
        &format!("/media/..%2F{beside}%2Fsecret.jpg"),
        "/media/sub/%2E%2E/sub/song.mp3",
        "/media/sub%2f..%2fsub%2fsong.mp3",
        &format!("/media/{absolute}"),
        "/media//sub/song.mp3",
        "/media/.hidden.jpg",
        "/media/.git/logo.png",
        "/media/pipe.mp3",
        "/media/folder.jpg",
        "/media/",
        "/media/sub/",
    ] {
        for method in ["GET", "HEAD"] {
            let reply = daemon.exchange(method, path, &[]).await;
            assert_eq!(reply.status, 404, "{method} {path}");
            assert_eq!(reply.header("etag"), None, "{method} {path}");
        }
    }
}
