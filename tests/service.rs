//! The daemon as systemd runs it, through the real binary: the sd_notify messages it
//! sends to a Unix datagram socket the test owns (start, SIGHUP, SIGTERM), a listening
//! socket passed the way socket activation passes it (fd 3, `LISTEN_FDS`, `LISTEN_PID`),
//! and a configuration file changed under it and reloaded with SIGHUP.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::articles::{SAMPLE_KEY, article, sample_article, write_file};
use common::binary::{Binary, seedfeed};
use common::poll::{PATIENCE, until_blocking};
use nix::sys::signal::Signal;
use tempfile::TempDir;

/// Folders and a config file for one daemon.
struct Site {
    dir: TempDir,
}

impl Site {
    /// Three articles and one file that is rejected (empty).
    fn new(title: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let seeds = dir.path().join("seeds");
        std::fs::create_dir(&seeds).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        write_file(&seeds.join(format!("{SAMPLE_KEY}.txt")), &sample_article());
        for (key, title) in [("second", "Second story"), ("third", "Third story")] {
            let text = article("News", title, &format!("A body paragraph about {key}."));
            write_file(&seeds.join(format!("{key}.txt")), &text);
        }
        write_file(&seeds.join("empty.txt"), b"");
        let site = Self { dir };
        site.write_config(&format!("[feed]\ntitle = {title:?}\n"));
        site
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("seedfeed.toml")
    }

    fn write_config(&self, text: &str) {
        let settings = "settle_ms = 100\nworkers = 2\n";
        write_file(&self.config(), format!("{settings}{text}").as_bytes());
    }

    /// `seedfeed serve` over these folders, with an empty environment but `env`.
    fn command(&self, listen: &str, env: &[(&str, &str)]) -> Command {
        let mut command = seedfeed();
        command
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .args([
                "serve", "--seeds", "seeds", "--data", "data", "--listen", listen,
            ])
            .args(["--admin-listen", "127.0.0.1:0"])
            .arg("--config")
            .arg(self.config());
        command
    }
}

/// The feed's title and its entries' titles, read with feed-rs.
fn feed(base: &str) -> (String, Vec<String>) {
    let body = plain_http::get(&format!("{base}/feed.atom"));
    titles_of(&body)
}

/// The feed's titles as [`feed`] reads them, or `None` while the first ingest into the
/// new database has published nothing (a 503 then is the daemon's answer, not a fault).
fn feed_once_published(base: &str) -> Option<(String, Vec<String>)> {
    let body = plain_http::get_unless_503(&format!("{base}/feed.atom"))?;
    Some(titles_of(&body))
}

/// Whether every entry of the Atom feed carries its content.
fn has_content(base: &str) -> bool {
    let body = plain_http::get(&format!("{base}/feed.atom"));
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    feed.entries.iter().all(|entry| entry.content.is_some())
}

fn titles_of(body: &str) -> (String, Vec<String>) {
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    let title = feed.title.map(|t| t.content).unwrap_or_default();
    let mut entries: Vec<String> = feed
        .entries
        .into_iter()
        .filter_map(|e| e.title.map(|t| t.content))
        .collect();
    entries.sort();
    (title, entries)
}

/// A blocking GET over a plain TCP connection (the tests here are synchronous).
mod plain_http {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub fn get(url: &str) -> String {
        get_unless_503(url).unwrap_or_else(|| panic!("GET {url}: 503"))
    }

    /// Like [`get`], but `None` for a 503.
    pub fn get_unless_503(url: &str) -> Option<String> {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut stream = TcpStream::connect(host).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        if head.starts_with("HTTP/1.1 503") {
            return None;
        }
        assert!(head.starts_with("HTTP/1.1 200"), "GET {url}: {head}");
        Some(body.to_owned())
    }
}

const SEED_TITLES: [&str; 3] = ["Mali: countercoup attempted", "Second story", "Third story"];

fn titles() -> Vec<String> {
    let mut titles: Vec<String> = SEED_TITLES.iter().map(|t| t.to_string()).collect();
    titles.sort();
    titles
}

/// The service manager's end of `NOTIFY_SOCKET`: every datagram received, in order.
struct Manager {
    socket: UnixDatagram,
    path: PathBuf,
    received: Vec<String>,
}

impl Manager {
    fn bind(dir: &Path) -> Self {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Self {
            socket,
            path,
            received: Vec::new(),
        }
    }

    /// Receives until a datagram has a line `line`; returns that datagram's index.
    fn wait_for(&mut self, line: &str, daemon: &Binary) -> usize {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(found) = self.find_after(line, 0) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no {line:?} among {:#?}\nlog:\n{}",
                self.received,
                daemon.log()
            );
            if let Ok(n) = self.socket.recv(&mut buf) {
                self.received
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    }

    /// The index of the first datagram from `from` on with a line `line`.
    fn find_after(&self, line: &str, from: usize) -> Option<usize> {
        (from..self.received.len()).find(|&i| self.received[i].lines().any(|l| l == line))
    }

    /// Receives until `count` datagrams from `from` on have a line `line`.
    fn wait_for_count(&mut self, line: &str, from: usize, count: usize, daemon: &Binary) {
        loop {
            let seen = self.received[from..]
                .iter()
                .filter(|m| m.lines().any(|l| l == line))
                .count();
            if seen >= count {
                return;
            }
            let before = self.received.len();
            // Waits for one more datagram of any kind (bounded by wait_for's patience).
            self.wait_for_new(before, daemon);
        }
    }

    fn wait_for_new(&mut self, before: usize, daemon: &Binary) {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = [0u8; 4096];
        while self.received.len() == before {
            assert!(
                Instant::now() < deadline,
                "no new message after {:#?}\nlog:\n{}",
                self.received,
                daemon.log()
            );
            if let Ok(n) = self.socket.recv(&mut buf) {
                self.received
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    }

    fn status_of(&self, index: usize) -> String {
        self.received[index]
            .lines()
            .find_map(|l| l.strip_prefix("STATUS="))
            .unwrap_or_else(|| panic!("no STATUS= in {:?}", self.received[index]))
            .to_owned()
    }
}

#[test]
fn notify_messages_follow_start_reload_and_stop_in_order() {
    let site = Site::new("Before");
    let mut manager = Manager::bind(site.dir.path());
    let notify_socket = manager.path.to_str().unwrap().to_owned();
    let mut daemon = Binary::spawn(site.command(
        "127.0.0.1:0",
        &[
            ("NOTIFY_SOCKET", &notify_socket),
            // A keep-alive every 0.2 s.
            ("WATCHDOG_USEC", "400000"),
        ],
    ));

    // Start: READY once every seed is in the feed, with the counts.
    let ready = manager.wait_for("READY=1", &daemon);
    let base = daemon.address();
    assert_eq!(
        feed(&base).1,
        titles(),
        "READY=1 came before every seed was in the feed"
    );
    assert_eq!(
        manager.status_of(ready),
        "serving; entries: 3, rejected files: 1, duplicates: 0"
    );
    assert!(
        manager.received[0].starts_with("STATUS=starting"),
        "{:#?}",
        manager.received
    );
    manager.wait_for_count("WATCHDOG=1", ready, 2, &daemon);

    // Reload: RELOADING, then READY once the new title is served.
    site.write_config("tombstone_days = 7\n[feed]\ntitle = \"After\"\n");
    let before_reload = manager.received.len();
    daemon.signal(Signal::SIGHUP);
    manager.wait_for_count("RELOADING=1", before_reload, 1, &daemon);
    let reloading = manager.find_after("RELOADING=1", before_reload).unwrap();
    manager.wait_for_count("READY=1", reloading, 1, &daemon);
    assert_eq!(
        feed(&base).0,
        "After",
        "READY=1 after RELOADING=1 came before the new title was served"
    );
    daemon.wait_for_log("tombstone_days");
    // The watchdog keeps going after a reload.
    let reloaded = manager.find_after("READY=1", reloading).unwrap();
    manager.wait_for_count("WATCHDOG=1", reloaded, 1, &daemon);

    // Stop: STOPPING, then exit 0.
    daemon.signal(Signal::SIGTERM);
    let stopping = manager.wait_for("STOPPING=1", &daemon);
    assert_eq!(daemon.wait_for_exit(), Some(0), "{}", daemon.log());
    assert!(stopping > reloaded && reloaded > reloading && reloading > ready);
    // READY=1 exactly twice (start, reload), and nothing but STOPPING ends the run.
    let readies = manager
        .received
        .iter()
        .filter(|m| m.lines().any(|l| l == "READY=1"))
        .count();
    assert_eq!(readies, 2, "{:#?}", manager.received);
    for late in &manager.received[stopping + 1..] {
        assert!(
            !late.contains("READY=1") && !late.contains("RELOADING=1"),
            "{late:?} after STOPPING=1"
        );
    }
}

/// Abstract socket names are Linux's (systemd itself is Linux only).
#[cfg(target_os = "linux")]
#[test]
fn an_abstract_notify_socket_gets_ready() {
    let site = Site::new("Abstract");
    let name = format!("seedfeed-test-{}", std::process::id());
    let address =
        <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
            name.as_bytes(),
        )
        .unwrap();
    let socket = UnixDatagram::bind_addr(&address).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut manager = Manager {
        socket,
        path: PathBuf::new(),
        received: Vec::new(),
    };
    let daemon =
        Binary::spawn(site.command("127.0.0.1:0", &[("NOTIFY_SOCKET", &format!("@{name}"))]));
    manager.wait_for("READY=1", &daemon);
}

#[test]
fn socket_activation_serves_on_the_passed_listener() {
    let site = Site::new("Activated");
    let passed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // `listen` names a port that is taken: binding it would fail, so the daemon can only
    // serve on the socket it was passed.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    // The child must inherit the socket: not close-on-exec.
    nix::fcntl::fcntl(
        &passed,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .unwrap();
    // As systemd does after fork: the socket at fd 3, LISTEN_PID the daemon's own pid
    // (the shell's, which exec keeps).
    let inner = site.command(&listen, &[]);
    let mut command = Command::new("/bin/sh");
    command
        .env_clear()
        .env("LISTEN_FDS", "1")
        .current_dir(site.dir.path())
        .arg("-c")
        .arg(format!(
            "export LISTEN_PID=$$; exec \"$0\" \"$@\" 3<&{}",
            passed.as_raw_fd()
        ))
        .arg(inner.get_program())
        .args(inner.get_args());
    let mut daemon = Binary::spawn(command);

    daemon.wait_for_log("socket passed by systemd");
    let base = format!("http://{}", passed.local_addr().unwrap());
    until_blocking("every seed in the feed", || {
        let addr = daemon.address();
        assert_eq!(addr, base, "the daemon reports the passed socket's address");
        if feed_once_published(&base).is_some_and(|(_, entries)| entries == titles()) {
            Ok(())
        } else {
            Err(daemon.log())
        }
    });
    drop(taken);
    daemon.signal(Signal::SIGTERM);
    assert_eq!(daemon.wait_for_exit(), Some(0), "{}", daemon.log());
}

#[test]
fn sighup_serves_the_new_title_and_keeps_the_old_config_if_the_new_is_invalid() {
    let site = Site::new("Before");
    let mut daemon = Binary::spawn(site.command("127.0.0.1:0", &[]));
    let base = daemon.address();
    wait_for_title(&base, "Before", &daemon);

    // An invalid file: the error names the file and the key; the old config stays.
    site.write_config("[feed]\ntitle = \"Broken\"\ntitel = \"typo\"\n");
    daemon.signal(Signal::SIGHUP);
    let line = daemon.wait_for_log("configuration not reloaded");
    assert!(
        line.contains("titel") && line.contains("seedfeed.toml"),
        "{line}"
    );
    assert_eq!(feed(&base).0, "Before");

    // A valid one: the new title is served; the daemon keeps serving every entry. The
    // feeds are rendered again at once, so a new `content` holds from the same version.
    assert!(has_content(&base), "full content by default");
    site.write_config("[feed]\ntitle = \"After\"\ncontent = \"summary\"\n");
    daemon.signal(Signal::SIGHUP);
    wait_for_title(&base, "After", &daemon);
    assert_eq!(feed(&base).1, titles());
    assert!(
        !has_content(&base),
        "content = \"summary\" applies on reload"
    );
    daemon.signal(Signal::SIGTERM);
    assert_eq!(daemon.wait_for_exit(), Some(0), "{}", daemon.log());
}

fn wait_for_title(base: &str, title: &str, daemon: &Binary) {
    until_blocking(&format!("the feed titled {title:?}"), || {
        if feed_once_published(base).is_some_and(|(feed_title, _)| feed_title == title) {
            Ok(())
        } else {
            Err(format!("\n{}", daemon.log()))
        }
    });
}
