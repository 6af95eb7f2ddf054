//! `seedfeed backup FILE`: a consistent copy of the database (config key `data`), made
//! with SQLite's online backup while the daemon may be serving and ingesting, checked
//! with `PRAGMA integrity_check`, and renamed onto FILE only once it is whole. Progress
//! goes to the log; the summary (size, entries, the check's verdict) to stdout.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::store::{BackupPace, BackupProgress, DATABASE_FILE};

/// Pages below which a copy is quick enough to say nothing until it is done.
const QUIET_PAGES: u64 = 1024;

pub fn run(config: &Config, target: &Path) -> anyhow::Result<ExitCode> {
    let source = config.data.join(DATABASE_FILE);
    tracing::info!(database = %source.display(), copy = %target.display(), "backing up");
    let mut reported = 0;
    let report = crate::store::backup(&config.data, target, BackupPace::default(), |progress| {
        reported = report_progress(progress, reported);
    })
    .with_context(|| format!("backing up {} to {}", source.display(), target.display()))?;
    writeln!(
        std::io::stdout().lock(),
        "{} backed up to {}: {} bytes, {} entries, integrity {}",
        source.display(),
        target.display(),
        report.bytes,
        report.entries,
        report.integrity
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Logs a big copy's progress at each tenth; returns the tenths reported so far.
fn report_progress(progress: BackupProgress, reported: u64) -> u64 {
    if progress.total < QUIET_PAGES {
        return reported;
    }
    let tenths = progress.copied * 10 / progress.total.max(1);
    if tenths > reported {
        tracing::info!(
            copied_pages = progress.copied,
            total_pages = progress.total,
            percent = tenths * 10,
            "backup progress"
        );
    }
    tenths.max(reported)
}
