//! `seedfeed parse FILE...`: print the normalized entries as a JSON array, as the daemon
//! would store them for a first sighting (published = updated = the file's mtime).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;

use uuid::Uuid;

use crate::config::{Config, base_str, base_url_for};
use crate::ingest::ArticleReader;
use crate::model::{Entry, EntryKey};
use crate::normalize::id_namespace;
use crate::render::entry_url;
use crate::store::FileChange;
use crate::watch::SeedFolder;

#[derive(Serialize)]
struct Parsed<'a> {
    file: String,
    #[serde(flatten)]
    entry: &'a Entry,
    link: String,
}

/// Reads, parses and normalizes one file, or says why not.
fn parse_one(file: &Path, config: &Config, namespace: Uuid) -> Result<Entry, String> {
    let (Some(name), Some(stem)) = (
        file.file_name().and_then(|n| n.to_str()),
        file.file_stem().and_then(|s| s.to_str()),
    ) else {
        return Err("not a UTF-8 file name".into());
    };
    let parent = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let folder =
        SeedFolder::open(parent).map_err(|e| format!("folder {}: {e}", parent.display()))?;
    let reader = ArticleReader {
        folder,
        max_file_bytes: config.max_file_bytes,
        namespace,
    };
    match reader.read(name, EntryKey::new(stem)) {
        FileChange::Article { draft, stamp, .. } => {
            let mtime = DateTime::from_timestamp_millis(stamp.mtime_ms())
                .unwrap_or(DateTime::UNIX_EPOCH)
                .min(Utc::now());
            Ok(Entry {
                draft,
                published: mtime,
                updated: mtime,
            })
        }
        FileChange::Rejected { reason, .. } => Err(format!("rejected: {reason}")),
        FileChange::Removed { .. } => Err("no such file".into()),
    }
}

pub fn run(files: &[impl AsRef<Path>], config: &Config) -> anyhow::Result<ExitCode> {
    let base_url = config
        .base_url
        .clone()
        .unwrap_or_else(|| base_url_for(config.listen));
    let site_base = base_str(&base_url).to_owned();
    let namespace = id_namespace(&crate::daemon::namespace_for(config));
    let mut entries = Vec::new();
    let mut failed = false;
    let mut errors = std::io::stderr().lock();
    for file in files {
        let file = file.as_ref();
        match parse_one(file, config, namespace) {
            Ok(entry) => entries.push((file.display().to_string(), entry)),
            Err(reason) => {
                // Straight to stderr, not the log: the answer must show whatever the level.
                writeln!(errors, "{}: {reason}", file.display())?;
                failed = true;
            }
        }
    }
    let output: Vec<Parsed<'_>> = entries
        .iter()
        .map(|(file, entry)| Parsed {
            file: file.clone(),
            link: entry_url(&site_base, &entry.draft.key),
            entry,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &output).context("writing JSON")?;
    writeln!(out)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
