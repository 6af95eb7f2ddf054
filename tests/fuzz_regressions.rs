//! Every input the fuzzer ever found a fault with (`tests/fixtures/fuzz/`), and the
//! sample articles, through the fuzz target's invariant: so a fault found once stays
//! fixed in every `cargo test`. See `tests/common/pipeline_invariant.rs` and the
//! "Fuzzing" section of `docs/development.md`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;

use common::articles::sample_article;
use common::pipeline_invariant;

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_findings_and_fixtures_keep_the_invariant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in ["tests/fixtures/fuzz", "tests/fixtures/articles", "seeds"] {
        for file in files_in(&root.join(dir)) {
            let bytes = std::fs::read(&file).unwrap();
            if let Err(fault) = pipeline_invariant::check(&bytes) {
                panic!("{}: {fault}", file.display());
            }
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} inputs found");
}

/// The invariant itself catches what it is meant to catch: an input is rejected quietly,
/// and the sample article passes.
#[test]
fn the_invariant_accepts_rejects_and_the_sample() {
    assert_eq!(pipeline_invariant::check(b""), Ok(()));
    assert_eq!(pipeline_invariant::check(&[0u8; 64]), Ok(()));
    assert_eq!(pipeline_invariant::check(&sample_article()), Ok(()));
}
