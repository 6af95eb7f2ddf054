//! `seedfeed import SOURCE --into DIR`: an existing site's articles as files for the
//! seeds folder, so that a publisher moving to seedfeed keeps every reader's read state.
//!
//! SOURCE is an RSS, Atom or JSON Feed file or http(s) URL ([`feed`]), or a WordPress
//! export file ([`wxr`], told apart by its namespace). Each item becomes one Markdown
//! file with TOML front matter ([`super::article_file`]), its id kept verbatim, its
//! content as the body. File names are the slug of the title and a hash of the id
//! ([`folder`]), so that running the import again finds each item's file: left alone
//! when it is the same, rewritten when the source changed, never written twice.

mod extras;
mod feed;
mod folder;
mod source;
mod text;
mod wxr;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::model::FrontMatter;
use folder::{Folder, Outcome};
pub use source::{MAX_FILE_BYTES, MAX_URL_BYTES, Source};

/// One item of the source, as an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub front: FrontMatter,
    /// The body as HTML, as the source has it.
    pub html: String,
}

impl Item {
    /// How the item is named in messages: its id, else its title.
    fn label(&self) -> String {
        let name = self.front.id.as_ref().or(self.front.title.as_ref());
        name.map_or_else(
            || "an item with no id or title".to_owned(),
            |n| format!("{n:?}"),
        )
    }
}

/// What a source holds: its items, and how many entries of each kind were skipped
/// (a WordPress export's pages, attachments…).
#[derive(Debug, Default)]
pub struct Items {
    pub items: Vec<Item>,
    pub skipped: BTreeMap<String, usize>,
}

/// The items of a source's bytes: a WordPress export if it is one, else a feed.
pub fn read_items(bytes: &[u8], base: Option<&str>) -> anyhow::Result<Items> {
    if wxr::looks_like_wxr(bytes)
        && let Some(items) = wxr::wxr_items(bytes)?
    {
        return Ok(items);
    }
    feed::feed_items(bytes, base)
}

/// How many items went which way.
#[derive(Debug, Default)]
struct Tally {
    new: usize,
    unchanged: usize,
    updated: usize,
    duplicates: usize,
    failed: usize,
}

pub fn run(source: &str, into: &Path) -> anyhow::Result<ExitCode> {
    let source = Source::parse(source)?;
    let bytes = source.read()?;
    let items = read_items(&bytes, source.base()).with_context(|| format!("reading {source}"))?;
    let mut folder = Folder::open(into)?;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let mut tally = Tally::default();
    for item in &items.items {
        match folder.place(item) {
            Ok((outcome, path)) => {
                match outcome {
                    Outcome::New => tally.new += 1,
                    Outcome::Unchanged => tally.unchanged += 1,
                    Outcome::Updated => tally.updated += 1,
                    Outcome::Duplicate => {
                        tally.duplicates += 1;
                        writeln!(
                            err,
                            "seedfeed: item {}: skipped, an item before it has its id ({})",
                            item.label(),
                            path.display()
                        )?;
                        continue;
                    }
                }
                writeln!(out, "{outcome}: {}", path.display())?;
            }
            Err(error) => {
                tally.failed += 1;
                writeln!(err, "seedfeed: item {}: {error:#}", item.label())?;
            }
        }
    }
    writeln!(out, "{}", summary(&tally, &items.skipped))?;
    Ok(if tally.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `imported 120 items: 118 new, 2 unchanged, 0 updated`, then what was skipped and
/// what failed, if anything.
fn summary(tally: &Tally, skipped: &BTreeMap<String, usize>) -> String {
    let imported = tally.new + tally.unchanged + tally.updated;
    let mut line = format!(
        "imported {imported} items: {} new, {} unchanged, {} updated",
        tally.new, tally.unchanged, tally.updated
    );
    let mut skips: Vec<String> = skipped
        .iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect();
    if tally.duplicates > 0 {
        skips.push(format!(
            "{} with the id of an item before",
            tally.duplicates
        ));
    }
    if !skips.is_empty() {
        line.push_str(&format!("; skipped {}", skips.join(", ")));
    }
    if tally.failed > 0 {
        line.push_str(&format!("; {} failed", tally.failed));
    }
    line
}
