//! `seedfeed parse FILE...`: print the normalized entries as a JSON array, as the daemon
//! would store them for a first sighting (published = updated = the file's mtime).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;

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

pub fn run(files: &[impl AsRef<Path>], config: &Config) -> anyhow::Result<ExitCode> {
    let base_url = config
        .base_url
        .clone()
        .unwrap_or_else(|| base_url_for(config.listen));
    let site_base = base_str(&base_url).to_owned();
    let namespace = id_namespace(&config.id_namespace);
    let mut entries = Vec::new();
    let mut failed = false;
    for file in files {
        let file = file.as_ref();
        let (Some(parent), Some(name), Some(stem)) = (
            file.parent(),
            file.file_name().and_then(|n| n.to_str()),
            file.file_stem().and_then(|s| s.to_str()),
        ) else {
            tracing::error!(path = %file.display(), "not a file name this tool can read");
            failed = true;
            continue;
        };
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let folder =
            SeedFolder::open(parent).with_context(|| format!("folder of {}", file.display()))?;
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
                entries.push((
                    file.display().to_string(),
                    Entry {
                        draft,
                        published: mtime,
                        updated: mtime,
                    },
                ));
            }
            FileChange::Rejected { reason, .. } => {
                tracing::error!(path = %file.display(), %reason, "rejected");
                failed = true;
            }
            FileChange::Removed { .. } => {
                tracing::error!(path = %file.display(), "no such file");
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
