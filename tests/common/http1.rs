//! HTTP/1.1 on the wire, for tests that must send a request exactly as written (a path
//! with `..` that a client library would resolve, any header) and read the answer's
//! bytes as sent: one request per connection, the answer read to the close; or, on a
//! [`Connection`] kept alive, several requests (pipelined or one after the other), each
//! answer read to the end its `Content-Length` gives.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::poll::PATIENCE;

/// Sends `request` to `addr` (`host:port`) on a new connection and reads until the
/// server closes it or [`PATIENCE`] passes; the answer's bytes as they came.
pub async fn send(addr: &str, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out)).await;
    out
}

/// One request on a connection of its own, exactly as given, and its answer.
pub async fn exchange(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    Reply::parse(&send(addr, &request(method, path, headers)).await)
}

/// A request with `Host` and `Connection: close` and the headers given.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut with_close = vec![("Connection", "close")];
    with_close.extend_from_slice(headers);
    kept_alive_request(method, path, &with_close)
}

/// A request with `Host` and the headers given: the connection stays open after it.
pub fn kept_alive_request(method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: t\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// One response as it came: its status, its header fields in order, and every byte
/// after the head.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// Reads the one response of a connection that the server then closed.
    pub fn parse(bytes: &[u8]) -> Self {
        let end = head_end(bytes)
            .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(bytes)));
        Self::of(&bytes[..end], bytes[end + 4..].to_vec())
    }

    /// The response of a head (without its blank line) and a body.
    fn of(head: &[u8], body: Vec<u8>) -> Self {
        let head = std::str::from_utf8(head).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("status line {status_line:?}"));
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap();
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        Self {
            status,
            headers,
            body,
        }
    }

    /// The value of a header field (named in lower case), when the response has it once.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let value = values.next().map(|(_, v)| v.as_str());
        assert!(
            values.next().is_none(),
            "{name} sent twice: {:?}",
            self.headers
        );
        value
    }

    /// [`Self::header`], or an empty string when it is absent.
    pub fn get(&self, name: &str) -> &str {
        self.header(name).unwrap_or_default()
    }
}

/// Where the blank line that ends a response's head starts.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n")
}

/// A connection kept open across requests: requests go as written (several at once for
/// a pipeline), answers are read one at a time. Every read waits at most [`PATIENCE`].
pub struct Connection {
    stream: TcpStream,
    /// What was read and not yet taken.
    read: Vec<u8>,
}

impl Connection {
    pub async fn open(addr: &str) -> Self {
        Self::over(TcpStream::connect(addr).await.unwrap())
    }

    /// A connection whose receive buffer is small, so that the server's writes fill it
    /// and wait for the reader.
    pub async fn narrow(addr: &str) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        Self::over(socket.connect(addr.parse().unwrap()).await.unwrap())
    }

    /// A connection over a stream connected already.
    pub fn over(stream: TcpStream) -> Self {
        Self {
            stream,
            read: Vec::new(),
        }
    }

    /// The socket, to look at without reading from it.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    pub async fn send(&mut self, request: &[u8]) {
        self.stream.write_all(request).await.unwrap();
    }

    /// The next answer: its head, then the bytes its `Content-Length` gives (none for
    /// the answer to a HEAD request, `to_head`).
    pub async fn reply(&mut self, to_head: bool) -> Reply {
        let mut reply = self.head().await;
        let length: usize = match (to_head, reply.header("content-length")) {
            (false, Some(length)) => length.parse().unwrap(),
            _ => 0,
        };
        while self.read.len() < length {
            self.more().await;
        }
        reply.body = self.read.drain(..length).collect();
        reply
    }

    /// The head of the next answer, its body left to read ([`Self::piece`]).
    pub async fn head(&mut self) -> Reply {
        let end = loop {
            if let Some(end) = head_end(&self.read) {
                break end;
            }
            self.more().await;
        };
        let reply = Reply::of(&self.read[..end], Vec::new());
        self.read.drain(..end + 4);
        reply
    }

    /// Reads at most `n` bytes, the ones received first: what is left of an answer
    /// taken a piece at a time. Empty once the server has closed the connection.
    pub async fn piece(&mut self, n: usize) -> Vec<u8> {
        if self.read.is_empty() {
            let mut buffer = vec![0; n];
            let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut buffer))
                .await
                .expect("a piece within the patience")
                .unwrap();
            buffer.truncate(read);
            return buffer;
        }
        let n = n.min(self.read.len());
        self.read.drain(..n).collect()
    }

    /// Whatever comes until the server closes the connection; `None` when it is still
    /// open after [`PATIENCE`].
    pub async fn until_closed(&mut self) -> Option<Vec<u8>> {
        let mut rest = std::mem::take(&mut self.read);
        let read = tokio::time::timeout(PATIENCE, self.stream.read_to_end(&mut rest)).await;
        read.ok().map(|read| {
            read.unwrap();
            rest
        })
    }

    /// Reads what has come; panics when the server closed the connection or sent
    /// nothing within [`PATIENCE`].
    async fn more(&mut self) {
        let mut buffer = [0; 64 * 1024];
        let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut buffer))
            .await
            .expect("more of the answer within the patience")
            .unwrap();
        assert!(read > 0, "the connection closed in an answer");
        self.read.extend_from_slice(&buffer[..read]);
    }
}
