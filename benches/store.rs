//! The store's share of an ingest: new articles applied to a real SQLite file as a cold
//! start applies them (a bulk writer, 32 at a time in one transaction committed every
//! 4,096). The articles are the ones in `seeds/`, each made distinct (its own key, date
//! and title), so this runs anywhere.
//!
//!     cargo bench --bench store

#![allow(clippy::unwrap_used)] // a benchmark that cannot unwrap has failed

use std::path::Path;
use std::time::Duration;

use chrono::DateTime;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use seedfeed::model::EntryKey;
use seedfeed::model::FileStamp;
use seedfeed::normalize::{EntryContext, id_namespace, normalize};
use seedfeed::parse::parse_article;
use seedfeed::store::{FileChange, Store};

/// Articles per run; per hand-over to the writer and per commit, as the ingest's bulk
/// path writes them.
const ARTICLES: usize = 20_000;
const CHUNK: usize = 32;
const COMMIT_EVERY: usize = 4096;

fn changes() -> Vec<FileChange> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let articles: Vec<_> = files
        .iter()
        .map(|p| parse_article(&std::fs::read(p).unwrap()).unwrap().article)
        .collect();
    let context = EntryContext::new(
        id_namespace("seedfeed"),
        &url::Url::parse("https://bench.example").unwrap(),
    );
    (0..ARTICLES)
        .map(|i| {
            let mut article = articles[i % articles.len()].clone();
            // A distinct title, so a distinct content hash: no article repeats another.
            article.title = format!("{} ({i})", article.title);
            let key = EntryKey::new(format!("{i:06}_article"));
            FileChange::Article {
                path: format!("{key}.txt"),
                stamp: FileStamp {
                    size: 4_000,
                    // One second apart, as the generated corpus is.
                    mtime_ns: (1_700_000_000 + i as i64) * 1_000_000_000,
                },
                draft: normalize(key, &article, &context),
                warnings: Vec::new(),
                media: Vec::new(),
            }
        })
        .collect()
}

fn apply(c: &mut Criterion) {
    let changes = changes();
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(ARTICLES as u64));
    group.bench_function("apply new articles to an empty store", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let store = Store::open(dir.path()).unwrap();
                (dir, store)
            },
            |(dir, mut store)| {
                let mut writer = store.bulk_writer(ARTICLES).unwrap();
                for (i, chunk) in changes.chunks(CHUNK).enumerate() {
                    writer.apply(chunk, now).unwrap();
                    if ((i + 1) * CHUNK).is_multiple_of(COMMIT_EVERY) {
                        writer.commit().unwrap();
                    }
                }
                writer.commit().unwrap();
                drop(writer);
                // The files go with the run, outside the measurement.
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(20));
    targets = apply
}
criterion_main!(benches);
