//! `seedfeed check`: read every seed as the daemon would, without serving or keeping
//! anything; print one line per file the daemon would reject (and per duplicate, and per
//! file that is not an article, which are reported but are not errors), and one for
//! podcast artwork that would stop the daemon's start; exit 1 when anything was
//! rejected or the artwork will not do. Duplicates and
//! key conflicts are decided by the store's own rules, applied to a store in memory in
//! the order the daemon reads; so are the sections' slugs, and a section whose name's
//! slug another section took first gets a line naming the slug it is served at.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};

use crate::config::Config;
use crate::ingest::ArticleReader;
use crate::model::{BAD_NAME_REASON, EntryKey};
use crate::normalize::{EntryContext, id_namespace, slugify};
use crate::store::{FileChange, Store, date_order};
use crate::watch::{Listing, SeedFolder, path_key};

/// Files read and applied to the store in memory at a time, so that the texts of a big
/// folder are never all held at once.
const CHUNK: usize = 256;

/// What the store in memory made of the folder.
struct Verdicts {
    /// The line to print for each file set aside, by path.
    lines: HashMap<String, String>,
    /// A line for each section served at a slug other than its name's.
    sections: Vec<String>,
    articles: u64,
    duplicates: u64,
    rejects: u64,
}

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    // The daemon would not start with it: said first, and a failure whatever the
    // articles are.
    let artwork = crate::daemon::check_artwork(&folder, &config.seeds, &config.feed.podcasts);
    let listing = folder
        .scan()
        .with_context(|| format!("listing {}", config.seeds.display()))?;
    let reader = ArticleReader {
        folder,
        max_file_bytes: config.max_file_bytes,
        context: EntryContext::new(
            id_namespace(&crate::daemon::namespace_for(config)),
            &config.base_url_or(config.listen),
        ),
    };
    let verdicts = judge(&reader, &listing, config)?;
    let mut out = std::io::stdout().lock();
    if let Err(error) = &artwork {
        writeln!(out, "{error}")?;
    }
    for file in &listing.files {
        if let Some(line) = verdicts.lines.get(&file.path) {
            writeln!(out, "{line}")?;
        }
    }
    for line in &verdicts.sections {
        writeln!(out, "{line}")?;
    }
    for name in &listing.bad_names {
        writeln!(
            out,
            "{}: rejected: {BAD_NAME_REASON}",
            config.seeds.join(name).display()
        )?;
    }
    // Not read, so not rejected: whoever put a `.md` file there learns why it did nothing.
    for (path, reason) in &listing.not_articles {
        writeln!(out, "{}: {reason}", config.seeds.join(path).display())?;
    }
    let rejects = verdicts.rejects + listing.bad_names.len() as u64;
    let Verdicts {
        articles,
        duplicates,
        ..
    } = verdicts;
    let not_articles = listing.not_articles.len();
    tracing::info!(files = listing.files.len(), articles, duplicates, rejects, not_articles, seeds = %config.seeds.display(), "check done");
    Ok(if rejects > 0 || artwork.is_err() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The sections that a fresh ingest of the folder serves at a slug other than their
/// name's, because a section seen before them wanted the same one ("C++" and "C#").
fn moved_sections(memory: &Store) -> anyhow::Result<Vec<String>> {
    let sections = memory.categories(Utc::now())?;
    Ok(sections
        .into_iter()
        .filter_map(|section| {
            let wanted = slugify(&section.term);
            (section.slug != wanted).then(|| {
                format!(
                    "section {:?}: served at /categories/{}.* (the slug {wanted:?} is another section's)",
                    section.term, section.slug
                )
            })
        })
        .collect())
}

/// Reads every listed file and applies it to a store in memory, in date order (the
/// daemon's), then asks the store which files it set aside and why.
fn judge(reader: &ArticleReader, listing: &Listing, config: &Config) -> anyhow::Result<Verdicts> {
    let mut memory = Store::open_in_memory().context("opening a database in memory")?;
    let mut writer = memory.writer();
    // In the daemon's order (`store::date_order`), so that which of two files is the
    // duplicate, or holds a key, is the daemon's answer too.
    let mut in_order: Vec<(i64, EntryKey, &str)> = listing
        .files
        .iter()
        .filter_map(|file| Some((file.stamp.mtime_ms(), path_key(&file.path)?, &*file.path)))
        .collect();
    in_order.sort_by(|a, b| date_order((a.0, a.1.as_str(), a.2), (b.0, b.1.as_str(), b.2)));
    for chunk in in_order.chunks(CHUNK) {
        let changes: Vec<FileChange> = chunk
            .iter()
            .map(|(_, key, path)| reader.read(path, key.clone()))
            .collect();
        writer
            .apply(&changes, Utc::now())
            .context("applying the seeds to a database in memory")?;
    }
    writer
        .commit()
        .context("committing the database in memory")?;
    drop(writer);
    // The daemon's database, when there is one, tells since when a file has been set
    // aside; `check` itself keeps nothing.
    let daemon = Store::open_reader(&config.data).ok();
    let since = |path: &str| {
        daemon
            .as_ref()
            .and_then(|store| store.file_since(path).ok().flatten())
            .map(|t| format!(" (since {})", t.to_rfc3339_opts(SecondsFormat::Secs, true)))
            .unwrap_or_default()
    };
    let shown = |path: &str| config.seeds.join(path).display().to_string();
    let mut lines = HashMap::new();
    let rejected = memory.rejected_files(usize::MAX)?;
    let duplicated = memory.duplicate_files(usize::MAX)?;
    for file in &rejected {
        let line = format!(
            "{}: rejected: {}{}",
            shown(&file.path),
            file.reason,
            since(&file.path)
        );
        lines.insert(file.path.clone(), line);
    }
    for file in &duplicated {
        let line = format!(
            "{}: duplicate of {} (not published twice){}",
            shown(&file.path),
            shown(&file.duplicate_of),
            since(&file.path)
        );
        lines.insert(file.path.clone(), line);
    }
    // Neither is a failure: a draft is the author's intent, a warning names what the
    // front matter said that was ignored (a key misspelled), with its line.
    let held = memory.held_files(usize::MAX)?;
    let warned = memory.warned_files(usize::MAX)?;
    for (label, files) in [("held back", held), ("warning", warned)] {
        for file in files {
            let line = format!("{}: {label}: {}", shown(&file.path), file.reason);
            lines.insert(file.path, line);
        }
    }
    Ok(Verdicts {
        lines,
        sections: moved_sections(&memory)?,
        articles: memory.counts()?.published_files,
        duplicates: duplicated.len() as u64,
        rejects: rejected.len() as u64,
    })
}
