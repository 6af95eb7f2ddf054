//! Which names in the seeds folder are articles, their format and the entry key each
//! gives: the extension, hidden files and the temporaries editors and transfer tools
//! leave. The one place the rule lives: the scans, the watchers, `check` and `parse` all
//! ask here.
//!
//! A Markdown or HTML article named `index` in a subfolder is a page bundle, as Hugo, Zola
//! and Eleventy lay them out (`posts/my-post/index.md`, its images beside it): its key is
//! its folder's name, since every bundle's file has the same name. A `_index` file is the
//! list page of a section in Hugo and Zola: not an article. Images, audio and video,
//! and an episode's transcripts (`.vtt`, `.srt`) and chapters (`{name}.chapters.json`)
//! (the formats of `parse::media`) are assets: served and exported, never read.

use crate::model::{EntryKey, Format};
use crate::parse::media::media_format;

/// The extensions of article files (compared without regard to case), and their formats.
const ARTICLE_EXTENSIONS: &[(&str, Format)] = &[
    ("txt", Format::Plain),
    ("md", Format::Markdown),
    ("markdown", Format::Markdown),
    ("html", Format::Html),
    ("htm", Format::Html),
];

/// Why a file that is neither hidden nor a temporary is not read, as `check` and the
/// status show it.
const NOT_ARTICLE_REASON: &str =
    "not an article: only .txt, .md, .markdown, .html and .htm files are read";

/// The file name (without extension) of a page bundle's article.
const BUNDLE_STEM: &str = "index";

/// The file name (without extension) of a section's list page in Hugo and Zola.
const LIST_PAGE_STEM: &str = "_index";

const LIST_PAGE_REASON: &str =
    "not an article: a section's list page (`_index`, as Hugo and Zola name them)";

/// Extensions of the temporaries editors and download or transfer tools write beside a
/// file: vim's swap files, `.tmp`, partial downloads.
const TEMPORARY_EXTENSIONS: &[&str] = &["swp", "swo", "swx", "tmp", "part", "crdownload"];

/// What a file name in the seeds folder is to the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedName {
    /// An article, with its entry key.
    Article(EntryKey),
    /// A file someone put there that is not read: shown, with the reason, so that whoever
    /// copied a `.md` file in sees why it did nothing.
    NotArticle(&'static str),
    /// An image, audio or video file, a transcript or chapters (`parse::media`): an
    /// asset, served under `/media/` and exported with the documents, never read as an
    /// article nor listed as a file that is not one.
    Asset,
    /// Hidden files and editor or transfer temporaries (`.name.XXXXXX` from rsync, `.#name`
    /// and `#name#` from Emacs, `name~` backups, `.swp`, `.tmp`, `.part`, vim's `4913`
    /// probe): never read, never shown. They come and go with every save.
    Ignored,
}

/// What the file name is: an article (and its key), a file that is not one, or a
/// hidden file or temporary.
pub fn seed_name(file_name: &str) -> SeedName {
    if file_name.starts_with(['.', '#']) || file_name.ends_with(['~', '#']) || file_name == "4913" {
        return SeedName::Ignored;
    }
    let Some((stem, extension)) = file_name.rsplit_once('.') else {
        return SeedName::NotArticle(NOT_ARTICLE_REASON);
    };
    if TEMPORARY_EXTENSIONS
        .iter()
        .any(|temporary| extension.eq_ignore_ascii_case(temporary))
    {
        SeedName::Ignored
    } else if !stem.is_empty() && media_format(file_name).is_some() {
        SeedName::Asset
    } else if stem.is_empty() || format_of_extension(extension).is_none() {
        SeedName::NotArticle(NOT_ARTICLE_REASON)
    } else {
        SeedName::Article(EntryKey::new(stem))
    }
}

/// The entry key of a file name, or `None` when the name is not an article's (see
/// [`seed_name`]).
pub fn seed_key(file_name: &str) -> Option<EntryKey> {
    match seed_name(file_name) {
        SeedName::Article(key) => Some(key),
        SeedName::NotArticle(_) | SeedName::Asset | SeedName::Ignored => None,
    }
}

/// The entry key of an article file by its path relative to the seeds folder: its file
/// name's, wherever the subfolder, or a page bundle's folder name.
pub fn path_key(relative: &str) -> Option<EntryKey> {
    match path_name(relative) {
        SeedName::Article(key) => Some(key),
        SeedName::NotArticle(_) | SeedName::Asset | SeedName::Ignored => None,
    }
}

/// What a file is by its path relative to the seeds folder (see [`seed_name`]), with the
/// rules of page bundles and list pages for Markdown and HTML (the module's doc).
pub fn path_name(relative: &str) -> SeedName {
    let name = seed_name(file_name(relative));
    if !matches!(name, SeedName::Article(_)) || path_format(relative) == Some(Format::Plain) {
        return name;
    }
    match key_part(relative) {
        LIST_PAGE_STEM => SeedName::NotArticle(LIST_PAGE_REASON),
        key => SeedName::Article(EntryKey::new(key)),
    }
}

/// The key of an article's path, borrowed: its file name without the extension, or a
/// page bundle's folder name, which is what [`path_key`] gives an article (for sorting
/// many paths without a key each).
pub fn key_part(relative: &str) -> &str {
    let name = file_name(relative);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let folder = relative
        .rsplit_once('/')
        .map(|(parent, _)| file_name(parent))
        .filter(|folder| !folder.is_empty());
    match folder {
        Some(folder) if stem == BUNDLE_STEM && path_format(name) != Some(Format::Plain) => folder,
        _ => stem,
    }
}

/// The format of an article by its path (relative to the seeds folder, or any path):
/// `None` when the extension is not an article's.
pub fn path_format(path: &str) -> Option<Format> {
    let (_, extension) = file_name(path).rsplit_once('.')?;
    format_of_extension(extension)
}

fn format_of_extension(extension: &str) -> Option<Format> {
    ARTICLE_EXTENSIONS
        .iter()
        .find(|(known, _)| extension.eq_ignore_ascii_case(known))
        .map(|&(_, format)| format)
}

/// The file name part of a relative path.
fn file_name(relative: &str) -> &str {
    relative.rsplit_once('/').map_or(relative, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_borrowed_key_is_the_key() {
        for path in [
            "a.txt",
            "x/y/b.TXT",
            "c.d.txt",
            "sub.dir/e.txt",
            "p/trip/index.md",
            "p/index.txt",
        ] {
            let key = path_key(path).unwrap();
            assert_eq!(key_part(path), key.as_str(), "{path}");
        }
    }

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
            ".md",
            "notes.docx",
            "README",
        ] {
            assert!(seed_key(name).is_none(), "{name}");
        }
    }

    /// Media files are assets, whatever the case of their extension; hidden ones and
    /// temporaries are still ignored, and a bare extension is not a name.
    #[test]
    fn media_files_are_assets() {
        for name in [
            "photo.jpg",
            "Cover.PNG",
            "episode.mp3",
            "clip.webm",
            "a.b.opus",
            "episode.vtt",
            "episode.SRT",
            "episode.chapters.json",
        ] {
            assert_eq!(seed_name(name), SeedName::Asset, "{name}");
            assert_eq!(path_key(&format!("posts/{name}")), None, "{name}");
        }
        for name in [".photo.jpg", "photo.jpg.part", "photo.jpg~"] {
            assert_eq!(seed_name(name), SeedName::Ignored, "{name}");
        }
        assert_eq!(
            seed_name("photo.jpeg.zip"),
            SeedName::NotArticle(NOT_ARTICLE_REASON)
        );
        // JSON is an asset only as chapters; any other is a file that is not an article,
        // as before chapters were served.
        for name in ["data.json", "chapters.json", "episode.chapter.json"] {
            assert_eq!(
                seed_name(name),
                SeedName::NotArticle(NOT_ARTICLE_REASON),
                "{name}"
            );
        }
        assert_eq!(seed_name(".episode.chapters.json"), SeedName::Ignored);
    }

    /// A file that is not an article is shown, unless it is hidden or a temporary,
    /// which come and go with every save.
    #[test]
    fn files_that_are_not_articles_are_told_from_temporaries() {
        for name in ["notes.docx", "page.php", "README", "a.TXT.bak", "a.md.orig"] {
            assert_eq!(
                seed_name(name),
                SeedName::NotArticle(NOT_ARTICLE_REASON),
                "{name}"
            );
        }
        for name in [
            ".hidden.txt",
            ".notes.md",
            ".a.txt.Xy12Zq",
            ".#a.txt",
            "#a.txt#",
            "a.txt~",
            "a.md~",
            "a.txt.swp",
            "a.txt.SWO",
            "a.txt.tmp",
            "a.txt.part",
            "a.md.crdownload",
            "4913",
        ] {
            assert_eq!(seed_name(name), SeedName::Ignored, "{name}");
        }
        assert_eq!(
            path_name("2026/a.txt"),
            SeedName::Article(EntryKey::new("a"))
        );
        assert!(matches!(
            path_name("2026/notes.docx"),
            SeedName::NotArticle(_)
        ));
    }

    #[test]
    fn the_extension_gives_the_format() {
        for (path, format) in [
            ("a.txt", Format::Plain),
            ("2026/a.MD", Format::Markdown),
            ("a.markdown", Format::Markdown),
            ("b.html", Format::Html),
            ("b.HTM", Format::Html),
        ] {
            assert_eq!(path_format(path), Some(format), "{path}");
            assert!(path_key(path).is_some(), "{path}");
        }
        assert_eq!(path_format("a.docx"), None);
        assert_eq!(path_key("post.md").unwrap().as_str(), "post");
    }

    /// Page bundles are named by their folder, in Markdown and HTML; a seed named
    /// `index.txt` keeps its key, as before there were bundles.
    #[test]
    fn a_page_bundle_is_named_by_its_folder() {
        for (path, key) in [
            ("posts/my-post/index.md", "my-post"),
            ("2024/a-trip/index.markdown", "a-trip"),
            ("pages/about/index.html", "about"),
            ("index.md", "index"),
            ("posts/index.txt", "index"),
            ("posts/indexes.md", "indexes"),
            ("posts/Index.md", "Index"),
        ] {
            assert_eq!(path_key(path).unwrap().as_str(), key, "{path}");
            assert_eq!(key_part(path), key, "{path}");
        }
        for path in ["_index.md", "posts/_index.md", "docs/_index.html"] {
            assert_eq!(
                path_name(path),
                SeedName::NotArticle(LIST_PAGE_REASON),
                "{path}"
            );
        }
        assert!(path_key("posts/_index.txt").is_some());
    }
}
