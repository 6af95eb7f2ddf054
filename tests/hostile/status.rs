//! What `/status` and the JSON feed say: the files set aside, and the state a restart
//! must not change.

use std::collections::BTreeMap;

use crate::common::daemon::TestDaemon;

/// The files `/status` lists as rejected (path and reason) and as duplicates (path and
/// the path of the file they repeat).
pub struct SetAside {
    pub rejects: BTreeMap<String, String>,
    pub duplicates: BTreeMap<String, String>,
}

impl SetAside {
    pub fn of(status: &serde_json::Value) -> Self {
        Self {
            rejects: pairs_of(status, "rejects", "path", "reason"),
            duplicates: pairs_of(status, "duplicates", "path", "duplicate_of"),
        }
    }
}

fn pairs_of(
    value: &serde_json::Value,
    list: &str,
    key: &str,
    of: &str,
) -> BTreeMap<String, String> {
    value[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
            (text(key), text(of))
        })
        .collect()
}

/// What a restart must not change: each entry's id and title in `/feed.json`, and the
/// files `/status` sets aside, with their reasons.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    entries: BTreeMap<String, String>,
    rejects: BTreeMap<String, String>,
    duplicates: BTreeMap<String, String>,
}

impl State {
    pub async fn of(daemon: &TestDaemon) -> Self {
        let feed = daemon.json("/feed.json").await;
        let status = daemon.json("/status").await;
        let SetAside {
            rejects,
            duplicates,
        } = SetAside::of(&status);
        Self {
            entries: pairs_of(&feed, "items", "id", "title"),
            rejects,
            duplicates,
        }
    }
}
