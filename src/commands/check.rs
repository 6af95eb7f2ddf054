//! `seedfeed check`: parse every seed without serving or storing anything; print one line
//! per rejected file (and per duplicate); exit 1 when anything was rejected.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::ingest::ArticleReader;
use crate::model::ContentHash;
use crate::normalize::id_namespace;
use crate::store::FileChange;
use crate::watch::{SeedFolder, seed_key};

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let folder = SeedFolder::open(&config.seeds)
        .with_context(|| format!("seeds folder {}", config.seeds.display()))?;
    let reader = ArticleReader {
        folder: folder.clone(),
        max_file_bytes: config.max_file_bytes,
        namespace: id_namespace(&config.id_namespace),
    };
    let files = folder
        .scan()
        .with_context(|| format!("listing {}", config.seeds.display()))?;
    let mut first_with: HashMap<ContentHash, String> = HashMap::new();
    let (mut articles, mut duplicates, mut rejects) = (0, 0, 0);
    let mut out = std::io::stdout().lock();
    for (path, _) in &files {
        let Some(key) = seed_key(path) else { continue };
        let shown = config.seeds.join(path);
        match reader.read(path, key) {
            FileChange::Article { draft, .. } => match first_with.get(&draft.content_hash) {
                Some(original) => {
                    duplicates += 1;
                    writeln!(
                        out,
                        "{}: duplicate of {original} (not published twice)",
                        shown.display()
                    )?;
                }
                None => {
                    articles += 1;
                    first_with.insert(draft.content_hash, path.clone());
                }
            },
            FileChange::Rejected { reason, .. } => {
                rejects += 1;
                writeln!(out, "{}: rejected: {reason}", shown.display())?;
            }
            FileChange::Removed { .. } => {}
        }
    }
    tracing::info!(files = files.len(), articles, duplicates, rejects, seeds = %config.seeds.display(), "check done");
    Ok(if rejects > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
