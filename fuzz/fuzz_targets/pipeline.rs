//! Any bytes as a seed file, through parse → normalize → render as the daemon renders:
//! no panic, clean fields, every document well-formed and read back, the HTML escaped, a
//! stable id and stable bytes. The invariant is shared with `cargo test`
//! (`tests/fuzz_regressions.rs` replays every input this target ever failed on, and
//! `tests/properties/` checks it part by part on generated inputs).

#![no_main]

// The pure parts of the test harness, as `tests/common/` holds them: the invariant finds
// the site and the feed readers beside it, as `super::site` and `super::feeds`.
#[path = "../../tests/common/feeds.rs"]
#[allow(dead_code)]
mod feeds;
#[path = "../../tests/common/pipeline_invariant.rs"]
#[allow(dead_code)]
mod pipeline_invariant;
#[path = "../../tests/common/site.rs"]
#[allow(dead_code)]
mod site;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Err(fault) = pipeline_invariant::check(bytes) {
        panic!("{fault}");
    }
});
