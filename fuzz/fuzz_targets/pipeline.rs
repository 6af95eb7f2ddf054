//! Any bytes as a seed file, through parse → normalize → render: no panic, every
//! document well-formed, a stable id. The invariant is shared with `cargo test`
//! (`tests/fuzz_regressions.rs`), which replays every input this target ever failed on.

#![no_main]

#[path = "../../tests/common/pipeline_invariant.rs"]
mod pipeline_invariant;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Err(fault) = pipeline_invariant::check(bytes) {
        panic!("{fault}");
    }
});
