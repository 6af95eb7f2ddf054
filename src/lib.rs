//! seedfeed: a syndication daemon. It watches a folder of plain-text articles and serves
//! them as RSS 2.0, Atom 1.0 and JSON Feed over HTTP, and pushes changes over WebSub.
//!
//! ```text
//! seeds/ --watch--> ingest --parse--> Article --normalize--> EntryDraft --store--> SQLite
//!                                                                                    |
//!        HTTP <--http-- Snapshot (feeds, index, lists) <--publish (render, compress)-+
//!             <--http-- Pages (entry and archive pages, read and cached) <-----------+
//!                       Snapshot --websub--> hubs and subscribers (store's outbox)
//! ```
//!
//! One module per stage, and imports run one way, down this list (`tests/imports.rs`
//! checks it):
//!
//! - `model`, `config`, `logging`: the shared vocabulary, the settings, the logs;
//! - `parse`: bytes to an `Article`; pure;
//! - `normalize`: an `Article` to an `EntryDraft` (ids, slugs, escaped HTML); pure;
//! - `store`: SQLite, the only module that knows SQL (entries, files, the push outbox);
//! - `render`: entries to documents, knowing nothing of SQLite or HTTP; `publish`:
//!   stored entries to the snapshot served, the pages, the status, and the static export;
//! - `http`: the server, which looks documents up in the snapshot and the pages;
//!   `websub`: push to hubs and subscribers;
//! - `watch`: the seeds folder (names, scans, safe reads, events, settling); `ingest`:
//!   the driver from settled files to a new snapshot;
//! - `daemon`: start-up, signals and systemd; `cli`, `commands`: the command line.
//!
//! `docs/architecture.md` has the threads and channels.

pub mod activitypub;
pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod http;
pub mod ingest;
pub mod logging;
pub mod model;
pub mod normalize;
pub mod parse;
pub mod publish;
pub mod render;
pub mod store;
pub mod watch;
pub mod websub;
