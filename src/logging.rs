//! Logs: `tracing` to stderr, one line per event with fields. No colours unless stderr is
//! a terminal; no timestamps when stderr is journald's (`JOURNAL_STREAM`), which adds its
//! own. The level (`log_level`, or `SEEDFEED_LOG`) can be changed while the daemon runs.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Changes the level of the logs set up by [`init`].
pub struct LogLevel(reload::Handle<EnvFilter, Registry>);

impl LogLevel {
    /// Applies a new level or filter (already validated with the configuration).
    pub fn set(&self, level: &str) -> anyhow::Result<()> {
        let filter = filter(level).map_err(|e| anyhow::anyhow!("log_level {level:?}: {e}"))?;
        self.0
            .reload(filter)
            .map_err(|e| anyhow::anyhow!("changing the log level: {e}"))
    }
}

/// Sets up the logs for the whole process.
pub fn init(level: &str) -> LogLevel {
    let filter = filter(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let registry = tracing_subscriber::registry().with(filter);
    if stderr_is_journal() {
        registry.with(lines.without_time()).init();
    } else {
        registry.with(lines).init();
    }
    LogLevel(handle)
}

/// The filter of a level or filter string. The audio header reader (lofty) warns, through
/// the `log` crate, each time it estimates a constant-bitrate MP3's duration, which is
/// every read of an article that links one: its lines are kept to errors unless the
/// filter names it.
fn filter(level: &str) -> Result<EnvFilter, tracing_subscriber::filter::ParseError> {
    let filter = EnvFilter::try_new(level)?;
    if level.contains("lofty") {
        return Ok(filter);
    }
    Ok(filter.add_directive("lofty=error".parse()?))
}

/// An error and its causes on one line, for a log field.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Whether stderr is the stream systemd connected to journald: `JOURNAL_STREAM` names
/// its device and inode (systemd.exec(5)). Compared, not just checked for presence, so
/// that a program started from a service with its stderr redirected keeps timestamps.
fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some(journal) = stream.to_str().and_then(parse_journal_stream) else {
        return false;
    };
    let stderr = std::io::stderr();
    let Ok(fd) = stderr.as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|meta| (meta.dev(), meta.ino()) == journal)
}

/// `JOURNAL_STREAM` is `DEVICE:INODE`, both decimal.
fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_colon_inode() {
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("a:1"), None);
        assert_eq!(parse_journal_stream(""), None);
    }

    /// lofty's warnings are kept to errors, unless the filter names it.
    #[test]
    fn the_audio_reader_is_quiet_unless_named() {
        for level in ["info", "debug", "seedfeed=trace"] {
            let shown = filter(level).unwrap().to_string();
            assert!(shown.contains("lofty=error"), "{level}: {shown}");
        }
        let named = filter("info,lofty=debug").unwrap().to_string();
        assert!(!named.contains("lofty=error"), "{named}");
        assert!(filter("seedfeed=loud").is_err());
    }
}
