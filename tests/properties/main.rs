//! Property tests of the whole pipeline, parse → normalize → render, on inputs no one
//! wrote by hand: arbitrary bytes, bytes that look like text, and "article-shaped" text
//! built from the fragments that break feeds (markup, entities, `]]>`, control and
//! non-characters, odd line ends and blank-line runs, very long lines), encoded as UTF-8,
//! Windows-1252 or UTF-16, with or without a byte order mark.
//!
//! Each test is named for the invariant it checks. A failure prints the shrunk input (as
//! escaped bytes, with the text and encoding it was made from). The case count is bounded
//! for CI; `PROPTEST_CASES` overrides it. Failures are not persisted to files: a failing
//! input found here belongs in a named regression test.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

#[path = "../common/mod.rs"]
mod common;
mod dates;
mod inputs;

use std::collections::BTreeMap;

use common::pipeline_invariant::{
    Fault, accepted, escaped, read_back, render, stable, well_formed,
};
use inputs::{any_input, arbitrary_bytes, article_shaped, key};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use seedfeed::normalize::looks_like_html;
use seedfeed::parse::{ParseWarning, parse_article};

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

/// The cases of one test: `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A broken part of the invariant fails the property, with what broke and where.
impl From<Fault> for TestCaseError {
    fn from(fault: Fault) -> Self {
        TestCaseError::fail(fault.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1024))]

    /// No byte sequence panics the parser; whatever it accepts has a title, and its
    /// fields are clean (see the next property).
    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes(input in arbitrary_bytes()) {
        accepted(&input.bytes)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Every field of an accepted article is one clean line: no `\r`, no C0 control but
    /// tab, no U+FFFE/U+FFFF (nor anything else the decoder removes), no leading or
    /// trailing whitespace, whitespace runs collapsed; the title is not empty.
    #[test]
    fn accepted_articles_have_clean_trimmed_fields_and_a_title(input in any_input()) {
        accepted(&input.bytes)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Every XML document (feeds in RSS and Atom, section feeds, archive pages, the OPML
    /// list) is well-formed and holds, literally or by reference, only characters XML 1.0
    /// allows; the JSON feeds are JSON.
    #[test]
    fn every_document_is_well_formed_xml_or_json(input in any_input(), key in key()) {
        if let Some(r) = render(&input.bytes, &key)? {
            well_formed(&r)?;
        }
    }

    /// feed-rs reads the main feed back in every format and finds the entry by its id,
    /// with a title: in Atom and JSON Feed the article's title exactly (Atom's
    /// `type="html"` unescaped), in RSS the same as a reader shows it.
    #[test]
    fn every_feed_reads_back_with_the_entry_and_its_title(input in any_input(), key in key()) {
        if let Some(r) = render(&input.bytes, &key)? {
            read_back(&r)?;
        }
    }

    /// The index and the entry's page hold only the templates' markup: every character of
    /// the article is escaped, so no `<script` (nor any other tag or attribute) comes
    /// from it, and its title and body appear escaped.
    #[test]
    fn html_pages_escape_every_character_of_the_article(input in any_input(), key in key()) {
        if let Some(r) = render(&input.bytes, &key)? {
            escaped(&r)?;
        }
    }

    /// The same input renders to the same bytes, every document of the snapshot; the
    /// entry's id is the same each time and is the UUIDv5 of the key.
    #[test]
    fn rendering_is_byte_stable_and_the_id_derives_from_the_key(input in any_input(), key in key()) {
        stable(&input.bytes, &key)?;
    }
}

/// The article-shaped strategy is only worth its cases if most of them parse and they
/// reach every branch of the parser: checked on a fixed sample, so it cannot go
/// vacuous unnoticed.
#[test]
fn article_shaped_inputs_reach_every_parser_branch() {
    let mut runner = TestRunner::deterministic();
    let strategy = article_shaped();
    let total = 400;
    let mut accepted = 0;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..total {
        let input = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(parsed) = parse_article(&input.bytes) else {
            continue;
        };
        accepted += 1;
        let article = &parsed.article;
        let mut mark = |what| *seen.entry(what).or_default() += 1;
        if article.section.is_some() {
            mark("section");
        }
        if article.caption.is_some() {
            mark("caption");
        }
        if !article.related.is_empty() {
            mark("related");
        }
        if article.paragraphs.len() > 1 {
            mark("paragraphs");
        }
        if looks_like_html(&article.title) {
            mark("html-like title");
        }
        for warning in &parsed.warnings {
            mark(match warning {
                ParseWarning::Windows1252 { .. } => "windows-1252",
                ParseWarning::Utf16 => "utf-16",
                ParseWarning::RemovedCharacters { .. } => "removed characters",
                ParseWarning::TitleShortened => "title shortened",
                ParseWarning::UnknownKeys { .. } => "unknown front matter keys",
                ParseWarning::RepeatedFields { .. } => "repeated front matter fields",
                ParseWarning::IgnoredValues { .. } => "ignored front matter values",
            });
        }
    }
    assert!(
        accepted * 10 >= total * 7,
        "only {accepted} of {total} article-shaped inputs parse"
    );
    for what in [
        "section",
        "caption",
        "related",
        "paragraphs",
        "html-like title",
        "windows-1252",
        "utf-16",
        "removed characters",
        "title shortened",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) >= 5,
            "{what} in too few article-shaped inputs: {seen:?}"
        );
    }
}
