//! One file of the seeds folder to a store change: a safe read (`watch`), parse and
//! normalize. Pure but for the read, and used by the daemon, `seedfeed check` and
//! `seedfeed parse` alike, so that all three see a file the same way.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use chrono::Utc;

use crate::http::MediaFiles;
use crate::model::{Article, EntryKey, FileStamp, FrontMatter};
use crate::normalize::{ArticleMedia, EntryContext, media_references, normalize_with_media};
use crate::parse::media::{MediaInfo, media_format, probe};
use crate::parse::parse_file;
use crate::store::{FileChange, Hold, MediaRef};
use crate::watch::{SeedFolder, SeedRead, Settled, path_format, path_key, stamp_of};

/// Turns one file of a folder into a store change: safe read, parse, normalize.
#[derive(Debug, Clone)]
pub struct ArticleReader {
    pub folder: SeedFolder,
    pub max_file_bytes: u64,
    /// The ids' namespace and the base URL relative links are resolved against.
    pub context: EntryContext,
}

impl ArticleReader {
    /// Reads one file safely, parses and normalizes it: the change it makes to the store.
    /// Repairs are logged here, with the path, once per version of the file.
    pub fn read(&self, path: &str, key: EntryKey) -> FileChange {
        let read = self.folder.read(path, self.max_file_bytes);
        self.change_of(path, key, read)
    }

    /// Like [`Self::read`], for a file listed without a look: `None`, and nothing read,
    /// when it changed within `settle` before `wall`.
    fn read_if_still(
        &self,
        path: &str,
        key: EntryKey,
        settle: Duration,
        wall: SystemTime,
    ) -> Option<FileChange> {
        let read = self
            .folder
            .read_if_still(path, self.max_file_bytes, settle, wall)?;
        Some(self.change_of(path, key, read))
    }

    /// The change that what was read makes.
    fn change_of(&self, path: &str, key: EntryKey, read: SeedRead) -> FileChange {
        let path = path.to_owned();
        let (bytes, stamp) = match read {
            SeedRead::Read { bytes, stamp } => (bytes, stamp),
            SeedRead::Gone => return FileChange::Removed { path },
            SeedRead::Rejected { stamp, reason } => {
                return FileChange::Rejected {
                    path,
                    key,
                    stamp,
                    reason,
                };
            }
        };
        let format = path_format(&path).unwrap_or_default();
        let parsed = match parse_file(format, &bytes) {
            Ok(parsed) => parsed,
            Err(reason) => {
                return FileChange::Rejected {
                    path,
                    key,
                    stamp,
                    reason,
                };
            }
        };
        for warning in &parsed.warnings {
            tracing::warn!(path = %path, %warning, "article repaired");
        }
        if let Some(hold) = hold(&parsed.article.front) {
            return FileChange::Held {
                path,
                key,
                stamp,
                hold,
            };
        }
        let (media, refs) = self.probe_media(&parsed.article, &path);
        let (draft, media_warnings) =
            normalize_with_media(key, &parsed.article, &self.context, &media);
        for warning in &media_warnings {
            tracing::warn!(path = %path, %warning, "media reference left out");
        }
        // What the front matter said that was ignored, and the media files it or the
        // body names that cannot be linked, are the author's to fix, so they are listed;
        // the repairs of the text (an encoding, a long first line) are only logged, as
        // they always were.
        let warnings = parsed
            .warnings
            .iter()
            .filter(|warning| warning.is_about_front_matter())
            .map(ToString::to_string)
            .chain(media_warnings)
            .collect();
        FileChange::Article {
            draft,
            path,
            stamp,
            warnings,
            media: refs,
        }
    }

    /// Opens each media file the article at `path` references, under the safe-open
    /// rules of `/media/`, and reads its header: one open and one bounded read a file.
    /// Also each file's stamp as found, for the store (see [`MediaRef`]).
    fn probe_media(&self, article: &Article, path: &str) -> (ArticleMedia, Vec<MediaRef>) {
        let references = media_references(article, path);
        let mut files = HashMap::new();
        let mut refs = Vec::new();
        for media_path in references.paths(path) {
            let (facts, stamp) = self.probe_one(&media_path);
            refs.push(MediaRef {
                path: media_path.clone(),
                stamp,
            });
            files.insert(media_path, facts);
        }
        let media = ArticleMedia {
            path: path.to_owned(),
            references,
            files,
        };
        (media, refs)
    }

    /// The header facts of one media file, or why there are none; and its stamp: the
    /// opened file's, or, when it cannot be opened, what a scan would find there (a
    /// `stat`, only then), so that the reconcile scan compares like with like.
    fn probe_one(&self, media_path: &str) -> (Result<MediaInfo, String>, Option<FileStamp>) {
        let Some(format) = media_format(media_path) else {
            return (Err("not a media file".to_owned()), None);
        };
        let opened = match self.folder.open(media_path) {
            Ok(opened) => opened,
            Err(error) => return (Err(error.to_string()), self.folder.media_stamp(media_path)),
        };
        let stamp = stamp_of(&opened.metadata);
        let length = opened.metadata.len();
        // Unbuffered: the probe reads through its own buffer, which a seek within keeps;
        // a `BufReader` under it would read each part of the header twice over.
        let facts = probe(format, opened.file, length).map_err(|e| e.to_string());
        (facts, Some(stamp))
    }
}

/// Why an article is not to be published yet, if it is not: a draft, or dated in the
/// future (due then).
fn hold(front: &FrontMatter) -> Option<Hold> {
    if front.draft {
        return Some(Hold::Draft);
    }
    front
        .published
        .filter(|date| *date > Utc::now())
        .map(Hold::Until)
}

/// Settled paths, read: the changes they make to the store, in their order, and the
/// paths listed without a look that turned out to be still changing (they settle again).
#[derive(Debug, Default)]
pub(super) struct ReadChunk {
    pub(super) changes: Vec<FileChange>,
    pub(super) changing: Vec<String>,
}

impl ReadChunk {
    /// How many settled paths it answers for.
    pub(super) fn len(&self) -> usize {
        self.changes.len() + self.changing.len()
    }
}

/// Reads settled paths; a listed one only if it has been still for `settle`.
pub(super) fn read_changes<'a>(
    reader: &ArticleReader,
    settled: impl Iterator<Item = (Settled, &'a str)>,
    settle: Duration,
) -> ReadChunk {
    let wall = SystemTime::now();
    let mut chunk = ReadChunk::default();
    for (how, path) in settled {
        let key = path_key(path).filter(|_| how != Settled::Absent);
        let Some(key) = key else {
            let removed = FileChange::Removed {
                path: path.to_owned(),
            };
            chunk.changes.push(removed);
            continue;
        };
        if how == Settled::Present {
            chunk.changes.push(reader.read(path, key));
        } else if let Some(change) = reader.read_if_still(path, key, settle, wall) {
            chunk.changes.push(change);
        } else {
            chunk.changing.push(path.to_owned());
        }
    }
    chunk
}
