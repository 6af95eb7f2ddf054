//! The test harness: one copy of every fixture and helper the test files share, a module
//! per job.
//!
//! - [`daemon`]: a real daemon in this process, on a loopback port over temp folders, and
//!   the HTTP client that talks to it.
//! - [`binary`]: the `seedfeed` binary as a child process.
//! - [`crawl`]: every document a daemon serves, found by following its links.
//! - [`http1`]: requests written and answers read byte for byte, on the wire.
//! - [`export`]: `seedfeed render --out` and `seedfeed backup`, the files an export writes
//!   by the paths they serve, and two exports compared.
//! - [`poll`]: bounded polls, never timed assertions.
//! - [`articles`]: article texts, the seeds of the repository, and how files land.
//! - [`changes`]: what the watcher hands the store, built by hand.
//! - [`site`]: the site, fixed clock and entries of the tests that render on their own.
//! - [`feeds`]: reading our documents back as a reader does.
//! - [`pipeline_invariant`]: the invariant of parse → normalize → render for any input.
//! - [`xss`]: known XSS payloads, and the check that HTML, a page of ours or a feed is
//!   safe to show.
//! - [`media_files`]: the media fixtures (images, audio, video) and what their headers say.
//! - [`tls_proxy`]: nginx as an https proxy on loopback, with a throwaway CA.
//! - [`fedify`]: the Fedify follower of `tests/fediverse/`, driven line by line.
//!
//! `site`, `feeds` and `pipeline_invariant` are pure and use no crate the fuzz target
//! lacks: it includes those three files as they are.

#![allow(dead_code)] // each test file uses a different part of the harness
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

pub mod articles;
pub mod binary;
pub mod changes;
pub mod crawl;
pub mod daemon;
pub mod export;
pub mod fedify;
pub mod feeds;
pub mod http1;
pub mod media_files;
pub mod pipeline_invariant;
pub mod poll;
pub mod site;
pub mod tls_proxy;
pub mod xss;
