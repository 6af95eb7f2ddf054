//! Where an import reads from: a file, or an http(s) URL fetched once. Either is read
//! whole, up to a size cap, and named in every error.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use url::Url;

/// The most of a feed fetched over the network that is read: far above any real feed,
/// low enough that a wrong URL (a video, an endless stream) stops early.
pub const MAX_URL_BYTES: u64 = 50 * 1024 * 1024;

/// The most of a file that is read: a WordPress export of a big site is a few hundred
/// megabytes; past this, the export should be split.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// How long a fetch may take in all, and its connection alone.
const TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many redirects a fetch follows (a feed that moved to https, or to a new host).
const MAX_REDIRECTS: usize = 5;

/// The `SOURCE` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Url(Url),
}

impl Source {
    /// An `http://` or `https://` argument is a URL; anything else is a path.
    pub fn parse(argument: &str) -> anyhow::Result<Self> {
        let lower = argument.get(..8).unwrap_or(argument).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = Url::parse(argument).with_context(|| format!("{argument}: not a URL"))?;
            return Ok(Self::Url(url));
        }
        Ok(Self::File(PathBuf::from(argument)))
    }

    /// The URL relative links of the source are resolved against, when it has one.
    pub fn base(&self) -> Option<&str> {
        match self {
            Self::Url(url) => Some(url.as_str()),
            Self::File(_) => None,
        }
    }

    /// The whole source.
    pub fn read(&self) -> anyhow::Result<Vec<u8>> {
        match self {
            Self::File(path) => read_file(path),
            Self::Url(url) => fetch(url),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => write!(f, "{url}"),
        }
    }
}

fn read_file(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    // A FIFO or a device would never end, or never start.
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "{} is larger than {MAX_FILE_BYTES} bytes; split it",
            path.display()
        );
    }
    Ok(bytes)
}

/// Fetches `url` on a runtime of its own (the command has no other).
fn fetch(url: &Url) -> anyhow::Result<Vec<u8>> {
    fetch_at_most(url, MAX_URL_BYTES)
}

/// Fetches `url`, refusing more than `max` bytes (whether the server says so up front or
/// not).
fn fetch_at_most(url: &Url, max: u64) -> anyhow::Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime of the fetch")?;
    runtime
        .block_on(fetch_async(url, max))
        .with_context(|| format!("fetching {url}"))
}

async fn fetch_async(url: &Url, max: u64) -> anyhow::Result<Vec<u8>> {
    // reqwest is built without a default crypto provider; ring is ours, as for WebSub.
    // Installing fails only when one is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .user_agent(concat!("seedfeed/", env!("CARGO_PKG_VERSION"), " (import)"))
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .build()?;
    let mut response = client.get(url.clone()).send().await?;
    let status = response.status();
    if !status.is_success() {
        bail!("the server answered {status}");
    }
    if let Some(length) = response.content_length().filter(|l| *l > max) {
        bail!("{length} bytes, more than the {max} an import reads");
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > max {
            bail!("more than the {max} bytes an import reads");
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(matches!(
            Source::parse("https://example.org/feed").unwrap(),
            Source::Url(_)
        ));
        assert!(matches!(
            Source::parse("HTTP://example.org/feed").unwrap(),
            Source::Url(_)
        ));
        assert_eq!(
            Source::parse("feeds/http.xml").unwrap(),
            Source::File(PathBuf::from("feeds/http.xml"))
        );
        assert!(Source::parse("http://").is_err());
    }

    /// A server that does not say how long its answer is (no `Content-Length`) is cut off
    /// at the cap all the same.
    #[test]
    fn an_answer_of_unknown_length_stops_at_the_cap() {
        use std::io::{BufRead, BufReader, Write};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/feed", listener.local_addr().unwrap())).unwrap();
        // Not joined: should the client never connect, the thread waits alone.
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
            // The client hangs up at the cap: a failed write is the point.
            let _ = (&stream).write_all(head.as_bytes());
            let _ = (&stream).write_all(&[b'x'; 5000]);
        });
        let error = fetch_at_most(&url, 1000).unwrap_err();
        assert!(
            format!("{error:#}").contains("more than the 1000 bytes"),
            "{error:#}"
        );
    }
}
