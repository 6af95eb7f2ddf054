//! The folder an import writes into: which of its files holds which item, and putting
//! each item's file in place.
//!
//! An item's file is `{slug of the title}-{hash of the id}.md`. The hash ends the name,
//! so a later run finds an item's file by it even when the title has changed since, and
//! keeps the name (the name is the entry's key, which must not change). Names are slugs,
//! so nothing is written outside the folder; a symlink is never written through.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use super::Item;
use crate::commands::article_file::{
    article_text, existing, file_slug, html_body, one_line, write_replacing, written_id,
};

/// Hex digits of the id's hash in a file name: 40 bits, so two items of one title
/// do not meet in any real site.
const HASH_HEX: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    New,
    Unchanged,
    Updated,
    /// A second item of the source with the id of one before it: not written.
    Duplicate,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::New => "new",
            Self::Unchanged => "unchanged",
            Self::Updated => "updated",
            Self::Duplicate => "duplicate",
        })
    }
}

pub struct Folder {
    dir: PathBuf,
    /// The name of the file of each id hash found in the folder or written.
    by_hash: HashMap<String, String>,
    /// The id hashes of the items placed by this run.
    placed: HashSet<String>,
}

impl Folder {
    /// The folder, created if missing, and the files in it an import wrote.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut by_hash = HashMap::new();
        let listing =
            std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
        for entry in listing {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            // A name that is not UTF-8 was not written by an import.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if let Some(hash) = name_hash(&name) {
                by_hash.insert(hash.to_owned(), name);
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            by_hash,
            placed: HashSet::new(),
        })
    }

    /// Writes the item's file, or finds it already there; returns what happened and
    /// its path.
    pub fn place(&mut self, item: &Item) -> anyhow::Result<(Outcome, PathBuf)> {
        let hash = id_hash(item);
        let name = match self.by_hash.get(&hash) {
            Some(name) => name.clone(),
            None => format!(
                "{}-{hash}.md",
                file_slug(item.front.title.as_deref().unwrap_or(""))
            ),
        };
        let path = self.dir.join(&name);
        if !self.placed.insert(hash.clone()) {
            return Ok((Outcome::Duplicate, path));
        }
        let text = article_text(&item.front, &html_body(&item.html))?;
        let outcome = match existing(&path)? {
            None => Outcome::New,
            Some(old) if old == text.as_bytes() => return Ok((Outcome::Unchanged, path)),
            Some(old) => {
                let old_id = written_id(&String::from_utf8_lossy(&old));
                let id = item.front.id.as_deref().map(one_line);
                if old_id != id {
                    bail!(
                        "{} holds another item (id {old_id:?}); not replaced",
                        path.display()
                    );
                }
                Outcome::Updated
            }
        };
        write_replacing(&self.dir, &name, &text)?;
        self.by_hash.insert(hash, name);
        Ok((outcome, path))
    }
}

/// The hash that ends an item's file name: of its id, or, for an item with neither id
/// nor link, of its title and date, which are then all that tell it apart.
fn id_hash(item: &Item) -> String {
    let identity = match &item.front.id {
        Some(id) => one_line(id),
        None => format!(
            "{}\n{:?}",
            item.front.title.as_deref().unwrap_or(""),
            item.front.published
        ),
    };
    let digest = Sha256::digest(identity.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..HASH_HEX].to_owned()
}

/// The id hash at the end of a file name an import wrote (`title-0123456789.md`).
fn name_hash(name: &str) -> Option<&str> {
    if name.starts_with('.') {
        return None;
    }
    let stem = name.strip_suffix(".md")?;
    let (_, hash) = stem.rsplit_once('-')?;
    let is_hash = hash.len() == HASH_HEX
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    is_hash.then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_end_with_the_hash() {
        assert_eq!(name_hash("hello-0123456789.md"), Some("0123456789"));
        assert_eq!(name_hash("untitled-abcdefabcd.md"), Some("abcdefabcd"));
        assert_eq!(name_hash("hello.md"), None);
        assert_eq!(name_hash("hello-012345678.md"), None);
        assert_eq!(name_hash("hello-ABCDEFABCD.md"), None);
        assert_eq!(name_hash(".hello-0123456789.md.tmp"), None);
        assert_eq!(name_hash(".hello-0123456789.md"), None);
    }
}
