//! `seedfeed parse FILE...`: print the normalized entries as a JSON array, as the daemon
//! would store them for a first sighting (published = updated = the file's mtime), with
//! the slug the section's name wants: without a store, `parse` cannot know that another
//! section took it first (`seedfeed check` names such sections). A
//! folder stands for the articles in it and its subfolders, chosen by the daemon's own
//! rule (`watch::names`): hidden files and temporaries are skipped, and files that are
//! not articles are named on stderr.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, base_str};
use crate::ingest::ArticleReader;
use crate::model::{Entry, EntryKey};
use crate::normalize::{EntryContext, id_namespace};
use crate::render::entry_url;
use crate::store::FileChange;
use crate::watch::{SeedFolder, path_key};

#[derive(Serialize)]
struct Parsed<'a> {
    file: String,
    #[serde(flatten)]
    entry: &'a Entry,
    link: String,
}

/// Reads, parses and normalizes one file, or says why not.
fn parse_one(file: &Path, config: &Config, context: &EntryContext) -> Result<Entry, String> {
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
        context: context.clone(),
    };
    // A page bundle's `index.md` is named by its folder, as the daemon names it.
    let key = file.to_str().and_then(path_key);
    entry_of(reader.read(name, key.unwrap_or_else(|| EntryKey::new(stem))))
}

/// The entry a file's change makes, as a first sighting (dated by its front matter, else
/// by its mtime); or why there is none.
fn entry_of(change: FileChange) -> Result<Entry, String> {
    match change {
        FileChange::Article { draft, stamp, .. } => {
            let now = Utc::now();
            let mtime = DateTime::from_timestamp_millis(stamp.mtime_ms())
                .unwrap_or(DateTime::UNIX_EPOCH)
                .min(now);
            let published = draft.meta.date.map_or(mtime, |date| date.min(now));
            let updated = draft
                .meta
                .updated_date
                .map_or(published, |date| date.min(now).max(published));
            Ok(Entry {
                draft,
                published,
                updated,
            })
        }
        FileChange::Rejected { reason, .. } => Err(format!("rejected: {reason}")),
        FileChange::Removed { .. } => Err("no such file".into()),
        FileChange::Held { hold, .. } => Err(format!("{HELD}{hold}")),
    }
}

/// What a file held back (a draft, an article dated in the future) is reported with:
/// not a failure, the author's intent.
const HELD: &str = "held back: ";

/// What was parsed: the entries by the file shown for each, and whether any file given
/// could not be. Reports go straight to stderr, not the log: the answer must show them
/// whatever the level.
struct Parsing {
    entries: Vec<(String, Entry)>,
    failed: bool,
    errors: std::io::StderrLock<'static>,
}

impl Parsing {
    fn take(&mut self, file: &Path, parsed: Result<Entry, String>) -> std::io::Result<()> {
        match parsed {
            Ok(entry) => self.entries.push((file.display().to_string(), entry)),
            Err(reason) => {
                writeln!(self.errors, "{}: {reason}", file.display())?;
                self.failed |= !reason.starts_with(HELD);
            }
        }
        Ok(())
    }

    /// Every article of the folder `dir`, in path order, as the daemon's scan lists them.
    fn folder(
        &mut self,
        dir: &Path,
        config: &Config,
        context: &EntryContext,
    ) -> std::io::Result<()> {
        let opened =
            SeedFolder::open(dir).and_then(|folder| folder.scan().map(|listing| (folder, listing)));
        let (folder, listing) = match opened {
            Ok(opened) => opened,
            Err(error) => return self.take(dir, Err(format!("cannot list the folder: {error}"))),
        };
        let reader = ArticleReader {
            folder,
            max_file_bytes: config.max_file_bytes,
            context: context.clone(),
        };
        for file in &listing.files {
            let Some(key) = path_key(&file.path) else {
                continue;
            };
            let parsed = entry_of(reader.read(&file.path, key));
            self.take(&dir.join(&file.path), parsed)?;
        }
        for name in &listing.bad_names {
            let reason = format!("rejected: {}", crate::model::BAD_NAME_REASON);
            self.take(&dir.join(name), Err(reason))?;
        }
        // Skipped, not failed: the folder holds other things than articles.
        for (path, reason) in &listing.not_articles {
            writeln!(
                self.errors,
                "{}: skipped: {reason}",
                dir.join(path).display()
            )?;
        }
        Ok(())
    }
}

pub fn run(files: &[impl AsRef<Path>], config: &Config) -> anyhow::Result<ExitCode> {
    let base_url = config.base_url_or(config.listen);
    let site_base = base_str(&base_url).to_owned();
    let context = EntryContext::new(
        id_namespace(&crate::daemon::namespace_for(config)),
        &base_url,
    );
    let mut parsing = Parsing {
        entries: Vec::new(),
        failed: false,
        errors: std::io::stderr().lock(),
    };
    for file in files {
        let file = file.as_ref();
        if file.is_dir() {
            parsing.folder(file, config, &context)?;
        } else {
            parsing.take(file, parse_one(file, config, &context))?;
        }
    }
    let Parsing {
        entries, failed, ..
    } = parsing;
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
