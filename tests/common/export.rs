//! The static export and the backup: `seedfeed render --out` and `seedfeed backup` run as
//! an operator runs them, the files an export holds named by the paths they are served
//! at (as a static server maps URLs to files), and two exports compared file by file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use tempfile::TempDir;

use super::binary::seedfeed;

/// The file of rules for Netlify and Cloudflare Pages that the export writes beside the
/// documents.
pub const HOST_HEADERS: &str = "_headers";

/// The export's list of its files, with their hashes.
pub const MANIFEST: &str = "manifest.txt";

/// Runs `seedfeed render --out out` over these folders, with these `SEEDFEED_*`
/// variables; fails the test with its stderr when it fails.
pub fn render(seeds: &Path, data: &Path, out: &Path, base: &str, env: &[(&str, &str)]) {
    let export = seedfeed()
        .arg("render")
        .arg("--out")
        .arg(out)
        .arg("--seeds")
        .arg(seeds)
        .arg("--data")
        .arg(data)
        .args(["--base-url", base])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
}

/// Runs `seedfeed backup file --data data`; fails the test with its output when it
/// fails, and returns what it printed.
pub fn backup(data: &Path, file: &Path) -> String {
    let ran = super::binary::run(seedfeed().arg("backup").arg(file).arg("--data").arg(data));
    assert_eq!(ran.code, Some(0), "{ran}");
    ran.stdout
}

/// What `render --out` writes from a copy of the database in `data` (made with
/// `seedfeed backup`, so that the daemon may go on), over the seeds folder `seeds`:
/// the export to compare a daemon's own with.
pub fn render_copy(seeds: &Path, data: &Path, base: &str, env: &[(&str, &str)]) -> TempDir {
    let copy = tempfile::tempdir().unwrap();
    backup(data, &copy.path().join("seedfeed.db"));
    let out = tempfile::tempdir().unwrap();
    render(seeds, copy.path(), out.path(), base, env);
    out
}

/// Every file under `dir`, by its path relative to it, with its bytes. A file gone
/// between the listing and its read is left out: a daemon's export is read while its
/// exporter may be replacing files, and the callers poll until it is still.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files(dir)
        .into_iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
            match std::fs::read(&file) {
                Ok(bytes) => Some((relative, bytes)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => panic!("reading {}: {error}", file.display()),
            }
        })
        .collect()
}

/// Every file under `dir`, by its relative path, with its modification time.
pub fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    files(dir)
        .into_iter()
        .map(|file| {
            let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
            (
                file.strip_prefix(dir).unwrap().to_str().unwrap().to_owned(),
                modified,
            )
        })
        .collect()
}

/// How two exports differ: the files only one has, and those whose bytes differ; empty
/// when they are the same, byte for byte.
pub fn tree_difference(a: &Path, b: &Path) -> String {
    let (a, b) = (tree(a), tree(b));
    let mut differences = Vec::new();
    for (path, bytes) in &a {
        match b.get(path) {
            None => differences.push(format!("only in the first: {path}")),
            Some(other) if other != bytes => differences.push(format!("differs: {path}")),
            Some(_) => {}
        }
    }
    for path in b.keys().filter(|path| !a.contains_key(*path)) {
        differences.push(format!("only in the second: {path}"));
    }
    differences.join("\n")
}

/// Every document written under `out`, as (the path it is served at, decoded; its
/// file), sorted: `index.html` files are their folder (`/`, `/entries/{key}/`), every
/// other file is its own path. The compressed siblings, `_headers` and the manifest are
/// left out.
pub fn documents(out: &Path) -> Vec<(String, PathBuf)> {
    files(out)
        .into_iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(out).unwrap().to_str().unwrap().to_owned();
            let skipped = relative.ends_with(".gz")
                || relative.ends_with(".br")
                || relative == HOST_HEADERS
                || relative == MANIFEST;
            let path = match relative.strip_suffix("index.html") {
                Some(folder) if folder.is_empty() || folder.ends_with('/') => {
                    format!("/{folder}")
                }
                _ => format!("/{relative}"),
            };
            (!skipped).then_some((path, file))
        })
        .collect()
}

/// A decoded path as it is written in a URL: each segment percent-encoded.
pub fn url_path(path: &str) -> String {
    path.split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Characters kept as they are in a URL path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Every file under `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
