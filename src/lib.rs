//! seedfeed: a syndication daemon. It watches a folder of plain-text articles and serves
//! them as RSS 2.0, Atom 1.0 and JSON Feed over HTTP.
//!
//! ```text
//! seeds/*.txt --watch--> ingest --parse--> Article --normalize--> EntryDraft --store--> SQLite
//!                                                                                |    |
//!                   HTTP <--http-- Snapshot (feeds, pre-rendered) <--render------+    |
//!                        <--http-- pages (entry and archive pages, cached) <--read----+
//! ```
//!
//! Data flows one way. `parse` and `normalize` are pure; `store` is the only module that
//! knows SQL; `render` knows nothing of SQLite; `http` only looks documents up in the
//! current snapshot or asks `pages`; `daemon` is the only place that spawns tasks and
//! handles signals.

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
