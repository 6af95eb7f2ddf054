//! `seedfeed check`: parse every seed without serving or storing anything; print one line
//! per file the daemon would reject (and per duplicate, which is reported but is not an
//! error); exit 1 when anything was rejected.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::SecondsFormat;

use crate::config::Config;
use crate::ingest::ArticleReader;
use crate::model::{ContentHash, EntryKey, RejectReason};
use crate::normalize::id_namespace;
use crate::store::{FileChange, Store};
use crate::watch::{Listed, SeedFolder, path_key};

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    let reader = ArticleReader {
        folder: folder.clone(),
        max_file_bytes: config.max_file_bytes,
        namespace: id_namespace(&config.id_namespace),
    };
    let listing = folder
        .scan()
        .with_context(|| format!("listing {}", config.seeds.display()))?;
    let files = listing.files;
    // The first file with each content and with each key, in the order the daemon reads.
    let mut content_owner: HashMap<ContentHash, String> = HashMap::new();
    let mut key_owner: HashMap<EntryKey, String> = HashMap::new();
    let (mut articles, mut duplicates, mut rejects) = (0, 0, 0);
    // The daemon's database, when there is one, tells since when a file has been set
    // aside; `check` itself stores nothing.
    let store = Store::open_reader(&config.data).ok();
    let since = |path: &str| {
        store
            .as_ref()
            .and_then(|store| store.file_since(path).ok().flatten())
            .map(|t| format!(" (since {})", t.to_rfc3339_opts(SecondsFormat::Secs, true)))
            .unwrap_or_default()
    };
    let mut out = std::io::stdout().lock();
    for Listed { path, .. } in &files {
        let Some(key) = path_key(path) else { continue };
        let shown = |path: &str| config.seeds.join(path).display().to_string();
        let outcome = match key_owner.get(&key) {
            Some(other) => Err(RejectReason::KeyConflict {
                key: key.to_string(),
                other: shown(other),
            }),
            None => match reader.read(path, key.clone()) {
                FileChange::Article { draft, .. } => Ok(draft.content_hash),
                FileChange::Rejected { reason, .. } => Err(reason),
                // Gone since the listing: nothing to say.
                FileChange::Removed { .. } => continue,
            },
        };
        match outcome {
            Err(reason) => {
                rejects += 1;
                writeln!(out, "{}: rejected: {reason}{}", shown(path), since(path))?;
            }
            Ok(hash) => match content_owner.get(&hash) {
                Some(original) => {
                    duplicates += 1;
                    writeln!(
                        out,
                        "{}: duplicate of {} (not published twice){}",
                        shown(path),
                        shown(original),
                        since(path)
                    )?;
                }
                None => {
                    articles += 1;
                    content_owner.insert(hash, path.clone());
                    key_owner.insert(key, path.clone());
                }
            },
        }
    }
    for name in &listing.bad_names {
        rejects += 1;
        writeln!(
            out,
            "{}: rejected: {}",
            config.seeds.join(name).display(),
            crate::model::BAD_NAME_REASON
        )?;
    }
    tracing::info!(files = files.len(), articles, duplicates, rejects, seeds = %config.seeds.display(), "check done");
    Ok(if rejects > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
