//! `seedfeed render --out DIR`: every document the daemon serves, written as files with
//! the same bytes, plus `.gz` and `.br` siblings, so that any static host, object store
//! or CDN can serve the feeds (nginx: `gzip_static on`). A path ending in `/` (the index,
//! entry pages) is written as that folder's `index.html`, the file a static server
//! answers such a URL with, as HTML. A `_headers` file gives Netlify and Cloudflare Pages
//! the media types and headers the daemon sends; docs/static-hosting.md has the same for
//! nginx, Caddy and Apache. The media files of the seeds folder are copied to `media/`,
//! where `/media/` serves them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;

use crate::config::Config;
use crate::http::{MEDIA_PREFIX, MediaFiles, OpenMedia};
use crate::render::{Document, Format, OPML_PATH, OPML_TYPE, XSL_PATH, XSL_TYPE};
use crate::watch::SeedFolder;

/// The file of headers rules that Netlify and Cloudflare Pages read (and do not serve).
const HOST_HEADERS_FILE: &str = "_headers";

pub fn run(config: &Config, out: &Path) -> anyhow::Result<ExitCode> {
    let (snapshot, pages) = crate::daemon::render_once(config)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = 0;
    let mut write = |path: &str, document: &Document| -> anyhow::Result<()> {
        match export_path(path) {
            Some(relative) => {
                write_document(&out.join(relative), document)?;
                written += 1;
            }
            None => tracing::warn!(path, "not a path a file can have; skipped"),
        }
        Ok(())
    };
    for (path, document) in snapshot.documents() {
        write(path, document)?;
    }
    // Entry and archive pages one at a time, without the server's cache.
    let paths = pages
        .paths()
        .context("listing the entry and archive pages")?;
    let total = paths.len();
    for (done, path) in paths.iter().enumerate() {
        let document = pages
            .load(path)
            .with_context(|| format!("reading {path} from the database"))?;
        if let Some(document) = document {
            write(path, &document)?;
        }
        if (done + 1) % 10_000 == 0 {
            tracing::info!(done = done + 1, total, "pages written");
        }
    }
    let assets = export_assets(config, out)?;
    let headers = out.join(HOST_HEADERS_FILE);
    std::fs::write(&headers, host_headers())
        .with_context(|| format!("writing {}", headers.display()))?;
    tracing::info!(documents = written, assets, out = %out.display(), "rendered");
    writeln!(
        std::io::stdout().lock(),
        "{written} documents and {assets} media files written to {}",
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The file of a served path (decoded, as static servers decode a URL before they look
/// for its file): a path ending in `/` is that folder's `index.html` (`/` is
/// `index.html`, `/entries/{key}/` is `entries/{key}/index.html`); every other path is
/// itself. Only plain names are accepted, so nothing is ever written outside the output
/// folder.
fn export_path(path: &str) -> Option<PathBuf> {
    let relative = path.strip_prefix('/')?;
    let file = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_owned()
    };
    let plain = file
        .split('/')
        .all(|segment| !matches!(segment, "" | "." | ".."));
    plain.then(|| PathBuf::from(file))
}

/// Copies the seeds folder's media files to `media/` in `out`, at the paths `/media/`
/// serves them from, each opened under the rules `/media/` applies (a symlink out of the
/// folder or to another kind of file is skipped, with a warning) and dated as its
/// source. The number copied.
fn export_assets(config: &Config, out: &Path) -> anyhow::Result<usize> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("opening the seeds folder {}", config.seeds.display()))?;
    let listing = folder
        .scan()
        .with_context(|| format!("listing the seeds folder {}", config.seeds.display()))?;
    let mut copied = 0;
    for relative in listing.assets.iter().map(|asset| &asset.path) {
        let source = match folder.open(relative) {
            Ok(source) => source,
            Err(error) => {
                tracing::warn!(path = %relative, %error, "media file not exported");
                continue;
            }
        };
        let target = out.join(MEDIA_PREFIX.trim_matches('/')).join(relative);
        copy_asset(source, &target)?;
        copied += 1;
    }
    Ok(copied)
}

/// Streams an opened media file to `target`, dated with its modification time.
fn copy_asset(mut source: OpenMedia, target: &Path) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file =
        std::fs::File::create(target).with_context(|| format!("creating {}", target.display()))?;
    std::io::copy(&mut source.file, &mut file)
        .with_context(|| format!("writing {}", target.display()))?;
    if let Ok(modified) = source.metadata.modified() {
        file.set_modified(modified)
            .with_context(|| format!("dating {}", target.display()))?;
    }
    Ok(())
}

/// The `_headers` rules: for each kind of document but HTML (which every host serves as
/// such), the media type and charset the daemon sends, where a host would guess from the
/// extension (or not know it), and CORS where the daemon sends it; full archive pages,
/// which never change, cached for good. Each header is set by one rule for any path:
/// these hosts join the values of overlapping rules.
fn host_headers() -> String {
    let mut kinds: Vec<(&str, &str, bool)> = Format::ALL
        .iter()
        .map(|format| (format.extension(), format.media_type(), true))
        .collect();
    for (path, media_type, cors) in [(OPML_PATH, OPML_TYPE, true), (XSL_PATH, XSL_TYPE, false)] {
        let extension = path
            .rsplit_once('.')
            .map_or(path, |(_, extension)| extension);
        kinds.push((extension, media_type, cors));
    }
    let mut rules =
        String::from("# Read by Netlify and Cloudflare Pages; written by `seedfeed render`.\n");
    for (extension, media_type, cors) in kinds {
        rules.push_str(&format!("/*.{extension}\n  Content-Type: {media_type}\n"));
        if cors {
            rules.push_str("  Access-Control-Allow-Origin: *\n");
        }
    }
    rules.push_str("/archive/*\n  Cache-Control: public, max-age=31536000, immutable\n");
    rules
}

/// Writes the bytes and the variants, each dated with the document's Last-Modified.
fn write_document(file: &Path, document: &Document) -> anyhow::Result<()> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut variants = vec![(file.to_owned(), &document.body)];
    for (extension, bytes) in [("gz", &document.gzip), ("br", &document.brotli)] {
        if let Some(bytes) = bytes {
            let mut name = file.as_os_str().to_owned();
            name.push(format!(".{extension}"));
            variants.push((PathBuf::from(name), bytes));
        }
    }
    let modified = SystemTime::from(document.last_modified);
    for (path, bytes) in variants {
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        let file = std::fs::File::options()
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.set_modified(modified)
            .with_context(|| format!("dating {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_paths_map_to_files_inside_the_folder() {
        assert_eq!(export_path("/"), Some(PathBuf::from("index.html")));
        assert_eq!(export_path("/feed.atom"), Some(PathBuf::from("feed.atom")));
        assert_eq!(
            export_path("/entries/a b?/"),
            Some(PathBuf::from("entries/a b?/index.html"))
        );
        assert_eq!(
            export_path("/page/2/"),
            Some(PathBuf::from("page/2/index.html"))
        );
        for bad in [
            "/../etc/passwd",
            "/entries/..",
            "/entries/../",
            "/a/./b",
            "/x//",
            "relative",
            "//abs",
            "//",
        ] {
            assert_eq!(export_path(bad), None, "{bad}");
        }
    }
}
