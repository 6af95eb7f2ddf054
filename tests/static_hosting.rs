//! The export of `seedfeed render --out` behind real static servers on loopback:
//! `python3 -m http.server`, nginx with its stock `mime.types`, and nginx with the
//! server block of docs/static-hosting.md as it is written there. On each, the pages
//! open as HTML, the feeds come with a feed type, and every entry link of the exported
//! feed leads to its page; behind the documented nginx, every document has exactly the
//! daemon's media type, charset, compressed variant and headers.
//!
//! Needs python3 with a system `mime.types` (Debian: `media-types`) and nginx, which
//! `.ci/run` installs.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::articles::{SAMPLE_KEY, article, sample_article, sample_as, write_file};
use common::daemon::{free_port, header, http_client};
use common::export::{documents, render, url_path};
use common::poll::until;
use seedfeed::render::{Format, HTML_TYPE, OPML_TYPE, XSL_TYPE};
use tempfile::TempDir;

const BASE: &str = "https://feeds.example.org";

/// A key with characters a URL must percent-encode, and that static servers decode.
const ODD_KEY: &str = "café au lait? 100% #1+2";

/// An export of five articles, two to a feed (so that archive pages are written).
struct Export {
    out: TempDir,
    _seeds: TempDir,
    _data: TempDir,
}

impl Export {
    fn new() -> Self {
        let (seeds, data, out) = (tempdir(), tempdir(), tempdir());
        write_file(
            &seeds.path().join(format!("{SAMPLE_KEY}.txt")),
            &sample_article(),
        );
        let odd = sample_as("Café society", "Culture");
        write_file(&seeds.path().join(format!("{ODD_KEY}.txt")), &odd);
        for n in 1..=3 {
            let text = article(
                "Culture",
                &format!("Story {n}"),
                &format!("Story number {n}."),
            );
            write_file(&seeds.path().join(format!("story-{n}.txt")), &text);
        }
        let env = [("SEEDFEED_FEED_SIZE", "2")];
        render(seeds.path(), data.path(), out.path(), BASE, &env);
        Self {
            out,
            _seeds: seeds,
            _data: data,
        }
    }

    fn path(&self) -> &Path {
        self.out.path()
    }

    /// The paths (as written in a URL) of the entry links of the exported Atom feed.
    fn entry_links(&self) -> Vec<String> {
        let atom = std::fs::read(self.path().join("feed.atom")).unwrap();
        let feed = feed_rs::parser::parse(&atom[..]).unwrap();
        let links: Vec<String> = feed
            .entries
            .iter()
            .map(|entry| {
                let link = &entry.links[0].href;
                link.strip_prefix(BASE).unwrap().to_owned()
            })
            .collect();
        assert!(!links.is_empty());
        links
    }
}

fn tempdir() -> TempDir {
    tempfile::tempdir().unwrap()
}

/// A static server, stopped when dropped.
struct Server {
    name: &'static str,
    child: Child,
    base: String,
    /// nginx's configuration and logs.
    work: Option<TempDir>,
}

impl Server {
    /// `python3 -m http.server` over `root`.
    async fn python(root: &Path) -> Self {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 is needed: {e}"));
        Self::ready("python3 -m http.server", child, port, None).await
    }

    /// nginx with `server` (a `server { }` block whose `listen 80;` and `root
    /// /var/www/seedfeed;` are replaced) in the `http` block of Debian's stock
    /// nginx.conf, which includes `/etc/nginx/mime.types`.
    async fn nginx(root: &Path, server: &str) -> Self {
        let port = free_port();
        let work = tempdir();
        let server = replaced(server, "listen 80;", &format!("listen 127.0.0.1:{port};"));
        let server = replaced(
            &server,
            "root /var/www/seedfeed;",
            &format!("root {};", root.display()),
        );
        let w = work.path().display();
        // As root (who owns what it creates), nginx's workers would run as nobody and
        // could not read a temp folder.
        let user = if work.path().metadata().unwrap().uid() == 0 {
            "user root;"
        } else {
            ""
        };
        let conf = [
            user.to_owned(),
            "worker_processes 1;".into(),
            format!("pid {w}/nginx.pid;"),
            format!("error_log {w}/error.log warn;"),
            "events { worker_connections 64; }".into(),
            "http {".into(),
            "include /etc/nginx/mime.types;".into(),
            "default_type application/octet-stream;".into(),
            "access_log off;".into(),
            format!("client_body_temp_path {w}/body;"),
            format!("proxy_temp_path {w}/proxy;"),
            format!("fastcgi_temp_path {w}/fastcgi;"),
            format!("uwsgi_temp_path {w}/uwsgi;"),
            format!("scgi_temp_path {w}/scgi;"),
            server,
            "}".into(),
        ]
        .join("\n");
        std::fs::write(work.path().join("nginx.conf"), conf).unwrap();
        let child = common::tls_proxy::spawn_nginx(work.path());
        Self::ready("nginx", child, port, Some(work)).await
    }

    /// Waits until the server answers `/`; fails at once if it exits.
    async fn ready(name: &'static str, child: Child, port: u16, work: Option<TempDir>) -> Self {
        let mut server = Self {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            work,
        };
        let client = http_client().build().unwrap();
        let url = server.url("/");
        until(&format!("{name} to answer"), || {
            if let Some(exit) = server.child.try_wait().unwrap() {
                panic!("{name} exited ({exit}):\n{}", server_log(&server.work));
            }
            let request = client.get(&url).send();
            async move {
                match request.await {
                    Ok(response) if response.status() == 200 => Ok(()),
                    Ok(response) => Err(format!("{}", response.status())),
                    Err(error) => Err(error.to_string()),
                }
            }
        })
        .await;
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        server_log(&self.work)
    }
}

fn server_log(work: &Option<TempDir>) -> String {
    work.as_ref()
        .and_then(|work| std::fs::read_to_string(work.path().join("error.log")).ok())
        .unwrap_or_default()
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only nginx has a folder of its own, and a process group with its workers.
        if self.work.is_some() {
            common::tls_proxy::stop_nginx(&mut self.child);
        } else {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `text` with `from` replaced by `to`, which must be there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "no {from:?} in:\n{text}");
    text.replace(from, to)
}

/// A type without its parameters, as compared across servers.
fn essence(media_type: &str) -> String {
    let essence = media_type.split(';').next().unwrap_or_default();
    essence.trim().to_ascii_lowercase()
}

/// What any plain static server must do with the export: pages as HTML, feeds with a
/// feed (or XML, or JSON) type, every entry link of the feed to its page, and an old
/// link (without its final `/`) to the page after the server's own redirect.
async fn serves_the_export(server: &Server, export: &Export) {
    let name = server.name;
    let client = http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String| {
        let request = client.get(server.url(&path)).send();
        async move { request.await.unwrap() }
    };
    let index = get("/".into()).await;
    assert_eq!(index.status(), 200, "{name} /");
    assert_eq!(
        essence(&header(&index, "content-type")),
        "text/html",
        "{name} /"
    );

    let xml = ["application/xml", "text/xml"];
    for (extension, accepted) in [
        ("atom", &["application/atom+xml", xml[0], xml[1]][..]),
        (
            "rss",
            &[
                "application/rss+xml",
                "application/x-rss+xml",
                xml[0],
                xml[1],
            ],
        ),
        ("json", &["application/feed+json", "application/json"]),
    ] {
        let feeds: Vec<_> = documents(export.path())
            .into_iter()
            .filter(|(path, _)| path.ends_with(&format!(".{extension}")))
            .collect();
        assert!(feeds.len() >= 2, "{feeds:?}");
        for (path, file) in feeds {
            let response = get(url_path(&path)).await;
            assert_eq!(response.status(), 200, "{name} {path}");
            let media_type = essence(&header(&response, "content-type"));
            assert!(
                accepted.contains(&media_type.as_str()),
                "{name} {path}: {media_type} (python3 reads /etc/mime.types: Debian's media-types)"
            );
            let body = response.bytes().await.unwrap();
            assert_eq!(body, std::fs::read(&file).unwrap(), "{name} {path}");
        }
    }

    let following = http_client().build().unwrap();
    for link in export.entry_links() {
        assert!(link.starts_with("/entries/"), "{link}");
        let page = get(link.clone()).await;
        assert_eq!(page.status(), 200, "{name} {link}");
        assert_eq!(
            essence(&header(&page, "content-type")),
            "text/html",
            "{name} {link}"
        );
        let decoded = percent_encoding::percent_decode_str(&link)
            .decode_utf8()
            .unwrap();
        let file = export.path().join(&decoded[1..]).join("index.html");
        assert_eq!(page.bytes().await.unwrap(), std::fs::read(file).unwrap());

        let old = following.get(server.url(link.trim_end_matches('/')));
        let landed = old.send().await.unwrap();
        assert_eq!(landed.status(), 200, "{name} {link} without its /");
        assert!(landed.url().path().ends_with('/'), "{}", landed.url());
        assert_eq!(essence(&header(&landed, "content-type")), "text/html");
    }
}

/// The media type the daemon sends a document with, by its file's extension.
fn daemon_type(file: &Path) -> &'static str {
    let extension = file.extension().unwrap().to_str().unwrap();
    Format::ALL
        .into_iter()
        .find(|format| format.extension() == extension)
        .map(Format::media_type)
        .unwrap_or_else(|| match extension {
            "html" => HTML_TYPE,
            "opml" => OPML_TYPE,
            "xsl" => XSL_TYPE,
            other => panic!("a document of an unknown kind: {other}"),
        })
}

/// Behind the documented nginx, every document as the daemon sends it: its exact media
/// type and charset, its gzip sibling to a client that accepts gzip, CORS on the feeds
/// and the OPML list, and a year's caching for the archive pages only.
async fn serves_every_document_as_the_daemon(server: &Server, export: &Export) {
    let client = http_client().build().unwrap();
    for (path, file) in documents(export.path()) {
        let url = server.url(&url_path(&path));
        let plain = client.get(&url).send().await.unwrap();
        assert_eq!(plain.status(), 200, "{path}\n{}", server.log());
        assert_eq!(header(&plain, "content-type"), daemon_type(&file), "{path}");
        let shared = ["rss", "atom", "json", "opml"]
            .iter()
            .any(|extension| path.ends_with(&format!(".{extension}")));
        let cors = if shared { "*" } else { "" };
        assert_eq!(
            header(&plain, "access-control-allow-origin"),
            cors,
            "{path}"
        );
        let cache_control = if path.starts_with("/archive/") {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        };
        assert_eq!(header(&plain, "cache-control"), cache_control, "{path}");
        assert_eq!(plain.bytes().await.unwrap(), std::fs::read(&file).unwrap());

        let mut gz = file.clone().into_os_string();
        gz.push(".gz");
        let gz = PathBuf::from(gz);
        if gz.exists() {
            let gzip = client
                .get(&url)
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(header(&gzip, "content-encoding"), "gzip", "{path}");
            assert_eq!(header(&gzip, "content-type"), daemon_type(&file), "{path}");
            assert!(header(&gzip, "vary").contains("Accept-Encoding"), "{path}");
            assert_eq!(gzip.bytes().await.unwrap(), std::fs::read(&gz).unwrap());
        }
    }
}

/// The first ```nginx block of docs/static-hosting.md.
fn documented_nginx_server() -> String {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/static-hosting.md");
    let text = std::fs::read_to_string(&doc).unwrap();
    let (_, after) = text.split_once("```nginx\n").unwrap();
    let (block, _) = after.split_once("```").unwrap();
    block.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_http_server_serves_the_export() {
    let export = Export::new();
    let server = Server::python(export.path()).await;
    serves_the_export(&server, &export).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_nginx_serves_the_export() {
    let export = Export::new();
    let stock = "server {\n    listen 80;\n    root /var/www/seedfeed;\n}\n";
    let server = Server::nginx(export.path(), stock).await;
    serves_the_export(&server, &export).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_as_documented_serves_every_document_as_the_daemon() {
    let export = Export::new();
    let server = Server::nginx(export.path(), &documented_nginx_server()).await;
    serves_the_export(&server, &export).await;
    serves_every_document_as_the_daemon(&server, &export).await;
}
