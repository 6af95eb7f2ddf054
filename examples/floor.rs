//! The physical floor of serving: a server that answers every request of a kept-alive
//! connection with the same prebuilt bytes, through the socket's bare read and write
//! calls (`recv`, `send`) and an `epoll` loop, nothing else. It parses nothing but the
//! blank line that ends a request head, computes no header and allocates nothing per
//! request, so the CPU a request costs it is what the kernel's sockets and the event
//! loop cost: the price below which no HTTP server on the same machine can answer.
//! `bench/serve.sh --floor` runs it beside seedfeed and nginx.
//!
//! ```text
//! cargo run --release --example floor -- --head FILE [--body FILE] [--listen ADDR] [--threads N]
//! ```
//!
//! - `--head FILE` (required): FILE's bytes as every answer's head (it must end with the
//!   blank line, and carry the body's `content-length` when there is one), so that the
//!   floor sends exactly the bytes another server sent (`curl -D` writes them);
//! - `--body FILE`: FILE's bytes after the head, read once at start.
//!
//! `--listen` defaults to `127.0.0.1:8081`, `--threads` to one per core. Each thread runs
//! its own level-triggered `epoll` loop and accepts from the one listening socket they
//! share, as seedfeed's workers and nginx's do: a thread per connection instead would
//! add a wake-up and a context switch to every request, which those servers do not pay
//! under load. A request head is taken to be GET or HEAD with no body, as benchmarks
//! send; pipelined requests get one answer each, in order. Linux only (`epoll`, through
//! rustix's safe wrapper).

use std::io;

/// The end of a request head (RFC 9112 §2.1: the empty line after the fields).
const HEAD_END: &[u8; 4] = b"\r\n\r\n";

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    listen: Option<String>,
    threads: Option<String>,
    head: Option<String>,
    body: Option<String>,
}

fn main() {
    if let Err(error) = run() {
        eprintln!("floor: {error}");
        std::process::exit(1);
    }
}

#[cfg(target_os = "linux")]
fn run() -> io::Result<()> {
    let options = options(std::env::args().skip(1))?;
    let response: std::sync::Arc<[u8]> = response(&options)?.into();
    let threads = match &options.threads {
        Some(n) => n.parse().ok().filter(|&n| n > 0),
        None => std::thread::available_parallelism().ok().map(usize::from),
    }
    .ok_or_else(|| usage("--threads takes a number of threads, 1 or more"))?;
    let listen = options.listen.as_deref().unwrap_or("127.0.0.1:8081");
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| io::Error::new(e.kind(), format!("binding {listen}: {e}")))?;
    listener.set_nonblocking(true)?;
    eprintln!(
        "floor: {} bytes per answer on {}, {threads} threads",
        response.len(),
        listener.local_addr()?
    );
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let worker = event_loop::Worker::new(listener.try_clone()?, response.clone())?;
        workers.push(std::thread::spawn(move || worker.run()));
    }
    for worker in workers {
        worker
            .join()
            .map_err(|_| io::Error::other("a thread panicked"))??;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn run() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the floor runs an epoll loop: Linux only",
    ))
}

/// The options, from the arguments after the program's name.
fn options(mut args: impl Iterator<Item = String>) -> io::Result<Options> {
    let mut options = Options::default();
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--listen" => &mut options.listen,
            "--threads" => &mut options.threads,
            "--head" => &mut options.head,
            "--body" => &mut options.body,
            _ => return Err(usage(&format!("unknown argument {flag}"))),
        };
        *slot = Some(
            args.next()
                .ok_or_else(|| usage(&format!("{flag} takes a value")))?,
        );
    }
    Ok(options)
}

fn usage(problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{problem}; usage: floor --head FILE [--body FILE] [--listen ADDR] [--threads N]"),
    )
}

/// The bytes of every answer: the head, then the body when there is one.
fn response(options: &Options) -> io::Result<Vec<u8>> {
    let read = |path: &str| {
        std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("reading {path}: {e}")))
    };
    let body = options.body.as_deref().map(read).transpose()?;
    // Built-in heads would be copies of seedfeed's that drift; the benchmark captures
    // the real ones.
    let head = options
        .head
        .as_deref()
        .ok_or_else(|| usage("--head is required"))?;
    let mut response = read(head)?;
    if !response.ends_with(HEAD_END) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the head does not end with an empty line (CRLF CRLF)",
        ));
    }
    response.extend_from_slice(body.as_deref().unwrap_or_default());
    Ok(response)
}

/// Finds the ends of request heads in a stream of bytes, read in any pieces: how much of
/// `HEAD_END` the bytes so far end with.
#[derive(Debug, Default)]
struct HeadEnds {
    matched: usize,
}

impl HeadEnds {
    /// How many heads end in `bytes`, which follow the bytes counted before.
    fn count(&mut self, bytes: &[u8]) -> usize {
        let mut ends = 0;
        for &byte in bytes {
            self.matched = if byte == HEAD_END[self.matched] {
                self.matched + 1
            } else {
                // Of `HEAD_END`'s prefixes only "\r" can start over inside a broken match.
                usize::from(byte == b'\r')
            };
            if self.matched == HEAD_END.len() {
                ends += 1;
                self.matched = 0;
            }
        }
        ends
    }
}

#[cfg(target_os = "linux")]
mod event_loop {
    //! One thread's loop: accept, read request heads, write the answers, over `epoll`.

    use std::collections::HashMap;
    use std::io::{self, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::OwnedFd;
    use std::sync::Arc;

    use rustix::buffer::spare_capacity;
    use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};

    use super::HeadEnds;

    /// The listening socket's mark in the events; connections count up from 1.
    const LISTENER: u64 = 0;

    /// Bytes read at once: a few request heads.
    const READ_BUFFER: usize = 4096;

    /// Events taken from the kernel at once.
    const EVENTS: usize = 256;

    /// A thread's event loop and the connections it accepted.
    pub struct Worker {
        epoll: OwnedFd,
        listener: TcpListener,
        response: Arc<[u8]>,
        connections: HashMap<u64, Connection>,
        next: u64,
    }

    /// A connection, the requests it has sent but not yet had answered, and how far the
    /// first of those answers has been written.
    struct Connection {
        stream: TcpStream,
        heads: HeadEnds,
        owed: usize,
        sent: usize,
        /// Whether it waits for room to write (`EPOLLOUT` asked for).
        blocked: bool,
    }

    impl Worker {
        pub fn new(listener: TcpListener, response: Arc<[u8]>) -> io::Result<Self> {
            let epoll = epoll::create(CreateFlags::CLOEXEC)?;
            // EXCLUSIVE: one thread is woken per connection to accept, as nginx asks.
            let flags = EventFlags::IN | EventFlags::EXCLUSIVE;
            epoll::add(&epoll, &listener, EventData::new_u64(LISTENER), flags)?;
            Ok(Self {
                epoll,
                listener,
                response,
                connections: HashMap::new(),
                next: LISTENER + 1,
            })
        }

        /// Answers until an error of the event loop itself; a connection's error only
        /// closes it.
        pub fn run(mut self) -> io::Result<()> {
            let mut events: Vec<Event> = Vec::with_capacity(EVENTS);
            let mut buffer = [0u8; READ_BUFFER];
            loop {
                events.clear();
                match epoll::wait(&self.epoll, spare_capacity(&mut events), None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(error) => return Err(error.into()),
                }
                for event in &events {
                    let token = event.data.u64();
                    if token == LISTENER {
                        self.accept()?;
                    } else if self.answer(token, &mut buffer).is_err() {
                        // Closed by the client, or reset: dropping the stream closes it.
                        if let Some(gone) = self.connections.remove(&token) {
                            let _ = epoll::delete(&self.epoll, &gone.stream);
                        }
                    }
                }
            }
        }

        /// Takes every connection waiting on the listener.
        fn accept(&mut self) -> io::Result<()> {
            loop {
                let stream = match self.listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    // Another thread took it, or it was reset before we did.
                    Err(_) => return Ok(()),
                };
                stream.set_nonblocking(true)?;
                // As seedfeed and nginx (`tcp_nodelay`) do: an answer goes out at once.
                stream.set_nodelay(true)?;
                let token = self.next;
                self.next += 1;
                epoll::add(
                    &self.epoll,
                    &stream,
                    EventData::new_u64(token),
                    EventFlags::IN,
                )?;
                let connection = Connection {
                    stream,
                    heads: HeadEnds::default(),
                    owed: 0,
                    sent: 0,
                    blocked: false,
                };
                self.connections.insert(token, connection);
            }
        }

        /// Reads what the connection sent and writes the answers it is owed, as far as
        /// the socket takes them. `Err` when the connection is over.
        fn answer(&mut self, token: u64, buffer: &mut [u8]) -> io::Result<()> {
            let Some(connection) = self.connections.get_mut(&token) else {
                return Ok(());
            };
            match connection.stream.read(buffer) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(read) => connection.owed += connection.heads.count(&buffer[..read]),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
            let blocked = connection.write(&self.response)?;
            if blocked != connection.blocked {
                connection.blocked = blocked;
                let flags = if blocked {
                    EventFlags::IN | EventFlags::OUT
                } else {
                    EventFlags::IN
                };
                epoll::modify(
                    &self.epoll,
                    &connection.stream,
                    EventData::new_u64(token),
                    flags,
                )?;
            }
            Ok(())
        }
    }

    impl Connection {
        /// Writes the answers owed until the socket is full; whether it is.
        fn write(&mut self, response: &[u8]) -> io::Result<bool> {
            while self.owed > 0 {
                match self.stream.write(&response[self.sent..]) {
                    Ok(written) => self.sent += written,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                    Err(error) => return Err(error),
                }
                if self.sent == response.len() {
                    self.sent = 0;
                    self.owed -= 1;
                }
            }
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &[u8] = b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n";

    #[test]
    fn heads_are_counted_whatever_pieces_they_come_in() {
        let two = [GET, GET].concat();
        assert_eq!(HeadEnds::default().count(&two), 2);
        for cut in 0..=two.len() {
            let mut heads = HeadEnds::default();
            let (first, second) = two.split_at(cut);
            assert_eq!(heads.count(first) + heads.count(second), 2, "cut at {cut}");
        }
        // A stray CR before the blank line still ends one head; an unfinished one none.
        assert_eq!(HeadEnds::default().count(b"GET / HTTP/1.1\r\r\n\r\n"), 1);
        assert_eq!(HeadEnds::default().count(b"GET / HTTP/1.1\r\nA: b\r\n"), 0);
    }

    #[test]
    fn a_head_without_its_blank_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let head = dir.path().join("head");
        std::fs::write(&head, "HTTP/1.1 304 Not Modified\r\n").unwrap();
        let options = Options {
            head: Some(head.display().to_string()),
            ..Options::default()
        };
        assert!(response(&options).is_err());
    }

    /// Over loopback: requests sent together, and one sent in two pieces, each get the
    /// whole answer (bigger than a socket takes at once) on one kept-alive connection.
    #[cfg(target_os = "linux")]
    #[test]
    fn every_request_of_a_connection_gets_the_answer() {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};

        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("feed.atom");
        let bytes = "<feed/>\n".repeat(1_000_000);
        std::fs::write(&body, &bytes).unwrap();
        let head = dir.path().join("head");
        let fields = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", bytes.len());
        std::fs::write(&head, fields).unwrap();
        let options = Options {
            head: Some(head.display().to_string()),
            body: Some(body.display().to_string()),
            ..Options::default()
        };
        let expected = response(&options).unwrap();
        assert!(expected.starts_with(b"HTTP/1.1 200 OK\r\n"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let worker = event_loop::Worker::new(listener, expected.clone().into()).unwrap();
        std::thread::spawn(move || worker.run());

        let mut client = TcpStream::connect(address).unwrap();
        let timeout = Some(std::time::Duration::from_secs(30));
        client.set_read_timeout(timeout).unwrap();
        client.write_all(&[GET, GET].concat()).unwrap();
        client.write_all(&GET[..10]).unwrap();
        let mut received = vec![0; expected.len() * 3];
        client.read_exact(&mut received[..100]).unwrap();
        client.write_all(&GET[10..]).unwrap();
        client.read_exact(&mut received[100..]).unwrap();
        assert!(received == expected.repeat(3), "three answers, whole");
    }
}
