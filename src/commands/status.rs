//! `seedfeed status`: read `/status` from the running daemon's admin listener (config
//! key `admin_listen`, read from the same layers as `serve`) and print it for people:
//! the counts, the last ingest, archive pages and WebSub, then every list of files with
//! its reasons. `--json` prints the JSON as served. Fields the summary does not know are
//! printed as they come, so a field added to `/status` shows without a change here.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use serde_json::{Map, Value};

use crate::config::{AdminListen, Config};
use crate::http::{AdminError, fetch_admin};

/// The top-level fields the summary writes in its own words, in its own order.
const KNOWN: &[&str] = &[
    "version",
    "uptime_seconds",
    "snapshot_age_seconds",
    "entries",
    "files",
    "last_ingest",
    "totals",
    "archives",
    "ingest",
    "memory",
    "websub",
    "activitypub",
];

pub fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let address = &config.admin_listen;
    let body = fetch(address)?;
    let mut out = std::io::stdout().lock();
    if json {
        out.write_all(&body)?;
        return Ok(ExitCode::SUCCESS);
    }
    let status: Value = serde_json::from_slice(&body)
        .with_context(|| format!("{address} answered /status with something that is not JSON"))?;
    write!(out, "{}", summary(&status, &address.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// The body of `/status`, or an error that says what was tried and what to set.
fn fetch(address: &AdminListen) -> anyhow::Result<bytes::Bytes> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime of the status client")?;
    match runtime.block_on(fetch_admin(address, "/status")) {
        Ok(body) => Ok(body),
        Err(AdminError::Off) => Err(anyhow!(
            "the admin listener is off (admin_listen = \"off\"), so there is no status to \
             read: set admin_listen to an address such as 127.0.0.1:8081 or a unix:PATH \
             socket for `seedfeed serve`, restart it, and give `seedfeed status` the same \
             setting (--config, SEEDFEED_ADMIN_LISTEN or --admin-listen)"
        )),
        Err(error) => Err(anyhow!(error).context(format!(
            "cannot read the daemon's status at {address} (config key `admin_listen`): is \
             `seedfeed serve` running, with this admin_listen? Give `seedfeed status` the \
             daemon's --config, SEEDFEED_ADMIN_LISTEN or --admin-listen"
        ))),
    }
}

/// The status as people read it: one line per count, then each list of files.
pub fn summary(status: &Value, address: &str) -> String {
    let empty = Map::new();
    let fields = status.as_object().unwrap_or(&empty);
    let mut out = String::new();
    let version = fields.get("version").and_then(Value::as_str).unwrap_or("?");
    out.push_str(&format!("seedfeed {version} at {address}"));
    if let Some(up) = fields.get("uptime_seconds").and_then(Value::as_f64) {
        out.push_str(&format!(", up {}", duration(up)));
    }
    out.push('\n');
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<15}{text}\n"));
    if let Some(entries) = fields.get("entries") {
        line("entries", scalar(entries));
    }
    if let Some(files) = fields.get("files") {
        line("files", counts(files));
    }
    if let Some(last) = fields.get("last_ingest") {
        let last = match last {
            Value::Null => "none since start".to_owned(),
            other => scalar(other),
        };
        let age = fields.get("snapshot_age_seconds").and_then(Value::as_f64);
        let age = age.map_or(String::new(), |age| {
            format!(" (documents rendered {} ago)", duration(age))
        });
        line("last ingest", format!("{last}{age}"));
    }
    if let Some(totals) = fields.get("totals") {
        line("since start", counts(totals));
    }
    if let Some(archives) = fields.get("archives") {
        line("archive pages", counts(archives));
    }
    if let Some(ingest) = fields.get("ingest") {
        let count = |name: &str| ingest.get(name).map_or("?".to_owned(), scalar);
        line(
            "ingesting",
            format!("{} of {} files stored", count("done"), count("total")),
        );
    }
    if let Some(memory) = fields.get("memory") {
        let mib = |name: &str| {
            let bytes = memory.get(name).and_then(Value::as_f64);
            bytes.map_or("?".to_owned(), |b| {
                format!("{:.0} MiB", b / f64::from(1 << 20))
            })
        };
        line(
            "memory",
            format!(
                "{} resident, at most {} since start",
                mib("rss_bytes"),
                mib("peak_rss_bytes")
            ),
        );
    }
    match fields.get("websub") {
        Some(websub) => line("websub", counts(websub)),
        None => line("websub", "off".to_owned()),
    }
    match fields.get("activitypub") {
        Some(fediverse) => line("fediverse", fediverse_line(fediverse)),
        None => line("fediverse", "off".to_owned()),
    }
    let others = fields
        .iter()
        .filter(|(key, _)| !KNOWN.contains(&key.as_str()));
    let (mut lists, others): (Vec<_>, Vec<_>) = others.partition(|(_, value)| value.is_array());
    // The rejects first: what an operator looks for. The rest by name, as served.
    lists.sort_by_key(|(key, _)| key.as_str() != "rejects");
    for (key, value) in others {
        line(&label(key), counts(value));
    }
    for (key, value) in lists {
        let items = value.as_array().map_or(&[][..], Vec::as_slice);
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} ({}):\n", label(key), items.len()));
        for item in items {
            out.push_str(&format!("  {}\n", file_line(item)));
        }
    }
    out
}

/// One file of a list: its path, then why (`reason`, or the file it repeats), then any
/// other field, then since when.
fn file_line(item: &Value) -> String {
    let Some(fields) = item.as_object() else {
        return scalar(item);
    };
    let mut line = fields.get("path").map_or("?".to_owned(), scalar);
    let mut why = Vec::new();
    if let Some(reason) = fields.get("reason") {
        why.push(scalar(reason));
    }
    if let Some(original) = fields.get("duplicate_of") {
        why.push(format!("duplicate of {}", scalar(original)));
    }
    for (key, value) in fields {
        if !matches!(key.as_str(), "path" | "reason" | "duplicate_of" | "since") {
            why.push(format!("{} {}", label(key), scalar(value)));
        }
    }
    if !why.is_empty() {
        line.push_str(&format!(": {}", why.join("; ")));
    }
    if let Some(since) = fields.get("since") {
        line.push_str(&format!(" (since {})", scalar(since)));
    }
    line
}

/// An object of counts as `name value, name value`; anything else as it is.
fn counts(value: &Value) -> String {
    match value.as_object() {
        Some(fields) => fields
            .iter()
            .map(|(key, value)| format!("{} {}", label(key), scalar(value)))
            .collect::<Vec<_>>()
            .join(", "),
        None => scalar(value),
    }
}

/// The fediverse's counts, with its `[host, value]` pairs as `host value`:
/// "followers 3 (m.example 2, p.example 1), pending 0, … signature forms m.example cavage".
fn fediverse_line(value: &Value) -> String {
    let pairs = |list: Option<&Value>| -> String {
        list.and_then(Value::as_array)
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|pair| {
                        Some(format!(
                            "{} {}",
                            pair.get(0)?.as_str()?,
                            scalar(pair.get(1)?)
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let by_host = pairs(value.get("followers_by_host"));
    let mut line = format!(
        "followers {}",
        value.get("followers").map_or("0".into(), scalar)
    );
    if !by_host.is_empty() {
        line.push_str(&format!(" ({by_host})"));
    }
    for key in ["pending", "sent", "failed", "dropped"] {
        if let Some(count) = value.get(key) {
            line.push_str(&format!(", {key} {}", scalar(count)));
        }
    }
    let forms = pairs(value.get("signature_forms"));
    if !forms.is_empty() {
        line.push_str(&format!("; signature forms: {forms}"));
    }
    line
}

/// A value on one line: text without its quotes, anything else as JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A key as words: `duplicate_of` is "duplicate of".
fn label(key: &str) -> String {
    key.replace('_', " ")
}

/// Seconds as the two largest units: "3h 12m", "45s", "2d 3h".
fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (days, hours, minutes, secs) = (
        total / 86_400,
        total / 3_600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) => format!("{minutes}m {secs}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Value {
        serde_json::json!({
            "version": "0.1.0",
            "uptime_seconds": 3725,
            "snapshot_age_seconds": 2.5,
            "entries": 12,
            "files": {"published": 12, "duplicates": 1, "rejected": 1},
            "rejects": [{"path": "empty.txt", "reason": "empty file", "since": "2026-01-05T10:00:00Z"}],
            "duplicates": [{"path": "copy.txt", "duplicate_of": "a.txt", "since": "2026-01-05T10:00:01Z"}],
            "last_ingest": "2026-01-05T10:00:01+00:00",
            "totals": {"published": 12, "updated": 0, "removed": 0, "duplicates": 1, "rejected": 1},
            "archives": {"frozen": 2, "waiting": 0},
            "ingest": {"done": 4096, "total": 100000},
            "memory": {"rss_bytes": 73_400_320, "peak_rss_bytes": 94_371_840},
        })
    }

    #[test]
    fn the_summary_has_every_count_and_every_file_with_its_reason() {
        let text = summary(&status(), "127.0.0.1:8081");
        for needle in [
            "seedfeed 0.1.0 at 127.0.0.1:8081, up 1h 2m\n",
            "entries        12\n",
            "files          duplicates 1, published 12, rejected 1\n",
            "last ingest    2026-01-05T10:00:01+00:00 (documents rendered 3s ago)\n",
            "since start    duplicates 1, published 12, rejected 1,",
            "archive pages  frozen 2, waiting 0\n",
            "ingesting      4096 of 100000 files stored\n",
            "memory         70 MiB resident, at most 90 MiB since start\n",
            "websub         off\n",
            "fediverse      off\n",
            "websub         off\nfediverse      off\n\nrejects (1):\n  empty.txt: empty file (since 2026-01-05T10:00:00Z)\n\n",
            "\nduplicates (1):\n  copy.txt: duplicate of a.txt (since 2026-01-05T10:00:01Z)\n",
        ] {
            assert!(text.contains(needle), "no {needle:?} in\n{text}");
        }
    }

    #[test]
    fn the_fediverse_line_names_hosts_and_forms() {
        let mut status = status();
        status["activitypub"] = serde_json::json!({
            "followers": 3,
            "followers_by_host": [["m.example", 2], ["p.example", 1]],
            "pending": 1, "sent": 5, "failed": 0, "dropped": 0,
            "signature_forms": [["m.example", "rfc9421"], ["p.example", "cavage"]],
        });
        let text = summary(&status, "127.0.0.1:8081");
        let line = "fediverse      followers 3 (m.example 2, p.example 1), pending 1, sent 5, \
                    failed 0, dropped 0; signature forms: m.example rfc9421, p.example cavage\n";
        assert!(text.contains(line), "{text}");
    }

    #[test]
    fn fields_it_does_not_know_are_shown_and_missing_ones_skipped() {
        let status = serde_json::json!({
            "entries": 0,
            "not_articles": [{"path": "notes.docx", "reason": "not an article"}],
            "rejects": [],
            "queue": {"depth": 3},
        });
        let text = summary(&status, "unix:/run/seedfeed/admin.sock");
        assert!(
            text.starts_with("seedfeed ? at unix:/run/seedfeed/admin.sock\n"),
            "{text}"
        );
        assert!(text.contains("queue          depth 3\n"), "{text}");
        assert!(
            text.contains("\nnot articles (1):\n  notes.docx: not an article\n"),
            "{text}"
        );
        assert!(
            !text.contains("rejects"),
            "an empty list is not shown:\n{text}"
        );
        assert!(!text.contains("last ingest"), "{text}");
        // Not an object at all: still a line, never a panic.
        assert!(summary(&Value::Null, "x").starts_with("seedfeed ? at x"));
    }

    #[test]
    fn durations_read_as_the_two_largest_units() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(59.0), "59s");
        assert_eq!(duration(61.0), "1m 1s");
        assert_eq!(duration(7_260.0), "2h 1m");
        assert_eq!(duration(90_000.0), "1d 1h");
    }
}
