//! Which names in the seeds folder are articles, and the entry key each gives: the
//! extension, hidden files and the temporaries editors and transfer tools leave.

use crate::model::EntryKey;

/// The extension of article files (compared without regard to case).
const SEED_EXTENSION: &str = "txt";

/// The entry key of a file name, or `None` when the name is not an article's: hidden
/// files and editor or transfer temporaries (`.name.XXXXXX` from rsync, `.#name` and
/// `#name#` from Emacs, `name~` backups, `.swp`, `.tmp`, `.part`, vim's `4913` probe) are
/// never read.
pub fn seed_key(file_name: &str) -> Option<EntryKey> {
    if file_name.starts_with(['.', '#']) || file_name.ends_with(['~', '#']) {
        return None;
    }
    let (stem, extension) = file_name.rsplit_once('.')?;
    if stem.is_empty() || !extension.eq_ignore_ascii_case(SEED_EXTENSION) {
        return None;
    }
    Some(EntryKey::new(stem))
}

/// The entry key of an article file by its path relative to the seeds folder: its file
/// name's, wherever the subfolder.
pub fn path_key(relative: &str) -> Option<EntryKey> {
    seed_key(file_name(relative))
}

/// The file name part of a relative path.
fn file_name(relative: &str) -> &str {
    relative.rsplit_once('/').map_or(relative, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_names() {
        for name in [
            "000_9b018788d1e41f8c.txt",
            "a.TXT",
            "with space.txt",
            "a.b.txt",
        ] {
            assert!(seed_key(name).is_some(), "{name}");
        }
        assert_eq!(seed_key("a.b.txt").unwrap().as_str(), "a.b");
        for name in [
            ".hidden.txt",
            ".a.txt.Xy12Zq",
            ".#a.txt",
            "#a.txt#",
            "a.txt~",
            "a.txt.swp",
            "a.txt.tmp",
            "a.txt.part",
            "4913",
            ".txt",
            "notes.md",
            "README",
        ] {
            assert!(seed_key(name).is_none(), "{name}");
        }
    }
}
