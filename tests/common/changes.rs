//! What the watcher hands the store, built by hand: each change of a file stamped with a
//! fixed time.

use chrono::{DateTime, Utc};
use seedfeed::model::FileStamp;
use seedfeed::model::{EntryDraft, EntryKey, RejectReason};
use seedfeed::store::FileChange;

/// A file of 100 bytes last modified at `mtime`.
pub fn stamp(mtime: DateTime<Utc>) -> FileStamp {
    FileStamp {
        size: 100,
        mtime_ns: mtime.timestamp_nanos_opt().unwrap(),
    }
}

/// The file at `path` read as an article, last modified at `mtime`.
pub fn article(path: &str, draft: EntryDraft, mtime: DateTime<Utc>) -> FileChange {
    FileChange::Article {
        path: path.into(),
        stamp: stamp(mtime),
        draft,
        warnings: Vec::new(),
        media: Vec::new(),
    }
}

/// The file at `path` (of the key `key`) set aside for `reason`.
pub fn rejected(path: &str, key: &str, stamp: FileStamp, reason: RejectReason) -> FileChange {
    FileChange::Rejected {
        path: path.into(),
        key: EntryKey::new(key),
        stamp,
        reason,
    }
}

pub fn removed(path: &str) -> FileChange {
    FileChange::Removed { path: path.into() }
}
