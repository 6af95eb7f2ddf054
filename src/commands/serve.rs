//! `seedfeed serve`: run the daemon.

use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    crate::daemon::run(config).await
}
