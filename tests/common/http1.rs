//! HTTP/1.1 on the wire, for tests that must send a request exactly as written (a path
//! with `..` that a client library would resolve, any header) and read the answer's
//! bytes as sent: one request per connection, the answer read to the close.

use super::poll::PATIENCE;

/// Sends `request` to `addr` (`host:port`) on a new connection and reads until the
/// server closes it or [`PATIENCE`] passes; the answer's bytes as they came.
pub async fn send(addr: &str, request: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
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
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
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
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(bytes)));
        let head = std::str::from_utf8(&bytes[..end]).unwrap();
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
            body: bytes[end + 4..].to_vec(),
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
