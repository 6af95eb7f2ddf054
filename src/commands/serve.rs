//! `seedfeed serve`: run the daemon.

use std::path::PathBuf;

use crate::config::{Config, Layer};
use crate::daemon::{self, Service, systemd};
use crate::logging::LogLevel;

/// Where the configuration came from, to read it again on SIGHUP: the same file, the
/// environment as it was at start-up (a service's does not change), the same flags.
pub struct Sources {
    pub config_flag: Option<PathBuf>,
    pub flags: Layer,
    pub env: Vec<(String, String)>,
}

pub fn run(config: Config, sources: Sources, log_level: LogLevel) -> anyhow::Result<()> {
    // Before the runtime starts any thread: taking the socket clears variables from the
    // environment.
    let listener = systemd::activated_listener()?;
    let reload = move || {
        super::load_config(
            sources.config_flag.clone(),
            sources.flags.clone(),
            sources.env.clone(),
        )
    };
    let service = Service {
        listener,
        reload: Box::new(reload),
        set_log_level: Box::new(move |level| log_level.set(level)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("seedfeed-main")
        .build()?;
    runtime.block_on(daemon::run(config, service))
}
