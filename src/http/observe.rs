//! Observability: `/status` (JSON), `/metrics` (Prometheus text) and `/healthz`, the
//! answers of the admin listener ([`answer_admin`]; the public listener answers only
//! `/healthz` of them), and the middleware that counts every request of either listener
//! and, when asked, logs it.

use std::sync::Arc;
use std::time::Instant;

use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;

use super::metrics::{Exposition, Route};
use super::negotiate::Coding;
use super::{AppState, HttpError};
use crate::activitypub::FediverseStatus;
use crate::model::{DuplicateFile, FileNote, RejectedFile};
use crate::publish::Status;
use crate::publish::status::{
    ArchiveProgress, FileCounts, Histogram, IngestProgress, IngestTotals, NotArticle,
};
use crate::websub::CountersNow;

#[derive(Serialize)]
struct StatusBody<'a> {
    version: &'static str,
    uptime_seconds: u64,
    /// How long ago the documents being served were rendered.
    snapshot_age_seconds: f64,
    entries: u64,
    files: FileCounts,
    rejects: &'a [RejectedFile],
    duplicates: &'a [DuplicateFile],
    held: &'a [FileNote],
    warnings: &'a [FileNote],
    not_articles: &'a [NotArticle],
    last_ingest: Option<String>,
    totals: IngestTotals,
    archives: ArchiveProgress,
    /// The bulk of files being stored, while one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    ingest: Option<IngestProgress>,
    /// The daemon's memory, where the system tells it (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<Memory>,
    /// Subscriptions of the built-in hub and pushes waiting, when WebSub is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    websub: Option<CountersNow>,
    /// Followers and deliveries, when the site is on the fediverse.
    #[serde(skip_serializing_if = "Option::is_none")]
    activitypub: Option<FediverseStatus>,
}

/// Answers one request on the admin listener: `/status`, `/metrics` and `/healthz`;
/// any other path is unknown there. Counted and logged as the public listener's are.
pub fn answer_admin<B>(state: &AppState, request: axum::http::Request<B>) -> Response {
    let started = state.access_log.then(Instant::now);
    let (parts, _body) = request.into_parts();
    let route = Route::of(parts.uri.path());
    let response = match route {
        Route::Health | Route::Status | Route::Metrics => answer(state, route, &parts.method),
        _ => HttpError::NotFound.into_response(),
    };
    record(state, route, &parts, &response, started);
    response
}

/// The answer of `/healthz`, `/status` or `/metrics` to a `GET` or `HEAD`.
pub fn answer(state: &AppState, route: Route, method: &Method) -> Response {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return HttpError::MethodNotAllowed.into_response();
    }
    match route {
        Route::Status => status(state),
        Route::Metrics => metrics(state),
        _ => "ok\n".into_response(),
    }
}

fn status(state: &AppState) -> Response {
    let status = Arc::clone(&state.status.borrow());
    let body = StatusBody {
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        snapshot_age_seconds: age_seconds(status.rendered_at),
        entries: status.entries,
        files: status.files,
        rejects: &status.rejects,
        duplicates: &status.duplicates,
        held: &status.held,
        warnings: &status.warnings,
        not_articles: &status.not_articles,
        last_ingest: status.last_ingest.map(|t| t.to_rfc3339()),
        totals: status.totals,
        archives: status.archives,
        ingest: status.ingest,
        memory: Memory::now(),
        websub: state.websub.as_ref().map(|counters| counters.now()),
        activitypub: state.fediverse.as_ref().map(|fediverse| fediverse.status()),
    };
    let mut json = serde_json::to_vec_pretty(&body).unwrap_or_else(|_| b"{}".to_vec());
    json.push(b'\n');
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        json,
    )
        .into_response()
}

/// The daemon's resident memory, as the kernel counts it (`/proc/self/status`): what an
/// operator compares with the memory a unit or a container allows.
#[derive(Debug, Clone, Copy, Serialize)]
struct Memory {
    rss_bytes: u64,
    /// The most there has been since the start.
    peak_rss_bytes: u64,
}

impl Memory {
    /// `None` where there is no `/proc` (not Linux).
    fn now() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let bytes = |field: &str| -> Option<u64> {
            let line = status.lines().find_map(|line| line.strip_prefix(field))?;
            let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
            Some(kib * 1024)
        };
        Some(Self {
            rss_bytes: bytes("VmRSS:")?,
            peak_rss_bytes: bytes("VmHWM:")?,
        })
    }
}

fn metrics(state: &AppState) -> Response {
    let status = Arc::clone(&state.status.borrow());
    let mut out = Exposition::default();
    state.metrics.write_prometheus(&mut out);
    status_metrics(&mut out, state, &status);
    if let Some(memory) = Memory::now() {
        out.single(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            memory.rss_bytes,
        );
    }
    let (pages, page_bytes) = state.pages.cached();
    out.single(
        "seedfeed_pages_cached",
        "gauge",
        "Entry, archive and listing pages held rendered in memory.",
        pages,
    );
    out.single(
        "seedfeed_pages_cached_bytes",
        "gauge",
        "Bytes of the pages held rendered, with their compressed variants.",
        page_bytes,
    );
    if let Some(websub) = state.websub.as_ref().map(|counters| counters.now()) {
        websub_metrics(&mut out, websub);
    }
    render_histogram(&mut out, &status.render_seconds);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        out.into_string(),
    )
        .into_response()
}

/// The counts of the status: entries, files set aside, ages, and ingest totals.
fn status_metrics(out: &mut Exposition, state: &AppState, status: &Status) {
    let gauges = [
        (
            "seedfeed_entries",
            "Entries in the feeds.",
            status.entries as f64,
        ),
        (
            "seedfeed_rejected_files",
            "Files set aside as rejects now.",
            status.files.rejected as f64,
        ),
        (
            "seedfeed_held_files",
            "Articles held back: drafts, and articles dated in the future.",
            status.files.held as f64,
        ),
        (
            "seedfeed_duplicate_files",
            "Files not published because their content is already.",
            status.files.duplicates as f64,
        ),
        (
            "seedfeed_archive_pages_frozen",
            "Archive pages stored as served.",
            status.archives.frozen as f64,
        ),
        (
            "seedfeed_archive_pages_waiting",
            "Archive pages filled and not yet stored.",
            status.archives.waiting as f64,
        ),
        (
            "seedfeed_uptime_seconds",
            "Seconds since the daemon started.",
            state.started.elapsed().as_secs_f64(),
        ),
        (
            "seedfeed_snapshot_age_seconds",
            "Seconds since the documents served were rendered.",
            age_seconds(status.rendered_at),
        ),
    ];
    for (name, help, value) in gauges {
        out.single(name, "gauge", help, value);
    }
    let totals = status.totals;
    let name = "seedfeed_ingest_files_total";
    out.family(
        name,
        "counter",
        "File changes ingested since start, by outcome.",
    );
    for (outcome, n) in [
        ("published", totals.published),
        ("updated", totals.updated),
        ("removed", totals.removed),
        ("duplicate", totals.duplicates),
        ("rejected", totals.rejected),
    ] {
        out.sample(name, &format!("outcome=\"{outcome}\""), n);
    }
}

fn websub_metrics(out: &mut Exposition, websub: CountersNow) {
    out.single(
        "seedfeed_websub_subscriptions",
        "gauge",
        "Verified subscriptions of the built-in hub.",
        websub.subscriptions,
    );
    out.single(
        "seedfeed_websub_pending",
        "gauge",
        "Deliveries and publish pings waiting to be sent.",
        websub.pending,
    );
    let name = "seedfeed_websub_sends_total";
    out.family(
        name,
        "counter",
        "WebSub deliveries and pings since start, by outcome.",
    );
    for (outcome, n) in [
        ("sent", websub.sent),
        ("failed", websub.failed),
        ("dropped", websub.dropped),
    ] {
        out.sample(name, &format!("outcome=\"{outcome}\""), n);
    }
}

fn render_histogram(out: &mut Exposition, histogram: &Histogram) {
    let name = "seedfeed_render_duration_seconds";
    out.family(
        name,
        "histogram",
        "Time to render and compress the documents after a change.",
    );
    let bucket = format!("{name}_bucket");
    for (bound, count) in &histogram.buckets {
        out.sample(&bucket, &format!("le=\"{bound}\""), count);
    }
    out.sample(&bucket, "le=\"+Inf\"", histogram.count);
    out.sample(&format!("{name}_sum"), "", histogram.sum);
    out.sample(&format!("{name}_count"), "", histogram.count);
}

fn age_seconds(then: chrono::DateTime<Utc>) -> f64 {
    (Utc::now() - then).num_milliseconds().max(0) as f64 / 1000.0
}

/// Counts every answer by route, status and coding, and logs it when the access log is
/// on (one line, fields, after the response is built).
pub fn record(
    state: &AppState,
    route: Route,
    request: &Parts,
    response: &Response,
    started: Option<Instant>,
) {
    let headers = response.headers();
    let coding = match headers
        .get(header::CONTENT_ENCODING)
        .map(HeaderValue::as_bytes)
    {
        Some(b"br") => Coding::Brotli,
        Some(b"gzip") => Coding::Gzip,
        _ => Coding::Identity,
    };
    let bytes = if request.method == Method::HEAD {
        0
    } else {
        headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let status = response.status().as_u16();
    state.metrics.record(route, status, coding, bytes);
    if let Some(started) = started {
        tracing::info!(
            target: "seedfeed::access",
            method = %request.method,
            uri = %request.uri,
            status,
            bytes,
            encoding = coding.token(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
    }
}
