//! The pure stages of the pipeline, one article or one document at a time: parse,
//! normalize, render a 50-entry feed in each format, an entry's page, and the gzip and
//! brotli variants of a feed; and a Markdown article's body, sanitized. Inputs are the
//! articles in `seeds/` and a Markdown article written here, so this runs anywhere.
//!
//!     cargo bench --bench pipeline
//!
//! The daemon as a whole (cold ingest, drop to served, restart) is measured by
//! `bench/ingest.sh`; serving, by `bench/serve.sh`.

#![allow(clippy::unwrap_used)] // a benchmark that cannot unwrap has failed

use std::path::Path;
use std::time::Duration;

use chrono::DateTime;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seedfeed::model::{Entry, EntryKey};
use seedfeed::normalize::{EntryContext, id_namespace, normalize, sanitize};
use seedfeed::parse::{html_document, markdown_body, parse_article};
use seedfeed::render::{Archive, Document, FeedDoc, Format, Site, entry_document, render_feed};

fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn site() -> Site {
    Site {
        base: "https://news.example.org".into(),
        title: "Example News".into(),
        description: "Articles & more".into(),
        author: "Example Desk".into(),
        language: "en".into(),
        id_namespace: id_namespace("seedfeed"),
        feed_size: 50,
        created: chrono::DateTime::UNIX_EPOCH,
        hubs: Vec::new(),
        content: seedfeed::config::FeedContent::Full,
        rights: None,
        authors: Default::default(),
        podcasts: Default::default(),
        fediverse: None,
    }
}

/// 50 entries made from the seeds, each under its own key and date.
fn entries(seeds: &[Vec<u8>]) -> Vec<Entry> {
    let context = EntryContext::new(
        id_namespace("seedfeed"),
        &url::Url::parse("https://bench.example").unwrap(),
    );
    (0..50)
        .map(|i| {
            let article = parse_article(&seeds[i % seeds.len()]).unwrap().article;
            let at = DateTime::from_timestamp(1_700_000_000 + i as i64 * 60, 0).unwrap();
            Entry {
                draft: normalize(EntryKey::new(format!("entry_{i:02}")), &article, &context),
                published: at,
                updated: at,
            }
        })
        .collect()
}

fn stages(c: &mut Criterion) {
    let seeds = seeds();
    let bytes: u64 = seeds.iter().map(|s| s.len() as u64).sum();
    let context = EntryContext::new(
        id_namespace("seedfeed"),
        &url::Url::parse("https://bench.example").unwrap(),
    );

    let mut group = c.benchmark_group("article");
    group.throughput(Throughput::Elements(seeds.len() as u64));
    group.bench_function("parse (every seed)", |b| {
        b.iter(|| {
            for seed in &seeds {
                std::hint::black_box(parse_article(seed).unwrap());
            }
        })
    });
    let articles: Vec<_> = seeds
        .iter()
        .map(|s| parse_article(s).unwrap().article)
        .collect();
    group.bench_function("normalize (every seed)", |b| {
        b.iter(|| {
            for (i, article) in articles.iter().enumerate() {
                std::hint::black_box(normalize(EntryKey::new(format!("k{i}")), article, &context));
            }
        })
    });
    group.finish();
    eprintln!("(the seeds: {} articles, {bytes} bytes)", seeds.len());

    let site = site();
    let entries = entries(&seeds);
    let feed = FeedDoc {
        title: &site.title,
        id: "urn:uuid:00000000-0000-0000-0000-000000000000",
        stem: "/feed",
        term: None,
        current_stem: "/feed",
        entries: &entries,
        tombstones: &[],
        archive: Archive::Subscription { newest_page: None },
    };
    let mut group = c.benchmark_group("feed of 50 entries");
    for format in Format::ALL {
        group.bench_function(format!("render {}", format.name()), |b| {
            b.iter(|| std::hint::black_box(render_feed(&site, &feed, format).unwrap()))
        });
    }
    let atom = render_feed(&site, &feed, Format::Atom).unwrap();
    group.throughput(Throughput::Bytes(atom.len() as u64));
    group.bench_function("gzip and brotli of the Atom feed", |b| {
        b.iter(|| {
            std::hint::black_box(
                Document::new(atom.clone(), "application/atom+xml", feed.updated(&site))
                    .compressed(),
            )
        })
    });
    group.finish();

    c.bench_function("entry page, with its variants", |b| {
        b.iter(|| std::hint::black_box(entry_document(&site, &entries[0])))
    });
}

/// A typical Markdown article of about 3 KB: a title, paragraphs with emphasis and links
/// (relative and absolute), an image, a list and a quote.
fn markdown_article() -> String {
    let mut text = String::from("# Mali: countercoup attempted in Bamako\n\n");
    let paragraph = "Soldiers loyal to the *ousted* president attacked the state broadcaster \
        and the airport on Monday night, [officials said](https://news.example.org/a/1). \
        The junta's spokesman told **reporters** that the [attack](../mali-coup) was \
        repelled and that several people were `arrested`, among them officers of the \
        presidential guard.\n\n";
    for i in 0..8 {
        text.push_str(paragraph);
        if i == 2 {
            text.push_str("![Soldiers in Bamako](images/bamako.jpg \"Bamako, Monday\")\n\n");
        }
        if i == 5 {
            text.push_str("- the airport\n- the broadcaster\n- the [camp](/camps/kati)\n\n");
            text.push_str("> We will not give up, said a resident.\n\n");
        }
    }
    text
}

fn bodies(c: &mut Criterion) {
    let text = markdown_article();
    let base = url::Url::parse("https://news.example.org/entries/mali-coup").unwrap();
    let html = markdown_body(&text).body.html;
    // The same with one raw inline element, which the quick way leaves to ammonia.
    let raw = html
        .replacen("<em>", "<span>", 1)
        .replacen("</em>", "</span>", 1);
    let document = format!(
        "<!DOCTYPE html><html><head><title>Mali</title></head><body><article>{html}</article></body></html>"
    );
    eprintln!("(the Markdown article: {} bytes)", text.len());

    let mut group = c.benchmark_group("markdown article");
    group.throughput(Throughput::Elements(1));
    group.bench_function("markdown_body + sanitize", |b| {
        b.iter(|| {
            let body = markdown_body(std::hint::black_box(&text)).body;
            std::hint::black_box(sanitize(&body.html, &base))
        })
    });
    group.bench_function("markdown_body", |b| {
        b.iter(|| std::hint::black_box(markdown_body(&text)))
    });
    group.bench_function("sanitize (the quick way)", |b| {
        b.iter(|| std::hint::black_box(sanitize(&html, &base)))
    });
    group.bench_function("sanitize (ammonia)", |b| {
        b.iter(|| std::hint::black_box(sanitize(&raw, &base)))
    });
    group.bench_function("html_document", |b| {
        b.iter(|| std::hint::black_box(html_document(&document)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the whole suite takes well under two minutes on two cores.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = stages, bodies
}
criterion_main!(benches);
