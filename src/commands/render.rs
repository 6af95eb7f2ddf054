//! `seedfeed render --out DIR`: every document the daemon serves, written as files with
//! the same bytes, plus `.gz` and `.br` siblings, so that any static host, object store
//! or CDN can serve the feeds (nginx: `gzip_static on`). A path ending in `/` (the index,
//! entry pages) is written as that folder's `index.html`, the file a static server
//! answers such a URL with, as HTML. A `_headers` file gives Netlify and Cloudflare Pages
//! the media types and headers the daemon sends; docs/static-hosting.md has the same for
//! nginx, Caddy and Apache. The media files of the seeds folder are copied to `media/`,
//! where `/media/` serves them. `manifest.txt` lists every file with its SHA-256.
//!
//! Into a folder it wrote before, only the documents that changed are written again, and
//! those that are gone are removed: the export the daemon keeps with `[export] dir`, done
//! once (`publish::export`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::config::Config;

pub fn run(config: &Config, out: &Path) -> anyhow::Result<ExitCode> {
    let changes = crate::daemon::export_once(config, out)?;
    tracing::info!(
        written = changes.written,
        unchanged = changes.unchanged,
        removed = changes.removed,
        out = %out.display(),
        "rendered"
    );
    writeln!(
        std::io::stdout().lock(),
        "{} documents and media files written, {} unchanged, {} removed in {}",
        changes.written,
        changes.unchanged,
        changes.removed,
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
