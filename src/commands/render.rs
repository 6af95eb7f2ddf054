//! `seedfeed render --out DIR`: every document the daemon serves, written as files with
//! the same bytes at the same paths, plus `.gz` and `.br` siblings, so that any static
//! host, object store or CDN can serve the feeds (nginx: `gzip_static on`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;

use crate::config::Config;
use crate::render::Document;

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
    tracing::info!(documents = written, out = %out.display(), "rendered");
    writeln!(
        std::io::stdout().lock(),
        "{written} documents written to {}",
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The file of a served path: `/` is `index.html`, every other path is itself. Only
/// plain names are accepted, so nothing is ever written outside the output folder.
fn export_path(path: &str) -> Option<PathBuf> {
    if path == "/" {
        return Some(PathBuf::from("index.html"));
    }
    let relative = path.strip_prefix('/')?;
    let plain = relative
        .split('/')
        .all(|segment| !matches!(segment, "" | "." | ".."));
    plain.then(|| PathBuf::from(relative))
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
            export_path("/entries/a b"),
            Some(PathBuf::from("entries/a b"))
        );
        for bad in [
            "/../etc/passwd",
            "/entries/..",
            "/a/./b",
            "/x/",
            "relative",
            "//abs",
        ] {
            assert_eq!(export_path(bad), None, "{bad}");
        }
    }
}
