//! RFC 3229 with the `feed` instance manipulation ("RFC 3229+feed"): a reader that sends
//! `A-IM: feed` and the ETag of a version it holds gets only the entries added or changed
//! since, plus the tombstones of entries it had. The recent versions of each feed are
//! remembered here, in memory: after a restart, old ETags are unknown and get the full
//! document, which is always a correct answer. A version's deltas together hold no more
//! entries than the feed itself, newest bases first; older bases get the whole document.
//! A delta's gzip and brotli variants are computed with its document's, once per version.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::document::kept_bytes;
use super::{Delta, FeedDoc, Format, RenderError, Site, render_feed};

/// How many earlier versions of each feed a delta can start from.
const KEEP: usize = 16;

/// One rendered version of a feed: its ETag and what each entry looked like in it.
#[derive(Debug)]
struct Version {
    etag: String,
    updated_by_id: HashMap<String, DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct History {
    by_path: HashMap<String, VecDeque<Version>>,
}

impl History {
    /// Records a new version of the feed at `path` and renders its deltas against the
    /// earlier versions still kept, newest base first.
    pub fn advance(
        &mut self,
        site: &Site,
        feed: &FeedDoc<'_>,
        format: Format,
        etag: &str,
    ) -> Result<Vec<Delta>, RenderError> {
        let versions = self.by_path.entry(feed.path(format)).or_default();
        if versions.back().is_none_or(|v| v.etag != etag) {
            versions.push_back(Version {
                etag: etag.to_owned(),
                updated_by_id: feed
                    .entries
                    .iter()
                    .map(|e| (e.draft.id.to_string(), e.updated))
                    .collect(),
            });
            while versions.len() > KEEP + 1 {
                versions.pop_front();
            }
        }
        let mut deltas = Vec::with_capacity(versions.len().saturating_sub(1));
        // Entries in the deltas rendered so far: together they hold at most as many as
        // the feed (see below).
        let mut spent = 0;
        for base in versions.iter().rev().skip(1) {
            let entries: Vec<_> = feed
                .entries
                .iter()
                .filter(|e| base.updated_by_id.get(&e.draft.id.to_string()) != Some(&e.updated))
                .cloned()
                .collect();
            // A delta of most of the feed saves a reader little, and older bases differ
            // as much or more: they get the whole document. Without this, a feed that
            // changes wholly at every snapshot (a big ingest publishing as it goes)
            // kept KEEP near-copies of itself per format.
            if entries.len() * 2 > feed.entries.len() {
                break;
            }
            // Each base's delta repeats the entries of the newer ones: the KEEP deltas of
            // a feed that gained one entry a version would hold 136 entries, nearly
            // three copies of a feed of 50, in every format of every section's feed.
            // Past the feed's own size, the older bases get the whole document, so the
            // deltas at most double what a version of a feed takes in memory.
            spent += entries.len();
            if spent > feed.entries.len() {
                break;
            }
            let tombstones: Vec<_> = feed
                .tombstones
                .iter()
                .filter(|t| base.updated_by_id.contains_key(&t.id.to_string()))
                .cloned()
                .collect();
            let delta = FeedDoc {
                entries: &entries,
                tombstones: &tombstones,
                ..*feed
            };
            // Compressed with the document (`Document::compressed`), after it is served.
            deltas.push(Delta {
                base_etag: base.etag.clone(),
                body: kept_bytes(render_feed(site, &delta, format)?),
                gzip: None,
                brotli: None,
            });
        }
        Ok(deltas)
    }

    /// Forgets a feed that is no longer served.
    pub fn forget(&mut self, path: &str) {
        self.by_path.remove(path);
    }
}
